//! Posted wait-time expectations over real HTTP: `GET /v1/sites/{site}/availability`, the
//! operator presence endpoint and callback due times, with time driven by a manual clock.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{api_error, header, local_ms, show_local, TestServer, EVIL, SHOP};
use porchlight_protocol::{Availability, AvailabilityState, EstimateBasis};
use porchlight_server::app::config::Settings;
use porchlight_server::domain::clock::ManualClock;
use serde_json::json;
use tempfile::TempDir;

const TOKEN: &str = "op-token-0123456789abcdef";
const RIGA: &str = "Europe/Riga";
const H: i64 = 3_600_000;
const MIN: i64 = 60_000;

fn config() -> String {
    format!(
        r#"
operator_token = "{TOKEN}"

[rate_limit]
writes_per_minute = 0

[[sites]]
id = "riga"
name = "Riga Lamps"
origins = ["{SHOP}"]
timezone = "{RIGA}"
[sites.hours]
mon = ["09:00-18:00"]
tue = ["09:00-18:00"]
wed = ["09:00-18:00"]
thu = ["09:00-18:00"]
fri = ["09:00-18:00"]
closures = ["2026-12-24", "2026-12-31..2027-01-02"]

[[sites]]
id = "kathmandu"
name = "Kathmandu Teas"
origins = ["{SHOP}"]
timezone = "Asia/Kathmandu"
presence_default = "online"
[sites.hours]
sun = ["10:00-13:00", "14:00-17:00"]
mon = ["10:00-13:00", "14:00-17:00"]
[sites.promises]
callback_business_hours = 4
"#
    )
}

/// Tuesday 10 March 2026, 10:00 in Riga.
fn tuesday_ten() -> i64 {
    local_ms(RIGA, (2026, 3, 10), (10, 0))
}

async fn start(now_ms: i64) -> (TestServer, Arc<ManualClock>, TempDir) {
    TestServer::with_manual_clock(&config(), now_ms).await
}

async fn availability(server: &TestServer, site: &str) -> Availability {
    let response = server.client.get(server.url(&format!("/v1/sites/{site}/availability"))).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn set_presence(server: &TestServer, site: &str, token: Option<&str>, status: &str) -> reqwest::Response {
    let mut request =
        server.client.put(server.url(&format!("/v1/sites/{site}/presence"))).json(&json!({ "status": status }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

/// Conversations that started at `started` and got their first operator reply `reply_after`
/// later, written straight into the database as the console would leave them.
async fn seed_conversations(server: &TestServer, site: &str, started: &[i64], reply_after: Option<i64>) {
    let pool = server.db().await;
    for (i, &start) in started.iter().enumerate() {
        let id = format!("cv_seed_{site}_{start}_{i}");
        sqlx::query(
            "INSERT INTO conversations (id, site, first_client_id, token_hash, created_ms) VALUES (?, ?, ?, 'x', ?)",
        )
        .bind(&id)
        .bind(site)
        .bind(format!("seed-{start}-{i}"))
        .bind(start)
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO messages (conversation_id, client_id, author, body, created_ms)
             VALUES (?, 'visitor-first', 'visitor', 'Hello?', ?)",
        )
        .bind(&id)
        .bind(start)
        .execute(&pool)
        .await
        .unwrap();
        if let Some(after) = reply_after {
            sqlx::query(
                "INSERT INTO messages (conversation_id, client_id, author, body, created_ms)
                 VALUES (?, 'operator-first', 'operator', 'Hi!', ?)",
            )
            .bind(&id)
            .bind(start + after)
            .execute(&pool)
            .await
            .unwrap();
        }
    }
    pool.close().await;
}

#[tokio::test]
async fn open_within_hours_when_an_operator_is_online() {
    let (server, _clock, _dir) = start(tuesday_ten()).await;
    assert_eq!(set_presence(&server, "riga", Some(TOKEN), "online").await.status(), 200);
    let a = availability(&server, "riga").await;
    assert_eq!(a.state, AvailabilityState::Open);
    assert_eq!(a.now_ms, tuesday_ten());
    assert_eq!(a.chat.expected_wait_secs, 300);
    assert_eq!(a.chat.posted_secs, 300);
    assert_eq!(a.chat.basis, EstimateBasis::Posted, "no history yet: the posted promise");
    assert_eq!(a.next_open_ms, None);
    assert_eq!(show_local(RIGA, a.closes_ms.unwrap()), "Tue 2026-03-10 18:00");
    assert_eq!(show_local(RIGA, a.callback.due_ms), "Tue 2026-03-10 12:00");
    assert_eq!(show_local(RIGA, a.message.reply_by_ms), "Wed 2026-03-11 18:00");
}

#[tokio::test]
async fn a_configured_site_is_nobody_online_until_an_operator_says_so() {
    let (server, _clock, _dir) = start(tuesday_ten()).await;
    let a = availability(&server, "riga").await;
    assert_eq!(a.state, AvailabilityState::NobodyOnline);
    assert!(a.closes_ms.is_some(), "business hours are open; only presence is missing");
    assert_eq!(set_presence(&server, "riga", Some(TOKEN), "online").await.status(), 200);
    assert_eq!(availability(&server, "riga").await.state, AvailabilityState::Open);
    assert_eq!(set_presence(&server, "riga", Some(TOKEN), "away").await.status(), 200);
    assert_eq!(availability(&server, "riga").await.state, AvailabilityState::NobodyOnline);
}

#[tokio::test]
async fn closed_outside_hours_with_the_next_opening_as_an_instant() {
    // Saturday 14 March, 12:00 in Riga.
    let (server, _clock, _dir) = start(local_ms(RIGA, (2026, 3, 14), (12, 0))).await;
    set_presence(&server, "riga", Some(TOKEN), "online").await;
    let a = availability(&server, "riga").await;
    assert_eq!(a.state, AvailabilityState::Closed);
    assert_eq!(a.closes_ms, None);
    assert_eq!(a.next_open_ms, Some(local_ms(RIGA, (2026, 3, 16), (9, 0))));
    assert_eq!(show_local(RIGA, a.callback.due_ms), "Mon 2026-03-16 11:00");
    assert_eq!(show_local(RIGA, a.message.reply_by_ms), "Mon 2026-03-16 18:00");
}

#[tokio::test]
async fn closed_on_closure_days_single_and_range() {
    // Thursday 24 December 2026 at 11:00: a weekday, but closed.
    let (server, clock, _dir) = start(local_ms(RIGA, (2026, 12, 24), (11, 0))).await;
    set_presence(&server, "riga", Some(TOKEN), "online").await;
    let a = availability(&server, "riga").await;
    assert_eq!(a.state, AvailabilityState::Closed);
    assert_eq!(show_local(RIGA, a.next_open_ms.unwrap()), "Fri 2026-12-25 09:00");
    // Thursday 31 December: the range runs to Saturday 2 January, then the weekend.
    clock.set(local_ms(RIGA, (2026, 12, 31), (11, 0)));
    let a = availability(&server, "riga").await;
    assert_eq!(a.state, AvailabilityState::Closed);
    assert_eq!(show_local(RIGA, a.next_open_ms.unwrap()), "Mon 2027-01-04 09:00");
}

#[tokio::test]
async fn busy_when_recent_first_responses_were_slow() {
    let (server, _clock, _dir) = start(tuesday_ten()).await;
    set_presence(&server, "riga", Some(TOKEN), "online").await;
    // Twelve conversations on Monday morning, each first answered after 25 minutes, and one
    // answered only the next morning (an outlier, capped at 4 hours).
    let monday = local_ms(RIGA, (2026, 3, 9), (9, 0));
    let starts: Vec<i64> = (0..12).map(|i| monday + i * 10 * MIN).collect();
    seed_conversations(&server, "riga", &starts, Some(25 * MIN)).await;
    seed_conversations(&server, "riga", &[monday + 5 * MIN], Some(20 * H)).await;
    let a = availability(&server, "riga").await;
    assert_eq!(a.state, AvailabilityState::Busy);
    assert_eq!(a.chat.basis, EstimateBasis::History);
    assert_eq!(a.chat.expected_wait_secs, 25 * 60);
    assert_eq!(a.chat.posted_secs, 300);
}

#[tokio::test]
async fn fast_history_shows_the_promise_not_less() {
    let (server, _clock, _dir) = start(tuesday_ten()).await;
    set_presence(&server, "riga", Some(TOKEN), "online").await;
    let monday = local_ms(RIGA, (2026, 3, 9), (9, 0));
    let starts: Vec<i64> = (0..15).map(|i| monday + i * 10 * MIN).collect();
    seed_conversations(&server, "riga", &starts, Some(MIN)).await;
    let a = availability(&server, "riga").await;
    assert_eq!(a.state, AvailabilityState::Open);
    assert_eq!(a.chat.basis, EstimateBasis::History);
    assert_eq!(a.chat.expected_wait_secs, 300);
}

#[tokio::test]
async fn busy_when_conversations_queue_up_unanswered() {
    let (server, _clock, _dir) = start(tuesday_ten()).await;
    set_presence(&server, "riga", Some(TOKEN), "online").await;
    let waiting: Vec<i64> = (1..=5).map(|i| tuesday_ten() - i * MIN).collect();
    seed_conversations(&server, "riga", &waiting, None).await;
    let a = availability(&server, "riga").await;
    assert_eq!(a.state, AvailabilityState::Busy);
    // 300 s × (2 + 5) / 2 = 1050 s, rounded up to whole minutes.
    assert_eq!(a.chat.expected_wait_secs, 1_080);
    assert_eq!(a.chat.basis, EstimateBasis::Posted);
}

#[tokio::test]
async fn callback_requested_at_1750_is_due_1050_the_next_business_day() {
    let (server, _clock, _dir) = start(local_ms(RIGA, (2026, 3, 10), (17, 50))).await;
    let body = json!({"name": "Anna", "phone": "+371 2000 0000"});
    let response = server.post_json("/v1/sites/riga/callbacks", Some("callback-key-1750"), &body).await;
    assert_eq!(response.status(), 201);
    let receipt: porchlight_protocol::CallbackReceipt = response.json().await.unwrap();
    assert_eq!(show_local(RIGA, receipt.due_ms), "Wed 2026-03-11 10:50");
    assert_eq!(receipt.due_ms, local_ms(RIGA, (2026, 3, 11), (10, 50)));
    // The availability answer promises the same.
    assert_eq!(availability(&server, "riga").await.callback.due_ms, receipt.due_ms);
}

#[tokio::test]
async fn callback_due_spans_the_riga_spring_forward_weekend() {
    // Friday 27 March 17:00 (+02:00); clocks jump to +03:00 on Sunday the 29th.
    let (server, _clock, _dir) = start(local_ms(RIGA, (2026, 3, 27), (17, 0))).await;
    let body = json!({"name": "Anna", "phone": "+371 2000 0000"});
    let receipt: porchlight_protocol::CallbackReceipt =
        server.post_json("/v1/sites/riga/callbacks", Some("callback-key-dst1"), &body).await.json().await.unwrap();
    assert_eq!(show_local(RIGA, receipt.due_ms), "Mon 2026-03-30 10:00");
    assert_eq!(receipt.due_ms, 1_774_854_000_000, "07:00 UTC, not 08:00 as a fixed +02:00 would say");
}

#[tokio::test]
async fn split_days_in_kathmandu_count_only_business_hours() {
    // Monday 9 March 12:30 in Kathmandu (+05:45); the site works Sunday and Monday with lunch.
    let (server, clock, _dir) = start(local_ms("Asia/Kathmandu", (2026, 3, 9), (12, 30))).await;
    let a = availability(&server, "kathmandu").await;
    assert_eq!(a.state, AvailabilityState::Open, "presence_default = \"online\"");
    assert_eq!(show_local("Asia/Kathmandu", a.closes_ms.unwrap()), "Mon 2026-03-09 13:00");
    // 4 business hours: 30 min before lunch, 3 h after it, 30 min next Sunday.
    assert_eq!(show_local("Asia/Kathmandu", a.callback.due_ms), "Sun 2026-03-15 10:30");
    clock.set(local_ms("Asia/Kathmandu", (2026, 3, 9), (13, 30)));
    let lunch = availability(&server, "kathmandu").await;
    assert_eq!(lunch.state, AvailabilityState::Closed);
    assert_eq!(lunch.next_open_ms, Some(local_ms("Asia/Kathmandu", (2026, 3, 9), (14, 0))));
    assert_eq!(lunch.next_open_ms, Some(1_773_044_100_000), "08:15 UTC");
}

#[tokio::test]
async fn etag_gives_304_until_the_answer_changes() {
    let (server, clock, _dir) = start(tuesday_ten()).await;
    let url = server.url("/v1/sites/riga/availability");
    let first = server.client.get(&url).send().await.unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(header(first.headers(), "cache-control"), "no-cache");
    assert_eq!(header(first.headers(), "content-type"), "application/json");
    let etag = header(first.headers(), "etag");
    assert!(etag.starts_with('"') && etag.ends_with('"') && etag.len() > 10, "a strong ETag: {etag}");

    let poll = |tag: String| server.client.get(&url).header("If-None-Match", tag).send();
    // Same minute, nothing changed: 304 without a body, with the same ETag.
    clock.advance(Duration::from_secs(20));
    let again = poll(etag.clone()).await.unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(header(again.headers(), "etag"), etag);
    assert_eq!(header(again.headers(), "cache-control"), "no-cache");
    assert!(again.bytes().await.unwrap().is_empty());

    // Presence changed: a new answer and a new ETag.
    set_presence(&server, "riga", Some(TOKEN), "online").await;
    let changed = poll(etag.clone()).await.unwrap();
    assert_eq!(changed.status(), 200);
    let new_etag = header(changed.headers(), "etag");
    assert_ne!(new_etag, etag);
    let body: Availability = changed.json().await.unwrap();
    assert_eq!(body.state, AvailabilityState::Open);
    assert_eq!(poll(new_etag.clone()).await.unwrap().status(), 304);

    // A minute later the promised callback time moves on, so the answer does too.
    clock.advance(Duration::from_secs(60));
    assert_eq!(poll(new_etag).await.unwrap().status(), 200);
}

#[tokio::test]
async fn availability_is_readable_from_the_sites_own_pages_only() {
    let (server, _clock, _dir) = start(tuesday_ten()).await;
    let url = server.url("/v1/sites/riga/availability");
    let allowed = server.client.get(&url).header("Origin", SHOP).send().await.unwrap();
    assert_eq!(allowed.status(), 200);
    assert_eq!(header(allowed.headers(), "access-control-allow-origin"), SHOP);
    assert!(header(allowed.headers(), "access-control-expose-headers").contains("etag"));
    assert!(header(allowed.headers(), "vary").contains("Origin"));
    let denied = server.client.get(&url).header("Origin", EVIL).send().await.unwrap();
    api_error(denied, 403, "origin_not_allowed").await;
    let unknown = server.client.get(server.url("/v1/sites/nope/availability")).send().await.unwrap();
    api_error(unknown, 404, "site_not_found").await;
}

#[tokio::test]
async fn presence_needs_the_operator_token() {
    let (server, _clock, _dir) = start(tuesday_ten()).await;
    api_error(set_presence(&server, "riga", None, "online").await, 401, "unauthorized").await;
    api_error(set_presence(&server, "riga", Some("not-the-token-at-all"), "online").await, 401, "unauthorized").await;
    let error = api_error(set_presence(&server, "riga", Some(TOKEN), "lunch").await, 422, "validation_failed").await;
    assert_eq!(error["fields"][0]["field"], "status");
    assert_eq!(availability(&server, "riga").await.state, AvailabilityState::NobodyOnline);

    let ok = set_presence(&server, "riga", Some(TOKEN), "online").await;
    assert_eq!(ok.status(), 200);
    assert_eq!(header(ok.headers(), "cache-control"), "no-store");
    let presence: porchlight_protocol::Presence = ok.json().await.unwrap();
    assert_eq!(presence.status, porchlight_protocol::PresenceStatus::Online);
    assert_eq!(presence.updated_ms, tuesday_ten());
    let row: (String, i64) = sqlx::query_as("SELECT status, updated_ms FROM presence WHERE site = 'riga'")
        .fetch_one(&server.db().await)
        .await
        .unwrap();
    assert_eq!(row, ("online".to_owned(), tuesday_ten()));
    // Presence is per site.
    assert_eq!(availability(&server, "riga").await.state, AvailabilityState::Open);
}

#[tokio::test]
async fn without_an_operator_token_presence_is_always_401() {
    let dir = tempfile::tempdir().unwrap();
    let toml = config().replace(&format!("operator_token = \"{TOKEN}\""), "");
    let server = TestServer::start_at(&toml, dir.path(), ManualClock::at(tuesday_ten())).await;
    for token in [None, Some(TOKEN), Some("")] {
        api_error(set_presence(&server, "riga", token, "online").await, 401, "unauthorized").await;
    }
}

#[tokio::test]
async fn presence_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_at(&config(), dir.path(), ManualClock::at(tuesday_ten())).await;
    assert_eq!(set_presence(&server, "riga", Some(TOKEN), "online").await.status(), 200);
    server.stop().await;
    let server = TestServer::start_at(&config(), dir.path(), ManualClock::at(tuesday_ten())).await;
    assert_eq!(availability(&server, "riga").await.state, AvailabilityState::Open);
}

#[tokio::test]
async fn the_builtin_demo_site_is_online_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings {
        listen: "127.0.0.1:0".into(),
        database: dir.path().join("porchlight.db"),
        assets: dir.path().join("dist"),
        ..Settings::default()
    };
    settings.clock = ManualClock::at(tuesday_ten());
    let server = TestServer::start_with(settings).await;
    let a = availability(&server, "demo").await;
    assert_eq!(a.state, AvailabilityState::Open);
    assert_eq!(show_local(RIGA, a.closes_ms.unwrap()), "Tue 2026-03-10 18:00");
}

#[tokio::test]
async fn ratings_and_messages_are_stamped_by_the_servers_clock() {
    let (server, _clock, _dir) = start(tuesday_ten()).await;
    let rating = server.post_json("/v1/sites/riga/ratings", Some("rating-key-clock"), &json!({"value": "good"})).await;
    assert_eq!(rating.json::<serde_json::Value>().await.unwrap()["created_ms"], tuesday_ten());
    let start = json!({"message": {"client_id": "clock-msg-01", "body": "Hello"}});
    let created = server.post_json("/v1/sites/riga/conversations", None, &start).await;
    assert_eq!(created.json::<serde_json::Value>().await.unwrap()["message"]["created_ms"], tuesday_ten());
}
