//! `POST /v1/sites/{site}/noop`: a rating request that is checked and not stored. It passes the
//! same layers as `POST …/ratings` (site guard, rate limit, body limit, JSON, `Idempotency-Key`,
//! validation against the site's scale) and answers 204 without touching the database, so the
//! load benchmark can compare durable writes with everything-but-the-write on the same server.
//! It is harmless to expose: it keeps nothing and is rate limited like any other write.

use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use porchlight_protocol::NewRating;

use crate::app::error::AppError;
use crate::app::state::AppState;
use crate::domain::{IdempotencyKey, ValidRating};
use crate::http::extract::{ApiJson, CurrentSite};

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/sites/{site}/noop", post(noop))
}

async fn noop(
    CurrentSite(site): CurrentSite,
    _key: IdempotencyKey,
    ApiJson(new): ApiJson<NewRating>,
) -> Result<StatusCode, AppError> {
    ValidRating::parse(new, &site)?;
    Ok(StatusCode::NO_CONTENT)
}
