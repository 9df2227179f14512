//! The promise ledger's use cases: availability as posted (calibrated by the ledger), recording a
//! promise when a visitor acts on it, resolving it when it is answered or void, and the sweeper
//! that breaks overdue promises at once. Rules: [`crate::domain::promises`]; rows:
//! [`crate::store::promises`].

use std::collections::HashMap;
use std::time::Duration;

use porchlight_protocol::{Availability, AvailabilityState};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::app::assignment::Member;
use crate::app::error::AppError;
use crate::app::events::{LiveEvent, LiveEventKind};
use crate::app::state::AppState;
use crate::domain::availability::{
    availability, callback_due_ms, message_reply_by_ms, AvailabilityInputs, HISTORY_WINDOW_MS,
};
use crate::domain::promises::{calibrated_secs, calibration_extra_business_ms, PromiseKind, CALIBRATION_WINDOW};
use crate::domain::webhooks::Outbox;
use crate::domain::Site;
use crate::store::promises::{Decided, NewPromise};

/// Availability at `now_ms` as visitors are told it: presence, hours, history, and a chat wait
/// raised by the ledger when recent promises were broken too often.
pub async fn current_availability(state: &AppState, site: &Site, now_ms: i64) -> Result<Availability, AppError> {
    Ok(availability_and_team(state, site, now_ms).await?.0)
}

/// [`current_availability`] and the team it was computed from (one read of presence and load,
/// reused to assign a new conversation).
pub async fn availability_and_team(
    state: &AppState,
    site: &Site,
    now_ms: i64,
) -> Result<(Availability, Vec<Member>), AppError> {
    let team = crate::app::assignment::team(state, site).await?;
    let presence = crate::app::presence::site_presence(state, site, &team).await?;
    let timings = state.store().conversation_timings(&site.id, now_ms - HISTORY_WINDOW_MS).await?;
    let mut answer = availability(&AvailabilityInputs {
        now_ms,
        hours: &site.hours,
        promises: &site.promises,
        presence,
        timings: &timings,
    });
    // Everyone online at capacity: busy, whatever the history says.
    if answer.state == AvailabilityState::Open && crate::app::assignment::all_full(&team) {
        answer.state = AvailabilityState::Busy;
    }
    let recent = state.store().recent_decided(&site.id, now_ms, CALIBRATION_WINDOW as u32).await?;
    let waits: Vec<(i64, bool)> = recent
        .iter()
        .filter(|d| d.kind == PromiseKind::ChatFirstReply)
        .map(|d| ((d.answered_ms - d.promised_ms) / 1000, d.kept))
        .collect();
    answer.chat.expected_wait_secs =
        calibrated_secs(answer.chat.expected_wait_secs, &waits, f64::from(site.target_kept_permille) / 1000.0);
    let extra = calibration_extra_ms(site, &recent, PromiseKind::MessageReply);
    answer.message.reply_by_ms = message_reply_by_ms(&site.hours, &site.promises, now_ms, extra);
    let extra = calibration_extra_ms(site, &recent, PromiseKind::Callback);
    answer.callback.due_ms = callback_due_ms(&site.hours, &site.promises, now_ms, extra);
    Ok((answer, team))
}

/// When a callback asked for now ("as soon as possible") is due, as posted: the site's
/// business hours, later by what the ledger learned from recent broken callback promises.
pub async fn callback_due(state: &AppState, site: &Site, now_ms: i64) -> Result<i64, AppError> {
    let recent = state.store().recent_decided(&site.id, now_ms, CALIBRATION_WINDOW as u32).await?;
    let extra = calibration_extra_ms(site, &recent, PromiseKind::Callback);
    Ok(callback_due_ms(&site.hours, &site.promises, now_ms, extra))
}

/// Business time to add to a kind's posted due time so that the site's target share of recent
/// promises of that kind would have been kept (0 while they are).
fn calibration_extra_ms(site: &Site, recent: &[Decided], kind: PromiseKind) -> i64 {
    let late: Vec<i64> = recent
        .iter()
        .filter(|d| d.kind == kind)
        .map(|d| site.hours.business_ms_between(d.due_ms, d.answered_ms))
        .collect();
    calibration_extra_business_ms(&late, f64::from(site.target_kept_permille) / 1000.0)
}

/// A visitor started a conversation, having been shown `shown` (availability computed before
/// their conversation was stored, so it does not count itself in the queue): while someone is
/// there, the chat's first-reply promise; otherwise the message's reply-by time.
pub async fn conversation_started(
    state: &AppState,
    site: &Site,
    conversation_id: &str,
    shown: &Availability,
    now_ms: i64,
) -> Result<(), AppError> {
    let (kind, due_ms) = match shown.state {
        AvailabilityState::Open | AvailabilityState::Busy => {
            (PromiseKind::ChatFirstReply, now_ms + i64::from(shown.chat.expected_wait_secs) * 1000)
        }
        _ => (PromiseKind::MessageReply, shown.message.reply_by_ms),
    };
    let promise = NewPromise { kind, subject_id: conversation_id, promised_ms: now_ms, due_ms };
    state.store().record_promise(&site.id, promise).await?;
    if kind == PromiseKind::MessageReply {
        // Nobody is there: someone must hear of it before the promised time.
        crate::app::email::alert_operators(state, &site.id, crate::app::email::ALERT_MESSAGE_LEFT, conversation_id)
            .await?;
    }
    Ok(())
}

/// A callback was booked, due at `due_ms`.
pub async fn callback_booked(state: &AppState, site: &Site, reference: &str, due_ms: i64) -> Result<(), AppError> {
    let promise =
        NewPromise { kind: PromiseKind::Callback, subject_id: reference, promised_ms: state.clock().now_ms(), due_ms };
    state.store().record_promise(&site.id, promise).await?;
    Ok(())
}

/// An operator replied in a conversation.
pub async fn replied(state: &AppState, conversation_id: &str, operator_id: Option<&str>) -> Result<(), AppError> {
    let kinds = [PromiseKind::ChatFirstReply, PromiseKind::MessageReply];
    state.store().answer_promise(&kinds, conversation_id, state.clock().now_ms(), operator_id).await?;
    Ok(())
}

/// The operator called back (done, or tried and the visitor did not answer).
pub async fn called_back(state: &AppState, reference: &str, operator_id: Option<&str>) -> Result<(), AppError> {
    state.store().answer_promise(&[PromiseKind::Callback], reference, state.clock().now_ms(), operator_id).await?;
    Ok(())
}

/// The conversation was closed: a promise not yet answered nor broken is void.
pub async fn closed(state: &AppState, conversation_id: &str) -> Result<(), AppError> {
    state.store().void_promises(conversation_id, "closed_unanswered", state.clock().now_ms()).await?;
    Ok(())
}

/// One sweep: every promise past its deadline unanswered is broken now, its webhook queued and
/// the operators' consoles told. Returns how many broke.
pub async fn sweep(state: &AppState) -> Result<usize, AppError> {
    sweep_with(state, &outboxes(state)).await
}

/// Every site's webhook outbox by site id (the sites are fixed for the server's life).
fn outboxes(state: &AppState) -> HashMap<String, Outbox> {
    state
        .site_ids()
        .iter()
        .filter_map(|id| state.site(id.as_str()))
        .map(|site| (site.id.as_str().to_owned(), Outbox::for_site(&site)))
        .collect()
}

async fn sweep_with(state: &AppState, outboxes: &HashMap<String, Outbox>) -> Result<usize, AppError> {
    let broken = state.store().break_overdue(state.clock().now_ms(), outboxes).await?;
    for promise in &broken {
        tracing::info!(site = %promise.site, kind = promise.kind.as_str(), "promise broken");
        state.events().publish(LiveEvent {
            site: promise.site.clone(),
            conversation_id: promise.subject_id.clone(),
            kind: LiveEventKind::PromiseBroken { kind: promise.kind.as_str(), due_ms: promise.due_ms },
        });
        if promise.kind != PromiseKind::Callback {
            if let Ok(site) = porchlight_protocol::SiteId::parse(&promise.site) {
                crate::app::email::alert_operators(
                    state,
                    &site,
                    crate::app::email::ALERT_PROMISE_BROKEN,
                    &promise.subject_id,
                )
                .await?;
                // And the visitor, if they gave an address: an apology and the new time.
                crate::app::email::running_late(state, &site, &promise.subject_id, promise.due_ms).await?;
            }
        }
    }
    Ok(broken.len())
}

/// How often the sweeper looks for broken promises.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(1);

/// The running sweeper; [`Sweeper::stop`] ends it.
pub struct Sweeper {
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Sweeper {
    pub fn spawn(state: AppState) -> Sweeper {
        let (stop, mut stopped) = oneshot::channel();
        let task = tokio::spawn(async move {
            let outboxes = outboxes(&state);
            loop {
                if let Err(e) = sweep_with(&state, &outboxes).await {
                    tracing::warn!(error = %e, "promise sweep failed");
                }
                tokio::select! {
                    _ = &mut stopped => break,
                    () = tokio::time::sleep(SWEEP_INTERVAL) => {}
                }
            }
        });
        Sweeper { stop: Some(stop), task }
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = self.task.await;
    }
}
