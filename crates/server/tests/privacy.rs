//! Personal data and operations: export and erase of one person (API and command line, audited,
//! nothing of anyone else, no trace left in any table or in the database file), a visitor
//! deleting their own conversation, retention removing exactly what is past its age, dead
//! webhook deliveries, readiness, and a backup taken under write load.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{api_error, local_ms, TestServer};
use serde_json::{json, Value};
use sqlx::Row;

const TOKEN: &str = "operator-token-0123456789";
const DAY_MS: i64 = 86_400_000;

/// Webhooks go to a closed port: every delivery fails, so the outbox keeps its rows. Retries
/// come every `retry_ms` (a second: a command-line tool's writes would otherwise wait behind a
/// writer that never pauses).
fn config_retrying(retry_ms: u32, extra: &str) -> String {
    format!(
        r#"operator_token = "{TOKEN}"
[rate_limit]
writes_per_minute = 0

[webhook_delivery]
initial_backoff_ms = {retry_ms}
max_backoff_ms = {retry_ms}
poll_interval_ms = 20
timeout_ms = 500
dead_after_hours = 1

[[sites]]
id = "demo"
name = "Demo Shop"
origins = ["https://shop.example"]
timezone = "Europe/Riga"
default_country = "LV"
presence_default = "online"
webhooks = [{{ url = "http://127.0.0.1:1/hook", secret = "webhook-secret-0123456789" }}]
{extra}
"#
    )
}

fn config(extra: &str) -> String {
    config_retrying(1_000, extra)
}

/// Tuesday 10 March 2026, 10:00 in Riga (open hours).
fn tuesday_ten() -> i64 {
    local_ms("Europe/Riga", (2026, 3, 10), (10, 0))
}

struct Person {
    conversation: String,
    token: String,
    email: &'static str,
    phone_typed: &'static str,
    phone_digits: &'static str,
    words: &'static str,
}

const ANNA: (&str, &str, &str, &str) =
    ("anna.berzina@example.lv", "(+371) 26123456", "26123456", "my lantern arrived broken");
const BRUNO: (&str, &str, &str, &str) = ("bruno@example.it", "+39 06 1234 5678", "0612345678", "the blue one please");

/// A visitor who chatted (leaving an e-mail), rated the chat, booked a callback and rated it.
async fn visitor(
    server: &TestServer,
    tag: &str,
    (email, phone, digits, words): (&'static str, &'static str, &'static str, &'static str),
) -> Person {
    let body = json!({"message": {"client_id": format!("{tag}-msg-0001"), "body": words},
                      "page": {"path": "/lanterns"}, "create_key": format!("{tag}-create-key-0001")});
    let created: Value = server.post_json("/v1/sites/demo/conversations", None, &body).await.json().await.unwrap();
    let conversation = created["conversation_id"].as_str().unwrap().to_owned();
    let token = created["token"].as_str().unwrap().to_owned();
    let contact = server
        .client
        .put(server.url(&format!("/v1/sites/demo/conversations/{conversation}/contact")))
        .bearer_auth(&token)
        .json(&json!({"email": email, "locale": "lv"}))
        .send()
        .await
        .unwrap();
    assert_eq!(contact.status(), 200);
    let rating = json!({"value": "bad", "comment": format!("{words}, rated"), "context": {"kind": "chat", "ref_id": conversation}});
    assert_eq!(
        server.post_json("/v1/sites/demo/ratings", Some(&format!("{tag}-rate-key-01")), &rating).await.status(),
        201
    );
    let callback = json!({"name": format!("{tag} caller"), "phone": phone, "note": words});
    let booked = server.post_json("/v1/sites/demo/callbacks", Some(&format!("{tag}-cb-key-0001")), &callback).await;
    assert_eq!(booked.status(), 201);
    let booked: Value = booked.json().await.unwrap();
    let reference = booked["reference"].as_str().unwrap();
    let rating = json!({"value": "good", "context": {"kind": "callback", "ref_id": reference}});
    assert_eq!(
        server.post_json("/v1/sites/demo/ratings", Some(&format!("{tag}-rate-key-02")), &rating).await.status(),
        201
    );
    Person { conversation, token, email, phone_typed: phone, phone_digits: digits, words }
}

async fn admin_post(server: &TestServer, path: &str, body: &Value) -> reqwest::Response {
    server.client.post(server.url(path)).bearer_auth(TOKEN).json(body).send().await.unwrap()
}

/// A connection pool on a database file, as an operator's tool would open it.
async fn open_db(db: &std::path::Path) -> sqlx::SqlitePool {
    sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display())).await.unwrap()
}

/// Every text value in every table of the database, one string per row.
async fn all_rows(db: &std::path::Path) -> Vec<String> {
    let pool = open_db(db).await;
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'").fetch_all(&pool).await.unwrap();
    let mut rows = Vec::new();
    for table in tables {
        for row in sqlx::query(&format!("SELECT * FROM \"{table}\"")).fetch_all(&pool).await.unwrap() {
            let text: Vec<String> = (0..row.len())
                .map(|i| {
                    row.try_get::<Option<String>, _>(i)
                        .ok()
                        .flatten()
                        .or_else(|| row.try_get::<Option<i64>, _>(i).ok().flatten().map(|n| n.to_string()))
                        .unwrap_or_default()
                })
                .collect();
            rows.push(format!("{table}: {}", text.join(" | ")));
        }
    }
    pool.close().await;
    rows
}

fn mentions(rows: &[String], person: &Person) -> Vec<String> {
    rows.iter()
        .filter(|r| {
            r.contains(person.email)
                || r.contains(person.phone_digits)
                || r.contains(person.words)
                || r.contains(&person.conversation)
        })
        .cloned()
        .collect()
}

#[tokio::test]
async fn an_export_holds_every_row_about_the_person_and_nothing_about_another() {
    let (server, _clock, _dir) = TestServer::with_manual_clock(&config(""), tuesday_ten()).await;
    let anna = visitor(&server, "anna", ANNA).await;
    let bruno = visitor(&server, "bruno", BRUNO).await;

    let by_email: Value =
        admin_post(&server, "/v1/console/data/export", &json!({"site": "demo", "email": "Anna.Berzina@example.lv"}))
            .await
            .json()
            .await
            .unwrap();
    let data = &by_email["data"];
    assert_eq!(data["conversations"][0]["id"], anna.conversation.as_str());
    assert_eq!(data["conversations"][0]["visitor_email"], anna.email);
    assert_eq!(data["messages"][0]["body"], anna.words);
    assert_eq!(data["ratings"].as_array().unwrap().len(), 1, "the chat's rating: {data}");
    assert!(data["webhook_events"].as_array().unwrap().iter().any(|e| e["type"] == "message.created"), "{data}");
    assert_eq!(data["callbacks"], json!([]), "an e-mail does not find callbacks");

    // The phone as the visitor typed it finds the callback stored in E.164.
    let by_phone: Value =
        admin_post(&server, "/v1/console/data/export", &json!({"site": "demo", "phone": anna.phone_typed}))
            .await
            .json()
            .await
            .unwrap();
    let data = &by_phone["data"];
    assert_eq!(data["callbacks"][0]["phone"], "+37126123456");
    assert_eq!(data["callbacks"][0]["note"], anna.words);
    assert_eq!(data["ratings"][0]["context_kind"], "callback");
    assert!(data["webhook_events"].as_array().unwrap().iter().any(|e| e["body"]["data"]["phone"] == "+37126123456"));
    assert_eq!(data["promises"][0]["kind"], "callback");

    for export in [&by_email, &by_phone] {
        let text = export.to_string();
        for other in [bruno.email, bruno.phone_digits, bruno.words, bruno.conversation.as_str()] {
            assert!(!text.contains(other), "Anna's export mentions Bruno's {other:?}");
        }
    }

    // Audited: who, what, which kind of selector; never the value.
    let audit: Value = server
        .client
        .get(server.url("/v1/console/audit"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let entries = audit["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{audit}");
    assert_eq!(
        (entries[0]["action"].as_str(), entries[0]["selector"].as_str(), entries[0]["actor"].as_str()),
        (Some("export"), Some("phone"), Some("operator-token"))
    );
    assert!(!audit.to_string().contains("anna") && !audit.to_string().contains("26123456"));

    // The command line gives the same, as JSON on standard output (here on the stopped server's
    // file, as a maintenance job would).
    let db = server.db_path.clone();
    server.stop().await;
    let out = Command::new(env!("CARGO_BIN_EXE_porchlight"))
        .args(["data", "export", "--site", "demo", "--email", anna.email, "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let cli: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(cli["data"], by_email["data"]);
    let pool = open_db(&db).await;
    let (actor, action, selector): (String, String, String) =
        sqlx::query_as("SELECT actor, action, selector FROM audit_log ORDER BY id DESC LIMIT 1")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(actor.starts_with("cli:") && action == "export" && selector == "email", "{actor} {action} {selector}");
    pool.close().await;
}

#[tokio::test]
async fn an_erase_leaves_no_trace_of_the_person_in_any_table_nor_in_the_file() {
    let (server, _clock, _dir) = TestServer::with_manual_clock(&config(""), tuesday_ten()).await;
    let anna = visitor(&server, "anna", ANNA).await;
    let bruno = visitor(&server, "bruno", BRUNO).await;
    assert!(!mentions(&all_rows(&server.db_path).await, &anna).is_empty());

    let erased = admin_post(&server, "/v1/console/data/erase", &json!({"site": "demo", "email": anna.email})).await;
    assert_eq!(erased.status(), 200);
    let removed: Value = erased.json().await.unwrap();
    assert_eq!(removed["removed"]["conversations"], 1);
    assert_eq!(removed["removed"]["messages"], 1);
    assert_eq!(removed["removed"]["ratings"], 1);
    assert!(removed["removed"]["webhook_events"].as_u64().unwrap() >= 2, "{removed}");
    // Her conversation token leads nowhere now.
    let gone = server
        .client
        .get(server.url(&format!("/v1/sites/demo/conversations/{}/messages", anna.conversation)))
        .bearer_auth(&anna.token)
        .send()
        .await
        .unwrap();
    api_error(gone, 404, "not_found").await;

    // The phone from the command line, written as the visitor typed it.
    let db = server.db_path.clone();
    server.stop().await;
    let out = Command::new(env!("CARGO_BIN_EXE_porchlight"))
        .args(["data", "erase", "--site", "demo", "--phone", anna.phone_typed, "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed = String::from_utf8(out.stdout).unwrap();
    assert!(printed.contains("callbacks\t1"), "{printed}");

    let rows = all_rows(&db).await;
    assert_eq!(mentions(&rows, &anna), Vec::<String>::new(), "Anna is still in the database");
    assert!(mentions(&rows, &bruno).len() >= 6, "Bruno's rows are all kept: {rows:#?}");
    // The ledger keeps counting the promise made to her, under an id that leads nowhere.
    let pool = open_db(&db).await;
    let anonymised: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM promises WHERE subject_id LIKE 'erased-%'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(anonymised, 2);

    // Nor in the file: erased rows are overwritten, not left in free pages.
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&pool).await.unwrap();
    pool.close().await;
    let file = std::fs::read(&db).unwrap();
    for trace in [anna.email, "26123456", anna.words] {
        assert!(!file.windows(trace.len()).any(|w| w == trace.as_bytes()), "{trace:?} is still in the file");
    }
    assert!(file.windows(bruno.email.len()).any(|w| w == bruno.email.as_bytes()));
}

#[tokio::test]
async fn a_visitor_deletes_their_own_conversation_with_its_token() {
    let (server, _clock, _dir) = TestServer::with_manual_clock(&config(""), tuesday_ten()).await;
    let anna = visitor(&server, "anna", ANNA).await;
    let path = format!("/v1/sites/demo/conversations/{}", anna.conversation);
    let wrong = server.client.delete(server.url(&path)).bearer_auth("not-her-token-0123456789").send().await.unwrap();
    api_error(wrong, 404, "not_found").await;
    assert_eq!(server.count("SELECT COUNT(*) FROM messages").await, 1);

    let deleted = server.client.delete(server.url(&path)).bearer_auth(&anna.token).send().await.unwrap();
    assert_eq!(deleted.status(), 204);
    assert_eq!(server.count("SELECT COUNT(*) FROM messages").await, 0);
    assert_eq!(server.count("SELECT COUNT(*) FROM conversations").await, 0);
    // Her callback is another request: kept.
    assert_eq!(server.count("SELECT COUNT(*) FROM callbacks").await, 1);
    let again = server.client.delete(server.url(&path)).bearer_auth(&anna.token).send().await.unwrap();
    api_error(again, 404, "not_found").await;
    assert_eq!(
        server.count("SELECT COUNT(*) FROM audit_log WHERE action = 'visitor_erase' AND actor = 'visitor'").await,
        1
    );
    server.stop().await;
}

#[tokio::test]
async fn export_and_erase_are_for_admins_and_name_exactly_one_person() {
    let (server, _clock, _dir) = TestServer::with_manual_clock(&config(""), tuesday_ten()).await;
    let anonymous = server
        .client
        .post(server.url("/v1/console/data/erase"))
        .json(&json!({"site": "demo", "email": "a@b.lv"}))
        .send();
    api_error(anonymous.await.unwrap(), 401, "unauthorized").await;
    let cases = [
        (json!({"site": "demo"}), "selector"),
        (json!({"site": "demo", "email": "a@b.lv", "phone": "+37126123456"}), "selector"),
        (json!({"site": "demo", "email": "not an address"}), "email"),
        (json!({"site": "demo", "phone": "12"}), "phone"),
        (json!({"site": "nope", "email": "a@b.lv"}), "site"),
    ];
    for (body, field) in cases {
        let error =
            api_error(admin_post(&server, "/v1/console/data/erase", &body).await, 422, "validation_failed").await;
        assert_eq!(error["fields"][0]["field"], field, "{body}");
    }
    assert_eq!(server.count("SELECT COUNT(*) FROM audit_log").await, 0);
    let cli = Command::new(env!("CARGO_BIN_EXE_porchlight"))
        .args(["data", "erase", "--site", "demo", "--db"])
        .arg(&server.db_path)
        .output()
        .unwrap();
    assert!(!cli.status.success());
    assert!(String::from_utf8_lossy(&cli.stderr).contains("exactly one of email, phone or conversation"));
    server.stop().await;
}

const SHORT_RETENTION: &str = r#"[sites.retention]
conversations_days = 30
rating_comments_days = 5
callbacks_days = 10
visitor_emails_days = 20
sent_outbox_days = 2"#;

#[tokio::test]
async fn retention_removes_exactly_what_is_past_its_age() {
    let t0 = tuesday_ten();
    let (server, clock, _dir) = TestServer::with_manual_clock(&config(SHORT_RETENTION), t0).await;
    let anna = visitor(&server, "anna", ANNA).await;
    // One webhook row delivered at t0 (the copy of what was sent).
    let pool = server.db().await;
    sqlx::query("UPDATE webhook_outbox SET delivered_ms = ? WHERE id = (SELECT MIN(id) FROM webhook_outbox)")
        .bind(t0)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let webhooks_before = server.count("SELECT COUNT(*) FROM webhook_outbox").await;
    let purge = |days: i64| {
        clock.set(t0 + days * DAY_MS);
        porchlight_server::app::privacy::purge_expired(&server.state, t0 + days * DAY_MS)
    };

    // Day 1: nothing is old enough.
    assert_eq!(purge(1).await.unwrap(), 0);
    // Day 2 and a minute: the delivered webhook row goes; undelivered ones stay.
    clock.set(t0 + 2 * DAY_MS + 60_000);
    porchlight_server::app::privacy::purge_expired(&server.state, t0 + 2 * DAY_MS + 60_000).await.unwrap();
    assert_eq!(server.count("SELECT COUNT(*) FROM webhook_outbox").await, webhooks_before - 1);
    // Day 6: rating comments are gone, the ratings' values stay.
    purge(6).await.unwrap();
    assert_eq!(server.count("SELECT COUNT(*) FROM ratings WHERE comment IS NOT NULL").await, 0);
    assert_eq!(server.count("SELECT COUNT(*) FROM ratings").await, 2);
    assert_eq!(server.count("SELECT COUNT(*) FROM callbacks").await, 1);
    // Day 9: the visitor writes again, which keeps the conversation (and its e-mail) alive.
    let again = json!({"client_id": "anna-msg-0002", "body": "any news?"});
    let posted = server
        .client
        .post(server.url(&format!("/v1/sites/demo/conversations/{}/messages", anna.conversation)))
        .bearer_auth(&anna.token)
        .json(&again)
        .send();
    clock.set(t0 + 9 * DAY_MS);
    assert!(posted.await.unwrap().status().is_success());
    // Day 11: the callback (created and due 11 days ago) is gone, with its phone.
    purge(11).await.unwrap();
    assert_eq!(server.count("SELECT COUNT(*) FROM callbacks").await, 0);
    assert!(mentions(&all_rows(&server.db_path).await, &anna).iter().all(|r| !r.contains(anna.phone_digits)));
    // Day 21: the e-mail would be past 20 days from the start, but she wrote on day 9.
    purge(21).await.unwrap();
    assert_eq!(server.count("SELECT COUNT(*) FROM conversations WHERE visitor_email IS NOT NULL").await, 1);
    // Day 30: 21 days since her last message: the e-mail goes, the conversation stays.
    purge(30).await.unwrap();
    assert_eq!(server.count("SELECT COUNT(*) FROM conversations WHERE visitor_email IS NOT NULL").await, 0);
    assert_eq!(server.count("SELECT COUNT(*) FROM messages").await, 2);
    // Day 39 (30 after her last message) and a minute: the conversation and its messages go.
    clock.set(t0 + 39 * DAY_MS + 60_000);
    porchlight_server::app::privacy::purge_expired(&server.state, t0 + 39 * DAY_MS + 60_000).await.unwrap();
    assert_eq!(server.count("SELECT COUNT(*) FROM conversations").await, 0);
    assert_eq!(server.count("SELECT COUNT(*) FROM messages").await, 0);
    assert_eq!(mentions(&all_rows(&server.db_path).await, &anna), Vec::<String>::new());
    server.stop().await;
}

#[tokio::test]
async fn retention_works_through_a_backlog_in_small_batches() {
    let t0 = tuesday_ten();
    let (server, clock, _dir) = TestServer::with_manual_clock(&config(SHORT_RETENTION), t0).await;
    let total = porchlight_server::app::privacy::PURGE_BATCH as usize * 2 + 17;
    for i in 0..total {
        let body = json!({"value": "good", "comment": format!("comment {i}")});
        assert_eq!(
            server.post_json("/v1/sites/demo/ratings", Some(&format!("batch-key-{i:05}")), &body).await.status(),
            201
        );
    }
    clock.set(t0 + 6 * DAY_MS);
    let removed = porchlight_server::app::privacy::purge_expired(&server.state, t0 + 6 * DAY_MS).await.unwrap();
    assert_eq!(removed, total as u64);
    assert_eq!(server.count("SELECT COUNT(*) FROM ratings WHERE comment IS NOT NULL").await, 0);
    server.stop().await;
}

#[tokio::test]
async fn a_delivery_failing_past_its_age_is_dead_until_an_admin_retries_or_drops_it() {
    let t0 = tuesday_ten();
    let (server, clock, _dir) = TestServer::with_manual_clock(&config_retrying(20, ""), t0).await;
    let body = json!({"value": "good"});
    assert_eq!(server.post_json("/v1/sites/demo/ratings", Some("dead-key-0001"), &body).await.status(), 201);
    // Failing, retried, not dead within the hour.
    wait_until(&server, "SELECT COUNT(*) FROM webhook_outbox WHERE attempts >= 2").await;
    assert_eq!(server.count("SELECT COUNT(*) FROM webhook_outbox WHERE dead_ms IS NOT NULL").await, 0);
    // An hour later the next failure makes it dead; it is no longer retried.
    clock.set(t0 + 3_600_000);
    wait_until(&server, "SELECT COUNT(*) FROM webhook_outbox WHERE dead_ms IS NOT NULL").await;
    let attempts = server.count("SELECT attempts FROM webhook_outbox").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(server.count("SELECT attempts FROM webhook_outbox").await, attempts, "a dead delivery is not retried");

    let dead: Value = server
        .client
        .get(server.url("/v1/console/webhooks/dead"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(dead["dead"][0]["event_type"], "rating.created");
    assert!(dead["dead"][0]["last_error"].as_str().is_some_and(|e| !e.is_empty()));
    let listed = Command::new(env!("CARGO_BIN_EXE_porchlight"))
        .args(["webhooks", "list-failed", "--db"])
        .arg(&server.db_path)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&listed.stdout).contains("rating.created\thttp://127.0.0.1:1/hook"));

    // Retried: delivered again from now on, with a new hour before it is dead again.
    let retried: Value =
        admin_post(&server, "/v1/console/webhooks/dead/retry", &json!({"ids": null})).await.json().await.unwrap();
    assert_eq!(retried["retried"], 1);
    wait_until(&server, "SELECT COUNT(*) FROM webhook_outbox WHERE dead_ms IS NULL AND attempts >= 1").await;
    assert_eq!(server.count("SELECT COUNT(*) FROM webhook_outbox WHERE dead_ms IS NOT NULL").await, 0);
    clock.set(t0 + 2 * 3_600_000);
    wait_until(&server, "SELECT COUNT(*) FROM webhook_outbox WHERE dead_ms IS NOT NULL").await;
    // Dropped from the command line, as a maintenance job would, on the stopped server's file.
    let db = server.db_path.clone();
    server.stop().await;
    let out = Command::new(env!("CARGO_BIN_EXE_porchlight"))
        .args(["webhooks", "drop", "--all", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "dropped 1");
    let pool = open_db(&db).await;
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhook_outbox").fetch_one(&pool).await.unwrap();
    assert_eq!(left, 0);
    pool.close().await;
}

async fn wait_until(server: &TestServer, sql: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.count(sql).await == 0 {
        assert!(Instant::now() < deadline, "never: {sql}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn readyz_turns_unready_while_the_database_cannot_be_written() {
    let (server, _clock, _dir) = TestServer::with_manual_clock(&config(""), tuesday_ten()).await;
    let ready = server.client.get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body, json!({"ready": true, "migrations": "ok", "writer": "ok"}));

    // Another process holds the database's write lock (a stuck backup tool, a hung admin shell).
    let mut holder = sqlx::SqliteConnection::connect(&format!("sqlite://{}", server.db_path.display())).await.unwrap();
    sqlx::query("BEGIN EXCLUSIVE").execute(&mut holder).await.unwrap();
    let unready = server.client.get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(unready.status(), 503);
    let body: Value = unready.json().await.unwrap();
    assert_eq!(body["ready"], false);
    assert!(body["writer"].as_str().unwrap().starts_with("writer stalled"), "{body}");
    // The process itself is up.
    assert_eq!(server.client.get(server.url("/healthz")).send().await.unwrap().status(), 200);

    sqlx::query("ROLLBACK").execute(&mut holder).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let again = server.client.get(server.url("/readyz")).send().await.unwrap();
        if again.status() == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "still unready after the lock was released");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.stop().await;
}

use sqlx::Connection;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_write_load_restores_intact_with_every_acknowledged_write() {
    let (server, _dir) = TestServer::with_defaults().await;
    let server = std::sync::Arc::new(server);
    let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let writer = {
        let (server, acknowledged) = (server.clone(), acknowledged.clone());
        tokio::spawn(async move {
            for i in 0.. {
                let body = json!({"value": "good", "comment": format!("load {i}")});
                let response =
                    server.post_json("/v1/sites/demo/ratings", Some(&format!("load-key-{i:06}")), &body).await;
                assert_eq!(response.status(), 201);
                let receipt: Value = response.json().await.unwrap();
                acknowledged.lock().unwrap().push(receipt["id"].as_str().unwrap().to_owned());
                if i >= 5_000 {
                    break;
                }
            }
        })
    };
    while acknowledged.lock().unwrap().len() < 200 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let before: Vec<String> = acknowledged.lock().unwrap().clone();
    let copy = server.db_path.with_file_name("backup.db");
    let out = Command::new(env!("CARGO_BIN_EXE_porchlight"))
        .arg("backup")
        .arg(&copy)
        .arg("--db")
        .arg(&server.db_path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let during = acknowledged.lock().unwrap().len();
    assert!(during > before.len(), "writes went on during the backup");
    writer.abort();

    let mut restored = sqlx::SqliteConnection::connect(&format!("sqlite://{}", copy.display())).await.unwrap();
    let check: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&mut restored).await.unwrap();
    assert_eq!(check, "ok");
    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM ratings").fetch_all(&mut restored).await.unwrap();
    let ids: std::collections::HashSet<String> = ids.into_iter().collect();
    let missing: Vec<&String> = before.iter().filter(|id| !ids.contains(*id)).collect();
    assert!(missing.is_empty(), "{} acknowledged ratings missing from the backup", missing.len());

    // The backup is a database the server starts on.
    let again = Command::new(env!("CARGO_BIN_EXE_porchlight"))
        .args(["data", "export", "--site", "demo", "--conversation", "cv_none", "--db"])
        .arg(&copy)
        .output()
        .unwrap();
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    // And it refuses to overwrite a file.
    let twice = Command::new(env!("CARGO_BIN_EXE_porchlight"))
        .arg("backup")
        .arg(&copy)
        .arg("--db")
        .arg(&server.db_path)
        .output()
        .unwrap();
    assert!(!twice.status.success());
}

/// `/metrics` as the Prometheus project's own OpenMetrics parser reads it (Debian's
/// python3-prometheus-client): every sample as (name, labels, value). It refuses malformed text.
async fn read_metrics(server: &TestServer) -> Vec<(String, Value, f64)> {
    let response = server.client.get(server.url("/metrics")).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(common::header(response.headers(), "content-type").starts_with("application/openmetrics-text"));
    let text = response.text().await.unwrap();
    let script = r#"
import json, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
out = []
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        out.append([s.name, s.labels, s.value])
print(json.dumps(out))
"#;
    let mut child = Command::new("/usr/bin/python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 with prometheus_client (cargo xtask setup installs python3-prometheus-client)");
    use std::io::Write;
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "the parser refused /metrics: {}\n{text}", String::from_utf8_lossy(&out.stderr));
    let samples: Vec<(String, Value, f64)> = serde_json::from_slice(&out.stdout).unwrap();
    samples
}

/// One sample's value, by name and the labels it must have.
fn sample(samples: &[(String, Value, f64)], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples.iter().find(|(n, l, _)| n == name && labels.iter().all(|(k, v)| l[k] == *v)).map(|(_, _, v)| *v)
}

#[tokio::test]
async fn metrics_are_prometheus_text_with_routes_streams_the_writer_and_backlogs() {
    let (server, _clock, _dir) = TestServer::with_manual_clock(&config(""), tuesday_ten()).await;
    api_error(server.client.get(server.url("/metrics")).send().await.unwrap(), 401, "unauthorized").await;
    let anna = visitor(&server, "anna", ANNA).await;
    let _ = server.client.get(server.url("/v1/sites/demo/conversations/cv_nobody/messages")).send().await.unwrap();
    // One visitor's event stream stays open while the figures are read.
    let stream = server
        .client
        .get(server.url(&format!("/v1/sites/demo/conversations/{}/events?token={}", anna.conversation, anna.token)))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);

    let scrape = read_metrics(&server).await;
    let ratings = [("method", "POST"), ("route", "/v1/sites/{site}/ratings"), ("status", "201")];
    assert_eq!(sample(&scrape, "porchlight_http_requests_total", &ratings), Some(2.0));
    let unauthorized = [("route", "/v1/sites/{site}/conversations/{id}/messages"), ("status", "401")];
    assert_eq!(sample(&scrape, "porchlight_http_requests_total", &unauthorized), Some(1.0));
    assert!(sample(
        &scrape,
        "porchlight_http_request_duration_seconds_count",
        &[("route", "/v1/sites/{site}/callbacks")]
    )
    .is_some_and(|count| count >= 1.0));
    assert_eq!(sample(&scrape, "porchlight_sse_streams_open", &[("audience", "visitor")]), Some(1.0));
    assert!(sample(&scrape, "porchlight_db_commit_seconds_count", &[]).is_some_and(|count| count >= 5.0));
    assert!(sample(&scrape, "porchlight_db_batch_size_count", &[]).is_some_and(|count| count >= 5.0));
    assert!(sample(&scrape, "porchlight_db_writer_queue_depth", &[]).is_some());
    assert!(sample(&scrape, "porchlight_webhook_backlog", &[]).is_some_and(|n| n >= 4.0), "deliveries fail");
    assert_eq!(sample(&scrape, "porchlight_email_backlog", &[]), Some(0.0));
    // No path with an id or a token in it ever becomes a label.
    assert!(scrape.iter().all(|(_, labels, _)| !labels.to_string().contains(&anna.conversation)));
    drop(stream);
    server.stop().await;

    // Rate-limit refusals are counted by route.
    let (limited, _clock, _dir) = TestServer::with_manual_clock(
        &config("").replace("writes_per_minute = 0", "writes_per_minute = 1"),
        tuesday_ten(),
    )
    .await;
    for key in ["limit-key-0001", "limit-key-0002"] {
        limited.post_json("/v1/sites/demo/ratings", Some(key), &json!({"value": "good"})).await;
    }
    let scrape = read_metrics(&limited).await;
    let refused = [("method", "POST"), ("route", "/v1/sites/{site}/ratings")];
    assert_eq!(sample(&scrape, "porchlight_rate_limited_total", &refused), Some(1.0));
    limited.stop().await;
}
