//! Personal data use cases: a person's data exported or erased (by an admin, audited), a
//! visitor erasing their own conversation, and the retention worker that removes what is past
//! each site's retention. Rows: [`crate::store::privacy`]; ages: [`crate::domain::retention`].

use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::app::error::AppError;
use crate::app::events::{LiveEvent, LiveEventKind};
use crate::app::state::AppState;
use crate::domain::Site;
use crate::store::privacy::{AuditEntry, Removed, Subject};
use crate::store::Store;

/// A person as an admin names them: exactly one of an e-mail, a phone or a conversation id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    Email(String),
    /// E.164, as callbacks store it.
    Phone(String),
    Conversation(String),
}

impl Selector {
    /// Reads the one selector given, checked and normalised as the API stores it (a phone in
    /// any written form, read with the site's default country). Errors name the field.
    pub fn parse(
        site: &Site,
        email: Option<&str>,
        phone: Option<&str>,
        conversation: Option<&str>,
    ) -> Result<Selector, (&'static str, String)> {
        match (email, phone, conversation) {
            (Some(email), None, None) => crate::app::email::parse_email(email)
                .map(Selector::Email)
                .map_err(|_| ("email", "email must be an address like name@example.com".to_owned())),
            (None, Some(phone), None) => {
                let region = site.default_country.as_deref().and_then(crate::domain::callbacks::parse_country);
                crate::domain::callbacks::normalise_phone(phone, region)
                    .map(Selector::Phone)
                    .map_err(|e| ("phone", e.message.to_owned()))
            }
            (None, None, Some(id)) if !id.trim().is_empty() && id.len() <= 64 => {
                Ok(Selector::Conversation(id.trim().to_owned()))
            }
            (None, None, Some(_)) => Err(("conversation", "conversation must be a conversation id".to_owned())),
            _ => Err(("selector", "give exactly one of email, phone or conversation".to_owned())),
        }
    }

    pub fn subject(&self) -> Subject<'_> {
        match self {
            Selector::Email(e) => Subject::Email(e),
            Selector::Phone(p) => Subject::Phone(p),
            Selector::Conversation(c) => Subject::Conversation(c),
        }
    }
}

/// Everything held about the person on the site, as one JSON document; audited.
pub async fn export(
    store: &dyn Store,
    site: &Site,
    who: &Selector,
    actor: &str,
    now_ms: i64,
) -> Result<Value, AppError> {
    let tables = store.export_person(&site.id, who.subject()).await?;
    let rows = tables.as_object().map_or(0, |t| t.values().filter_map(Value::as_array).map(Vec::len).sum::<usize>());
    audit(store, site, who.subject(), actor, "export", rows as u64, now_ms).await?;
    let (kind, value) = match who {
        Selector::Email(v) | Selector::Phone(v) | Selector::Conversation(v) => (who.subject().kind(), v),
    };
    Ok(json!({
        "site": site.id.as_str(),
        "selector": { kind: value },
        "exported_ms": now_ms,
        "data": tables,
    }))
}

/// Deletes everything held about the person on the site; audited. Returns rows removed per table.
pub async fn erase(
    store: &dyn Store,
    site: &Site,
    who: &Selector,
    actor: &str,
    now_ms: i64,
) -> Result<Removed, AppError> {
    let removed = store.erase_person(&site.id, who.subject()).await?;
    let rows = removed.values().sum();
    audit(store, site, who.subject(), actor, "erase", rows, now_ms).await?;
    Ok(removed)
}

/// The visitor's own "Delete this conversation" (the caller checked their token).
pub async fn visitor_erase(state: &AppState, site: &Site, conversation_id: &str) -> Result<(), AppError> {
    let subject = Subject::Conversation(conversation_id);
    let removed = state.store().erase_person(&site.id, subject).await?;
    let rows = removed.values().sum();
    audit(state.store(), site, subject, "visitor", "visitor_erase", rows, state.clock().now_ms()).await?;
    // Consoles drop it from their open lists, as for a close.
    state.events().publish(LiveEvent {
        site: site.id.as_str().to_owned(),
        conversation_id: conversation_id.to_owned(),
        kind: LiveEventKind::Closed { closed_ms: state.clock().now_ms() },
    });
    Ok(())
}

async fn audit(
    store: &dyn Store,
    site: &Site,
    subject: Subject<'_>,
    actor: &str,
    action: &str,
    rows: u64,
    at_ms: i64,
) -> Result<(), AppError> {
    let entry = AuditEntry {
        at_ms,
        actor: actor.to_owned(),
        action: action.to_owned(),
        site: site.id.as_str().to_owned(),
        selector: subject.kind().to_owned(),
        rows: rows as i64,
    };
    store.audit(&entry).await?;
    Ok(())
}

/// Rows per retention batch: one short write each, so chat messages queued behind it wait
/// a few milliseconds at most.
pub const PURGE_BATCH: u32 = 200;

/// One retention pass over every site at `now_ms`: removes what is past each kind's age, in
/// batches. Returns the rows removed or anonymised.
pub async fn purge_expired(state: &AppState, now_ms: i64) -> Result<u64, AppError> {
    let mut total = 0;
    for id in state.site_ids() {
        let Some(site) = state.site(id.as_str()) else { continue };
        for (what, cutoff_ms) in site.retention.cutoffs(now_ms) {
            loop {
                let done = state.store().purge(&site.id, what, cutoff_ms, PURGE_BATCH).await?;
                total += done;
                if done < u64::from(PURGE_BATCH) {
                    break;
                }
                // Let other writers in between batches.
                tokio::task::yield_now().await;
            }
        }
    }
    if total > 0 {
        tracing::info!(rows = total, "retention: removed or anonymised rows past their age");
    }
    Ok(total)
}

/// How often retention runs (and once shortly after start).
pub const PURGE_EVERY: Duration = Duration::from_secs(3_600);

/// Runs [`purge_expired`] on the app's clock every [`PURGE_EVERY`].
pub struct RetentionWorker {
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl RetentionWorker {
    pub fn spawn(state: AppState) -> RetentionWorker {
        let (stop, mut stopped) = oneshot::channel();
        let task = tokio::spawn(async move {
            let mut wait = Duration::from_secs(5);
            loop {
                tokio::select! {
                    _ = &mut stopped => return,
                    () = tokio::time::sleep(wait) => {}
                }
                if let Err(e) = purge_expired(&state, state.clock().now_ms()).await {
                    tracing::warn!(error = %e, "retention pass failed; trying again later");
                }
                wait = PURGE_EVERY;
            }
        });
        RetentionWorker { stop: Some(stop), task }
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = self.task.await;
    }
}
