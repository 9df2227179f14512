//! One-click ratings: `POST /v1/sites/{site}/ratings` with an `Idempotency-Key` header,
//! body [`NewRating`] → 201 [`RatingReceipt`] (200 with the original receipt on a replay).

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
}

/// Where the visitor was when rating.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageContext {
    pub path: String,
    #[serde(default)]
    pub title: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRating {
    /// The scale's value as a string: `"bad" | "neutral" | "good"`, `"1"`–`"5"` for stars.
    pub value: String,
    #[serde(default)]
    pub scale: RatingScale,
    #[serde(default)]
    pub page: Option<PageContext>,
    #[serde(default)]
    pub comment: Option<String>,
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
                format!("value must be one of the scale's values: {}.", scale_list(self.scale)),
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
        errors.into_result().map(|()| value.expect("checked above"))
    }
}

fn scale_list(scale: RatingScale) -> String {
    scale.values().iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatingReceipt {
    pub id: String,
    pub value: RatingValue,
    pub created_ms: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rating(value: &str) -> NewRating {
        NewRating { value: value.into(), scale: RatingScale::Faces3, page: None, comment: None }
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
    }
}
