//! Ratings: the visitor's one-click create, change and undo within the site's window, and the
//! operator's summary and CSV export. Report arithmetic lives in [`crate::domain::ratings`].

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use porchlight_protocol::{NewRating, RatingChange};

use crate::app::error::AppError;
use crate::app::state::AppState;
use crate::domain::ratings::{self, DEFAULT_SUMMARY_DAYS};
use crate::domain::webhooks::Outbox;
use crate::domain::{new_id, request_fingerprint, IdempotencyKey, RatingUpdate, Site, Token, ValidRating};
use crate::http::extract::{ApiJson, Bearer, CurrentSite, ResourceId};
use crate::http::operator::ConsoleOperator;
use crate::http::respond::respond;
use crate::http::respond::{csv_download, no_store, report_window};
use crate::store::{NewRatingRow, RatingChangeOutcome};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/sites/{site}/ratings", post(create_rating))
        .route("/v1/sites/{site}/ratings/summary", get(summary))
        .route("/v1/sites/{site}/ratings.csv", get(export_csv))
        .route("/v1/sites/{site}/ratings/{id}", put(change_rating).delete(undo_rating))
}

/// 201 with a change token on the first request; 200 with the rating as it is now, without a
/// token, on a replay (the token's hash is all that is stored).
async fn create_rating(
    State(state): State<AppState>,
    CurrentSite(site): CurrentSite,
    key: IdempotencyKey,
    ApiJson(new): ApiJson<NewRating>,
) -> Result<Response, AppError> {
    let request_hash = request_fingerprint(&new);
    let rating = ValidRating::parse(new, &site)?;
    let now_ms = state.clock().now_ms();
    let token = Token::generate();
    let row = NewRatingRow {
        id: &new_id("rt"),
        rating: &rating,
        token_hash: &token.hash(),
        changeable_until_ms: now_ms + i64::from(site.rating_change_window_secs) * 1000,
        now_ms,
        request_hash: &request_hash,
    };
    let stored = state.store().insert_rating(&site.id, &key, row, &Outbox::for_site(&site)).await?;
    let created = stored.is_created();
    let mut receipt = stored.into_inner();
    if created {
        receipt.token = Some(token.into_string());
    } else {
        receipt.changeable_until_ms = None;
    }
    Ok(respond(created, receipt))
}

async fn apply(
    state: &AppState,
    site: &Site,
    id: &str,
    token: &Token,
    update: RatingUpdate,
) -> Result<Response, AppError> {
    let now_ms = state.clock().now_ms();
    let outbox = Outbox::for_site(site);
    let outcome = state.store().update_rating(&site.id, id, &token.hash(), &update, now_ms, &outbox).await?;
    match outcome {
        RatingChangeOutcome::Changed(_) if update == RatingUpdate::Undo => Ok(StatusCode::NO_CONTENT.into_response()),
        RatingChangeOutcome::Changed(receipt) => Ok(Json(receipt).into_response()),
        RatingChangeOutcome::NotFound => Err(AppError::NotFound),
        // The same answer as for an unknown id: a wrong token must not confirm that an id exists.
        RatingChangeOutcome::WrongToken => Err(AppError::NotFound),
        RatingChangeOutcome::WindowClosed => Err(AppError::ChangeWindowClosed),
    }
}

/// A new value and/or a "Tell us more" comment; the same row is updated.
async fn change_rating(
    State(state): State<AppState>,
    CurrentSite(site): CurrentSite,
    ResourceId(id): ResourceId,
    Bearer(token): Bearer,
    ApiJson(change): ApiJson<RatingChange>,
) -> Result<Response, AppError> {
    let update = RatingUpdate::parse(change, &site)?;
    apply(&state, &site, &id, &token, update).await
}

/// Undo: the row is kept but marked undone (soft delete), so a replayed create cannot bring
/// it back and reports leave it out. Repeating the undo is harmless (204 again).
async fn undo_rating(
    State(state): State<AppState>,
    CurrentSite(site): CurrentSite,
    ResourceId(id): ResourceId,
    Bearer(token): Bearer,
) -> Result<Response, AppError> {
    apply(&state, &site, &id, &token, RatingUpdate::Undo).await
}

async fn summary(
    State(state): State<AppState>,
    CurrentSite(site): CurrentSite,
    _operator: ConsoleOperator,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let now_ms = state.clock().now_ms();
    let (days, from_ms) = report_window(&site, now_ms, query.as_deref(), Some(DEFAULT_SUMMARY_DAYS))?;
    let days = days.unwrap_or(DEFAULT_SUMMARY_DAYS);
    let tz = site.hours.timezone();
    let rows = state.store().ratings(&site.id, from_ms).await?;
    let body = ratings::summarize(site.id.as_str(), site.rating_scale, tz, days, from_ms, now_ms, &rows);
    Ok(no_store(Json(body).into_response()))
}

/// All ratings that are not undone (or the last `?days=N` site-local days), oldest first.
async fn export_csv(
    State(state): State<AppState>,
    CurrentSite(site): CurrentSite,
    _operator: ConsoleOperator,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let (_, since_ms) = report_window(&site, state.clock().now_ms(), query.as_deref(), None)?;
    let rows = state.store().ratings(&site.id, since_ms).await?;
    Ok(csv_download(ratings::to_csv(site.id.as_str(), site.hours.timezone(), &rows), "ratings", &site))
}
