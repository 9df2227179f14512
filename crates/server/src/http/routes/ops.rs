//! For load balancers, systemd and monitoring: `/healthz` (the process answers), `/readyz`
//! (it can do its work: database writable, migrations applied, writer not stalled), and
//! `/metrics` (Prometheus text; Bearer: the operator token).

use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::app::error::AppError;
use crate::app::state::AppState;
use crate::http::extract::Operator;

/// A write slower than this counts as a stalled writer (a healthy one commits in milliseconds).
pub const READY_WRITE_TIMEOUT: Duration = Duration::from_secs(2);

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

async fn metrics(State(state): State<AppState>, Operator: Operator) -> Result<Response, AppError> {
    let text = state.metrics().render(&state).await?;
    let mut response = text.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    Ok(crate::http::respond::no_store(response))
}

async fn readyz(State(state): State<AppState>) -> Response {
    let migrations = match state.store().migrations_applied().await {
        Ok(true) => Ok(()),
        Ok(false) => Err("migrations pending".to_owned()),
        Err(e) => Err(format!("cannot read migrations: {e}")),
    };
    let writer = match tokio::time::timeout(READY_WRITE_TIMEOUT, state.store().probe_write()).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(format!("database not writable: {e}")),
        Err(_) => Err(format!("writer stalled: no write within {} ms", READY_WRITE_TIMEOUT.as_millis())),
    };
    let status = |r: &Result<(), String>| r.as_ref().err().map_or("ok".to_owned(), Clone::clone);
    let body = Json(json!({
        "ready": migrations.is_ok() && writer.is_ok(),
        "migrations": status(&migrations),
        "writer": status(&writer),
    }));
    if migrations.is_ok() && writer.is_ok() {
        crate::http::respond::no_store(body.into_response())
    } else {
        tracing::warn!(migrations = %status(&migrations), writer = %status(&writer), "not ready");
        crate::http::respond::no_store((StatusCode::SERVICE_UNAVAILABLE, body).into_response())
    }
}
