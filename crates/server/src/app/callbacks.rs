//! What a visitor may do with the callback they booked, by its token: see it (follow-up),
//! move it to another time, or cancel it. Each change is a `callback.updated` webhook and shows
//! in the operators' queue; the ledger's promise moves with it, or is void when cancelled.

use porchlight_protocol::{CallbackChange, CallbackFollowUp, CallbackStatus};

use crate::app::error::AppError;
use crate::app::state::AppState;
use crate::domain::callbacks::check_preferred;
use crate::domain::webhooks::Outbox;
use crate::domain::{Site, Token};

/// The callback, when `token` is its own; a wrong token answers like an unknown reference.
pub async fn authorize(
    state: &AppState,
    site: &Site,
    reference: &str,
    token: &Token,
) -> Result<CallbackFollowUp, AppError> {
    let (token_hash, follow_up) = state.store().callback(&site.id, reference).await?.ok_or(AppError::NotFound)?;
    if token.hash().as_str() != token_hash {
        return Err(AppError::NotFound);
    }
    Ok(follow_up)
}

const ALREADY_CALLED: &str = "This callback was already made; there is nothing to change.";

fn still_open(f: &CallbackFollowUp) -> Result<(), AppError> {
    match f.status {
        CallbackStatus::Received | CallbackStatus::Scheduled => Ok(()),
        CallbackStatus::Cancelled => Err(AppError::Conflict("This callback was cancelled.")),
        _ => Err(AppError::Conflict(ALREADY_CALLED)),
    }
}

/// Cancelled by the visitor: no call will be made, and the promise to call is void. Repeating
/// it changes nothing.
pub async fn cancel(state: &AppState, site: &Site, reference: &str, token: &Token) -> Result<(), AppError> {
    let current = authorize(state, site, reference, token).await?;
    if current.status == CallbackStatus::Cancelled {
        return Ok(());
    }
    still_open(&current)?;
    let now_ms = state.clock().now_ms();
    state
        .store()
        .set_callback_status(&site.id, reference, CallbackStatus::Cancelled, None, now_ms, &Outbox::for_site(site))
        .await?;
    state.store().void_promises(reference, "cancelled_by_visitor", now_ms).await?;
    tracing::info!(site = %site.id, "callback cancelled by the visitor");
    Ok(())
}

/// Another time (a bookable slot start), or as soon as possible (`preferred_ms: null`, due as
/// posted now).
pub async fn change(
    state: &AppState,
    site: &Site,
    reference: &str,
    token: &Token,
    change: CallbackChange,
) -> Result<CallbackFollowUp, AppError> {
    still_open(&authorize(state, site, reference, token).await?)?;
    let now_ms = state.clock().now_ms();
    let due_ms = match change.preferred_ms {
        Some(preferred) => {
            check_preferred(&site.hours, now_ms, preferred, site.callback_slot_minutes)
                .map_err(|(code, message)| AppError::field("preferred_ms", code, message))?;
            preferred + i64::from(site.callback_slot_minutes) * 60_000
        }
        None => crate::app::ledger::callback_due(state, site, now_ms).await?,
    };
    let changed = state
        .store()
        .reschedule_callback(&site.id, reference, change.preferred_ms, due_ms, now_ms, &Outbox::for_site(site))
        .await?
        // Called or cancelled between the check and the write.
        .ok_or(AppError::Conflict(ALREADY_CALLED))?;
    tracing::info!(site = %site.id, "callback moved by the visitor");
    Ok(changed)
}
