//! The operator console's document: in the operator's language from `Accept-Language`, with
//! the console's bundle inlined and `<html lang dir>` set, under its strict CSP.

mod common;

use common::{header, TestServer};

const CONSOLE_HTML: &str = "<!doctype html>\n<html lang=\"en\">\n<head>\n<title>{{ConsoleTitle}}</title>\n\
                            <script type=\"module\" src=\"/console/porchlight_console-abc.js\"></script>\n</head>\n\
                            <body><div id=\"console-root\"><p>{{Loading}}</p></div></body>\n</html>\n";

async fn console(server: &TestServer, accept_language: Option<&str>) -> (reqwest::header::HeaderMap, String) {
    let mut request = server.client.get(server.url("/console"));
    if let Some(value) = accept_language {
        request = request.header("accept-language", value);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    (headers, response.text().await.unwrap())
}

#[tokio::test]
async fn the_console_speaks_the_operators_language() {
    let (server, dir) = TestServer::with_defaults().await;
    std::fs::create_dir_all(dir.path().join("dist/console")).unwrap();
    std::fs::write(dir.path().join("dist/console/console.html"), CONSOLE_HTML).unwrap();

    let (h, body) = console(&server, Some("ar-SA,ar;q=0.9,en;q=0.8")).await;
    assert!(body.contains("<html lang=\"ar\" dir=\"rtl\">"), "{body}");
    assert!(body.contains("<title>وحدة تحكم Porchlight</title>"));
    assert!(body.contains("<p>جارٍ التحميل…</p>"));
    assert!(body.contains("<script type=\"application/json\" id=\"pl-strings\">[\""));
    assert!(body.contains("\"تسجيل الدخول\""), "the console's bundle, not the widget's");
    assert_eq!(header(&h, "content-language"), "ar");
    assert!(header(&h, "vary").contains("Accept-Language"), "caches keep languages apart");
    assert_eq!(header(&h, "cache-control"), "no-cache");
    assert_eq!(header(&h, "content-type"), "text/html; charset=utf-8");
    let csp = header(&h, "content-security-policy");
    assert!(csp.contains("script-src 'self' 'wasm-unsafe-eval'") && csp.contains("frame-ancestors 'none'"), "{csp}");

    let (h, body) = console(&server, Some("fr-CH, fr;q=0.9, lv;q=0.7, en;q=0.5")).await;
    assert!(body.contains("<html lang=\"lv\" dir=\"ltr\">"));
    assert!(body.contains("<title>Porchlight konsole</title>"));
    assert_eq!(header(&h, "content-language"), "lv");

    let (h, body) = console(&server, None).await;
    assert!(body.contains("<html lang=\"en\" dir=\"ltr\">"));
    assert!(body.contains("<title>Porchlight console</title>"));
    assert_eq!(header(&h, "content-language"), "en");

    server.stop().await;
}

#[tokio::test]
async fn an_unbuilt_console_is_404() {
    let (server, _dir) = TestServer::with_defaults().await;
    let response = server.client.get(server.url("/console")).send().await.unwrap();
    assert_eq!(response.status(), 404);
    server.stop().await;
}
