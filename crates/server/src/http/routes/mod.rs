//! The whole HTTP surface, assembled with its middleware.

pub mod api;
pub mod assets;
pub mod availability;
pub mod callbacks;
pub mod chat;
pub mod console;
pub mod contact;
pub mod demo;
#[cfg(feature = "bench")]
pub mod noop;
pub mod openapi;
pub mod operators;
pub mod ops;
pub mod privacy;
pub mod promises;
pub mod ratings;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::app::error::AppError;
use crate::app::state::AppState;

/// The application. Layers listed later wrap the earlier ones, so a request passes: security
/// headers → tracing → site guard (404 unknown site, 403 origin, CORS) → rate limit → body
/// limit → handler.
pub fn app(state: AppState) -> Router {
    let routes = Router::new();
    #[cfg(feature = "bench")]
    let routes = routes.merge(noop::router());
    routes
        .merge(api::router())
        .merge(ratings::router())
        .merge(callbacks::router())
        .merge(chat::router())
        .merge(console::router())
        .merge(contact::router())
        .merge(openapi::router())
        .merge(promises::router())
        .merge(availability::router())
        .merge(assets::router(&state))
        .merge(demo::router())
        .merge(privacy::router())
        .merge(operators::router())
        .merge(ops::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(porchlight_protocol::MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(state.clone(), crate::http::middleware::limit_writes))
        .layer(middleware::from_fn_with_state(state.clone(), crate::http::guard::site_guard))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        // Outermost but the headers: counts every answer, 404s, 403s and 429s too.
        .layer(middleware::from_fn_with_state(state.clone(), crate::http::middleware::track))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ))
        .with_state(state)
}

/// A request's log span: method and path, never the query, which may carry a secret (the
/// `?token=` of a visitor's event stream, as `EventSource` cannot send headers).
fn request_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    tracing::debug_span!("request", method = %request.method(), path = %request.uri().path(), version = ?request.version())
}

/// API clients always get the JSON error shape; browsers asking for a page get text.
async fn not_found(uri: Uri) -> Response {
    if uri.path().starts_with("/v1/") || uri.path() == "/v1" {
        AppError::NotFound.into_response()
    } else {
        (StatusCode::NOT_FOUND, "not found\n").into_response()
    }
}

/// A wrong method on a known path: 405 (axum adds the `Allow` header listing the right ones),
/// in the API's JSON error shape under `/v1`.
async fn method_not_allowed(uri: Uri) -> Response {
    if uri.path().starts_with("/v1/") {
        AppError::MethodNotAllowed.into_response()
    } else {
        (StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n").into_response()
    }
}
