//! Live chat events: an [`EventBus`] that fans events out to the open event streams.
//!
//! Messages are stored first (the `messages` table is the durable, replayable event log with
//! monotonic ids); the bus only wakes up streams that are open right now. A stream subscribes
//! *before* it reads the replay from the database and then skips live messages whose id it has
//! already sent, so nothing falls between replay and live and nothing is sent twice.
//!
//! [`InProcessBus`] fans out inside this process with one `tokio::sync::broadcast` channel per
//! conversation that has listeners, plus one channel for operator consoles. Several server
//! instances would need another implementation of the same trait (Postgres `LISTEN/NOTIFY`
//! feeding the same local channels).
//!
//! Ordering: messages of one conversation must be published in id order, or a stream that
//! skips ids it has seen could skip one that arrived late. [`EventBus::conversation_lock`]
//! serialises "store, then publish" per conversation.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use porchlight_protocol::{Author, ChatMessage};
use tokio::sync::{broadcast, watch};

/// Per conversation: enough for a burst of messages and typing; a stream that falls further
/// behind is ended and the client resumes with `Last-Event-ID` (lossless).
const CONVERSATION_CAPACITY: usize = 64;
/// Operator consoles see every conversation of every site.
const OPERATOR_CAPACITY: usize = 4096;
/// Stripes of the per-conversation publish lock.
const LOCK_STRIPES: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveEventKind {
    Message(ChatMessage),
    Typing(Author),
    Closed {
        closed_ms: i64,
    },
    /// A promise's deadline passed unanswered (`conversation_id` holds its subject: a
    /// conversation id or a callback reference). Operators only.
    PromiseBroken {
        kind: &'static str,
        due_ms: i64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveEvent {
    pub site: String,
    pub conversation_id: String,
    pub kind: LiveEventKind,
}

pub trait EventBus: Send + Sync + 'static {
    /// Delivers to current subscribers of the event's conversation and to operator consoles.
    /// Never blocks; nobody listening is not an error.
    fn publish(&self, event: LiveEvent);

    fn subscribe_conversation(&self, conversation_id: &str) -> Subscription;

    /// Every event of every site (the console filters by the operator's sites).
    fn subscribe_operators(&self) -> broadcast::Receiver<Arc<LiveEvent>>;

    /// Open event streams now: (visitors', operators' consoles').
    fn open_streams(&self) -> (usize, usize);

    /// Held across "store a message, publish it" so one conversation's messages are published
    /// in id order.
    fn conversation_lock(&self, conversation_id: &str) -> Arc<tokio::sync::Mutex<()>>;

    /// Whether a visitor's stream of this conversation is open (they see replies live).
    fn has_listeners(&self, conversation_id: &str) -> bool;

    /// Completes when the server shuts down: open streams end so the drain does not wait for them.
    fn shutdown_signal(&self) -> watch::Receiver<bool>;

    fn shut_down(&self);
}

/// A conversation's receiver. Dropping it removes the conversation's channel once nobody else
/// listens, so idle conversations cost nothing.
pub struct Subscription {
    receiver: Option<broadcast::Receiver<Arc<LiveEvent>>>,
    release: Option<Box<dyn FnOnce() + Send + Sync>>,
}

impl Subscription {
    pub fn new(
        receiver: broadcast::Receiver<Arc<LiveEvent>>,
        release: Box<dyn FnOnce() + Send + Sync>,
    ) -> Subscription {
        Subscription { receiver: Some(receiver), release: Some(release) }
    }

    pub async fn recv(&mut self) -> Result<Arc<LiveEvent>, broadcast::error::RecvError> {
        match &mut self.receiver {
            Some(receiver) => receiver.recv().await,
            None => Err(broadcast::error::RecvError::Closed),
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        drop(self.receiver.take());
        if let Some(release) = self.release.take() {
            release();
        }
    }
}

type Channels = Mutex<HashMap<String, broadcast::Sender<Arc<LiveEvent>>>>;

pub struct InProcessBus {
    conversations: Arc<Channels>,
    operators: broadcast::Sender<Arc<LiveEvent>>,
    locks: Vec<Arc<tokio::sync::Mutex<()>>>,
    shutdown: watch::Sender<bool>,
}

impl Default for InProcessBus {
    fn default() -> Self {
        InProcessBus {
            conversations: Arc::new(Mutex::new(HashMap::new())),
            operators: broadcast::channel(OPERATOR_CAPACITY).0,
            locks: (0..LOCK_STRIPES).map(|_| Arc::new(tokio::sync::Mutex::new(()))).collect(),
            shutdown: watch::channel(false).0,
        }
    }
}

impl InProcessBus {
    /// Conversations with at least one open stream (for tests and metrics).
    pub fn open_conversations(&self) -> usize {
        self.conversations.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

impl EventBus for InProcessBus {
    fn has_listeners(&self, conversation_id: &str) -> bool {
        self.conversations.lock().unwrap_or_else(|p| p.into_inner()).contains_key(conversation_id)
    }

    fn publish(&self, event: LiveEvent) {
        // Shared, so a channel slot is one pointer however long the message.
        let event = Arc::new(event);
        {
            let channels = self.conversations.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(sender) = channels.get(&event.conversation_id) {
                let _ = sender.send(Arc::clone(&event));
            }
        }
        let _ = self.operators.send(event);
    }

    fn subscribe_conversation(&self, conversation_id: &str) -> Subscription {
        let receiver = {
            let mut channels = self.conversations.lock().unwrap_or_else(|p| p.into_inner());
            channels
                .entry(conversation_id.to_owned())
                .or_insert_with(|| broadcast::channel(CONVERSATION_CAPACITY).0)
                .subscribe()
        };
        let channels = Arc::clone(&self.conversations);
        let id = conversation_id.to_owned();
        Subscription::new(
            receiver,
            Box::new(move || {
                let mut channels = channels.lock().unwrap_or_else(|p| p.into_inner());
                if channels.get(&id).is_some_and(|s| s.receiver_count() == 0) {
                    channels.remove(&id);
                }
            }),
        )
    }

    fn subscribe_operators(&self) -> broadcast::Receiver<Arc<LiveEvent>> {
        self.operators.subscribe()
    }

    fn open_streams(&self) -> (usize, usize) {
        let channels = self.conversations.lock().unwrap_or_else(|p| p.into_inner());
        (channels.values().map(broadcast::Sender::receiver_count).sum(), self.operators.receiver_count())
    }

    fn conversation_lock(&self, conversation_id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        conversation_id.hash(&mut hasher);
        Arc::clone(&self.locks[(hasher.finish() % LOCK_STRIPES as u64) as usize])
    }

    fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    fn shut_down(&self) {
        self.shutdown.send_replace(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(conversation: &str, id: i64) -> LiveEvent {
        LiveEvent {
            site: "demo".into(),
            conversation_id: conversation.into(),
            kind: LiveEventKind::Message(ChatMessage {
                id,
                client_id: format!("client-{id:04}"),
                author: Author::Operator,
                body: "hi".into(),
                created_ms: 0,
                author_name: None,
            }),
        }
    }

    #[tokio::test]
    async fn subscribers_get_their_conversation_only_and_channels_are_released() {
        let bus = InProcessBus::default();
        let mut a = bus.subscribe_conversation("a");
        let mut ops = bus.subscribe_operators();
        bus.publish(message("b", 1));
        bus.publish(message("a", 2));
        assert_eq!(*a.recv().await.unwrap(), message("a", 2));
        assert_eq!(*ops.recv().await.unwrap(), message("b", 1));
        assert_eq!(*ops.recv().await.unwrap(), message("a", 2));
        let a2 = bus.subscribe_conversation("a");
        drop(a);
        assert_eq!(bus.open_conversations(), 1);
        drop(a2);
        assert_eq!(bus.open_conversations(), 0);
    }
}
