//! Callback requests: `POST /v1/sites/{site}/callbacks` with an `Idempotency-Key` header,
//! body [`NewCallback`] → 201 [`CallbackReceipt`] (200 with the original receipt on a replay).
//!
//! `GET /v1/sites/{site}/callbacks/slots` → [`CallbackSlots`]: the times a visitor may pick.
//! `GET /v1/sites/{site}/callbacks/{reference}` with `Authorization: Bearer <receipt token>` →
//! [`CallbackFollowUp`]. Operators (`Bearer <operator token>`): `GET …/callbacks?status=pending`
//! → [`CallbackList`] ordered by due time, and `PUT …/callbacks/{reference}/status` with
//! [`CallbackStatusUpdate`] → [`CallbackFollowUp`].

use serde::{Deserialize, Serialize};

use crate::error::{FieldErrorCode, FieldErrors};
use crate::validate::{optional_text, required_text};

pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_NOTE_CHARS: usize = 1000;
/// E.164 allows 15 digits; national formats add spaces, dashes, dots and brackets.
pub const MAX_PHONE_CHARS: usize = 32;
pub const MIN_PHONE_DIGITS: usize = 6;
pub const MAX_PHONE_DIGITS: usize = 15;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewCallback {
    pub name: String,
    /// As typed: international (`+371 2000 0000`) or national. The server normalises it.
    pub phone: String,
    /// When to call, as a Unix time in milliseconds; `None` means "as soon as possible".
    #[serde(default)]
    pub preferred_ms: Option<i64>,
    #[serde(default)]
    pub note: Option<String>,
    /// Hidden field: people never fill it, form-filling bots do. A filled honeypot is accepted
    /// and silently dropped.
    #[serde(default)]
    pub website: Option<String>,
    /// ISO 3166 alpha-2 country for a number typed in national format (e.g. `"TH"`), from the
    /// visitor's locale. Without it the site's default country applies.
    #[serde(default)]
    pub country: Option<String>,
    /// One of the site's [`crate::SiteConfig::callback_topics`].
    #[serde(default)]
    pub topic: Option<String>,
    /// The visitor ticked the site's consent box. Required (`true`) when the site has
    /// [`crate::SiteConfig::consent_text`].
    #[serde(default)]
    pub consent: bool,
}

impl NewCallback {
    /// The light checks both sides run. The server also normalises the phone number.
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::default();
        required_text(&mut errors, "name", &self.name, MAX_NAME_CHARS);
        check_phone(&mut errors, &self.phone);
        if let Some(note) = &self.note {
            optional_text(&mut errors, "note", note, MAX_NOTE_CHARS);
        }
        if matches!(self.preferred_ms, Some(ms) if ms <= 0) {
            errors.push(
                "preferred_ms",
                FieldErrorCode::Invalid,
                text!("preferred_ms must be a positive Unix time in ms."),
            );
        }
        errors.into_result()
    }

    pub fn is_honeypot_filled(&self) -> bool {
        self.website.as_deref().is_some_and(|w| !w.trim().is_empty())
    }
}

/// The separators people write phone numbers with: `+371 2612-3456`, `(+371) 26123456`,
/// `0039.06.1234.5678`, `(030) 1234/567`.
fn is_phone_separator(c: char) -> bool {
    matches!(c, ' ' | '-' | '.' | '(' | ')' | '/')
}

/// A phone number without its separators: `+` (only as the first character) and digits, or
/// `None` when anything else is in it (letters, a `+` in the middle).
fn compact_phone(phone: &str) -> Option<String> {
    let compact: String = phone.trim().chars().filter(|&c| !is_phone_separator(c)).collect();
    let digits = compact.strip_prefix('+').unwrap_or(&compact);
    digits.chars().all(|c| c.is_ascii_digit()).then_some(compact)
}

/// A light phone check (the server then reads the number for real): digits, the usual
/// separators and a leading `+`, with 6–15 digits (17 with a `00` prefix). Returns the number
/// without separators, or the field error. Kept small so the widget's WASM stays small.
pub fn read_phone(phone: &str) -> Result<String, (FieldErrorCode, &'static str)> {
    if phone.trim().is_empty() {
        return Err((FieldErrorCode::Required, text!("phone is required.")));
    }
    let Some(compact) = compact_phone(phone).filter(|_| phone.chars().count() <= MAX_PHONE_CHARS) else {
        return Err((FieldErrorCode::Invalid, text!("phone may contain digits, spaces and + - ( ) . / only.")));
    };
    let digits = compact.trim_start_matches('+').len();
    if digits < MIN_PHONE_DIGITS {
        Err((FieldErrorCode::TooShort, text!("phone has too few digits.")))
    } else if digits > MAX_PHONE_DIGITS + 2 {
        // E.164 has at most 15 digits; "00" as the international prefix adds two.
        Err((FieldErrorCode::TooLong, text!("phone has too many digits.")))
    } else {
        Ok(compact)
    }
}

fn check_phone(errors: &mut FieldErrors, phone: &str) {
    if let Err((code, message)) = read_phone(phone) {
        errors.push("phone", code, message);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallbackStatus {
    Received,
    Scheduled,
    Done,
    Unreachable,
    /// The visitor cancelled it (`DELETE …/callbacks/{reference}` with its token).
    Cancelled,
    #[serde(other)]
    Unknown,
}

/// `PUT /v1/sites/{site}/callbacks/{reference}` (Bearer: the callback's token): the visitor picks
/// another time (`preferred_ms`, a slot start from `…/callbacks/slots`) or "as soon as possible"
/// (`null`). Only while it is received or scheduled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackChange {
    #[serde(default)]
    pub preferred_ms: Option<i64>,
}

/// One bookable time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackSlot {
    pub start_ms: i64,
    pub end_ms: i64,
}

/// `GET /v1/sites/{site}/callbacks/slots`: slot starts within business hours over the site's
/// next business days (closures skipped), as instants to show in the visitor's time zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackSlots {
    /// The site's IANA time zone.
    pub timezone: String,
    pub slot_minutes: u32,
    /// When a callback asked for "as soon as possible" now is due.
    pub asap_due_ms: i64,
    pub slots: Vec<CallbackSlot>,
}

/// `GET /v1/sites/{site}/callbacks/{reference}` (callback token) and the operator's status PUT.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackFollowUp {
    pub reference: String,
    pub status: CallbackStatus,
    /// When the site promises to have called (or the scheduled time), Unix ms.
    pub due_ms: i64,
    #[serde(default)]
    pub preferred_ms: Option<i64>,
    pub created_ms: i64,
    #[serde(default)]
    pub updated_ms: Option<i64>,
}

/// Body of `PUT /v1/sites/{site}/callbacks/{reference}/status` (operator).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackStatusUpdate {
    pub status: CallbackStatus,
    /// A new due time, e.g. the time agreed when scheduling.
    #[serde(default)]
    pub due_ms: Option<i64>,
}

/// One callback as operators see it (with the visitor's name and phone).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorCallback {
    pub reference: String,
    pub status: CallbackStatus,
    pub due_ms: i64,
    #[serde(default)]
    pub preferred_ms: Option<i64>,
    pub name: String,
    /// E.164, e.g. `"+37120000000"`.
    pub phone: String,
    /// The same number grouped for reading aloud, e.g. `"+371 20 000 000"`.
    #[serde(default)]
    pub phone_display: Option<String>,
    #[serde(default)]
    pub topic: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    pub created_ms: i64,
    #[serde(default)]
    pub updated_ms: Option<i64>,
}

/// `GET /v1/sites/{site}/callbacks?status=pending|received|scheduled|done|unreachable|all`
/// (operator), ordered by due time, earliest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackList {
    pub callbacks: Vec<OperatorCallback>,
}

impl CallbackStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CallbackStatus::Received => "received",
            CallbackStatus::Scheduled => "scheduled",
            CallbackStatus::Done => "done",
            CallbackStatus::Unreachable => "unreachable",
            CallbackStatus::Cancelled => "cancelled",
            CallbackStatus::Unknown => "unknown",
        }
    }

    pub fn parse(raw: &str) -> CallbackStatus {
        match raw {
            "received" => CallbackStatus::Received,
            "scheduled" => CallbackStatus::Scheduled,
            "done" => CallbackStatus::Done,
            "unreachable" => CallbackStatus::Unreachable,
            "cancelled" => CallbackStatus::Cancelled,
            _ => CallbackStatus::Unknown,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackReceipt {
    /// A short code the visitor can quote, e.g. `"PL-7K3Q9M"`.
    pub reference: String,
    pub status: CallbackStatus,
    /// When the site promises to have called, Unix ms.
    pub due_ms: i64,
    /// Bearer secret for reading this callback's status later (follow-up).
    #[serde(default)]
    pub token: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn callback(name: &str, phone: &str) -> NewCallback {
        NewCallback { name: name.into(), phone: phone.into(), ..NewCallback::default() }
    }

    #[test]
    fn phones() {
        for ok in [
            "+371 2000 0000",
            "+66 2 123 4567",
            "06 12345678",
            "(030) 1234-567",
            "+30 210 1234567",
            "(+371) 26123456",
            "00371 2612 3456",
            "+39.06.1234.5678",
        ] {
            assert!(callback("Anna", ok).validate().is_ok(), "{ok}");
        }
        let code = |p: &str| callback("Anna", p).validate().unwrap_err().get("phone").unwrap().code;
        assert_eq!(code(""), FieldErrorCode::Required);
        assert_eq!(code("12345"), FieldErrorCode::TooShort);
        assert_eq!(code("call me maybe"), FieldErrorCode::Invalid);
        assert_eq!(code("371+2612 3456"), FieldErrorCode::Invalid, "a + in the middle");
        assert_eq!(code("+123456789012345678"), FieldErrorCode::TooLong);
    }

    #[test]
    fn name_is_required() {
        let errors = callback(" ", "+371 2000 0000").validate().unwrap_err();
        assert_eq!(errors.get("name").unwrap().code, FieldErrorCode::Required);
    }

    #[test]
    fn honeypot() {
        let mut c = callback("Bot", "+371 2000 0000");
        assert!(!c.is_honeypot_filled());
        c.website = Some("http://spam".into());
        assert!(c.is_honeypot_filled());
    }

    #[test]
    fn golden_new_callback_with_the_new_optional_fields() {
        let c: NewCallback = serde_json::from_str(r#"{"name":"Anna","phone":"02 123 4567"}"#).unwrap();
        assert_eq!((c.country, c.topic, c.consent), (None, None, false));
        let c: NewCallback = serde_json::from_str(
            r#"{"name":"Anna","phone":"02 123 4567","country":"TH","topic":"Orders","consent":true}"#,
        )
        .unwrap();
        assert_eq!((c.country.as_deref(), c.topic.as_deref(), c.consent), (Some("TH"), Some("Orders"), true));
        let update: CallbackStatusUpdate = serde_json::from_str(r#"{"status":"scheduled"}"#).unwrap();
        assert_eq!((update.status, update.due_ms), (CallbackStatus::Scheduled, None));
        assert_eq!(CallbackStatus::parse(CallbackStatus::Unreachable.as_str()), CallbackStatus::Unreachable);
    }
}
