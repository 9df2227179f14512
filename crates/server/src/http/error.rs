//! [`AppError`] as an HTTP response: the protocol's error JSON, its status, and `Retry-After`
//! on a rate limit. Server errors are logged here, client errors are not (the request log has
//! the status).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use porchlight_protocol::ApiError;

use crate::app::error::AppError;

/// Builds the JSON response for an API error. Shared by [`AppError`] and by anything that
/// answers before any handler runs.
pub fn api_error_response(error: &ApiError) -> Response {
    let status = StatusCode::from_u16(error.error.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(error)
        .unwrap_or_else(|_| br#"{"error":{"code":"internal","message":"Internal server error."}}"#.to_vec());
    let mut response = (status, body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match &self {
            AppError::Database(e) => tracing::error!(error = %e, "database error"),
            AppError::Internal(e) => tracing::error!(error = %e, "internal error"),
            // Client errors are routine; the request log line already shows the status.
            _ => {}
        }
        let mut response = api_error_response(&self.to_api_error());
        if let AppError::RateLimited { retry_after_secs } = self {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        response
    }
}
