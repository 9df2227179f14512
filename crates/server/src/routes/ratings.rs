//! Ratings: the visitor's one-click create, change and undo within the site's window, and the
//! operator's summary and CSV export. Report arithmetic lives in [`crate::domain::ratings`].

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use porchlight_protocol::{NewRating, RatingChange};

use crate::domain::ratings::{self, DEFAULT_SUMMARY_DAYS};
use crate::domain::{new_id, request_fingerprint, IdempotencyKey, RatingUpdate, Site, Token, ValidRating};
use crate::error::AppError;
use crate::extract::{days_param, ApiJson, Bearer, CurrentSite, ResourceId};
use crate::routes::api::respond;
use crate::routes::console::ConsoleOperator;
use crate::routes::no_store;
use crate::state::AppState;
use crate::store::{NewRatingRow, RatingChangeOutcome};
use crate::webhooks::Outbox;

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
    operator: ConsoleOperator,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    // Only their own sites: another site answers as if it did not exist.
    operator.check_site(site.id.as_str())?;
    let days = days_param(query.as_deref(), Some(DEFAULT_SUMMARY_DAYS))?.unwrap_or(DEFAULT_SUMMARY_DAYS);
    let now_ms = state.clock().now_ms();
    let tz = site.hours.timezone();
    let from_ms = ratings::window_start_ms(tz, now_ms, days)
        .ok_or_else(|| AppError::Internal("summary window out of range".into()))?;
    let rows = state.store().ratings(&site.id, from_ms).await?;
    let body = ratings::summarize(site.id.as_str(), site.rating_scale, tz, days, from_ms, now_ms, &rows);
    Ok(no_store(Json(body).into_response()))
}

/// All ratings that are not undone (or the last `?days=N` site-local days), oldest first.
async fn export_csv(
    State(state): State<AppState>,
    CurrentSite(site): CurrentSite,
    operator: ConsoleOperator,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    // Only their own sites: another site answers as if it did not exist.
    operator.check_site(site.id.as_str())?;
    let tz = site.hours.timezone();
    let since_ms = match days_param(query.as_deref(), None)? {
        Some(days) => ratings::window_start_ms(tz, state.clock().now_ms(), days)
            .ok_or_else(|| AppError::Internal("export window out of range".into()))?,
        None => i64::MIN,
    };
    let rows = state.store().ratings(&site.id, since_ms).await?;
    let mut response = ratings::to_csv(site.id.as_str(), tz, &rows).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    if let Ok(disposition) =
        HeaderValue::from_str(&format!("attachment; filename=\"ratings-{}.csv\"", site.id.as_str()))
    {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    Ok(no_store(response))
}
