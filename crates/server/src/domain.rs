//! Domain types. Requests are parsed into these once, at the edge ("parse, don't validate"): a
//! function that takes a [`ValidCallback`] never has to wonder whether the phone was checked.

pub mod accounts;
pub mod availability;
pub mod callbacks;
pub mod clock;
pub mod hours;
pub mod origin;
pub mod promises;
pub mod ratings;
pub mod retention;
pub mod webhooks;

use porchlight_protocol::validate::is_valid_key;
use porchlight_protocol::{
    FieldErrorCode, FieldErrors, NewCallback, NewConversation, NewMessage, NewRating, Promises, RatingChange,
    RatingContextKind, RatingScale, RatingValue, SiteConfig, SiteId, Theme,
};
use rand::Rng;
use sha2::{Digest, Sha256};

use self::availability::OperatorStatus;
use self::hours::BusinessHours;
use crate::domain::origin::Origin;

/// Why a request could not become a domain value. The app layer turns it into its `AppError`
/// (and so into the protocol's error JSON) without knowing the rules.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DomainError {
    #[error("missing or invalid Idempotency-Key header")]
    MissingIdempotencyKey,
    #[error("validation failed")]
    Validation(FieldErrors),
}

/// Default target kept rate of the promise ledger: 90%.
pub const DEFAULT_TARGET_KEPT_PERMILLE: u16 = 900;

/// A configured site: who may embed it and what its widget shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    pub id: SiteId,
    pub name: String,
    pub origins: Vec<Origin>,
    /// API origins its widget may talk to besides this server (`data-endpoint`); the frame's
    /// `connect-src` names only one of these.
    pub endpoints: Vec<Origin>,
    pub timezone: String,
    pub greeting: Option<String>,
    pub rating_scale: RatingScale,
    pub promises: Promises,
    /// Weekly business hours and closures in the site's time zone.
    pub hours: BusinessHours,
    /// Presence until an operator sets it: `Away` for configured sites unless they say
    /// otherwise, so nobody is claimed to be there when nobody is.
    pub presence_default: OperatorStatus,
    /// The kept rate the promise ledger holds the posted chat wait to, in thousandths (900: 90%).
    pub target_kept_permille: u16,
    /// How long after a rating the visitor may change or undo it, in seconds.
    pub rating_change_window_secs: u32,
    /// ISO 3166 alpha-2 country for phone numbers in national format, e.g. `"LV"`.
    pub default_country: Option<String>,
    /// Topics offered on the callback form; empty means no topic field.
    pub callback_topics: Vec<String>,
    /// When set, the callback form shows it beside a checkbox and `consent: true` is required.
    pub consent_text: Option<String>,
    /// Length of a bookable callback slot, in minutes.
    pub callback_slot_minutes: u32,
    /// Where accepted events are posted.
    pub webhooks: Vec<Webhook>,
    /// The launcher's visible text in the default texts; `None`: the widget's own word.
    pub launcher_text: Option<String>,
    /// The site's texts in other languages, in config order; the defaults above are what a
    /// visitor gets in any language not listed here.
    pub texts: Vec<SiteTexts>,
    /// Brand colours, text colours already computed; `None`: the widget's own.
    pub theme: Option<Theme>,
    /// How long its personal data is kept.
    pub retention: retention::Retention,
    /// Texts operators insert with `/shortcut` in the console.
    pub canned_replies: Vec<porchlight_protocol::CannedReply>,
}

/// A site's texts in one language (`[sites.texts.<lang>]`). A field left out falls back to the
/// site's default, so a site can translate just its greeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteTexts {
    /// A primary language subtag the widget speaks (see the `Language` of the app's locales).
    pub language: &'static str,
    pub greeting: Option<String>,
    /// Only with a default consent text: whether consent is required must not depend on the
    /// visitor's language.
    pub consent_text: Option<String>,
    /// Labels of the site's `callback_topics`, same length and order; empty: not translated.
    pub topic_labels: Vec<String>,
    pub launcher_text: Option<String>,
}

/// A webhook endpoint of a site. `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Webhook {
    pub url: url::Url,
    pub secret: String,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook").field("url", &self.url.as_str()).field("secret", &"<redacted>").finish()
    }
}

/// Ten minutes: long enough to notice a slip, short enough that reports settle.
pub const DEFAULT_RATING_CHANGE_WINDOW_SECS: u32 = 600;

impl Site {
    /// Which of the site's own texts fall back to its default (untranslated) ones in which of
    /// `languages`: (`greeting`, `consent_text`, `topics`, `launcher`) each with the languages
    /// lacking it. Empty when the site has no own texts, or translated them all.
    pub fn text_fallbacks<'a>(&self, languages: &[&'a str]) -> Vec<(&'static str, Vec<&'a str>)> {
        type Translated = fn(&SiteTexts) -> bool;
        let own: [(&'static str, bool, Translated); 4] = [
            ("greeting", self.greeting.is_some(), |t| t.greeting.is_some()),
            ("consent_text", self.consent_text.is_some(), |t| t.consent_text.is_some()),
            ("topics", !self.callback_topics.is_empty(), |t| !t.topic_labels.is_empty()),
            ("launcher", self.launcher_text.is_some(), |t| t.launcher_text.is_some()),
        ];
        own.into_iter()
            .filter(|(_, has, _)| *has)
            .map(|(name, _, translated)| {
                let missing = languages
                    .iter()
                    .copied()
                    .filter(|lang| *lang != "en")
                    .filter(|lang| !self.texts.iter().any(|t| t.language == *lang && translated(t)))
                    .collect();
                (name, missing)
            })
            .filter(|(_, missing): &(&str, Vec<&str>)| !missing.is_empty())
            .collect()
    }

    /// The built-in site used when no sites are configured: embeddable from this server's own
    /// host under both of its local names, so the demo page works out of the box.
    pub fn builtin_demo(port: u16) -> Site {
        Site {
            id: SiteId::parse("demo").expect("valid literal"),
            name: "Demo Shop".into(),
            origins: [format!("http://localhost:{port}"), format!("http://127.0.0.1:{port}")]
                .iter()
                .map(|o| Origin::parse(o).expect("valid literal"))
                .collect(),
            endpoints: Vec::new(),
            timezone: "Europe/Riga".into(),
            greeting: Some("Hi! How can we help?".into()),
            rating_scale: RatingScale::default(),
            promises: Promises::default(),
            hours: BusinessHours::weekdays_nine_to_six(
                jiff::tz::db().get("Europe/Riga").expect("Europe/Riga is in the bundled tz database"),
            ),
            // The demo has no operator console; it shows "open" during business hours.
            presence_default: OperatorStatus::Online,
            target_kept_permille: DEFAULT_TARGET_KEPT_PERMILLE,
            rating_change_window_secs: DEFAULT_RATING_CHANGE_WINDOW_SECS,
            default_country: Some("LV".into()),
            callback_topics: Vec::new(),
            consent_text: None,
            callback_slot_minutes: callbacks::DEFAULT_SLOT_MINUTES,
            retention: retention::Retention::default(),
            canned_replies: vec![porchlight_protocol::CannedReply {
                shortcut: "hours".into(),
                text: "We answer chats Monday to Friday, 9:00-18:00 (Riga time).".into(),
            }],
            webhooks: Vec::new(),
            launcher_text: None,
            // Shows off per-language texts and a right-to-left one; every other language
            // gets the English default above.
            texts: vec![
                SiteTexts {
                    language: "lv",
                    greeting: Some("Sveiki! Kā varam palīdzēt?".into()),
                    consent_text: None,
                    topic_labels: Vec::new(),
                    launcher_text: None,
                },
                SiteTexts {
                    language: "ar",
                    greeting: Some("مرحبًا! كيف يمكننا مساعدتك؟".into()),
                    consent_text: None,
                    topic_labels: Vec::new(),
                    launcher_text: None,
                },
            ],
            // A brand colour with white text and, for dark schemes, a light one with black
            // text: both automatic text colours on show.
            theme: Theme::new("#0f766e", Some("#2dd4bf")),
        }
    }

    pub fn allows(&self, origin: &Origin) -> bool {
        self.origins.contains(origin)
    }

    /// The texts for the first of `locales` (comma-separated BCP 47 tags, best first, as the
    /// loader sends them) that the site has texts for; `None`: use the defaults. Only the primary
    /// subtag counts: `lv-LV` and `lv` are the same texts.
    pub fn texts_for(&self, locales: &str) -> Option<&SiteTexts> {
        locales.split(',').find_map(|tag| {
            let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
            self.texts.iter().find(|t| t.language == primary)
        })
    }

    /// What the widget gets from `GET /v1/sites/{site}/config?locale=…`. Topics stay the
    /// canonical values (what the callback form submits and the server checks); translations
    /// travel beside them as labels.
    pub fn public_config(&self, locales: &str) -> SiteConfig {
        let texts = self.texts_for(locales);
        let pick = |translated: Option<&Option<String>>, default: &Option<String>| {
            translated.and_then(Option::clone).or_else(|| default.clone())
        };
        SiteConfig {
            site: self.id.clone(),
            name: self.name.clone(),
            greeting: pick(texts.map(|t| &t.greeting), &self.greeting),
            timezone: self.timezone.clone(),
            promises: self.promises.clone(),
            rating_scale: self.rating_scale,
            callback_topics: self.callback_topics.clone(),
            consent_text: pick(texts.map(|t| &t.consent_text), &self.consent_text),
            default_country: self.default_country.clone(),
            rating_change_window_secs: Some(self.rating_change_window_secs),
            callback_topic_labels: texts.map(|t| t.topic_labels.clone()).unwrap_or_default(),
            launcher_text: pick(texts.map(|t| &t.launcher_text), &self.launcher_text),
            locale: texts.map(|t| t.language.to_owned()),
            theme: self.theme.clone(),
        }
    }
}

/// The `Idempotency-Key` of a create request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(raw: Option<&str>) -> Result<IdempotencyKey, DomainError> {
        match raw {
            Some(key) if is_valid_key(key) => Ok(IdempotencyKey(key.to_owned())),
            _ => Err(DomainError::MissingIdempotencyKey),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Trims optional text and treats blank as absent, so "  " is never stored as a comment.
fn non_blank(text: Option<&str>) -> Option<String> {
    text.map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned)
}

/// A rating that passed the protocol's checks and matches the site's scale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidRating {
    pub value: RatingValue,
    pub page_path: Option<String>,
    pub page_title: Option<String>,
    pub comment: Option<String>,
    /// Never `Unknown`: that is rejected in parsing.
    pub context_kind: RatingContextKind,
    pub context_ref: Option<String>,
}

impl ValidRating {
    pub fn parse(new: NewRating, site: &Site) -> Result<ValidRating, DomainError> {
        let result = new.validate();
        // A widget built for another scale (or a stale config) must not store e.g. "4" on a
        // three-face site: the numbers would be meaningless in reports.
        if new.scale != site.rating_scale {
            let mut errors = result.err().unwrap_or_default();
            errors.push(
                "scale",
                FieldErrorCode::Unsupported,
                format!("This site rates on the {} scale.", scale_name(site.rating_scale)),
            );
            return Err(DomainError::Validation(errors));
        }
        let value = result.map_err(DomainError::Validation)?;
        let page = new.page.as_ref();
        let context = new.context.unwrap_or_default();
        Ok(ValidRating {
            value,
            page_path: non_blank(page.map(|p| p.path.as_str())),
            page_title: non_blank(page.and_then(|p| p.title.as_deref())),
            comment: non_blank(new.comment.as_deref()),
            context_kind: context.kind,
            context_ref: non_blank(context.ref_id.as_deref()),
        })
    }
}

/// What a visitor does to their rating within the change window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RatingUpdate {
    /// A new value; `comment` `None` keeps the stored comment, `Some(None)` removes it.
    Set {
        value: RatingValue,
        comment: Option<Option<String>>,
    },
    Undo,
}

impl RatingUpdate {
    pub fn parse(change: RatingChange, site: &Site) -> Result<RatingUpdate, DomainError> {
        let value = change.validate(site.rating_scale).map_err(DomainError::Validation)?;
        Ok(RatingUpdate::Set { value, comment: change.comment.as_deref().map(|c| non_blank(Some(c))) })
    }
}

pub fn scale_name(scale: RatingScale) -> &'static str {
    match scale {
        RatingScale::Faces3 => "faces3",
        RatingScale::Thumbs2 => "thumbs2",
        RatingScale::Stars5 => "stars5",
    }
}

/// A phone number in E.164 (`+` and digits), so operators can dial it and duplicates compare
/// equal. Never logged: its `Debug` shows only the last two digits.
#[derive(Clone, PartialEq, Eq)]
pub struct Phone(String);

impl std::fmt::Debug for Phone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tail = self.0.get(self.0.len().saturating_sub(2)..).unwrap_or("");
        write!(f, "Phone(+…{tail})")
    }
}

impl Phone {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidCallback {
    pub name: String,
    pub phone: Phone,
    pub preferred_ms: Option<i64>,
    pub note: Option<String>,
    pub topic: Option<String>,
    /// When the visitor consented (the request's time), if the site asks for consent.
    pub consented: bool,
}

impl ValidCallback {
    /// The protocol's light checks, then the site's rules: E.164 phone (country from the
    /// request's hint, else the site's default), topic from the site's list, consent when the
    /// site asks for it, a preferred time within business hours.
    pub fn parse(new: &NewCallback, site: &Site, now_ms: i64) -> Result<ValidCallback, DomainError> {
        let mut errors = new.validate().err().unwrap_or_default();
        let hint = new.country.as_deref().map(str::trim).filter(|c| !c.is_empty());
        let region = match hint {
            Some(raw) => {
                let parsed = callbacks::parse_country(raw);
                if parsed.is_none() {
                    let message = "country must be an ISO 3166 code such as \"LV\".";
                    errors.push("country", FieldErrorCode::Unsupported, message);
                }
                parsed
            }
            None => site.default_country.as_deref().and_then(callbacks::parse_country),
        };
        let mut phone = None;
        if errors.get("phone").is_none() {
            match callbacks::normalise_phone(&new.phone, region) {
                Ok(e164) => phone = Some(Phone(e164)),
                Err(e) => errors.push(e.field, e.code, e.message),
            }
        }
        let topic = non_blank(new.topic.as_deref());
        if let Some(t) = &topic {
            if !site.callback_topics.iter().any(|known| known == t) {
                errors.push("topic", FieldErrorCode::Unsupported, "topic must be one of the site's topics.");
            }
        }
        if site.consent_text.is_some() && !new.consent {
            errors.push("consent", FieldErrorCode::Required, "consent is required.");
        }
        if let (Some(preferred), None) = (new.preferred_ms, errors.get("preferred_ms")) {
            if let Err((code, message)) =
                callbacks::check_preferred(&site.hours, now_ms, preferred, site.callback_slot_minutes)
            {
                errors.push("preferred_ms", code, message);
            }
        }
        errors.into_result().map_err(DomainError::Validation)?;
        Ok(ValidCallback {
            name: new.name.trim().to_owned(),
            phone: phone.expect("no phone error means a phone"),
            preferred_ms: new.preferred_ms,
            note: non_blank(new.note.as_deref()),
            topic,
            consented: site.consent_text.is_some() && new.consent,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidMessage {
    pub client_id: String,
    pub body: String,
}

impl ValidMessage {
    pub fn parse(new: NewMessage) -> Result<ValidMessage, DomainError> {
        new.validate().map_err(DomainError::Validation)?;
        // Keep the body as typed apart from surrounding whitespace: line breaks inside matter.
        Ok(ValidMessage { client_id: new.client_id, body: new.body.trim().to_owned() })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidConversation {
    pub first: ValidMessage,
    pub page_path: Option<String>,
    pub page_title: Option<String>,
    pub locale: Option<String>,
    pub time_zone: Option<String>,
    /// Hash of the widget's create key, if it sent one.
    pub create_key_hash: Option<TokenHash>,
}

impl ValidConversation {
    pub fn parse(new: NewConversation) -> Result<ValidConversation, DomainError> {
        new.validate().map_err(DomainError::Validation)?;
        let page_path = non_blank(new.page.as_ref().map(|p| p.path.as_str()));
        if let Some(path) = &page_path {
            let mut errors = porchlight_protocol::FieldErrors::default();
            porchlight_protocol::validate::optional_text(
                &mut errors,
                "page.path",
                path,
                porchlight_protocol::rating::MAX_PAGE_PATH_CHARS,
            );
            errors.into_result().map_err(DomainError::Validation)?;
        }
        let page_title = non_blank(new.page.as_ref().and_then(|p| p.title.as_deref()))
            .map(|t| t.chars().take(porchlight_protocol::rating::MAX_PAGE_TITLE_CHARS).collect());
        Ok(ValidConversation {
            first: ValidMessage { client_id: new.message.client_id, body: new.message.body.trim().to_owned() },
            page_path,
            page_title,
            locale: new.locale,
            // Only a zone the server knows: the console computes local times from it.
            time_zone: new.time_zone.filter(|z| jiff::tz::db().get(z).is_ok()),
            create_key_hash: new.create_key.map(|key| Token::from_bearer(&key).hash()),
        })
    }
}

/// A bearer secret handed to a visitor once. Only its [`TokenHash`] is stored, so a copy of the
/// database does not let anyone read or write conversations. Its `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(…)")
    }
}

impl Token {
    /// 256 random bits, hex-encoded.
    pub fn generate() -> Token {
        let bytes: [u8; 32] = rand::thread_rng().gen();
        Token(hex(&bytes))
    }

    pub fn from_bearer(raw: &str) -> Token {
        Token(raw.to_owned())
    }

    pub fn hash(&self) -> TokenHash {
        TokenHash(hex(&Sha256::digest(self.0.as_bytes())))
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// SHA-256 of a [`Token`], hex. A plain hash is enough: tokens are long random strings, not
/// passwords, so there is nothing to brute-force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenHash(String);

impl TokenHash {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// SHA-256 (hex) of a request body as parsed (so whitespace and key order do not matter),
/// stored beside its Idempotency-Key to tell a true replay from a reused key.
pub fn request_fingerprint<T: serde::Serialize>(request: &T) -> String {
    hex(&Sha256::digest(serde_json::to_vec(request).unwrap_or_default()))
}

/// A callback reference the visitor can read out over the phone: `PL-` and six characters from
/// an alphabet without look-alikes (no 0/O, 1/I/L, U/V).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference(String);

const REFERENCE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTWXYZ";

impl Reference {
    pub fn generate() -> Reference {
        let mut rng = rand::thread_rng();
        let code: String =
            (0..6).map(|_| REFERENCE_ALPHABET[rng.gen_range(0..REFERENCE_ALPHABET.len())] as char).collect();
        Reference(format!("PL-{code}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A random row id with a readable prefix (`rt_`, `cb_`, `cv_`): 128 bits, so ids can be made
/// anywhere without coordination and cannot be guessed from one another.
pub fn new_id(prefix: &str) -> String {
    let bytes: [u8; 16] = rand::thread_rng().gen();
    format!("{prefix}_{}", hex(&bytes))
}

/// Whether two secrets (tokens, signatures, their hashes) are equal, in a time that does not
/// depend on where they first differ.
pub fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_secret_compares_whole_values() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abc", b"abd"));
        assert!(!same_secret(b"abc", b"abcd"), "a prefix is not the secret");
        assert!(!same_secret(b"", b"a"));
    }

    #[test]
    fn references_use_the_unambiguous_alphabet() {
        for _ in 0..200 {
            let r = Reference::generate();
            let code = r.as_str().strip_prefix("PL-").unwrap();
            assert_eq!(code.len(), 6);
            assert!(code.bytes().all(|b| REFERENCE_ALPHABET.contains(&b)), "{code}");
        }
    }

    #[test]
    fn token_hash_is_sha256_hex_and_differs_from_token() {
        let t = Token::from_bearer("abc");
        assert_eq!(t.hash().as_str(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(Token::generate().into_string().len(), 64);
    }

    #[test]
    fn idempotency_key_must_be_valid() {
        assert!(IdempotencyKey::parse(Some("abcdefgh")).is_ok());
        assert!(matches!(IdempotencyKey::parse(Some("short")), Err(DomainError::MissingIdempotencyKey)));
        assert!(matches!(IdempotencyKey::parse(None), Err(DomainError::MissingIdempotencyKey)));
    }

    #[test]
    fn config_texts_follow_the_first_language_the_site_has() {
        let mut site = Site::builtin_demo(8080);
        site.callback_topics = vec!["Orders".into(), "Returns".into()];
        site.consent_text = Some("You may call me.".into());
        site.texts[0].topic_labels = vec!["Pasūtījumi".into(), "Atgriešana".into()];
        site.texts[0].launcher_text = Some("Jautājiet".into());

        let lv = site.public_config("fr-FR, LV-lv,ar");
        assert_eq!(lv.locale.as_deref(), Some("lv"));
        assert_eq!(lv.greeting.as_deref(), Some("Sveiki! Kā varam palīdzēt?"));
        assert_eq!(lv.callback_topics, ["Orders", "Returns"], "the values stay canonical");
        assert_eq!(lv.callback_topic_labels, ["Pasūtījumi", "Atgriešana"]);
        assert_eq!(lv.topic_label("Returns"), "Atgriešana");
        assert_eq!(lv.launcher_text.as_deref(), Some("Jautājiet"));
        assert_eq!(lv.consent_text.as_deref(), Some("You may call me."), "not translated: the default");

        let ar = site.public_config("ar_EG");
        assert_eq!(ar.locale.as_deref(), Some("ar"));
        assert!(ar.callback_topic_labels.is_empty() && ar.launcher_text.is_none());

        for locales in ["", "fr", "en", " , ,", "xx-lv"] {
            let default = site.public_config(locales);
            assert_eq!(default.locale, None, "{locales:?}");
            assert_eq!(default.greeting.as_deref(), Some("Hi! How can we help?"), "{locales:?}");
            assert!(default.callback_topic_labels.is_empty());
        }
        let theme = site.public_config("").theme.unwrap();
        assert_eq!((theme.color.as_str(), theme.text_color.as_str()), ("#0f766e", "#ffffff"));
    }

    #[test]
    fn rating_on_another_scale_is_a_scale_field_error() {
        let site = Site::builtin_demo(8080);
        let new = NewRating { value: "4".into(), scale: RatingScale::Stars5, ..NewRating::default() };
        match ValidRating::parse(new, &site) {
            Err(DomainError::Validation(errors)) => assert!(errors.get("scale").is_some()),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn secrets_and_phones_do_not_show_in_debug_output() {
        let token = Token::from_bearer("s3cret-token-value");
        assert_eq!(format!("{token:?}"), "Token(…)");
        let phone = Phone("+37126123456".into());
        assert_eq!(format!("{phone:?}"), "Phone(+…56)");
        assert!(!format!("{:?}", Some(phone)).contains("2612"));
    }
}
