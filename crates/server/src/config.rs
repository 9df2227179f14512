//! Settings, from three layers: built-in defaults < the TOML file < environment and flags.
//! clap reads both the flags and their `PORCHLIGHT_*` variables, so a flag beats its variable.
//! Everything is checked here, at start-up, so a typo fails loudly instead of at the first
//! visitor's request.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use clap::Args;
use porchlight_protocol::{Promises, RatingScale, SiteId};
use serde::Deserialize;
use url::Url;

use crate::domain::Site;
use crate::origin::Origin;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATABASE: &str = "porchlight.db";
pub const DEFAULT_ASSETS: &str = "target/dist";
pub const DEFAULT_WRITES_PER_MINUTE: u32 = 60;

/// Options of `porchlight serve`. No clap defaults: a flag that was not given must not hide the
/// config file's value, so defaults are applied in [`Settings::load`].
#[derive(Debug, Clone, Default, Args)]
pub struct ServeArgs {
    /// TOML config file (listen, database, assets, public_url, [rate_limit], [[sites]]).
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
    #[serde(default)]
    rate_limit: RateLimitFile,
    #[serde(default)]
    sites: Vec<SiteFile>,
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
    timezone: String,
    greeting: Option<String>,
    rating_scale: Option<RatingScale>,
    #[serde(default)]
    promises: PromisesFile,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PromisesFile {
    chat_first_reply_secs: Option<u32>,
    callback_business_hours: Option<u32>,
    message_reply_business_days: Option<u32>,
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
        })
    }
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
    if file.origins.is_empty() {
        return Err(bad("origins must list at least one page origin, e.g. \"https://shop.example\""));
    }
    let origins = file.origins.iter().map(|o| Origin::parse(o).map_err(|e| bad(&e))).collect::<Result<Vec<_>, _>>()?;
    let defaults = Promises::default();
    Ok(Site {
        id,
        name: file.name.trim().to_owned(),
        origins,
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
