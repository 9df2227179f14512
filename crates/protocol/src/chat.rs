//! Chat. A conversation starts with its first message:
//! `POST /v1/sites/{site}/conversations` body [`NewConversation`] → 201 [`ConversationCreated`].
//! Later messages: `POST /v1/sites/{site}/conversations/{id}/messages` with
//! `Authorization: Bearer <token>`, body [`NewMessage`] → 201 [`MessageAck`].
//!
//! Each message carries a client id chosen by the widget; sending the same client id again
//! returns the original acknowledgement (200) and stores nothing new, so retries are safe.

use serde::{Deserialize, Serialize};

use crate::error::{FieldErrorCode, FieldErrors};
use crate::rating::PageContext;
use crate::validate::{is_valid_key, required_text};

pub const MAX_MESSAGE_CHARS: usize = 4000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewMessage {
    pub client_id: String,
    pub body: String,
}

impl NewMessage {
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::default();
        check_client_id(&mut errors, &self.client_id);
        required_text(&mut errors, "body", &self.body, MAX_MESSAGE_CHARS);
        errors.into_result()
    }
}

fn check_client_id(errors: &mut FieldErrors, client_id: &str) {
    if !is_valid_key(client_id) {
        errors.push(
            "client_id",
            FieldErrorCode::Invalid,
            text!("client_id must be 8-64 characters of A-Z, a-z, 0-9, - or _."),
        );
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewConversation {
    /// The first message. Its client id also makes the conversation's creation idempotent.
    pub message: NewMessage,
    #[serde(default)]
    pub page: Option<PageContext>,
    /// A secret the widget draws once per conversation it starts and never shows anywhere else
    /// (16-64 of `A-Z a-z 0-9 - _`). Only its hash is stored. A repeated create (the first answer
    /// was lost) gets a token only when it carries the same key: the message's client id is not
    /// a secret (lists, the console and webhooks show it), so it alone must never hand one out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_key: Option<String>,
    /// The widget's language (a BCP 47 tag such as `lv`): the console shows it, and e-mails use it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// The visitor's IANA time zone (`Europe/Riga`), so the console shows their local time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
}

/// Longest `locale` and `time_zone` accepted.
pub const MAX_LOCALE_CHARS: usize = 35;
pub const MAX_TIME_ZONE_CHARS: usize = 64;

/// The shortest create key accepted: a UUID's 36 characters carry 122 random bits.
pub const MIN_CREATE_KEY: usize = 16;

impl NewConversation {
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = match self.message.validate() {
            Ok(()) => FieldErrors::default(),
            Err(FieldErrors(errors)) => FieldErrors(
                errors
                    .into_iter()
                    .map(|mut e| {
                        e.field = format!("message.{}", e.field);
                        e
                    })
                    .collect(),
            ),
        };
        if let Some(key) = &self.create_key {
            if key.len() < MIN_CREATE_KEY || !is_valid_key(key) {
                errors.push(
                    "create_key",
                    FieldErrorCode::Invalid,
                    text!("create_key must be 16-64 characters of A-Z, a-z, 0-9, - or _."),
                );
            }
        }
        let tag = |t: &str, max: usize, extra: &[u8]| {
            !t.is_empty() && t.len() <= max && t.bytes().all(|b| b.is_ascii_alphanumeric() || extra.contains(&b))
        };
        if self.locale.as_deref().is_some_and(|l| !tag(l, MAX_LOCALE_CHARS, b"-")) {
            errors.push("locale", FieldErrorCode::Invalid, text!("locale must be a language tag such as lv or pt-BR."));
        }
        if self.time_zone.as_deref().is_some_and(|z| !tag(z, MAX_TIME_ZONE_CHARS, b"/_+-")) {
            errors.push(
                "time_zone",
                FieldErrorCode::Invalid,
                text!("time_zone must be an IANA name such as Europe/Riga."),
            );
        }
        errors.into_result()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageAck {
    /// The server's id for the message: monotonic within the conversation.
    pub id: i64,
    pub client_id: String,
    pub created_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationCreated {
    pub conversation_id: String,
    /// Unguessable secret that lets this visitor (and only them) read and write the conversation.
    pub token: String,
    pub message: MessageAck,
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Author {
    Visitor,
    Operator,
    /// An author kind this version does not know (a newer server).
    #[serde(other)]
    Unknown,
}

/// One message of a conversation, as read back by the visitor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub id: i64,
    pub client_id: String,
    pub author: Author,
    pub body: String,
    pub created_ms: i64,
    /// The operator's display name on an operator's reply (what the visitor sees beside it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_name: Option<String>,
}

/// `GET /v1/sites/{site}/conversations/{id}/messages` (Bearer token) → [`MessageList`], oldest
/// first. The optional query `?after=ID` returns only messages with a larger id (for polling).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageList {
    pub messages: Vec<ChatMessage>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_checks() {
        let ok = NewMessage { client_id: "c-12345678".into(), body: "Hello".into() };
        assert!(ok.validate().is_ok());
        let empty = NewMessage { client_id: "c-12345678".into(), body: "  ".into() };
        assert_eq!(empty.validate().unwrap_err().get("body").unwrap().code, FieldErrorCode::Required);
        let long = NewMessage { client_id: "c-12345678".into(), body: "x".repeat(MAX_MESSAGE_CHARS + 1) };
        assert_eq!(long.validate().unwrap_err().get("body").unwrap().code, FieldErrorCode::TooLong);
    }

    #[test]
    fn conversation_errors_name_the_nested_field() {
        let c = NewConversation {
            message: NewMessage { client_id: "x".into(), body: "".into() },
            page: None,
            create_key: None,
            locale: Some("lv\"><".into()),
            time_zone: Some("Europe/Riga; drop".into()),
        };
        let errors = c.validate().unwrap_err();
        assert!(errors.get("message.client_id").is_some());
        assert!(errors.get("message.body").is_some());
        assert!(errors.get("locale").is_some() && errors.get("time_zone").is_some());
    }
}

/// `PUT /v1/sites/{site}/conversations/{id}/contact` (Bearer token): where the reply should go if
/// the visitor is not there when it comes. `DELETE` on the same path removes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactUpdate {
    pub email: String,
    /// The visitor's language (the e-mail is written in it), e.g. `lv`.
    #[serde(default)]
    pub locale: Option<String>,
}

/// The answer: the address as shown back (`a***@example.lv`) and by when the reply is promised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactSaved {
    pub email_masked: String,
    pub reply_by_ms: i64,
}
