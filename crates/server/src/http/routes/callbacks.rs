//! Callbacks: the visitor's request (validated, E.164 phone, slot within business hours), the
//! slots to pick from, the follow-up with the receipt's token, and the operator's queue and
//! status changes. Names and phone numbers are never logged.

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use porchlight_protocol::{
    CallbackChange, CallbackList, CallbackReceipt, CallbackSlots, CallbackStatus, CallbackStatusUpdate, FieldErrorCode,
    NewCallback,
};

use crate::app::error::AppError;
use crate::app::state::AppState;
use crate::domain::callbacks::slots;
use crate::domain::webhooks::Outbox;
use crate::domain::{new_id, request_fingerprint, IdempotencyKey, Reference, Token, ValidCallback};
use crate::http::extract::{ApiJson, Bearer, CurrentSite, ResourceId};
use crate::http::operator::ConsoleOperator;
use crate::http::respond::no_store;
use crate::http::respond::respond;
use crate::store::{NewCallbackRow, StoreError};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/sites/{site}/callbacks", get(list_callbacks).post(create_callback))
        .route("/v1/sites/{site}/callbacks/slots", get(callback_slots))
        .route("/v1/sites/{site}/callbacks/{reference}", get(follow_up).put(visitor_change).delete(visitor_cancel))
        .route("/v1/sites/{site}/callbacks/{reference}/status", put(set_status))
}

async fn create_callback(
    State(state): State<AppState>,
    CurrentSite(site): CurrentSite,
    key: IdempotencyKey,
    ApiJson(new): ApiJson<NewCallback>,
) -> Result<Response, AppError> {
    let now = state.clock().now_ms();
    // Business hours only: 2 hours asked at 17:50 with an 18:00 close is 10:50 next business day.
    let asap_due_ms = crate::app::ledger::callback_due(&state, &site, now).await?;
    if new.is_honeypot_filled() {
        // Look exactly like success, so the bot has nothing to learn from; keep nothing it sent.
        state.store().count_spam_drop(&site.id, now).await?;
        tracing::info!(site = %site.id, "callback honeypot filled; dropped");
        let receipt = CallbackReceipt {
            reference: Reference::generate().as_str().to_owned(),
            status: CallbackStatus::Received,
            due_ms: asap_due_ms,
            token: Some(Token::generate().into_string()),
        };
        return Ok(respond(true, receipt));
    }
    let callback = ValidCallback::parse(&new, &site, now)?;
    let request_hash = request_fingerprint(&new);
    // A chosen slot is due at its end; "as soon as possible" within the promised business hours.
    let due_ms = match callback.preferred_ms {
        Some(preferred) => preferred + i64::from(site.callback_slot_minutes) * 60_000,
        None => asap_due_ms,
    };
    let token = Token::generate();
    let token_hash = token.hash();
    let id = new_id("cb");
    let outbox = Outbox::for_site(&site);
    // References are short, so two can collide; a collision just means drawing another one.
    let mut attempts = 0;
    let stored = loop {
        let reference = Reference::generate();
        let row = NewCallbackRow {
            id: &id,
            reference: &reference,
            callback: &callback,
            due_ms,
            token_hash: &token_hash,
            now_ms: now,
            request_hash: &request_hash,
        };
        match state.store().insert_callback(&site.id, &key, row, &outbox).await {
            Err(StoreError::ReferenceTaken) if attempts < 5 => attempts += 1,
            other => break other?,
        }
    };
    let created = stored.is_created();
    let record = stored.into_inner();
    if created {
        if let Err(e) = crate::app::ledger::callback_booked(&state, &site, &record.reference, record.due_ms).await {
            tracing::warn!(error = %e, "cannot record the callback's promise");
        }
    }
    let receipt = CallbackReceipt {
        reference: record.reference,
        status: CallbackStatus::parse(&record.status),
        due_ms: record.due_ms,
        // Only the token's hash is stored, so a replay cannot repeat it. The visitor who lost
        // the first response still has the reference to quote.
        token: created.then(|| token.into_string()),
    };
    Ok(respond(created, receipt))
}

/// Bookable slots over the next business days, for the visitor's "preferred time" list.
async fn callback_slots(State(state): State<AppState>, CurrentSite(site): CurrentSite) -> Result<Response, AppError> {
    let now = state.clock().now_ms();
    let body = CallbackSlots {
        timezone: site.timezone.clone(),
        slot_minutes: site.callback_slot_minutes,
        asap_due_ms: crate::app::ledger::callback_due(&state, &site, now).await?,
        slots: slots(&site.hours, now, site.callback_slot_minutes),
    };
    let mut response = Json(body).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}

/// The visitor's follow-up: 401 without a token; 404 alike for an unknown reference and a
/// wrong token, so a guessed reference (`PL-` + 6 characters) learns nothing.
async fn follow_up(
    State(state): State<AppState>,
    CurrentSite(site): CurrentSite,
    ResourceId(reference): ResourceId,
    Bearer(token): Bearer,
) -> Result<Response, AppError> {
    let follow_up = crate::app::callbacks::authorize(&state, &site, &reference, &token).await?;
    Ok(no_store(Json(follow_up).into_response()))
}

/// The visitor moves their callback to another time (or "as soon as possible").
async fn visitor_change(
    State(state): State<AppState>,
    CurrentSite(site): CurrentSite,
    ResourceId(reference): ResourceId,
    Bearer(token): Bearer,
    ApiJson(change): ApiJson<CallbackChange>,
) -> Result<Response, AppError> {
    let changed = crate::app::callbacks::change(&state, &site, &reference, &token, change).await?;
    Ok(no_store(Json(changed).into_response()))
}

/// The visitor cancels their callback: 204, also when it already was.
async fn visitor_cancel(
    State(state): State<AppState>,
    CurrentSite(site): CurrentSite,
    ResourceId(reference): ResourceId,
    Bearer(token): Bearer,
) -> Result<Response, AppError> {
    crate::app::callbacks::cancel(&state, &site, &reference, &token).await?;
    Ok(axum::http::StatusCode::NO_CONTENT.into_response())
}

/// `?status=pending` (received or scheduled; the default), one status, or `all`.
async fn list_callbacks(
    State(state): State<AppState>,
    CurrentSite(site): CurrentSite,
    _operator: ConsoleOperator,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    use CallbackStatus::*;
    let raw = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "status")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| "pending".into());
    let statuses = match raw.as_str() {
        "pending" => vec![Received, Scheduled],
        "all" => vec![Received, Scheduled, Done, Unreachable, Cancelled],
        other => match CallbackStatus::parse(other) {
            Unknown => {
                return Err(AppError::field(
                    "status",
                    FieldErrorCode::Unsupported,
                    "status must be pending, all, received, scheduled, done, unreachable or cancelled.",
                ))
            }
            known => vec![known],
        },
    };
    let callbacks = state.store().callbacks(&site.id, &statuses).await?;
    Ok(no_store(Json(CallbackList { callbacks }).into_response()))
}

async fn set_status(
    State(state): State<AppState>,
    CurrentSite(site): CurrentSite,
    ResourceId(reference): ResourceId,
    operator: ConsoleOperator,
    ApiJson(update): ApiJson<CallbackStatusUpdate>,
) -> Result<Response, AppError> {
    if update.status == CallbackStatus::Unknown {
        return Err(AppError::field(
            "status",
            FieldErrorCode::Unsupported,
            "status must be received, scheduled, done or unreachable.",
        ));
    }
    if matches!(update.due_ms, Some(ms) if ms <= 0) {
        return Err(AppError::field("due_ms", FieldErrorCode::Invalid, "due_ms must be a positive Unix time in ms."));
    }
    let now = state.clock().now_ms();
    let outbox = Outbox::for_site(&site);
    let updated = state
        .store()
        .set_callback_status(&site.id, &reference, update.status, update.due_ms, now, &outbox)
        .await?
        .ok_or(AppError::NotFound)?;
    tracing::info!(site = %site.id, status = update.status.as_str(), "callback status set");
    if matches!(update.status, CallbackStatus::Done | CallbackStatus::Unreachable) {
        // Called (answered or not): the callback promise is decided by when.
        if let Err(e) = crate::app::ledger::called_back(&state, &reference, Some(&operator.id)).await {
            tracing::warn!(error = %e, "cannot resolve the callback's promise");
        }
    }
    Ok(no_store(Json(updated).into_response()))
}
