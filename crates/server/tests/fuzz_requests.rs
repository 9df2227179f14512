//! Property-based fuzzing of the server's request handling, in process (no socket): arbitrary
//! bodies, content types, keys, origins and paths go through the whole router (site guard,
//! limits, extractors, domain parsing, a real SQLite store). The server must never panic or
//! answer 5xx, and every `/v1` error must be the protocol's JSON error.
//!
//! Bounded for CI (128 cases per property). More: `PORCHLIGHT_FUZZ_CASES=5000`.

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use porchlight_server::app::config::Settings;
use porchlight_server::store::SqliteStore;
use porchlight_server::AppState;
use proptest::prelude::*;
use serde_json::Value;
use tower::ServiceExt;

struct Harness {
    runtime: tokio::runtime::Runtime,
    app: Router,
    _dir: tempfile::TempDir,
}

/// One server for all cases: building a runtime and a database per case would dominate.
fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings::from_toml(
            r#"
[rate_limit]
writes_per_minute = 0
[[sites]]
id = "demo"
name = "Demo"
origins = ["https://shop.example"]
timezone = "Europe/Riga"
"#,
        )
        .unwrap();
        let app = runtime.block_on(async {
            let store = SqliteStore::open(&dir.path().join("fuzz.db")).await.unwrap();
            let state = AppState::new(
                settings.sites,
                Arc::new(store),
                0,
                dir.path().join("dist"),
                url::Url::parse("http://127.0.0.1:9").unwrap(),
                settings.clock,
                None,
            );
            porchlight_server::app(state)
        });
        Harness { runtime, app, _dir: dir }
    })
}

fn config() -> ProptestConfig {
    let cases = std::env::var("PORCHLIGHT_FUZZ_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(128);
    ProptestConfig { cases, ..ProptestConfig::default() }
}

/// Sends one request; checks the invariants; returns the status.
fn check(method: &str, path: &str, headers: &[(String, Vec<u8>)], body: Vec<u8>) -> Result<u16, TestCaseError> {
    let h = harness();
    let mut request = Request::builder().method(method).uri(path);
    for (name, value) in headers {
        request = request.header(name.as_str(), value.as_slice());
    }
    let Ok(request) = request.body(Body::from(body)) else {
        // Not a request http can even express (bad header bytes): nothing to send.
        return Ok(0);
    };
    let (status, content_type, bytes) = h.runtime.block_on(async {
        let response = h.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let content_type =
            response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
        (status, content_type, bytes)
    });
    prop_assert!(!status.is_server_error(), "{method} {path} → {status}: {}", String::from_utf8_lossy(&bytes));
    if path.starts_with("/v1/") && (status.is_client_error() && status != StatusCode::METHOD_NOT_ALLOWED) {
        prop_assert_eq!(&content_type, "application/json");
        let body: Value = serde_json::from_slice(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(body["error"]["code"].is_string(), "{}", body);
        prop_assert!(body["error"]["message"].is_string(), "{}", body);
    }
    Ok(status.as_u16())
}

fn content_type() -> impl Strategy<Value = Option<Vec<u8>>> {
    prop_oneof![
        4 => Just(Some(b"application/json".to_vec())),
        1 => Just(Some(b"application/json; charset=utf-8".to_vec())),
        1 => Just(Some(b"text/plain".to_vec())),
        1 => Just(None),
        1 => prop::collection::vec(any::<u8>(), 0..30).prop_map(Some),
    ]
}

fn idempotency_key() -> impl Strategy<Value = Option<Vec<u8>>> {
    prop_oneof![
        4 => "[A-Za-z0-9_-]{8,64}".prop_map(|k| Some(k.into_bytes())),
        1 => Just(None),
        1 => prop::collection::vec(any::<u8>(), 0..80).prop_map(Some),
    ]
}

fn origin() -> impl Strategy<Value = Option<Vec<u8>>> {
    prop_oneof![
        3 => Just(None),
        2 => Just(Some(b"https://shop.example".to_vec())),
        1 => Just(Some(b"https://evil.example".to_vec())),
        1 => Just(Some(b"null".to_vec())),
        1 => prop::collection::vec(any::<u8>(), 0..40).prop_map(Some),
    ]
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        2 => prop::collection::vec(any::<u8>(), 0..256),
        2 => Just(br#"{"value":"good"}"#.to_vec()),
        1 => Just(br#"{"name":"Anna","phone":"+371 2000 0000","website":"x"}"#.to_vec()),
        1 => Just(br#"{"message":{"client_id":"client-0001","body":"Hi"}}"#.to_vec()),
        2 => ("\\PC{0,40}", "\\PC{0,40}").prop_map(|(a, b)| {
            serde_json::to_vec(&serde_json::json!({"value": a, "comment": b, "name": a, "phone": b,
                "message": {"client_id": a, "body": b}})).unwrap()
        }),
        1 => (1usize..20_000).prop_map(|n| "[".repeat(n).into_bytes()),
    ]
}

fn path() -> impl Strategy<Value = String> {
    let site = prop_oneof![Just("demo".to_owned()), Just("nope".to_owned()), "[a-zA-Z0-9._~%-]{0,20}"];
    let resource = prop_oneof![
        Just("ratings".to_owned()),
        Just("callbacks".to_owned()),
        Just("conversations".to_owned()),
        Just("noop".to_owned()),
        Just("config".to_owned()),
        Just("availability".to_owned()),
        "[a-zA-Z0-9._~%-]{0,20}",
    ];
    let tail = prop_oneof![Just(String::new()), "/[a-zA-Z0-9._~%-]{0,20}(/messages)?"];
    (site, resource, tail).prop_map(|(site, resource, tail)| format!("/v1/sites/{site}/{resource}{tail}"))
}

fn headers(
    content_type: Option<Vec<u8>>,
    key: Option<Vec<u8>>,
    origin: Option<Vec<u8>>,
    bearer: Option<Vec<u8>>,
) -> Vec<(String, Vec<u8>)> {
    [("content-type", content_type), ("idempotency-key", key), ("origin", origin), ("authorization", bearer)]
        .into_iter()
        .filter_map(|(name, value)| value.map(|v| (name.to_owned(), v)))
        .collect()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn create_endpoints_survive_arbitrary_requests(
        resource in prop_oneof![Just("ratings"), Just("callbacks"), Just("conversations"), Just("noop")],
        content_type in content_type(), key in idempotency_key(), origin in origin(), body in body(),
    ) {
        let path = format!("/v1/sites/demo/{resource}");
        check("POST", &path, &headers(content_type, key, origin, None), body)?;
    }

    #[test]
    fn any_path_and_method_survives(
        method in prop_oneof![Just("GET"), Just("POST"), Just("PUT"), Just("DELETE"), Just("OPTIONS"), Just("PATCH")],
        path in path(), content_type in content_type(), key in idempotency_key(), origin in origin(),
        bearer in prop_oneof![Just(None), "Bearer [a-f0-9]{0,64}".prop_map(|b| Some(b.into_bytes()))],
        body in body(),
    ) {
        check(method, &path, &headers(content_type, key, origin, bearer), body)?;
    }
}
