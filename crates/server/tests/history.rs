//! What an operator sees about a visitor and their past: the conversation's context (page,
//! language, time zone, e-mail, rating, the same visitor's other conversations), the searchable
//! history, canned replies, and the operator accounts' remove and passwd commands.

mod common;

use std::process::Command;

use common::{api_error, header, local_ms, TestServer};
use serde_json::{json, Value};

const TOKEN: &str = "operator-token-0123456789";
const PASSWORD: &str = "correct horse battery";
const DAY_MS: i64 = 86_400_000;

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
presence_default = "online"
canned_replies = [
  {{ shortcut = "hours", text = "We answer Monday to Friday, 9-18." }},
  {{ shortcut = "refund", text = "Refunds take 3-5 working days." }},
]

[[sites]]
id = "stars"
name = "Star Shop"
origins = ["https://shop.example"]
timezone = "Asia/Bangkok"
rating_scale = "stars5"
"#
    )
}

fn tuesday_ten() -> i64 {
    local_ms("Europe/Riga", (2026, 3, 10), (10, 0))
}

/// Starts a conversation on `site`; returns (id, token).
async fn start(server: &TestServer, site: &str, tag: &str, body: &str, extra: Value) -> (String, String) {
    let mut request = json!({"message": {"client_id": format!("{tag}-msg-0001"), "body": body},
                             "create_key": format!("{tag}-create-key-00001")});
    if let (Some(request), Some(extra)) = (request.as_object_mut(), extra.as_object()) {
        request.extend(extra.clone());
    }
    let response = server.post_json(&format!("/v1/sites/{site}/conversations"), None, &request).await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    let created: Value = response.json().await.unwrap();
    (created["conversation_id"].as_str().unwrap().to_owned(), created["token"].as_str().unwrap().to_owned())
}

async fn set_email(server: &TestServer, site: &str, id: &str, token: &str, email: &str) {
    let response = server
        .client
        .put(server.url(&format!("/v1/sites/{site}/conversations/{id}/contact")))
        .bearer_auth(token)
        .json(&json!({"email": email}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

async fn operator_get(server: &TestServer, path: &str) -> reqwest::Response {
    server.client.get(server.url(path)).bearer_auth(TOKEN).send().await.unwrap()
}

async fn search(server: &TestServer, query: &str) -> Vec<String> {
    let response = operator_get(server, &format!("/v1/console/history?{query}")).await;
    assert_eq!(response.status(), 200);
    let found: Value = response.json().await.unwrap();
    found["conversations"].as_array().unwrap().iter().map(|c| c["snippet"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn the_conversation_shows_who_the_visitor_is_and_their_other_conversations() {
    let (server, clock, _dir) = TestServer::with_manual_clock(&config(), tuesday_ten()).await;
    let context = json!({"page": {"path": "/lanterns/blue", "title": "Blue lantern — Demo Shop"},
                         "locale": "lv", "time_zone": "Europe/Riga"});
    let (earlier, earlier_token) = start(&server, "demo", "anna-1", "Do you ship to Liepāja?", json!({})).await;
    set_email(&server, "demo", &earlier, &earlier_token, "anna@example.lv").await;
    clock.set(tuesday_ten() + DAY_MS);
    let (id, token) = start(&server, "demo", "anna-2", "Is the blue lantern back?", context).await;
    set_email(&server, "demo", &id, &token, "Anna@Example.lv").await;
    let rating = json!({"value": "good", "context": {"kind": "chat", "ref_id": id}});
    assert_eq!(server.post_json("/v1/sites/demo/ratings", Some("anna-rating-001"), &rating).await.status(), 201);
    // Someone else's conversation is not hers.
    let (other, other_token) = start(&server, "demo", "bruno-1", "Hello", json!({})).await;
    set_email(&server, "demo", &other, &other_token, "bruno@example.it").await;

    let shown: Value = operator_get(&server, &format!("/v1/console/conversations/{id}")).await.json().await.unwrap();
    assert_eq!(shown["page_path"], "/lanterns/blue");
    assert_eq!(shown["page_title"], "Blue lantern — Demo Shop");
    assert_eq!(shown["visitor_locale"], "lv");
    assert_eq!(shown["visitor_time_zone"], "Europe/Riga");
    assert_eq!(shown["visitor_email"], "Anna@Example.lv", "as typed; matched in any case");
    assert_eq!(shown["rating"], "good");
    let previous = shown["previous"].as_array().unwrap();
    assert_eq!(previous.len(), 1, "{shown}");
    assert_eq!(previous[0]["conversation_id"], earlier.as_str());
    assert_eq!(previous[0]["snippet"], "Do you ship to Liepāja?");
    assert_eq!(previous[0]["messages"], 1);

    // A zone nobody knows is dropped, not shown; a malformed one is a field error.
    let (unknown, _) = start(&server, "demo", "zone-1", "Hi", json!({"time_zone": "Mars/Olympus_Mons"})).await;
    let shown: Value =
        operator_get(&server, &format!("/v1/console/conversations/{unknown}")).await.json().await.unwrap();
    assert!(shown.get("visitor_time_zone").is_none(), "{shown}");
    let bad = json!({"message": {"client_id": "zone-msg-0002", "body": "Hi"}, "time_zone": "Europe/Riga; x",
                     "locale": "lv\"><"});
    let error =
        api_error(server.post_json("/v1/sites/demo/conversations", None, &bad).await, 422, "validation_failed").await;
    let fields: Vec<&str> = error["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["locale", "time_zone"]);
    server.stop().await;
}

#[tokio::test]
async fn history_finds_conversations_by_text_email_page_rating_and_date_within_the_operators_sites() {
    let t0 = tuesday_ten();
    let (server, clock, dir) = TestServer::with_manual_clock(&config(), t0).await;
    // One from four months ago, outside the default 90 days.
    let (old, _) = start(&server, "demo", "old-1", "An old lantern question", json!({})).await;
    clock.set(t0 + 120 * DAY_MS);
    let (blue, blue_token) =
        start(&server, "demo", "blue-1", "Is the BLUE lantern back?", json!({"page": {"path": "/lanterns"}})).await;
    set_email(&server, "demo", &blue, &blue_token, "anna@example.lv").await;
    let (_kettle, _) = start(&server, "demo", "kettle-1", "My kettle leaks, 50% of the time", json!({})).await;
    let (_stars, _) = start(&server, "stars", "stars-1", "A lantern on the stars site", json!({})).await;
    let rating = json!({"value": "bad", "comment": "slow", "context": {"kind": "chat", "ref_id": blue}});
    assert_eq!(server.post_json("/v1/sites/demo/ratings", Some("blue-rating-0001"), &rating).await.status(), 201);
    assert_eq!(
        server
            .client
            .post(server.url(&format!("/v1/console/conversations/{blue}/close")))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // Text in messages (ASCII in any case), the visitor's e-mail, the page; `%` is literal.
    assert_eq!(search(&server, "site=demo&q=lantern").await, ["Is the BLUE lantern back?"]);
    assert_eq!(search(&server, "site=demo&q=ANNA%40example").await, ["Is the BLUE lantern back?"]);
    assert_eq!(search(&server, "site=demo&q=%2Flanterns").await, ["Is the BLUE lantern back?"]);
    assert_eq!(search(&server, "site=demo&q=50%25").await, ["My kettle leaks, 50% of the time"]);
    assert_eq!(search(&server, "site=demo&q=5%25%25").await, Vec::<String>::new());
    assert_eq!(search(&server, "site=demo&rating=bad").await, ["Is the BLUE lantern back?"]);
    // Newest first; further back with `days`.
    assert_eq!(search(&server, "site=demo").await.len(), 2);
    assert_eq!(search(&server, "site=demo&q=lantern&days=366").await.len(), 2);
    let found: Value = operator_get(&server, "/v1/console/history?site=demo&q=blue").await.json().await.unwrap();
    let hit = &found["conversations"][0];
    assert_eq!((hit["conversation_id"].as_str(), hit["rating"].as_str()), (Some(blue.as_str()), Some("bad")));
    assert!(hit["closed_ms"].is_i64());
    let _ = old;

    // Bad parameters are field errors.
    for (query, field) in [("q=x", "site"), ("site=demo&rating=5", "rating"), ("site=demo&days=0", "days")] {
        let error =
            api_error(operator_get(&server, &format!("/v1/console/history?{query}")).await, 422, "validation_failed")
                .await;
        assert_eq!(error["fields"][0]["field"], field, "{query}");
    }
    let long = "x".repeat(201);
    api_error(
        operator_get(&server, &format!("/v1/console/history?site=demo&q={long}")).await,
        422,
        "validation_failed",
    )
    .await;

    // An operator of `stars` only: demo's history is not theirs (404, as for no site at all).
    let cookie = common::console_login(&server, dir.path(), "sam@shop.example", PASSWORD, Some("stars")).await;
    let theirs = server
        .client
        .get(server.url("/v1/console/history?site=stars&q=lantern"))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(theirs.status(), 200);
    let found: Value = theirs.json().await.unwrap();
    assert_eq!(found["conversations"].as_array().unwrap().len(), 1);
    let not_theirs = server
        .client
        .get(server.url("/v1/console/history?site=demo&q=lantern"))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    api_error(not_theirs, 404, "not_found").await;
    server.stop().await;
}

#[tokio::test]
async fn canned_replies_come_from_the_sites_config_and_bad_ones_are_refused_at_start() {
    let (server, _clock, _dir) = TestServer::with_manual_clock(&config(), tuesday_ten()).await;
    let replies: Value = operator_get(&server, "/v1/console/replies?site=demo").await.json().await.unwrap();
    assert_eq!(replies["replies"][1], json!({"shortcut": "refund", "text": "Refunds take 3-5 working days."}));
    let none: Value = operator_get(&server, "/v1/console/replies?site=stars").await.json().await.unwrap();
    assert_eq!(none["replies"], json!([]));
    api_error(
        server.client.get(server.url("/v1/console/replies?site=demo")).send().await.unwrap(),
        401,
        "unauthorized",
    )
    .await;
    server.stop().await;

    for (bad, says) in [
        (r#"{ shortcut = "Hours!", text = "x" }"#, "shortcut must be 1-32"),
        (r#"{ shortcut = "a", text = "x" }, { shortcut = "a", text = "y" }"#, "given twice"),
        (r#"{ shortcut = "a", text = " " }"#, "text must be 1-2000"),
    ] {
        let toml = config().replacen("canned_replies = [", &format!("canned_replies = [{bad},"), 1);
        let error = porchlight_server::app::config::Settings::from_toml(&toml).unwrap_err().to_string();
        assert!(error.contains(says), "{error}");
    }
}

#[tokio::test]
async fn an_operator_removed_or_given_a_new_password_is_signed_out_everywhere() {
    let (server, _clock, dir) = TestServer::with_manual_clock(&config(), tuesday_ten()).await;
    let cookie = common::console_login(&server, dir.path(), "ann@shop.example", PASSWORD, Some("demo")).await;
    let me = |cookie: String| {
        let client = server.client.clone();
        let url = server.url("/v1/console/me");
        async move { client.get(url).header("Cookie", cookie).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(me(cookie.clone()).await, 200);

    let passwd = Command::new(env!("CARGO_BIN_EXE_porchlight"))
        .env("PORCHLIGHT_OPERATOR_PASSWORD", "a brand new passphrase")
        .args(["operator", "passwd", "--email", "ann@shop.example", "--db"])
        .arg(&server.db_path)
        .output()
        .unwrap();
    assert!(passwd.status.success(), "{}", String::from_utf8_lossy(&passwd.stderr));
    assert_eq!(me(cookie).await, 401, "the old session ended");
    let old = server
        .client
        .post(server.url("/v1/console/login"))
        .header("Origin", &server.base)
        .json(&json!({"email": "ann@shop.example", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), 401);
    let new = server
        .client
        .post(server.url("/v1/console/login"))
        .header("Origin", &server.base)
        .json(&json!({"email": "ann@shop.example", "password": "a brand new passphrase"}))
        .send()
        .await
        .unwrap();
    assert_eq!(new.status(), 200);
    let cookie = header(new.headers(), "set-cookie").split(';').next().unwrap().to_owned();

    let remove = Command::new(env!("CARGO_BIN_EXE_porchlight"))
        .args(["operator", "remove", "--email", "ann@shop.example", "--db"])
        .arg(&server.db_path)
        .output()
        .unwrap();
    assert!(remove.status.success(), "{}", String::from_utf8_lossy(&remove.stderr));
    assert_eq!(me(cookie).await, 401);
    assert_eq!(server.count("SELECT COUNT(*) FROM operators").await, 0);
    let again = Command::new(env!("CARGO_BIN_EXE_porchlight"))
        .args(["operator", "remove", "--email", "ann@shop.example", "--db"])
        .arg(&server.db_path)
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("no operator with e-mail ann@shop.example"));
    server.stop().await;
}
