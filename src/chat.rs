//! The visitor's side of a chat: an optimistic log of outgoing messages and the conversation
//! they belong to. Plain Rust; `chat_view` drives it.
//!
//! Messages are sent one at a time, in order ([`ChatLog::start_next`]), so that the first one
//! creates the conversation and the later ones are appended to it. Each message keeps its client
//! id for life, so a retry is stored once by the server.

use porchlight_protocol::{
    Author, ChatMessage, ConversationCreated, FieldErrors, MessageAck, NewConversation, NewMessage,
};

use crate::api::ApiFailure;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Waiting for its turn (shown as "sending").
    Queued,
    /// Its request is under way (shown as "sending").
    InFlight,
    /// Acknowledged by the server.
    Sent,
    /// The last attempt failed; the visitor can retry.
    Failed,
}

impl Status {
    /// The `data-status` the view shows: `sending` | `sent` | `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Queued | Status::InFlight => "sending",
            Status::Sent => "sent",
            Status::Failed => "failed",
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
}

/// The conversation, once the server has created it. Memory only (for now).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub conversation_id: String,
    pub token: String,
}

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
    /// The largest server id read back so far (`?after=` of the next poll).
    read_up_to: i64,
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

    /// Adds the visitor's text to the log as a queued message (optimistic), after the same
    /// checks the server runs. `client_id` is only used when a new message is added.
    pub fn submit(&mut self, client_id: String, text: &str) -> Result<Submitted, FieldErrors> {
        let body = text.trim();
        NewMessage { client_id: client_id.clone(), body: body.to_owned() }.validate()?;
        if let Some(entry) = self.entries.iter_mut().rev().find(|e| e.body == body && e.status != Status::Sent) {
            return Ok(if entry.status == Status::Failed {
                entry.status = Status::Queued;
                Submitted::Retried
            } else {
                Submitted::AlreadySending
            });
        }
        self.entries.push(Entry { client_id, body: body.to_owned(), status: Status::Queued, server_id: None, operator: false });
        Ok(Submitted::Queued)
    }

    /// `?after=` for the next read of the conversation.
    pub fn read_up_to(&self) -> i64 {
        self.read_up_to
    }

    /// Adds the operator's messages among `messages` (read back from the server) that aren't in
    /// the log yet. Returns whether there were any.
    pub fn receive(&mut self, messages: Vec<ChatMessage>) -> bool {
        let mut any = false;
        for m in messages {
            self.read_up_to = self.read_up_to.max(m.id);
            if m.author == Author::Operator && !self.entries.iter().any(|e| e.server_id == Some(m.id)) {
                let entry = Entry { client_id: m.client_id, body: m.body, status: Status::Sent, server_id: Some(m.id), operator: true };
                self.entries.push(entry);
                any = true;
            }
        }
        any
    }

    /// Queues a failed message again, under the same client id.
    pub fn retry(&mut self, client_id: &str) -> bool {
        match self.entries.iter_mut().find(|e| e.client_id == client_id && e.status == Status::Failed) {
            Some(entry) => {
                entry.status = Status::Queued;
                true
            }
            None => false,
        }
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
        Some(match &self.session {
            None => Job::Start(NewConversation { message, page: None }),
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
                        self.session =
                            Some(Session { conversation_id: created.conversation_id, token: created.token });
                        created.message
                    }
                    Done::Appended(ack) => ack,
                };
                entry.status = Status::Sent;
                entry.server_id = Some(ack.id);
                self.last_error = None;
                Some(entry.body.clone())
            }
            Err(failure) => {
                entry.status = Status::Failed;
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
        };
        let read = vec![message(1, Author::Visitor, "Hello"), message(2, Author::Operator, "Hi! Checking.")];
        assert!(log.receive(read.clone()));
        assert_eq!(log.read_up_to(), 2);
        assert!(!log.receive(read), "the same reply twice is added once");
        assert!(!log.receive(vec![message(3, Author::Unknown, "?")]));
        assert_eq!(log.read_up_to(), 3);
        let bodies: Vec<(&str, bool)> = log.entries().iter().map(|e| (e.body.as_str(), e.operator)).collect();
        assert_eq!(bodies, vec![("Hello", false), ("Hi! Checking.", true)]);
    }

    #[test]
    fn input_is_cleared_only_if_it_still_holds_the_sent_text() {
        assert!(should_clear_input("Hello \n", "Hello"));
        assert!(!should_clear_input("Hello, and", "Hello"));
    }
}
