//! Callbacks over real HTTP against a real SQLite file: E.164 phones, slots and preferred times
//! within business hours, topics and consent, the visitor's follow-up and the operator's queue.

mod common;

use std::sync::Arc;

use common::{api_error, header, local_ms, show_local, TestServer, SHOP};
use porchlight_protocol::{CallbackFollowUp, CallbackList, CallbackSlots, CallbackStatus};
use porchlight_server::domain::clock::ManualClock;
use serde_json::{json, Value};
use tempfile::TempDir;

const OPERATOR: &str = "op-token-0123456789abcdef";
const RIGA: &str = "Europe/Riga";
const H: i64 = 3_600_000;
const MIN: i64 = 60_000;

fn config() -> String {
    format!(
        r#"
operator_token = "{OPERATOR}"

[rate_limit]
writes_per_minute = 0

[[sites]]
id = "demo"
name = "Demo Shop"
origins = ["{SHOP}"]
timezone = "{RIGA}"
default_country = "LV"
topics = ["Orders", "Returns"]
consent_text = "You may call me about this request."
[sites.hours]
closures = ["2026-03-12"]

[[sites]]
id = "open"
name = "No Consent Shop"
origins = ["{SHOP}"]
timezone = "Asia/Bangkok"
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

fn request(phone: &str) -> Value {
    json!({"name": "Anna Bērziņa", "phone": phone, "consent": true})
}

/// A GET with the operator token, read as JSON.
async fn operator_json<T: serde::de::DeserializeOwned>(server: &TestServer, path: &str) -> T {
    server.client.get(server.url(path)).bearer_auth(OPERATOR).send().await.unwrap().json().await.unwrap()
}

async fn field_error(server: &TestServer, site: &str, body: Value) -> (String, String) {
    let response = server.post_json(&format!("/v1/sites/{site}/callbacks"), Some("cb-key-bad-0001"), &body).await;
    let error = api_error(response, 422, "validation_failed").await;
    (error["fields"][0]["field"].as_str().unwrap().to_owned(), error["fields"][0]["code"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn phones_are_stored_in_e164_with_the_sites_default_country_or_the_hint() {
    let (server, _clock, _dir) = start(tuesday_ten()).await;
    let cases = [
        ("cb-key-lv-national", json!({"phone": "2000 0000"}), "+37120000000"),
        ("cb-key-th-hint", json!({"phone": "081 234 5678", "country": "TH"}), "+66812345678"),
        ("cb-key-it-intl", json!({"phone": "+39 06 1234 5678"}), "+390612345678"),
        ("cb-key-gr-intl", json!({"phone": "+30 210 123 4567"}), "+302101234567"),
        ("cb-key-uk-hint", json!({"phone": "07400 123456", "country": "gb"}), "+447400123456"),
        ("cb-key-us-intl", json!({"phone": "+1 (212) 736-5000"}), "+12127365000"),
    ];
    for (key, extra, _) in &cases {
        let mut body = request("");
        body["phone"] = extra["phone"].clone();
        if let Some(country) = extra.get("country") {
            body["country"] = country.clone();
        }
        let response = server.post_json("/v1/sites/demo/callbacks", Some(key), &body).await;
        assert_eq!(response.status(), 201, "{key}: {}", response.text().await.unwrap());
    }
    let pool = server.db().await;
    for (key, _, e164) in &cases {
        let phone: String = sqlx::query_scalar("SELECT phone FROM callbacks WHERE idempotency_key = ?")
            .bind(key)
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(&phone, e164, "{key}");
    }
    pool.close().await;
}

#[tokio::test]
async fn bad_phones_topics_consent_and_times_are_field_errors() {
    let (server, _clock, _dir) = start(tuesday_ten()).await;
    let err = |e: (String, String)| (e.0, e.1);
    // Well formed, but no Latvian line starts with 1: not a number in use, not "bad characters".
    assert_eq!(
        err(field_error(&server, "demo", request("+371 1234 5678")).await),
        ("phone".into(), "not_in_use".into())
    );
    assert_eq!(err(field_error(&server, "demo", request("12345")).await), ("phone".into(), "too_short".into()));
    assert_eq!(err(field_error(&server, "demo", request("call me")).await), ("phone".into(), "invalid".into()));
    assert_eq!(
        err(field_error(&server, "demo", request("+999 1234 5678")).await),
        ("phone".into(), "unsupported".into())
    );
    let mut body = request("2000 0000");
    body["country"] = json!("XX");
    assert_eq!(field_error(&server, "demo", body).await, ("country".into(), "unsupported".into()));
    // The Bangkok site has no default country: a national number needs the code.
    assert_eq!(field_error(&server, "open", request("081 234 5678")).await, ("phone".into(), "no_country_code".into()));
    // …and the way people write international numbers is read as such there.
    let body = request("(+66) 81 234 5678");
    assert_eq!(server.post_json("/v1/sites/open/callbacks", Some("cb-key-parenthesised"), &body).await.status(), 201);

    let mut body = request("+371 2000 0000");
    body["topic"] = json!("Complaints");
    assert_eq!(field_error(&server, "demo", body).await, ("topic".into(), "unsupported".into()));
    let mut body = request("+371 2000 0000");
    body["consent"] = json!(false);
    assert_eq!(field_error(&server, "demo", body).await, ("consent".into(), "required".into()));
    let mut body = request("+371 2000 0000");
    body["preferred_ms"] = json!(local_ms(RIGA, (2026, 3, 10), (19, 0)));
    assert_eq!(field_error(&server, "demo", body).await, ("preferred_ms".into(), "unsupported".into()));
    let mut body = request("+371 2000 0000");
    body["preferred_ms"] = json!(local_ms(RIGA, (2026, 3, 12), (10, 0)));
    assert_eq!(field_error(&server, "demo", body).await, ("preferred_ms".into(), "unsupported".into()), "closure");
    // Only the parenthesised one was stored.
    assert_eq!(server.count("SELECT COUNT(*) FROM callbacks").await, 1);

    // Without consent text, consent is not asked for.
    let body = json!({"name": "Somchai", "phone": "+66 81 234 5678"});
    assert_eq!(server.post_json("/v1/sites/open/callbacks", Some("cb-key-open-01"), &body).await.status(), 201);
}

#[tokio::test]
async fn slots_skip_closures_and_a_chosen_slot_sets_the_due_time() {
    let (server, _clock, _dir) = start(tuesday_ten()).await;
    let response = server.client.get(server.url("/v1/sites/demo/callbacks/slots")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let slots: CallbackSlots = response.json().await.unwrap();
    assert_eq!((slots.timezone.as_str(), slots.slot_minutes), (RIGA, 30));
    assert_eq!(slots.asap_due_ms, tuesday_ten() + 2 * H);
    assert_eq!(show_local(RIGA, slots.slots[0].start_ms), "Tue 2026-03-10 10:30");
    let days: Vec<String> =
        slots.slots.iter().map(|s| show_local(RIGA, s.start_ms)[..14].to_owned()).fold(Vec::new(), |mut v, d| {
            if v.last() != Some(&d) {
                v.push(d);
            }
            v
        });
    assert_eq!(days, ["Tue 2026-03-10", "Wed 2026-03-11", "Fri 2026-03-13", "Mon 2026-03-16", "Tue 2026-03-17"]);

    let chosen = slots.slots[3].start_ms;
    let mut body = request("+371 2000 0000");
    body["preferred_ms"] = json!(chosen);
    body["topic"] = json!("Returns");
    let response = server.post_json("/v1/sites/demo/callbacks", Some("cb-key-slot-01"), &body).await;
    assert_eq!(response.status(), 201);
    let receipt: Value = response.json().await.unwrap();
    assert_eq!(receipt["due_ms"], chosen + 30 * MIN, "due at the end of the chosen slot");
    let row: (Option<String>, Option<i64>, Option<i64>) =
        sqlx::query_as("SELECT topic, consent_ms, preferred_ms FROM callbacks")
            .fetch_one(&server.db().await)
            .await
            .unwrap();
    assert_eq!(row, (Some("Returns".into()), Some(tuesday_ten()), Some(chosen)));
}

#[tokio::test]
async fn the_visitor_follows_up_with_the_token_and_operators_work_the_queue() {
    let (server, clock, _dir) = start(tuesday_ten()).await;
    let mut receipts = Vec::new();
    for (i, phone) in ["+371 2000 0001", "+371 2000 0002", "+371 2000 0003"].iter().enumerate() {
        clock.set(tuesday_ten() - i as i64 * 30 * MIN); // later requests are due earlier
        let response =
            server.post_json("/v1/sites/demo/callbacks", Some(&format!("cb-key-queue-{i}")), &request(phone)).await;
        assert_eq!(response.status(), 201);
        receipts.push(response.json::<Value>().await.unwrap());
    }
    clock.set(tuesday_ten());
    let reference = receipts[0]["reference"].as_str().unwrap().to_owned();
    let token = receipts[0]["token"].as_str().unwrap().to_owned();
    let url = server.url(&format!("/v1/sites/demo/callbacks/{reference}"));

    let response = server.client.get(&url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(header(response.headers(), "cache-control"), "no-store");
    let follow: CallbackFollowUp = response.json().await.unwrap();
    assert_eq!((follow.status, follow.due_ms), (CallbackStatus::Received, tuesday_ten() + 2 * H));
    // A wrong token answers like an unknown reference: a guessed reference learns nothing.
    api_error(server.client.get(&url).bearer_auth("wrong").send().await.unwrap(), 404, "not_found").await;
    api_error(server.client.get(&url).send().await.unwrap(), 401, "unauthorized").await;
    let other = receipts[1]["token"].as_str().unwrap();
    api_error(server.client.get(&url).bearer_auth(other).send().await.unwrap(), 404, "not_found").await;
    let unknown = server.client.get(server.url("/v1/sites/demo/callbacks/PL-ZZZZZZ")).bearer_auth(&token).send();
    api_error(unknown.await.unwrap(), 404, "not_found").await;

    // The operator's queue: earliest due first, with the E.164 phone.
    let list = |query: &'static str| {
        server.client.get(server.url(&format!("/v1/sites/demo/callbacks{query}"))).bearer_auth(OPERATOR).send()
    };
    api_error(server.client.get(server.url("/v1/sites/demo/callbacks")).send().await.unwrap(), 401, "unauthorized")
        .await;
    let pending: CallbackList = list("?status=pending").await.unwrap().json().await.unwrap();
    let phones: Vec<&str> = pending.callbacks.iter().map(|c| c.phone.as_str()).collect();
    assert_eq!(phones, ["+37120000003", "+37120000002", "+37120000001"]);
    // Grouped for reading aloud, as Latvia writes it.
    assert_eq!(pending.callbacks[0].phone_display.as_deref(), Some("+371 20 000 003"));
    assert!(pending.callbacks.windows(2).all(|w| w[0].due_ms <= w[1].due_ms));

    let set = |status: &'static str, due: Option<i64>| {
        server
            .client
            .put(server.url(&format!("/v1/sites/demo/callbacks/{reference}/status")))
            .bearer_auth(OPERATOR)
            .json(&json!({"status": status, "due_ms": due}))
            .send()
    };
    let scheduled_for = local_ms(RIGA, (2026, 3, 10), (15, 0));
    let response = set("scheduled", Some(scheduled_for)).await.unwrap();
    assert_eq!(response.status(), 200);
    let now: CallbackFollowUp = response.json().await.unwrap();
    assert_eq!(
        (now.status, now.due_ms, now.updated_ms),
        (CallbackStatus::Scheduled, scheduled_for, Some(tuesday_ten()))
    );
    let seen: CallbackFollowUp =
        server.client.get(&url).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!((seen.status, seen.due_ms), (CallbackStatus::Scheduled, scheduled_for));

    assert_eq!(set("done", None).await.unwrap().status(), 200);
    let pending: CallbackList = list("").await.unwrap().json().await.unwrap();
    assert_eq!(pending.callbacks.len(), 2, "done is no longer pending");
    let done: CallbackList = list("?status=done").await.unwrap().json().await.unwrap();
    assert_eq!(done.callbacks[0].reference, reference);
    let all: CallbackList = list("?status=all").await.unwrap().json().await.unwrap();
    assert_eq!(all.callbacks.len(), 3);
    api_error(list("?status=lost").await.unwrap(), 422, "validation_failed").await;
    api_error(set("lost", None).await.unwrap(), 422, "validation_failed").await;
    let missing = server
        .client
        .put(server.url("/v1/sites/demo/callbacks/PL-ZZZZZZ/status"))
        .bearer_auth(OPERATOR)
        .json(&json!({"status": "done"}))
        .send()
        .await
        .unwrap();
    api_error(missing, 404, "not_found").await;
}

#[tokio::test]
async fn a_second_persons_request_under_a_reused_key_is_refused_not_dropped() {
    let (server, _clock, _dir) = start(tuesday_ten()).await;
    let first = server.post_json("/v1/sites/demo/callbacks", Some("cb-key-reuse-01"), &request("+37120000001")).await;
    assert_eq!(first.status(), 201);
    let again = server.post_json("/v1/sites/demo/callbacks", Some("cb-key-reuse-01"), &request("+37120000001")).await;
    assert_eq!(again.status(), 200, "a true replay gets the stored receipt");
    let other = server.post_json("/v1/sites/demo/callbacks", Some("cb-key-reuse-01"), &request("+37120000002")).await;
    let error = api_error(other, 422, "idempotency_key_reused").await;
    assert!(!error.to_string().contains("PL-"), "no receipt of the first request: {error}");
    assert_eq!(server.count("SELECT COUNT(*) FROM callbacks").await, 1);
}

#[tokio::test]
async fn the_visitor_moves_or_cancels_their_callback_with_its_token_and_nothing_else_can() {
    let (server, _clock, _dir) = start(tuesday_ten()).await;
    let booked =
        server.post_json("/v1/sites/demo/callbacks", Some("cb-key-manage-01"), &request("+371 2000 0011")).await;
    let receipt: Value = booked.json().await.unwrap();
    let (reference, token) = (receipt["reference"].as_str().unwrap(), receipt["token"].as_str().unwrap());
    let url = server.url(&format!("/v1/sites/demo/callbacks/{reference}"));
    let put = |body: Value, token: &str| server.client.put(&url).bearer_auth(token).json(&body).send();

    // Another time: a bookable slot (Wednesday 14:00 Riga; the slot is 30 minutes by default).
    let wednesday_two = local_ms(RIGA, (2026, 3, 11), (14, 0));
    let moved = put(json!({"preferred_ms": wednesday_two}), token).await.unwrap();
    assert_eq!(moved.status(), 200);
    let moved: CallbackFollowUp = moved.json().await.unwrap();
    assert_eq!((moved.preferred_ms, moved.status), (Some(wednesday_two), CallbackStatus::Received));
    assert!(moved.due_ms > wednesday_two, "due at the slot's end");
    // The operator's queue and the ledger follow.
    let all: CallbackList = operator_json(&server, "/v1/sites/demo/callbacks?status=all").await;
    assert_eq!(all.callbacks[0].due_ms, moved.due_ms);
    // A closed day, or a stranger's token: refused, nothing changed.
    let closed_day = local_ms(RIGA, (2026, 3, 12), (10, 0));
    let refused = put(json!({"preferred_ms": closed_day}), token).await.unwrap();
    assert_eq!(api_error(refused, 422, "validation_failed").await["fields"][0]["field"], "preferred_ms");
    api_error(put(json!({"preferred_ms": null}), "not-the-token").await.unwrap(), 404, "not_found").await;
    // Back to "as soon as possible": due as posted now (2 business hours).
    let asap: CallbackFollowUp = put(json!({"preferred_ms": null}), token).await.unwrap().json().await.unwrap();
    assert_eq!((asap.preferred_ms, asap.due_ms), (None, tuesday_ten() + 2 * H));

    // Cancelled: no call; repeating it changes nothing; it cannot be moved any more.
    let cancel = |token: &str| server.client.delete(&url).bearer_auth(token).send();
    api_error(cancel("not-the-token").await.unwrap(), 404, "not_found").await;
    assert_eq!(cancel(token).await.unwrap().status(), 204);
    assert_eq!(cancel(token).await.unwrap().status(), 204);
    let seen: CallbackFollowUp = server.client.get(&url).bearer_auth(token).send().await.unwrap().json().await.unwrap();
    assert_eq!(seen.status, CallbackStatus::Cancelled);
    api_error(put(json!({"preferred_ms": null}), token).await.unwrap(), 409, "conflict").await;
    let pending: CallbackList = operator_json(&server, "/v1/sites/demo/callbacks").await;
    assert!(pending.callbacks.iter().all(|c| c.reference != reference), "gone from the pending queue");
    let summary: Value = operator_json(&server, "/v1/sites/demo/promises/summary").await;
    let callback = summary["kinds"].as_array().unwrap().iter().find(|k| k["kind"] == "callback").unwrap();
    assert_eq!((callback["void"].as_u64(), callback["broken"].as_u64()), (Some(1), Some(0)), "{callback}");

    // A callback already made cannot be cancelled.
    let other =
        server.post_json("/v1/sites/demo/callbacks", Some("cb-key-manage-02"), &request("+371 2000 0012")).await;
    let other: Value = other.json().await.unwrap();
    let other_url = server.url(&format!("/v1/sites/demo/callbacks/{}", other["reference"].as_str().unwrap()));
    let done = server
        .client
        .put(format!("{other_url}/status"))
        .bearer_auth(OPERATOR)
        .json(&json!({"status": "done"}))
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    let late = server.client.delete(&other_url).bearer_auth(other["token"].as_str().unwrap()).send().await.unwrap();
    api_error(late, 409, "conflict").await;
}
