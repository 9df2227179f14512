//! The promise ledger with the manual clock: kept, broken and void outcomes for each kind, the
//! `promise.broken` webhook once per break, and the posted chat wait rising after a run of breaks
//! and falling back (never under the promise). The real server on a real socket.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{local_ms, TestServer};
use porchlight_server::domain::clock::ManualClock;
use serde_json::{json, Value};

const TOKEN: &str = "operator-token-0123456789";

fn config() -> String {
    format!(
        r#"operator_token = "{TOKEN}"
[rate_limit]
writes_per_minute = 0

[[sites]]
id = "demo"
name = "Demo Shop"
origins = ["https://shop.example"]
timezone = "Europe/Riga"
webhooks = [{{ url = "http://127.0.0.1:9/hook", secret = "whsec-0123456789abcdef" }}]
[sites.promises]
chat_first_reply_secs = 300
callback_business_hours = 2
"#
    )
}

async fn start() -> (TestServer, Arc<ManualClock>, tempfile::TempDir) {
    // Tuesday 10:00 in Riga: business hours.
    TestServer::with_manual_clock(&config(), local_ms("Europe/Riga", (2026, 3, 10), (10, 0))).await
}

async fn presence(server: &TestServer, status: &str) {
    let response = server
        .client
        .put(server.url("/v1/sites/demo/presence"))
        .bearer_auth(TOKEN)
        .json(&json!({ "status": status }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

async fn conversation(server: &TestServer, n: u32) -> String {
    let body = json!({"message": {"client_id": format!("ledger-msg-{n:04}"), "body": "Hello?"},
                      "create_key": format!("ledger-create-key-{n:06}")});
    let created: Value = server.post_json("/v1/sites/demo/conversations", None, &body).await.json().await.unwrap();
    created["conversation_id"].as_str().unwrap().to_owned()
}

async fn reply(server: &TestServer, conversation: &str, n: u32) {
    let response = server
        .client
        .post(server.url(&format!("/v1/console/conversations/{conversation}/messages")))
        .bearer_auth(TOKEN)
        .json(&json!({"client_id": format!("ledger-reply-{n:04}"), "body": "Hi, here to help"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
}

async fn summary(server: &TestServer) -> Value {
    let response =
        server.client.get(server.url("/v1/sites/demo/promises/summary")).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn kind<'a>(summary: &'a Value, name: &str) -> &'a Value {
    summary["kinds"].as_array().unwrap().iter().find(|k| k["kind"] == name).unwrap()
}

async fn expected_wait(server: &TestServer) -> i64 {
    let body: Value =
        server.client.get(server.url("/v1/sites/demo/availability")).send().await.unwrap().json().await.unwrap();
    body["chat"]["expected_wait_secs"].as_i64().unwrap()
}

#[tokio::test]
async fn chat_promises_are_kept_broken_or_void_and_each_break_fires_one_webhook() {
    let (server, clock, _dir) = start().await;
    presence(&server, "online").await;

    // Answered after 2 of the promised 5 minutes: kept, 3 minutes to spare.
    let kept = conversation(&server, 1).await;
    clock.advance(Duration::from_secs(120));
    reply(&server, &kept, 1).await;

    // Unanswered past its 5 minutes: broken at once (before anyone replies), then answered late.
    let late = conversation(&server, 2).await;
    clock.advance(Duration::from_secs(301));
    let s = summary(&server).await;
    let chat = kind(&s, "chat_first_reply");
    assert_eq!((chat["kept"].as_u64(), chat["broken"].as_u64()), (Some(1), Some(1)), "{chat}");
    assert_eq!(chat["worst"][0]["subject_id"], late.as_str());
    assert!(chat["worst"][0]["answered_ms"].is_null(), "still unanswered");
    clock.advance(Duration::from_secs(59));
    reply(&server, &late, 2).await;

    // Closed before its deadline without an answer: void, counted apart.
    let abandoned = conversation(&server, 3).await;
    let closed = server
        .client
        .post(server.url(&format!("/v1/console/conversations/{abandoned}/close")))
        .bearer_auth(TOKEN)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(closed.status(), 200);

    let s = summary(&server).await;
    let chat = kind(&s, "chat_first_reply");
    assert_eq!(
        (chat["total"].as_u64(), chat["kept"].as_u64(), chat["broken"].as_u64(), chat["void"].as_u64()),
        (Some(3), Some(1), Some(1), Some(1)),
        "{chat}"
    );
    assert_eq!(chat["kept_rate"], 0.5);
    assert_eq!(chat["worst"][0]["late_secs"], 60, "answered a minute late");
    // Per operator who answered (here the automation token: no name) and per day made.
    let by_operator = &s["by_operator"][0];
    assert_eq!(
        (by_operator["operator_id"].as_str(), by_operator["kept"].as_u64(), by_operator["broken"].as_u64()),
        (Some("operator-token"), Some(1), Some(1)),
        "{s}"
    );
    assert!(by_operator["name"].is_null());
    assert_eq!(
        s["by_day"],
        json!([{"day": "2026-03-10", "kept": 1, "broken": 1, "void": 1, "open": 0, "kept_rate": 0.5}])
    );
    // One webhook per broken promise, however often the sweeper and the summary ran.
    summary(&server).await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(server.count("SELECT COUNT(*) FROM webhook_outbox WHERE event_type = 'promise.broken'").await, 1);

    let csv = server.client.get(server.url("/v1/sites/demo/promises.csv")).bearer_auth(TOKEN).send().await.unwrap();
    let csv = csv.text().await.unwrap();
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(csv.contains(&format!("chat_first_reply,{late},")) && csv.contains(",broken,"), "{csv}");
    assert!(csv.contains(",void,") && csv.contains("closed_unanswered"), "{csv}");
}

#[tokio::test]
async fn messages_left_while_nobody_is_online_and_callbacks_are_promises_too() {
    let (server, clock, _dir) = start().await;
    presence(&server, "away").await;
    let message = conversation(&server, 10).await;
    // A callback: due within 2 business hours; done after one.
    let booked = server
        .post_json(
            "/v1/sites/demo/callbacks",
            Some("ledger-callback-01"),
            &json!({"name": "Anna", "phone": "+37120000001"}),
        )
        .await;
    assert_eq!(booked.status(), 201);
    let reference = booked.json::<Value>().await.unwrap()["reference"].as_str().unwrap().to_owned();
    clock.advance(Duration::from_secs(3600));
    let done = server
        .client
        .put(server.url(&format!("/v1/sites/demo/callbacks/{reference}/status")))
        .bearer_auth(TOKEN)
        .json(&json!({"status": "done"}))
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    reply(&server, &message, 10).await;

    let s = summary(&server).await;
    let callback = kind(&s, "callback");
    assert_eq!((callback["total"].as_u64(), callback["kept"].as_u64()), (Some(1), Some(1)), "{callback}");
    assert_eq!(callback["median_margin_secs"], 3600, "an hour to spare");
    let left = kind(&s, "message_reply");
    assert_eq!((left["total"].as_u64(), left["kept"].as_u64()), (Some(1), Some(1)), "{left}");
    assert_eq!(kind(&s, "chat_first_reply")["total"], 0, "nobody online: no chat promise was made");
}

#[tokio::test]
async fn the_posted_wait_rises_after_a_run_of_breaks_and_never_goes_under_the_promise() {
    let (server, clock, _dir) = start().await;
    presence(&server, "online").await;
    assert_eq!(expected_wait(&server).await, 300);
    // Ten visitors answered after 11 minutes each: every promise broken.
    for n in 0..10 {
        let id = conversation(&server, 100 + n).await;
        clock.advance(Duration::from_secs(660));
        reply(&server, &id, 100 + n).await;
    }
    let raised = expected_wait(&server).await;
    assert_eq!(raised, 660, "posted what 90% of visitors actually waited");
    // Twenty quick answers bring the kept rate back over 90%: back to the promise, not below.
    for n in 0..80 {
        let id = conversation(&server, 200 + n).await;
        clock.advance(Duration::from_secs(30));
        reply(&server, &id, 200 + n).await;
    }
    assert_eq!(expected_wait(&server).await, 300);
}

async fn availability(server: &TestServer) -> Value {
    server.client.get(server.url("/v1/sites/demo/availability")).send().await.unwrap().json().await.unwrap()
}

async fn book(server: &TestServer, n: u32) -> Value {
    let booked = server
        .post_json(
            "/v1/sites/demo/callbacks",
            Some(&format!("ledger-calibrate-{n:04}")),
            &json!({"name": "Anna", "phone": format!("+3712000{n:04}")}),
        )
        .await;
    assert_eq!(booked.status(), 201);
    booked.json().await.unwrap()
}

#[tokio::test]
async fn callback_and_message_promises_move_later_after_too_many_breaks() {
    let (server, clock, _dir) = start().await;
    let riga = |day: i8, hour: i8| local_ms("Europe/Riga", (2026, 3, day), (hour, 0));
    // Tuesday 10:00: ten callbacks "as soon as possible", due by 12:00 (2 business hours).
    let mut references = Vec::new();
    for n in 0..10 {
        let receipt = book(&server, n).await;
        assert_eq!(receipt["due_ms"], riga(10, 12));
        references.push(receipt["reference"].as_str().unwrap().to_owned());
    }
    // All called back at 13:30: every one broken, 1.5 business hours late.
    clock.advance(Duration::from_secs(3 * 3600 + 1800));
    for reference in &references {
        let done = server
            .client
            .put(server.url(&format!("/v1/sites/demo/callbacks/{reference}/status")))
            .bearer_auth(TOKEN)
            .json(&json!({"status": "done"}))
            .send()
            .await
            .unwrap();
        assert_eq!(done.status(), 200);
    }
    // Posted two business hours later than configured (1.5 h rounded up to a whole hour): 17:30,
    // and a callback booked now is promised exactly what was posted.
    let posted = availability(&server).await["callback"]["due_ms"].as_i64().unwrap();
    assert_eq!(posted, riga(10, 17) + 1_800_000, "13:30 + 2 h + 2 h learned");
    assert_eq!(book(&server, 50).await["due_ms"], posted);
    let slots: Value =
        server.client.get(server.url("/v1/sites/demo/callbacks/slots")).send().await.unwrap().json().await.unwrap();
    assert_eq!(slots["asap_due_ms"], posted);

    // Messages: ten left at 13:30 while nobody is online, to be answered by Wednesday 18:00 …
    presence(&server, "away").await;
    assert_eq!(availability(&server).await["message"]["reply_by_ms"], riga(11, 18));
    let mut left = Vec::new();
    for n in 0..10 {
        left.push(conversation(&server, 300 + n).await);
    }
    // … answered on Thursday at 16:00: seven business hours late each.
    clock.set(riga(12, 16));
    for (n, id) in left.iter().enumerate() {
        reply(&server, id, 300 + n as u32).await;
    }
    // Without the ledger: by the end of Friday. Learned: seven business hours later (Friday 14:00)
    // and then one business day: Monday 18:00.
    assert_eq!(availability(&server).await["message"]["reply_by_ms"], riga(16, 18));
    let s = summary(&server).await;
    assert_eq!(kind(&s, "message_reply")["broken"], 10);
}
