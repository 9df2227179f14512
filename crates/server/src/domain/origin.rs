//! A web origin (`scheme://host[:port]`) as a value, and the site id of an API path. Which
//! origins may call a site, and the CORS answer, are the http layer's site guard.

use url::Url;

/// A web origin, `scheme://host[:port]`, in the browser's serialisation (lower-case host,
/// default port omitted), so it can be compared as a string with an `Origin` header.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin(String);

impl Origin {
    /// Parses an origin as written in config or sent in an `Origin` header. A trailing `/` is
    /// tolerated; a path, query, credentials or a non-http(s) scheme are not.
    pub fn parse(raw: &str) -> Result<Origin, String> {
        let url = Url::parse(raw.trim()).map_err(|e| format!("{raw:?} is not an origin: {e}"))?;
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            return Err(format!("{raw:?} is not an origin: use scheme://host[:port] without a path"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(format!("{raw:?} is not an origin: credentials are not allowed"));
        }
        Origin::of_url(&url).ok_or_else(|| format!("{raw:?} is not an origin: use http:// or https://"))
    }

    /// The origin of any http(s) URL (its path is ignored).
    pub fn of_url(url: &Url) -> Option<Origin> {
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return None;
        }
        Some(Origin(url.origin().ascii_serialization()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The site id of a `/v1/sites/{site}/…` path, if it is one.
pub fn site_segment(path: &str) -> Option<&str> {
    path.strip_prefix("/v1/sites/").map(|rest| rest.split('/').next().unwrap_or(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_canonical() {
        assert_eq!(Origin::parse("http://LocalHost:8080/").unwrap().as_str(), "http://localhost:8080");
        assert_eq!(Origin::parse("https://shop.example:443").unwrap().as_str(), "https://shop.example");
        assert!(Origin::parse("http://shop.example/path").is_err());
        assert!(Origin::parse("null").is_err());
        assert!(Origin::parse("ftp://shop.example").is_err());
        assert!(Origin::parse("http://user:pw@shop.example").is_err());
    }

    #[test]
    fn site_segment_of_api_paths() {
        assert_eq!(site_segment("/v1/sites/demo/ratings"), Some("demo"));
        assert_eq!(site_segment("/v1/sites/demo"), Some("demo"));
        assert_eq!(site_segment("/v1/other"), None);
    }
}
