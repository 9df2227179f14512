//! The "Call me" form as plain state: what the visitor typed, the field errors shown, and the
//! idempotency key of the submission under way. `callback_view` draws it.

use porchlight_protocol::{FieldErrorCode, FieldErrors, NewCallback};

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;
/// "Later today" is only offered while it still lands by this local hour.
const LATEST_LATER_TODAY_HOUR: i64 = 20;
const TOMORROW_MORNING_HOUR: i64 = 9;

/// When to call, as the visitor picks it in the select.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum When {
    #[default]
    Asap,
    LaterToday,
    TomorrowMorning,
}

impl When {
    pub fn as_str(self) -> &'static str {
        match self {
            When::Asap => "asap",
            When::LaterToday => "later-today",
            When::TomorrowMorning => "tomorrow-morning",
        }
    }

    pub fn parse(raw: &str) -> When {
        match raw {
            "later-today" => When::LaterToday,
            "tomorrow-morning" => When::TomorrowMorning,
            _ => When::Asap,
        }
    }

    /// The choices that make sense now. `utc_offset_min` is minutes *ahead* of UTC (the
    /// negation of JS `getTimezoneOffset()`).
    pub fn choices(now_ms: i64, utc_offset_min: i64) -> Vec<When> {
        let mut out = vec![When::Asap];
        if When::LaterToday.preferred_ms(now_ms, utc_offset_min).is_some() {
            out.push(When::LaterToday);
        }
        out.push(When::TomorrowMorning);
        out
    }

    /// The Unix ms to ask for; `None` is "as soon as possible" (and "later today" once it is too late).
    /// Later today: two hours from now, rounded up to the hour. Tomorrow morning: 09:00.
    pub fn preferred_ms(self, now_ms: i64, utc_offset_min: i64) -> Option<i64> {
        let offset_ms = utc_offset_min * 60_000;
        let local = now_ms + offset_ms;
        let local_midnight = local.div_euclid(DAY_MS) * DAY_MS;
        match self {
            When::Asap => None,
            When::LaterToday => {
                let target = (local + 2 * HOUR_MS).div_euclid(HOUR_MS) * HOUR_MS + HOUR_MS;
                (target <= local_midnight + LATEST_LATER_TODAY_HOUR * HOUR_MS).then_some(target - offset_ms)
            }
            When::TomorrowMorning => Some(local_midnight + DAY_MS + TOMORROW_MORNING_HOUR * HOUR_MS - offset_ms),
        }
    }
}

/// The fields shown with their own error line; any other field error is shown as a general one.
pub const SHOWN_FIELDS: [&str; 3] = ["name", "phone", "note"];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallbackForm {
    pub name: String,
    pub phone: String,
    pub when: When,
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
    pub fn request(&self, preferred_ms: Option<i64>) -> NewCallback {
        let optional = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        NewCallback {
            name: self.name.trim().to_owned(),
            phone: self.phone.trim().to_owned(),
            preferred_ms,
            note: optional(&self.note),
            website: optional(&self.website),
            // Later issues: country from the locale, the site's topics, its consent box.
            country: None,
            topic: None,
            consent: false,
        }
    }

    /// Validates and returns `(idempotency key, body)` to send, or shows the field errors.
    /// `new_key` is called only when this is a new submission.
    pub fn prepare(&mut self, preferred_ms: Option<i64>, new_key: impl FnOnce() -> String) -> Option<(String, NewCallback)> {
        let request = self.request(preferred_ms);
        if let Err(errors) = request.validate() {
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

    /// Errors for fields without their own error line (e.g. `preferred_ms`).
    pub fn other_errors(&self) -> impl Iterator<Item = (&str, FieldErrorCode)> {
        self.errors.0.iter().filter(|e| !SHOWN_FIELDS.contains(&e.field.as_str())).map(|e| (e.field.as_str(), e.code))
    }
}

#[cfg(test)]
mod tests {
    use porchlight_protocol::FieldError;

    use super::*;

    // 2030-01-01 is a Tuesday; 10:15 UTC.
    const MORNING_UTC: i64 = 1_893_492_900_000;

    fn filled() -> CallbackForm {
        CallbackForm { name: " Anna ".into(), phone: "+371 2000 0000".into(), ..Default::default() }
    }

    #[test]
    fn times_are_computed_in_the_visitors_zone() {
        // 10:15 UTC, visitor at UTC+2 (12:15 local): later today is 15:00 local = 13:00 UTC.
        let later = When::LaterToday.preferred_ms(MORNING_UTC, 120).unwrap();
        assert_eq!(later, 1_893_502_800_000);
        // Tomorrow 09:00 local = 07:00 UTC next day.
        let tomorrow = When::TomorrowMorning.preferred_ms(MORNING_UTC, 120).unwrap();
        assert_eq!(tomorrow, 1_893_567_600_000);
        assert_eq!(When::Asap.preferred_ms(MORNING_UTC, 120), None);
    }

    #[test]
    fn later_today_is_not_offered_in_the_evening() {
        // 10:15 UTC at UTC+9 is 19:15 local: two hours later is past 20:00.
        assert_eq!(When::choices(MORNING_UTC, 540), vec![When::Asap, When::TomorrowMorning]);
        assert_eq!(When::choices(MORNING_UTC, 0).len(), 3);
        // West of UTC the local day can be the previous one.
        assert!(When::TomorrowMorning.preferred_ms(MORNING_UTC, -600).unwrap() > MORNING_UTC);
    }

    #[test]
    fn when_round_trips_through_the_select_value() {
        for w in [When::Asap, When::LaterToday, When::TomorrowMorning] {
            assert_eq!(When::parse(w.as_str()), w);
        }
    }

    #[test]
    fn request_trims_and_drops_empty_optionals() {
        let request = filled().request(None);
        assert_eq!(request.name, "Anna");
        assert_eq!(request.note, None);
        assert_eq!(request.website, None);
    }

    #[test]
    fn invalid_input_shows_field_errors_and_sends_nothing() {
        let mut form = CallbackForm { phone: "123".into(), ..Default::default() };
        assert_eq!(form.prepare(None, || unreachable!()), None);
        assert_eq!(form.error("name"), Some(FieldErrorCode::Required));
        assert_eq!(form.error("phone"), Some(FieldErrorCode::TooShort));
        form.edited("phone");
        assert_eq!(form.error("phone"), None);
        assert_eq!(form.error("name"), Some(FieldErrorCode::Required));
    }

    #[test]
    fn the_same_submission_reuses_its_key_a_changed_one_gets_a_new_key() {
        let mut form = filled();
        let (k1, _) = form.prepare(None, || "key-00000001".into()).unwrap();
        let (k2, _) = form.prepare(None, || "key-00000002".into()).unwrap();
        assert_eq!(k1, k2, "a retry reuses the key");
        form.note = "after 5pm please".into();
        let (k3, body) = form.prepare(None, || "key-00000003".into()).unwrap();
        assert_eq!(k3, "key-00000003");
        assert_eq!(body.note.as_deref(), Some("after 5pm please"));
    }

    #[test]
    fn success_clears_the_form_and_the_key() {
        let mut form = filled();
        form.prepare(None, || "key-00000001".into()).unwrap();
        form.succeeded();
        assert_eq!(form, CallbackForm::default());
    }

    #[test]
    fn server_errors_for_unshown_fields_are_general() {
        let mut form = filled();
        form.set_errors(FieldErrors(vec![
            FieldError { field: "phone".into(), code: FieldErrorCode::Invalid, message: String::new() },
            FieldError { field: "preferred_ms".into(), code: FieldErrorCode::Invalid, message: String::new() },
        ]));
        assert_eq!(form.error("phone"), Some(FieldErrorCode::Invalid));
        assert_eq!(form.other_errors().collect::<Vec<_>>(), vec![("preferred_ms", FieldErrorCode::Invalid)]);
    }
}
