//! Webhooks: every accepted event (rating created or changed, callback created or updated,
//! message created) is written to the `webhook_outbox` table in the same transaction as its row,
//! one outbox row per configured endpoint. A background worker posts them and retries with
//! exponential backoff until the endpoint answers 2xx, so delivery is at least once: receivers
//! dedupe by the event's `id`. Undelivered rows survive a restart and are picked up again.
//!
//! The body is `{"id", "type", "site", "created_ms", "data"}`; the header
//! `Porchlight-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` lets
//! the receiver check it came from us and is recent (as Stripe does).

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::clock::{Clock, SystemClock};
use crate::domain::hex;
use crate::state::AppState;
use crate::store::OutboxRow;

pub const SIGNATURE_HEADER: &str = "Porchlight-Signature";
/// How many due deliveries one pass of the worker takes.
const BATCH: u32 = 50;

/// Event types on the wire.
pub mod event {
    pub const RATING_CREATED: &str = "rating.created";
    pub const RATING_CHANGED: &str = "rating.changed";
    pub const CALLBACK_CREATED: &str = "callback.created";
    pub const CALLBACK_UPDATED: &str = "callback.updated";
    pub const MESSAGE_CREATED: &str = "message.created";
    /// A promise's deadline passed unanswered (the promise ledger).
    pub const PROMISE_BROKEN: &str = "promise.broken";
}

/// How the worker retries. Tests shorten everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryPolicy {
    /// Wait after the first failure; doubled after each further one ...
    pub initial_backoff: Duration,
    /// ... up to this.
    pub max_backoff: Duration,
    /// How often the worker looks for due deliveries.
    pub poll_interval: Duration,
    /// Per request.
    pub timeout: Duration,
    /// A delivery still failing this long after its event (or an admin's retry) is dead: kept
    /// for an admin to retry or drop, no longer retried by itself.
    pub dead_after: Duration,
}

impl Default for DeliveryPolicy {
    fn default() -> Self {
        DeliveryPolicy {
            initial_backoff: Duration::from_secs(5),
            max_backoff: Duration::from_secs(3_600),
            poll_interval: Duration::from_secs(1),
            timeout: Duration::from_secs(10),
            dead_after: Duration::from_secs(72 * 3_600),
        }
    }
}

impl DeliveryPolicy {
    /// The wait after `failures` failed attempts (1 = the first failure).
    pub fn backoff(&self, failures: u32) -> Duration {
        let factor = 2u32.saturating_pow(failures.saturating_sub(1).min(30));
        self.initial_backoff.saturating_mul(factor).min(self.max_backoff)
    }
}

/// The endpoints an event goes to (URLs as configured), passed to the store with each write.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outbox {
    pub site: String,
    pub endpoints: Vec<String>,
}

impl Outbox {
    pub fn for_site(site: &crate::domain::Site) -> Outbox {
        Outbox {
            site: site.id.as_str().to_owned(),
            endpoints: site.webhooks.iter().map(|w| w.url.as_str().to_owned()).collect(),
        }
    }
}

/// The JSON body of one event.
pub fn envelope(event_id: &str, kind: &str, site: &str, created_ms: i64, data: Value) -> String {
    json!({ "id": event_id, "type": kind, "site": site, "created_ms": created_ms, "data": data }).to_string()
}

/// `t=<unix>,v1=<hex hmac-sha256(secret, "<t>.<body>")>`.
pub fn signature(secret: &str, unix_secs: i64, body: &str) -> String {
    format!("t={unix_secs},v1={}", hex(&sign(secret, unix_secs, body)))
}

fn sign(secret: &str, unix_secs: i64, body: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(unix_secs.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// What a receiver does: parse the header, recompute, compare in constant time, and refuse
/// timestamps further than `tolerance_secs` from `now_secs`. Public for tests and as a
/// reference for site owners.
pub fn verify(secret: &str, header: &str, body: &str, now_secs: i64, tolerance_secs: i64) -> bool {
    let mut t = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => signatures.push(v.to_owned()),
            _ => {}
        }
    }
    let Some(t) = t else { return false };
    if (now_secs - t).abs() > tolerance_secs {
        return false;
    }
    let expected = hex(&sign(secret, t, body));
    signatures.iter().any(|s| crate::domain::same_secret(s.as_bytes(), expected.as_bytes()))
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = DeliveryPolicy {
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(10),
            ..DeliveryPolicy::default()
        };
        let waits: Vec<u64> = (1..=6).map(|n| p.backoff(n).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 10, 10]);
        assert_eq!(p.backoff(1000).as_secs(), 10);
    }

    #[test]
    fn signatures_verify_and_tampering_fails() {
        let body = r#"{"id":"ev_1"}"#;
        let header = signature("whsec-0123456789abcdef", 1_790_000_000, body);
        assert!(header.starts_with("t=1790000000,v1="));
        assert!(verify("whsec-0123456789abcdef", &header, body, 1_790_000_100, 300));
        assert!(!verify("whsec-0123456789abcdef", &header, r#"{"id":"ev_2"}"#, 1_790_000_100, 300));
        assert!(!verify("another-secret-0123456", &header, body, 1_790_000_100, 300));
        assert!(!verify("whsec-0123456789abcdef", &header, body, 1_790_001_000, 300), "too old");
    }
}
