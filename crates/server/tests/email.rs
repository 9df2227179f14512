//! E-mail through a real SMTP server (Debian's python3-aiosmtpd on loopback, messages in a
//! Maildir): the operators' alert when a visitor writes while nobody is online, the reply that
//! reaches a visitor who left (once, several replies in one e-mail, in their language, with a
//! working stop link), an SMTP outage that delays and loses nothing, and bad addresses refused.

mod common;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{api_error, local_ms, write_fake_assets, TestServer};
use porchlight_server::domain::clock::ManualClock;
use serde_json::{json, Value};

const TOKEN: &str = "operator-token-0123456789";

/// A real SMTP server writing what it receives into a Maildir.
struct SmtpSink {
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl SmtpSink {
    fn start(dir: &Path) -> SmtpSink {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut sink = SmtpSink { port, dir: dir.join("maildir"), child: None };
        sink.restart();
        sink
    }

    fn restart(&mut self) {
        let child = Command::new("/usr/bin/python3")
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{}", self.port),
                "-c",
                "aiosmtpd.handlers.Mailbox",
            ])
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 -m aiosmtpd (Debian's python3-aiosmtpd; cargo xtask setup installs it)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "the SMTP server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Every message received: (to, subject, headers and decoded body as text).
    fn messages(&self) -> Vec<(String, String, String)> {
        let script = r#"
import email, email.policy, json, os, sys
d = os.path.join(sys.argv[1], 'new')
out = []
for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
    with open(os.path.join(d, name), 'rb') as f:
        m = email.message_from_binary_file(f, policy=email.policy.default)
    headers = ''.join(f'{k}: {v}\n' for k, v in m.items())
    out.append([str(m['to']), str(m['subject']), headers + '\n' + m.get_content()])
print(json.dumps(out))
"#;
        let out = Command::new("/usr/bin/python3").args(["-c", script]).arg(&self.dir).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<Vec<(String, String, String)>>(&out.stdout).unwrap()
    }

    fn to(&self, address: &str) -> Vec<(String, String)> {
        self.messages().into_iter().filter(|(to, _, _)| to.contains(address)).map(|(_, s, b)| (s, b)).collect()
    }

    /// Waits (yielding to the server, which runs on the test's runtime) for `count` e-mails.
    async fn wait_for(&self, address: &str, count: usize) -> Vec<(String, String)> {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let got = self.to(address);
            if got.len() >= count {
                return got;
            }
            assert!(Instant::now() < deadline, "{count} e-mail(s) to {address} did not arrive; got {}", got.len());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop();
    }
}

fn config(smtp_port: u16) -> String {
    format!(
        r#"operator_token = "{TOKEN}"
public_url = "https://help.shop.example"
[rate_limit]
writes_per_minute = 0
[smtp]
host = "127.0.0.1"
port = {smtp_port}
tls = "none"
from = "Demo Shop <help@shop.example>"
reply_to = "support@shop.example"
reply_grace_secs = 60

[[sites]]
id = "demo"
name = "Demo Shop"
origins = ["https://shop.example"]
timezone = "Europe/Riga"
"#
    )
}

async fn start() -> (TestServer, Arc<ManualClock>, SmtpSink, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    write_fake_assets(&dir.path().join("dist"));
    let out = Command::new(env!("CARGO_BIN_EXE_porchlight"))
        .env_remove("PORCHLIGHT_CONFIG")
        .env("PORCHLIGHT_OPERATOR_PASSWORD", "correct horse battery staple")
        .args(["operator", "add", "--email", "ann@shop.example", "--name", "Ann", "--sites", "demo", "--db"])
        .arg(dir.path().join("porchlight.db"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let sink = SmtpSink::start(dir.path());
    let clock = ManualClock::at(local_ms("Europe/Riga", (2026, 3, 10), (10, 0)));
    let server = TestServer::start_at(&config(sink.port), dir.path(), clock.clone()).await;
    (server, clock, sink, dir)
}

/// The e-mail worker's passes so far, from `/metrics`.
async fn email_passes(server: &TestServer) -> u64 {
    let response = server.client.get(server.url("/metrics")).bearer_auth(TOKEN).send().await.unwrap();
    let text = response.text().await.unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("porchlight_email_worker_passes_total "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// Waits until the e-mail worker has made two more passes: whatever was due has been handed to
/// the SMTP server by then, so "nothing more was sent" is a fact, not a timing.
async fn worker_settles(server: &TestServer) {
    let start = email_passes(server).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while email_passes(server).await < start + 2 {
        assert!(Instant::now() < deadline, "the e-mail worker made no pass in 30 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn start_conversation(server: &TestServer) -> (String, String) {
    let body = json!({"message": {"client_id": "mail-msg-0001", "body": "Is the blue lantern back in stock?"},
                      "page": {"path": "/lanterns"}, "create_key": "mail-create-key-000001"});
    let created: Value = server.post_json("/v1/sites/demo/conversations", None, &body).await.json().await.unwrap();
    (created["conversation_id"].as_str().unwrap().to_owned(), created["token"].as_str().unwrap().to_owned())
}

async fn set_contact(server: &TestServer, id: &str, token: &str, email: &str) -> reqwest::Response {
    server
        .client
        .put(server.url(&format!("/v1/sites/demo/conversations/{id}/contact")))
        .bearer_auth(token)
        .json(&json!({"email": email, "locale": "lv"}))
        .send()
        .await
        .unwrap()
}

async fn reply(server: &TestServer, id: &str, client_id: &str, body: &str) {
    let response = server
        .client
        .post(server.url(&format!("/v1/console/conversations/{id}/messages")))
        .bearer_auth(TOKEN)
        .json(&json!({"client_id": client_id, "body": body}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
}

#[tokio::test]
async fn a_visitor_who_left_gets_the_replies_by_email_once_in_their_language_and_can_stop_them() {
    let (server, clock, sink, _dir) = start().await;
    // Nobody online: the site's operator is told by e-mail.
    let (id, token) = start_conversation(&server).await;
    let alerts = sink.wait_for("ann@shop.example", 1).await;
    assert!(alerts[0].0.contains("left a message while nobody was online"), "{:?}", alerts[0]);
    assert!(alerts[0].1.contains("https://help.shop.example/console"), "{}", alerts[0].1);

    let saved = set_contact(&server, &id, &token, " anna@example.lv ").await;
    assert_eq!(saved.status(), 200);
    let saved: Value = saved.json().await.unwrap();
    assert_eq!(saved["email_masked"], "a***@example.lv");
    assert!(saved["reply_by_ms"].as_i64().unwrap() > local_ms("Europe/Riga", (2026, 3, 10), (10, 0)));

    // Two replies within the grace period: nothing yet, then one e-mail with both.
    reply(&server, &id, "mail-reply-0001", "Yes, it is back.").await;
    clock.advance(Duration::from_secs(20));
    reply(&server, &id, "mail-reply-0002", "Shall we keep one for you?").await;
    worker_settles(&server).await;
    assert!(sink.to("anna@example.lv").is_empty(), "not before the grace period");
    clock.advance(Duration::from_secs(61));
    let mails = sink.wait_for("anna@example.lv", 1).await;
    let (subject, text) = &mails[0];
    assert_eq!(subject, "Atbilde no Demo Shop");
    assert!(text.contains("> Yes, it is back.") && text.contains("> Shall we keep one for you?"), "{text}");
    assert!(text.contains("https://shop.example/lanterns"), "the page they wrote from: {text}");
    assert!(text.contains("Reply-To: support@shop.example"), "{text}");
    assert!(text.contains("List-Unsubscribe: <https://help.shop.example/v1/email/stop?c="), "{text}");
    clock.advance(Duration::from_secs(120));
    worker_settles(&server).await;
    assert_eq!(sink.to("anna@example.lv").len(), 1, "never the same e-mail twice");

    // The stop link works (one click), and nothing more is sent.
    let link = text.lines().rev().find(|l| l.contains("/v1/email/stop?")).unwrap().trim().to_owned();
    let path = link.trim_start_matches("https://help.shop.example");
    assert_eq!(server.client.get(server.url(path)).send().await.unwrap().status(), 200);
    let forged = path.replace("&s=", "&s=0");
    assert_eq!(server.client.get(server.url(&forged)).send().await.unwrap().status(), 404);
    reply(&server, &id, "mail-reply-0003", "Are you still there?").await;
    clock.advance(Duration::from_secs(120));
    worker_settles(&server).await;
    assert_eq!(sink.to("anna@example.lv").len(), 1, "stopped");
    let console: Value = server
        .client
        .get(server.url(&format!("/v1/console/conversations/{id}")))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(console["visitor_email"], "anna@example.lv", "the console shows where replies go");
}

#[tokio::test]
async fn an_smtp_outage_delays_the_email_and_loses_nothing() {
    let (server, clock, mut sink, _dir) = start().await;
    let (id, token) = start_conversation(&server).await;
    sink.wait_for("ann@shop.example", 1).await;
    assert_eq!(set_contact(&server, &id, &token, "anna@example.lv").await.status(), 200);
    sink.stop();
    reply(&server, &id, "outage-reply-0001", "Back in stock tomorrow.").await;
    clock.advance(Duration::from_secs(61));
    // Tried and failed: still queued, not failed for good.
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.count("SELECT COUNT(*) FROM email_outbox WHERE kind = 'visitor_reply' AND attempts > 0").await == 0 {
        assert!(Instant::now() < deadline, "no attempt was made");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(server.count("SELECT COUNT(*) FROM email_outbox WHERE failed_ms IS NOT NULL").await, 0);
    sink.restart();
    clock.advance(Duration::from_secs(600));
    let mails = sink.wait_for("anna@example.lv", 1).await;
    assert!(mails[0].1.contains("> Back in stock tomorrow."));
    clock.advance(Duration::from_secs(600));
    worker_settles(&server).await;
    assert_eq!(sink.to("anna@example.lv").len(), 1, "sent once");
}

#[tokio::test]
async fn bad_addresses_are_field_errors_and_store_nothing() {
    let (server, _clock, _sink, _dir) = start().await;
    let (id, token) = start_conversation(&server).await;
    for bad in
        ["", "anna", "anna@example.lv\r\nBcc: thief@evil.example", "anna@example.lv\nSubject: x", "<anna@example.lv>"]
    {
        let response = set_contact(&server, &id, &token, bad).await;
        let error = api_error(response, 422, "validation_failed").await;
        assert_eq!(error["fields"][0]["field"], "email", "{bad:?}: {error}");
    }
    assert_eq!(server.count("SELECT COUNT(*) FROM conversations WHERE visitor_email IS NOT NULL").await, 0);
    // Someone else's conversation: as if it did not exist.
    let response = set_contact(&server, &id, "not-the-token", "anna@example.lv").await;
    api_error(response, 404, "not_found").await;
}

#[tokio::test]
async fn a_visitor_still_waiting_past_the_promise_gets_an_apology_and_the_new_time_once_in_their_language() {
    let (server, clock, sink, _dir) = start().await;
    // Nobody online: a message, promised a reply by the next business day; written from Bangkok.
    let body = json!({"message": {"client_id": "late-msg-0001", "body": "Is the blue lantern back in stock?"},
                      "page": {"path": "/lanterns"}, "create_key": "late-create-key-000001",
                      "locale": "lv", "time_zone": "Asia/Bangkok"});
    let created: Value = server.post_json("/v1/sites/demo/conversations", None, &body).await.json().await.unwrap();
    let (id, token) = (created["conversation_id"].as_str().unwrap(), created["token"].as_str().unwrap());
    assert_eq!(set_contact(&server, id, token, "anna@example.lv").await.status(), 200);
    sink.wait_for("ann@shop.example", 1).await; // the operators' "message left" alert
    let pool = server.db().await;
    let due: i64 =
        sqlx::query_scalar("SELECT due_ms FROM promises WHERE subject_id = ?").bind(id).fetch_one(&pool).await.unwrap();
    pool.close().await;

    // Not before the promised time.
    clock.set(due - 60_000);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(sink.to("anna@example.lv").is_empty());

    clock.set(due + 60_000);
    let mails = sink.wait_for("anna@example.lv", 1).await;
    let (subject, text) = &mails[0];
    assert_eq!(subject, "Demo Shop: mēs kavējamies");
    let bangkok = jiff::tz::db().get("Asia/Bangkok").unwrap();
    let due_there = bangkok.to_datetime(jiff::Timestamp::from_millisecond(due).unwrap()).strftime("%Y-%m-%d %H:%M");
    assert!(text.contains(&format!("Atvainojiet! Mēs solījām atbildēt līdz {due_there} (Asia/Bangkok)")), "{text}");
    assert!(text.contains("Cilvēks jums atbildēs līdz "), "{text}");
    assert!(text.contains("https://shop.example/lanterns"), "the page, to ask for a callback: {text}");
    assert!(text.contains("https://help.shop.example/v1/email/stop?"), "{text}");
    // The operators hear of it too.
    let alerts = sink.wait_for("ann@shop.example", 2).await;
    assert!(alerts.iter().any(|(s, _)| s.contains("waited past the promised time")));

    // Once.
    clock.advance(Duration::from_secs(3_600));
    worker_settles(&server).await;
    assert_eq!(sink.to("anna@example.lv").len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn the_transcript_on_request_arrives_once_in_the_visitors_language_with_every_message() {
    let (server, _clock, sink, _dir) = start().await;
    let (id, token) = start_conversation(&server).await;
    let transcript = |by_visitor: bool| {
        let request = if by_visitor {
            server.client.post(server.url(&format!("/v1/sites/demo/conversations/{id}/transcript"))).bearer_auth(&token)
        } else {
            server.client.post(server.url(&format!("/v1/console/conversations/{id}/transcript"))).bearer_auth(TOKEN)
        };
        request.json(&json!({})).send()
    };
    // No address yet: said plainly, nothing queued.
    api_error(transcript(false).await.unwrap(), 409, "conflict").await;
    assert_eq!(set_contact(&server, &id, &token, "anna@example.lv").await.status(), 200);
    reply(&server, &id, "mail-transcript-r1", "Yes, it is back.\nShall we keep one?").await;

    let queued = transcript(false).await.unwrap();
    assert_eq!(queued.status(), 202);
    assert_eq!(queued.json::<Value>().await.unwrap()["to"], "a***@example.lv");
    let mails = sink.wait_for("anna@example.lv", 1).await;
    let (subject, text) = &mails[0];
    assert_eq!(subject, "Jūsu saruna ar Demo Shop", "in the visitor's language (lv)");
    assert!(text.contains("Jūs, 2026-03-10 10:00 (Europe/Riga):\n> Is the blue lantern back in stock?"), "{text}");
    assert!(text.contains("> Yes, it is back.\n> Shall we keep one?"), "{text}");
    assert!(text.contains("List-Unsubscribe: <https://help.shop.example/v1/email/stop?c="), "{text}");
    // Asked again by the visitor with nothing new: not sent twice.
    assert_eq!(transcript(true).await.unwrap().status(), 202);
    worker_settles(&server).await;
    assert_eq!(sink.to("anna@example.lv").len(), 1, "the same transcript once");
    // A stranger's token learns nothing.
    let forged = server
        .client
        .post(server.url(&format!("/v1/sites/demo/conversations/{id}/transcript")))
        .bearer_auth("not-the-token")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    api_error(forged, 404, "not_found").await;
}
