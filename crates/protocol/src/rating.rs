//! One-click ratings: `POST /v1/sites/{site}/ratings` with an `Idempotency-Key` header,
//! body [`NewRating`] → 201 [`RatingReceipt`] (200 with the original receipt on a replay).
//!
//! The first receipt carries a secret `token` and `changeable_until_ms`. Until then the visitor
//! may change the rating (or add a "Tell us more" comment) with
//! `PUT /v1/sites/{site}/ratings/{id}` (`Authorization: Bearer <token>`, body [`RatingChange`])
//! → 200 [`RatingReceipt`], or undo it with `DELETE …/ratings/{id}` → 204. Both update the one
//! stored row; after the window they answer 409 `change_window_closed`.
//!
//! A replay of the create (same `Idempotency-Key`) answers 200 with the rating as it is now
//! (its current value, `undone` if it was undone) and **without** `token` and
//! `changeable_until_ms`: only the token's hash is stored, so it cannot be repeated. Keep the
//! token from the first answer.
//!
//! Operators (`Authorization: Bearer <operator token>`): `GET …/ratings/summary?days=30` →
//! [`RatingSummary`], and `GET …/ratings.csv?days=N` → a CSV export.

use serde::{Deserialize, Serialize};

use crate::error::{FieldErrorCode, FieldErrors};
use crate::validate::optional_text;

pub const MAX_COMMENT_CHARS: usize = 2000;
pub const MAX_PAGE_PATH_CHARS: usize = 2048;
pub const MAX_PAGE_TITLE_CHARS: usize = 300;

/// The scale a site asks visitors to rate on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RatingScale {
    /// Three faces: bad / neutral / good (the default: two or three choices get answers).
    #[default]
    Faces3,
    /// Thumbs down / up.
    Thumbs2,
    /// One to five stars.
    Stars5,
}

impl RatingScale {
    pub fn as_str(self) -> &'static str {
        match self {
            RatingScale::Faces3 => "faces3",
            RatingScale::Thumbs2 => "thumbs2",
            RatingScale::Stars5 => "stars5",
        }
    }

    /// The values of this scale, worst first.
    pub fn values(self) -> &'static [RatingValue] {
        use RatingValue::*;
        match self {
            RatingScale::Faces3 => &[Bad, Neutral, Good],
            RatingScale::Thumbs2 => &[Bad, Good],
            RatingScale::Stars5 => &[Star1, Star2, Star3, Star4, Star5],
        }
    }
}

/// One rating value. On the wire a string, so an unknown value is a field error (422), not a
/// malformed body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RatingValue {
    Bad,
    Neutral,
    Good,
    #[serde(rename = "1")]
    Star1,
    #[serde(rename = "2")]
    Star2,
    #[serde(rename = "3")]
    Star3,
    #[serde(rename = "4")]
    Star4,
    #[serde(rename = "5")]
    Star5,
}

impl RatingValue {
    pub fn as_str(self) -> &'static str {
        match self {
            RatingValue::Bad => "bad",
            RatingValue::Neutral => "neutral",
            RatingValue::Good => "good",
            RatingValue::Star1 => "1",
            RatingValue::Star2 => "2",
            RatingValue::Star3 => "3",
            RatingValue::Star4 => "4",
            RatingValue::Star5 => "5",
        }
    }

    pub fn parse(raw: &str) -> Option<RatingValue> {
        [
            RatingValue::Bad,
            RatingValue::Neutral,
            RatingValue::Good,
            RatingValue::Star1,
            RatingValue::Star2,
            RatingValue::Star3,
            RatingValue::Star4,
            RatingValue::Star5,
        ]
        .into_iter()
        .find(|v| v.as_str() == raw)
    }

    /// Negative ratings get an apology and an offer of help.
    pub fn is_negative(self) -> bool {
        matches!(self, RatingValue::Bad | RatingValue::Star1 | RatingValue::Star2)
    }

    /// Counted as positive in summaries: good, 4 and 5 stars (neutral and 3 stars are not).
    pub fn is_positive(self) -> bool {
        matches!(self, RatingValue::Good | RatingValue::Star4 | RatingValue::Star5)
    }
}

/// What a rating is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RatingContextKind {
    /// The "How are we doing?" rating in the panel (the page is in [`NewRating::page`]).
    #[default]
    Standalone,
    /// The satisfaction prompt after a chat ended; `ref_id` is the conversation id.
    Chat,
    /// The satisfaction prompt after a callback was done; `ref_id` is the callback reference.
    Callback,
    /// A kind this version does not know; the server rejects it with 422 on `context.kind`.
    #[serde(other)]
    Unknown,
}

impl RatingContextKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RatingContextKind::Standalone => "standalone",
            RatingContextKind::Chat => "chat",
            RatingContextKind::Callback => "callback",
            RatingContextKind::Unknown => "unknown",
        }
    }
}

pub const MAX_CONTEXT_REF_CHARS: usize = 64;

/// `{"kind": "chat", "ref_id": "cv_…"}`. Absent means standalone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatingContext {
    #[serde(default)]
    pub kind: RatingContextKind,
    #[serde(default)]
    pub ref_id: Option<String>,
}

/// Where the visitor was when rating.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageContext {
    pub path: String,
    #[serde(default)]
    pub title: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRating {
    /// The scale's value as a string: `"bad" | "neutral" | "good"`, `"1"`–`"5"` for stars.
    pub value: String,
    #[serde(default)]
    pub scale: RatingScale,
    #[serde(default)]
    pub page: Option<PageContext>,
    #[serde(default)]
    pub comment: Option<String>,
    /// What is rated; absent means a standalone rating.
    #[serde(default)]
    pub context: Option<RatingContext>,
}

impl NewRating {
    /// Checks the fields; on success returns the parsed rating value.
    pub fn validate(&self) -> Result<RatingValue, FieldErrors> {
        let mut errors = FieldErrors::default();
        let value = RatingValue::parse(&self.value).filter(|v| self.scale.values().contains(v));
        if value.is_none() {
            errors.push(
                "value",
                FieldErrorCode::Unsupported,
                message!("value must be one of the scale's values: {}.", scale_list(self.scale)),
            );
        }
        if let Some(page) = &self.page {
            optional_text(&mut errors, "page.path", &page.path, MAX_PAGE_PATH_CHARS);
            if let Some(title) = &page.title {
                optional_text(&mut errors, "page.title", title, MAX_PAGE_TITLE_CHARS);
            }
        }
        if let Some(comment) = &self.comment {
            optional_text(&mut errors, "comment", comment, MAX_COMMENT_CHARS);
        }
        if let Some(context) = &self.context {
            if context.kind == RatingContextKind::Unknown {
                errors.push(
                    "context.kind",
                    FieldErrorCode::Unsupported,
                    text!("context.kind must be one of: standalone, chat, callback."),
                );
            }
            if let Some(ref_id) = &context.ref_id {
                optional_text(&mut errors, "context.ref_id", ref_id, MAX_CONTEXT_REF_CHARS);
            }
        }
        errors.into_result().map(|()| value.expect("checked above"))
    }
}

/// Body of `PUT /v1/sites/{site}/ratings/{id}`: the new value, and optionally a comment
/// ("Tell us more"). An absent `comment` keeps the stored one; `""` removes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatingChange {
    pub value: String,
    #[serde(default)]
    pub comment: Option<String>,
}

impl RatingChange {
    /// Checks the fields against the site's scale; on success returns the parsed value.
    pub fn validate(&self, scale: RatingScale) -> Result<RatingValue, FieldErrors> {
        let mut errors = FieldErrors::default();
        let value = RatingValue::parse(&self.value).filter(|v| scale.values().contains(v));
        if value.is_none() {
            errors.push(
                "value",
                FieldErrorCode::Unsupported,
                message!("value must be one of the scale's values: {}.", scale_list(scale)),
            );
        }
        if let Some(comment) = &self.comment {
            optional_text(&mut errors, "comment", comment, MAX_COMMENT_CHARS);
        }
        errors.into_result().map(|()| value.expect("checked above"))
    }
}

fn scale_list(scale: RatingScale) -> String {
    scale.values().iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatingReceipt {
    pub id: String,
    /// The current value (after any change).
    pub value: RatingValue,
    pub created_ms: i64,
    /// Bearer secret for changing or undoing this rating. Only in the first answer to the
    /// create (201); replays and the answers to a change carry `null`.
    #[serde(default)]
    pub token: Option<String>,
    /// Until when (Unix ms) the rating may be changed or undone. `null` on replays.
    #[serde(default)]
    pub changeable_until_ms: Option<i64>,
    /// True once the visitor undid the rating (a replay of the create reports it).
    #[serde(default)]
    pub undone: bool,
}

/// Counts of one rating value in a summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValueCount {
    pub value: RatingValue,
    pub count: u64,
}

/// One site-local calendar day of a summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DaySummary {
    /// `YYYY-MM-DD` in the site's time zone.
    pub date: String,
    pub total: u64,
    pub positive: u64,
    /// Every value of the site's scale, worst first (zeros included).
    pub counts: Vec<ValueCount>,
}

/// One page path of a summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageSummary {
    /// `null` for ratings without a page (e.g. after a chat).
    pub path: Option<String>,
    /// The page's title as of its latest rating that had one (`null`: none had a title). A
    /// path keeps one row however its title changed.
    #[serde(default)]
    pub title: Option<String>,
    pub total: u64,
    pub positive: u64,
    /// `positive / total`.
    pub share_positive: f64,
}

/// `GET /v1/sites/{site}/ratings/summary?days=30` (operator). Undone ratings are not counted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RatingSummary {
    pub site: String,
    pub scale: RatingScale,
    /// The window: `days` site-local calendar days ending today.
    pub days: u32,
    /// Start of the first day of the window (site-local midnight), Unix ms.
    pub from_ms: i64,
    /// The instant the summary was computed, Unix ms.
    pub to_ms: i64,
    pub total: u64,
    /// Good, 4 or 5 stars.
    pub positive: u64,
    /// `positive / total`; `null` when there are no ratings.
    pub share_positive: Option<f64>,
    /// Every value of the site's scale, worst first (zeros included). Ratings stored on
    /// another scale (the site changed scale) count in `total` but appear only when non-zero.
    pub counts: Vec<ValueCount>,
    /// Every day of the window, oldest first (days without ratings included).
    pub per_day: Vec<DaySummary>,
    /// Pages by number of ratings, most first, then by path.
    pub per_page: Vec<PageSummary>,
    /// The window's latest ratings that say more than a value (a comment, or the chat or callback
    /// they rate), newest first, at most [`RECENT_RATINGS`].
    #[serde(default)]
    pub recent: Vec<RecentRating>,
}

/// How many commented or linked ratings a summary lists.
pub const RECENT_RATINGS: usize = 20;

/// One rating with what it says and what it rates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecentRating {
    pub value: String,
    #[serde(default)]
    pub comment: Option<String>,
    /// `standalone`, `chat` or `callback`.
    pub context_kind: String,
    /// The conversation id or callback reference it rates.
    #[serde(default)]
    pub context_ref: Option<String>,
    #[serde(default)]
    pub page_path: Option<String>,
    pub created_ms: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rating(value: &str) -> NewRating {
        NewRating { value: value.into(), scale: RatingScale::Faces3, ..NewRating::default() }
    }

    #[test]
    fn values_of_the_scale_are_accepted() {
        assert_eq!(rating("good").validate(), Ok(RatingValue::Good));
        assert_eq!(rating("bad").validate(), Ok(RatingValue::Bad));
    }

    #[test]
    fn unknown_or_foreign_values_are_field_errors() {
        let errors = rating("excellent").validate().unwrap_err();
        assert_eq!(errors.get("value").unwrap().code, FieldErrorCode::Unsupported);
        // "5" exists, but not on the three-face scale.
        assert!(rating("5").validate().is_err());
    }

    #[test]
    fn comment_limit() {
        let mut r = rating("neutral");
        r.comment = Some("x".repeat(MAX_COMMENT_CHARS + 1));
        assert_eq!(r.validate().unwrap_err().get("comment").unwrap().code, FieldErrorCode::TooLong);
    }

    #[test]
    fn golden_new_rating() {
        let r: NewRating =
            serde_json::from_str(r#"{"value":"good","page":{"path":"/pricing","title":"Pricing"}}"#).unwrap();
        assert_eq!(r.scale, RatingScale::Faces3);
        assert_eq!(r.page.unwrap().path, "/pricing");
        assert_eq!(serde_json::to_string(&RatingValue::Star4).unwrap(), "\"4\"");
        assert_eq!(r.context, None);
    }

    #[test]
    fn golden_context_and_receipt() {
        let r: NewRating =
            serde_json::from_str(r#"{"value":"bad","context":{"kind":"chat","ref_id":"cv_1"}}"#).unwrap();
        assert_eq!(r.context, Some(RatingContext { kind: RatingContextKind::Chat, ref_id: Some("cv_1".into()) }));
        let unknown: NewRating = serde_json::from_str(r#"{"value":"bad","context":{"kind":"survey"}}"#).unwrap();
        let errors = unknown.validate().unwrap_err();
        assert_eq!(errors.get("context.kind").unwrap().code, FieldErrorCode::Unsupported);
        // An old server's receipt still reads.
        let old: RatingReceipt = serde_json::from_str(r#"{"id":"rt_1","value":"good","created_ms":5}"#).unwrap();
        assert_eq!((old.token, old.changeable_until_ms, old.undone), (None, None, false));
        let new = RatingReceipt {
            id: "rt_1".into(),
            value: RatingValue::Good,
            created_ms: 5,
            token: Some("t".into()),
            changeable_until_ms: Some(600_005),
            undone: false,
        };
        assert_eq!(
            serde_json::to_string(&new).unwrap(),
            r#"{"id":"rt_1","value":"good","created_ms":5,"token":"t","changeable_until_ms":600005,"undone":false}"#
        );
    }

    #[test]
    fn change_checks_the_scale_and_the_comment() {
        let change = RatingChange { value: "4".into(), comment: None };
        assert_eq!(change.validate(RatingScale::Stars5), Ok(RatingValue::Star4));
        let code =
            |c: &RatingChange, field: &str| c.validate(RatingScale::Faces3).unwrap_err().get(field).unwrap().code;
        assert_eq!(code(&change, "value"), FieldErrorCode::Unsupported);
        let long = RatingChange { value: "good".into(), comment: Some("x".repeat(MAX_COMMENT_CHARS + 1)) };
        assert_eq!(code(&long, "comment"), FieldErrorCode::TooLong);
    }
}
