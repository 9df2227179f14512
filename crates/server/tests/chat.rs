//! Live chat: the visitor's event stream (replay, live, resume without loss or duplicates, across
//! a restart), typing and closing, token isolation and the per-conversation rate limit.

mod common;

use std::time::{Duration, Instant};

use common::{api_error, header, TestServer};
use serde_json::{json, Value};

pub const OPERATOR_TOKEN: &str = "operator-token-0123456789";

/// [`common::config`] with an operator token.
pub fn config() -> String {
    format!("operator_token = \"{OPERATOR_TOKEN}\"\n{}", common::config(0))
}

async fn start(dir: &std::path::Path) -> TestServer {
    TestServer::start(&config(), dir).await
}

#[derive(Debug, Clone, PartialEq)]
struct SseEvent {
    event: String,
    id: Option<String>,
    data: String,
}

/// A minimal `text/event-stream` reader over reqwest's chunks.
struct SseStream {
    response: reqwest::Response,
    buffer: String,
}

impl SseStream {
    async fn open(server: &TestServer, path: &str, last_event_id: Option<i64>, bearer: Option<&str>) -> SseStream {
        let mut request = server.client.get(server.url(path));
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id.to_string());
        }
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert!(header(response.headers(), "content-type").starts_with("text/event-stream"));
        assert_eq!(header(response.headers(), "cache-control"), "no-store");
        SseStream { response, buffer: String::new() }
    }

    /// The next event (comments skipped), or `None` after `wait` without one / at the end.
    async fn next(&mut self, wait: Duration) -> Option<SseEvent> {
        let deadline = Instant::now() + wait;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = SseEvent { event: "message".into(), id: None, data: String::new() };
                let mut any = false;
                for line in block.lines() {
                    if line.starts_with(':') || line.is_empty() {
                        continue;
                    }
                    any = true;
                    let (field, value) = line.split_once(':').unwrap_or((line, ""));
                    let value = value.strip_prefix(' ').unwrap_or(value);
                    match field {
                        "event" => event.event = value.into(),
                        "id" => event.id = Some(value.into()),
                        "data" => event.data.push_str(value),
                        _ => {}
                    }
                }
                if any {
                    return Some(event);
                }
                continue;
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            match tokio::time::timeout(left, self.response.chunk()).await {
                Ok(Ok(Some(bytes))) => self.buffer.push_str(&String::from_utf8_lossy(&bytes)),
                _ => return None,
            }
        }
    }

    /// Message ids until `count` messages arrived (panics after 10 s).
    async fn message_ids(&mut self, count: usize) -> Vec<i64> {
        let mut ids = Vec::new();
        while ids.len() < count {
            let event = self.next(Duration::from_secs(10)).await.expect("an event within 10 s");
            if event.event == "message" {
                let message: Value = serde_json::from_str(&event.data).unwrap();
                assert_eq!(event.id.as_deref(), Some(message["id"].to_string().as_str()));
                ids.push(message["id"].as_i64().unwrap());
            }
        }
        ids
    }
}

struct Conversation {
    id: String,
    token: String,
}

async fn start_conversation(server: &TestServer, client_id: &str) -> Conversation {
    let response = server
        .post_json(
            "/v1/sites/demo/conversations",
            None,
            &json!({"message": {"client_id": client_id, "body": "Hello, anyone there?"}}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    Conversation { id: body["conversation_id"].as_str().unwrap().into(), token: body["token"].as_str().unwrap().into() }
}

async fn operator_reply(server: &TestServer, conversation: &str, client_id: &str) -> i64 {
    let response = server
        .client
        .post(server.url(&format!("/v1/console/conversations/{conversation}/messages")))
        .bearer_auth(OPERATOR_TOKEN)
        .json(&json!({"client_id": client_id, "body": format!("reply {client_id}")}))
        .send()
        .await
        .unwrap();
    assert!(response.status() == 201 || response.status() == 200, "{}", response.status());
    response.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

async fn visitor_message(server: &TestServer, c: &Conversation, client_id: &str) -> reqwest::Response {
    server
        .client
        .post(server.url(&format!("/v1/sites/demo/conversations/{}/messages", c.id)))
        .bearer_auth(&c.token)
        .json(&json!({"client_id": client_id, "body": "more"}))
        .send()
        .await
        .unwrap()
}

async fn stored_ids(server: &TestServer, conversation: &str) -> Vec<i64> {
    let pool = server.db().await;
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM messages WHERE conversation_id = ? ORDER BY id")
        .bind(conversation)
        .fetch_all(&pool)
        .await
        .unwrap();
    pool.close().await;
    ids
}

fn events_path(c: &Conversation) -> String {
    format!("/v1/sites/demo/conversations/{}/events", c.id)
}

#[tokio::test]
async fn stream_replays_then_goes_live_and_resumes_after_a_cut_without_loss_or_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let c = start_conversation(&server, "visitor-0001").await;

    // Query token, as EventSource sends it.
    let mut stream = SseStream::open(&server, &format!("{}?token={}", events_path(&c), c.token), None, None).await;
    let mut seen = stream.message_ids(1).await;
    for i in 0..3 {
        operator_reply(&server, &c.id, &format!("op-reply-{i:04}")).await;
    }
    seen.extend(stream.message_ids(3).await);

    // Cut the stream mid-conversation; messages keep arriving meanwhile.
    drop(stream);
    operator_reply(&server, &c.id, "op-reply-0100").await;
    assert_eq!(visitor_message(&server, &c, "visitor-0100").await.status(), 201);
    let last = *seen.last().unwrap();
    let mut stream = SseStream::open(&server, &events_path(&c), Some(last), Some(&c.token)).await;
    seen.extend(stream.message_ids(2).await);

    // Many writers at once, from both sides, while the stream is open.
    let mut writers = Vec::new();
    for i in 0..20 {
        let (client, base, id, token) = (server.client.clone(), server.base.clone(), c.id.clone(), c.token.clone());
        writers.push(tokio::spawn(async move {
            let (url, auth, client_id) = if i % 2 == 0 {
                (
                    format!("{base}/v1/console/conversations/{id}/messages"),
                    OPERATOR_TOKEN.to_owned(),
                    format!("op-burst-{i:04}"),
                )
            } else {
                (format!("{base}/v1/sites/demo/conversations/{id}/messages"), token, format!("vi-burst-{i:04}"))
            };
            let response =
                client.post(url).bearer_auth(auth).json(&json!({"client_id": client_id, "body": "burst"})).send().await;
            assert_eq!(response.unwrap().status(), 201);
        }));
    }
    for w in writers {
        w.await.unwrap();
    }
    seen.extend(stream.message_ids(20).await);
    // A retried send is not a new message.
    operator_reply(&server, &c.id, "op-reply-0100").await;
    assert_eq!(stream.next(Duration::from_millis(500)).await, None);

    let stored = stored_ids(&server, &c.id).await;
    assert_eq!(seen, stored, "every stored message exactly once, in order");
    drop(stream);
    server.stop().await;
}

#[tokio::test]
async fn replay_works_after_a_restart_and_shutdown_ends_open_streams() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let c = start_conversation(&server, "visitor-0002").await;
    let mut stream = SseStream::open(&server, &events_path(&c), None, Some(&c.token)).await;
    let seen = stream.message_ids(1).await;
    operator_reply(&server, &c.id, "op-before-restart").await;
    let seen: Vec<i64> = seen.into_iter().chain(stream.message_ids(1).await).collect();

    // The open stream must not hold the shutdown up for the drain timeout.
    let stopping = Instant::now();
    server.stop().await;
    assert!(stopping.elapsed() < Duration::from_secs(5), "{:?}", stopping.elapsed());
    assert_eq!(stream.next(Duration::from_secs(2)).await, None, "the stream ended");

    let server = start(dir.path()).await;
    operator_reply(&server, &c.id, "op-after-restart-1").await;
    let mut stream = SseStream::open(&server, &events_path(&c), Some(seen[1]), Some(&c.token)).await;
    operator_reply(&server, &c.id, "op-after-restart-2").await;
    let after = stream.message_ids(2).await;
    let stored = stored_ids(&server, &c.id).await;
    assert_eq!([seen, after].concat(), stored);

    // `?after=` works like the header.
    let mut stream =
        SseStream::open(&server, &format!("{}?after={}", events_path(&c), stored[2]), None, Some(&c.token)).await;
    assert_eq!(stream.message_ids(1).await, vec![stored[3]]);
    server.stop().await;
}

#[tokio::test]
async fn typing_both_ways_and_closing_reach_the_other_side() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let c = start_conversation(&server, "visitor-0003").await;
    let mut visitor = SseStream::open(&server, &events_path(&c), None, Some(&c.token)).await;
    visitor.message_ids(1).await;
    let mut console = SseStream::open(&server, "/v1/console/events", None, Some(OPERATOR_TOKEN)).await;

    let typing = server
        .client
        .post(server.url(&format!("/v1/console/conversations/{}/typing", c.id)))
        .bearer_auth(OPERATOR_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(typing.status(), 204);
    let event = visitor.next(Duration::from_secs(5)).await.unwrap();
    assert_eq!((event.event.as_str(), event.id.as_deref()), ("typing", None));
    assert_eq!(serde_json::from_str::<Value>(&event.data).unwrap(), json!({"author": "operator"}));

    let typing = server
        .client
        .post(server.url(&format!("/v1/sites/demo/conversations/{}/typing", c.id)))
        .bearer_auth(&c.token)
        .send()
        .await
        .unwrap();
    assert_eq!(typing.status(), 204);
    // The console saw the operator's own typing first, then the visitor's.
    let mut authors = Vec::new();
    while authors.len() < 2 {
        let event = console.next(Duration::from_secs(5)).await.unwrap();
        assert_eq!(event.event, "typing");
        let data: Value = serde_json::from_str(&event.data).unwrap();
        assert_eq!(data["conversation_id"], c.id.as_str());
        authors.push(data["typing"]["author"].as_str().unwrap().to_owned());
    }
    assert_eq!(authors, ["operator", "visitor"]);

    // A visitor message reaches the console.
    assert_eq!(visitor_message(&server, &c, "visitor-0103").await.status(), 201);
    let event = console.next(Duration::from_secs(5)).await.unwrap();
    assert_eq!(event.event, "message");
    let data: Value = serde_json::from_str(&event.data).unwrap();
    assert_eq!((data["site"].as_str(), data["message"]["author"].as_str()), (Some("demo"), Some("visitor")));
    assert_eq!(visitor.message_ids(1).await.len(), 1);

    let close = server
        .client
        .post(server.url(&format!("/v1/console/conversations/{}/close", c.id)))
        .bearer_auth(OPERATOR_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(close.status(), 200);
    let closed_ms = close.json::<Value>().await.unwrap()["closed_ms"].as_i64().unwrap();
    let event = visitor.next(Duration::from_secs(5)).await.unwrap();
    assert_eq!(event.event, "closed");
    assert_eq!(serde_json::from_str::<Value>(&event.data).unwrap(), json!({"closed_ms": closed_ms}));

    // A stream opened later learns it after the replay; closing again keeps the first time.
    let mut late = SseStream::open(&server, &events_path(&c), None, Some(&c.token)).await;
    late.message_ids(2).await;
    assert_eq!(late.next(Duration::from_secs(5)).await.unwrap().event, "closed");
    let again = server
        .client
        .post(server.url(&format!("/v1/console/conversations/{}/close", c.id)))
        .bearer_auth(OPERATOR_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(again.json::<Value>().await.unwrap()["closed_ms"], closed_ms);
    server.stop().await;
}

#[tokio::test]
async fn a_visitor_token_cannot_read_another_conversation() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let mine = start_conversation(&server, "visitor-0004").await;
    let theirs = start_conversation(&server, "visitor-0005").await;
    for path in [events_path(&theirs), format!("/v1/sites/demo/conversations/{}/messages", theirs.id)] {
        // Another conversation's token answers as an unknown id would (404).
        let response = server.client.get(server.url(&path)).bearer_auth(&mine.token).send().await.unwrap();
        api_error(response, 404, "not_found").await;
        // Only the event stream reads `?token=` (EventSource cannot send headers); the message
        // list without a header has no token at all.
        let response = server.client.get(server.url(&format!("{path}?token={}", mine.token))).send().await.unwrap();
        if path.ends_with("/events") {
            api_error(response, 404, "not_found").await;
        } else {
            api_error(response, 401, "unauthorized").await;
        }
    }
    let response = server.client.get(server.url(&events_path(&theirs))).send().await.unwrap();
    api_error(response, 401, "unauthorized").await;
    let typing = server
        .client
        .post(server.url(&format!("/v1/sites/demo/conversations/{}/typing", theirs.id)))
        .bearer_auth(&mine.token)
        .send()
        .await
        .unwrap();
    api_error(typing, 404, "not_found").await;
    let unknown = server
        .client
        .get(server.url("/v1/sites/demo/conversations/cv_nope/events"))
        .bearer_auth(&mine.token)
        .send()
        .await
        .unwrap();
    api_error(unknown, 404, "not_found").await;
    // Another site's path does not find the conversation either.
    let other_site = server
        .client
        .get(server.url(&format!("/v1/sites/stars/conversations/{}/events", mine.id)))
        .bearer_auth(&mine.token)
        .send()
        .await
        .unwrap();
    api_error(other_site, 404, "not_found").await;
    // The console needs an operator.
    let console = server.client.get(server.url("/v1/console/events")).bearer_auth(&mine.token).send().await.unwrap();
    api_error(console, 401, "unauthorized").await;
    let garbage = server
        .client
        .get(server.url(&events_path(&mine)))
        .bearer_auth(&mine.token)
        .header("Last-Event-ID", "yesterday")
        .send()
        .await
        .unwrap();
    api_error(garbage, 422, "validation_failed").await;
    server.stop().await;
}

#[tokio::test]
async fn visitor_messages_are_limited_per_conversation_and_too_long_ones_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let c = start_conversation(&server, "visitor-0006").await;
    for i in 0..20 {
        assert_eq!(visitor_message(&server, &c, &format!("visitor-burst-{i:04}")).await.status(), 201, "{i}");
    }
    let limited = visitor_message(&server, &c, "visitor-burst-0020").await;
    let retry_after: u64 = header(limited.headers(), "retry-after").parse().unwrap();
    assert!((1..=3).contains(&retry_after), "{retry_after}");
    api_error(limited, 429, "rate_limited").await;
    // Another conversation has its own budget; operators are not limited.
    let other = start_conversation(&server, "visitor-0007").await;
    assert_eq!(visitor_message(&server, &other, "visitor-other-0001").await.status(), 201);
    operator_reply(&server, &c.id, "op-after-limit").await;

    let long = server
        .client
        .post(server.url(&format!("/v1/sites/demo/conversations/{}/messages", other.id)))
        .bearer_auth(&other.token)
        .json(&json!({"client_id": "visitor-long-0001", "body": "x".repeat(4001)}))
        .send()
        .await
        .unwrap();
    api_error(long, 422, "validation_failed").await;
    server.stop().await;
}

#[tokio::test]
async fn a_query_token_is_never_logged() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    // The widget's `EventSource` must put the token in the query, where request logging would
    // see it: the real binary, logging everything at the most verbose level.
    let dir = tempfile::tempdir().unwrap();
    common::write_fake_assets(&dir.path().join("dist"));
    let config = dir.path().join("porchlight.toml");
    std::fs::write(&config, self::config()).unwrap();
    let log_path = dir.path().join("server.log");
    let mut command = Command::new(env!("CARGO_BIN_EXE_porchlight"));
    for var in
        ["PORCHLIGHT_LISTEN", "PORCHLIGHT_DB", "PORCHLIGHT_ASSETS", "PORCHLIGHT_PUBLIC_URL", "PORCHLIGHT_FAKE_NOW"]
    {
        command.env_remove(var);
    }
    let mut child = command
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .arg("--db")
        .arg(dir.path().join("p.db"))
        .arg("--assets")
        .arg(dir.path().join("dist"))
        .env("RUST_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let base = first.trim().strip_prefix("listening on ").expect("the banner names the address").to_owned();

    let client = reqwest::Client::new();
    let created: Value = client
        .post(format!("{base}/v1/sites/demo/conversations"))
        .json(&json!({"message": {"client_id": "visitor-0777", "body": "Hello"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (id, token) = (created["conversation_id"].as_str().unwrap(), created["token"].as_str().unwrap());
    let events = format!("{base}/v1/sites/demo/conversations/{id}/events");
    let mut stream = client.get(format!("{events}?after=0&token={token}")).send().await.unwrap();
    assert_eq!(stream.status(), 200);
    let first_chunk = tokio::time::timeout(Duration::from_secs(5), stream.chunk()).await.unwrap().unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first_chunk).contains("visitor-0777"));
    drop(stream);
    let wrong = client.get(format!("{events}?token=not-the-token-12345")).send().await.unwrap();
    api_error(wrong, 404, "not_found").await;
    let _ = child.kill();
    let _ = child.wait();

    let logged = std::fs::read_to_string(&log_path).unwrap();
    assert!(logged.contains(&format!("/conversations/{id}/events")), "requests are logged:\n{logged}");
    assert!(!logged.contains(token), "the token leaked into the log:\n{logged}");
    assert!(!logged.contains("not-the-token-12345"), "a wrong token leaked into the log:\n{logged}");
}
