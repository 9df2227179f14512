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
            return Err(text!("a site id has 1 to 64 characters"));
        }
        if !raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
            return Err(text!("a site id uses only a-z, 0-9 and '-'"));
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
    /// Display labels of `callback_topics` in [`SiteConfig::locale`], same length and order.
    /// Empty: show the values themselves. The form still submits the value, never the label.
    #[serde(default)]
    pub callback_topic_labels: Vec<String>,
    /// The launcher's visible text chosen by the site, replacing the widget's own word.
    #[serde(default)]
    pub launcher_text: Option<String>,
    /// The language (primary subtag, e.g. `"lv"`) of `greeting`, `consent_text`, the topic labels
    /// and `launcher_text`, when the site has texts in one the request asked for; `None`: the
    /// site's default texts, in whatever language the site wrote them.
    #[serde(default)]
    pub locale: Option<String>,
    /// The site's brand colours; `None`: the widget's own.
    #[serde(default)]
    pub theme: Option<Theme>,
}

impl SiteConfig {
    /// What to show for the topic `value` (one of `callback_topics`): its label in the chosen
    /// language, else the value.
    pub fn topic_label<'a>(&'a self, value: &'a str) -> &'a str {
        self.callback_topics
            .iter()
            .position(|t| t == value)
            .and_then(|i| self.callback_topic_labels.get(i))
            .map_or(value, String::as_str)
    }
}

/// A site's brand colours, each `#rrggbb` with the text colour to put on it (`#ffffff` or
/// `#000000`, whichever contrasts more: see [`crate::color::text_color_for`], always ≥ 4.5:1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Theme {
    /// The brand colour: launcher, header and primary buttons.
    pub color: String,
    pub text_color: String,
    /// The colour to use instead under `prefers-color-scheme: dark`, when the site set one (a
    /// near-black brand colour would vanish into a dark panel); `None`: `color` in both schemes.
    #[serde(default)]
    pub dark_color: Option<String>,
    /// The text colour on `dark_color`; set exactly when `dark_color` is.
    #[serde(default)]
    pub dark_text_color: Option<String>,
}

impl Theme {
    /// The theme for a brand colour and an optional dark-scheme one, text colours computed.
    /// `None` when either is not `#rrggbb`.
    pub fn new(color: &str, dark_color: Option<&str>) -> Option<Theme> {
        let pair = |raw: &str| {
            let rgb = crate::color::parse_hex_color(raw)?;
            Some((crate::color::format_hex_color(rgb), crate::color::text_color_for(rgb).to_owned()))
        };
        let (color, text_color) = pair(color)?;
        let (dark_color, dark_text_color) = match dark_color {
            Some(raw) => {
                let (c, t) = pair(raw)?;
                (Some(c), Some(t))
            }
            None => (None, None),
        };
        Some(Theme { color, text_color, dark_color, dark_text_color })
    }
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
        // Fields added later default when an older server leaves them out.
        assert!(config.callback_topic_labels.is_empty());
        assert_eq!((config.launcher_text, config.locale, config.theme), (None, None, None));
    }

    #[test]
    fn golden_site_config_with_texts_and_theme() {
        let json = r##"{"site":"demo","name":"Demo Shop","greeting":"Sveiki!","timezone":"Europe/Riga",
            "promises":{"chat_first_reply_secs":300,"callback_business_hours":2,"message_reply_business_days":1},
            "callback_topics":["Orders","Returns"],"callback_topic_labels":["Pasūtījumi","Atgriešana"],
            "launcher_text":"Jautājiet mums","locale":"lv",
            "theme":{"color":"#1d4ed8","text_color":"#ffffff","dark_color":null,"dark_text_color":null}}"##;
        let config: SiteConfig = serde_json::from_str(json).unwrap();
        assert_eq!(config.locale.as_deref(), Some("lv"));
        assert_eq!(config.launcher_text.as_deref(), Some("Jautājiet mums"));
        assert_eq!(config.topic_label("Returns"), "Atgriešana");
        assert_eq!(config.topic_label("Other"), "Other");
        assert_eq!(config.theme, Theme::new("#1D4ED8", None));
        // A theme from a server without dark colours.
        let theme: Theme = serde_json::from_str(r##"{"color":"#fbbf24","text_color":"#000000"}"##).unwrap();
        assert_eq!(theme.dark_color, None);
    }

    #[test]
    fn theme_computes_text_colours_and_refuses_bad_colours() {
        let theme = Theme::new("#0F766E", Some("#2dd4bf")).unwrap();
        assert_eq!(theme.color, "#0f766e");
        assert_eq!(theme.text_color, "#ffffff");
        assert_eq!(theme.dark_color.as_deref(), Some("#2dd4bf"));
        assert_eq!(theme.dark_text_color.as_deref(), Some("#000000"));
        assert_eq!(Theme::new("#fbbf24", None).unwrap().text_color, "#000000");
        assert_eq!(Theme::new("blue", None), None);
        assert_eq!(Theme::new("#fbbf24", Some("#000")), None);
    }
}
