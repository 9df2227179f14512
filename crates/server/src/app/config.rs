//! Settings, from three layers: built-in defaults < the TOML file < environment and flags.
//! clap reads both the flags and their `PORCHLIGHT_*` variables, so a flag beats its variable.
//! Everything is checked here, at start-up, so a typo fails loudly instead of at the first
//! visitor's request.

use std::collections::{BTreeMap, HashSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use porchlight_protocol::{Promises, RatingScale, SiteId, Theme};
use serde::Deserialize;
use url::Url;

use crate::app::locales::Language;
use crate::domain::availability::OperatorStatus;
use crate::domain::callbacks::{parse_country, DEFAULT_SLOT_MINUTES};
use crate::domain::clock::{SharedClock, ShiftedClock, SystemClock};
use crate::domain::hours::{BusinessHours, Closure, DayRange, DAY_NAMES};
use crate::domain::origin::Origin;
use crate::domain::retention::{self, Retention};
use crate::domain::webhooks::DeliveryPolicy;
use crate::domain::{Site, SiteTexts, Webhook, DEFAULT_RATING_CHANGE_WINDOW_SECS, DEFAULT_TARGET_KEPT_PERMILLE};

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATABASE: &str = "porchlight.db";
pub const DEFAULT_ASSETS: &str = "target/dist";
pub const DEFAULT_WRITES_PER_MINUTE: u32 = 60;
/// Shorter operator tokens are refused: the token is all that stands between the internet and
/// a site's presence switch.
pub const MIN_OPERATOR_TOKEN_CHARS: usize = 16;
/// Longest launcher text: the launcher is one line on a phone, beside an icon and a badge.
pub const MAX_LAUNCHER_CHARS: usize = 40;

/// Options of `porchlight serve`. No clap defaults: a flag that was not given must not hide the
/// config file's value, so defaults are applied in [`Settings::load`].
#[derive(Debug, Clone, Default, Args)]
pub struct ServeArgs {
    /// TOML config file (listen, database, assets, public_url, operator_token, [rate_limit],
    /// [[sites]] with [sites.promises], [sites.hours], [sites.texts.<lang>] and [sites.theme]).
    /// Without one, a built-in site `demo` is served for this server's own origins.
    #[arg(long, short = 'c', value_name = "FILE", env = "PORCHLIGHT_CONFIG", global = true)]
    pub config: Option<PathBuf>,

    /// Address to listen on [default: 127.0.0.1:8080]. Port 0 picks a free port; the actual
    /// port is used everywhere (printed URLs, default public URL, built-in site origins).
    #[arg(long, value_name = "ADDR", env = "PORCHLIGHT_LISTEN", global = true)]
    pub listen: Option<String>,

    /// SQLite database file, created on first run [default: porchlight.db].
    #[arg(long, value_name = "PATH", env = "PORCHLIGHT_DB", global = true)]
    pub db: Option<PathBuf>,

    /// Directory of the built widget (porchlight.js, frame.html, assets/) [default: target/dist].
    #[arg(long, value_name = "DIR", env = "PORCHLIGHT_ASSETS", global = true)]
    pub assets: Option<PathBuf>,

    /// URL under which browsers reach this server; used in the embed snippet and the demo page
    /// [default: http://127.0.0.1:PORT].
    #[arg(long, value_name = "URL", env = "PORCHLIGHT_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// Bearer token operators use for `PUT /v1/sites/{site}/presence`, the rating reports and the
    /// callback queue (at least 16 characters). Without one, those endpoints always answer 401.
    #[arg(long, value_name = "TOKEN", env = "PORCHLIGHT_OPERATOR_TOKEN", global = true, hide_env_values = true)]
    pub operator_token: Option<String>,

    /// FOR TESTS ONLY: start the server's clock at this RFC 3339 instant (it then advances in
    /// real time), e.g. 2026-03-10T17:50:00+02:00. Lets end-to-end tests see business hours,
    /// closures and callback due times at a chosen moment. Never use in production.
    #[arg(long, value_name = "RFC3339", env = "PORCHLIGHT_FAKE_NOW", global = true, hide = true)]
    pub fake_now: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("invalid config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// The operator bearer token. Its `Debug` never shows the secret, so settings can be logged.
#[derive(Clone, PartialEq, Eq)]
pub struct OperatorToken(String);

impl OperatorToken {
    pub fn parse(raw: &str) -> Result<OperatorToken, ConfigError> {
        let token = raw.trim();
        if token.chars().count() < MIN_OPERATOR_TOKEN_CHARS || token.chars().any(char::is_whitespace) {
            return Err(ConfigError::Invalid(format!(
                "operator_token must be at least {MIN_OPERATOR_TOKEN_CHARS} characters without spaces \
                 (e.g. the output of `openssl rand -hex 32`)"
            )));
        }
        Ok(OperatorToken(token.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for OperatorToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OperatorToken(<redacted>)")
    }
}

/// Everything the server needs to start. `sites` empty means "serve the built-in demo site",
/// whose origins depend on the port, known only after binding.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: String,
    pub database: PathBuf,
    pub assets: PathBuf,
    /// Without a path or trailing slash, e.g. `https://widget.example.com`.
    pub public_url: Option<Url>,
    pub writes_per_minute: u32,
    pub sites: Vec<Site>,
    /// `None`: the presence endpoint answers 401 to everyone.
    pub operator_token: Option<OperatorToken>,
    /// Where "now" comes from: the system clock, or a fake one (`--fake-now`, tests).
    pub clock: SharedClock,
    /// Retry policy of the webhook worker.
    pub webhook_delivery: DeliveryPolicy,
    /// Connection limits and trusted proxies (`[limits]`, `trusted_proxies`).
    pub limits: ConnectionLimits,
    /// `[smtp]`: without it no e-mail is sent (and the console says e-mail is off).
    pub smtp: Option<SmtpSettings>,
}

/// How e-mail is sent: a real SMTP server (`[smtp]`).
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub user: Option<String>,
    pub password: Option<String>,
    /// `Name <address>` or an address.
    pub from: String,
    pub reply_to: Option<String>,
    /// How long after an operator's reply its e-mail waits (the visitor may still be reading;
    /// replies within it share one e-mail).
    pub reply_grace: Duration,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("from", &self.from)
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS (port 587).
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a server on loopback.
    None,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: DEFAULT_LISTEN.into(),
            database: DEFAULT_DATABASE.into(),
            assets: DEFAULT_ASSETS.into(),
            public_url: None,
            writes_per_minute: DEFAULT_WRITES_PER_MINUTE,
            sites: Vec::new(),
            operator_token: None,
            clock: Arc::new(SystemClock),
            webhook_delivery: DeliveryPolicy::default(),
            limits: ConnectionLimits::default(),
            smtp: None,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    database: Option<PathBuf>,
    assets: Option<PathBuf>,
    public_url: Option<String>,
    operator_token: Option<String>,
    #[serde(default)]
    rate_limit: RateLimitFile,
    #[serde(default)]
    webhook_delivery: WebhookDeliveryFile,
    #[serde(default)]
    limits: LimitsFile,
    smtp: Option<SmtpFile>,
    /// IPs of reverse proxies whose `X-Forwarded-For` is believed.
    #[serde(default)]
    trusted_proxies: Vec<String>,
    #[serde(default)]
    sites: Vec<SiteFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SmtpFile {
    host: String,
    port: Option<u16>,
    tls: Option<SmtpTls>,
    user: Option<String>,
    password: Option<String>,
    from: String,
    reply_to: Option<String>,
    reply_grace_secs: Option<u64>,
}

/// `[limits]`: what one connection and one client may hold open.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsFile {
    header_timeout_secs: Option<u64>,
    max_connections: Option<usize>,
    connections_per_ip: Option<usize>,
}

/// `[webhook_delivery]`: how undelivered webhook events are retried.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookDeliveryFile {
    initial_backoff_ms: Option<u64>,
    max_backoff_ms: Option<u64>,
    poll_interval_ms: Option<u64>,
    timeout_ms: Option<u64>,
    /// A delivery still failing this long after its event stops being retried (dead letter).
    dead_after_hours: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookFile {
    url: String,
    secret: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RateLimitFile {
    writes_per_minute: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SiteFile {
    id: String,
    name: String,
    origins: Vec<String>,
    /// API origins the widget may be pointed at (`data-endpoint`), besides this server.
    #[serde(default)]
    endpoints: Vec<String>,
    timezone: String,
    greeting: Option<String>,
    rating_scale: Option<RatingScale>,
    #[serde(default)]
    promises: PromisesFile,
    hours: Option<HoursFile>,
    presence_default: Option<PresenceFile>,
    rating_change_window_secs: Option<u32>,
    default_country: Option<String>,
    #[serde(default)]
    topics: Vec<String>,
    consent_text: Option<String>,
    callback_slot_minutes: Option<u32>,
    #[serde(default)]
    webhooks: Vec<WebhookFile>,
    launcher: Option<String>,
    /// `[sites.texts.<lang>]`, keyed by primary language subtag.
    #[serde(default)]
    texts: BTreeMap<String, TextsFile>,
    theme: Option<ThemeFile>,
    #[serde(default)]
    retention: RetentionFile,
    /// `canned_replies = [{ shortcut = "hours", text = "…" }]`.
    #[serde(default)]
    canned_replies: Vec<CannedReplyFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CannedReplyFile {
    shortcut: String,
    text: String,
}

/// `[sites.retention]`: days each kind of personal data is kept (defaults in `Retention`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RetentionFile {
    conversations_days: Option<u32>,
    rating_comments_days: Option<u32>,
    callbacks_days: Option<u32>,
    visitor_emails_days: Option<u32>,
    sent_outbox_days: Option<u32>,
}

/// `[sites.texts.<lang>]`: the site's own texts in one language; each falls back to the
/// site's default (top-level) one when left out.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TextsFile {
    greeting: Option<String>,
    consent_text: Option<String>,
    /// Labels for the site's `topics`, same length and order.
    topics: Option<Vec<String>>,
    launcher: Option<String>,
}

/// `[sites.theme]`: brand colours as `#rrggbb`; text colours are computed.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    color: String,
    /// Used instead of `color` under `prefers-color-scheme: dark`.
    dark_color: Option<String>,
}

/// `[sites.hours]`: a list of `"HH:MM-HH:MM"` ranges per weekday (absent = closed) and
/// closure dates. Without any weekday, Monday to Friday 09:00-18:00 applies.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct HoursFile {
    mon: Option<Vec<String>>,
    tue: Option<Vec<String>>,
    wed: Option<Vec<String>>,
    thu: Option<Vec<String>>,
    fri: Option<Vec<String>>,
    sat: Option<Vec<String>>,
    sun: Option<Vec<String>>,
    #[serde(default)]
    closures: Vec<String>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum PresenceFile {
    Online,
    Away,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PromisesFile {
    chat_first_reply_secs: Option<u32>,
    callback_business_hours: Option<u32>,
    message_reply_business_days: Option<u32>,
    /// The promise ledger's target: below this share of kept chat promises, the posted wait rises.
    target_kept_rate: Option<f64>,
}

impl Settings {
    /// Defaults, then the config file (if any), then flags/environment.
    pub fn load(args: &ServeArgs) -> Result<Settings, ConfigError> {
        let mut settings = match &args.config {
            Some(path) => Settings::from_file(path)?,
            None => Settings::default(),
        };
        if let Some(listen) = &args.listen {
            settings.listen = listen.clone();
        }
        if let Some(db) = &args.db {
            settings.database = db.clone();
        }
        if let Some(assets) = &args.assets {
            settings.assets = assets.clone();
        }
        if let Some(url) = &args.public_url {
            settings.public_url = Some(parse_public_url(url)?);
        }
        if let Some(token) = &args.operator_token {
            settings.operator_token = Some(OperatorToken::parse(token)?);
        }
        if let Some(fake_now) = &args.fake_now {
            let start_ms = parse_fake_now(fake_now)?;
            tracing::warn!(start = %fake_now, "the clock is FAKE (--fake-now): for tests only");
            settings.clock = Arc::new(ShiftedClock::starting_at(start_ms));
        }
        Ok(settings)
    }

    pub fn from_file(path: &Path) -> Result<Settings, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.into(), source })?;
        Settings::from_toml(&text).map_err(|e| match e {
            ConfigError::Parse { message, .. } => ConfigError::Parse { path: path.into(), message },
            other => other,
        })
    }

    pub fn from_toml(text: &str) -> Result<Settings, ConfigError> {
        let file: FileConfig =
            toml::from_str(text).map_err(|e| ConfigError::Parse { path: PathBuf::new(), message: e.to_string() })?;
        let defaults = Settings::default();
        let mut seen = HashSet::new();
        let sites = file
            .sites
            .into_iter()
            .map(|s| {
                let site = parse_site(s)?;
                if !seen.insert(site.id.clone()) {
                    return Err(ConfigError::Invalid(format!("site id {:?} is configured twice", site.id.as_str())));
                }
                Ok(site)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Settings {
            listen: file.listen.unwrap_or(defaults.listen),
            database: file.database.unwrap_or(defaults.database),
            assets: file.assets.unwrap_or(defaults.assets),
            public_url: file.public_url.as_deref().map(parse_public_url).transpose()?,
            writes_per_minute: file.rate_limit.writes_per_minute.unwrap_or(defaults.writes_per_minute),
            sites,
            operator_token: file.operator_token.as_deref().map(OperatorToken::parse).transpose()?,
            clock: defaults.clock,
            webhook_delivery: parse_delivery(file.webhook_delivery, defaults.webhook_delivery)?,
            limits: parse_limits(file.limits, &file.trusted_proxies)?,
            smtp: file.smtp.map(parse_smtp).transpose()?,
        })
    }
}

fn parse_smtp(file: SmtpFile) -> Result<SmtpSettings, ConfigError> {
    let bad = |what: &str| ConfigError::Invalid(format!("smtp: {what}"));
    let tls = file.tls.unwrap_or(SmtpTls::Starttls);
    let host = file.host.trim().to_owned();
    if host.is_empty() {
        return Err(bad("host must not be empty"));
    }
    if tls == SmtpTls::None && !matches!(host.as_str(), "127.0.0.1" | "::1" | "localhost") {
        return Err(bad("tls = \"none\" is only allowed for a server on loopback (127.0.0.1, ::1, localhost)"));
    }
    for (name, value) in [("from", Some(&file.from)), ("reply_to", file.reply_to.as_ref())] {
        if let Some(value) = value {
            value
                .parse::<lettre::message::Mailbox>()
                .map_err(|e| bad(&format!("{name} is not an e-mail address: {e}")))?;
        }
    }
    if file.user.is_some() != file.password.is_some() {
        return Err(bad("user and password go together"));
    }
    Ok(SmtpSettings {
        host,
        port: file.port.unwrap_or(match tls {
            SmtpTls::Starttls => 587,
            SmtpTls::Tls => 465,
            SmtpTls::None => 25,
        }),
        tls,
        user: file.user,
        password: file.password,
        from: file.from,
        reply_to: file.reply_to,
        reply_grace: Duration::from_secs(file.reply_grace_secs.unwrap_or(60)),
    })
}

fn parse_limits(file: LimitsFile, trusted_proxies: &[String]) -> Result<ConnectionLimits, ConfigError> {
    let defaults = ConnectionLimits::default();
    let trusted_proxies = trusted_proxies
        .iter()
        .map(|p| {
            p.trim().parse().map_err(|_| {
                ConfigError::Invalid(format!("trusted_proxies: {p:?} is not an IP address (e.g. \"127.0.0.1\")"))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let limits = ConnectionLimits {
        header_timeout: file.header_timeout_secs.map_or(defaults.header_timeout, Duration::from_secs),
        max_connections: file.max_connections,
        connections_per_ip: file.connections_per_ip.unwrap_or(defaults.connections_per_ip),
        trusted_proxies,
    };
    if limits.header_timeout.is_zero() || limits.connections_per_ip == 0 || limits.max_connections == Some(0) {
        return Err(ConfigError::Invalid(
            "limits: header_timeout_secs, max_connections and connections_per_ip must be positive".into(),
        ));
    }
    Ok(limits)
}

fn parse_site(file: SiteFile) -> Result<Site, ConfigError> {
    let id = SiteId::parse(&file.id).map_err(|e| ConfigError::Invalid(format!("site id {:?}: {e}", file.id)))?;
    let bad = |what: &str| ConfigError::Invalid(format!("site {:?}: {what}", file.id));
    if file.name.trim().is_empty() {
        return Err(bad("name must not be empty"));
    }
    if file.timezone.trim().is_empty() {
        return Err(bad("timezone must not be empty (an IANA name such as \"Europe/Riga\")"));
    }
    let tz = jiff::tz::db().get(file.timezone.trim()).map_err(|_| {
        bad(&format!(
            "timezone {:?} is not in the time zone database (use an IANA name such as \"Europe/Riga\")",
            file.timezone.trim()
        ))
    })?;
    let hours = parse_hours(file.hours.unwrap_or_default(), tz).map_err(|e| bad(&e))?;
    if file.origins.is_empty() {
        return Err(bad("origins must list at least one page origin, e.g. \"https://shop.example\""));
    }
    let origins = file.origins.iter().map(|o| Origin::parse(o).map_err(|e| bad(&e))).collect::<Result<Vec<_>, _>>()?;
    let endpoints = file
        .endpoints
        .iter()
        .map(|o| Origin::parse(o).map_err(|e| bad(&format!("endpoints: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let callback_topics: Vec<String> = file.topics.iter().map(|t| t.trim().to_owned()).collect();
    if callback_topics.iter().any(String::is_empty) {
        return Err(bad("topics must not contain empty names"));
    }
    let consent_text = file.consent_text.filter(|t| !t.trim().is_empty());
    let texts = file
        .texts
        .into_iter()
        .map(|(tag, texts)| {
            parse_texts(&tag, texts, callback_topics.len(), consent_text.is_some()).map_err(|e| bad(&e))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let theme = file
        .theme
        .map(|t| {
            check_color("color", &t.color).map_err(|e| bad(&e))?;
            if let Some(dark) = &t.dark_color {
                check_color("dark_color", dark).map_err(|e| bad(&e))?;
            }
            Ok::<_, ConfigError>(Theme::new(&t.color, t.dark_color.as_deref()).expect("colours checked above"))
        })
        .transpose()?;
    let retention = parse_retention(&file.retention).map_err(|e| bad(&e))?;
    let canned_replies = parse_canned(file.canned_replies).map_err(|e| bad(&e))?;
    let defaults = Promises::default();
    Ok(Site {
        retention,
        canned_replies,
        id,
        name: file.name.trim().to_owned(),
        origins,
        endpoints,
        timezone: file.timezone.trim().to_owned(),
        greeting: file.greeting.filter(|g| !g.trim().is_empty()),
        rating_scale: file.rating_scale.unwrap_or_default(),
        promises: Promises {
            chat_first_reply_secs: file.promises.chat_first_reply_secs.unwrap_or(defaults.chat_first_reply_secs),
            callback_business_hours: file.promises.callback_business_hours.unwrap_or(defaults.callback_business_hours),
            message_reply_business_days: file
                .promises
                .message_reply_business_days
                .unwrap_or(defaults.message_reply_business_days),
        },
        hours,
        presence_default: match file.presence_default {
            Some(PresenceFile::Online) => OperatorStatus::Online,
            Some(PresenceFile::Away) | None => OperatorStatus::Away,
        },
        target_kept_permille: match file.promises.target_kept_rate {
            None => DEFAULT_TARGET_KEPT_PERMILLE,
            Some(rate) if (0.5..=1.0).contains(&rate) => (rate * 1000.0).round() as u16,
            Some(_) => return Err(bad("promises.target_kept_rate must be between 0.5 and 1.0 (e.g. 0.9)")),
        },
        rating_change_window_secs: file.rating_change_window_secs.unwrap_or(DEFAULT_RATING_CHANGE_WINDOW_SECS),
        default_country: match file.default_country.as_deref().map(str::trim) {
            None => None,
            Some(raw) => match parse_country(raw) {
                Some(_) => Some(raw.to_ascii_uppercase()),
                None => return Err(bad(&format!("default_country {raw:?} is not an ISO 3166 code such as \"LV\""))),
            },
        },
        callback_topics,
        consent_text,
        callback_slot_minutes: match file.callback_slot_minutes {
            None => DEFAULT_SLOT_MINUTES,
            Some(m @ 5..=240) => m,
            Some(m) => return Err(bad(&format!("callback_slot_minutes {m} must be from 5 to 240"))),
        },
        webhooks: file
            .webhooks
            .into_iter()
            .enumerate()
            .map(|(i, w)| {
                let url = Url::parse(w.url.trim())
                    .ok()
                    .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
                    .ok_or_else(|| bad(&format!("webhooks[{i}].url {:?} is not an http(s) URL", w.url)))?;
                if w.secret.trim().chars().count() < MIN_OPERATOR_TOKEN_CHARS {
                    return Err(bad(&format!(
                        "webhooks[{i}].secret must be at least {MIN_OPERATOR_TOKEN_CHARS} characters"
                    )));
                }
                Ok(Webhook { url, secret: w.secret.trim().to_owned() })
            })
            .collect::<Result<_, _>>()?,
        launcher_text: parse_launcher(file.launcher).map_err(|e| bad(&e))?,
        texts,
        theme,
    })
}

/// One `[sites.texts.<tag>]` table, checked against the site's defaults.
fn parse_texts(tag: &str, file: TextsFile, topic_count: usize, has_consent: bool) -> Result<SiteTexts, String> {
    let table = format!("[sites.texts.{tag}]");
    let language = Language::by_tag(tag).ok_or_else(|| {
        let known: Vec<&str> = Language::all().map(|l| l.tag).collect();
        format!(
            "{table}: {tag:?} is not a language the widget speaks; use one of {} (the primary subtag only, \
             e.g. \"lv\" for lv-LV)",
            known.join(", ")
        )
    })?;
    let consent_text = file.consent_text.filter(|t| !t.trim().is_empty());
    if consent_text.is_some() && !has_consent {
        // The default consent text is what makes consent required; a translation alone would
        // show a checkbox the server does not ask for.
        return Err(format!("{table}: consent_text needs the site's own consent_text to be set too"));
    }
    let topic_labels = match file.topics {
        None => Vec::new(),
        Some(labels) => {
            if labels.len() != topic_count {
                return Err(format!(
                    "{table}: topics has {} label(s) but the site has {topic_count} topic(s); list one label per \
                     topic, in the same order as the site's topics",
                    labels.len()
                ));
            }
            let labels: Vec<String> = labels.iter().map(|l| l.trim().to_owned()).collect();
            if labels.iter().any(String::is_empty) {
                return Err(format!("{table}: topics must not contain empty labels"));
            }
            labels
        }
    };
    Ok(SiteTexts {
        language: language.tag,
        greeting: file.greeting.filter(|g| !g.trim().is_empty()),
        consent_text,
        topic_labels,
        launcher_text: parse_launcher(file.launcher).map_err(|e| format!("{table}: {e}"))?,
    })
}

/// A launcher text: blank means "the widget's own word", and it must fit on the button.
fn parse_launcher(raw: Option<String>) -> Result<Option<String>, String> {
    let Some(text) = raw.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > MAX_LAUNCHER_CHARS {
        return Err(format!("launcher {text:?} is longer than {MAX_LAUNCHER_CHARS} characters"));
    }
    Ok(Some(text))
}

/// `#rrggbb` and nothing else (the colour goes into CSS on customers' pages).
fn check_color(key: &str, raw: &str) -> Result<(), String> {
    match porchlight_protocol::color::parse_hex_color(raw) {
        Some(_) => Ok(()),
        None => Err(format!("[sites.theme] {key} {raw:?} is not a colour in the form #rrggbb (e.g. \"#1d4ed8\")")),
    }
}

fn parse_delivery(file: WebhookDeliveryFile, defaults: DeliveryPolicy) -> Result<DeliveryPolicy, ConfigError> {
    let ms = |v: Option<u64>, d: Duration| v.map(Duration::from_millis).unwrap_or(d);
    let policy = DeliveryPolicy {
        initial_backoff: ms(file.initial_backoff_ms, defaults.initial_backoff),
        max_backoff: ms(file.max_backoff_ms, defaults.max_backoff),
        poll_interval: ms(file.poll_interval_ms, defaults.poll_interval),
        timeout: ms(file.timeout_ms, defaults.timeout),
        dead_after: file
            .dead_after_hours
            .map(|h| Duration::from_secs(h.saturating_mul(3_600)))
            .unwrap_or(defaults.dead_after),
    };
    if policy.initial_backoff.is_zero()
        || policy.max_backoff < policy.initial_backoff
        || policy.timeout.is_zero()
        || policy.dead_after.is_zero()
    {
        return Err(ConfigError::Invalid(
            "webhook_delivery: initial_backoff_ms, timeout_ms and dead_after_hours must be positive and \
             max_backoff_ms at least initial_backoff_ms"
                .into(),
        ));
    }
    Ok(policy)
}

/// Shortcuts are 1-32 of `a-z 0-9 - _`, each once; texts 1-2000 characters.
fn parse_canned(files: Vec<CannedReplyFile>) -> Result<Vec<porchlight_protocol::CannedReply>, String> {
    let mut seen = HashSet::new();
    files
        .into_iter()
        .enumerate()
        .map(|(i, f)| {
            let shortcut = f.shortcut.trim().to_owned();
            let ok = !shortcut.is_empty()
                && shortcut.len() <= 32
                && shortcut.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
            if !ok {
                return Err(format!("canned_replies[{i}].shortcut must be 1-32 of a-z, 0-9, - and _"));
            }
            if !seen.insert(shortcut.clone()) {
                return Err(format!("canned_replies: shortcut {shortcut:?} is given twice"));
            }
            let text = f.text.trim().to_owned();
            if text.is_empty() || text.chars().count() > 2000 {
                return Err(format!("canned_replies[{i}].text must be 1-2000 characters"));
            }
            Ok(porchlight_protocol::CannedReply { shortcut, text })
        })
        .collect()
}

fn parse_retention(file: &RetentionFile) -> Result<Retention, String> {
    let defaults = Retention::default();
    let days = |name: &str, value: Option<u32>, default: u32| match value {
        None => Ok(default),
        Some(days) if (1..=retention::MAX_DAYS).contains(&days) => Ok(days),
        Some(_) => Err(format!("retention.{name} must be 1 to {} days", retention::MAX_DAYS)),
    };
    Ok(Retention {
        conversations_days: days("conversations_days", file.conversations_days, defaults.conversations_days)?,
        rating_comments_days: days("rating_comments_days", file.rating_comments_days, defaults.rating_comments_days)?,
        callbacks_days: days("callbacks_days", file.callbacks_days, defaults.callbacks_days)?,
        visitor_emails_days: days("visitor_emails_days", file.visitor_emails_days, defaults.visitor_emails_days)?,
        sent_outbox_days: days("sent_outbox_days", file.sent_outbox_days, defaults.sent_outbox_days)?,
    })
}

fn parse_hours(file: HoursFile, tz: jiff::tz::TimeZone) -> Result<BusinessHours, String> {
    let closures = file
        .closures
        .iter()
        .enumerate()
        .map(|(i, raw)| Closure::parse(raw).map_err(|e| format!("hours.closures[{i}]: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let days = [file.mon, file.tue, file.wed, file.thu, file.fri, file.sat, file.sun];
    if days.iter().all(Option::is_none) {
        return Ok(BusinessHours::with_default_week(tz, closures));
    }
    let mut week: [Vec<DayRange>; 7] = Default::default();
    for ((name, ranges), out) in DAY_NAMES.iter().zip(days).zip(week.iter_mut()) {
        for (i, raw) in ranges.unwrap_or_default().iter().enumerate() {
            out.push(DayRange::parse(raw).map_err(|e| format!("hours.{name}[{i}]: {e}"))?);
        }
    }
    BusinessHours::new(tz, week, closures).map_err(|e| format!("hours: {e}"))
}

/// `--fake-now`: an RFC 3339 instant with an offset (`Z` or `+02:00`).
fn parse_fake_now(raw: &str) -> Result<i64, ConfigError> {
    raw.trim().parse::<jiff::Timestamp>().map(|ts| ts.as_millisecond()).map_err(|e| {
        ConfigError::Invalid(format!(
            "--fake-now {raw:?} is not an RFC 3339 instant such as 2026-03-10T17:50:00+02:00: {e}"
        ))
    })
}

/// An http(s) URL without query or fragment; a trailing slash is dropped so paths can be
/// appended with `format!("{url}/porchlight.js")`.
fn parse_public_url(raw: &str) -> Result<Url, ConfigError> {
    let invalid = |why: &str| ConfigError::Invalid(format!("public_url {raw:?}: {why}"));
    let url = Url::parse(raw.trim()).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(invalid("must be an http:// or https:// URL"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("must not have a query or fragment"));
    }
    Ok(url)
}

/// The public URL as a string without a trailing slash.
pub fn url_base(url: &Url) -> String {
    url.as_str().trim_end_matches('/').to_owned()
}

/// What one server accepts from the network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Time for a request head to arrive, counted from the connection's start or the end of the
    /// previous response (so it is also the keep-alive idle time).
    pub header_timeout: Duration,
    /// Open connections in all; `None`: three quarters of the file-descriptor limit.
    pub max_connections: Option<usize>,
    /// Open connections from one client IP (a trusted proxy is not counted: it speaks for many).
    pub connections_per_ip: usize,
    /// Peers whose `X-Forwarded-For` is believed (for rate limits); nobody else's is.
    pub trusted_proxies: Vec<IpAddr>,
}

pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_CONNECTIONS_PER_IP: usize = 256;

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            max_connections: None,
            connections_per_ip: DEFAULT_CONNECTIONS_PER_IP,
            trusted_proxies: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"
listen = "127.0.0.1:9000"
database = "x.db"
assets = "dist"
public_url = "https://widget.example.com/"

[rate_limit]
writes_per_minute = 5

[[sites]]
id = "demo"
name = "Demo Shop"
origins = ["http://localhost:8080"]
timezone = "Europe/Riga"
greeting = "Hi! How can we help?"
rating_scale = "stars5"
[sites.promises]
chat_first_reply_secs = 120
"#;

    #[test]
    fn full_file_parses_with_promise_defaults() {
        let s = Settings::from_toml(FULL).unwrap();
        assert_eq!(s.listen, "127.0.0.1:9000");
        assert_eq!(s.writes_per_minute, 5);
        assert_eq!(url_base(s.public_url.as_ref().unwrap()), "https://widget.example.com");
        let site = &s.sites[0];
        assert_eq!(site.rating_scale, RatingScale::Stars5);
        assert_eq!(site.promises.chat_first_reply_secs, 120);
        assert_eq!(site.promises.callback_business_hours, 2);
        assert_eq!(site.origins[0].as_str(), "http://localhost:8080");
    }

    #[test]
    fn empty_file_gives_defaults() {
        let s = Settings::from_toml("").unwrap();
        assert_eq!(s.listen, DEFAULT_LISTEN);
        assert_eq!(s.writes_per_minute, 60);
        assert!(s.sites.is_empty());
    }

    fn site_error(id: &str, origin: &str) -> String {
        let text = format!("[[sites]]\nid = \"{id}\"\nname = \"N\"\norigins = [\"{origin}\"]\ntimezone = \"UTC\"\n");
        Settings::from_toml(&text).unwrap_err().to_string()
    }

    #[test]
    fn bad_sites_are_rejected_with_a_clear_message() {
        assert!(site_error("Bad Id", "http://a.example").contains("site id \"Bad Id\""));
        assert!(site_error("ok", "a.example/path").contains("not an origin"));
        let twice =
            "[[sites]]\nid = \"a\"\nname = \"N\"\norigins = [\"http://a.example\"]\ntimezone = \"UTC\"\n".repeat(2);
        assert!(Settings::from_toml(&twice).unwrap_err().to_string().contains("configured twice"));
        assert!(Settings::from_toml("lisen = \"x\"").unwrap_err().to_string().contains("unknown field"));
    }

    fn hours_error(hours: &str) -> String {
        let text = format!(
            "[[sites]]\nid = \"s\"\nname = \"N\"\norigins = [\"http://a.example\"]\ntimezone = \"Europe/Riga\"\n\
             [sites.hours]\n{hours}\n"
        );
        Settings::from_toml(&text).unwrap_err().to_string()
    }

    #[test]
    fn hours_closures_and_presence_default_parse() {
        let full = FULL.replace("[sites.promises]", "presence_default = \"online\"\n[sites.promises]");
        let text = format!(
            "{full}[sites.hours]\nmon = [\"09:00-12:00\", \"13:00-18:00\"]\n\
             sat = [\"10:00-14:00\"]\nclosures = [\"2026-12-24\", \"2026-12-31..2027-01-02\"]\n"
        );
        let site = &Settings::from_toml(&text).unwrap().sites[0];
        assert_eq!(site.presence_default, OperatorStatus::Online);
        // Monday 9 March 2026 12:30 in Riga (10:30 UTC) is the lunch break; Tuesday is closed.
        let lunch = 1_773_052_200_000;
        assert!(!site.hours.is_open(lunch));
        assert_eq!(site.hours.next_open_ms(lunch), Some(lunch + 30 * 60_000));
        assert!(!site.hours.is_open(lunch + 24 * 3_600_000));
    }

    #[test]
    fn without_hours_a_site_is_open_weekdays_nine_to_six_and_away() {
        let site = &Settings::from_toml(FULL).unwrap().sites[0];
        assert_eq!(site.presence_default, OperatorStatus::Away);
        let riga = jiff::tz::db().get("Europe/Riga").unwrap();
        assert_eq!(site.hours, BusinessHours::weekdays_nine_to_six(riga.clone()));
        // Closures alone keep the default week.
        let text = format!("{FULL}[sites.hours]\nclosures = [\"2026-12-24\"]\n");
        let site = &Settings::from_toml(&text).unwrap().sites[0];
        assert_eq!(site.hours, BusinessHours::with_default_week(riga, vec![Closure::parse("2026-12-24").unwrap()]));
    }

    #[test]
    fn bad_hours_are_rejected_with_a_clear_message() {
        let e = hours_error("tue = [\"9-18\"]");
        assert!(e.contains("site \"s\": hours.tue[0]: \"9-18\" is not a range: use HH:MM-HH:MM"), "{e}");
        let e = hours_error("fri = [\"22:00-02:00\"]");
        assert!(e.contains("hours.fri[0]") && e.contains("crosses midnight"), "{e}");
        let e = hours_error("mon = [\"09:00-12:00\", \"11:00-13:00\"]");
        assert!(e.contains("hours: mon: 09:00-12:00 and 11:00-13:00 overlap"), "{e}");
        let e = hours_error("mon = []");
        assert!(e.contains("no day has opening hours"), "{e}");
        let e = hours_error("mon = [\"09:00-18:00\"]\nclosures = [\"2026-13-01\"]");
        assert!(e.contains("hours.closures[0]: \"2026-13-01\" is not a date"), "{e}");
        let e = hours_error("monday = [\"09:00-18:00\"]");
        assert!(e.contains("unknown field `monday`"), "{e}");
    }

    #[test]
    fn unknown_time_zones_and_presence_defaults_are_rejected() {
        let text =
            "[[sites]]\nid = \"s\"\nname = \"N\"\norigins = [\"http://a.example\"]\ntimezone = \"Europe/Rega\"\n";
        let e = Settings::from_toml(text).unwrap_err().to_string();
        assert!(e.contains("timezone \"Europe/Rega\" is not in the time zone database"), "{e}");
        let busy = FULL.replace("[sites.promises]", "presence_default = \"busy\"\n[sites.promises]");
        let e = Settings::from_toml(&busy).unwrap_err().to_string();
        assert!(e.contains("unknown variant `busy`"), "{e}");
    }

    #[test]
    fn operator_token_from_file_or_flag_and_short_ones_refused() {
        let s = Settings::from_toml("operator_token = \"0123456789abcdef0123\"").unwrap();
        assert_eq!(s.operator_token.as_ref().unwrap().as_str(), "0123456789abcdef0123");
        assert_eq!(format!("{:?}", s.operator_token.unwrap()), "OperatorToken(<redacted>)");
        let e = Settings::from_toml("operator_token = \"secret\"").unwrap_err().to_string();
        assert!(e.contains("operator_token must be at least 16 characters"), "{e}");
        let args = ServeArgs { operator_token: Some("flag-token-0123456789".into()), ..ServeArgs::default() };
        assert_eq!(Settings::load(&args).unwrap().operator_token.unwrap().as_str(), "flag-token-0123456789");
    }

    #[test]
    fn callback_rating_and_webhook_keys_parse_and_bad_ones_are_refused() {
        let extra = "rating_change_window_secs = 60\ndefault_country = \"lv\"\ntopics = [\"Orders\"]\n\
                     consent_text = \"Call me.\"\ncallback_slot_minutes = 15\n\
                     webhooks = [{ url = \"https://crm.example/hook\", secret = \"whsec-0123456789abcdef\" }]\n";
        let text = FULL.replace("[sites.promises]", &format!("{extra}[sites.promises]"));
        let text =
            text.replace("[[sites]]", "[webhook_delivery]\ninitial_backoff_ms = 10\nmax_backoff_ms = 20\n[[sites]]");
        let s = Settings::from_toml(&text).unwrap();
        let site = &s.sites[0];
        assert_eq!(site.rating_change_window_secs, 60);
        assert_eq!(site.default_country.as_deref(), Some("LV"));
        assert_eq!(site.callback_topics, ["Orders"]);
        assert_eq!(site.consent_text.as_deref(), Some("Call me."));
        assert_eq!(site.callback_slot_minutes, 15);
        assert_eq!(site.webhooks[0].url.as_str(), "https://crm.example/hook");
        assert!(!format!("{:?}", site.webhooks).contains("whsec"), "the secret is never in Debug output");
        assert_eq!(s.webhook_delivery.initial_backoff, Duration::from_millis(10));
        let defaults = &Settings::from_toml(FULL).unwrap().sites[0];
        assert_eq!((defaults.rating_change_window_secs, defaults.callback_slot_minutes), (600, 30));
        assert!(defaults.webhooks.is_empty() && defaults.default_country.is_none());

        let bad = |line: &str| {
            let text = FULL.replace("[sites.promises]", &format!("{line}\n[sites.promises]"));
            Settings::from_toml(&text).unwrap_err().to_string()
        };
        assert!(bad("default_country = \"Latvia\"").contains("default_country"));
        assert!(bad("callback_slot_minutes = 1").contains("callback_slot_minutes"));
        assert!(
            bad("webhooks = [{ url = \"ftp://x\", secret = \"whsec-0123456789abcdef\" }]").contains("webhooks[0].url")
        );
        assert!(bad("webhooks = [{ url = \"https://x.example\", secret = \"short\" }]").contains("webhooks[0].secret"));
        let e = Settings::from_toml("[webhook_delivery]\ninitial_backoff_ms = 0\n").unwrap_err().to_string();
        assert!(e.contains("webhook_delivery"), "{e}");
    }

    /// FULL with topics and consent, plus `tables` after it.
    fn with_texts(tables: &str) -> Result<Settings, ConfigError> {
        let top = "topics = [\"Orders\", \"Returns\"]\nconsent_text = \"You may call me.\"\nlauncher = \"Ask us\"\n";
        Settings::from_toml(&format!("{}{tables}", FULL.replace("[sites.promises]", &format!("{top}[sites.promises]"))))
    }

    #[test]
    fn texts_per_language_and_theme_parse() {
        let s = with_texts(
            "[sites.texts.lv]\ngreeting = \"Sveiki!\"\ntopics = [\"Pasūtījumi\", \" Atgriešana \"]\n\
             consent_text = \"Varat man zvanīt.\"\nlauncher = \"Jautājiet\"\n\
             [sites.texts.ar]\ngreeting = \"مرحبًا\"\n\
             [sites.theme]\ncolor = \"#FBBF24\"\ndark_color = \"#1d4ed8\"\n",
        )
        .unwrap();
        let site = &s.sites[0];
        assert_eq!(site.launcher_text.as_deref(), Some("Ask us"));
        assert_eq!(site.texts.len(), 2);
        let lv = site.texts.iter().find(|t| t.language == "lv").unwrap();
        assert_eq!(lv.greeting.as_deref(), Some("Sveiki!"));
        assert_eq!(lv.topic_labels, ["Pasūtījumi", "Atgriešana"]);
        assert_eq!(lv.consent_text.as_deref(), Some("Varat man zvanīt."));
        assert_eq!(lv.launcher_text.as_deref(), Some("Jautājiet"));
        let ar = site.texts.iter().find(|t| t.language == "ar").unwrap();
        assert!(ar.topic_labels.is_empty() && ar.consent_text.is_none() && ar.launcher_text.is_none());
        let theme = site.theme.as_ref().unwrap();
        assert_eq!((theme.color.as_str(), theme.text_color.as_str()), ("#fbbf24", "#000000"));
        assert_eq!((theme.dark_color.as_deref(), theme.dark_text_color.as_deref()), (Some("#1d4ed8"), Some("#ffffff")));

        // Without any of it: no texts, no theme.
        let plain = &Settings::from_toml(FULL).unwrap().sites[0];
        assert!(plain.texts.is_empty() && plain.theme.is_none() && plain.launcher_text.is_none());
    }

    #[test]
    fn bad_texts_and_themes_are_rejected_with_a_clear_message() {
        let bad = |tables: &str| with_texts(tables).unwrap_err().to_string();
        let e = bad("[sites.texts.lv]\ntopics = [\"Pasūtījumi\"]\n");
        assert!(
            e.contains("site \"demo\": [sites.texts.lv]: topics has 1 label(s) but the site has 2 topic(s)"),
            "{e}"
        );
        let e = bad("[sites.texts.lv]\ntopics = [\"A\", \"B\", \"C\"]\n");
        assert!(e.contains("topics has 3 label(s)"), "{e}");
        let e = bad("[sites.texts.lv]\ntopics = [\"A\", \" \"]\n");
        assert!(e.contains("[sites.texts.lv]: topics must not contain empty labels"), "{e}");
        let e = bad("[sites.texts.fr]\ngreeting = \"Bonjour\"\n");
        assert!(e.contains("[sites.texts.fr]: \"fr\" is not a language the widget speaks"), "{e}");
        assert!(e.contains("en, lv, th, it, eo, el, ar"), "{e}");
        let e = bad("[sites.texts.lv-LV]\ngreeting = \"Sveiki\"\n");
        assert!(e.contains("[sites.texts.lv-LV]") && e.contains("primary subtag"), "{e}");
        let e = bad("[sites.texts.LV]\ngreeting = \"Sveiki\"\n");
        assert!(e.contains("[sites.texts.LV]"), "{e}");
        let e = bad("[sites.texts.lv]\ngreting = \"Sveiki\"\n");
        assert!(e.contains("unknown field `greting`"), "{e}");
        let e = bad(&format!("[sites.texts.lv]\nlauncher = \"{}\"\n", "x".repeat(41)));
        assert!(e.contains("[sites.texts.lv]: launcher") && e.contains("longer than 40"), "{e}");

        for color in ["#fff", "1d4ed8", "#1d4ed8ff", "blue", "#gggggg", " #1d4ed8", "var(--x)"] {
            let e = bad(&format!("[sites.theme]\ncolor = \"{color}\"\n"));
            assert!(e.contains(&format!("[sites.theme] color {color:?} is not a colour in the form #rrggbb")), "{e}");
        }
        let e = bad("[sites.theme]\ncolor = \"#1d4ed8\"\ndark_color = \"black\"\n");
        assert!(e.contains("[sites.theme] dark_color \"black\""), "{e}");
        let e = bad("[sites.theme]\ndark_color = \"#1d4ed8\"\n");
        assert!(e.contains("missing field `color`"), "{e}");

        // A translated consent text needs the default one, which is what makes consent required.
        let text = format!("{FULL}[sites.texts.lv]\nconsent_text = \"Varat man zvanīt.\"\n");
        let e = Settings::from_toml(&text).unwrap_err().to_string();
        assert!(e.contains("[sites.texts.lv]: consent_text needs the site's own consent_text"), "{e}");
        // Labels for a site without topics.
        let text = format!("{FULL}[sites.texts.lv]\ntopics = [\"Pasūtījumi\"]\n");
        let e = Settings::from_toml(&text).unwrap_err().to_string();
        assert!(e.contains("the site has 0 topic(s)"), "{e}");
    }

    #[test]
    fn fake_now_starts_the_clock_at_that_instant() {
        let args = ServeArgs { fake_now: Some("2026-03-10T17:50:00+02:00".into()), ..ServeArgs::default() };
        let now = Settings::load(&args).unwrap().clock.now_ms();
        assert!((1_773_157_800_000..1_773_157_860_000).contains(&now), "{now}");
        let args = ServeArgs { fake_now: Some("2026-03-10 17:50".into()), ..ServeArgs::default() };
        assert!(Settings::load(&args).unwrap_err().to_string().contains("RFC 3339"));
    }

    #[test]
    fn flags_override_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        std::fs::write(&path, FULL).unwrap();
        let args = ServeArgs {
            config: Some(path),
            listen: Some("127.0.0.1:0".into()),
            public_url: Some("http://127.0.0.1:1234".into()),
            ..ServeArgs::default()
        };
        let s = Settings::load(&args).unwrap();
        assert_eq!(s.listen, "127.0.0.1:0");
        assert_eq!(s.database, PathBuf::from("x.db"));
        assert_eq!(url_base(s.public_url.as_ref().unwrap()), "http://127.0.0.1:1234");
    }
}
