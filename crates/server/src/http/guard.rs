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

use crate::app::error::AppError;
use crate::app::state::AppState;
use crate::domain::origin::{site_segment, Origin};

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
