//! Which web pages may use a site's API, and CORS for those that may.
//!
//! Browsers attach `Origin` to cross-origin requests and to every POST, and a page cannot forge
//! it, so checking it stops other sites from posting into a customer's inbox with their
//! visitors' browsers. Requests without `Origin` (curl, servers) are not browsers acting for a
//! visitor and are let through; rate limits cover abuse from those.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use url::Url;

use crate::error::AppError;
use crate::state::AppState;

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

/// True when `origin` is this server itself: the widget frame is served from here and calls the
/// API same-origin. Checked against the configured public URL and against the `Host` the
/// request was sent to (the same server reached under another name, e.g. localhost).
pub(crate) fn is_own_origin(state: &AppState, origin: &Origin, headers: &HeaderMap) -> bool {
    if origin == state.public_origin() {
        return true;
    }
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .and_then(|host| Origin::parse(&format!("http://{host}")).ok())
        .is_some_and(|own| &own == origin)
}

/// The site id of a `/v1/sites/{site}/…` path, if it is one.
pub fn site_segment(path: &str) -> Option<&str> {
    path.strip_prefix("/v1/sites/").map(|rest| rest.split('/').next().unwrap_or(""))
}

/// Middleware for `/v1/sites/{site}/…`: unknown site → 404, disallowed `Origin` → 403,
/// preflights answered here, CORS headers on allowed responses. Runs before the rate limiter so
/// foreign pages cannot spend a site's budget.
pub async fn site_guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(segment) = site_segment(request.uri().path()) else {
        return next.run(request).await;
    };
    let site = match state.site(segment) {
        Some(site) => site,
        None => return with_vary(AppError::SiteNotFound.into_response()),
    };

    let origin = match request.headers().get(header::ORIGIN) {
        None => None,
        Some(raw) => {
            let parsed = raw.to_str().ok().and_then(|o| Origin::parse(o).ok());
            match parsed {
                Some(o) if site.allows(&o) || is_own_origin(&state, &o, request.headers()) => Some(o),
                // Includes `Origin: null` (sandboxed frames, file://), which can be anyone.
                _ => return with_vary(AppError::OriginNotAllowed.into_response()),
            }
        }
    };

    if request.method() == Method::OPTIONS {
        let mut response = StatusCode::NO_CONTENT.into_response();
        let headers = response.headers_mut();
        headers.insert(header::ALLOW, HeaderValue::from_static("GET, POST, PUT, DELETE, OPTIONS"));
        if let Some(origin) = &origin {
            add_cors(headers, origin);
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, POST, PUT, DELETE, OPTIONS"),
            );
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("content-type, idempotency-key, authorization, if-none-match"),
            );
            headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
        }
        return with_vary(response);
    }

    let mut response = next.run(request).await;
    if let Some(origin) = &origin {
        add_cors(response.headers_mut(), origin);
    }
    with_vary(response)
}

fn add_cors(headers: &mut HeaderMap, origin: &Origin) {
    if let Ok(value) = HeaderValue::from_str(origin.as_str()) {
        // The exact origin, never `*`: only the site's own pages may read the answers.
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        // The widget shows "try again in N s" on 429, and polls availability with the ETag.
        headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static("retry-after, etag"));
    }
}

/// Every site API response depends on `Origin`; caches must not hand one origin's answer to
/// another.
fn with_vary(mut response: Response) -> Response {
    response.headers_mut().append(header::VARY, HeaderValue::from_static("Origin"));
    response
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
