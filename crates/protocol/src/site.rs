//! Site identity and the public configuration the widget fetches:
//! `GET /v1/sites/{site}/config` → [`SiteConfig`].

use serde::{Deserialize, Serialize};

use crate::rating::RatingScale;

/// A site id as it appears in `data-site` and in API paths: 1–64 characters of `[a-z0-9-]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SiteId(String);

impl SiteId {
    pub fn parse(raw: &str) -> Result<SiteId, &'static str> {
        if raw.is_empty() || raw.len() > 64 {
            return Err("a site id has 1 to 64 characters");
        }
        if !raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
            return Err("a site id uses only a-z, 0-9 and '-'");
        }
        Ok(SiteId(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for SiteId {
    type Error = &'static str;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        SiteId::parse(&value)
    }
}

impl From<SiteId> for String {
    fn from(id: SiteId) -> String {
        id.0
    }
}

impl std::fmt::Display for SiteId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The waits a site promises to its visitors, per channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Promises {
    /// First reply in chat, in seconds (e.g. 300 for "about 5 minutes").
    pub chat_first_reply_secs: u32,
    /// A requested callback happens within this many business hours.
    pub callback_business_hours: u32,
    /// A left message is answered within this many business days.
    pub message_reply_business_days: u32,
}

impl Default for Promises {
    fn default() -> Self {
        Promises { chat_first_reply_secs: 300, callback_business_hours: 2, message_reply_business_days: 1 }
    }
}

/// What the widget needs to draw the panel for one site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteConfig {
    pub site: SiteId,
    /// The site's display name ("Demo Shop").
    pub name: String,
    /// An optional greeting shown at the top of the panel, in the site's default language.
    #[serde(default)]
    pub greeting: Option<String>,
    /// The site's IANA time zone, e.g. `"Europe/Riga"`.
    pub timezone: String,
    pub promises: Promises,
    #[serde(default)]
    pub rating_scale: RatingScale,
    /// Topics a visitor may pick on the callback form (empty: no topic field).
    #[serde(default)]
    pub callback_topics: Vec<String>,
    /// Consent text shown beside a checkbox on the callback form; when set, `consent: true` is
    /// required.
    #[serde(default)]
    pub consent_text: Option<String>,
    /// ISO 3166 alpha-2 country for phone numbers typed in national format, e.g. `"LV"`.
    #[serde(default)]
    pub default_country: Option<String>,
    /// Seconds a rating may be changed or undone after it is made.
    #[serde(default)]
    pub rating_change_window_secs: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_ids() {
        assert!(SiteId::parse("demo-shop-1").is_ok());
        assert!(SiteId::parse("").is_err());
        assert!(SiteId::parse("Demo").is_err());
        assert!(SiteId::parse("../etc").is_err());
        assert!(serde_json::from_str::<SiteId>("\"UPPER\"").is_err());
    }

    /// Pins the wire format: a widget built today must read a config served tomorrow.
    #[test]
    fn golden_site_config() {
        let json = r#"{"site":"demo","name":"Demo Shop","greeting":null,"timezone":"Europe/Riga",
            "promises":{"chat_first_reply_secs":300,"callback_business_hours":2,"message_reply_business_days":1},
            "rating_scale":"faces3","a_future_field":true}"#;
        let config: SiteConfig = serde_json::from_str(json).unwrap();
        assert_eq!(config.site.as_str(), "demo");
        assert_eq!(config.promises, Promises::default());
        assert_eq!(config.rating_scale, RatingScale::Faces3);
    }
}
