//! The visitor's side of a chat: an optimistic log of outgoing messages and the conversation
//! they belong to. Plain Rust; `chat_view` drives it.
//!
//! Messages are sent one at a time, in order ([`ChatLog::start_next`]), so that the first one
//! creates the conversation and the later ones are appended to it. Each message keeps its client
//! id for life, so a retry is stored once by the server.
//!
//! Everything read back (the live stream, its replays, other tabs, a poll) goes through
//! [`ChatLog::receive`], which knows a message by its server id, or, for one of ours still
//! waiting for its acknowledgement, by its client id: however often a message arrives, it is
//! shown once. The conversation, how far the visitor has seen it and whether it was closed are
//! saved ([`ChatLog::saved`]), so a reload resumes it.

use porchlight_protocol::{
    Author, ChatMessage, ConversationCreated, FieldErrors, MessageAck, NewConversation, NewMessage, PageContext,
};

use crate::api::ApiFailure;
use crate::outbox::{backoff_ms, from_json_strings, is_transient, non_empty, to_json_strings};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Waiting for its turn (shown as "sending").
    Queued,
    /// Its request is under way (shown as "sending").
    InFlight,
    /// Acknowledged by the server.
    Sent,
    /// Refused (a 4xx): sent again only when the visitor retries.
    Failed,
    /// The last attempt failed for a passing reason (offline, a 5xx, a rate limit): shown as
    /// failed with a retry button, and sent again by itself after a backoff.
    Waiting,
}

impl Status {
    /// Not sent, with a retry button.
    pub fn is_failed(self) -> bool {
        matches!(self, Status::Failed | Status::Waiting)
    }

    /// The `data-status` the view shows: `sending` | `sent` | `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Queued | Status::InFlight => "sending",
            Status::Sent => "sent",
            Status::Failed | Status::Waiting => "failed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub client_id: String,
    pub body: String,
    pub status: Status,
    /// The server's id once acknowledged.
    pub server_id: Option<i64>,
    /// Written by an operator (read back from the server), not by the visitor.
    pub operator: bool,
    /// The operator's display name on a reply.
    pub author_name: Option<String>,
    /// When the server stored it (server clock), once known.
    pub created_ms: Option<i64>,
}

/// The conversation, once the server has created it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub conversation_id: String,
    pub token: String,
    /// When the operator closed it (server clock). The visitor's next message reopens it.
    pub closed_ms: Option<i64>,
}

/// A saved closed conversation is forgotten this long after it was closed, so a visitor who
/// comes back another day starts afresh.
pub const FORGET_CLOSED_MS: i64 = 86_400_000;

/// The request for the next message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Job {
    Start(NewConversation),
    Append { conversation_id: String, token: String, message: NewMessage },
}

impl Job {
    pub fn client_id(&self) -> &str {
        match self {
            Job::Start(c) => &c.message.client_id,
            Job::Append { message, .. } => &message.client_id,
        }
    }
}

/// A successful answer to a [`Job`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Done {
    Started(ConversationCreated),
    Appended(MessageAck),
}

/// What [`ChatLog::submit`] did with the visitor's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submitted {
    /// A new message was added to the log.
    Queued,
    /// The text is that of a failed message: it is queued again under its old client id.
    Retried,
    /// The same text is already on its way; nothing new was added.
    AlreadySending,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChatLog {
    entries: Vec<Entry>,
    session: Option<Session>,
    busy: bool,
    /// The failure of the most recent attempt, cleared by the next success.
    last_error: Option<ApiFailure>,
    /// Passing failures in a row (the backoff of the next automatic retry).
    failures: u32,
    /// The largest server id read back so far (`?after=` of the next poll).
    read_up_to: i64,
    /// Operator messages up to this server id have been seen (the panel was open).
    seen_up_to: i64,
    /// The secret that proves a repeated create is ours ([`NewConversation::create_key`]):
    /// drawn by the view, kept with the unsent messages until the conversation exists.
    create_key: Option<String>,
    /// Who is writing, sent with the first message: the page, the widget's language, the
    /// visitor's time zone (the console shows them to the operator).
    visitor: Visitor,
}

/// What the operator is told about the visitor when a conversation starts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Visitor {
    pub page: Option<PageContext>,
    pub locale: Option<String>,
    pub time_zone: Option<String>,
}

impl ChatLog {
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn session(&self) -> Option<&Session> {
        self.session.as_ref()
    }

    pub fn last_error(&self) -> Option<&ApiFailure> {
        self.last_error.as_ref()
    }

    /// Gives the log the create key for its next new conversation, unless it already holds one
    /// (restored with its unsent first message, which must be retried under the same key).
    pub fn ensure_create_key(&mut self, fresh: impl FnOnce() -> String) {
        if self.create_key.is_none() {
            self.create_key = Some(fresh());
        }
    }

    /// Adds the visitor's text to the log as a queued message (optimistic), after the same
    /// checks the server runs. `client_id` is only used when a new message is added.
    pub fn submit(&mut self, client_id: String, text: &str) -> Result<Submitted, FieldErrors> {
        let body = text.trim();
        NewMessage { client_id: client_id.clone(), body: body.to_owned() }.validate()?;
        if let Some(entry) = self.entries.iter_mut().rev().find(|e| e.body == body && e.status != Status::Sent) {
            return Ok(if entry.status.is_failed() {
                entry.status = Status::Queued;
                Submitted::Retried
            } else {
                Submitted::AlreadySending
            });
        }
        self.entries.push(Entry {
            client_id,
            body: body.to_owned(),
            status: Status::Queued,
            server_id: None,
            operator: false,
            author_name: None,
            created_ms: None,
        });
        Ok(Submitted::Queued)
    }

    /// `?after=` for the next read of the conversation.
    pub fn read_up_to(&self) -> i64 {
        self.read_up_to
    }

    /// Adds the messages among `messages` (read back from the server, in any order, any number
    /// of times) that aren't shown yet, in server id order before the messages still waiting
    /// for an id. One of ours that is still waiting for its acknowledgement is recognised by its
    /// client id and marked sent. Returns how many operator messages were new.
    pub fn receive(&mut self, messages: Vec<ChatMessage>) -> usize {
        let mut replies = 0;
        for m in messages {
            self.read_up_to = self.read_up_to.max(m.id);
            if m.author == Author::Unknown || self.entries.iter().any(|e| e.server_id == Some(m.id)) {
                continue;
            }
            let operator = m.author == Author::Operator;
            if let Some(own) = self
                .entries
                .iter_mut()
                .find(|e| !operator && !e.operator && e.server_id.is_none() && e.client_id == m.client_id)
            {
                own.server_id = Some(m.id);
                own.status = Status::Sent;
                own.created_ms = Some(m.created_ms);
                continue;
            }
            let at =
                self.entries.iter().position(|e| e.server_id.is_none_or(|id| id > m.id)).unwrap_or(self.entries.len());
            let entry = Entry {
                client_id: m.client_id,
                body: m.body,
                status: Status::Sent,
                server_id: Some(m.id),
                operator,
                author_name: m.author_name,
                created_ms: Some(m.created_ms),
            };
            self.entries.insert(at, entry);
            replies += usize::from(operator);
        }
        replies
    }

    /// Operator messages the visitor has not seen yet (the launcher's badge).
    pub fn unread(&self) -> u32 {
        let n =
            self.entries.iter().filter(|e| e.operator && e.server_id.is_some_and(|id| id > self.seen_up_to)).count();
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    /// The visitor sees everything read so far (the panel is open). Returns the new mark if it
    /// moved, for the other tabs.
    pub fn mark_seen(&mut self) -> Option<i64> {
        let to = self.entries.iter().filter_map(|e| e.server_id).max().unwrap_or(0);
        self.note_seen(to).then_some(to)
    }

    /// Another tab (or a saved state) has seen up to `id`. Returns whether the mark moved.
    pub fn note_seen(&mut self, id: i64) -> bool {
        let moved = id > self.seen_up_to;
        self.seen_up_to = self.seen_up_to.max(id);
        moved
    }

    /// The operator closed the conversation `conversation_id`. Returns whether that is news.
    pub fn close(&mut self, conversation_id: &str, closed_ms: i64) -> bool {
        match &mut self.session {
            Some(s) if s.conversation_id == conversation_id && s.closed_ms.is_none() => {
                s.closed_ms = Some(closed_ms);
                true
            }
            _ => false,
        }
    }

    /// The id of the current conversation if the operator has closed it (it is then rated).
    pub fn closed_conversation(&self) -> Option<&str> {
        self.session.as_ref().filter(|s| s.closed_ms.is_some()).map(|s| s.conversation_id.as_str())
    }

    /// The open conversation, for the typing signal.
    /// Who is answering: the name on the latest operator reply of an open conversation. The
    /// header then says who the visitor is talking to instead of how long they may wait.
    pub fn answered_by(&self) -> Option<&str> {
        self.open_session()?;
        self.entries.iter().rev().find(|e| e.operator).map(|e| e.author_name.as_deref().unwrap_or(""))
    }

    pub fn open_session(&self) -> Option<&Session> {
        self.session.as_ref().filter(|s| s.closed_ms.is_none())
    }

    /// Takes over a conversation started elsewhere: one saved before a reload, or one another
    /// tab just started. Only when this tab has none open and is not starting one itself, so
    /// two tabs that both started one keep theirs instead of swapping back and forth. Returns
    /// whether the conversation changed.
    pub fn adopt(&mut self, session: Session, seen: i64) -> bool {
        self.note_seen(seen);
        if let Some(ours) = &mut self.session {
            if ours.conversation_id == session.conversation_id {
                ours.closed_ms = ours.closed_ms.or(session.closed_ms);
                return false;
            }
        }
        if self.busy || self.open_session().is_some() {
            return false;
        }
        self.session = Some(session);
        // Server ids are global, but the next read is of this conversation from its start.
        self.read_up_to = 0;
        true
    }

    /// The saved form: a JSON array of strings — conversation id, token, seen up to, closed at
    /// (`""` while open; all four `""` before there is a conversation), then a client id and
    /// text for each of the visitor's messages not yet acknowledged, so a reload sends them
    /// (under the same client ids, so never twice). `None` when there is nothing to keep.
    /// The visitor's context for the next conversation started.
    pub fn set_visitor(&mut self, visitor: Visitor) {
        self.visitor = visitor;
    }

    /// Deleted by the visitor: nothing of the conversation is kept (and [`ChatLog::saved`]
    /// then clears the frame's storage). The next message starts a new conversation.
    pub fn forget(&mut self) {
        *self = ChatLog { visitor: std::mem::take(&mut self.visitor), ..ChatLog::default() };
    }

    pub fn saved(&self) -> Option<String> {
        let unsent: Vec<&Entry> = self.entries.iter().filter(|e| !e.operator && e.status != Status::Sent).collect();
        if self.session.is_none() && unsent.is_empty() {
            return None;
        }
        let mut fields = match &self.session {
            Some(s) => vec![
                s.conversation_id.clone(),
                s.token.clone(),
                self.seen_up_to.to_string(),
                s.closed_ms.map(|ms| ms.to_string()).unwrap_or_default(),
            ],
            // No conversation yet: the token's place holds the create key, so a reload retries
            // the first message under the same key.
            None => vec![String::new(), self.create_key.clone().unwrap_or_default(), String::new(), String::new()],
        };
        for entry in unsent {
            fields.extend([entry.client_id.clone(), entry.body.clone()]);
        }
        Some(to_json_strings(&fields))
    }

    /// Whether a message waits to be sent (after a restore: start sending).
    pub fn has_queued(&self) -> bool {
        self.entries.iter().any(|e| e.status == Status::Queued)
    }

    /// A log resuming a saved conversation, unless unreadable or closed more than
    /// [`FORGET_CLOSED_MS`] before `now`.
    pub fn restore(json: &str, now: i64) -> Option<ChatLog> {
        let f = from_json_strings(json);
        let [id, token, seen, closed] = f.get(..4)? else { return None };
        let mut log = ChatLog::default();
        for pair in f[4..].chunks_exact(2) {
            log.entries.push(Entry {
                client_id: pair[0].clone(),
                body: pair[1].clone(),
                status: Status::Queued,
                server_id: None,
                operator: false,
                author_name: None,
                created_ms: None,
            });
        }
        if id.is_empty() || token.is_empty() {
            log.create_key = non_empty(token);
            return (!log.entries.is_empty()).then_some(log);
        }
        let closed_ms = match non_empty(closed) {
            Some(ms) => Some(ms.parse::<i64>().ok()?),
            None => None,
        };
        if closed_ms.is_some_and(|ms| now - ms > FORGET_CLOSED_MS) && log.entries.is_empty() {
            return None;
        }
        log.adopt(Session { conversation_id: id.clone(), token: token.clone(), closed_ms }, seen.parse().unwrap_or(0));
        Some(log)
    }

    /// Queues a failed message again, under the same client id.
    pub fn retry(&mut self, client_id: &str) -> bool {
        match self.entries.iter_mut().find(|e| e.client_id == client_id && e.status.is_failed()) {
            Some(entry) => {
                entry.status = Status::Queued;
                true
            }
            None => false,
        }
    }

    /// Queues every message that failed for a passing reason again (the retry timer fired).
    /// Returns whether there was one.
    pub fn retry_waiting(&mut self) -> bool {
        let mut any = false;
        for entry in self.entries.iter_mut().filter(|e| e.status == Status::Waiting) {
            entry.status = Status::Queued;
            any = true;
        }
        any
    }

    /// When to retry the messages that failed for a passing reason, if any: the outbox's
    /// backoff (1 s doubling to a minute, never before `Retry-After`).
    pub fn retry_in_ms(&self, jitter: f64) -> Option<i64> {
        self.entries.iter().any(|e| e.status == Status::Waiting).then(|| {
            let retry_after = match self.last_error {
                Some(ApiFailure::RateLimited { retry_after_secs }) => retry_after_secs,
                _ => None,
            };
            backoff_ms(self.failures, retry_after, jitter)
        })
    }

    /// The next request to make, if none is under way: the oldest queued message, as a new
    /// conversation or appended to ours.
    pub fn start_next(&mut self) -> Option<Job> {
        if self.busy {
            return None;
        }
        let entry = self.entries.iter_mut().find(|e| e.status == Status::Queued)?;
        entry.status = Status::InFlight;
        self.busy = true;
        let message = NewMessage { client_id: entry.client_id.clone(), body: entry.body.clone() };
        // A closed conversation is written to again, not replaced: the server reopens it with its
        // history (and the operator sees who came back).
        Some(match &self.session {
            None => Job::Start(NewConversation {
                message,
                page: self.visitor.page.clone(),
                create_key: self.create_key.clone(),
                locale: self.visitor.locale.clone(),
                time_zone: self.visitor.time_zone.clone(),
            }),
            Some(s) => Job::Append { conversation_id: s.conversation_id.clone(), token: s.token.clone(), message },
        })
    }

    /// Records the outcome of the job for `client_id`. Returns the message's text when it was
    /// acknowledged (the view then clears the input if it still holds that text).
    pub fn finish(&mut self, client_id: &str, outcome: Result<Done, ApiFailure>) -> Option<String> {
        self.busy = false;
        let entry = self.entries.iter_mut().find(|e| e.client_id == client_id)?;
        match outcome {
            Ok(done) => {
                let ack = match done {
                    Done::Started(created) => {
                        let session =
                            Session { conversation_id: created.conversation_id, token: created.token, closed_ms: None };
                        self.session = Some(session);
                        self.read_up_to = 0;
                        created.message
                    }
                    Done::Appended(ack) => {
                        if let Some(session) = &mut self.session {
                            session.closed_ms = None;
                        }
                        ack
                    }
                };
                entry.status = Status::Sent;
                entry.server_id = Some(ack.id);
                self.last_error = None;
                self.failures = 0;
                Some(entry.body.clone())
            }
            // Already read back from the server: stored, whatever this answer says.
            Err(_) if entry.server_id.is_some() => None,
            Err(failure) => {
                entry.status = if is_transient(&failure) {
                    self.failures += 1;
                    Status::Waiting
                } else {
                    Status::Failed
                };
                self.last_error = Some(failure);
                None
            }
        }
    }
}

/// Whether the input should be emptied now that `sent` was acknowledged: only if it still holds
/// that text (the visitor may have started the next message meanwhile).
pub fn should_clear_input(input: &str, sent: &str) -> bool {
    input.trim() == sent
}

#[cfg(test)]
mod tests {
    use porchlight_protocol::FieldErrorCode;

    use super::*;

    #[test]
    fn once_an_operator_answers_the_log_knows_who_is_talking() {
        let mut log = started();
        assert_eq!(log.answered_by(), None, "nobody has answered yet: the wait line stays");
        let mut reply = msg(7, Author::Operator, "op-00000007", "Hi, Ann here");
        reply.author_name = Some("Ann".into());
        log.receive(vec![reply]);
        assert_eq!(log.answered_by(), Some("Ann"));
        let entry = log.entries().iter().find(|e| e.operator).unwrap();
        assert_eq!((entry.author_name.as_deref(), entry.created_ms), (Some("Ann"), Some(7)));
        log.close("conv-1", 9);
        assert_eq!(log.answered_by(), None, "closed: nobody is talking");
    }

    #[test]
    fn the_first_message_tells_the_operator_the_page_language_and_time_zone_and_later_ones_do_not() {
        let mut log = ChatLog::default();
        let page = PageContext { path: "/lanterns".into(), title: Some("Lanterns".into()) };
        log.set_visitor(Visitor {
            page: Some(page.clone()),
            locale: Some("lv".into()),
            time_zone: Some("Europe/Riga".into()),
        });
        log.submit("client-0001".into(), "Hello").unwrap();
        let Some(Job::Start(first)) = log.start_next() else { panic!("the first message starts it") };
        assert_eq!(
            (first.page, first.locale.as_deref(), first.time_zone.as_deref()),
            (Some(page), Some("lv"), Some("Europe/Riga"))
        );
        log.finish("client-0001", Ok(created("client-0001")));
        log.submit("client-0002".into(), "Still there?").unwrap();
        assert!(matches!(log.start_next(), Some(Job::Append { .. })), "the context went with the first message only");
    }

    #[test]
    fn a_deleted_conversation_leaves_nothing_and_the_next_message_starts_a_new_one() {
        let mut log = started();
        log.receive(vec![msg(7, Author::Operator, "op-00000007", "Hi")]);
        assert!(log.saved().is_some());
        log.forget();
        assert_eq!((log.session(), log.entries().len(), log.saved()), (None, 0, None), "nothing kept, nothing stored");
        log.ensure_create_key(|| "create-key-0000000009".into());
        log.submit("client-0009".into(), "Hello again").unwrap();
        let Some(Job::Start(next)) = log.start_next() else {
            panic!("a new conversation, not a message to the old one")
        };
        assert_eq!(next.create_key.as_deref(), Some("create-key-0000000009"));
    }

    #[test]
    fn the_create_key_survives_a_reload_and_goes_with_every_try_of_the_first_message() {
        let mut log = ChatLog::default();
        log.ensure_create_key(|| "create-key-0000000001".into());
        log.ensure_create_key(|| panic!("a log that has a key keeps it"));
        log.submit("client-0001".into(), "Hello").unwrap();
        let Some(Job::Start(first)) = log.start_next() else { panic!("the first message starts a conversation") };
        assert_eq!(first.create_key.as_deref(), Some("create-key-0000000001"));
        log.finish("client-0001", Err(ApiFailure::Offline));
        let mut restored = ChatLog::restore(&log.saved().unwrap(), 0).unwrap();
        restored.ensure_create_key(|| "another-key-000000002".into());
        let Some(Job::Start(again)) = restored.start_next() else { panic!("the reload sends it again") };
        assert_eq!(again.create_key.as_deref(), Some("create-key-0000000001"), "the same key after a reload");
        assert_eq!(again.message.client_id, "client-0001");
    }

    #[test]
    fn unsent_messages_survive_a_reload_and_are_sent_again_under_their_client_ids() {
        let mut log = ChatLog::default();
        assert!(log.saved().is_none(), "nothing stored before the visitor writes");
        log.submit("client-0001".into(), "Typed offline").unwrap();
        let job = log.start_next().unwrap();
        log.finish(job.client_id(), Err(ApiFailure::Offline));
        let saved = log.saved().expect("an unsent message is kept before any conversation exists");

        let mut again = ChatLog::restore(&saved, 0).unwrap();
        assert!(again.session().is_none());
        assert!(again.has_queued());
        let job = again.start_next().unwrap();
        assert!(
            matches!(&job, Job::Start(c) if c.message.client_id == "client-0001" && c.message.body == "Typed offline")
        );
        again.finish("client-0001", Ok(created("client-0001")));
        // Acknowledged: only the conversation is kept.
        assert_eq!(from_json_strings(&again.saved().unwrap()).len(), 4);
    }

    fn created(client_id: &str) -> Done {
        Done::Started(ConversationCreated {
            conversation_id: "conv-1".into(),
            token: "secret".into(),
            message: MessageAck { id: 1, client_id: client_id.into(), created_ms: 1 },
        })
    }

    #[test]
    fn first_message_starts_the_conversation_then_later_ones_append() {
        let mut log = ChatLog::default();
        assert_eq!(log.submit("client-0001".into(), "  Hello  "), Ok(Submitted::Queued));
        assert_eq!(log.entries()[0].status.as_str(), "sending");
        let job = log.start_next().unwrap();
        assert!(matches!(&job, Job::Start(c) if c.message.body == "Hello" && c.message.client_id == "client-0001"));

        // A second message waits while the first is in flight.
        log.submit("client-0002".into(), "Are you there?").unwrap();
        assert_eq!(log.start_next(), None);

        assert_eq!(log.finish("client-0001", Ok(created("client-0001"))), Some("Hello".into()));
        assert_eq!(log.entries()[0].status, Status::Sent);
        assert_eq!(log.session().unwrap().token, "secret");

        let job = log.start_next().unwrap();
        assert_eq!(
            job,
            Job::Append {
                conversation_id: "conv-1".into(),
                token: "secret".into(),
                message: NewMessage { client_id: "client-0002".into(), body: "Are you there?".into() },
            }
        );
    }

    #[test]
    fn a_passing_failure_is_retried_by_itself_with_backoff_and_a_refusal_is_not() {
        let mut log = ChatLog::default();
        assert_eq!(log.retry_in_ms(0.0), None, "nothing to retry");
        log.submit("client-0001".into(), "Server restarting").unwrap();
        let job = log.start_next().unwrap();
        log.finish(job.client_id(), Err(ApiFailure::Offline));
        assert_eq!(log.entries()[0].status, Status::Waiting);
        assert_eq!(log.retry_in_ms(0.0), Some(1_000));
        assert!(log.retry_waiting());
        let job = log.start_next().unwrap();
        assert_eq!(job.client_id(), "client-0001", "the same client id, so stored once");
        log.finish(job.client_id(), Err(ApiFailure::Server(503)));
        assert_eq!(log.retry_in_ms(0.0), Some(2_000), "the backoff doubles");
        assert!(log.retry_waiting());
        let job = log.start_next().unwrap();
        log.finish(job.client_id(), Err(ApiFailure::RateLimited { retry_after_secs: Some(30) }));
        assert_eq!(log.retry_in_ms(0.0), Some(30_000), "never before Retry-After");
        assert!(log.retry_waiting());
        let job = log.start_next().unwrap();
        log.finish(job.client_id(), Ok(created("client-0001")));
        assert_eq!(log.retry_in_ms(0.0), None);

        // A refusal (a 4xx) waits for the visitor.
        log.submit("client-0002".into(), "Refused").unwrap();
        let job = log.start_next().unwrap();
        let refused = porchlight_protocol::ApiError::new(porchlight_protocol::ErrorCode::NotFound, "gone");
        log.finish(job.client_id(), Err(ApiFailure::Rejected(refused, 404)));
        assert_eq!(log.entries()[1].status, Status::Failed);
        assert_eq!(log.entries()[1].status.as_str(), "failed");
        assert_eq!(log.retry_in_ms(0.0), None);
        assert!(!log.retry_waiting());
        assert!(log.retry("client-0002"), "the visitor can still retry it");
    }

    #[test]
    fn a_retry_reuses_the_client_id() {
        let mut log = ChatLog::default();
        log.submit("client-0001".into(), "Hello").unwrap();
        let job = log.start_next().unwrap();
        assert_eq!(log.finish(job.client_id(), Err(ApiFailure::Offline)), None);
        assert_eq!(log.entries()[0].status.as_str(), "failed");
        assert_eq!(log.last_error(), Some(&ApiFailure::Offline));

        assert!(log.retry("client-0001"));
        assert!(!log.retry("client-0001"), "only failed messages are retried");
        let job = log.start_next().unwrap();
        assert_eq!(job.client_id(), "client-0001");
        log.finish("client-0001", Ok(created("client-0001")));
        assert_eq!(log.last_error(), None);
        assert_eq!(log.entries().len(), 1);
    }

    #[test]
    fn sending_the_failed_text_again_is_a_retry_not_a_duplicate() {
        let mut log = ChatLog::default();
        log.submit("client-0001".into(), "Hello").unwrap();
        let job = log.start_next().unwrap();
        log.finish(job.client_id(), Err(ApiFailure::Server(500)));
        assert_eq!(log.submit("client-0002".into(), "Hello"), Ok(Submitted::Retried));
        assert_eq!(log.entries().len(), 1);
        assert_eq!(log.start_next().unwrap().client_id(), "client-0001");
        assert_eq!(log.submit("client-0003".into(), "Hello"), Ok(Submitted::AlreadySending));
        assert_eq!(log.entries().len(), 1);
    }

    #[test]
    fn empty_and_overlong_messages_are_refused_before_sending() {
        let mut log = ChatLog::default();
        let errors = log.submit("client-0001".into(), "   ").unwrap_err();
        assert_eq!(errors.get("body").unwrap().code, FieldErrorCode::Required);
        let long = "x".repeat(porchlight_protocol::chat::MAX_MESSAGE_CHARS + 1);
        assert!(log.submit("client-0001".into(), &long).is_err());
        assert!(log.entries().is_empty());
    }

    #[test]
    fn operator_replies_are_added_once_and_the_visitors_own_messages_are_skipped() {
        let mut log = ChatLog::default();
        log.submit("client-0001".into(), "Hello").unwrap();
        let job = log.start_next().unwrap();
        log.finish(job.client_id(), Ok(created("client-0001")));
        let message = |id, author, body: &str| ChatMessage {
            id,
            client_id: format!("c-{id:08}"),
            author,
            body: body.into(),
            created_ms: 1,
            author_name: None,
        };
        let read = vec![message(1, Author::Visitor, "Hello"), message(2, Author::Operator, "Hi! Checking.")];
        assert_eq!(log.receive(read.clone()), 1);
        assert_eq!(log.read_up_to(), 2);
        assert_eq!(log.receive(read), 0, "the same reply twice is added once");
        assert_eq!(log.receive(vec![message(3, Author::Unknown, "?")]), 0);
        assert_eq!(log.read_up_to(), 3);
        let bodies: Vec<(&str, bool)> = log.entries().iter().map(|e| (e.body.as_str(), e.operator)).collect();
        assert_eq!(bodies, vec![("Hello", false), ("Hi! Checking.", true)]);
    }

    fn msg(id: i64, author: Author, client_id: &str, body: &str) -> ChatMessage {
        ChatMessage { id, client_id: client_id.into(), author, body: body.into(), created_ms: id, author_name: None }
    }

    /// A log with a started conversation whose first message ("Hello", client-0001) has id 1.
    fn started() -> ChatLog {
        let mut log = ChatLog::default();
        log.submit("client-0001".into(), "Hello").unwrap();
        let job = log.start_next().unwrap();
        log.finish(job.client_id(), Ok(created("client-0001")));
        log
    }

    fn bodies(log: &ChatLog) -> Vec<&str> {
        log.entries().iter().map(|e| e.body.as_str()).collect()
    }

    #[test]
    fn replays_after_a_reconnect_show_nothing_twice_and_lose_nothing() {
        let mut log = started();
        let first =
            vec![msg(1, Author::Visitor, "client-0001", "Hello"), msg(2, Author::Operator, "op-00000002", "Hi")];
        assert_eq!(log.receive(first.clone()), 1);
        // The stream broke after id 2; the resumed stream replays from there, and a poll that
        // overlapped it reads 2 and 3 again.
        let resumed = vec![
            msg(3, Author::Operator, "op-00000003", "Order #1?"),
            msg(4, Author::Operator, "op-00000004", "Found it"),
        ];
        assert_eq!(log.receive(resumed.clone()), 2);
        assert_eq!(log.receive(vec![first[1].clone(), resumed[0].clone()]), 0);
        assert_eq!(log.receive(first), 0);
        assert_eq!(bodies(&log), vec!["Hello", "Hi", "Order #1?", "Found it"]);
        assert_eq!(log.read_up_to(), 4);
    }

    #[test]
    fn our_message_arriving_on_the_stream_before_its_ack_is_the_same_message() {
        let mut log = started();
        log.submit("client-0002".into(), "Where is my order?").unwrap();
        let job = log.start_next().unwrap();
        // The stream (or another tab's relay) is faster than the POST's answer.
        assert_eq!(log.receive(vec![msg(5, Author::Visitor, "client-0002", "Where is my order?")]), 0);
        assert_eq!(log.entries()[1].status, Status::Sent);
        assert_eq!(log.entries()[1].server_id, Some(5));
        let ack = MessageAck { id: 5, client_id: "client-0002".into(), created_ms: 5 };
        assert_eq!(log.finish(job.client_id(), Ok(Done::Appended(ack))), Some("Where is my order?".into()));
        assert_eq!(log.entries().len(), 2);
        // A failed one that had in fact been stored is sent, not retried.
        log.submit("client-0003".into(), "Hello?").unwrap();
        let job = log.start_next().unwrap();
        log.finish(job.client_id(), Err(ApiFailure::Offline));
        log.receive(vec![msg(6, Author::Visitor, "client-0003", "Hello?")]);
        assert_eq!(log.entries()[2].status, Status::Sent);
        assert_eq!(log.start_next(), None);
    }

    #[test]
    fn messages_from_another_tab_are_shown_in_server_order_before_unsent_ones() {
        let mut log = started();
        log.submit("client-0002".into(), "Still queued").unwrap();
        // Sent in another tab (visitor author, a client id we don't know), then a reply; the
        // stream may deliver them out of order when a replay and a relay overlap.
        log.receive(vec![
            msg(4, Author::Operator, "op-00000004", "Reply"),
            msg(3, Author::Visitor, "tab-b-0003", "From tab B"),
        ]);
        assert_eq!(bodies(&log), vec!["Hello", "From tab B", "Reply", "Still queued"]);
        assert!(!log.entries()[1].operator);
    }

    #[test]
    fn unread_counts_operator_messages_until_seen_and_the_mark_survives_a_reload() {
        let mut log = started();
        assert_eq!(log.unread(), 0);
        log.receive(vec![msg(2, Author::Operator, "op-00000002", "Hi"), msg(3, Author::Visitor, "tab-b-0003", "x")]);
        log.receive(vec![msg(4, Author::Operator, "op-00000004", "There?")]);
        assert_eq!(log.unread(), 2, "only operator messages count");
        log.receive(vec![msg(4, Author::Operator, "op-00000004", "There?")]);
        assert_eq!(log.unread(), 2, "a replayed one is not counted again");
        assert_eq!(log.mark_seen(), Some(4));
        assert_eq!(log.mark_seen(), None);
        assert_eq!(log.unread(), 0);

        // After a reload the replay brings everything again: only what is newer is unread.
        let saved = log.saved().unwrap();
        let mut reloaded = ChatLog::restore(&saved, 0).unwrap();
        assert_eq!(reloaded.session().unwrap().conversation_id, "conv-1");
        reloaded.receive(vec![
            msg(1, Author::Visitor, "client-0001", "Hello"),
            msg(2, Author::Operator, "op-00000002", "Hi"),
        ]);
        reloaded.receive(vec![
            msg(4, Author::Operator, "op-00000004", "There?"),
            msg(7, Author::Operator, "op-00000007", "New"),
        ]);
        assert_eq!(reloaded.unread(), 1);
        // Another tab opened its panel.
        assert!(reloaded.note_seen(7));
        assert!(!reloaded.note_seen(5), "the mark never moves back");
        assert_eq!(reloaded.unread(), 0);
    }

    #[test]
    fn a_closed_conversation_is_saved_rated_and_the_next_message_reopens_it() {
        let mut log = started();
        assert!(!log.close("conv-other", 9));
        assert!(log.close("conv-1", 9));
        assert!(!log.close("conv-1", 10), "the first close wins");
        assert_eq!(log.closed_conversation(), Some("conv-1"));
        assert_eq!(log.open_session(), None);
        let saved = log.saved().unwrap();
        assert_eq!(ChatLog::restore(&saved, 9 + FORGET_CLOSED_MS).unwrap().closed_conversation(), Some("conv-1"));
        assert_eq!(ChatLog::restore(&saved, 10 + FORGET_CLOSED_MS), None, "forgotten a day after closing");
        assert_eq!(ChatLog::restore("[\"a\"]", 0), None);
        assert_eq!(ChatLog::restore("nonsense", 0), None);

        log.submit("client-0002".into(), "One more thing").unwrap();
        let Some(Job::Append { conversation_id, .. }) = log.start_next() else { panic!("appended to the same one") };
        assert_eq!(conversation_id, "conv-1");
        let ack = MessageAck { id: 11, client_id: "client-0002".into(), created_ms: 11 };
        log.finish("client-0002", Ok(Done::Appended(ack)));
        assert_eq!(log.closed_conversation(), None, "reopened");
        assert_eq!(log.open_session().unwrap().conversation_id, "conv-1");
    }

    #[test]
    fn a_conversation_from_another_tab_is_adopted_only_when_this_tab_has_none_open() {
        let other = || Session { conversation_id: "conv-b".into(), token: "t".into(), closed_ms: None };
        let mut fresh = ChatLog::default();
        assert!(fresh.adopt(other(), 0));
        assert!(!fresh.adopt(other(), 0), "the same one again changes nothing");
        assert!(matches!(
            fresh.submit("client-0009".into(), "hi").map(|_| fresh.start_next()),
            Ok(Some(Job::Append { .. }))
        ));

        let mut starting = ChatLog::default();
        starting.submit("client-0001".into(), "Hello").unwrap();
        starting.start_next().unwrap();
        assert!(!starting.adopt(other(), 0), "its own conversation is on its way");

        let mut open = started();
        assert!(!open.adopt(other(), 0), "two open conversations: each tab keeps its own");
        open.close("conv-1", 5);
        assert!(open.adopt(other(), 0), "after a close, the conversation another tab started");
    }

    #[test]
    fn input_is_cleared_only_if_it_still_holds_the_sent_text() {
        assert!(should_clear_input("Hello \n", "Hello"));
        assert!(!should_clear_input("Hello, and", "Hello"));
    }
}
