//! The `/v1` API over real HTTP against a real SQLite file.

mod common;

use common::{api_error, header, TestServer, EVIL, SHOP};
use porchlight_server::domain::clock::ManualClock;
use serde_json::{json, Value};

const KEY: &str = "0b6f9c1e-4a57-4e9e-9a61-3f0f5a7d2c11";

#[tokio::test]
async fn site_config_returns_the_configured_site() {
    let (server, _dir) = TestServer::with_defaults().await;
    let response = server.client.get(server.url("/v1/sites/stars/config")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let config: porchlight_protocol::SiteConfig = response.json().await.unwrap();
    assert_eq!(config.site.as_str(), "stars");
    assert_eq!(config.name, "Star Shop");
    assert_eq!(config.timezone, "Asia/Bangkok");
    assert_eq!(config.rating_scale, porchlight_protocol::RatingScale::Stars5);
    assert_eq!(config.promises.callback_business_hours, 4);
    assert_eq!(config.promises.chat_first_reply_secs, 300);
}

#[tokio::test]
async fn unknown_site_is_a_404_json_error() {
    let (server, _dir) = TestServer::with_defaults().await;
    let response = server.client.get(server.url("/v1/sites/nope/config")).send().await.unwrap();
    api_error(response, 404, "site_not_found").await;
    // An id that could never be valid is just as unknown.
    let response = server.post_json("/v1/sites/NOPE/ratings", Some(KEY), &json!({"value": "good"})).await;
    api_error(response, 404, "site_not_found").await;
}

#[tokio::test]
async fn unknown_v1_route_is_a_404_json_error() {
    let (server, _dir) = TestServer::with_defaults().await;
    let response = server.client.get(server.url("/v1/nothing/here")).send().await.unwrap();
    api_error(response, 404, "not_found").await;
    // A known path with the wrong method is 405 with `Allow` (the security issue's finding).
    let response = server.client.get(server.url("/v1/sites/demo/ratings")).send().await.unwrap();
    assert_eq!(header(response.headers(), "allow"), "POST");
    api_error(response, 405, "method_not_allowed").await;
    server.assert_alive().await;
}

#[tokio::test]
async fn rating_is_stored_and_a_replay_returns_the_same_receipt_with_200() {
    let (server, _dir) = TestServer::with_defaults().await;
    let body = json!({"value": "good", "page": {"path": "/pricing", "title": "Pricing"}, "comment": "Nice"});
    let first = server.post_json("/v1/sites/demo/ratings", Some(KEY), &body).await;
    assert_eq!(first.status(), 201);
    let receipt: Value = first.json().await.unwrap();
    assert_eq!(receipt["value"], "good");
    assert!(receipt["id"].as_str().unwrap().starts_with("rt_"));

    let pool = server.db().await;
    let row: (String, String, String, Option<String>, Option<String>, Option<String>, i64) = sqlx::query_as(
        "SELECT id, site, value, page_path, page_title, comment, created_ms FROM ratings WHERE idempotency_key = ?",
    )
    .bind(KEY)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(row.0, receipt["id"].as_str().unwrap());
    assert_eq!(row.1, "demo");
    assert_eq!(row.2, "good");
    assert_eq!(row.3.as_deref(), Some("/pricing"));
    assert_eq!(row.4.as_deref(), Some("Pricing"));
    assert_eq!(row.5.as_deref(), Some("Nice"));
    assert_eq!(row.6, receipt["created_ms"].as_i64().unwrap());
    pool.close().await;

    let replay = server.post_json("/v1/sites/demo/ratings", Some(KEY), &body).await;
    assert_eq!(replay.status(), 200);
    let replayed = replay.json::<Value>().await.unwrap();
    for field in ["id", "value", "created_ms", "undone"] {
        assert_eq!(replayed[field], receipt[field], "{field}");
    }
    assert!(replayed["token"].is_null() && replayed["changeable_until_ms"].is_null(), "{replayed}");
    assert_eq!(server.count("SELECT COUNT(*) FROM ratings").await, 1);

    // The same key on another site is another request.
    let other = server.post_json("/v1/sites/stars/ratings", Some(KEY), &json!({"value": "5", "scale": "stars5"})).await;
    assert_eq!(other.status(), 201);
    assert_eq!(server.count("SELECT COUNT(*) FROM ratings").await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_identical_ratings_store_one_row() {
    let (server, _dir) = TestServer::with_defaults().await;
    let body = json!({"value": "bad"});
    let requests = (0..8).map(|_| server.post_json("/v1/sites/demo/ratings", Some(KEY), &body));
    let responses = futures_join_all(requests).await;
    let mut statuses: Vec<u16> = responses.iter().map(|r| r.status().as_u16()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, vec![200, 200, 200, 200, 200, 200, 200, 201]);
    let mut ids = Vec::new();
    for response in responses {
        ids.push(response.json::<Value>().await.unwrap()["id"].clone());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "every answer names the one stored rating");
    assert_eq!(server.count("SELECT COUNT(*) FROM ratings").await, 1);
}

/// Runs the futures concurrently (tokio tasks would need `'static`).
async fn futures_join_all<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let futures: Vec<_> = futures.map(Box::pin).collect();
    let mut outputs = Vec::new();
    let mut pending: Vec<_> = futures.into_iter().map(Some).collect();
    // Poll all of them together until each is done.
    std::future::poll_fn(|cx| {
        let mut all_done = true;
        for slot in pending.iter_mut() {
            if let Some(fut) = slot {
                match fut.as_mut().poll(cx) {
                    std::task::Poll::Ready(out) => {
                        outputs.push(out);
                        *slot = None;
                    }
                    std::task::Poll::Pending => all_done = false,
                }
            }
        }
        if all_done {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    outputs
}

#[tokio::test]
async fn rating_with_an_unknown_value_is_422_on_value() {
    let (server, _dir) = TestServer::with_defaults().await;
    let response = server.post_json("/v1/sites/demo/ratings", Some(KEY), &json!({"value": "excellent"})).await;
    let error = api_error(response, 422, "validation_failed").await;
    assert_eq!(error["fields"][0]["field"], "value");
    assert_eq!(error["fields"][0]["code"], "unsupported");
    assert_eq!(server.count("SELECT COUNT(*) FROM ratings").await, 0);
}

#[tokio::test]
async fn rating_on_a_scale_the_site_does_not_use_is_422_on_scale() {
    let (server, _dir) = TestServer::with_defaults().await;
    let response =
        server.post_json("/v1/sites/demo/ratings", Some(KEY), &json!({"value": "4", "scale": "stars5"})).await;
    let error = api_error(response, 422, "validation_failed").await;
    assert!(error["fields"].as_array().unwrap().iter().any(|f| f["field"] == "scale"), "{error}");
}

#[tokio::test]
async fn comment_over_2000_characters_is_422() {
    let (server, _dir) = TestServer::with_defaults().await;
    let body = json!({"value": "good", "comment": "ü".repeat(2001)});
    let error =
        api_error(server.post_json("/v1/sites/demo/ratings", Some(KEY), &body).await, 422, "validation_failed").await;
    assert_eq!(error["fields"][0]["field"], "comment");
    assert_eq!(error["fields"][0]["code"], "too_long");
    // Exactly 2000 (multi-byte) characters is fine.
    let ok = json!({"value": "good", "comment": "ü".repeat(2000)});
    assert_eq!(server.post_json("/v1/sites/demo/ratings", Some(KEY), &ok).await.status(), 201);
}

#[tokio::test]
async fn rating_without_a_valid_idempotency_key_is_400() {
    let (server, _dir) = TestServer::with_defaults().await;
    let body = json!({"value": "good"});
    api_error(server.post_json("/v1/sites/demo/ratings", None, &body).await, 400, "missing_idempotency_key").await;
    api_error(server.post_json("/v1/sites/demo/ratings", Some("short"), &body).await, 400, "missing_idempotency_key")
        .await;
    assert_eq!(server.count("SELECT COUNT(*) FROM ratings").await, 0);
}

#[tokio::test]
async fn malformed_json_is_400_and_the_server_keeps_serving() {
    let (server, _dir) = TestServer::with_defaults().await;
    let response = server
        .client
        .post(server.url("/v1/sites/demo/ratings"))
        .header("Idempotency-Key", KEY)
        .header("Content-Type", "application/json")
        .body("{\"value\": ")
        .send()
        .await
        .unwrap();
    api_error(response, 400, "malformed_json").await;
    server.assert_alive().await;
}

#[tokio::test]
async fn json_with_wrong_types_is_400_malformed_json() {
    let (server, _dir) = TestServer::with_defaults().await;
    let response = server.post_json("/v1/sites/demo/ratings", Some(KEY), &json!({"value": 5})).await;
    api_error(response, 400, "malformed_json").await;
    let response = server.post_json("/v1/sites/demo/callbacks", Some(KEY), &json!({"phone": "+371 2000 0000"})).await;
    let error = api_error(response, 400, "malformed_json").await;
    assert!(error["message"].as_str().unwrap().contains("name"), "{error}");
    server.assert_alive().await;
}

#[tokio::test]
async fn wrong_content_type_is_415() {
    let (server, _dir) = TestServer::with_defaults().await;
    let response = server
        .client
        .post(server.url("/v1/sites/demo/ratings"))
        .header("Idempotency-Key", KEY)
        .header("Content-Type", "text/plain")
        .body(r#"{"value":"good"}"#)
        .send()
        .await
        .unwrap();
    api_error(response, 415, "unsupported_media_type").await;
    server.assert_alive().await;
}

#[tokio::test]
async fn oversize_body_is_413_with_the_json_error() {
    let (server, _dir) = TestServer::with_defaults().await;
    let body = json!({"value": "good", "comment": "x".repeat(porchlight_protocol::MAX_BODY_BYTES)});
    let response = server.post_json("/v1/sites/demo/ratings", Some(KEY), &body).await;
    api_error(response, 413, "payload_too_large").await;
    assert_eq!(server.count("SELECT COUNT(*) FROM ratings").await, 0);
    server.assert_alive().await;
}

#[tokio::test]
async fn disallowed_origin_is_403_and_allowed_origin_gets_the_exact_acao() {
    let (server, _dir) = TestServer::with_defaults().await;
    let post = |origin: &'static str| {
        server
            .client
            .post(server.url("/v1/sites/demo/ratings"))
            .header("Origin", origin)
            .header("Idempotency-Key", KEY)
            .json(&json!({"value": "good"}))
            .send()
    };
    let denied = post(EVIL).await.unwrap();
    assert!(header(denied.headers(), "access-control-allow-origin").is_empty());
    api_error(denied, 403, "origin_not_allowed").await;
    assert_eq!(server.count("SELECT COUNT(*) FROM ratings").await, 0);

    let allowed = post(SHOP).await.unwrap();
    assert_eq!(allowed.status(), 201);
    assert_eq!(header(allowed.headers(), "access-control-allow-origin"), SHOP);
    assert!(header(allowed.headers(), "vary").contains("Origin"));

    // `Origin: null` (sandboxed frames, files) could be anyone.
    let null = server.client.get(server.url("/v1/sites/demo/config")).header("Origin", "null").send().await.unwrap();
    api_error(null, 403, "origin_not_allowed").await;
    // An origin allowed for one site is not allowed for another.
    let other_site =
        server.client.get(server.url("/v1/sites/stars/config")).header("Origin", "http://localhost:8080").send().await;
    assert_eq!(other_site.unwrap().status(), 403);
}

#[tokio::test]
async fn the_widget_host_itself_is_an_allowed_origin() {
    let (server, _dir) = TestServer::with_defaults().await;
    // The frame is served by this server and calls the API same-origin.
    let response = server.client.get(server.url("/v1/sites/demo/config")).header("Origin", &server.base).send().await;
    assert_eq!(response.unwrap().status(), 200);
}

#[tokio::test]
async fn preflight_from_an_allowed_origin_gets_cors_headers() {
    let (server, _dir) = TestServer::with_defaults().await;
    let response = server
        .client
        .request(reqwest::Method::OPTIONS, server.url("/v1/sites/demo/ratings"))
        .header("Origin", SHOP)
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "content-type, idempotency-key")
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let h = response.headers();
    assert_eq!(header(h, "access-control-allow-origin"), SHOP);
    assert_eq!(header(h, "access-control-allow-methods"), "GET, POST, PUT, DELETE, OPTIONS");
    assert_eq!(
        header(h, "access-control-allow-headers"),
        "content-type, idempotency-key, authorization, if-none-match"
    );
    assert_eq!(header(h, "access-control-max-age"), "600");
    assert!(header(h, "vary").contains("Origin"));
    assert_eq!(server.count("SELECT COUNT(*) FROM ratings").await, 0);
}

#[tokio::test]
async fn preflight_from_a_foreign_origin_is_403() {
    let (server, _dir) = TestServer::with_defaults().await;
    let response = server
        .client
        .request(reqwest::Method::OPTIONS, server.url("/v1/sites/demo/conversations"))
        .header("Origin", EVIL)
        .header("Access-Control-Request-Method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert!(header(response.headers(), "access-control-allow-origin").is_empty());
}

#[tokio::test]
async fn callback_is_stored_with_a_reference_and_a_normalised_phone() {
    let dir = tempfile::tempdir().unwrap();
    // Tuesday 10:00 in Riga: two business hours later is 12:00 the same day.
    let now = common::local_ms("Europe/Riga", (2026, 3, 10), (10, 0));
    let server = TestServer::start_at(&common::config(0), dir.path(), ManualClock::at(now)).await;
    let body = json!({"name": "Anna", "phone": "+371 2000-0000", "note": "after 5pm"});
    let response = server.post_json("/v1/sites/demo/callbacks", Some(KEY), &body).await;
    assert_eq!(response.status(), 201);
    let receipt: Value = response.json().await.unwrap();
    let reference = receipt["reference"].as_str().unwrap().to_owned();
    assert!(reference.starts_with("PL-") && reference.len() == 9, "{reference}");
    assert_eq!(receipt["status"], "received");
    let token = receipt["token"].as_str().unwrap().to_owned();
    assert_eq!(token.len(), 64);
    let due = receipt["due_ms"].as_i64().unwrap();
    assert_eq!(due, now + 2 * 3_600_000, "due in the site's 2 promised business hours");

    let pool = server.db().await;
    let row: (String, String, String, Option<String>, String, i64, String) = sqlx::query_as(
        "SELECT reference, name, phone, note, status, due_ms, token_hash FROM callbacks WHERE idempotency_key = ?",
    )
    .bind(KEY)
    .fetch_one(&pool)
    .await
    .unwrap();
    pool.close().await;
    assert_eq!(row.0, reference);
    assert_eq!(row.1, "Anna");
    assert_eq!(row.2, "+37120000000");
    assert_eq!(row.3.as_deref(), Some("after 5pm"));
    assert_eq!(row.4, "received");
    assert_eq!(row.5, due);
    assert_eq!(row.6.len(), 64);
    assert_ne!(row.6, token, "only the token's hash is stored");

    let replay = server.post_json("/v1/sites/demo/callbacks", Some(KEY), &body).await;
    assert_eq!(replay.status(), 200);
    let again: Value = replay.json().await.unwrap();
    assert_eq!(again["reference"], reference.as_str());
    assert_eq!(again["due_ms"], due);
    assert!(again["token"].is_null(), "the token cannot be repeated: only its hash is stored");
    assert_eq!(server.count("SELECT COUNT(*) FROM callbacks").await, 1);
}

#[tokio::test]
async fn callback_with_an_invalid_phone_is_422_on_phone() {
    let (server, _dir) = TestServer::with_defaults().await;
    let body = json!({"name": "Anna", "phone": "call me maybe"});
    let error =
        api_error(server.post_json("/v1/sites/demo/callbacks", Some(KEY), &body).await, 422, "validation_failed").await;
    assert_eq!(error["fields"][0]["field"], "phone");
    assert_eq!(server.count("SELECT COUNT(*) FROM callbacks").await, 0);
}

#[tokio::test]
async fn honeypot_callback_gets_a_201_but_nothing_is_stored_and_the_drop_is_counted() {
    let (server, _dir) = TestServer::with_defaults().await;
    let body = json!({"name": "Bot", "phone": "+371 2000 0000", "website": "http://spam.example"});
    for key in ["bot-key-0001", "bot-key-0002"] {
        let response = server.post_json("/v1/sites/demo/callbacks", Some(key), &body).await;
        assert_eq!(response.status(), 201);
        let receipt: Value = response.json().await.unwrap();
        assert!(receipt["reference"].as_str().unwrap().starts_with("PL-"));
        assert_eq!(receipt["status"], "received");
    }
    assert_eq!(server.count("SELECT COUNT(*) FROM callbacks").await, 0);
    assert_eq!(server.count("SELECT count FROM spam_drops WHERE site = 'demo'").await, 2);
}

#[tokio::test]
async fn conversation_start_message_replay_auth_and_listing() {
    let (server, _dir) = TestServer::with_defaults().await;
    let start = json!({"message": {"client_id": "first-msg-01", "body": "Hello, is the lantern in stock?"},
                       "page": {"path": "/lanterns"}, "create_key": "create-key-of-the-visitor-0001"});
    let response = server.post_json("/v1/sites/demo/conversations", None, &start).await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    let id = created["conversation_id"].as_str().unwrap().to_owned();
    let token = created["token"].as_str().unwrap().to_owned();
    assert_eq!(created["message"]["client_id"], "first-msg-01");
    let first_id = created["message"]["id"].as_i64().unwrap();

    let messages_url = server.url(&format!("/v1/sites/demo/conversations/{id}/messages"));
    let send = |bearer: Option<String>, client_id: &'static str, body: &'static str| {
        let mut request = server.client.post(&messages_url).json(&json!({"client_id": client_id, "body": body}));
        if let Some(bearer) = bearer {
            request = request.bearer_auth(bearer);
        }
        request.send()
    };

    let second = send(Some(token.clone()), "second-msg-02", "I need two.").await.unwrap();
    assert_eq!(second.status(), 201);
    let ack: Value = second.json().await.unwrap();
    assert!(ack["id"].as_i64().unwrap() > first_id);

    let replay = send(Some(token.clone()), "second-msg-02", "I need two.").await.unwrap();
    assert_eq!(replay.status(), 200);
    assert_eq!(replay.json::<Value>().await.unwrap(), ack);

    // A wrong token answers as an unknown id would: nobody learns which ids exist.
    api_error(send(Some("wrong".into()), "third-msg-03", "x").await.unwrap(), 404, "not_found").await;
    api_error(send(None, "third-msg-03", "x").await.unwrap(), 401, "unauthorized").await;
    let unknown = server
        .client
        .post(server.url("/v1/sites/demo/conversations/cv_nope/messages"))
        .bearer_auth(&token)
        .json(&json!({"client_id": "third-msg-03", "body": "x"}))
        .send()
        .await
        .unwrap();
    api_error(unknown, 404, "not_found").await;
    // The conversation belongs to `demo`; another site's path does not reach it.
    let cross = server
        .client
        .get(server.url(&format!("/v1/sites/stars/conversations/{id}/messages")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    api_error(cross, 404, "not_found").await;

    let list = server.client.get(&messages_url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(list.status(), 200);
    assert_eq!(header(list.headers(), "cache-control"), "no-store");
    let list: porchlight_protocol::MessageList = list.json().await.unwrap();
    let bodies: Vec<&str> = list.messages.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(bodies, ["Hello, is the lantern in stock?", "I need two."]);
    assert!(list.messages.iter().all(|m| m.author == porchlight_protocol::Author::Visitor));

    let newer = server.client.get(format!("{messages_url}?after={first_id}")).bearer_auth(&token).send().await.unwrap();
    let newer: porchlight_protocol::MessageList = newer.json().await.unwrap();
    assert_eq!(newer.messages.len(), 1);
    assert_eq!(newer.messages[0].client_id, "second-msg-02");

    let unauthorized_list = server.client.get(&messages_url).send().await.unwrap();
    api_error(unauthorized_list, 401, "unauthorized").await;

    // Replaying the start returns the same conversation and a token that works, and the
    // original token keeps working.
    let again = server.post_json("/v1/sites/demo/conversations", None, &start).await;
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["conversation_id"], id.as_str());
    assert_eq!(again["message"], created["message"]);
    let new_token = again["token"].as_str().unwrap().to_owned();
    assert_eq!(send(Some(new_token), "fourth-msg-04", "Still there?").await.unwrap().status(), 201);
    assert_eq!(send(Some(token.clone()), "fifth-msg-05", "Thanks").await.unwrap().status(), 201);

    // The client id is public (lists, console, webhooks): a replay without the create key, or
    // with another one, gets no token.
    let mut stolen = start.clone();
    stolen.as_object_mut().unwrap().remove("create_key");
    let refused = server.post_json("/v1/sites/demo/conversations", None, &stolen).await;
    let refused = api_error(refused, 409, "conflict").await;
    assert!(refused.get("token").is_none() && !refused.to_string().contains(&id), "{refused}");
    stolen["create_key"] = json!("guessed-create-key-000000");
    api_error(server.post_json("/v1/sites/demo/conversations", None, &stolen).await, 409, "conflict").await;
    // The right key with another first message: the client id was reused, nothing stored.
    let mut other_text = start.clone();
    other_text["message"]["body"] = json!("Something else");
    let reused = server.post_json("/v1/sites/demo/conversations", None, &other_text).await;
    api_error(reused, 422, "idempotency_key_reused").await;
    // A message's client id with another text is refused the same way.
    let reused = send(Some(token.clone()), "second-msg-02", "I need three.").await.unwrap();
    api_error(reused, 422, "idempotency_key_reused").await;

    assert_eq!(server.count("SELECT COUNT(*) FROM conversations").await, 1);
    assert_eq!(server.count("SELECT COUNT(*) FROM messages").await, 4);
    let pool = server.db().await;
    let leaked: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM conversations WHERE token_hash = ?1)
              + (SELECT COUNT(*) FROM conversation_tokens WHERE token_hash = ?1)",
    )
    .bind(&token)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(leaked, 0, "tokens are stored only as hashes");
    pool.close().await;
}

#[tokio::test]
async fn conversation_with_an_empty_first_message_is_422_on_the_nested_field() {
    let (server, _dir) = TestServer::with_defaults().await;
    let body = json!({"message": {"client_id": "first-msg-01", "body": "   "}});
    let error =
        api_error(server.post_json("/v1/sites/demo/conversations", None, &body).await, 422, "validation_failed").await;
    assert_eq!(error["fields"][0]["field"], "message.body");
}

#[tokio::test]
async fn writes_over_the_rate_limit_get_429_with_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&common::config(3), dir.path()).await;
    for i in 0..3 {
        let response = server
            .post_json("/v1/sites/demo/ratings", Some(&format!("rate-key-{i:04}")), &json!({"value": "good"}))
            .await;
        assert_eq!(response.status(), 201);
    }
    let limited = server.post_json("/v1/sites/demo/ratings", Some("rate-key-9999"), &json!({"value": "good"})).await;
    let retry_after: u64 = header(limited.headers(), "retry-after").parse().unwrap();
    assert!((1..=20).contains(&retry_after), "one token comes back in 20 s at 3/min, got {retry_after}");
    api_error(limited, 429, "rate_limited").await;
    // Reads are not limited, and another site has its own budget.
    assert_eq!(server.client.get(server.url("/v1/sites/demo/config")).send().await.unwrap().status(), 200);
    let other = server
        .post_json("/v1/sites/stars/ratings", Some("rate-key-8888"), &json!({"value": "5", "scale": "stars5"}))
        .await;
    assert_eq!(other.status(), 201);
    assert_eq!(server.count("SELECT COUNT(*) FROM ratings").await, 4);
    server.assert_alive().await;
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let (server, _dir) = TestServer::with_defaults().await;
    for path in ["/healthz", "/v1/sites/demo/config", "/v1/sites/nope/config", "/porchlight.js", "/nothing"] {
        let response = server.client.get(server.url(path)).send().await.unwrap();
        assert_eq!(header(response.headers(), "x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header(response.headers(), "referrer-policy"), "strict-origin-when-cross-origin", "{path}");
    }
}

/// Every route the routers declare is in `/v1/openapi.json` with its method, and everything the
/// document lists is a declared route: the contract cannot drift from the server.
#[tokio::test]
async fn openapi_lists_exactly_the_routes_of_the_router() {
    let (server, _dir) = TestServer::with_defaults().await;
    let response = server.client.get(server.url("/v1/openapi.json")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let doc: Value = response.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut documented = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.push(format!("{} {path}", method.to_uppercase()));
        }
    }
    documented.sort();

    // The routes as declared in the routers' sources: `.route("PATH", get(a).post(b))`.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http/routes");
    let mut declared = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        // The benchmark's no-op write is routed (and documented) only with the `bench` feature.
        if !cfg!(feature = "bench") && path.ends_with("noop.rs") {
            continue;
        }
        let source = std::fs::read_to_string(path).unwrap();
        for call in source.split(".route(\"").skip(1) {
            let (path, rest) = call.split_once('"').unwrap();
            if !path.starts_with("/v1") {
                continue;
            }
            let args = &rest[..rest.find("))").map_or(rest.len(), |i| i + 1)];
            for method in ["get", "post", "put", "delete", "patch"] {
                let calls = args.matches(&format!("{method}(")).count();
                if calls > 0 {
                    declared.push(format!("{} {path}", method.to_uppercase()));
                }
            }
        }
    }
    declared.sort();
    assert!(declared.len() >= 15, "{declared:?}");
    assert_eq!(declared, documented);

    // Every link from a create names an operation of the document.
    let operation_ids: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values().filter_map(|op| op["operationId"].as_str()))
        .collect();
    let mut linked = 0;
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            for response in op["responses"].as_object().unwrap().values() {
                for link in response["links"].as_object().into_iter().flat_map(|l| l.values()) {
                    let target = link["operationId"].as_str().unwrap();
                    assert!(operation_ids.contains(&target), "a link to {target}, which is not an operation");
                    linked += 1;
                }
            }
        }
    }
    assert!(linked >= 8, "{linked} links");
    // A console conversation that is not there is a documented 404.
    assert!(doc["paths"]["/v1/console/conversations/{id}"]["get"]["responses"]["404"].is_object());
    assert_eq!(doc["components"]["schemas"]["NewMessage"]["properties"]["client_id"]["pattern"], "^[A-Za-z0-9_-]+$");

    // Bodies, status codes and the idempotency header are part of it.
    let create = &doc["paths"]["/v1/sites/{site}/ratings"]["post"];
    let body_schema = &create["requestBody"]["content"]["application/json"]["schema"]["$ref"];
    assert_eq!(body_schema, "#/components/schemas/NewRating");
    for status in ["200", "201", "400", "422", "429"] {
        assert!(create["responses"].get(status).is_some(), "{status}");
    }
    assert_eq!(create["parameters"][1]["$ref"], "#/components/parameters/IdempotencyKey");
    assert_eq!(doc["components"]["parameters"]["IdempotencyKey"]["name"], "Idempotency-Key");
    assert!(doc["paths"]["/v1/sites/{site}/ratings/{id}"]["put"]["responses"].get("409").is_some());
}

/// A site with texts in Latvian and Arabic (English defaults) and a brand colour.
fn texts_config() -> String {
    format!(
        r##"
[rate_limit]
writes_per_minute = 0

[[sites]]
id = "intl"
name = "Intl Shop"
origins = ["{SHOP}"]
timezone = "Europe/Riga"
greeting = "Hi! How can we help?"
topics = ["Orders", "Returns"]
consent_text = "You may call me about this request."
launcher = "Ask us"
[sites.texts.lv]
greeting = "Sveiki! Kā varam palīdzēt?"
topics = ["Pasūtījumi", "Atgriešana"]
consent_text = "Jūs drīkstat man zvanīt par šo pieprasījumu."
launcher = "Jautājiet mums"
[sites.texts.ar]
greeting = "مرحبًا! كيف يمكننا مساعدتك؟"
[sites.theme]
color = "#FBBF24"
dark_color = "#1e3a8a"
"##
    )
}

async fn site_config(server: &TestServer, query: &str) -> porchlight_protocol::SiteConfig {
    let response = server.client.get(server.url(&format!("/v1/sites/intl/config{query}"))).send().await.unwrap();
    assert_eq!(response.status(), 200, "{query}");
    assert_eq!(header(response.headers(), "cache-control"), "public, max-age=60", "{query}");
    response.json().await.unwrap()
}

#[tokio::test]
async fn site_config_texts_come_in_the_first_language_the_site_has() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&texts_config(), dir.path()).await;

    for query in ["?locale=lv,en", "?locale=lv-LV", "?locale=fr-FR,%20LV,ar", "?locale=th,lv"] {
        let lv = site_config(&server, query).await;
        assert_eq!(lv.locale.as_deref(), Some("lv"), "{query}");
        assert_eq!(lv.greeting.as_deref(), Some("Sveiki! Kā varam palīdzēt?"), "{query}");
        assert_eq!(lv.consent_text.as_deref(), Some("Jūs drīkstat man zvanīt par šo pieprasījumu."));
        assert_eq!(lv.launcher_text.as_deref(), Some("Jautājiet mums"));
        assert_eq!(lv.callback_topics, ["Orders", "Returns"], "values stay canonical: {query}");
        assert_eq!(lv.callback_topic_labels, ["Pasūtījumi", "Atgriešana"], "{query}");
    }

    // Arabic has only a greeting: the rest falls back to the defaults.
    let ar = site_config(&server, "?locale=ar-EG").await;
    assert_eq!(ar.locale.as_deref(), Some("ar"));
    assert_eq!(ar.greeting.as_deref(), Some("مرحبًا! كيف يمكننا مساعدتك؟"));
    assert_eq!(ar.consent_text.as_deref(), Some("You may call me about this request."));
    assert_eq!(ar.launcher_text.as_deref(), Some("Ask us"));
    assert!(ar.callback_topic_labels.is_empty());

    // A language the site has no texts for (or none asked for): the default texts.
    for query in ["?locale=fr", "?locale=en", "", "?locale=", "?locale=%00%2C%2C", "?other=lv"] {
        let default = site_config(&server, query).await;
        assert_eq!(default.locale, None, "{query}");
        assert_eq!(default.greeting.as_deref(), Some("Hi! How can we help?"), "{query}");
        assert_eq!(default.consent_text.as_deref(), Some("You may call me about this request."));
        assert_eq!(default.launcher_text.as_deref(), Some("Ask us"));
        assert_eq!(default.callback_topics, ["Orders", "Returns"]);
        assert!(default.callback_topic_labels.is_empty(), "{query}");
    }

    // The callback form submits the value, never the label, whatever language it showed.
    let mut callback =
        json!({"name": "Anna Bērziņa", "phone": "+371 2000 0000", "consent": true, "topic": "Pasūtījumi"});
    let response = server.post_json("/v1/sites/intl/callbacks", Some(KEY), &callback).await;
    let error = api_error(response, 422, "validation_failed").await;
    assert_eq!(error["fields"][0]["field"], "topic");
    callback["topic"] = json!("Orders");
    let response = server.post_json("/v1/sites/intl/callbacks", Some(KEY), &callback).await;
    assert_eq!(response.status(), 201);
}

#[tokio::test]
async fn site_config_carries_the_theme_with_computed_text_colours() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&texts_config(), dir.path()).await;
    let raw: Value =
        server.client.get(server.url("/v1/sites/intl/config?locale=fr")).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        raw["theme"],
        json!({"color": "#fbbf24", "text_color": "#000000", "dark_color": "#1e3a8a", "dark_text_color": "#ffffff"})
    );
    // The text colour the server picked is at least AA on the brand colour.
    use porchlight_protocol::color::{contrast_ratio, parse_hex_color, MIN_TEXT_CONTRAST};
    let on = |bg: &str, fg: &str| contrast_ratio(parse_hex_color(bg).unwrap(), parse_hex_color(fg).unwrap());
    assert!(on("#fbbf24", "#000000") >= MIN_TEXT_CONTRAST);
    assert!(on("#1e3a8a", "#ffffff") >= MIN_TEXT_CONTRAST);

    // A site without [sites.theme] has none (the widget keeps its own colours).
    let (plain, _dir) = TestServer::with_defaults().await;
    let raw: Value = plain.client.get(plain.url("/v1/sites/demo/config")).send().await.unwrap().json().await.unwrap();
    assert!(raw["theme"].is_null() && raw["locale"].is_null() && raw["launcher_text"].is_null(), "{raw}");
    assert_eq!(raw["callback_topic_labels"], json!([]));
}

#[tokio::test]
async fn the_builtin_demo_site_shows_texts_per_language_and_a_brand_colour() {
    let dir = tempfile::tempdir().unwrap();
    let settings = porchlight_server::app::config::Settings {
        listen: "127.0.0.1:0".into(),
        database: dir.path().join("porchlight.db"),
        assets: dir.path().join("dist"),
        ..porchlight_server::app::config::Settings::default()
    };
    let server = TestServer::start_with(settings).await;
    let get = |query: &'static str| {
        let request = server.client.get(server.url(&format!("/v1/sites/demo/config{query}")));
        async move { request.send().await.unwrap().json::<porchlight_protocol::SiteConfig>().await.unwrap() }
    };
    assert_eq!(get("").await.greeting.as_deref(), Some("Hi! How can we help?"));
    let lv = get("?locale=lv").await;
    assert_eq!((lv.locale.as_deref(), lv.greeting.as_deref()), (Some("lv"), Some("Sveiki! Kā varam palīdzēt?")));
    assert_eq!(get("?locale=ar").await.locale.as_deref(), Some("ar"));
    let theme = get("?locale=it").await.theme.unwrap();
    assert_eq!((theme.color.as_str(), theme.text_color.as_str()), ("#0f766e", "#ffffff"));
    assert_eq!((theme.dark_color.as_deref(), theme.dark_text_color.as_deref()), (Some("#2dd4bf"), Some("#000000")));
}

#[tokio::test]
async fn openapi_documents_the_config_locale_and_theme() {
    let (server, _dir) = TestServer::with_defaults().await;
    let doc: Value = server.client.get(server.url("/v1/openapi.json")).send().await.unwrap().json().await.unwrap();
    let parameters = doc["paths"]["/v1/sites/{site}/config"]["get"]["parameters"].as_array().unwrap();
    assert!(parameters.iter().any(|p| p["name"] == "locale" && p["in"] == "query"), "{parameters:?}");
    let config = &doc["components"]["schemas"]["SiteConfig"]["properties"];
    for field in ["callback_topic_labels", "launcher_text", "locale", "theme"] {
        assert!(config.get(field).is_some(), "SiteConfig.{field}");
    }
    let theme = &doc["components"]["schemas"]["Theme"];
    assert_eq!(theme["required"], json!(["color", "text_color"]));
    assert!(theme["properties"].get("dark_color").is_some());
}

#[tokio::test]
async fn a_wrong_method_is_405_with_allow_in_the_json_shape() {
    let (server, _dir) = TestServer::with_defaults().await;
    for method in ["TRACE", "DELETE", "PATCH"] {
        let response = server
            .client
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                server.url("/v1/sites/demo/conversations"),
            )
            .send()
            .await
            .unwrap();
        let allow = header(response.headers(), "allow");
        assert!(allow.contains("POST"), "{method}: Allow {allow:?}");
        api_error(response, 405, "method_not_allowed").await;
    }
}
