//! Posted wait-time expectations and operator presence.
//!
//! `GET /v1/sites/{site}/availability` → [`Availability`]: whether someone is there now and how
//! long each channel will take, computed from the site's business hours, operator presence and
//! recent first-response times. Cacheable: the answer carries a strong `ETag` and
//! `Cache-Control: no-cache`; poll with `If-None-Match` and get 304 while nothing changed.
//!
//! `PUT /v1/sites/{site}/presence` with `Authorization: Bearer <operator token>`, body
//! [`PresenceUpdate`] → 200 [`Presence`]. Until the operator console exists, this is how a
//! site says someone is (or is not) at the desk.
//!
//! All instants are Unix milliseconds (UTC), so the widget can show them in the visitor's own
//! time zone.

use serde::{Deserialize, Serialize};

/// Whether the site can answer now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AvailabilityState {
    /// Within business hours, an operator is online and the expected wait is close to the
    /// posted promise.
    Open,
    /// Within business hours and online, but the wait is well over the promise (or the queue
    /// is long): offer a callback.
    Busy,
    /// Outside business hours or on a closure day. See [`Availability::next_open_ms`].
    Closed,
    /// Within business hours but nobody is online. Never shown as open.
    NobodyOnline,
    /// A state this version does not know (a newer server): treat as closed.
    #[serde(other)]
    Unknown,
}

/// Where a chat estimate comes from.
impl AvailabilityState {
    pub fn as_str(self) -> &'static str {
        match self {
            AvailabilityState::Open => "open",
            AvailabilityState::Busy => "busy",
            AvailabilityState::Closed => "closed",
            AvailabilityState::NobodyOnline => "nobody_online",
            AvailabilityState::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EstimateBasis {
    /// Measured first-response times of recent conversations (adjusted for the queue).
    History,
    /// Too little history: the site's posted promise.
    Posted,
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatExpectation {
    /// What to tell a visitor who starts a chat now, in seconds. Never below `posted_secs`.
    pub expected_wait_secs: u32,
    /// The site's posted first-reply promise, in seconds.
    pub posted_secs: u32,
    pub basis: EstimateBasis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackExpectation {
    /// When a callback requested now is promised, counting business hours only.
    pub due_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageExpectation {
    /// When a message left now will have been answered: the end of the promised business day.
    pub reply_by_ms: i64,
}

/// `GET /v1/sites/{site}/availability`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Availability {
    pub state: AvailabilityState,
    /// The instant this answer was computed for, rounded down to the minute (so identical
    /// answers within a minute share an `ETag`).
    pub now_ms: i64,
    pub chat: ChatExpectation,
    pub callback: CallbackExpectation,
    pub message: MessageExpectation,
    /// When business hours next begin; `null` while within business hours (and when no
    /// opening could be found at all).
    #[serde(default)]
    pub next_open_ms: Option<i64>,
    /// When the current business-hours opening ends; `null` outside business hours.
    #[serde(default)]
    pub closes_ms: Option<i64>,
}

/// An operator's presence for a site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PresenceStatus {
    Online,
    Away,
    /// A status this version does not know; the server rejects it with 422.
    #[serde(other)]
    Unknown,
}

/// Body of `PUT /v1/sites/{site}/presence`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresenceUpdate {
    pub status: PresenceStatus,
}

/// The stored presence, as the presence endpoint reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presence {
    pub status: PresenceStatus,
    pub updated_ms: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pins the wire format the widget and the loader read.
    #[test]
    fn golden_availability() {
        let json = r#"{"state":"closed","now_ms":1790000000000,
            "chat":{"expected_wait_secs":300,"posted_secs":300,"basis":"posted"},
            "callback":{"due_ms":1790060000000},
            "message":{"reply_by_ms":1790100000000},
            "next_open_ms":1790053200000,"closes_ms":null}"#;
        let parsed: Availability = serde_json::from_str(json).unwrap();
        let expected = Availability {
            state: AvailabilityState::Closed,
            now_ms: 1_790_000_000_000,
            chat: ChatExpectation { expected_wait_secs: 300, posted_secs: 300, basis: EstimateBasis::Posted },
            callback: CallbackExpectation { due_ms: 1_790_060_000_000 },
            message: MessageExpectation { reply_by_ms: 1_790_100_000_000 },
            next_open_ms: Some(1_790_053_200_000),
            closes_ms: None,
        };
        assert_eq!(parsed, expected);
        let compact: String = json.split_whitespace().collect();
        assert_eq!(serde_json::to_string(&expected).unwrap(), compact);
    }

    #[test]
    fn states_are_snake_case_and_unknown_ones_are_tolerated() {
        let state = |s: &str| serde_json::from_str::<AvailabilityState>(&format!("\"{s}\"")).unwrap();
        assert_eq!(state("nobody_online"), AvailabilityState::NobodyOnline);
        assert_eq!(state("busy"), AvailabilityState::Busy);
        assert_eq!(state("on_fire"), AvailabilityState::Unknown);
        assert_eq!(serde_json::to_string(&AvailabilityState::NobodyOnline).unwrap(), "\"nobody_online\"");
        assert_eq!(serde_json::from_str::<EstimateBasis>("\"history\"").unwrap(), EstimateBasis::History);
    }

    #[test]
    fn a_newer_server_may_add_fields_and_omit_the_optional_instants() {
        let json = r#"{"state":"open","now_ms":1,"chat":{"expected_wait_secs":60,"posted_secs":60,
            "basis":"history"},"callback":{"due_ms":2},"message":{"reply_by_ms":3},"queue":4}"#;
        let parsed: Availability = serde_json::from_str(json).unwrap();
        assert_eq!(parsed.next_open_ms, None);
        assert_eq!(parsed.closes_ms, None);
    }

    #[test]
    fn presence_update_golden() {
        let update: PresenceUpdate = serde_json::from_str(r#"{"status":"away"}"#).unwrap();
        assert_eq!(update.status, PresenceStatus::Away);
        let other: PresenceUpdate = serde_json::from_str(r#"{"status":"lunch"}"#).unwrap();
        assert_eq!(other.status, PresenceStatus::Unknown);
        let presence = Presence { status: PresenceStatus::Online, updated_ms: 5 };
        assert_eq!(serde_json::to_string(&presence).unwrap(), r#"{"status":"online","updated_ms":5}"#);
    }
}
