//! Personal data over HTTP: a visitor deleting their own conversation, and the admin-only
//! export, erase, audit log and dead webhook deliveries (the same use cases as `porchlight data`
//! and `porchlight webhooks`).
//!
//! Selectors travel in POST bodies, never in URLs: proxies and access logs keep URLs.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use porchlight_protocol::FieldErrorCode;
use serde::Deserialize;
use serde_json::json;

use crate::app::error::AppError;
use crate::app::privacy::Selector;
use crate::app::state::AppState;
use crate::http::extract::{ApiJson, Bearer, ConversationId, CurrentSite};
use crate::http::operator::ConsoleOperator;
use crate::http::respond::no_store;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/sites/{site}/conversations/{id}", delete(visitor_erase))
        .route("/v1/console/data/export", post(export))
        .route("/v1/console/data/erase", post(erase))
        .route("/v1/console/audit", get(audit_log))
        .route("/v1/console/webhooks/dead", get(dead_webhooks))
        .route("/v1/console/webhooks/dead/retry", post(retry_webhooks))
        .route("/v1/console/webhooks/dead/drop", post(drop_webhooks))
}

/// "Delete this conversation": by its visitor token; 204, then 404 like any unknown id.
async fn visitor_erase(
    State(state): State<AppState>,
    CurrentSite(site): CurrentSite,
    ConversationId(id): ConversationId,
    Bearer(token): Bearer,
) -> Result<Response, AppError> {
    crate::app::chat::authorize_visitor(&state, &site, &id, &token).await?;
    crate::app::privacy::visitor_erase(&state, &site, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PersonRequest {
    site: String,
    email: Option<String>,
    phone: Option<String>,
    conversation: Option<String>,
}

async fn person(
    state: &AppState,
    operator: &ConsoleOperator,
    request: &PersonRequest,
) -> Result<(std::sync::Arc<crate::domain::Site>, Selector), AppError> {
    operator.require_admin(state).await?;
    let site = state
        .site(&request.site)
        .ok_or_else(|| AppError::field("site", FieldErrorCode::Invalid, "site must be a configured site id."))?;
    let selector =
        Selector::parse(&site, request.email.as_deref(), request.phone.as_deref(), request.conversation.as_deref())
            .map_err(|(field, message)| AppError::field(field, FieldErrorCode::Invalid, message))?;
    Ok((site, selector))
}

async fn export(
    State(state): State<AppState>,
    operator: ConsoleOperator,
    ApiJson(request): ApiJson<PersonRequest>,
) -> Result<Response, AppError> {
    let (site, selector) = person(&state, &operator, &request).await?;
    let data =
        crate::app::privacy::export(state.store(), &site, &selector, &operator.actor(), state.clock().now_ms()).await?;
    Ok(no_store(Json(data).into_response()))
}

async fn erase(
    State(state): State<AppState>,
    operator: ConsoleOperator,
    ApiJson(request): ApiJson<PersonRequest>,
) -> Result<Response, AppError> {
    let (site, selector) = person(&state, &operator, &request).await?;
    let removed =
        crate::app::privacy::erase(state.store(), &site, &selector, &operator.actor(), state.clock().now_ms()).await?;
    Ok(no_store(Json(json!({ "removed": removed })).into_response()))
}

async fn audit_log(State(state): State<AppState>, operator: ConsoleOperator) -> Result<Response, AppError> {
    operator.require_admin(&state).await?;
    let entries = state.store().audit_log(500).await?;
    Ok(no_store(Json(json!({ "entries": entries })).into_response()))
}

async fn dead_webhooks(State(state): State<AppState>, operator: ConsoleOperator) -> Result<Response, AppError> {
    operator.require_admin(&state).await?;
    let dead = state.store().dead_webhooks().await?;
    Ok(no_store(Json(json!({ "dead": dead })).into_response()))
}

/// `{"ids": [1, 2]}`, or `{"ids": null}` for every dead delivery.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeadIds {
    ids: Option<Vec<i64>>,
}

async fn retry_webhooks(
    State(state): State<AppState>,
    operator: ConsoleOperator,
    ApiJson(request): ApiJson<DeadIds>,
) -> Result<Response, AppError> {
    operator.require_admin(&state).await?;
    let retried = state.store().revive_webhooks(request.ids.as_deref(), state.clock().now_ms()).await?;
    Ok(Json(json!({ "retried": retried })).into_response())
}

async fn drop_webhooks(
    State(state): State<AppState>,
    operator: ConsoleOperator,
    ApiJson(request): ApiJson<DeadIds>,
) -> Result<Response, AppError> {
    operator.require_admin(&state).await?;
    let dropped = state.store().drop_webhooks(request.ids.as_deref()).await?;
    Ok(Json(json!({ "dropped": dropped })).into_response())
}
