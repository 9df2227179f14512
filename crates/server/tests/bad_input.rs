//! Hostile and broken requests, as a table: each gets the expected 4xx with the protocol's JSON
//! error naming the problem, stores nothing (row counts in the SQLite file), and the server
//! answers the next valid request.
//!
//! Unknown fields are the one kind of "bad" input that is accepted: request bodies ignore fields
//! they do not know, exactly as responses do. The protocol's compatibility rule is that new
//! fields are optional; a widget one release ahead of its server (a rolling deploy, a
//! self-hosted server not yet upgraded) must keep working when it sends one, so rejecting
//! unknown fields would turn every additive change into a breaking one. Unknown fields are not
//! stored anywhere (`unknown_fields_are_ignored_and_not_stored`).

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::{config, write_fake_assets, TestServer, EVIL, SHOP};
use serde_json::{json, Value};

const JSON: Option<&str> = Some("application/json");
const RATINGS: &str = "/v1/sites/demo/ratings";
const CALLBACKS: &str = "/v1/sites/demo/callbacks";
const CONVERSATIONS: &str = "/v1/sites/demo/conversations";

struct Case {
    name: &'static str,
    path: &'static str,
    content_type: Option<&'static str>,
    /// `Idempotency-Key`; `None` sends none. Ignored by routes that take no key.
    key: Option<Vec<u8>>,
    origin: Option<&'static str>,
    body: Vec<u8>,
    status: u16,
    code: &'static str,
    /// A word the error's message or one of its field names must contain ("" for none).
    names: &'static str,
}

fn key(n: usize) -> Option<Vec<u8>> {
    Some(format!("bad-input-key-{n:04}").into_bytes())
}

fn case(name: &'static str, path: &'static str, body: impl Into<Vec<u8>>, status: u16, code: &'static str) -> Case {
    Case { name, path, content_type: JSON, key: None, origin: None, body: body.into(), status, code, names: "" }
}

impl Case {
    fn names(mut self, word: &'static str) -> Case {
        self.names = word;
        self
    }
    fn content_type(mut self, content_type: Option<&'static str>) -> Case {
        self.content_type = content_type;
        self
    }
    fn key(mut self, key: Option<Vec<u8>>) -> Case {
        self.key = key;
        self
    }
    fn origin(mut self, origin: &'static str) -> Case {
        self.origin = Some(origin);
        self
    }
}

fn json_bytes(value: Value) -> Vec<u8> {
    serde_json::to_vec(&value).unwrap()
}

fn cases() -> Vec<Case> {
    let good = || json_bytes(json!({"value": "good"}));
    let long = |n: usize| "x".repeat(n);
    let mut deep_field = br#"{"value":"good","page":"#.to_vec();
    deep_field.extend(std::iter::repeat_n(b'[', 10_000));
    let mut cases = vec![
        // Not JSON, or not the expected shape: 400 malformed_json.
        case("truncated JSON", RATINGS, r#"{"value": "good""#, 400, "malformed_json").names("EOF"),
        case("form body labelled JSON", RATINGS, "value=good", 400, "malformed_json"),
        case("empty body", RATINGS, "", 400, "malformed_json"),
        case("null", RATINGS, "null", 400, "malformed_json"),
        // serde alone would read a struct from an array of its fields; only objects are bodies.
        case("array instead of object", RATINGS, r#"["good"]"#, 400, "malformed_json").names("JSON object"),
        case("number where a string belongs", RATINGS, r#"{"value": 5}"#, 400, "malformed_json").names("invalid type"),
        case("missing required field", RATINGS, r#"{"comment": "hi"}"#, 400, "malformed_json").names("value"),
        case("duplicate field", RATINGS, r#"{"value":"good","value":"bad"}"#, 400, "malformed_json").names("duplicate"),
        case("trailing garbage", RATINGS, r#"{"value":"good"} {}"#, 400, "malformed_json").names("trailing"),
        case("10,000 nested arrays", RATINGS, "[".repeat(10_000), 400, "malformed_json").names("JSON object"),
        case("10,000 nested arrays in a field", RATINGS, deep_field, 400, "malformed_json").names("invalid type"),
        case("invalid UTF-8 in a string", RATINGS, b"{\"value\":\"go\xff\xfeod\"}".to_vec(), 400, "malformed_json")
            .names("unicode"),
        case("invalid UTF-8 outside strings", RATINGS, b"{\xc3\x28}".to_vec(), 400, "malformed_json"),
        case("lone surrogate escape", RATINGS, r#"{"value":"good","comment":"\ud800"}"#, 400, "malformed_json")
            .names("escape"),
        case(
            "number out of range",
            CALLBACKS,
            r#"{"name":"A","phone":"+37120000000","preferred_ms":1e400}"#,
            400,
            "malformed_json",
        )
        .names("number out of range"),
        // Wrong or missing media type: 415.
        case("text/plain", RATINGS, good(), 415, "unsupported_media_type")
            .content_type(Some("text/plain"))
            .names("application/json"),
        case("form content type", RATINGS, good(), 415, "unsupported_media_type")
            .content_type(Some("application/x-www-form-urlencoded")),
        case("no content type", RATINGS, good(), 415, "unsupported_media_type").content_type(None),
        // Too large: 413, before any parsing.
        case(
            "oversize body",
            RATINGS,
            json_bytes(json!({"value": "good", "comment": long(porchlight_protocol::MAX_BODY_BYTES)})),
            413,
            "payload_too_large",
        )
        .names("16384 bytes"),
        case("one megabyte of spaces", RATINGS, " ".repeat(1 << 20), 413, "payload_too_large"),
        // Well-formed JSON with values a person could fix: 422 naming the field.
        case(
            "comment too long",
            RATINGS,
            json_bytes(json!({"value": "good", "comment": long(2001)})),
            422,
            "validation_failed",
        )
        .names("comment"),
        case(
            "page path too long",
            RATINGS,
            json_bytes(json!({"value": "good", "page": {"path": long(3000)}})),
            422,
            "validation_failed",
        )
        .names("page.path"),
        case(
            "control character",
            RATINGS,
            json_bytes(json!({"value": "good", "comment": "a\u{0}b"})),
            422,
            "validation_failed",
        )
        .names("comment"),
        case("value not on the scale", RATINGS, json_bytes(json!({"value": "excellent"})), 422, "validation_failed")
            .names("value"),
        case(
            "callback name too long",
            CALLBACKS,
            json_bytes(json!({"name": long(101), "phone": "+371 2000 0000"})),
            422,
            "validation_failed",
        )
        .names("name"),
        case(
            "callback phone is prose",
            CALLBACKS,
            json_bytes(json!({"name": "Anna", "phone": "call me maybe"})),
            422,
            "validation_failed",
        )
        .names("phone"),
        case(
            "negative preferred time",
            CALLBACKS,
            json_bytes(json!({"name": "Anna", "phone": "+371 2000 0000", "preferred_ms": -5})),
            422,
            "validation_failed",
        )
        .names("preferred_ms"),
        case(
            "chat message too long",
            CONVERSATIONS,
            json_bytes(json!({"message": {"client_id": "client-0001", "body": long(4001)}})),
            422,
            "validation_failed",
        )
        .names("message.body"),
        case(
            "chat client id with spaces",
            CONVERSATIONS,
            json_bytes(json!({"message": {"client_id": "not a valid id", "body": "hi"}})),
            422,
            "validation_failed",
        )
        .names("message.client_id"),
        // Headers.
        case("no idempotency key", RATINGS, good(), 400, "missing_idempotency_key").key(None).names("Idempotency-Key"),
        case("idempotency key too long", RATINGS, good(), 400, "missing_idempotency_key")
            .key(Some(long(10_000).into_bytes())),
        case("idempotency key not UTF-8", RATINGS, good(), 400, "missing_idempotency_key")
            .key(Some(b"key-\xff\xfe-12345".to_vec())),
        // Who is asking.
        case("wrong origin", RATINGS, good(), 403, "origin_not_allowed").origin(EVIL).names("origin"),
        case("unknown site", "/v1/sites/nope/ratings", good(), 404, "site_not_found").origin(SHOP).names("site"),
        case("site id that cannot exist", "/v1/sites/NOT..valid/ratings", good(), 404, "site_not_found"),
    ];
    // Every case gets its own key unless it tests the key; a key never reaches the store anyway.
    for (n, c) in cases.iter_mut().enumerate() {
        if c.key.is_none() && c.code != "missing_idempotency_key" {
            c.key = key(n);
        }
    }
    cases
}

/// Rows in every table a visitor can write to.
async fn rows(server: &TestServer) -> [i64; 5] {
    let pool = server.db().await;
    let mut out = [0; 5];
    for (slot, table) in out.iter_mut().zip(["ratings", "callbacks", "conversations", "messages", "spam_drops"]) {
        *slot = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(&pool).await.unwrap();
    }
    pool.close().await;
    out
}

async fn send(server: &TestServer, c: &Case) -> reqwest::Response {
    let mut request = server.client.post(server.url(c.path)).body(c.body.clone());
    if let Some(content_type) = c.content_type {
        request = request.header("Content-Type", content_type);
    }
    if let Some(key) = &c.key {
        request = request.header("Idempotency-Key", reqwest::header::HeaderValue::from_bytes(key).unwrap());
    }
    if let Some(origin) = c.origin {
        request = request.header("Origin", origin);
    }
    request.send().await.unwrap()
}

/// A valid rating: proves the server still serves writes after a bad request.
async fn probe(server: &TestServer, n: usize) {
    let response = server.post_json(RATINGS, Some(&format!("probe-key-{n:04}")), &json!({"value": "neutral"})).await;
    assert_eq!(response.status(), 201, "the next valid request after a bad one is served");
}

#[tokio::test]
async fn bad_requests_get_a_json_4xx_naming_the_problem_and_store_nothing() {
    let (server, _dir) = TestServer::with_defaults().await;
    let mut failures = Vec::new();
    for (n, c) in cases().iter().enumerate() {
        let before = rows(&server).await;
        let response = send(&server, c).await;
        let status = response.status().as_u16();
        let content_type = common::header(response.headers(), "content-type");
        let text = response.text().await.unwrap();
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let error = &body["error"];
        let message = error["message"].as_str().unwrap_or("");
        let fields: Vec<&str> =
            error["fields"].as_array().into_iter().flatten().filter_map(|f| f["field"].as_str()).collect();
        let named = c.names.is_empty() || message.contains(c.names) || fields.contains(&c.names);
        if status != c.status || error["code"] != c.code || content_type != "application/json" || !named {
            failures.push(format!(
                "{}: expected {} {} naming {:?}, got {status} {content_type} {}",
                c.name,
                c.status,
                c.code,
                c.names,
                text.chars().take(300).collect::<String>()
            ));
        }
        assert_eq!(rows(&server).await, before, "{}: nothing is stored", c.name);
        probe(&server, n).await;
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases().len(), failures.join("\n"));
    assert_eq!(rows(&server).await, [cases().len() as i64, 0, 0, 0, 0], "only the probes are stored");
}

#[tokio::test]
async fn unknown_fields_are_ignored_and_not_stored() {
    let (server, _dir) = TestServer::with_defaults().await;
    let body = json!({
        "value": "good",
        "sentiment_v2": {"score": 0.9},
        "page": {"path": "/pricing", "title": "Pricing", "referrer": "https://elsewhere.example"}
    });
    let response = server.post_json(RATINGS, Some("unknown-fields-1"), &body).await;
    assert_eq!(response.status(), 201);
    let pool = server.db().await;
    let row: (String, Option<String>, Option<String>, Option<String>) =
        sqlx::query_as("SELECT value, page_path, page_title, comment FROM ratings WHERE idempotency_key = ?")
            .bind("unknown-fields-1")
            .fetch_one(&pool)
            .await
            .unwrap();
    pool.close().await;
    assert_eq!(row, ("good".into(), Some("/pricing".into()), Some("Pricing".into()), None));

    let response = server
        .post_json(CONVERSATIONS, None, &json!({"message": {"client_id": "client-unknown-1", "body": "hi", "mood": 1}}))
        .await;
    assert_eq!(response.status(), 201);

    // serde_json skips an unknown value without recursing, so even 5,000 levels of nesting in an
    // unknown field cost nothing but the (limited) body size.
    let mut deep = br#"{"value":"good","extra":"#.to_vec();
    deep.extend(std::iter::repeat_n(b'[', 5_000));
    deep.extend(std::iter::repeat_n(b']', 5_000));
    deep.push(b'}');
    let response = server
        .client
        .post(server.url(RATINGS))
        .header("Content-Type", "application/json")
        .header("Idempotency-Key", "unknown-fields-deep")
        .body(deep)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    server.assert_alive().await;
}

#[tokio::test]
async fn a_flood_from_one_address_is_limited_and_the_rest_is_served() {
    let dir = tempfile::tempdir().unwrap();
    write_fake_assets(&dir.path().join("dist"));
    let server = TestServer::start(&config(5), dir.path()).await;
    let mut statuses = Vec::new();
    for n in 0..12 {
        let response = server.post_json(RATINGS, Some(&format!("flood-key-{n:04}")), &json!({"value": "good"})).await;
        statuses.push(response.status().as_u16());
        if response.status() == 429 {
            assert!(common::header(response.headers(), "retry-after").parse::<u64>().unwrap() >= 1);
            let error = common::api_error(response, 429, "rate_limited").await;
            assert!(error["message"].as_str().unwrap().contains("Too many requests"));
        }
    }
    assert_eq!(statuses, [vec![201; 5], vec![429; 7]].concat());
    assert_eq!(rows(&server).await, [5, 0, 0, 0, 0], "limited requests store nothing");
    // Reads are not limited, other sites have their own budget, and the server is fine.
    server.assert_alive().await;
    let response = server.client.get(server.url("/v1/sites/demo/config")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let response = server
        .post_json("/v1/sites/stars/ratings", Some("flood-other-site"), &json!({"value": "5", "scale": "stars5"}))
        .await;
    assert_eq!(response.status(), 201);
}

/// Sends raw bytes on a fresh connection and returns what comes back (until the server closes
/// the connection or stops sending).
fn raw(server: &TestServer, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    // The server may answer (and close) before it has read everything; that is fine.
    let _ = stream.write_all(request);
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    String::from_utf8_lossy(&response).into_owned()
}

#[tokio::test]
async fn broken_http_is_refused_and_the_server_keeps_serving() {
    let (server, _dir) = TestServer::with_defaults().await;
    let server = std::sync::Arc::new(server);

    let s = server.clone();
    let garbage = tokio::task::spawn_blocking(move || raw(&s, b"HELLO THERE\r\n\r\n")).await.unwrap();
    assert!(garbage.starts_with("HTTP/1.1 400"), "{garbage}");

    // A chunked body (no Content-Length) over the limit is cut off at the limit: 413.
    let s = server.clone();
    let chunked = tokio::task::spawn_blocking(move || {
        let mut request = format!(
            "POST {RATINGS} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nIdempotency-Key: chunked-key-1\r\n\
             Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
            s.addr
        )
        .into_bytes();
        let chunk = format!("{:x}\r\n{}\r\n", 4096, " ".repeat(4096));
        for _ in 0..8 {
            request.extend_from_slice(chunk.as_bytes());
        }
        request.extend_from_slice(b"0\r\n\r\n");
        raw(&s, &request)
    })
    .await
    .unwrap();
    assert!(chunked.starts_with("HTTP/1.1 413"), "{chunked}");
    assert!(chunked.contains(r#""code":"payload_too_large""#), "{chunked}");

    // A body that stops short of its Content-Length, then the client goes away.
    let s = server.clone();
    tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(s.addr).unwrap();
        let head = format!(
            "POST {RATINGS} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nIdempotency-Key: short-key-1\r\n\
             Content-Length: 100\r\n\r\n{{\"value\":",
            s.addr
        );
        stream.write_all(head.as_bytes()).unwrap();
    })
    .await
    .unwrap();

    assert_eq!(rows(&server).await, [0, 0, 0, 0, 0]);
    server.assert_alive().await;
    probe(&server, 0).await;
}
