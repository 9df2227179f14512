//! `/v1/console/operators`: admins manage operator accounts from the console (the use cases of
//! [`crate::app::operators`]; `porchlight operator` does the same from the command line).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use porchlight_protocol::{NewOperator, OperatorAccess, OperatorAccounts};

use crate::app::error::AppError;
use crate::app::state::AppState;
use crate::http::extract::ApiJson;
use crate::http::operator::AdminOperator;
use crate::http::respond::{no_store, respond};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/console/operators", get(list).post(create))
        .route("/v1/console/operators/{id}", put(update).delete(remove))
}

async fn list(State(state): State<AppState>, AdminOperator(_): AdminOperator) -> Result<Response, AppError> {
    let operators = crate::app::operators::list(&state).await?;
    Ok(no_store(Json(OperatorAccounts { operators }).into_response()))
}

async fn create(
    State(state): State<AppState>,
    AdminOperator(operator): AdminOperator,
    ApiJson(new): ApiJson<NewOperator>,
) -> Result<Response, AppError> {
    let created = crate::app::operators::create(&state, &operator.actor(), new).await?;
    tracing::info!(by = %operator.id, operator = %created.id, "operator added");
    Ok(no_store(respond(true, created)))
}

async fn update(
    State(state): State<AppState>,
    AdminOperator(operator): AdminOperator,
    Path(id): Path<String>,
    ApiJson(access): ApiJson<OperatorAccess>,
) -> Result<Response, AppError> {
    let updated = crate::app::operators::update(&state, &operator.id, &operator.actor(), &id, access).await?;
    tracing::info!(by = %operator.id, operator = %id, "operator access changed");
    Ok(no_store(Json(updated).into_response()))
}

async fn remove(
    State(state): State<AppState>,
    AdminOperator(operator): AdminOperator,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    crate::app::operators::remove(&state, &operator.id, &operator.actor(), &id).await?;
    tracing::info!(by = %operator.id, operator = %id, "operator removed");
    Ok(StatusCode::NO_CONTENT.into_response())
}
