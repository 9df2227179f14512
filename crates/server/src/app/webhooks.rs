//! Webhooks: every accepted event (rating created or changed, callback created or updated,
//! message created) is written to the `webhook_outbox` table in the same transaction as its row,
//! one outbox row per configured endpoint. A background worker posts them and retries with
//! exponential backoff until the endpoint answers 2xx, so delivery is at least once: receivers
//! dedupe by the event's `id`. Undelivered rows survive a restart and are picked up again.
//!
//! The body is `{"id", "type", "site", "created_ms", "data"}`; the header
//! `Porchlight-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` lets
//! the receiver check it came from us and is recent (as Stripe does).

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::app::state::AppState;
use crate::domain::clock::{Clock, SystemClock};
use crate::domain::webhooks::{signature, DeliveryPolicy, SIGNATURE_HEADER};
use crate::store::OutboxRow;

/// How many due deliveries one pass of the worker takes.
const BATCH: u32 = 50;

/// The running worker; [`Worker::stop`] ends it after the delivery in progress.
pub struct Worker {
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Worker {
    pub fn spawn(state: AppState, policy: DeliveryPolicy) -> Worker {
        let (stop, mut stopped) = oneshot::channel();
        let task = tokio::spawn(async move {
            let client = match reqwest::Client::builder()
                .timeout(policy.timeout)
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(concat!("Porchlight-Webhooks/", env!("CARGO_PKG_VERSION")))
                .build()
            {
                Ok(client) => client,
                Err(e) => {
                    tracing::error!(error = %e, "cannot build the webhook client; webhooks are not delivered");
                    return;
                }
            };
            loop {
                deliver_due(&state, &client, &policy).await;
                tokio::select! {
                    _ = &mut stopped => break,
                    () = tokio::time::sleep(policy.poll_interval) => {}
                }
            }
        });
        Worker { stop: Some(stop), task }
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = self.task.await;
    }
}

/// One pass: every due delivery, oldest first. Times here are the wall clock: retries wait in
/// real time whatever the app's clock says.
pub async fn deliver_due(state: &AppState, client: &reqwest::Client, policy: &DeliveryPolicy) {
    let now_ms = SystemClock.now_ms();
    let due = match state.store().due_webhooks(now_ms, BATCH).await {
        Ok(due) => due,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the webhook outbox");
            return;
        }
    };
    for row in due {
        let outcome = deliver(state, client, &row).await;
        let now_ms = SystemClock.now_ms();
        let result = match outcome {
            Ok(()) => state.store().webhook_delivered(row.id, now_ms).await,
            Err(why) => {
                let failures = row.attempts + 1;
                let wait = policy.backoff(failures);
                // The row's times are the app's clock (a test's fake one too).
                let app_now_ms = state.clock().now_ms();
                let dead = app_now_ms - row.since_ms >= policy.dead_after.as_millis() as i64;
                // The event's id and type only: bodies can hold names and phone numbers.
                if dead {
                    tracing::warn!(event = %row.event_id, endpoint = %row.endpoint, attempt = failures, %why,
                        "webhook delivery failed for good: dead, until an admin retries it");
                } else {
                    tracing::warn!(event = %row.event_id, endpoint = %row.endpoint, attempt = failures, %why,
                        retry_in_ms = wait.as_millis() as u64, "webhook delivery failed");
                }
                let next = now_ms + wait.as_millis() as i64;
                state.store().webhook_failed(row.id, failures, next, dead.then_some(app_now_ms), &why).await
            }
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "cannot update the webhook outbox");
        }
    }
}

async fn deliver(state: &AppState, client: &reqwest::Client, row: &OutboxRow) -> Result<(), String> {
    let site = state.site(&row.site).ok_or("the site is no longer configured")?;
    let hook =
        site.webhooks.iter().find(|w| w.url.as_str() == row.endpoint).ok_or("the endpoint is no longer configured")?;
    let t = SystemClock.now_ms() / 1000;
    let response = client
        .post(hook.url.clone())
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(SIGNATURE_HEADER, signature(&hook.secret, t, &row.body))
        .header("Porchlight-Event-Id", &row.event_id)
        .body(row.body.clone())
        .send()
        .await
        .map_err(|e| format!("request failed: {}", e.without_url()))?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("status {}", response.status().as_u16()))
    }
}
