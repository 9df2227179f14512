//! Posted wait-time expectations: `GET /v1/sites/{site}/availability` for widgets and loaders,
//! and `PUT /v1/sites/{site}/presence` for operators. The rules live in
//! [`crate::domain::availability`]; this module gathers the inputs and handles caching.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use porchlight_protocol::{FieldErrorCode, Presence, PresenceUpdate};
use sha2::{Digest, Sha256};

use crate::app::error::AppError;
use crate::app::state::AppState;
use crate::domain::availability::{floor_to_minute, OperatorStatus};
use crate::domain::hex;
use crate::http::extract::{ApiJson, Bearer, CurrentSite};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/sites/{site}/availability", get(get_availability))
        .route("/v1/sites/{site}/presence", put(set_presence))
}

/// Computed for the current minute, so every poll within a minute (and every later one while
/// nothing changed) gets the same body and `ETag`, and `If-None-Match` gets a 304.
async fn get_availability(
    State(state): State<AppState>,
    CurrentSite(site): CurrentSite,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let now_ms = floor_to_minute(state.clock().now_ms());
    let body = crate::app::ledger::current_availability(&state, &site, now_ms).await?;
    let bytes = serde_json::to_vec(&body).map_err(|e| AppError::Internal(e.to_string()))?;
    let etag = format!("\"{}\"", &hex(&Sha256::digest(&bytes))[..32]);
    let etag_value = HeaderValue::from_str(&etag).map_err(|e| AppError::Internal(e.to_string()))?;

    let mut response = if if_none_match(&headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = (StatusCode::OK, bytes).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        response
    };
    let headers = response.headers_mut();
    headers.insert(header::ETAG, etag_value);
    // Any cache may keep it, but must ask again each time: the answer changes with presence.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}

/// Whether `If-None-Match` names `etag` (weak comparison, as RFC 9110 asks for this header).
fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers.get_all(header::IF_NONE_MATCH).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(
        |candidate| {
            let candidate = candidate.trim();
            candidate == "*" || candidate.strip_prefix("W/").unwrap_or(candidate) == etag
        },
    )
}

/// Operators say whether someone is at the desk. Without a configured operator token nobody
/// can: 401.
async fn set_presence(
    State(state): State<AppState>,
    CurrentSite(site): CurrentSite,
    Bearer(token): Bearer,
    ApiJson(update): ApiJson<PresenceUpdate>,
) -> Result<Response, AppError> {
    if !state.is_operator(&token.into_string()) {
        return Err(AppError::Unauthorized);
    }
    let status = OperatorStatus::from_wire(update.status).ok_or_else(|| {
        AppError::field("status", FieldErrorCode::Unsupported, "status must be \"online\" or \"away\".")
    })?;
    let now_ms = state.clock().now_ms();
    state.store().set_presence(&site.id, status, now_ms).await?;
    tracing::info!(site = %site.id, status = status.as_str(), "operator presence set");
    let mut response = Json(Presence { status: status.to_wire(), updated_ms: now_ms }).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn if_none_match_accepts_lists_weak_tags_and_star() {
        assert!(if_none_match(&with("\"abc\""), "\"abc\""));
        assert!(if_none_match(&with("\"x\", W/\"abc\""), "\"abc\""));
        assert!(if_none_match(&with("*"), "\"abc\""));
        assert!(!if_none_match(&with("\"abd\""), "\"abc\""));
        assert!(!if_none_match(&HeaderMap::new(), "\"abc\""));
    }
}
