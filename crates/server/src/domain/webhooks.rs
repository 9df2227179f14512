//! Webhook events as the domain defines them: the event types, the JSON envelope, the
//! endpoints an event goes to, the retry policy, and the `Porchlight-Signature` HMAC (as Stripe
//! does: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`). The worker that
//! posts them is in the app layer (`app::webhooks`).

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::domain::hex;

pub const SIGNATURE_HEADER: &str = "Porchlight-Signature";
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
