//! A real server on 127.0.0.1:0 with a tempdir database and a small fake widget build.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use std::sync::Arc;

use porchlight_server::app::config::Settings;
use porchlight_server::domain::clock::{ManualClock, SharedClock};
use porchlight_server::Server;
use reqwest::header::HeaderMap;
use serde_json::Value;
use sqlx::SqlitePool;
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const SHOP: &str = "https://shop.example";
pub const EVIL: &str = "https://evil.example";

/// One site `demo` embeddable from [`SHOP`] and `http://localhost:8080`, rate limit off.
pub fn config(writes_per_minute: u32) -> String {
    format!(
        r#"
[rate_limit]
writes_per_minute = {writes_per_minute}

[[sites]]
id = "demo"
name = "Demo Shop"
origins = ["{SHOP}", "http://localhost:8080"]
endpoints = ["https://api.example:8443"]
timezone = "Europe/Riga"
greeting = "Hi! How can we help?"

[[sites]]
id = "stars"
name = "Star Shop"
origins = ["{SHOP}"]
timezone = "Asia/Bangkok"
rating_scale = "stars5"
[sites.promises]
callback_business_hours = 4
"#
    )
}

pub const LOADER_JS: &str = "/* porchlight loader */ console.log('plain');";
pub const LOADER_BR: &[u8] = b"\x1b\x2a\x00\xf8brotli-bytes";
pub const LOADER_GZ: &[u8] = b"\x1f\x8b\x08\x00gzip-bytes";
pub const FRAME_HTML: &str =
    "<!doctype html><title>frame</title><script type=module src=/assets/widget-abc123.js></script>";
pub const WASM: &[u8] = b"\0asm\x01\0\0\0";

/// Writes the layout the build tool produces.
pub fn write_fake_assets(dir: &Path) {
    std::fs::create_dir_all(dir.join("assets")).unwrap();
    std::fs::write(dir.join("porchlight.js"), LOADER_JS).unwrap();
    std::fs::write(dir.join("porchlight.js.br"), LOADER_BR).unwrap();
    std::fs::write(dir.join("porchlight.js.gz"), LOADER_GZ).unwrap();
    std::fs::write(dir.join("frame.html"), FRAME_HTML).unwrap();
    std::fs::write(dir.join("assets/widget-abc123.wasm"), WASM).unwrap();
    std::fs::write(dir.join("assets/widget-abc123.wasm.br"), b"br-wasm").unwrap();
    std::fs::write(dir.join("assets/widget-abc123.js"), "export {};").unwrap();
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub base: String,
    pub banner: String,
    pub db_path: PathBuf,
    pub client: reqwest::Client,
    /// The running server's state, for use cases a test drives directly (a retention pass).
    pub state: porchlight_server::AppState,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<std::io::Result<()>>>,
}

impl TestServer {
    pub async fn start(toml: &str, dir: &Path) -> TestServer {
        let mut settings = Settings::from_toml(toml).expect("test config is valid");
        settings.listen = "127.0.0.1:0".into();
        settings.database = dir.join("porchlight.db");
        settings.assets = dir.join("dist");
        TestServer::start_with(settings).await
    }

    /// Like [`TestServer::start`], with time driven by `clock`.
    pub async fn start_at(toml: &str, dir: &Path, clock: SharedClock) -> TestServer {
        let mut settings = Settings::from_toml(toml).expect("test config is valid");
        settings.listen = "127.0.0.1:0".into();
        settings.database = dir.join("porchlight.db");
        settings.assets = dir.join("dist");
        settings.clock = clock;
        TestServer::start_with(settings).await
    }

    pub async fn start_with(settings: Settings) -> TestServer {
        let db_path = settings.database.clone();
        let server = Server::bind(settings).await.expect("server starts");
        let addr = server.local_addr();
        let banner = server.banner();
        let state = server.state().clone();
        let (tx, rx) = oneshot::channel::<()>();
        let handle = tokio::spawn(server.run(async {
            let _ = rx.await;
        }));
        TestServer {
            addr,
            base: format!("http://{addr}"),
            banner,
            db_path,
            client: reqwest::Client::new(),
            state,
            shutdown: Some(tx),
            handle: Some(handle),
        }
    }

    /// A fresh tempdir with fake assets and a server on `toml` whose time is a manual clock
    /// starting at `now_ms`; tests move it to cross windows, closings and days.
    pub async fn with_manual_clock(toml: &str, now_ms: i64) -> (TestServer, Arc<ManualClock>, TempDir) {
        let dir = tempfile::tempdir().unwrap();
        write_fake_assets(&dir.path().join("dist"));
        let clock = ManualClock::at(now_ms);
        let server = TestServer::start_at(toml, dir.path(), clock.clone()).await;
        (server, clock, dir)
    }

    /// A fresh tempdir with fake assets and a server using [`config`].
    pub async fn with_defaults() -> (TestServer, TempDir) {
        let dir = tempfile::tempdir().unwrap();
        write_fake_assets(&dir.path().join("dist"));
        let server = TestServer::start(&config(0), dir.path()).await;
        (server, dir)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn stop(mut self) {
        let _ = self.shutdown.take().unwrap().send(());
        self.handle.take().unwrap().await.unwrap().unwrap();
    }

    /// A separate connection to the same database file, as an operator tool would open it.
    pub async fn db(&self) -> SqlitePool {
        SqlitePool::connect(&format!("sqlite://{}", self.db_path.display())).await.unwrap()
    }

    pub async fn count(&self, sql: &str) -> i64 {
        let pool = self.db().await;
        let n: i64 = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
        pool.close().await;
        n
    }

    pub async fn post_json(&self, path: &str, key: Option<&str>, body: &Value) -> reqwest::Response {
        let mut request = self.client.post(self.url(path)).json(body);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        request.send().await.unwrap()
    }

    /// Proves the server still answers after a bad request.
    pub async fn assert_alive(&self) {
        let response = self.client.get(self.url("/healthz")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.text().await.unwrap(), "ok");
    }
}

/// Reads a non-2xx body and checks it has the protocol's error shape; returns `error`.
pub async fn api_error(response: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status().as_u16(), status);
    assert_eq!(header(response.headers(), "content-type"), "application/json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    body["error"].clone()
}

/// A wall-clock time in an IANA zone as Unix ms (for gaps and folds: jiff's `compatible`).
pub fn local_ms(zone: &str, (y, mo, d): (i16, i8, i8), (h, mi): (i8, i8)) -> i64 {
    let tz = jiff::tz::db().get(zone).unwrap();
    tz.to_ambiguous_timestamp(jiff::civil::date(y, mo, d).at(h, mi, 0, 0)).compatible().unwrap().as_millisecond()
}

/// Unix ms shown as a wall-clock time in `zone`, e.g. `"Wed 2026-03-11 10:50"`.
pub fn show_local(zone: &str, ms: i64) -> String {
    let tz = jiff::tz::db().get(zone).unwrap();
    tz.to_datetime(jiff::Timestamp::from_millisecond(ms).unwrap()).strftime("%a %Y-%m-%d %H:%M").to_string()
}

pub fn header(headers: &HeaderMap, name: &str) -> String {
    headers.get(name).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
}

/// Adds a console operator with the command line (as a deployment would) and logs them in;
/// returns the session cookie (`name=value`).
pub async fn console_login(
    server: &TestServer,
    dir: &Path,
    email: &str,
    password: &str,
    sites: Option<&str>,
) -> String {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_porchlight"));
    for var in ["PORCHLIGHT_CONFIG", "PORCHLIGHT_DB"] {
        command.env_remove(var);
    }
    command.env("PORCHLIGHT_OPERATOR_PASSWORD", password);
    command.args(["operator", "add", "--email", email, "--name", "Operator", "--db"]).arg(dir.join("porchlight.db"));
    if let Some(sites) = sites {
        command.args(["--sites", sites]);
    }
    let out = command.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let response = server
        .client
        .post(server.url("/v1/console/login"))
        .header("Origin", &server.base)
        .json(&serde_json::json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    header(response.headers(), "set-cookie").split(';').next().unwrap().to_owned()
}
