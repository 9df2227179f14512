//! The "Call me" form as plain state: what the visitor typed, the field errors shown, and the
//! idempotency key of the submission under way; the [`Submission`] of a request through the
//! outbox (sending → saved while offline → delivered, also across a reload); and the follow-up
//! of a submitted request. `callback_view` draws them.

use porchlight_protocol::json::{FromJson, ToJson};
use porchlight_protocol::{
    CallbackFollowUp, CallbackReceipt, CallbackStatus, FieldErrorCode, FieldErrors, NewCallback,
};

use crate::api::ApiFailure;
use crate::i18n::{Key, Locale};
use crate::outbox::{Entry, Report};

/// The outbox kind of callback requests.
pub const KIND: &str = "callback";

/// The outbox entry of a submission: `POST callbacks` with its idempotency key, so every retry
/// (offline, 5xx, after a reload) stores one row.
pub fn entry(key: String, body: &NewCallback) -> Entry {
    Entry::new(KIND, key, "POST", "callbacks".into(), None, Some(body.to_json()))
}

/// A submitted request as the visitor sees it: the life of its outbox entry.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Submission {
    /// Nothing submitted: the form is shown.
    #[default]
    Idle,
    /// On its way for the first time (the button says "Sending…").
    Sending(String),
    /// Saved in the outbox and retried (offline, 5xx, a rate limit): "we'll send it when you're
    /// back online". The failure is the last one, so a rate limit can be explained.
    Queued(String, ApiFailure),
    /// The server has it.
    Delivered(CallbackReceipt),
}

/// What an outbox report means for the form.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Stored: confirm, keep the follow-up token, tell the host page.
    Delivered(CallbackReceipt),
    /// Refused for good (a 4xx): the form is shown again with the reason.
    Refused(ApiFailure),
}

impl Submission {
    /// The state after a reload: the request still in the outbox, if any, is saved and waiting.
    pub fn restore(queued: Option<&Entry>) -> Submission {
        match queued {
            Some(entry) if entry.kind == KIND => Submission::Queued(entry.key.clone(), ApiFailure::Offline),
            _ => Submission::Idle,
        }
    }

    /// The idempotency key of the request waiting or on its way.
    pub fn key(&self) -> Option<&str> {
        match self {
            Submission::Sending(key) | Submission::Queued(key, _) => Some(key),
            Submission::Idle | Submission::Delivered(_) => None,
        }
    }

    /// The visitor may (re)submit: nothing is waiting and nothing was delivered.
    pub fn can_submit(&self) -> bool {
        *self == Submission::Idle
    }

    /// The form is shown (empty, or disabled while the first try is on its way).
    pub fn shows_form(&self) -> bool {
        matches!(self, Submission::Idle | Submission::Sending(_))
    }

    /// The visitor submitted; the request goes into the outbox under `key`.
    pub fn submit(&mut self, key: String) {
        *self = Submission::Sending(key);
    }

    /// The outcome of outbox entry `key`; reports of other entries are ignored.
    pub fn on_report(&mut self, key: &str, report: &Report) -> Option<Outcome> {
        if self.key() != Some(key) {
            return None;
        }
        match report {
            Report::Waiting(failure) => {
                *self = Submission::Queued(key.to_owned(), failure.clone());
                None
            }
            Report::Dropped(failure) => {
                *self = Submission::Idle;
                Some(Outcome::Refused(failure.clone()))
            }
            Report::Done(body) => match CallbackReceipt::from_json_str(body) {
                Some(receipt) => {
                    *self = Submission::Delivered(receipt.clone());
                    Some(Outcome::Delivered(receipt))
                }
                // A 2xx we cannot read (not our server's answer): stored or not, there is
                // nothing to confirm. Say so rather than claim success.
                None => {
                    *self = Submission::Idle;
                    Some(Outcome::Refused(ApiFailure::Server(200)))
                }
            },
        }
    }
}

/// A receipt as the follow-up it starts as (the banner shows both the same way).
pub fn follow_up_of(receipt: &CallbackReceipt, now_ms: i64) -> CallbackFollowUp {
    CallbackFollowUp {
        reference: receipt.reference.clone(),
        status: receipt.status,
        due_ms: receipt.due_ms,
        preferred_ms: None,
        created_ms: now_ms,
        updated_ms: None,
    }
}

/// The fields shown with their own error line; any other field error is shown as a general one.
pub const SHOWN_FIELDS: [&str; 5] = ["name", "phone", "note", "preferred_ms", "consent"];

/// The `<select>` value of a preferred time: `""` is "as soon as possible", else the slot's
/// start in Unix ms.
pub fn parse_slot(raw: &str) -> Option<i64> {
    raw.parse().ok().filter(|ms| *ms > 0)
}

/// What the frame keeps after a submission to follow it up later: `"{reference} {token}"`
/// (neither contains a space), in the frame's own `localStorage`.
pub fn saved(reference: &str, token: &str) -> String {
    [reference, token].join(" ")
}

pub fn parse_saved(raw: &str) -> Option<(&str, &str)> {
    let (reference, token) = raw.split_once(' ')?;
    (!reference.is_empty() && !token.is_empty()).then_some((reference, token))
}

/// The follow-up sentence; `when` formats an instant in the visitor's zone.
pub fn status_text(locale: Locale, f: &CallbackFollowUp, when: impl Fn(i64) -> String) -> String {
    let key = match f.status {
        CallbackStatus::Scheduled => Key::CbStatusScheduled,
        CallbackStatus::Done => Key::CbStatusDone,
        CallbackStatus::Unreachable => Key::CbStatusUnreachable,
        CallbackStatus::Cancelled => Key::CbStatusCancelled,
        CallbackStatus::Received | CallbackStatus::Unknown => Key::CbStatusReceived,
    };
    locale.format(key, &[("reference", &f.reference), ("when", &when(f.due_ms))])
}

/// Whether the visitor needs to hear about it again after this: not once it is over.
pub fn is_final(status: CallbackStatus) -> bool {
    matches!(status, CallbackStatus::Done | CallbackStatus::Unreachable | CallbackStatus::Cancelled)
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallbackForm {
    pub name: String,
    pub phone: String,
    /// A slot's start; `None` is "as soon as possible".
    pub preferred_ms: Option<i64>,
    /// One of the site's topics, or empty.
    pub topic: String,
    pub consent: bool,
    pub note: String,
    /// The honeypot. People never see it.
    pub website: String,
    errors: FieldErrors,
    /// The key and body of the last submission that did not succeed: the same body again reuses
    /// the key, so a retry after a lost response is stored once.
    attempt: Option<(String, NewCallback)>,
}

impl CallbackForm {
    /// The request body for the current inputs.
    pub fn request(&self) -> NewCallback {
        let optional = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        NewCallback {
            name: self.name.trim().to_owned(),
            phone: self.phone.trim().to_owned(),
            preferred_ms: self.preferred_ms,
            note: optional(&self.note),
            website: optional(&self.website),
            // The server applies the site's default country to national numbers.
            country: None,
            topic: optional(&self.topic),
            consent: self.consent,
        }
    }

    /// Validates and returns `(idempotency key, body)` to send, or shows the field errors.
    /// `new_key` is called only when this is a new submission. `consent_required`: the site
    /// shows a consent box, which must be ticked.
    pub fn prepare(
        &mut self,
        consent_required: bool,
        new_key: impl FnOnce() -> String,
    ) -> Option<(String, NewCallback)> {
        let request = self.request();
        let mut errors = request.validate().err().unwrap_or_default();
        if consent_required && !self.consent {
            errors.push("consent", FieldErrorCode::Required, "consent is required.");
        }
        if !errors.is_empty() {
            self.errors = errors;
            return None;
        }
        self.errors = FieldErrors::default();
        let key = match &self.attempt {
            Some((key, previous)) if *previous == request => key.clone(),
            _ => new_key(),
        };
        self.attempt = Some((key.clone(), request.clone()));
        Some((key, request))
    }

    /// The server accepted it: the form starts over.
    pub fn succeeded(&mut self) {
        *self = CallbackForm::default();
    }

    /// Field errors from a 422 replace ours.
    pub fn set_errors(&mut self, errors: FieldErrors) {
        self.errors = errors;
    }

    /// The visitor edited `field`: its error no longer applies.
    pub fn edited(&mut self, field: &str) {
        self.errors.0.retain(|e| e.field != field);
    }

    pub fn error(&self, field: &str) -> Option<FieldErrorCode> {
        self.errors.get(field).map(|e| e.code)
    }

    /// Errors for fields without their own error line (e.g. `country`).
    pub fn other_errors(&self) -> impl Iterator<Item = (&str, FieldErrorCode)> {
        self.errors.0.iter().filter(|e| !SHOWN_FIELDS.contains(&e.field.as_str())).map(|e| (e.field.as_str(), e.code))
    }
}

#[cfg(test)]
mod tests {
    use porchlight_protocol::{ApiError, ErrorCode, FieldError};

    use super::*;

    const RECEIPT: &str = r#"{"reference":"PL-7K3Q9M","status":"received","due_ms":5000,"token":"tok"}"#;

    #[test]
    fn a_submission_goes_through_the_outbox_as_one_post_with_its_key() {
        let body = filled().request();
        let e = entry("key-00000001".into(), &body);
        assert_eq!(
            (e.kind.as_str(), e.method.as_str(), e.path.as_str(), e.auth.as_ref()),
            ("callback", "POST", "callbacks", None)
        );
        assert_eq!(e.key, "key-00000001");
        let sent: NewCallback = serde_json::from_str(e.body.as_deref().unwrap()).unwrap();
        assert_eq!(sent, body);
    }

    #[test]
    fn sending_then_delivered_confirms_once() {
        let mut s = Submission::default();
        assert!(s.can_submit() && s.shows_form());
        s.submit("k1".into());
        assert!(!s.can_submit() && s.shows_form(), "the form stays, disabled, while the first try is out");
        assert_eq!(s.on_report("other", &Report::Done(RECEIPT.into())), None, "another entry's answer");
        let outcome = s.on_report("k1", &Report::Done(RECEIPT.into()));
        let Some(Outcome::Delivered(receipt)) = outcome else { panic!("{outcome:?}") };
        assert_eq!(
            (receipt.reference.as_str(), receipt.due_ms, receipt.token.as_deref()),
            ("PL-7K3Q9M", 5000, Some("tok"))
        );
        assert!(matches!(s, Submission::Delivered(_)) && !s.shows_form() && !s.can_submit());
        assert_eq!(s.key(), None);
        assert_eq!(s.on_report("k1", &Report::Done(RECEIPT.into())), None, "a late duplicate changes nothing");
    }

    #[test]
    fn offline_or_5xx_keeps_it_saved_and_a_later_delivery_confirms() {
        let mut s = Submission::default();
        s.submit("k1".into());
        assert_eq!(s.on_report("k1", &Report::Waiting(ApiFailure::Offline)), None);
        assert_eq!(s, Submission::Queued("k1".into(), ApiFailure::Offline));
        assert!(!s.shows_form() && !s.can_submit(), "no second request while one is saved");
        s.on_report("k1", &Report::Waiting(ApiFailure::Server(503)));
        let limited = ApiFailure::RateLimited { retry_after_secs: Some(30) };
        s.on_report("k1", &Report::Waiting(limited.clone()));
        assert_eq!(s, Submission::Queued("k1".into(), limited), "the last reason is kept, to explain a rate limit");
        assert!(matches!(s.on_report("k1", &Report::Done(RECEIPT.into())), Some(Outcome::Delivered(_))));
    }

    #[test]
    fn after_a_reload_the_queued_entry_is_picked_up() {
        let queued = entry("k1".into(), &filled().request());
        let mut s = Submission::restore(Some(&queued));
        assert_eq!(s.key(), Some("k1"));
        assert!(!s.shows_form());
        assert!(matches!(s.on_report("k1", &Report::Done(RECEIPT.into())), Some(Outcome::Delivered(_))));
        assert_eq!(Submission::restore(None), Submission::Idle);
        let rating = Entry::new("rating", "r1".into(), "POST", "ratings".into(), None, None);
        assert_eq!(Submission::restore(Some(&rating)), Submission::Idle, "only callback entries");
    }

    #[test]
    fn a_refusal_shows_the_form_again_with_the_reason() {
        let mut s = Submission::default();
        s.submit("k1".into());
        s.on_report("k1", &Report::Waiting(ApiFailure::Offline));
        let refused = ApiFailure::Rejected(ApiError::new(ErrorCode::ValidationFailed, "no"), 422);
        assert_eq!(s.on_report("k1", &Report::Dropped(refused.clone())), Some(Outcome::Refused(refused)));
        assert!(s.can_submit() && s.shows_form());
        s.submit("k2".into());
        assert_eq!(s.on_report("k2", &Report::Done("<html>".into())), Some(Outcome::Refused(ApiFailure::Server(200))));
        assert_eq!(s, Submission::Idle);
    }

    #[test]
    fn a_receipt_starts_the_follow_up() {
        let receipt: CallbackReceipt = serde_json::from_str(RECEIPT).unwrap();
        let f = follow_up_of(&receipt, 7);
        assert_eq!(
            (f.reference.as_str(), f.status, f.due_ms, f.created_ms),
            ("PL-7K3Q9M", CallbackStatus::Received, 5000, 7)
        );
        assert_eq!(
            status_text(Locale::en(), &f, |ms| format!("<{ms}>")),
            "Your callback PL-7K3Q9M is booked: we'll call you by <5000>."
        );
    }

    fn filled() -> CallbackForm {
        CallbackForm { name: " Anna ".into(), phone: "+371 2000 0000".into(), ..Default::default() }
    }

    #[test]
    fn slots_round_trip_through_the_select_value() {
        assert_eq!(parse_slot(""), None);
        assert_eq!(parse_slot("1893492900000"), Some(1_893_492_900_000));
        assert_eq!(parse_slot("-5"), None);
        assert_eq!(parse_slot("soon"), None);
    }

    #[test]
    fn the_follow_up_is_saved_and_read_back() {
        let raw = saved("PL-7K3Q9M", "tok_abc-123");
        assert_eq!(parse_saved(&raw), Some(("PL-7K3Q9M", "tok_abc-123")));
        assert_eq!(parse_saved("PL-7K3Q9M"), None);
        assert_eq!(parse_saved(" tok"), None);
    }

    #[test]
    fn follow_up_sentences() {
        let mut f = CallbackFollowUp {
            reference: "PL-7K3Q9M".into(),
            status: CallbackStatus::Received,
            due_ms: 5,
            preferred_ms: None,
            created_ms: 1,
            updated_ms: None,
        };
        let when = |ms: i64| format!("<{ms}>");
        assert_eq!(status_text(Locale::en(), &f, when), "Your callback PL-7K3Q9M is booked: we'll call you by <5>.");
        f.status = CallbackStatus::Scheduled;
        assert_eq!(status_text(Locale::en(), &f, when), "Your callback PL-7K3Q9M is scheduled for <5>.");
        f.status = CallbackStatus::Unreachable;
        assert!(status_text(Locale::en(), &f, when).contains("couldn't reach you"));
        assert!(is_final(CallbackStatus::Done) && is_final(CallbackStatus::Unreachable));
        assert!(is_final(CallbackStatus::Cancelled), "a cancelled request is shown once, then forgotten");
        assert!(!is_final(CallbackStatus::Scheduled));
    }

    #[test]
    fn topic_consent_and_slot_go_into_the_request() {
        let form = CallbackForm { topic: "Orders".into(), consent: true, preferred_ms: Some(7), ..filled() };
        let request = form.request();
        assert_eq!((request.topic.as_deref(), request.consent, request.preferred_ms), (Some("Orders"), true, Some(7)));
        assert_eq!(filled().request().topic, None);
    }

    #[test]
    fn a_required_consent_box_must_be_ticked() {
        let mut form = filled();
        assert_eq!(form.prepare(true, || unreachable!()), None);
        assert_eq!(form.error("consent"), Some(FieldErrorCode::Required));
        assert_eq!(form.other_errors().count(), 0, "shown next to the box");
        form.consent = true;
        form.edited("consent");
        assert!(form.prepare(true, || "key-00000001".into()).is_some());
        assert!(filled().prepare(false, || "key-00000002".into()).is_some(), "no box, nothing to tick");
    }

    #[test]
    fn request_trims_and_drops_empty_optionals() {
        let request = filled().request();
        assert_eq!(request.name, "Anna");
        assert_eq!(request.note, None);
        assert_eq!(request.website, None);
    }

    #[test]
    fn invalid_input_shows_field_errors_and_sends_nothing() {
        let mut form = CallbackForm { phone: "123".into(), ..Default::default() };
        assert_eq!(form.prepare(false, || unreachable!()), None);
        assert_eq!(form.error("name"), Some(FieldErrorCode::Required));
        assert_eq!(form.error("phone"), Some(FieldErrorCode::TooShort));
        form.edited("phone");
        assert_eq!(form.error("phone"), None);
        assert_eq!(form.error("name"), Some(FieldErrorCode::Required));
    }

    #[test]
    fn the_same_submission_reuses_its_key_a_changed_one_gets_a_new_key() {
        let mut form = filled();
        let (k1, _) = form.prepare(false, || "key-00000001".into()).unwrap();
        let (k2, _) = form.prepare(false, || "key-00000002".into()).unwrap();
        assert_eq!(k1, k2, "a retry reuses the key");
        form.note = "after 5pm please".into();
        let (k3, body) = form.prepare(false, || "key-00000003".into()).unwrap();
        assert_eq!(k3, "key-00000003");
        assert_eq!(body.note.as_deref(), Some("after 5pm please"));
    }

    #[test]
    fn success_clears_the_form_and_the_key() {
        let mut form = filled();
        form.prepare(false, || "key-00000001".into()).unwrap();
        form.succeeded();
        assert_eq!(form, CallbackForm::default());
    }

    #[test]
    fn server_errors_for_unshown_fields_are_general() {
        let mut form = filled();
        form.set_errors(FieldErrors(vec![
            FieldError { field: "phone".into(), code: FieldErrorCode::Invalid, message: String::new() },
            FieldError { field: "country".into(), code: FieldErrorCode::Invalid, message: String::new() },
        ]));
        assert_eq!(form.error("phone"), Some(FieldErrorCode::Invalid));
        assert_eq!(form.other_errors().collect::<Vec<_>>(), vec![("country", FieldErrorCode::Invalid)]);
    }
}
