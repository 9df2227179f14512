//! The operator console API: `porchlight operator add`, log-in with a session cookie, CSRF
//! rules, presence, the inbox (longest waiting first, breaches) and replies.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::{api_error, header, TestServer, EVIL};
use porchlight_server::domain::clock::ManualClock;
use serde_json::{json, Value};

const OPERATOR_TOKEN: &str = "operator-token-0123456789";
const EMAIL: &str = "ann@shop.example";
const PASSWORD: &str = "correct horse battery staple";

fn config() -> String {
    format!("operator_token = \"{OPERATOR_TOKEN}\"\n{}", common::config(0))
}

/// `porchlight operator add` on the database `dir/porchlight.db`.
fn add_operator(dir: &std::path::Path, email: &str, password_env: Option<&str>, stdin: &str) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_porchlight"));
    for var in ["PORCHLIGHT_CONFIG", "PORCHLIGHT_DB", "PORCHLIGHT_OPERATOR_PASSWORD"] {
        command.env_remove(var);
    }
    if let Some(password) = password_env {
        command.env("PORCHLIGHT_OPERATOR_PASSWORD", password);
    }
    let mut child = command
        .args(["operator", "add", "--email", email, "--name", "Ann", "--db"])
        .arg(dir.join("porchlight.db"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

/// A client that keeps cookies the way the console's browser would, sending our own Origin.
struct Console {
    client: reqwest::Client,
    base: String,
    cookie: Option<String>,
}

impl Console {
    fn new(server: &TestServer) -> Console {
        Console { client: reqwest::Client::new(), base: server.base.clone(), cookie: None }
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut request = self.client.request(method, format!("{}{path}", self.base)).header("Origin", &self.base);
        if let Some(cookie) = &self.cookie {
            request = request.header("Cookie", cookie);
        }
        request
    }

    async fn login(&mut self, email: &str, password: &str) -> reqwest::Response {
        let response = self
            .request(reqwest::Method::POST, "/v1/console/login")
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .unwrap();
        if response.status() == 200 {
            let set = header(response.headers(), "set-cookie");
            self.cookie = Some(set.split(';').next().unwrap().to_owned());
        }
        response
    }

    async fn post(&self, path: &str, body: &Value) -> reqwest::Response {
        self.request(reqwest::Method::POST, path).json(body).send().await.unwrap()
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.request(reqwest::Method::GET, path).send().await.unwrap()
    }
}

#[tokio::test]
async fn operator_add_then_log_in_with_a_strict_http_only_cookie_and_log_out() {
    let dir = tempfile::tempdir().unwrap();
    // Password from the environment; a second account from stdin; duplicates and short ones refused.
    let out = add_operator(dir.path(), "Ann@Shop.Example", Some(PASSWORD), "");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("operator op_"));
    let out = add_operator(dir.path(), "bob@shop.example", None, "another long password\n");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = add_operator(dir.path(), EMAIL, Some(PASSWORD), "");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    let out = add_operator(dir.path(), "carol@shop.example", Some("short"), "");
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 10 characters"));

    let server = TestServer::start(&config(), dir.path()).await;
    let hash: String = {
        let pool = server.db().await;
        let hash = sqlx::query_scalar("SELECT password_hash FROM operators WHERE email = ?")
            .bind(EMAIL)
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        hash
    };
    assert!(hash.starts_with("$argon2id$"), "{hash}");

    let mut console = Console::new(&server);
    api_error(console.login(EMAIL, "wrong password!").await, 401, "unauthorized").await;
    api_error(console.login("nobody@shop.example", PASSWORD).await, 401, "unauthorized").await;
    api_error(console.get("/v1/console/me").await, 401, "unauthorized").await;

    let response = console.login("ANN@shop.example", PASSWORD).await;
    assert_eq!(response.status(), 200);
    let cookie = header(response.headers(), "set-cookie");
    assert!(cookie.starts_with("porchlight_session="), "{cookie}");
    assert!(cookie.contains("; HttpOnly; SameSite=Strict; Path=/"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain http: {cookie}");
    let me: Value = response.json().await.unwrap();
    assert_eq!((me["email"].as_str(), me["name"].as_str()), (Some(EMAIL), Some("Ann")));
    assert_eq!(me["sites"], json!(["demo", "stars"]));
    // Only a hash of the cookie is stored.
    let value = console.cookie.clone().unwrap();
    let raw = value.trim_start_matches("porchlight_session=");
    assert_eq!(raw.len(), 64);
    assert_eq!(server.count(&format!("SELECT COUNT(*) FROM sessions WHERE token_hash = '{raw}'")).await, 0);
    assert_eq!(server.count("SELECT COUNT(*) FROM sessions").await, 1);

    let me: Value = console.get("/v1/console/me").await.json().await.unwrap();
    assert_eq!(me["email"], EMAIL);

    let logout = console.post("/v1/console/logout", &json!({})).await;
    assert_eq!(logout.status(), 204);
    assert!(header(logout.headers(), "set-cookie").contains("Max-Age=0"));
    api_error(console.get("/v1/console/me").await, 401, "unauthorized").await;
    assert_eq!(server.count("SELECT COUNT(*) FROM sessions").await, 0);
    server.stop().await;
}

#[tokio::test]
async fn cookie_writes_need_our_origin_and_json_and_the_token_keeps_working() {
    let dir = tempfile::tempdir().unwrap();
    assert!(add_operator(dir.path(), EMAIL, Some(PASSWORD), "").status.success());
    let server = TestServer::start(&config(), dir.path()).await;
    let mut console = Console::new(&server);
    assert_eq!(console.login(EMAIL, PASSWORD).await.status(), 200);
    let cookie = console.cookie.clone().unwrap();
    let presence = server.url("/v1/console/presence");
    let body = json!({"site": "demo", "status": "online"});

    let no_origin = server.client.put(&presence).header("Cookie", &cookie).json(&body).send().await.unwrap();
    api_error(no_origin, 403, "origin_not_allowed").await;
    let evil =
        server.client.put(&presence).header("Cookie", &cookie).header("Origin", EVIL).json(&body).send().await.unwrap();
    api_error(evil, 403, "origin_not_allowed").await;
    let form = server
        .client
        .put(&presence)
        .header("Cookie", &cookie)
        .header("Origin", &server.base)
        .header("Content-Type", "text/plain")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    api_error(form, 415, "unsupported_media_type").await;
    // Log-in from a foreign page is refused too (log-in CSRF).
    let foreign_login = server
        .client
        .post(server.url("/v1/console/login"))
        .header("Origin", EVIL)
        .json(&json!({"email": EMAIL, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    api_error(foreign_login, 403, "origin_not_allowed").await;
    // No CORS headers on console answers.
    let me = console.get("/v1/console/me").await;
    assert_eq!(header(me.headers(), "access-control-allow-origin"), "");

    let ok = console.request(reqwest::Method::PUT, "/v1/console/presence").json(&body).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.json::<Value>().await.unwrap()["status"], "online");
    // The operator's own choice, per site (it counts while her console is alive).
    assert_eq!(
        server.count("SELECT COUNT(*) FROM operator_presence WHERE site = 'demo' AND status = 'online'").await,
        1
    );
    let availability: Value =
        server.client.get(server.url("/v1/sites/demo/availability")).send().await.unwrap().json().await.unwrap();
    assert_ne!(availability["state"], "nobody_online");

    // Automation: the bearer token needs no Origin.
    let by_token = server
        .client
        .put(&presence)
        .bearer_auth(OPERATOR_TOKEN)
        .json(&json!({"site": "demo", "status": "away"}))
        .send()
        .await
        .unwrap();
    assert_eq!(by_token.status(), 200);
    let wrong = server.client.get(server.url("/v1/console/me")).bearer_auth("not-the-token-at-all").send().await;
    api_error(wrong.unwrap(), 401, "unauthorized").await;
    let unknown_site = console
        .request(reqwest::Method::PUT, "/v1/console/presence")
        .json(&json!({"site": "nope", "status": "away"}))
        .send()
        .await
        .unwrap();
    api_error(unknown_site, 422, "validation_failed").await;
    server.stop().await;
}

#[tokio::test]
async fn log_in_attempts_are_rate_limited() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&config(), dir.path()).await;
    // All at once: the limiter answers before the (slow) password check, so the refill during
    // the checks does not matter.
    let attempts = (0..14).map(|_| {
        let mut console = Console::new(&server);
        async move { console.login("nobody@shop.example", "wrong password").await }
    });
    let responses = futures_util::future::join_all(attempts).await;
    let statuses: Vec<u16> = responses.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(statuses.iter().filter(|&&s| s == 401).count(), 10, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|&&s| s == 429).count(), 4, "{statuses:?}");
    let limited = responses.into_iter().find(|r| r.status() == 429).unwrap();
    assert!(!header(limited.headers(), "retry-after").is_empty());
    api_error(limited, 429, "rate_limited").await;
    server.stop().await;
}

#[tokio::test]
async fn inbox_orders_by_longest_waiting_and_marks_breaches() {
    let dir = tempfile::tempdir().unwrap();
    let t0: i64 = 1_790_000_000_000;
    let clock = ManualClock::at(t0);
    let server = TestServer::start_at(&config(), dir.path(), clock.clone()).await;
    let start = |client_id: &'static str| {
        let body = json!({"message": {"client_id": client_id, "body": "help"}});
        let server = &server;
        async move {
            let response = server.post_json("/v1/sites/demo/conversations", None, &body).await;
            response.json::<Value>().await.unwrap()["conversation_id"].as_str().unwrap().to_owned()
        }
    };
    let answered = start("visitor-a-0001").await;
    clock.advance(Duration::from_secs(60));
    let waiting = start("visitor-b-0001").await;
    clock.advance(Duration::from_secs(60));
    let closed = start("visitor-c-0001").await;
    let op = |path: String, body: Value| {
        let server = &server;
        async move { server.client.post(server.url(&path)).bearer_auth(OPERATOR_TOKEN).json(&body).send().await.unwrap() }
    };
    let reply = op(
        format!("/v1/console/conversations/{answered}/messages"),
        json!({"client_id": "op-reply-0001", "body": "On it!"}),
    )
    .await;
    assert_eq!(reply.status(), 201);
    // Idempotent by client id.
    let again = op(
        format!("/v1/console/conversations/{answered}/messages"),
        json!({"client_id": "op-reply-0001", "body": "On it!"}),
    )
    .await;
    assert_eq!(again.status(), 200);
    assert_eq!(op(format!("/v1/console/conversations/{closed}/close"), json!({})).await.status(), 200);

    clock.advance(Duration::from_secs(250)); // `waiting` has waited 310 s of a 300 s promise.
    let inbox: Value = server
        .client
        .get(server.url("/v1/console/inbox?site=demo"))
        .bearer_auth(OPERATOR_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let list = inbox["conversations"].as_array().unwrap();
    let ids: Vec<&str> = list.iter().map(|c| c["conversation_id"].as_str().unwrap()).collect();
    assert_eq!(ids, [waiting.as_str(), answered.as_str()], "{inbox}");
    assert_eq!(list[0]["waiting_since_ms"], t0 + 60_000);
    assert_eq!(list[0]["promise_secs"], 300);
    assert_eq!(list[0]["reply_by_ms"], t0 + 360_000);
    assert_eq!(list[0]["breached"], true);
    assert_eq!(list[1]["waiting_since_ms"], Value::Null);
    assert_eq!(list[1]["breached"], false);
    assert_eq!(list[1]["last_message"]["author"], "operator");

    let conversation: Value = server
        .client
        .get(server.url(&format!("/v1/console/conversations/{answered}")))
        .bearer_auth(OPERATOR_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let authors: Vec<&str> =
        conversation["messages"].as_array().unwrap().iter().map(|m| m["author"].as_str().unwrap()).collect();
    assert_eq!(authors, ["visitor", "operator"]);
    assert_eq!(conversation["closed_ms"], Value::Null);
    let missing = server
        .client
        .get(server.url("/v1/console/conversations/cv_nope"))
        .bearer_auth(OPERATOR_TOKEN)
        .send()
        .await
        .unwrap();
    api_error(missing, 404, "not_found").await;
    // The operator's reply went to the webhook outbox path as a normal message (stored once).
    assert_eq!(server.count(&format!("SELECT COUNT(*) FROM messages WHERE conversation_id = '{answered}'")).await, 2);
    server.stop().await;
}
