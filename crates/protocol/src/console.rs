//! Live chat events and the operator console API.
//!
//! Visitor stream: `GET /v1/sites/{site}/conversations/{id}/events` (Bearer conversation token,
//! or `?token=` for `EventSource`), `text/event-stream` with three event types:
//! - `event: message`, `id: <message id>`, data [`ChatMessage`](crate::ChatMessage). Resume with
//!   the `Last-Event-ID` header (or `?after=ID`): everything with a larger id is replayed first.
//! - `event: typing`, no id, data [`TypingEvent`]. Ephemeral, never replayed.
//! - `event: closed`, no id, data [`ConversationClosed`]. Also sent after the replay when the
//!   conversation is already closed.
//!
//! Operator console (`/v1/console/…`): session cookie from [`OperatorLogin`], or the configured
//! operator bearer token for automation.

use serde::{Deserialize, Serialize};

use crate::availability::PresenceStatus;
use crate::chat::{Author, ChatMessage};

/// Data of an `event: typing`: who is typing. Sent at most about once a second while typing;
/// the receiver hides the indicator a few seconds after the last one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypingEvent {
    pub author: Author,
}

/// Data of an `event: closed`: the operator closed the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationClosed {
    pub closed_ms: i64,
}

/// Body of `POST /v1/console/login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorLogin {
    pub email: String,
    pub password: String,
}

/// `GET /v1/console/me` (and the answer to a log-in): who is signed in and which sites they see.
/// `email` is `None` for the configured operator token (automation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorMe {
    pub id: String,
    #[serde(default)]
    pub email: Option<String>,
    pub name: String,
    pub sites: Vec<String>,
    /// May export and erase personal data and see the audit log and dead webhook deliveries.
    #[serde(default)]
    pub admin: bool,
}

/// An operator account as admins manage it (`GET /v1/console/operators`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorAccount {
    pub id: String,
    pub email: String,
    pub name: String,
    /// The sites they work on; `None`: every site.
    #[serde(default)]
    pub sites: Option<Vec<String>>,
    pub admin: bool,
    /// Chats they carry at once before new ones go to a colleague.
    pub capacity: u32,
}

/// `GET /v1/console/operators`: every account, by e-mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorAccounts {
    pub operators: Vec<OperatorAccount>,
}

/// `POST /v1/console/operators` (admins): a new account. `sites` absent or `null`: every site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewOperator {
    pub email: String,
    pub name: String,
    /// A first password (10-1024 characters) the operator changes with `porchlight operator passwd`.
    pub password: String,
    #[serde(default)]
    pub sites: Option<Vec<String>>,
    #[serde(default)]
    pub admin: bool,
    /// Default 3.
    #[serde(default)]
    pub capacity: Option<u32>,
}

/// `PUT /v1/console/operators/{id}` (admins): sites, role and capacity, all three replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorAccess {
    #[serde(default)]
    pub sites: Option<Vec<String>>,
    pub admin: bool,
    pub capacity: u32,
}

/// Body of `PUT /v1/console/presence`; answered with [`Presence`](crate::Presence).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsolePresenceUpdate {
    pub site: String,
    pub status: PresenceStatus,
}

/// One open conversation in the operator's inbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxItem {
    pub conversation_id: String,
    pub site: String,
    pub created_ms: i64,
    /// The first visitor message after the last operator message; `None` when the operator
    /// wrote last (nobody is waiting).
    #[serde(default)]
    pub waiting_since_ms: Option<i64>,
    /// The site's posted first-reply promise, in seconds.
    pub promise_secs: u32,
    /// `waiting_since_ms + promise`; `None` when nobody is waiting.
    #[serde(default)]
    pub reply_by_ms: Option<i64>,
    /// The visitor has waited longer than promised.
    pub breached: bool,
    #[serde(default)]
    pub last_message: Option<ChatMessage>,
    /// The operator working on it (id and display name) while they are online; `None`:
    /// unassigned (also when the assignee went away).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<Assignee>,
    /// Who is waiting, at a glance: the page they wrote from, their language, their e-mail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visitor_locale: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visitor_email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignee {
    pub id: String,
    pub name: String,
}

/// `POST /v1/console/conversations/{id}/assign`: claim (`operator_id` = your own id), transfer
/// (a colleague's id, who must work on the site) or unassign (`null`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignUpdate {
    #[serde(default)]
    pub operator_id: Option<String>,
}

/// `GET /v1/console/inbox?site=` → open conversations, longest waiting first, then those nobody
/// waits on (most recent activity first).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inbox {
    pub now_ms: i64,
    pub conversations: Vec<InboxItem>,
}

/// `GET /v1/console/conversations/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleConversation {
    pub conversation_id: String,
    pub site: String,
    pub created_ms: i64,
    #[serde(default)]
    pub closed_ms: Option<i64>,
    #[serde(default)]
    pub page_path: Option<String>,
    pub messages: Vec<ChatMessage>,
    /// Where the visitor asked replies to be e-mailed, when they did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visitor_email: Option<String>,
    /// The title of the page they wrote from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_title: Option<String>,
    /// The widget's language when they wrote (`lv`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visitor_locale: Option<String>,
    /// Their IANA time zone, for their local time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visitor_time_zone: Option<String>,
    /// The rating they gave this chat, if any (`good`, `4`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<String>,
    /// Their other conversations on this site (the same e-mail address), newest first.
    #[serde(default)]
    pub previous: Vec<PastConversation>,
}

/// Another conversation of the same visitor, or a search hit in the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PastConversation {
    pub conversation_id: String,
    pub site: String,
    pub created_ms: i64,
    #[serde(default)]
    pub closed_ms: Option<i64>,
    #[serde(default)]
    pub page_path: Option<String>,
    #[serde(default)]
    pub visitor_email: Option<String>,
    /// The first message matching the search (else the first message), at most 200 characters.
    pub snippet: String,
    pub messages: i64,
    #[serde(default)]
    pub rating: Option<String>,
}

/// `GET /v1/console/history`: conversations of a site matching a search, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    pub conversations: Vec<PastConversation>,
}

/// One of a site's canned replies: `/shortcut` in the console's reply box inserts `text`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CannedReply {
    pub shortcut: String,
    pub text: String,
}

/// `GET /v1/console/replies?site=S`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CannedReplies {
    pub replies: Vec<CannedReply>,
}

/// One operator of a site as colleagues see them (`GET /v1/console/team?site=S`): to transfer a
/// conversation to, and to see who carries how much.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamMember {
    pub id: String,
    pub name: String,
    /// Chose "online" for the site and their console is alive.
    pub online: bool,
    /// Open conversations assigned to them (on every site).
    pub open: u32,
    pub capacity: u32,
}

/// `GET /v1/console/team?site=S`: the site's operators, by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    pub members: Vec<TeamMember>,
}

/// Data of an event on the operator stream `GET /v1/console/events` (`event: message`,
/// `event: typing` or `event: closed`). Notifications only: after a reconnect the console
/// reloads the inbox instead of resuming.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleEvent {
    pub conversation_id: String,
    pub site: String,
    #[serde(default)]
    pub message: Option<ChatMessage>,
    #[serde(default)]
    pub typing: Option<TypingEvent>,
    #[serde(default)]
    pub closed: Option<ConversationClosed>,
    /// Event `promise_broken`: a promise on this conversation (or callback reference) broke.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promise_broken: Option<PromiseBrokenEvent>,
}

/// A promise whose deadline passed unanswered (see the promise ledger).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromiseBrokenEvent {
    /// `chat_first_reply`, `callback` or `message_reply`.
    pub kind: String,
    pub due_ms: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pins the wire format of the live events and the console bodies.
    #[test]
    fn golden_console_json() {
        let typing = TypingEvent { author: Author::Operator };
        assert_eq!(serde_json::to_string(&typing).unwrap(), r#"{"author":"operator"}"#);
        let closed = ConversationClosed { closed_ms: 7 };
        assert_eq!(serde_json::to_string(&closed).unwrap(), r#"{"closed_ms":7}"#);
        let login: OperatorLogin = serde_json::from_str(r#"{"email":"a@b.example","password":"pw"}"#).unwrap();
        assert_eq!(login.email, "a@b.example");
        let update: ConsolePresenceUpdate = serde_json::from_str(r#"{"site":"demo","status":"online"}"#).unwrap();
        assert_eq!(update.status, PresenceStatus::Online);
        let item = InboxItem {
            conversation_id: "cv_1".into(),
            site: "demo".into(),
            created_ms: 1,
            waiting_since_ms: Some(2),
            promise_secs: 300,
            reply_by_ms: Some(300_002),
            breached: false,
            last_message: None,
            assignee: None,
            page_path: None,
            visitor_locale: None,
            visitor_email: None,
        };
        assert_eq!(
            serde_json::to_string(&item).unwrap(),
            r#"{"conversation_id":"cv_1","site":"demo","created_ms":1,"waiting_since_ms":2,"promise_secs":300,"reply_by_ms":300002,"breached":false,"last_message":null}"#
        );
        let event: ConsoleEvent = serde_json::from_str(r#"{"conversation_id":"cv_1","site":"demo"}"#).unwrap();
        assert!(event.message.is_none() && event.typing.is_none() && event.closed.is_none());
    }
}
