//! The widget's files, the frame document, the demo page, and the server's life cycle.

mod common;

use common::{header, write_fake_assets, TestServer, EVIL, SHOP};
use porchlight_server::app::config::Settings;
use serde_json::json;

fn csp_directive<'a>(csp: &'a str, name: &str) -> &'a str {
    csp.split(';').map(str::trim).find(|d| d.starts_with(name)).unwrap_or_else(|| panic!("no {name} in {csp}"))
}

#[tokio::test]
async fn frame_csp_allows_only_the_sites_origins_as_ancestors() {
    let (server, _dir) = TestServer::with_defaults().await;
    let url = format!(
        "{}/frame?site=demo&origin={}&endpoint={}&locale=lv",
        server.base, "https%3A%2F%2Fshop.example", "https%3A%2F%2Fapi.example%3A8443%2Fv1"
    );
    let response = server.client.get(url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let h = response.headers().clone();
    assert_eq!(header(&h, "content-type"), "text/html; charset=utf-8");
    assert_eq!(header(&h, "cache-control"), "no-cache");
    let csp = header(&h, "content-security-policy");
    assert_eq!(csp_directive(&csp, "frame-ancestors"), format!("frame-ancestors {SHOP} http://localhost:8080"));
    assert_eq!(csp_directive(&csp, "connect-src"), "connect-src 'self' https://api.example:8443");
    assert_eq!(csp_directive(&csp, "script-src"), "script-src 'self' 'wasm-unsafe-eval'");
    assert!(csp.contains("object-src 'none'") && csp.contains("base-uri 'none'"), "{csp}");
    assert!(header(&h, "x-frame-options").is_empty(), "the frame must stay embeddable by its sites");
    assert_eq!(response.text().await.unwrap(), common::FRAME_HTML);

    // An endpoint the site does not list, or not an http(s) URL, gets no frame at all.
    for endpoint in ["javascript:alert(1)", "https%3A%2F%2Fother.example", "http%3A%2F%2Fa%3Bscript-src"] {
        let url = format!("{}/frame?site=demo&origin={}&endpoint={endpoint}", server.base, SHOP);
        let response = server.client.get(url).send().await.unwrap();
        assert_eq!(response.status(), 403, "{endpoint}");
        let csp = header(response.headers(), "content-security-policy");
        assert!(!csp.contains("connect-src") && !csp.contains("script-src"), "{csp}");
        assert!(response.text().await.unwrap().contains("not set up for that endpoint"));
    }
    // The widget host itself is always allowed.
    let url = format!("{}/frame?site=demo&origin={}&endpoint={}", server.base, SHOP, server.base);
    let csp = header(server.client.get(url).send().await.unwrap().headers(), "content-security-policy");
    assert_eq!(csp_directive(&csp, "connect-src"), format!("connect-src 'self' {}", server.base));
}

#[tokio::test]
async fn frame_for_a_foreign_origin_is_403_and_for_an_unknown_site_404() {
    let (server, _dir) = TestServer::with_defaults().await;
    let get = |query: String| server.client.get(format!("{}/frame?{query}", server.base)).send();
    let refused = get(format!("site=demo&origin={EVIL}")).await.unwrap();
    assert_eq!(refused.status(), 403);
    // A friendly sentence for the visitor, not the configuration's internals.
    let text = refused.text().await.unwrap();
    assert!(text.contains("Support chat is not available on this page.") && !text.contains("origin"), "{text}");
    assert_eq!(get("site=demo".into()).await.unwrap().status(), 403);
    assert_eq!(get(format!("site=nope&origin={SHOP}")).await.unwrap().status(), 404);
    server.assert_alive().await;
}

#[tokio::test]
async fn loader_is_served_brotli_with_a_short_cache() {
    let (server, _dir) = TestServer::with_defaults().await;
    let get = |encoding: &'static str| {
        server.client.get(server.url("/porchlight.js")).header("Accept-Encoding", encoding).send()
    };
    let br = get("gzip, deflate, br").await.unwrap();
    assert_eq!(br.status(), 200);
    let h = br.headers().clone();
    assert_eq!(header(&h, "content-encoding"), "br");
    assert_eq!(header(&h, "content-type"), "text/javascript; charset=utf-8");
    assert_eq!(header(&h, "cache-control"), "public, max-age=300");
    assert!(header(&h, "vary").contains("Accept-Encoding"));
    assert_eq!(br.bytes().await.unwrap().as_ref(), common::LOADER_BR);

    let gz = get("gzip").await.unwrap();
    assert_eq!(header(gz.headers(), "content-encoding"), "gzip");
    assert_eq!(gz.bytes().await.unwrap().as_ref(), common::LOADER_GZ);

    let plain = get("identity").await.unwrap();
    assert!(header(plain.headers(), "content-encoding").is_empty());
    assert_eq!(header(plain.headers(), "content-type"), "text/javascript; charset=utf-8");
    assert_eq!(plain.text().await.unwrap(), common::LOADER_JS);
}

#[tokio::test]
async fn fingerprinted_wasm_is_application_wasm_and_immutable() {
    let (server, _dir) = TestServer::with_defaults().await;
    let wasm = server.client.get(server.url("/assets/widget-abc123.wasm")).send().await.unwrap();
    assert_eq!(wasm.status(), 200);
    assert_eq!(header(wasm.headers(), "content-type"), "application/wasm");
    assert_eq!(header(wasm.headers(), "cache-control"), "public, max-age=31536000, immutable");
    assert_eq!(wasm.bytes().await.unwrap().as_ref(), common::WASM);

    let br = server.client.get(server.url("/assets/widget-abc123.wasm")).header("Accept-Encoding", "br").send();
    let br = br.await.unwrap();
    assert_eq!(header(br.headers(), "content-encoding"), "br");
    assert_eq!(header(br.headers(), "content-type"), "application/wasm");

    let missing = server.client.get(server.url("/assets/widget-000000.wasm")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    assert!(!header(missing.headers(), "cache-control").contains("immutable"), "a 404 must not be cached for a year");
    let escape = server.client.get(server.url("/assets/..%2f..%2fporchlight.db")).send().await.unwrap();
    assert_eq!(escape.status(), 404);
}

#[tokio::test]
async fn missing_build_says_how_to_build_the_widget() {
    let dir = tempfile::tempdir().unwrap();
    // No assets written.
    let server = TestServer::start(&common::config(0), dir.path()).await;
    for path in ["/porchlight.js", "/assets/widget-abc123.wasm", &format!("/frame?site=demo&origin={SHOP}")] {
        let response = server.client.get(server.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
        assert!(response.text().await.unwrap().contains("widget not built: run `cargo xtask run`"), "{path}");
    }
    server.assert_alive().await;
}

#[tokio::test]
async fn demo_page_embeds_the_snippet_under_a_strict_csp() {
    let (server, _dir) = TestServer::with_defaults().await;
    let response = server.client.get(server.url("/demo")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(header(response.headers(), "content-type"), "text/html; charset=utf-8");
    let csp = header(response.headers(), "content-security-policy");
    let widget = &server.base;
    assert_eq!(
        csp,
        format!(
            "default-src 'none'; script-src 'self' {widget}; frame-src {widget}; style-src 'self'; img-src 'self'; \
             connect-src 'self' {widget}"
        )
    );
    let html = response.text().await.unwrap();
    let tag = format!(r#"<script src="{widget}/porchlight.js" data-site="demo" async></script>"#);
    assert!(html.contains(&tag), "the real tag is on the page");
    assert!(html.contains(&format!("&lt;script src=&quot;{widget}/porchlight.js&quot;")), "and shown as text");
    assert_eq!(html.matches("<script").count(), 1, "no inline scripts");
    assert!(!html.contains("style="), "no inline styles");
    let css = server.client.get(server.url("/demo.css")).send().await.unwrap();
    assert_eq!(header(css.headers(), "content-type"), "text/css; charset=utf-8");
}

#[tokio::test]
async fn without_configured_sites_a_builtin_demo_site_serves_this_servers_origins() {
    let dir = tempfile::tempdir().unwrap();
    write_fake_assets(&dir.path().join("dist"));
    let settings = Settings {
        listen: "127.0.0.1:0".into(),
        database: dir.path().join("porchlight.db"),
        assets: dir.path().join("dist"),
        ..Settings::default()
    };
    let server = TestServer::start_with(settings).await;
    let port = server.addr.port();
    let config: serde_json::Value =
        server.client.get(server.url("/v1/sites/demo/config")).send().await.unwrap().json().await.unwrap();
    assert_eq!(config["name"], "Demo Shop");
    assert_eq!(config["timezone"], "Europe/Riga");
    // The demo page's origin (localhost) may call the API cross-origin.
    let localhost = format!("http://localhost:{port}");
    let response =
        server.client.get(server.url("/v1/sites/demo/config")).header("Origin", &localhost).send().await.unwrap();
    assert_eq!(header(response.headers(), "access-control-allow-origin"), localhost);

    let expected = format!(
        "listening on http://127.0.0.1:{port}\nPorchlight is running.\n  Demo page:  http://localhost:{port}/demo\n  \
         Paste this: <script src=\"http://127.0.0.1:{port}/porchlight.js\" data-site=\"demo\" async></script>\n"
    );
    assert_eq!(server.banner, expected);
}

#[tokio::test]
async fn public_url_is_used_in_the_snippet_and_counts_as_own_origin() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings =
        Settings::from_toml(&format!("public_url = \"https://widget.example.com\"\n{}", common::config(0))).unwrap();
    settings.listen = "127.0.0.1:0".into();
    settings.database = dir.path().join("porchlight.db");
    let server = TestServer::start_with(settings).await;
    assert!(server.banner.contains(
        r#"Paste this: <script src="https://widget.example.com/porchlight.js" data-site="demo" async></script>"#
    ));
    let response = server
        .client
        .get(server.url("/v1/sites/demo/config"))
        .header("Origin", "https://widget.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_restart_with_the_same_database_keeps_the_rows() {
    let dir = tempfile::tempdir().unwrap();
    write_fake_assets(&dir.path().join("dist"));
    let server = TestServer::start(&common::config(0), dir.path()).await;
    let first = server.post_json("/v1/sites/demo/ratings", Some("restart-key-1"), &json!({"value": "neutral"})).await;
    assert_eq!(first.status(), 201);
    let receipt: serde_json::Value = first.json().await.unwrap();
    let start = json!({"message": {"client_id": "restart-msg-1", "body": "Hi"}});
    let created: serde_json::Value =
        server.post_json("/v1/sites/demo/conversations", None, &start).await.json().await.unwrap();
    server.stop().await;

    let server = TestServer::start(&common::config(0), dir.path()).await;
    assert_eq!(server.count("SELECT COUNT(*) FROM ratings").await, 1);
    let replay = server.post_json("/v1/sites/demo/ratings", Some("restart-key-1"), &json!({"value": "neutral"})).await;
    assert_eq!(replay.status(), 200, "idempotency survives a restart");
    let replayed = replay.json::<serde_json::Value>().await.unwrap();
    assert_eq!((&replayed["id"], &replayed["value"]), (&receipt["id"], &receipt["value"]));
    // The visitor's token still works after the restart.
    let id = created["conversation_id"].as_str().unwrap();
    let list = server
        .client
        .get(server.url(&format!("/v1/sites/demo/conversations/{id}/messages")))
        .bearer_auth(created["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(list.status(), 200);
    server.stop().await;
}
