//! Nothing acknowledged is ever lost: the real `porchlight` binary on a tempdir database gets a
//! concurrent load of ratings, callbacks and chat messages, is killed (`kill -9`) or stopped
//! (SIGTERM) in the middle of it, and is started again on the same file. Every request that was
//! answered 2xx must be stored exactly once, with the id it was acknowledged with; retrying
//! acknowledged and unacknowledged requests with their keys must not store anything twice.
//!
//! Bounded: about 600 requests per test on loopback, a few seconds each.
#![cfg(unix)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sqlx::SqlitePool;

const WORKERS: usize = 10;
const ROUNDS: usize = 20;
/// The server is interrupted once this many requests have been acknowledged.
const INTERRUPT_AFTER_ACKS: usize = 150;
/// Per kind and worker, how many unacknowledged items are retried after the restart (the first
/// ones are those that were in flight when the server went down).
const RETRY_UNACKED_PER_WORKER: usize = 3;
const RETRY_ACKED: usize = 10;

struct Running {
    child: Child,
    base: String,
}

/// Starts `porchlight serve` with a config file naming the database in `dir`; rate limit off.
fn start_server(dir: &Path, log_name: &str) -> Running {
    let config = dir.join("fault.toml");
    std::fs::write(
        &config,
        format!(
            r#"
listen = "127.0.0.1:0"
database = "{db}"
assets = "{assets}"

[rate_limit]
writes_per_minute = 0

[[sites]]
id = "demo"
name = "Demo Shop"
origins = ["https://shop.example"]
timezone = "Europe/Riga"
"#,
            db = dir.join("fault.db").display(),
            assets = dir.join("dist").display(),
        ),
    )
    .unwrap();
    let log = std::fs::File::create(dir.join(log_name)).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_porchlight"));
    for var in
        ["PORCHLIGHT_LISTEN", "PORCHLIGHT_DB", "PORCHLIGHT_ASSETS", "PORCHLIGHT_PUBLIC_URL", "PORCHLIGHT_FAKE_NOW"]
    {
        command.env_remove(var);
    }
    let mut child = command
        .args(["serve", "--config"])
        .arg(&config)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let base = first.trim().strip_prefix("listening on ").expect("the banner names the address").to_owned();
    Running { child, base }
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill").args([&format!("-{name}"), &child.id().to_string()]).status().unwrap();
    assert!(status.success(), "kill -{name}");
}

async fn wait_exit(mut child: Child, limit: Duration) -> std::process::ExitStatus {
    tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            if started.elapsed() > limit {
                let _ = child.kill();
                panic!("the server did not exit within {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    })
    .await
    .unwrap()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Rating,
    Callback,
    Conversation,
    Message,
}

/// One item a visitor tried to store, and what the server answered (if it answered 2xx).
#[derive(Debug, Clone)]
struct Item {
    kind: Kind,
    worker: usize,
    /// Idempotency key (ratings, callbacks) or client id (conversation's first message, messages).
    key: String,
    /// For messages: the conversation and its token.
    conversation: Option<(String, String)>,
    /// The acknowledged id: rating id, callback reference, conversation id, message id.
    ack: Option<String>,
}

struct Client {
    http: reqwest::Client,
}

impl Client {
    fn new() -> Client {
        Client { http: reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap() }
    }

    /// Sends the item; `Some(body)` only for a 2xx whose JSON body arrived in full.
    async fn send(&self, base: &str, item: &Item) -> Option<(u16, Value)> {
        let request = match item.kind {
            Kind::Rating => self
                .http
                .post(format!("{base}/v1/sites/demo/ratings"))
                .header("Idempotency-Key", &item.key)
                .json(&json!({"value": "good", "page": {"path": "/fault"}})),
            Kind::Callback => self
                .http
                .post(format!("{base}/v1/sites/demo/callbacks"))
                .header("Idempotency-Key", &item.key)
                .json(&json!({"name": "Fault Visitor", "phone": "+371 2000 0000"})),
            Kind::Conversation => self
                .http
                .post(format!("{base}/v1/sites/demo/conversations"))
                .json(&json!({"message": {"client_id": item.key, "body": "Hello"}, "create_key": format!("create-key-{}", item.key)})),
            Kind::Message => {
                let (id, token) = item.conversation.as_ref().expect("messages belong to a conversation");
                self.http
                    .post(format!("{base}/v1/sites/demo/conversations/{id}/messages"))
                    .bearer_auth(token)
                    .json(&json!({"client_id": item.key, "body": "Are you there?"}))
            }
        };
        let response = request.send().await.ok()?;
        let status = response.status().as_u16();
        if !response.status().is_success() {
            // Anything but a 2xx or a lost connection is a bug, not a fault being injected.
            let body = response.text().await.unwrap_or_default();
            panic!("{:?} {} answered {status}: {body}", item.kind, item.key);
        }
        Some((status, response.json::<Value>().await.ok()?))
    }
}

/// The id an answer acknowledges, per kind.
fn ack_id(kind: Kind, body: &Value) -> String {
    let id = match kind {
        Kind::Rating => &body["id"],
        Kind::Callback => &body["reference"],
        Kind::Conversation => &body["conversation_id"],
        Kind::Message => &body["id"],
    };
    match id {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => panic!("{kind:?} answer without an id: {other} in {body}"),
    }
}

/// One visitor: a conversation, then rounds of a rating, a callback and a chat message.
async fn visitor(client: Arc<Client>, base: String, worker: usize, run: String, acks: Arc<AtomicUsize>) -> Vec<Item> {
    let mut items = Vec::new();
    let record = |item: &mut Item, answer: Option<(u16, Value)>| {
        if let Some((_, body)) = answer {
            item.ack = Some(ack_id(item.kind, &body));
            acks.fetch_add(1, Ordering::SeqCst);
            Some(body)
        } else {
            None
        }
    };
    let mut conversation =
        Item { kind: Kind::Conversation, worker, key: format!("{run}-cv-{worker:02}"), conversation: None, ack: None };
    let answer = client.send(&base, &conversation).await;
    let started = record(&mut conversation, answer);
    let chat = started
        .map(|body| (body["conversation_id"].as_str().unwrap().to_owned(), body["token"].as_str().unwrap().to_owned()));
    items.push(conversation);
    for round in 0..ROUNDS {
        for kind in [Kind::Rating, Kind::Callback, Kind::Message] {
            if kind == Kind::Message && chat.is_none() {
                continue;
            }
            let tag = match kind {
                Kind::Rating => "rt",
                Kind::Callback => "cb",
                _ => "ms",
            };
            let mut item = Item {
                kind,
                worker,
                key: format!("{run}-{tag}-{worker:02}-{round:03}"),
                conversation: if kind == Kind::Message { chat.clone() } else { None },
                ack: None,
            };
            let answer = client.send(&base, &item).await;
            record(&mut item, answer);
            items.push(item);
        }
    }
    items
}

/// Runs the load and interrupts the server with `kill -<signal>` once enough is acknowledged.
async fn load_and_interrupt(server: Running, signal_name: &'static str) -> (Vec<Item>, std::process::ExitStatus) {
    let client = Arc::new(Client::new());
    let acks = Arc::new(AtomicUsize::new(0));
    let run = format!("r{}", std::process::id());
    let visitors: Vec<_> = (0..WORKERS)
        .map(|w| tokio::spawn(visitor(client.clone(), server.base.clone(), w, run.clone(), acks.clone())))
        .collect();
    let started = Instant::now();
    while acks.load(Ordering::SeqCst) < INTERRUPT_AFTER_ACKS {
        assert!(started.elapsed() < Duration::from_secs(15), "the load stalled before the interruption");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    signal(&server.child, signal_name);
    let status = wait_exit(server.child, Duration::from_secs(15)).await;
    let mut items = Vec::new();
    for v in visitors {
        items.extend(v.await.unwrap());
    }
    (items, status)
}

/// Everything stored, by kind and key: (row count, id).
async fn stored(db: &Path) -> HashMap<(Kind, String), (i64, String)> {
    let pool = SqlitePool::connect(&format!("sqlite://{}", db.display())).await.unwrap();
    let mut out = HashMap::new();
    let queries = [
        (Kind::Rating, "SELECT idempotency_key, COUNT(*), MIN(id) FROM ratings GROUP BY idempotency_key"),
        (Kind::Callback, "SELECT idempotency_key, COUNT(*), MIN(reference) FROM callbacks GROUP BY idempotency_key"),
        (Kind::Conversation, "SELECT first_client_id, COUNT(*), MIN(id) FROM conversations GROUP BY first_client_id"),
        (
            Kind::Message,
            "SELECT m.client_id, COUNT(*), CAST(MIN(m.id) AS TEXT) FROM messages m
             JOIN conversations c ON c.id = m.conversation_id
             WHERE m.client_id <> c.first_client_id GROUP BY m.conversation_id, m.client_id",
        ),
    ];
    for (kind, sql) in queries {
        let rows: Vec<(String, i64, String)> = sqlx::query_as(sql).fetch_all(&pool).await.unwrap();
        for (key, count, id) in rows {
            let previous = out.insert((kind, key.clone()), (count, id));
            assert!(previous.is_none(), "{kind:?} {key} is stored under two conversations");
        }
    }
    pool.close().await;
    out
}

/// Every acknowledged item is stored exactly once under the id it was acknowledged with, and
/// nothing is stored that was not sent.
fn assert_acknowledged_stored_once(items: &[Item], rows: &HashMap<(Kind, String), (i64, String)>) {
    let mut acknowledged = 0;
    for item in items {
        let Some(ack) = &item.ack else { continue };
        acknowledged += 1;
        match rows.get(&(item.kind, item.key.clone())) {
            Some((1, id)) => assert_eq!(id, ack, "{:?} {} is stored with another id", item.kind, item.key),
            Some((n, _)) => panic!("{:?} {} is stored {n} times", item.kind, item.key),
            None => panic!("{:?} {} was acknowledged ({ack}) but is not stored", item.kind, item.key),
        }
    }
    assert!(acknowledged >= INTERRUPT_AFTER_ACKS, "only {acknowledged} acknowledged");
    let sent: std::collections::HashSet<_> = items.iter().map(|i| (i.kind, i.key.clone())).collect();
    for key in rows.keys() {
        assert!(sent.contains(key), "{key:?} is stored but was never sent");
    }
}

/// Retries some acknowledged items (must answer 200 with the same id: the original survived) and
/// the first unacknowledged ones of every visitor (in flight when the server went down: stored
/// or not, they must end up stored once). Returns the retried items with their new answers.
async fn retry(base: &str, items: &[Item]) -> Vec<Item> {
    let client = Client::new();
    let mut retried = Vec::new();
    for kind in [Kind::Rating, Kind::Callback, Kind::Conversation, Kind::Message] {
        for item in items.iter().filter(|i| i.kind == kind && i.ack.is_some()).take(RETRY_ACKED) {
            let (status, body) = client.send(base, item).await.expect("the restarted server answers");
            assert_eq!(status, 200, "{kind:?} {} was acknowledged, so a retry finds it: {body}", item.key);
            assert_eq!(&ack_id(kind, &body), item.ack.as_ref().unwrap(), "{kind:?} {}", item.key);
            retried.push(item.clone());
        }
        for worker in 0..WORKERS {
            let unacked = items
                .iter()
                .filter(|i| i.kind == kind && i.worker == worker && i.ack.is_none())
                .take(RETRY_UNACKED_PER_WORKER);
            for item in unacked {
                let (status, body) = client.send(base, item).await.expect("the restarted server answers");
                assert!(status == 200 || status == 201, "{status}");
                let mut item = item.clone();
                item.ack = Some(ack_id(kind, &body));
                retried.push(item);
            }
        }
    }
    retried
}

async fn interrupted_load_loses_nothing_acknowledged(signal_name: &'static str) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("fault.db");
    let server = start_server(dir.path(), "first.log");
    let (items, status) = load_and_interrupt(server, signal_name).await;
    if signal_name == "TERM" {
        assert!(status.success(), "SIGTERM drains and exits 0, got {status}");
    }
    let acked = items.iter().filter(|i| i.ack.is_some()).count();
    eprintln!("{signal_name}: {} items, {acked} acknowledged before the interruption", items.len());

    let server = start_server(dir.path(), "second.log");
    assert_acknowledged_stored_once(&items, &stored(&db).await);

    let retried = retry(&server.base, &items).await;
    let rows = stored(&db).await;
    assert_acknowledged_stored_once(&items, &rows);
    for item in &retried {
        let (count, id) = rows.get(&(item.kind, item.key.clone())).expect("a retried item is stored");
        assert_eq!(*count, 1, "{:?} {}", item.kind, item.key);
        assert_eq!(Some(id), item.ack.as_ref(), "{:?} {}", item.kind, item.key);
    }
    let stored_messages = rows.keys().filter(|(k, _)| *k == Kind::Message).count();
    eprintln!("{signal_name}: {} rows after retrying {} items ({stored_messages} messages)", rows.len(), retried.len());

    signal(&server.child, "TERM");
    assert!(wait_exit(server.child, Duration::from_secs(15)).await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_under_load_loses_nothing_acknowledged() {
    interrupted_load_loses_nothing_acknowledged("KILL").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_drains_and_loses_nothing_acknowledged() {
    interrupted_load_loses_nothing_acknowledged("TERM").await;
}
