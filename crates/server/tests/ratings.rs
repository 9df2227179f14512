//! Ratings over real HTTP against a real SQLite file: change and undo within the window (one
//! row), the window closing (manual clock), replays, validation, the operator summary and the
//! CSV export.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{api_error, header, local_ms, TestServer, SHOP};
use porchlight_protocol::{RatingSummary, RatingValue};
use porchlight_server::domain::clock::ManualClock;
use serde_json::{json, Value};
use tempfile::TempDir;

const OPERATOR: &str = "op-token-0123456789abcdef";
const RIGA: &str = "Europe/Riga";
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

[[sites]]
id = "stars"
name = "Star Shop"
origins = ["{SHOP}"]
timezone = "Asia/Bangkok"
rating_scale = "stars5"
rating_change_window_secs = 60
"#
    )
}

/// Tuesday 10 March 2026, 12:00 in Riga.
fn tuesday_noon() -> i64 {
    local_ms(RIGA, (2026, 3, 10), (12, 0))
}

async fn start(now_ms: i64) -> (TestServer, Arc<ManualClock>, TempDir) {
    TestServer::with_manual_clock(&config(), now_ms).await
}

async fn rate(server: &TestServer, site: &str, key: &str, body: Value) -> Value {
    let response = server.post_json(&format!("/v1/sites/{site}/ratings"), Some(key), &body).await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

async fn change(server: &TestServer, site: &str, id: &str, token: &str, body: Value) -> reqwest::Response {
    server
        .client
        .put(server.url(&format!("/v1/sites/{site}/ratings/{id}")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn undo(server: &TestServer, site: &str, id: &str, token: &str) -> reqwest::Response {
    server.client.delete(server.url(&format!("/v1/sites/{site}/ratings/{id}"))).bearer_auth(token).send().await.unwrap()
}

async fn operator_get(server: &TestServer, path: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = server.client.get(server.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

fn str_of<'a>(v: &'a Value, field: &str) -> &'a str {
    v[field].as_str().unwrap_or_else(|| panic!("{field} in {v}"))
}

#[tokio::test]
async fn the_first_receipt_has_a_token_and_the_window_and_a_replay_has_neither() {
    let (server, _clock, _dir) = start(tuesday_noon()).await;
    let receipt = rate(&server, "demo", "rate-key-0001", json!({"value": "good"})).await;
    assert_eq!(receipt["value"], "good");
    assert_eq!(receipt["created_ms"], tuesday_noon());
    assert_eq!(receipt["changeable_until_ms"], tuesday_noon() + 10 * MIN, "the default window is 10 minutes");
    assert_eq!(receipt["undone"], false);
    let token = str_of(&receipt, "token");
    assert_eq!(token.len(), 64);
    let stored: String =
        sqlx::query_scalar("SELECT token_hash FROM ratings").fetch_one(&server.db().await).await.unwrap();
    assert_ne!(stored, token, "only the token's hash is stored");

    let replay = server.post_json("/v1/sites/demo/ratings", Some("rate-key-0001"), &json!({"value": "good"})).await;
    assert_eq!(replay.status(), 200);
    let replayed: Value = replay.json().await.unwrap();
    assert_eq!(replayed["id"], receipt["id"]);
    assert!(replayed["token"].is_null() && replayed["changeable_until_ms"].is_null(), "{replayed}");
    assert_eq!(server.count("SELECT COUNT(*) FROM ratings").await, 1);
}

#[tokio::test]
async fn a_change_within_the_window_updates_the_one_row_and_a_replay_shows_it() {
    let (server, clock, _dir) = start(tuesday_noon()).await;
    let body = json!({"value": "bad", "page": {"path": "/checkout", "title": "Checkout"}});
    let receipt = rate(&server, "demo", "rate-key-0002", body.clone()).await;
    let (id, token) = (str_of(&receipt, "id"), str_of(&receipt, "token"));

    clock.advance(Duration::from_secs(5 * 60));
    let changed = change(&server, "demo", id, token, json!({"value": "neutral"})).await;
    assert_eq!(changed.status(), 200);
    let changed: Value = changed.json().await.unwrap();
    assert_eq!(changed["id"], id);
    assert_eq!(changed["value"], "neutral");
    assert_eq!(changed["created_ms"], tuesday_noon(), "a change keeps the original time");
    assert!(changed["token"].is_null());

    // "Tell us more": the comment through the same PUT; an absent comment keeps it.
    let told =
        change(&server, "demo", id, token, json!({"value": "neutral", "comment": "The card form, \"again\""})).await;
    assert_eq!(told.status(), 200);
    assert_eq!(change(&server, "demo", id, token, json!({"value": "good"})).await.status(), 200);

    let pool = server.db().await;
    type Row = (String, String, Option<String>, Option<String>, i64, Option<i64>);
    let rows: Vec<Row> = sqlx::query_as("SELECT id, value, comment, page_path, created_ms, updated_ms FROM ratings")
        .fetch_all(&pool)
        .await
        .unwrap();
    pool.close().await;
    assert_eq!(rows.len(), 1, "never a second row");
    let (row_id, value, comment, path, created, updated) = rows[0].clone();
    assert_eq!((row_id.as_str(), value.as_str()), (id, "good"));
    assert_eq!(comment.as_deref(), Some("The card form, \"again\""));
    assert_eq!(path.as_deref(), Some("/checkout"));
    assert_eq!((created, updated), (tuesday_noon(), Some(tuesday_noon() + 5 * MIN)));

    // An empty comment removes it.
    assert_eq!(change(&server, "demo", id, token, json!({"value": "good", "comment": ""})).await.status(), 200);
    assert_eq!(server.count("SELECT COUNT(*) FROM ratings WHERE comment IS NULL").await, 1);

    let replay = server.post_json("/v1/sites/demo/ratings", Some("rate-key-0002"), &body).await;
    assert_eq!(replay.status(), 200);
    assert_eq!(replay.json::<Value>().await.unwrap()["value"], "good", "a replay reports the current value");
}

#[tokio::test]
async fn after_the_window_a_change_or_undo_is_409_and_nothing_changes() {
    let (server, clock, _dir) = start(tuesday_noon()).await;
    let receipt = rate(&server, "demo", "rate-key-0003", json!({"value": "bad"})).await;
    let (id, token) = (str_of(&receipt, "id"), str_of(&receipt, "token"));

    // The last millisecond of the window still counts.
    clock.set(tuesday_noon() + 10 * MIN);
    assert_eq!(change(&server, "demo", id, token, json!({"value": "neutral"})).await.status(), 200);
    clock.advance(Duration::from_millis(1));
    let late = change(&server, "demo", id, token, json!({"value": "good"})).await;
    let error = api_error(late, 409, "change_window_closed").await;
    assert!(str_of(&error, "message").contains("window"), "{error}");
    api_error(undo(&server, "demo", id, token).await, 409, "change_window_closed").await;
    assert_eq!(server.count("SELECT COUNT(*) FROM ratings WHERE value = 'neutral' AND undone_ms IS NULL").await, 1);
}

#[tokio::test]
async fn the_window_is_configured_per_site() {
    let (server, clock, _dir) = start(tuesday_noon()).await;
    let receipt = rate(&server, "stars", "rate-key-0004", json!({"value": "2", "scale": "stars5"})).await;
    assert_eq!(receipt["changeable_until_ms"], tuesday_noon() + MIN);
    let (id, token) = (str_of(&receipt, "id"), str_of(&receipt, "token"));
    assert_eq!(change(&server, "stars", id, token, json!({"value": "4"})).await.status(), 200);
    clock.advance(Duration::from_secs(61));
    api_error(change(&server, "stars", id, token, json!({"value": "5"})).await, 409, "change_window_closed").await;
}

#[tokio::test]
async fn undo_marks_the_row_undone_and_a_change_brings_it_back() {
    let (server, clock, _dir) = start(tuesday_noon()).await;
    let body = json!({"value": "bad"});
    let receipt = rate(&server, "demo", "rate-key-0005", body.clone()).await;
    let (id, token) = (str_of(&receipt, "id"), str_of(&receipt, "token"));

    let undone = undo(&server, "demo", id, token).await;
    assert_eq!(undone.status(), 204);
    assert_eq!(undo(&server, "demo", id, token).await.status(), 204, "undo is idempotent");
    assert_eq!(server.count("SELECT COUNT(*) FROM ratings WHERE undone_ms IS NOT NULL").await, 1);

    let replay = server.post_json("/v1/sites/demo/ratings", Some("rate-key-0005"), &body).await;
    assert_eq!(replay.status(), 200);
    assert_eq!(replay.json::<Value>().await.unwrap()["undone"], true, "a replay does not bring it back");
    assert_eq!(server.count("SELECT COUNT(*) FROM ratings").await, 1);

    clock.advance(Duration::from_secs(60));
    let again = change(&server, "demo", id, token, json!({"value": "good"})).await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.json::<Value>().await.unwrap()["undone"], false);
    assert_eq!(server.count("SELECT COUNT(*) FROM ratings WHERE undone_ms IS NULL AND value = 'good'").await, 1);
}

#[tokio::test]
async fn changes_need_the_ratings_own_token_on_its_own_site() {
    let (server, _clock, _dir) = start(tuesday_noon()).await;
    let a = rate(&server, "demo", "rate-key-0006", json!({"value": "bad"})).await;
    let b = rate(&server, "demo", "rate-key-0007", json!({"value": "bad"})).await;
    let (id, token) = (str_of(&a, "id"), str_of(&a, "token"));
    let good = json!({"value": "good"});
    // Another rating's token answers as an unknown id would.
    api_error(change(&server, "demo", id, str_of(&b, "token"), good.clone()).await, 404, "not_found").await;
    api_error(undo(&server, "demo", id, "not-the-token").await, 404, "not_found").await;
    let no_auth = server.client.put(server.url(&format!("/v1/sites/demo/ratings/{id}"))).json(&good).send().await;
    api_error(no_auth.unwrap(), 401, "unauthorized").await;
    api_error(change(&server, "demo", "rt_nope", token, good.clone()).await, 404, "not_found").await;
    api_error(change(&server, "stars", id, token, json!({"value": "5"})).await, 404, "not_found").await;
    api_error(change(&server, "nope", id, token, good.clone()).await, 404, "site_not_found").await;
    assert_eq!(server.count("SELECT COUNT(*) FROM ratings WHERE value = 'bad'").await, 2);
}

#[tokio::test]
async fn bad_changes_are_field_errors() {
    let (server, _clock, _dir) = start(tuesday_noon()).await;
    let receipt = rate(&server, "demo", "rate-key-0008", json!({"value": "bad"})).await;
    let (id, token) = (str_of(&receipt, "id"), str_of(&receipt, "token"));
    let error =
        api_error(change(&server, "demo", id, token, json!({"value": "5"})).await, 422, "validation_failed").await;
    assert_eq!(error["fields"][0]["field"], "value");
    assert_eq!(error["fields"][0]["code"], "unsupported");
    let long = json!({"value": "bad", "comment": "ä".repeat(2001)});
    let error = api_error(change(&server, "demo", id, token, long).await, 422, "validation_failed").await;
    assert_eq!(error["fields"][0]["field"], "comment");
    assert_eq!(error["fields"][0]["code"], "too_long");
    assert_eq!(server.count("SELECT COUNT(*) FROM ratings WHERE updated_ms IS NULL").await, 1);
}

#[tokio::test]
async fn contexts_are_stored_and_unknown_kinds_rejected() {
    let (server, _clock, _dir) = start(tuesday_noon()).await;
    rate(&server, "demo", "rate-key-0009", json!({"value": "good", "context": {"kind": "chat", "ref_id": "cv_1"}}))
        .await;
    rate(
        &server,
        "demo",
        "rate-key-0010",
        json!({"value": "bad", "context": {"kind": "callback", "ref_id": "PL-ABCDEF"}}),
    )
    .await;
    rate(&server, "demo", "rate-key-0011", json!({"value": "neutral"})).await;
    let pool = server.db().await;
    let rows: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT context_kind, context_ref FROM ratings ORDER BY idempotency_key")
            .fetch_all(&pool)
            .await
            .unwrap();
    pool.close().await;
    assert_eq!(
        rows,
        vec![
            ("chat".into(), Some("cv_1".into())),
            ("callback".into(), Some("PL-ABCDEF".into())),
            ("standalone".into(), None)
        ]
    );
    let bad = json!({"value": "good", "context": {"kind": "survey"}});
    let error = api_error(
        server.post_json("/v1/sites/demo/ratings", Some("rate-key-0012"), &bad).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(error["fields"][0]["field"], "context.kind");
}

/// The Rate tab sends the host page's path and title: stored on the row, the path's latest title
/// in the summary's per-page figures, both in the CSV; a title over the limit is a field error.
#[tokio::test]
async fn the_page_path_and_title_reach_the_row_the_summary_and_the_csv() {
    let (server, clock, _dir) = start(tuesday_noon()).await;
    let page = |title: &str| json!({"path": "/pricing", "title": title});
    rate(&server, "demo", "page-key-0001", json!({"value": "good", "page": page("Pricing — Old")})).await;
    clock.advance(Duration::from_secs(60));
    rate(&server, "demo", "page-key-0002", json!({"value": "bad", "page": page("Pricing · Shop")})).await;
    rate(&server, "demo", "page-key-0003", json!({"value": "good", "page": {"path": "/help"}})).await;
    rate(
        &server,
        "demo",
        "page-key-0004",
        json!({"value": "neutral", "context": {"kind": "callback", "ref_id": "PL-ABCDEF"}}),
    )
    .await;

    let pool = server.db().await;
    let rows: Vec<(Option<String>, Option<String>)> =
        sqlx::query_as("SELECT page_path, page_title FROM ratings ORDER BY idempotency_key")
            .fetch_all(&pool)
            .await
            .unwrap();
    pool.close().await;
    assert_eq!(
        rows,
        vec![
            (Some("/pricing".into()), Some("Pricing — Old".into())),
            (Some("/pricing".into()), Some("Pricing · Shop".into())),
            (Some("/help".into()), None),
            (None, None),
        ]
    );

    let s: RatingSummary =
        operator_get(&server, "/v1/sites/demo/ratings/summary?days=1", Some(OPERATOR)).await.json().await.unwrap();
    let pages: Vec<(Option<&str>, Option<&str>, u64, u64)> =
        s.per_page.iter().map(|p| (p.path.as_deref(), p.title.as_deref(), p.total, p.positive)).collect();
    assert_eq!(
        pages,
        vec![(Some("/pricing"), Some("Pricing · Shop"), 2, 1), (None, None, 1, 0), (Some("/help"), None, 1, 1)]
    );
    // Only the callback rating says more than its value: it is listed, linked to its callback.
    let recent: Vec<(&str, &str, Option<&str>)> =
        s.recent.iter().map(|r| (r.value.as_str(), r.context_kind.as_str(), r.context_ref.as_deref())).collect();
    assert_eq!(recent, vec![("neutral", "callback", Some("PL-ABCDEF"))]);

    let csv = operator_get(&server, "/v1/sites/demo/ratings.csv", Some(OPERATOR)).await.text().await.unwrap();
    assert!(csv.contains(",bad,0,/pricing,Pricing · Shop,,standalone,,demo\r\n"), "{csv}");
    assert!(csv.contains(",neutral,0,,,,callback,PL-ABCDEF,demo\r\n"), "{csv}");

    let long = json!({"value": "good", "page": {"path": "/a", "title": "t".repeat(301)}});
    let error = api_error(
        server.post_json("/v1/sites/demo/ratings", Some("page-key-0005"), &long).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(error["fields"][0]["field"], "page.title");
}

/// Ratings at chosen local times in Riga: (key, value, page, (month, day), (hour, minute)).
type Seed = (&'static str, &'static str, Option<&'static str>, (i8, i8), (i8, i8));
const SEED: &[Seed] = &[
    ("seed-key-old", "good", Some("/old"), (2, 1), (12, 0)),
    // 00:30 in Riga on the 9th is 22:30 UTC on the 8th: counted on the 9th.
    ("seed-key-001", "good", Some("/pricing"), (3, 9), (0, 30)),
    ("seed-key-002", "bad", Some("/pricing"), (3, 9), (15, 0)),
    ("seed-key-003", "good", Some("/pricing"), (3, 10), (8, 0)),
    ("seed-key-004", "neutral", Some("/help"), (3, 10), (9, 0)),
    ("seed-key-005", "good", None, (3, 10), (10, 0)),
    // Undone a minute later: never counted.
    ("seed-key-006", "bad", Some("/help"), (3, 10), (11, 0)),
];

async fn seed(server: &TestServer, clock: &ManualClock) {
    for &(key, value, page, (month, day), (hour, minute)) in SEED {
        clock.set(local_ms(RIGA, (2026, month, day), (hour, minute)));
        let mut body = json!({ "value": value });
        if let Some(path) = page {
            body["page"] = json!({"path": path, "title": "=HYPERLINK(\"http://evil.example\",\"Click\")"});
        }
        let receipt = rate(server, "demo", key, body).await;
        if key == "seed-key-006" {
            clock.advance(Duration::from_secs(60));
            assert_eq!(undo(server, "demo", str_of(&receipt, "id"), str_of(&receipt, "token")).await.status(), 204);
        }
        if key == "seed-key-002" {
            let told = json!({"value": "bad", "comment": "-1, the total was wrong\nand \"slow\""});
            let response = change(server, "demo", str_of(&receipt, "id"), str_of(&receipt, "token"), told).await;
            assert_eq!(response.status(), 200);
        }
    }
    clock.set(tuesday_noon());
}

#[tokio::test]
async fn summary_figures_match_the_seeded_ratings_exactly() {
    let (server, clock, _dir) = start(tuesday_noon()).await;
    seed(&server, &clock).await;

    let response = operator_get(&server, "/v1/sites/demo/ratings/summary?days=3", Some(OPERATOR)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(response.headers(), "cache-control"), "no-store");
    let s: RatingSummary = response.json().await.unwrap();
    assert_eq!(s.site, "demo");
    assert_eq!(s.days, 3);
    assert_eq!(s.from_ms, local_ms(RIGA, (2026, 3, 8), (0, 0)));
    assert_eq!(s.to_ms, tuesday_noon());
    assert_eq!((s.total, s.positive), (5, 3));
    assert_eq!(s.share_positive, Some(0.6));
    let counts: Vec<(RatingValue, u64)> = s.counts.iter().map(|c| (c.value, c.count)).collect();
    assert_eq!(counts, vec![(RatingValue::Bad, 1), (RatingValue::Neutral, 1), (RatingValue::Good, 3)]);
    let days: Vec<(&str, u64, u64)> = s.per_day.iter().map(|d| (d.date.as_str(), d.total, d.positive)).collect();
    assert_eq!(days, vec![("2026-03-08", 0, 0), ("2026-03-09", 2, 1), ("2026-03-10", 3, 2)]);
    let tenth: Vec<u64> = s.per_day[2].counts.iter().map(|c| c.count).collect();
    assert_eq!(tenth, vec![0, 1, 2]);
    let pages: Vec<(Option<&str>, u64, u64, f64)> =
        s.per_page.iter().map(|p| (p.path.as_deref(), p.total, p.positive, p.share_positive)).collect();
    assert_eq!(pages, vec![(Some("/pricing"), 3, 2, 2.0 / 3.0), (None, 1, 1, 1.0), (Some("/help"), 1, 0, 0.0)]);
    let title = "=HYPERLINK(\"http://evil.example\",\"Click\")";
    let titles: Vec<Option<&str>> = s.per_page.iter().map(|p| p.title.as_deref()).collect();
    assert_eq!(
        titles,
        vec![Some(title), None, Some(title)],
        "each page with its title, as given (JSON is not a spreadsheet)"
    );

    // The default is 30 days: the February rating is still outside.
    let s: RatingSummary =
        operator_get(&server, "/v1/sites/demo/ratings/summary", Some(OPERATOR)).await.json().await.unwrap();
    assert_eq!((s.days, s.total, s.per_day.len()), (30, 5, 30));
    let s: RatingSummary =
        operator_get(&server, "/v1/sites/demo/ratings/summary?days=60", Some(OPERATOR)).await.json().await.unwrap();
    assert_eq!((s.total, s.positive), (6, 4));
    // The closing note of issue 4 quotes this summary.
    println!(
        "summary?days=3 → {}",
        serde_json::to_string_pretty(
            &operator_get(&server, "/v1/sites/demo/ratings/summary?days=3", Some(OPERATOR))
                .await
                .json::<Value>()
                .await
                .unwrap()
        )
        .unwrap()
    );

    let bad_days = operator_get(&server, "/v1/sites/demo/ratings/summary?days=0", Some(OPERATOR)).await;
    assert_eq!(api_error(bad_days, 422, "validation_failed").await["fields"][0]["field"], "days");
    // Another site's summary is empty.
    let s: RatingSummary =
        operator_get(&server, "/v1/sites/stars/ratings/summary", Some(OPERATOR)).await.json().await.unwrap();
    assert_eq!((s.total, s.share_positive), (0, None));
}

#[tokio::test]
async fn reports_are_for_operators_only() {
    let (server, _clock, _dir) = start(tuesday_noon()).await;
    for path in ["/v1/sites/demo/ratings/summary", "/v1/sites/demo/ratings.csv"] {
        api_error(operator_get(&server, path, None).await, 401, "unauthorized").await;
        api_error(operator_get(&server, path, Some("op-token-0123456789abcdeX")).await, 401, "unauthorized").await;
    }
    api_error(operator_get(&server, "/v1/sites/nope/ratings/summary", Some(OPERATOR)).await, 404, "site_not_found")
        .await;
}

#[tokio::test]
async fn csv_export_is_escaped_and_safe_for_spreadsheets() {
    let (server, clock, _dir) = start(tuesday_noon()).await;
    seed(&server, &clock).await;
    let response = operator_get(&server, "/v1/sites/demo/ratings.csv", Some(OPERATOR)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(response.headers(), "content-type"), "text/csv; charset=utf-8");
    assert_eq!(header(response.headers(), "content-disposition"), "attachment; filename=\"ratings-demo.csv\"");
    let text = response.text().await.unwrap();
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert_eq!(
        lines[0],
        "id,created_ms,created_local,updated_ms,value,positive,page_path,page_title,comment,context_kind,context_ref,site"
    );
    // Header, six ratings that are not undone (oldest first), and the empty string after the
    // last CRLF.
    assert_eq!(lines.len(), 8, "{text}");
    assert!(lines[1].contains(",2026-02-01 12:00:00,,good,1,/old,"), "{}", lines[1]);
    let title = "\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"Click\"\")\"";
    assert!(lines[1].contains(title), "a formula is defused and quoted: {}", lines[1]);
    let ms = local_ms(RIGA, (2026, 3, 9), (15, 0));
    let bad_row = text.split("\r\n").find(|l| l.contains(&ms.to_string())).unwrap();
    assert!(
        bad_row.contains(&format!(",{ms},2026-03-09 15:00:00,{ms},bad,0,/pricing,{title},\"'-1, the total was wrong\nand \"\"slow\"\"\",standalone,,demo")),
        "{bad_row}"
    );
    assert!(!text.contains("seed-key"), "idempotency keys are not exported");
    assert_eq!(text.matches(",bad,").count(), 1, "the undone rating is left out");

    let recent = operator_get(&server, "/v1/sites/demo/ratings.csv?days=1", Some(OPERATOR)).await.text().await.unwrap();
    assert_eq!(recent.split("\r\n").count(), 5, "header, three ratings of today and the final empty string");
}

#[tokio::test]
async fn the_same_idempotency_key_with_another_body_is_refused_and_stores_nothing() {
    let (server, _clock, _dir) = start(tuesday_noon()).await;
    let first = rate(&server, "demo", "rate-key-reuse-01", json!({"value": "good"})).await;
    // The same body again (whitespace and key order do not matter): the stored answer.
    let same = server.post_json("/v1/sites/demo/ratings", Some("rate-key-reuse-01"), &json!({"value": "good"})).await;
    assert_eq!(same.status(), 200);
    let other = server.post_json("/v1/sites/demo/ratings", Some("rate-key-reuse-01"), &json!({"value": "bad"})).await;
    api_error(other, 422, "idempotency_key_reused").await;
    assert_eq!(server.count("SELECT COUNT(*) FROM ratings").await, 1);
    assert_eq!(server.count("SELECT COUNT(*) FROM ratings WHERE value = 'good'").await, 1, "{first}");
}
