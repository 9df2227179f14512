//! The outbox: requests the visitor made that must reach the server even when the network drops
//! or the page is reloaded — "never lost, never twice".
//!
//! * [`Outbox`] is the plain state: a FIFO of [`Entry`]s (kind, idempotency key, request, attempts,
//!   next try) with the retry rules — exponential backoff from 1 s, doubling to a 60 s cap with
//!   jitter, at least `Retry-After` on a 429, a permanent 4xx drops the entry. The clock and the
//!   randomness are arguments, so it is tested natively.
//! * [`Courier`] is the thin browser layer around it: it keeps the outbox in the frame's
//!   `localStorage` (only once the visitor has queued something; the key is removed when the
//!   outbox empties), sends due entries with [`Api::send`], flushes on mount, on the window's
//!   `online` event and by timer, and hands each outcome to the listener of the entry's kind.
//!
//! Using it from a feature (ratings do; callbacks and chat messages can the same way):
//! 1. `let Parts { courier, .. } = parts();`
//! 2. `courier.listen("callback", move |key, report| …)` once per component (every listener
//!    of a kind hears every outcome of that kind, and ignores keys it did not send);
//! 3. `courier.send(Entry::new("callback", key, "POST", "callbacks".into(), None, Some(json)))`
//!    when the visitor acts. [`Report::Done`] carries the 2xx body to parse with the protocol
//!    type, [`Report::Waiting`] means "saved, will retry", [`Report::Dropped`] is final.
//!
//! Every entry carries its idempotency key (sent as `Idempotency-Key`), so a retry of a request
//! that did reach the server gets the original answer instead of a second row.

use std::rc::Rc;

use leptos::prelude::*;

use crate::api::{Api, ApiFailure};
use crate::app::Connectivity;
use crate::clock::now_ms;

/// The first retry waits this long; each further one doubles it …
pub const FIRST_DELAY_MS: i64 = 1_000;
/// … up to this.
pub const MAX_DELAY_MS: i64 = 60_000;

/// One request waiting to be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Whose answer it is (`"rating"`); the [`Courier`] hands the outcome to that listener.
    pub kind: String,
    /// The idempotency key, also the entry's name.
    pub key: String,
    pub method: String,
    /// The path under the site, e.g. `ratings` or `ratings/rt_1`.
    pub path: String,
    /// A bearer token, sent as `Authorization: Bearer …`.
    pub auth: Option<String>,
    /// The JSON body.
    pub body: Option<String>,
    /// Failed tries so far.
    pub attempts: u32,
    /// Not before this (Unix ms).
    pub next_try_ms: i64,
    /// On its way now (never saved: after a reload nothing is on its way).
    pub sending: bool,
    /// Waiting out a 429's `Retry-After`, which coming back online must not cut short.
    pub rate_limited: bool,
}

impl Entry {
    pub fn new(
        kind: &str,
        key: String,
        method: &str,
        path: String,
        auth: Option<String>,
        body: Option<String>,
    ) -> Entry {
        Entry {
            kind: kind.to_owned(),
            key,
            method: method.to_owned(),
            path,
            auth,
            body,
            attempts: 0,
            next_try_ms: 0,
            sending: false,
            rate_limited: false,
        }
    }
}

/// What [`Outbox::finish`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Delivered: removed.
    Done,
    /// Kept, to be tried again at this instant.
    Retry(i64),
    /// Refused for good: removed.
    Dropped,
}

/// The outcome of one entry, as its listener gets it.
#[derive(Debug, Clone, PartialEq)]
pub enum Report {
    /// A 2xx: the response body (empty for a 204).
    Done(String),
    /// Not delivered yet; kept and retried (offline, 5xx, 408, 429).
    Waiting(ApiFailure),
    /// Refused (another 4xx): removed from the outbox.
    Dropped(ApiFailure),
}

/// Whether trying the same request again later can succeed.
pub fn is_transient(failure: &ApiFailure) -> bool {
    match failure {
        ApiFailure::Offline | ApiFailure::RateLimited { .. } => true,
        ApiFailure::Server(status) | ApiFailure::Rejected(_, status) => *status >= 500 || matches!(*status, 408 | 429),
    }
}

/// The wait before try number `attempts + 1` after `attempts` failures (at least one):
/// 1 s, 2 s, 4 s … capped at 60 s, minus up to 20 % jitter (`jitter` in `0.0..1.0`) so many
/// frames coming back online don't retry in step; never sooner than `Retry-After`.
pub fn backoff_ms(attempts: u32, retry_after_secs: Option<u32>, jitter: f64) -> i64 {
    let base = (FIRST_DELAY_MS << attempts.clamp(1, 7).saturating_sub(1)).min(MAX_DELAY_MS);
    let delay = base - (base as f64 * 0.2 * jitter.clamp(0.0, 1.0)) as i64;
    delay.max(i64::from(retry_after_secs.unwrap_or(0)) * 1000)
}

/// The queue, oldest first. Entries of one kind go one at a time, in order; kinds don't wait
/// for each other.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outbox {
    entries: Vec<Entry>,
}

impl Outbox {
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn contains(&self, key: &str) -> bool {
        self.entries.iter().any(|e| e.key == key)
    }

    /// The oldest entry of `kind` still waiting or on its way.
    pub fn first_of(&self, kind: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.kind == kind)
    }

    /// Queues `entry`, due at once.
    pub fn push(&mut self, mut entry: Entry, now: i64) {
        entry.next_try_ms = now;
        entry.sending = false;
        self.entries.push(entry);
    }

    /// The next entry to send now, marked as on its way: due, not on its way, and no older entry
    /// of its kind still waiting.
    pub fn take_due(&mut self, now: i64) -> Option<Entry> {
        let index = self.entries.iter().enumerate().position(|(i, e)| {
            !e.sending && e.next_try_ms <= now && !self.entries[..i].iter().any(|older| older.kind == e.kind)
        })?;
        let entry = &mut self.entries[index];
        entry.sending = true;
        Some(entry.clone())
    }

    /// Records the outcome of sending `key` (`None`: a 2xx). `None` when the entry is gone.
    pub fn finish(&mut self, key: &str, failure: Option<&ApiFailure>, now: i64, jitter: f64) -> Option<Verdict> {
        let index = self.entries.iter().position(|e| e.key == key)?;
        let verdict = match failure {
            None => Verdict::Done,
            Some(failure) if is_transient(failure) => {
                let entry = &mut self.entries[index];
                entry.sending = false;
                entry.attempts = entry.attempts.saturating_add(1);
                let retry_after = match failure {
                    ApiFailure::RateLimited { retry_after_secs } => *retry_after_secs,
                    _ => None,
                };
                entry.rate_limited = matches!(failure, ApiFailure::RateLimited { .. });
                entry.next_try_ms = now + backoff_ms(entry.attempts, retry_after, jitter);
                return Some(Verdict::Retry(entry.next_try_ms));
            }
            Some(_) => Verdict::Dropped,
        };
        self.entries.remove(index);
        Some(verdict)
    }

    /// Makes every waiting entry due now (the browser is back online). A rate limit's
    /// `Retry-After` is not cut short.
    pub fn wake(&mut self, now: i64) {
        for e in self.entries.iter_mut().filter(|e| !e.rate_limited) {
            e.next_try_ms = e.next_try_ms.min(now);
        }
    }

    /// When the next waiting entry is due, if any is waiting.
    pub fn next_wake(&self) -> Option<i64> {
        self.entries.iter().filter(|e| !e.sending).map(|e| e.next_try_ms).min()
    }

    /// The saved form: one flat JSON array of strings, [`ENTRY_FIELDS`] per entry — kind, key,
    /// method, path, token (`""`: none), body (`""`: none), attempts, next try (ms).
    pub fn to_json(&self) -> String {
        let mut fields = Vec::with_capacity(self.entries.len() * ENTRY_FIELDS);
        for e in &self.entries {
            fields.extend([
                e.kind.clone(),
                e.key.clone(),
                e.method.clone(),
                e.path.clone(),
                e.auth.clone().unwrap_or_default(),
                e.body.clone().unwrap_or_default(),
                i64::from(e.attempts).to_string(),
                e.next_try_ms.to_string(),
            ]);
        }
        to_json_strings(&fields)
    }

    /// A saved outbox; anything unreadable counts as empty.
    pub fn from_json(json: &str) -> Outbox {
        let fields = from_json_strings(json);
        let entries = fields
            .chunks_exact(ENTRY_FIELDS)
            .map(|f| Entry {
                kind: f[0].clone(),
                key: f[1].clone(),
                method: f[2].clone(),
                path: f[3].clone(),
                auth: non_empty(&f[4]),
                body: non_empty(&f[5]),
                attempts: f[6].parse::<i64>().map_or(0, |n| n as u32),
                next_try_ms: f[7].parse::<i64>().unwrap_or(0),
                sending: false,
                rate_limited: false,
            })
            .collect();
        Outbox { entries }
    }
}

/// Fields per entry in the saved form.
pub const ENTRY_FIELDS: usize = 8;

/// Saved state is a JSON array of strings (the outbox's and the rating's alike): one reader
/// and writer rather than one per type keeps the WASM small.
pub fn to_json_strings(fields: &[String]) -> String {
    porchlight_protocol::json::write_strings(fields)
}

/// The strings of a saved JSON array; anything unreadable gives none.
pub fn from_json_strings(json: &str) -> Vec<String> {
    porchlight_protocol::json::Json::parse(json).and_then(|v| v.list()).unwrap_or_default()
}

/// `""` is `None`.
pub fn non_empty(field: &str) -> Option<String> {
    (!field.is_empty()).then(|| field.to_owned())
}

/// The frame's `localStorage`, if the browser lets the frame have one (a cross-origin frame may
/// be denied storage: then everything stays in memory).
pub fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// Saves `json` under `key`, or removes the key when `json` is `None`.
pub fn store(key: &str, json: Option<&str>) {
    if let Some(storage) = local_storage() {
        let _ = match json {
            Some(json) => storage.set_item(key, json),
            None => storage.remove_item(key),
        };
    }
}

pub fn load(key: &str) -> Option<String> {
    local_storage()?.get_item(key).ok().flatten()
}

type Listener = Rc<dyn Fn(&str, Report)>;

struct Post {
    api: Api,
    connectivity: Connectivity,
    outbox: Outbox,
    storage_key: String,
    /// Listener id, kind, listener.
    listeners: Vec<(u32, &'static str, Listener)>,
    next_listener: u32,
    /// When the pending timer fires, so one timer serves.
    timer_at: Option<i64>,
}

/// The browser side of the [`Outbox`]: one per panel, a `Copy` handle (context value).
#[derive(Clone, Copy)]
pub struct Courier(StoredValue<Post, LocalStorage>);

impl Courier {
    /// Loads the saved outbox of this site and endpoint, flushes it as soon as the panel's parts
    /// have registered their listeners, and again whenever the browser comes back online.
    pub fn start(api: &Api, connectivity: Connectivity) -> Courier {
        let storage_key = storage_key(api, "outbox");
        let outbox = load(&storage_key).map(|json| Outbox::from_json(&json)).unwrap_or_default();
        let post = Post {
            api: api.clone(),
            connectivity,
            outbox,
            storage_key,
            listeners: Vec::new(),
            next_listener: 0,
            timer_at: None,
        };
        let courier = Courier(StoredValue::new_local(post));
        let online = window_event_listener_untyped("online", move |_| courier.wake());
        on_cleanup(move || online.remove());
        leptos::task::spawn_local(async move { courier.wake() });
        courier
    }

    /// `listener` gets the outcome of every entry of `kind`. Several parts may listen to one
    /// kind (two rating prompts, the callback form and its follow-up banner); each picks the
    /// keys it knows.
    /// The listener is dropped when the calling component is (a prompt that goes away must not
    /// hear about later entries).
    pub fn listen(&self, kind: &'static str, listener: impl Fn(&str, Report) + 'static) {
        let Some(id) = self.0.try_update_value(|p| {
            let id = p.next_listener;
            p.next_listener += 1;
            p.listeners.push((id, kind, Rc::new(listener)));
            id
        }) else {
            return;
        };
        let courier = *self;
        on_cleanup(move || {
            courier.0.try_update_value(|p| p.listeners.retain(|(other, _, _)| *other != id));
        });
    }

    /// Whether an entry with this key is still waiting or on its way.
    pub fn contains(&self, key: &str) -> bool {
        self.0.try_with_value(|p| p.outbox.contains(key)).unwrap_or(false)
    }

    /// The oldest entry of `kind` still queued (e.g. a callback request saved before a reload).
    pub fn queued(&self, kind: &str) -> Option<Entry> {
        self.0.try_with_value(|p| p.outbox.first_of(kind).cloned()).flatten()
    }

    /// Queues `entry` (saved at once) and sends it when its kind's earlier entries are through.
    pub fn send(&self, entry: Entry) {
        self.0.try_update_value(|p| {
            p.outbox.push(entry, now_ms());
            p.save();
        });
        self.flush();
    }

    /// Tries every waiting entry now.
    pub fn wake(self) {
        self.0.try_update_value(|p| p.outbox.wake(now_ms()));
        self.flush();
    }

    /// Sends every due entry and sets a timer for the next one.
    pub fn flush(self) {
        let now = now_ms();
        while let Some(entry) = self.0.try_update_value(|p| p.outbox.take_due(now)).flatten() {
            leptos::task::spawn_local(self.deliver(entry));
        }
        let timer = self.0.try_update_value(|p| {
            let wake = p.outbox.next_wake()?;
            // One timer at a time: a sooner one already set covers this.
            if p.timer_at.is_some_and(|at| at > now && at <= wake) {
                return None;
            }
            p.timer_at = Some(wake);
            Some(wake - now)
        });
        if let Some(delay) = timer.flatten() {
            set_timeout(
                move || {
                    self.0.try_update_value(|p| p.timer_at = None);
                    self.flush();
                },
                std::time::Duration::from_millis(delay.max(0) as u64),
            );
        }
    }

    async fn deliver(self, entry: Entry) {
        let Some(api) = self.0.try_with_value(|p| p.api.clone()) else { return };
        let reply = api.send(&entry.method, &entry.path, entry.body.clone(), &entry.key, entry.auth.as_deref()).await;
        let jitter = js_sys::Math::random();
        let Some((verdict, connectivity)) = self.0.try_update_value(|p| {
            let verdict = p.outbox.finish(&entry.key, reply.as_ref().err(), now_ms(), jitter);
            p.save();
            (verdict, p.connectivity)
        }) else {
            return;
        };
        // Any answer turns the offline banner off, a missing one on.
        connectivity.note(&reply);
        let report = match (reply, verdict) {
            (Ok(body), _) => Report::Done(body),
            (Err(failure), Some(Verdict::Retry(_))) => Report::Waiting(failure),
            (Err(failure), _) => Report::Dropped(failure),
        };
        // Cloned out first: a listener may register another listener or queue an entry.
        let listeners: Vec<Listener> = self
            .0
            .try_with_value(|p| {
                p.listeners.iter().filter(|(_, kind, _)| *kind == entry.kind).map(|(_, _, l)| l.clone()).collect()
            })
            .unwrap_or_default();
        for listener in listeners {
            listener(&entry.key, report.clone());
        }
        self.flush();
    }
}

impl Post {
    /// Writes the outbox, or removes it once empty: nothing is stored until the visitor acts.
    fn save(&self) {
        let json = (!self.outbox.is_empty()).then(|| self.outbox.to_json());
        store(&self.storage_key, json.as_deref());
    }
}

/// A `localStorage` key for `name`, per API endpoint and site (one frame origin can serve
/// several sites).
pub fn storage_key(api: &Api, name: &str) -> String {
    let mut key = api.url(name);
    key.insert_str(0, "porchlight ");
    key
}

#[cfg(test)]
mod tests {
    use porchlight_protocol::{ApiError, ErrorCode};

    use super::*;

    fn entry(kind: &str, key: &str) -> Entry {
        Entry::new(kind, key.into(), "POST", "ratings".into(), None, Some(r#"{"value":"good"}"#.into()))
    }

    #[test]
    fn backoff_doubles_from_a_second_to_a_minute_with_jitter_below() {
        let plain: Vec<i64> = (1..=9).map(|n| backoff_ms(n, None, 0.0)).collect();
        assert_eq!(plain, [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000]);
        assert_eq!(backoff_ms(1, None, 0.5), 900);
        assert_eq!(backoff_ms(9, None, 0.999), 48_012);
        assert_eq!(backoff_ms(u32::MAX, None, 0.0), 60_000);
        assert_eq!(backoff_ms(1, Some(30), 0.0), 30_000, "Retry-After wins when longer");
        assert_eq!(backoff_ms(7, Some(1), 0.0), 60_000);
    }

    #[test]
    fn an_entry_is_due_at_once_and_sent_once() {
        let mut outbox = Outbox::default();
        outbox.push(entry("rating", "k1"), 1_000);
        assert_eq!(outbox.next_wake(), Some(1_000));
        let sent = outbox.take_due(1_000).unwrap();
        assert!(sent.sending && sent.key == "k1");
        assert_eq!(outbox.take_due(1_000), None, "on its way: not handed out twice");
        assert_eq!(outbox.next_wake(), None);
        assert_eq!(outbox.finish("k1", None, 1_100, 0.0), Some(Verdict::Done));
        assert!(outbox.is_empty());
        assert_eq!(outbox.finish("k1", None, 1_100, 0.0), None, "a late duplicate answer finds nothing");
    }

    #[test]
    fn offline_and_5xx_retry_with_growing_waits() {
        let mut outbox = Outbox::default();
        outbox.push(entry("rating", "k1"), 0);
        let mut now = 0;
        for (failure, wait) in
            [(ApiFailure::Offline, 1_000), (ApiFailure::Server(503), 2_000), (ApiFailure::Offline, 4_000)]
        {
            outbox.take_due(now).unwrap();
            assert_eq!(outbox.finish("k1", Some(&failure), now, 0.0), Some(Verdict::Retry(now + wait)));
            assert_eq!(outbox.take_due(now + wait - 1), None, "not before its time");
            now += wait;
        }
        let again = outbox.take_due(now).unwrap();
        assert_eq!((again.attempts, again.key.as_str()), (3, "k1"), "the same key every time");
        assert_eq!(outbox.finish("k1", None, now, 0.0), Some(Verdict::Done));
    }

    #[test]
    fn a_rate_limit_waits_at_least_retry_after() {
        let mut outbox = Outbox::default();
        outbox.push(entry("rating", "k1"), 0);
        outbox.take_due(0);
        let limited = ApiFailure::RateLimited { retry_after_secs: Some(12) };
        assert_eq!(outbox.finish("k1", Some(&limited), 5, 0.0), Some(Verdict::Retry(12_005)));
        // Coming back online wakes entries, but not one that must wait out its Retry-After.
        outbox.push(entry("callback", "c1"), 0);
        outbox.take_due(0);
        outbox.finish("c1", Some(&ApiFailure::Offline), 5, 0.0);
        outbox.wake(6);
        assert_eq!(outbox.entries()[0].next_try_ms, 12_005);
        assert_eq!(outbox.entries()[1].next_try_ms, 6);
    }

    #[test]
    fn a_4xx_drops_the_entry_but_408_and_429_retry() {
        let rejected = ApiFailure::Rejected(ApiError::new(ErrorCode::ValidationFailed, "no"), 422);
        let timeout = ApiFailure::Rejected(ApiError::new(ErrorCode::Unknown, "slow"), 408);
        for (failure, transient) in [
            (rejected, false),
            (ApiFailure::Server(400), false),
            (timeout, true),
            (ApiFailure::Server(429), true),
            (ApiFailure::Server(500), true),
            (ApiFailure::Server(0), false),
        ] {
            let mut outbox = Outbox::default();
            outbox.push(entry("rating", "k1"), 0);
            outbox.take_due(0);
            let verdict = outbox.finish("k1", Some(&failure), 0, 0.0).unwrap();
            assert_eq!(matches!(verdict, Verdict::Retry(_)), transient, "{failure:?}");
            assert_eq!(outbox.is_empty(), !transient, "{failure:?}");
        }
    }

    #[test]
    fn kinds_go_in_order_but_do_not_block_each_other() {
        let mut outbox = Outbox::default();
        outbox.push(entry("rating", "r1"), 0);
        outbox.push(entry("rating", "r2"), 0);
        outbox.push(entry("callback", "c1"), 0);
        assert_eq!(outbox.take_due(0).unwrap().key, "r1");
        assert_eq!(outbox.take_due(0).unwrap().key, "c1", "r2 waits for r1; c1 does not");
        assert_eq!(outbox.take_due(0), None);
        outbox.finish("r1", Some(&ApiFailure::Offline), 0, 0.0);
        assert_eq!(outbox.take_due(500), None, "r1 waits out its backoff and r2 stays behind it");
        assert_eq!(outbox.take_due(1_000).unwrap().key, "r1");
    }

    #[test]
    fn the_oldest_queued_entry_of_a_kind_is_found_after_a_reload() {
        let mut outbox = Outbox::default();
        outbox.push(entry("rating", "r1"), 0);
        outbox.push(entry("callback", "c1"), 0);
        outbox.push(entry("callback", "c2"), 0);
        outbox.take_due(0);
        outbox.take_due(0);
        outbox.finish("c1", Some(&ApiFailure::Offline), 0, 0.0);
        let restored = Outbox::from_json(&outbox.to_json());
        assert_eq!(restored.first_of("callback").map(|e| e.key.as_str()), Some("c1"));
        assert_eq!(restored.first_of("rating").map(|e| e.key.as_str()), Some("r1"));
        assert_eq!(restored.first_of("message"), None);
        outbox.finish("c1", None, 10, 0.0);
        assert_eq!(outbox.first_of("callback").map(|e| e.key.as_str()), Some("c2"));
    }

    #[test]
    fn the_state_round_trips_as_json_without_the_in_flight_mark() {
        let mut outbox = Outbox::default();
        let mut change = entry("rating", "k2");
        change.method = "PUT".into();
        change.path = "ratings/rt_1".into();
        change.auth = Some("secret".into());
        outbox.push(entry("rating", "k1"), 10);
        outbox.push(change, 20);
        outbox.take_due(10);
        outbox.finish("k1", Some(&ApiFailure::Offline), 10, 0.0);
        outbox.take_due(20);
        let json = outbox.to_json();
        assert_eq!(
            json,
            r#"["rating","k1","POST","ratings","","{\"value\":\"good\"}","1","1010","rating","k2","PUT","ratings/rt_1","secret","{\"value\":\"good\"}","0","20"]"#
        );
        let restored = Outbox::from_json(&json);
        assert_eq!(restored.entries().len(), 2);
        assert_eq!((restored.entries()[0].attempts, restored.entries()[0].next_try_ms), (1, 1_010));
        assert_eq!(restored.entries()[1].auth.as_deref(), Some("secret"));
        assert!(restored.entries().iter().all(|e| !e.sending), "after a reload nothing is on its way");
        assert_eq!(Outbox::from_json("not json"), Outbox::default());
        assert_eq!(Outbox::from_json(r#"{"a":1}"#), Outbox::default());
        assert_eq!(Outbox::from_json("[]"), Outbox::default());
    }
}
