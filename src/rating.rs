//! One-click rating as plain state: what the visitor wants ([`RatingState::choose`],
//! [`RatingState::set_comment`], [`RatingState::undo`]) and what the server has ([`Record`]).
//! [`RatingState::next`] turns the difference into the one outbox request to make next:
//!
//! * nothing recorded yet → `POST ratings` (a new idempotency key; the outbox retries it as is);
//! * recorded, another value or a new comment → `PUT ratings/{id}` with the rating's token (the
//!   same row is updated, never a second one);
//! * recorded, undone by the visitor → `DELETE ratings/{id}`.
//!
//! One request at a time: clicks while one is on its way only move the target, so the server
//! sees at most one create and then the latest wish. The state is saved (a JSON array of
//! strings, [`RatingState::to_json`]) once the visitor has clicked, so a reload shows the
//! rating and finishes what was queued.

use porchlight_protocol::json::{FromJson, ToJson};
use porchlight_protocol::{
    rating::MAX_COMMENT_CHARS, ErrorCode, NewRating, PageContext, RatingChange, RatingContext, RatingContextKind,
    RatingReceipt, RatingScale, RatingValue,
};

use crate::api::ApiFailure;
use crate::outbox::{from_json_strings, non_empty, to_json_strings, Entry, Report};

/// The outbox kind of rating requests.
pub const KIND: &str = "rating";

/// [`MAX_COMMENT_CHARS`] as text, for the counter (no number formatting in the WASM).
pub const MAX_COMMENT_TEXT: &str = "2000";

/// A saved rating is forgotten this long after it was recorded, so a visitor who comes back
/// another day can rate again.
pub const FORGET_AFTER_MS: i64 = 86_400_000;

/// What the server confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub id: String,
    /// Bearer secret for changes (absent on a replayed create: then it cannot be changed).
    pub token: Option<String>,
    pub value: RatingValue,
    /// The comment the server has.
    pub comment: Option<String>,
    pub undone: bool,
    /// When it was recorded, by the visitor's clock.
    pub at_ms: i64,
    /// Until when it may be changed, by the visitor's clock (the server's window length from
    /// the moment the receipt arrived, so a wrong clock on either side does not matter).
    pub until_ms: i64,
}

/// The request on its way: its key and the comment it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub key: String,
    pub comment: Option<String>,
}

/// What the visitor should be told besides the choice itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Note {
    #[default]
    None,
    /// Queued: no connection (or the server is failing); the outbox keeps trying.
    Pending,
    /// A rate limit (still queued) or a refusal (dropped).
    Failed(ApiFailure),
}

/// What the host page hears about (`Porchlight('on', 'rating', fn)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmed {
    Created,
    Changed,
    Undone,
}

/// The one line the view says about the rating (in its live region), most urgent first.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    Failed(ApiFailure),
    Pending,
    CommentThanks,
    Thanks,
    /// A negative rating was recorded: the apology comes first, in a neutral tone (never a
    /// cheerful "thank you" for a complaint).
    Sorry,
    Undone,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RatingState {
    scale: RatingScale,
    /// Not saved: a create still queued carries it in its body.
    context: Option<RatingContext>,
    /// The host page the standalone rating was given on (not saved, like the context).
    page: Option<PageContext>,
    /// The value the visitor wants (`None`: none yet, or undone).
    chosen: Option<RatingValue>,
    /// The comment the visitor wants sent.
    comment: Option<String>,
    record: Option<Record>,
    sent: Option<Sent>,
    /// Not saved.
    note: Note,
}

/// Why a comment cannot be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentError {
    Empty,
    TooLong,
}

/// Checks a "Tell us more" comment against the protocol's limit.
pub fn check_comment(text: &str) -> Result<&str, CommentError> {
    let text = text.trim();
    match text.chars().count() {
        0 => Err(CommentError::Empty),
        n if n > MAX_COMMENT_CHARS => Err(CommentError::TooLong),
        _ => Ok(text),
    }
}

impl RatingState {
    /// A rating of what `context` names (`None`: the standalone "How are we doing?").
    pub fn new(scale: RatingScale, context: Option<RatingContext>) -> RatingState {
        RatingState { scale, context, ..RatingState::default() }
    }

    /// The same state rating what `context` names (a saved state does not keep its context:
    /// the prompt that shows it knows it).
    pub fn in_context(mut self, context: Option<RatingContext>) -> RatingState {
        self.context = context;
        self
    }

    pub fn context(&self) -> Option<&RatingContext> {
        self.context.as_ref()
    }

    /// The host page the visitor is on (path without query, and title), recorded with a
    /// standalone rating so operators see ratings per page. A rating of a chat or a callback
    /// is about that, not the page: it gets none. Only a create carries it.
    pub fn set_page(&mut self, path: &str, title: &str) {
        let standalone = self.context.as_ref().is_none_or(|c| c.kind == RatingContextKind::Standalone);
        self.page = (standalone && !path.trim().is_empty()).then(|| PageContext {
            path: path.trim().to_owned(),
            title: Some(title.trim().to_owned()).filter(|t| !t.is_empty()),
        });
    }

    pub fn scale(&self) -> RatingScale {
        self.scale
    }

    /// Whether the visitor has acted (there is something to save and to show).
    pub fn is_started(&self) -> bool {
        self.chosen.is_some() || self.record.is_some()
    }

    /// Follows the site's scale until the visitor has rated.
    pub fn set_scale(&mut self, scale: RatingScale) {
        if !self.is_started() {
            self.scale = scale;
        }
    }

    pub fn chosen(&self) -> Option<RatingValue> {
        self.chosen
    }

    pub fn note(&self) -> &Note {
        &self.note
    }

    pub fn record(&self) -> Option<&Record> {
        self.record.as_ref()
    }

    /// Whether a request is queued or on its way.
    pub fn is_sending(&self) -> bool {
        self.sent.is_some()
    }

    /// The choice can still be made or changed at `now`: nothing recorded yet, or within the
    /// window with a token.
    pub fn is_open(&self, now: i64) -> bool {
        self.record.as_ref().is_none_or(|r| r.token.is_some() && now < r.until_ms)
    }

    /// The server has the visitor's current choice: say "Thank you".
    pub fn is_recorded(&self) -> bool {
        self.sent.is_none() && self.record.as_ref().is_some_and(|r| !r.undone && self.chosen == Some(r.value))
    }

    /// A recorded negative rating: apologise and offer chat or a callback.
    pub fn offers_recovery(&self) -> bool {
        self.is_recorded() && self.chosen.is_some_and(RatingValue::is_negative)
    }

    /// The server has the comment the visitor sent last.
    pub fn comment_saved(&self) -> bool {
        self.comment.is_some() && self.is_recorded() && self.record.as_ref().is_some_and(|r| r.comment == self.comment)
    }

    /// The visitor undid the rating and the server confirmed it.
    pub fn is_undone(&self) -> bool {
        self.chosen.is_none() && self.sent.is_none() && self.record.as_ref().is_some_and(|r| r.undone)
    }

    /// What to say now, if anything.
    pub fn status(&self) -> Option<Status> {
        Some(match &self.note {
            Note::Failed(failure) => Status::Failed(failure.clone()),
            Note::Pending => Status::Pending,
            Note::None if self.comment_saved() => Status::CommentThanks,
            Note::None if self.offers_recovery() => Status::Sorry,
            Note::None if self.is_recorded() => Status::Thanks,
            Note::None if self.is_undone() => Status::Undone,
            Note::None => return None,
        })
    }

    /// The visitor picked `value`. `false` when nothing changes (same value, or too late).
    pub fn choose(&mut self, value: RatingValue, now: i64) -> bool {
        if self.chosen == Some(value) || !self.is_open(now) || !self.scale.values().contains(&value) {
            return false;
        }
        self.chosen = Some(value);
        self.note = Note::None;
        true
    }

    /// "Tell us more": the comment goes with the rating (or as a change of it).
    pub fn set_comment(&mut self, text: &str, now: i64) -> Result<(), CommentError> {
        let text = check_comment(text)?;
        if self.chosen.is_some() && self.is_open(now) {
            self.comment = Some(text.to_owned());
            self.note = Note::None;
        }
        Ok(())
    }

    /// Takes the rating back (within the window).
    pub fn undo(&mut self, now: i64) -> bool {
        if self.chosen.is_none() || !self.is_open(now) {
            return false;
        }
        self.chosen = None;
        self.note = Note::None;
        true
    }

    /// The request that brings the server to what the visitor wants, if one is needed and none
    /// is on its way. `new_key` makes an idempotency key.
    pub fn next(&mut self, now: i64, new_key: impl FnOnce() -> String) -> Option<Entry> {
        if self.sent.is_some() {
            return None;
        }
        let Some(record) = &self.record else {
            let value = self.chosen?;
            let body = NewRating {
                value: value.as_str().to_owned(),
                scale: self.scale,
                page: self.page.clone(),
                comment: self.comment.clone(),
                context: self.context.clone(),
            };
            return Some(self.sending(Entry::new(KIND, new_key(), "POST", "ratings".into(), None, json(&body))));
        };
        if !self.is_open(now) {
            // Too late for what is not through yet: show what the server has.
            self.settle();
            return None;
        }
        let new_comment = self.comment.as_ref().filter(|c| record.comment.as_ref() != Some(*c));
        let (method, body) = match self.chosen {
            None if record.undone => return None,
            None => ("DELETE", None),
            Some(value) if record.undone || value != record.value || new_comment.is_some() => {
                ("PUT", json(&RatingChange { value: value.as_str().to_owned(), comment: new_comment.cloned() }))
            }
            Some(_) => return None,
        };
        let mut path = String::from("ratings/");
        path.push_str(&record.id);
        let entry = Entry::new(KIND, new_key(), method, path, record.token.clone(), body);
        Some(self.sending(entry))
    }

    fn sending(&mut self, entry: Entry) -> Entry {
        self.sent = Some(Sent { key: entry.key.clone(), comment: self.comment.clone() });
        entry
    }

    /// After a reload: forgets the request on its way if the outbox no longer has it (it was
    /// finished or dropped while no one listened), so [`RatingState::next`] makes it again.
    pub fn resume(&mut self, queued: impl Fn(&str) -> bool) {
        if self.sent.as_ref().is_some_and(|s| !queued(&s.key)) {
            self.sent = None;
        }
    }

    /// The outcome of outbox entry `key`. Returns what to tell the host page.
    pub fn on_report(&mut self, key: &str, report: &Report, now: i64) -> Option<Confirmed> {
        if self.sent.as_ref().is_none_or(|s| s.key != key) {
            return None;
        }
        match report {
            Report::Waiting(failure @ ApiFailure::RateLimited { .. }) => self.note = Note::Failed(failure.clone()),
            Report::Waiting(_) => self.note = Note::Pending,
            Report::Dropped(failure) => {
                self.sent = None;
                let closed = matches!(failure, ApiFailure::Rejected(e, _)
                    if matches!(e.error.code, ErrorCode::ChangeWindowClosed | ErrorCode::NotFound | ErrorCode::Unauthorized));
                match (&mut self.record, closed) {
                    (Some(record), true) => {
                        record.until_ms = 0;
                        self.note = Note::None;
                    }
                    _ => self.note = Note::Failed(failure.clone()),
                }
                self.settle();
            }
            Report::Done(body) => {
                let sent = self.sent.take()?;
                self.note = Note::None;
                let Some(record) = &mut self.record else {
                    let receipt = RatingReceipt::from_json_str(body)?;
                    // A replay (the first answer was lost) carries no token: it stays as it is.
                    let until_ms = match (&receipt.token, receipt.changeable_until_ms) {
                        (Some(_), Some(until)) => now + (until - receipt.created_ms).max(0),
                        _ => 0,
                    };
                    self.record = Some(Record {
                        id: receipt.id,
                        token: receipt.token,
                        value: receipt.value,
                        comment: sent.comment,
                        undone: receipt.undone,
                        at_ms: now,
                        until_ms,
                    });
                    if !self.is_open(now) {
                        self.settle();
                    }
                    return Some(Confirmed::Created);
                };
                if body.trim().is_empty() {
                    record.undone = true;
                    return Some(Confirmed::Undone);
                }
                let receipt = RatingReceipt::from_json_str(body)?;
                record.value = receipt.value;
                record.undone = receipt.undone;
                if sent.comment.is_some() {
                    record.comment = sent.comment;
                }
                return Some(Confirmed::Changed);
            }
        }
        None
    }

    /// Back to what the server has (a refusal, or the window closed).
    fn settle(&mut self) {
        self.chosen = self.record.as_ref().filter(|r| !r.undone).map(|r| r.value);
        self.comment = self.record.as_ref().and_then(|r| r.comment.clone());
    }

    /// When the open window closes, if it is open and has an end.
    pub fn closes_at(&self) -> Option<i64> {
        self.record.as_ref().filter(|r| r.token.is_some()).map(|r| r.until_ms)
    }

    /// The saved form: a JSON array of strings (`""` for none) — scale, chosen value, comment,
    /// key and comment of the request on its way, then the record: id, token, value, comment,
    /// undone (`"1"`), recorded at, changeable until.
    pub fn to_json(&self) -> String {
        let text = |s: &Option<String>| s.clone().unwrap_or_default();
        let sent = self.sent.as_ref();
        let mut fields = vec![
            self.scale.as_str().to_owned(),
            self.chosen.map_or("", RatingValue::as_str).to_owned(),
            text(&self.comment),
            sent.map(|s| s.key.clone()).unwrap_or_default(),
            text(&sent.and_then(|s| s.comment.clone())),
        ];
        if let Some(r) = &self.record {
            fields.extend([
                r.id.clone(),
                text(&r.token),
                r.value.as_str().to_owned(),
                text(&r.comment),
                if r.undone { "1" } else { "" }.to_owned(),
                r.at_ms.to_string(),
                r.until_ms.to_string(),
            ]);
        }
        to_json_strings(&fields)
    }

    /// A saved state, unless unreadable or older than [`FORGET_AFTER_MS`].
    pub fn from_json(json: &str, now: i64) -> Option<RatingState> {
        let f = from_json_strings(json);
        let scale = [RatingScale::Faces3, RatingScale::Thumbs2, RatingScale::Stars5]
            .into_iter()
            .find(|s| f.first().map(String::as_str) == Some(s.as_str()))?;
        let record = match f.len() {
            5 => None,
            12 => Some(Record {
                id: f[5].clone(),
                token: non_empty(&f[6]),
                value: RatingValue::parse(&f[7])?,
                comment: non_empty(&f[8]),
                undone: f[9] == "1",
                at_ms: f[10].parse().ok()?,
                until_ms: f[11].parse().ok()?,
            }),
            _ => return None,
        };
        let sent = non_empty(&f[3]).map(|key| Sent { key, comment: non_empty(&f[4]) });
        if record.as_ref().is_some_and(|r| now - r.at_ms > FORGET_AFTER_MS) && sent.is_none() {
            return None;
        }
        Some(RatingState {
            scale,
            context: None,
            page: None,
            chosen: RatingValue::parse(&f[1]),
            comment: non_empty(&f[2]),
            record,
            sent,
            note: Note::None,
        })
    }
}

fn json(body: &impl ToJson) -> Option<String> {
    Some(body.to_json())
}

#[cfg(test)]
mod tests {
    use porchlight_protocol::ApiError;

    use super::*;

    const WINDOW: i64 = 600_000;

    fn keys() -> impl FnMut() -> String {
        let mut n = 0;
        move || {
            n += 1;
            format!("key-{n:08}")
        }
    }

    /// The server's first answer to a create at server time 5_000 (the visitor's clock differs).
    fn created(value: &str) -> Report {
        Report::Done(format!(
            r#"{{"id":"rt_1","value":"{value}","created_ms":5000,"token":"tok","changeable_until_ms":{},"undone":false}}"#,
            5_000 + WINDOW
        ))
    }

    fn changed(value: &str) -> Report {
        Report::Done(format!(
            r#"{{"id":"rt_1","value":"{value}","created_ms":5000,"token":null,"changeable_until_ms":null,"undone":false}}"#
        ))
    }

    fn body(entry: &Entry) -> serde_json::Value {
        serde_json::from_str(entry.body.as_deref().unwrap()).unwrap()
    }

    /// A state with `value` recorded at `now` = 1_000.
    fn recorded(value: RatingValue) -> RatingState {
        let mut state = RatingState::default();
        state.choose(value, 1_000);
        let create = state.next(1_000, || "key-create".into()).unwrap();
        assert_eq!(state.on_report(&create.key, &created(value.as_str()), 1_000), Some(Confirmed::Created));
        state
    }

    #[test]
    fn the_status_line_says_the_most_urgent_thing() {
        let mut state = recorded(RatingValue::Good);
        assert_eq!(state.status(), Some(Status::Thanks));
        state.set_comment("Nice", 2_000).unwrap();
        let put = state.next(2_000, || "k2".into()).unwrap();
        assert_eq!(state.status(), None, "nothing while it is on its way");
        state.on_report(&put.key, &Report::Waiting(ApiFailure::Offline), 2_000);
        assert_eq!(state.status(), Some(Status::Pending));
        state.on_report(&put.key, &changed("good"), 2_000);
        assert_eq!(state.status(), Some(Status::CommentThanks));
        state.undo(3_000);
        let delete = state.next(3_000, || "k3".into()).unwrap();
        state.on_report(&delete.key, &Report::Done(String::new()), 3_000);
        assert_eq!(state.status(), Some(Status::Undone));
        assert_eq!(RatingState::default().status(), None);
    }

    #[test]
    fn the_counter_names_the_protocol_limit() {
        assert_eq!(MAX_COMMENT_TEXT.parse::<usize>(), Ok(MAX_COMMENT_CHARS));
    }

    #[test]
    fn one_click_posts_once_and_is_thanked() {
        let mut state = RatingState::new(RatingScale::Faces3, None);
        let mut key = keys();
        assert!(!state.is_started() && state.next(0, &mut key).is_none(), "nothing before the click");
        assert!(state.choose(RatingValue::Good, 0));
        let create = state.next(0, &mut key).unwrap();
        assert_eq!((create.method.as_str(), create.path.as_str(), create.auth.as_ref()), ("POST", "ratings", None));
        assert_eq!(
            body(&create),
            serde_json::json!({"value":"good","scale":"faces3","page":null,"comment":null,"context":null})
        );
        assert_eq!(state.next(0, &mut key), None, "one request at a time");
        assert!(!state.is_recorded());

        assert_eq!(state.on_report(&create.key, &created("good"), 2_000), Some(Confirmed::Created));
        assert!(state.is_recorded() && !state.offers_recovery());
        assert_eq!(state.record().unwrap().until_ms, 2_000 + WINDOW, "the window by the visitor's clock");
        assert_eq!(state.next(2_000, &mut key), None, "the server has it");
        assert!(!state.choose(RatingValue::Good, 2_000), "the same value again changes nothing");
    }

    #[test]
    fn a_standalone_rating_records_the_host_page_and_a_contextual_one_does_not() {
        let mut state = RatingState::new(RatingScale::Faces3, None);
        state.set_page(" /pricing ", "Pricing — Shop");
        state.choose(RatingValue::Good, 0);
        let create = state.next(0, || "k1".into()).unwrap();
        assert_eq!(body(&create)["page"], serde_json::json!({"path":"/pricing","title":"Pricing — Shop"}));

        let mut untitled = RatingState::default();
        untitled.set_page("/help", "  ");
        untitled.choose(RatingValue::Bad, 0);
        assert_eq!(
            body(&untitled.next(0, || "k2".into()).unwrap())["page"],
            serde_json::json!({"path":"/help","title":null})
        );

        let mut nowhere = RatingState::default();
        nowhere.set_page("", "Shop");
        nowhere.choose(RatingValue::Bad, 0);
        assert_eq!(
            body(&nowhere.next(0, || "k3".into()).unwrap())["page"],
            serde_json::Value::Null,
            "no path, no page"
        );

        let context = RatingContext { kind: RatingContextKind::Callback, ref_id: Some("PL-7K3Q9M".into()) };
        let mut callback = RatingState::new(RatingScale::Faces3, Some(context));
        callback.set_page("/pricing", "Pricing");
        callback.choose(RatingValue::Good, 0);
        let create = callback.next(0, || "k4".into()).unwrap();
        assert_eq!(body(&create)["page"], serde_json::Value::Null, "a callback rating is about the call");
        assert_eq!(body(&create)["context"], serde_json::json!({"kind":"callback","ref_id":"PL-7K3Q9M"}));
    }

    #[test]
    fn a_saved_contextual_rating_gets_its_context_back_when_recreated() {
        let context = RatingContext { kind: RatingContextKind::Callback, ref_id: Some("PL-7K3Q9M".into()) };
        let mut state = RatingState::new(RatingScale::Faces3, Some(context.clone()));
        state.choose(RatingValue::Good, 0);
        state.next(0, || "k1".into()).unwrap();
        let mut restored = RatingState::from_json(&state.to_json(), 10).unwrap().in_context(Some(context.clone()));
        assert_eq!(restored.context(), Some(&context));
        restored.resume(|_| false);
        assert_eq!(body(&restored.next(10, || "k2".into()).unwrap())["context"]["ref_id"], "PL-7K3Q9M");
    }

    #[test]
    fn a_negative_rating_offers_recovery_once_recorded() {
        let mut state = RatingState::default();
        state.choose(RatingValue::Bad, 0);
        let create = state.next(0, || "k1".into()).unwrap();
        assert!(!state.offers_recovery(), "not before it is recorded");
        state.on_report(&create.key, &created("bad"), 0);
        assert!(state.offers_recovery());
        assert_eq!(state.status(), Some(Status::Sorry), "a complaint is met with an apology, not thanks");
        let mut stars = RatingState::new(RatingScale::Stars5, None);
        assert!(!stars.choose(RatingValue::Good, 0), "not a value of this scale");
        assert!(stars.choose(RatingValue::Star2, 0));
    }

    #[test]
    fn offline_it_waits_in_the_outbox_and_says_so() {
        let mut state = RatingState::default();
        state.choose(RatingValue::Neutral, 0);
        let create = state.next(0, || "k1".into()).unwrap();
        state.on_report("k1", &Report::Waiting(ApiFailure::Offline), 0);
        assert_eq!(state.note(), &Note::Pending);
        assert_eq!(state.chosen(), Some(RatingValue::Neutral), "the choice stays checked");
        let limited = ApiFailure::RateLimited { retry_after_secs: Some(12) };
        state.on_report("k1", &Report::Waiting(limited.clone()), 0);
        assert_eq!(state.note(), &Note::Failed(limited));
        state.on_report("other", &created("bad"), 0);
        assert!(state.record().is_none(), "answers to other entries are ignored");
        state.on_report(&create.key, &created("neutral"), 0);
        assert_eq!(state.note(), &Note::None);
        assert!(state.is_recorded());
    }

    #[test]
    fn a_change_within_the_window_updates_the_same_rating() {
        let mut state = recorded(RatingValue::Good);
        assert!(state.choose(RatingValue::Bad, 5_000));
        let change = state.next(5_000, || "key-change".into()).unwrap();
        assert_eq!((change.method.as_str(), change.path.as_str()), ("PUT", "ratings/rt_1"));
        assert_eq!(change.auth.as_deref(), Some("tok"));
        assert_eq!(body(&change), serde_json::json!({"value":"bad","comment":null}));
        assert!(!state.is_recorded(), "not thanked again until confirmed");
        assert_eq!(state.on_report(&change.key, &changed("bad"), 5_100), Some(Confirmed::Changed));
        assert!(state.is_recorded() && state.offers_recovery());
        assert_eq!(state.record().unwrap().until_ms, 1_000 + WINDOW, "a change does not extend the window");
    }

    #[test]
    fn clicks_while_a_request_is_on_its_way_only_move_the_target() {
        let mut state = RatingState::default();
        state.choose(RatingValue::Good, 0);
        let create = state.next(0, || "k1".into()).unwrap();
        state.choose(RatingValue::Bad, 10);
        state.choose(RatingValue::Neutral, 20);
        assert_eq!(state.next(20, || unreachable!()), None);
        state.on_report(&create.key, &created("good"), 30);
        assert!(!state.is_recorded(), "the server has good, the visitor wants neutral");
        let change = state.next(30, || "k2".into()).unwrap();
        assert_eq!(body(&change)["value"], "neutral");
    }

    #[test]
    fn a_comment_is_sent_with_the_token_and_confirmed() {
        let mut state = recorded(RatingValue::Neutral);
        assert_eq!(state.set_comment("   ", 2_000), Err(CommentError::Empty));
        let long = "é".repeat(MAX_COMMENT_CHARS + 1);
        assert_eq!(state.set_comment(&long, 2_000), Err(CommentError::TooLong));
        assert_eq!(
            check_comment(&"é".repeat(MAX_COMMENT_CHARS)).map(str::len),
            Ok(MAX_COMMENT_CHARS * 2),
            "characters, not bytes"
        );
        state.set_comment(" The checkout was slow. ", 2_000).unwrap();
        let put = state.next(2_000, || "k2".into()).unwrap();
        assert_eq!(body(&put), serde_json::json!({"value":"neutral","comment":"The checkout was slow."}));
        assert!(!state.comment_saved());
        state.on_report("k2", &changed("neutral"), 2_100);
        assert!(state.comment_saved() && state.is_recorded());
        assert_eq!(state.next(2_100, || unreachable!()), None, "the same comment is not sent twice");
    }

    #[test]
    fn a_comment_typed_before_the_create_goes_with_it() {
        let mut state = RatingState::default();
        state.choose(RatingValue::Good, 0);
        state.set_comment("Lovely", 0).unwrap();
        let create = state.next(0, || "k1".into()).unwrap();
        assert_eq!(body(&create)["comment"], "Lovely");
        state.on_report("k1", &created("good"), 0);
        assert!(state.comment_saved());
        assert_eq!(state.next(0, || unreachable!()), None);
    }

    #[test]
    fn undo_deletes_and_a_new_click_brings_it_back_as_a_change() {
        let mut state = recorded(RatingValue::Good);
        assert!(state.undo(2_000));
        let delete = state.next(2_000, || "k2".into()).unwrap();
        assert_eq!(
            (delete.method.as_str(), delete.path.as_str(), delete.body.as_ref()),
            ("DELETE", "ratings/rt_1", None)
        );
        assert_eq!(state.on_report("k2", &Report::Done(String::new()), 2_100), Some(Confirmed::Undone));
        assert!(state.is_undone() && !state.is_recorded());
        assert_eq!(state.next(2_100, || unreachable!()), None);

        state.choose(RatingValue::Neutral, 3_000);
        let put = state.next(3_000, || "k3".into()).unwrap();
        assert_eq!((put.method.as_str(), body(&put)["value"].as_str()), ("PUT", Some("neutral")));
        state.on_report("k3", &changed("neutral"), 3_100);
        assert!(state.is_recorded() && !state.is_undone());
    }

    #[test]
    fn after_the_window_it_shows_the_recorded_choice_and_refuses_changes() {
        let mut state = recorded(RatingValue::Good);
        let end = 1_000 + WINDOW;
        assert!(state.is_open(end - 1) && !state.is_open(end));
        assert_eq!(state.closes_at(), Some(end));
        assert!(!state.choose(RatingValue::Bad, end));
        assert!(!state.undo(end));
        assert_eq!(state.chosen(), Some(RatingValue::Good));

        // A change queued offline that only comes through after the window: the server says 409.
        let mut state = recorded(RatingValue::Good);
        state.choose(RatingValue::Bad, 2_000);
        let put = state.next(2_000, || "k2".into()).unwrap();
        let closed = ApiFailure::Rejected(ApiError::new(ErrorCode::ChangeWindowClosed, "too late"), 409);
        state.on_report(&put.key, &Report::Dropped(closed), 3_000);
        assert_eq!(state.chosen(), Some(RatingValue::Good), "back to what the server has");
        assert!(!state.is_open(3_000) && state.is_recorded());
        assert_eq!(state.note(), &Note::None);

        // And one still waiting locally when the window ends is given up.
        let mut state = recorded(RatingValue::Good);
        state.choose(RatingValue::Bad, 2_000);
        assert_eq!(state.next(end, || unreachable!()), None);
        assert_eq!(state.chosen(), Some(RatingValue::Good));
    }

    #[test]
    fn a_refused_create_unchecks_the_choice_and_says_why() {
        let mut state = RatingState::default();
        state.choose(RatingValue::Good, 0);
        let create = state.next(0, || "k1".into()).unwrap();
        let refused = ApiFailure::Rejected(ApiError::new(ErrorCode::ValidationFailed, "no"), 422);
        state.on_report(&create.key, &Report::Dropped(refused.clone()), 0);
        assert_eq!(state.chosen(), None);
        assert_eq!(state.note(), &Note::Failed(refused));
        state.choose(RatingValue::Good, 10);
        assert_eq!(state.next(10, || "k2".into()).unwrap().key, "k2", "a new click is a new request");
    }

    #[test]
    fn a_replayed_create_without_a_token_cannot_be_changed() {
        let mut state = RatingState::default();
        state.choose(RatingValue::Bad, 0);
        state.next(0, || "k1".into());
        state.choose(RatingValue::Good, 1);
        let replay = Report::Done(
            r#"{"id":"rt_1","value":"bad","created_ms":5,"token":null,"changeable_until_ms":null,"undone":false}"#
                .into(),
        );
        assert_eq!(state.on_report("k1", &replay, 2), Some(Confirmed::Created));
        assert!(!state.is_open(2));
        assert_eq!(state.chosen(), Some(RatingValue::Bad), "shows what the server has");
        assert_eq!(state.next(2, || unreachable!()), None);
    }

    #[test]
    fn the_state_survives_a_reload_and_finishes_what_was_queued() {
        let mut state = RatingState::new(RatingScale::Thumbs2, None);
        state.choose(RatingValue::Good, 0);
        let create = state.next(0, || "k1".into()).unwrap();
        let json = state.to_json();
        assert_eq!(json, r#"["thumbs2","good","","k1",""]"#);
        let mut restored = RatingState::from_json(&json, 10).unwrap();
        assert_eq!(restored, state);
        assert_eq!(restored.scale(), RatingScale::Thumbs2);
        restored.set_scale(RatingScale::Faces3);
        assert_eq!(restored.scale(), RatingScale::Thumbs2, "the scale is fixed once rated");
        // The outbox still has the create: wait for it.
        restored.resume(|key| key == create.key);
        assert_eq!(restored.next(10, || unreachable!()), None);
        restored.on_report(&create.key, &created("good"), 20);
        assert!(restored.is_recorded());

        // Had the outbox lost it, the create is made again.
        let mut lost = RatingState::from_json(&json, 10).unwrap();
        lost.resume(|_| false);
        assert_eq!(lost.next(10, || "k9".into()).unwrap().method, "POST");

        let mut full = recorded(RatingValue::Good);
        full.choose(RatingValue::Bad, 2_000);
        full.set_comment("Slow \"checkout\"", 2_000).unwrap();
        full.next(2_000, || "k2".into());
        let json = full.to_json();
        assert_eq!(
            json,
            r#"["faces3","bad","Slow \"checkout\"","k2","Slow \"checkout\"","rt_1","tok","good","","","1000","601000"]"#
        );
        assert_eq!(RatingState::from_json(&json, 2_000), Some(full));

        let day_old = recorded(RatingValue::Good).to_json();
        assert!(RatingState::from_json(&day_old, 1_000 + FORGET_AFTER_MS).is_some());
        assert!(RatingState::from_json(&day_old, 1_001 + FORGET_AFTER_MS).is_none(), "forgotten after a day");
        assert!(RatingState::from_json("{", 0).is_none());
        assert!(RatingState::from_json(r#"["faces3","good"]"#, 0).is_none());
        assert!(RatingState::from_json(r#"["stars9","","","",""]"#, 0).is_none());
    }
}
