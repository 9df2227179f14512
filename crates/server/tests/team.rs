//! A team behind the promise: presence that expires with the console, operators who see only
//! their sites, names on replies, and a closed conversation that a visitor's message reopens.
//! The real server, the real CLI binary for accounts, a manual clock for the expiry.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{api_error, header, local_ms, TestServer};
use porchlight_server::domain::clock::ManualClock;
use serde_json::{json, Value};

const PASSWORD: &str = "correct horse battery staple";

fn config() -> String {
    common::config(0)
}

fn add_operator(dir: &std::path::Path, email: &str, name: &str, sites: Option<&str>) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_porchlight"));
    for var in ["PORCHLIGHT_CONFIG", "PORCHLIGHT_DB"] {
        command.env_remove(var);
    }
    command.env("PORCHLIGHT_OPERATOR_PASSWORD", PASSWORD);
    command.args(["operator", "add", "--email", email, "--name", name, "--db"]).arg(dir.join("porchlight.db"));
    if let Some(sites) = sites {
        command.args(["--sites", sites]);
    }
    let out = command.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

struct Console {
    client: reqwest::Client,
    base: String,
    cookie: String,
}

impl Console {
    async fn login(server: &TestServer, email: &str) -> Console {
        let client = reqwest::Client::new();
        let response = client
            .post(format!("{}/v1/console/login", server.base))
            .header("Origin", &server.base)
            .json(&json!({"email": email, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let cookie = header(response.headers(), "set-cookie").split(';').next().unwrap().to_owned();
        Console { client, base: server.base.clone(), cookie }
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base))
            .header("Origin", &self.base)
            .header("Cookie", &self.cookie)
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.request(reqwest::Method::GET, path).send().await.unwrap()
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Value) -> reqwest::Response {
        self.request(method, path).json(&body).send().await.unwrap()
    }
}

async fn availability_state(server: &TestServer, site: &str) -> String {
    let response = server.client.get(server.url(&format!("/v1/sites/{site}/availability"))).send().await.unwrap();
    let body: Value = response.json().await.unwrap();
    body["state"].as_str().unwrap().to_owned()
}

async fn start() -> (TestServer, std::sync::Arc<ManualClock>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    common::write_fake_assets(&dir.path().join("dist"));
    add_operator(dir.path(), "ann@shop.example", "Ann", Some("demo"));
    add_operator(dir.path(), "bob@shop.example", "Bob", Some("stars"));
    // Tuesday 10:00 in Riga: inside the demo site's business hours.
    let clock = ManualClock::at(local_ms("Europe/Riga", (2026, 3, 10), (10, 0)));
    let server = TestServer::start_at(&config(), dir.path(), clock.clone()).await;
    (server, clock, dir)
}

#[tokio::test]
async fn online_lasts_only_while_the_console_is_alive_and_away_stays_away() {
    let (server, clock, _dir) = start().await;
    assert_eq!(availability_state(&server, "demo").await, "nobody_online");
    let ann = Console::login(&server, "ann@shop.example").await;
    // After log-in the console shows the truth: away until she chooses.
    let presence: Value = ann.get("/v1/console/presence?site=demo").await.json().await.unwrap();
    assert_eq!(presence["status"], "away");
    let set = ann.send(reqwest::Method::PUT, "/v1/console/presence", json!({"site": "demo", "status": "online"})).await;
    assert_eq!(set.status(), 200);
    assert_eq!(availability_state(&server, "demo").await, "open");

    // Her console keeps beating: still open well past the expiry.
    for _ in 0..4 {
        clock.advance(Duration::from_secs(20));
        assert_eq!(ann.send(reqwest::Method::POST, "/v1/console/heartbeat", json!({})).await.status(), 204);
    }
    assert_eq!(availability_state(&server, "demo").await, "open");

    // The laptop closes: nothing more is heard, and within 60 s visitors are told nobody is there.
    clock.advance(Duration::from_secs(59));
    assert_eq!(availability_state(&server, "demo").await, "open");
    clock.advance(Duration::from_secs(2));
    assert_eq!(availability_state(&server, "demo").await, "nobody_online");
    // Her choice is kept: the console after a reload says online, and being back makes it true.
    let presence: Value = ann.get("/v1/console/presence?site=demo").await.json().await.unwrap();
    assert_eq!(presence["status"], "online");
    assert_eq!(availability_state(&server, "demo").await, "open");

    // An explicit away stays away however alive the console is.
    ann.send(reqwest::Method::PUT, "/v1/console/presence", json!({"site": "demo", "status": "away"})).await;
    ann.send(reqwest::Method::POST, "/v1/console/heartbeat", json!({})).await;
    assert_eq!(availability_state(&server, "demo").await, "nobody_online");

    // Logging out is leaving at once.
    ann.send(reqwest::Method::PUT, "/v1/console/presence", json!({"site": "demo", "status": "online"})).await;
    assert_eq!(availability_state(&server, "demo").await, "open");
    ann.send(reqwest::Method::POST, "/v1/console/logout", json!({})).await;
    assert_eq!(availability_state(&server, "demo").await, "nobody_online");
}

#[tokio::test]
async fn an_open_console_stream_keeps_the_operator_live_and_its_end_starts_the_expiry() {
    let (server, clock, _dir) = start().await;
    let ann = Console::login(&server, "ann@shop.example").await;
    ann.send(reqwest::Method::PUT, "/v1/console/presence", json!({"site": "demo", "status": "online"})).await;
    let mut stream = ann.get("/v1/console/events").await;
    assert_eq!(stream.status(), 200);
    // A background tab whose timers are throttled: no heartbeat for minutes, the stream is open.
    clock.advance(Duration::from_secs(300));
    assert_eq!(availability_state(&server, "demo").await, "open");
    // The tab closes: the stream ends, and a minute later nobody is there.
    let _ = tokio::time::timeout(Duration::from_millis(50), stream.chunk()).await;
    drop(stream);
    let mut state = String::new();
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        clock.advance(Duration::from_millis(0));
        state = availability_state(&server, "demo").await;
        if state == "open" {
            break;
        }
    }
    assert_eq!(state, "open", "within the expiry after the stream ended");
    clock.advance(Duration::from_secs(61));
    let mut away = false;
    for _ in 0..100 {
        if availability_state(&server, "demo").await == "nobody_online" {
            away = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(away, "away once the stream is gone and the expiry passed");
}

/// Polls the site's state (the server handles a dropped stream on its own time).
async fn state_becomes(server: &TestServer, want: &str) -> bool {
    for _ in 0..100 {
        if availability_state(server, "demo").await == want {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test]
async fn a_closing_tab_says_it_leaves_and_is_away_at_once_unless_another_console_is_open() {
    let (server, _clock, _dir) = start().await;
    let ann = Console::login(&server, "ann@shop.example").await;
    ann.send(reqwest::Method::PUT, "/v1/console/presence", json!({"site": "demo", "status": "online"})).await;
    let stream = ann.get("/v1/console/events").await;
    assert_eq!(availability_state(&server, "demo").await, "open");
    // The tab closes: `pagehide` sends leave, then the stream ends. Neither keeps her "online".
    assert_eq!(ann.send(reqwest::Method::POST, "/v1/console/leave", json!({})).await.status(), 204);
    drop(stream);
    assert!(state_becomes(&server, "nobody_online").await, "away at once, not after the 60 s expiry");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(availability_state(&server, "demo").await, "nobody_online", "the stream's end is no sign of life");
    // A reload: the new page's first request brings her back.
    ann.get("/v1/console/me").await;
    assert_eq!(availability_state(&server, "demo").await, "open");
    // Two tabs: closing one leaves the other's open stream keeping her there.
    let other_tab = ann.get("/v1/console/events").await;
    assert_eq!(ann.send(reqwest::Method::POST, "/v1/console/leave", json!({})).await.status(), 204);
    assert_eq!(availability_state(&server, "demo").await, "open", "the other console is still open");
    drop(other_tab);
    assert!(state_becomes(&server, "nobody_online").await);
    // Leaving needs the same CSRF proof as any cookie write.
    let foreign = ann
        .client
        .post(format!("{}/v1/console/leave", server.base))
        .header("Cookie", &ann.cookie)
        .header("Origin", "https://evil.example")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403);
}

#[tokio::test]
async fn operators_see_only_their_sites_and_visitors_see_who_answers() {
    let (server, _clock, _dir) = start().await;
    let ann = Console::login(&server, "ann@shop.example").await;
    let bob = Console::login(&server, "bob@shop.example").await;
    let me: Value = bob.get("/v1/console/me").await.json().await.unwrap();
    assert_eq!(me["sites"], json!(["stars"]));

    let start =
        json!({"message": {"client_id": "team-msg-0001", "body": "Hello?"}, "create_key": "team-create-key-000001"});
    let created: Value = server.post_json("/v1/sites/demo/conversations", None, &start).await.json().await.unwrap();
    let id = created["conversation_id"].as_str().unwrap();
    let token = created["token"].as_str().unwrap();

    // Bob works on another site: demo's conversation does not exist for him.
    api_error(bob.get(&format!("/v1/console/conversations/{id}")).await, 404, "not_found").await;
    let reply = json!({"client_id": "bob-reply-0001", "body": "Hi from Bob"});
    api_error(
        bob.send(reqwest::Method::POST, &format!("/v1/console/conversations/{id}/messages"), reply).await,
        404,
        "not_found",
    )
    .await;
    api_error(bob.get("/v1/console/inbox?site=demo").await, 422, "validation_failed").await;
    let inbox: Value = bob.get("/v1/console/inbox").await.json().await.unwrap();
    assert_eq!(inbox["conversations"], json!([]));
    api_error(bob.get("/v1/sites/demo/callbacks").await, 404, "not_found").await;
    let presence =
        bob.send(reqwest::Method::PUT, "/v1/console/presence", json!({"site": "demo", "status": "online"})).await;
    api_error(presence, 422, "validation_failed").await;

    // Ann answers; the visitor's copy carries her name.
    let inbox: Value = ann.get("/v1/console/inbox").await.json().await.unwrap();
    assert_eq!(inbox["conversations"][0]["conversation_id"], id);
    let reply = json!({"client_id": "ann-reply-0001", "body": "Hi, Ann here"});
    assert_eq!(
        ann.send(reqwest::Method::POST, &format!("/v1/console/conversations/{id}/messages"), reply).await.status(),
        201
    );
    let list: Value = server
        .client
        .get(server.url(&format!("/v1/sites/demo/conversations/{id}/messages")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["messages"][1]["author_name"], "Ann");
    assert!(list["messages"][0].get("author_name").is_none(), "visitors' messages carry no name");
}

#[tokio::test]
async fn a_message_after_close_reopens_the_same_conversation_with_its_history() {
    let (server, _clock, _dir) = start().await;
    let ann = Console::login(&server, "ann@shop.example").await;
    let start = json!({"message": {"client_id": "reopen-msg-0001", "body": "First question"}, "create_key": "reopen-create-key-0001"});
    let created: Value = server.post_json("/v1/sites/demo/conversations", None, &start).await.json().await.unwrap();
    let id = created["conversation_id"].as_str().unwrap();
    let token = created["token"].as_str().unwrap();
    assert_eq!(
        ann.send(reqwest::Method::POST, &format!("/v1/console/conversations/{id}/close"), json!({})).await.status(),
        200
    );
    let inbox: Value = ann.get("/v1/console/inbox").await.json().await.unwrap();
    assert_eq!(inbox["conversations"], json!([]), "closed: out of the inbox");

    let later = server
        .client
        .post(server.url(&format!("/v1/sites/demo/conversations/{id}/messages")))
        .bearer_auth(token)
        .json(&json!({"client_id": "reopen-msg-0002", "body": "One more thing"}))
        .send()
        .await
        .unwrap();
    assert_eq!(later.status(), 201);
    let inbox: Value = ann.get("/v1/console/inbox").await.json().await.unwrap();
    assert_eq!(inbox["conversations"][0]["conversation_id"], id, "back in the inbox");
    let conversation: Value = ann.get(&format!("/v1/console/conversations/{id}")).await.json().await.unwrap();
    assert!(conversation["closed_ms"].is_null());
    let bodies: Vec<&str> =
        conversation["messages"].as_array().unwrap().iter().map(|m| m["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, ["First question", "One more thing"]);
    assert_eq!(server.count("SELECT COUNT(*) FROM conversations").await, 1);
}

#[test]
fn operator_sites_and_list_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    add_operator(dir.path(), "ann@shop.example", "Ann", Some("demo,stars"));
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_porchlight"))
            .env_remove("PORCHLIGHT_CONFIG")
            .env_remove("PORCHLIGHT_DB")
            .args(args)
            .arg("--db")
            .arg(dir.path().join("porchlight.db"))
            .output()
            .unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let (ok, listed) = run(&["operator", "list"]);
    assert!(ok && listed.contains("ann@shop.example\tAnn\tdemo,stars"), "{listed}");
    let (ok, _) = run(&["operator", "sites", "--email", "ann@shop.example", "--all"]);
    assert!(ok);
    let (_, listed) = run(&["operator", "list"]);
    assert!(listed.contains("ann@shop.example\tAnn\t*\t3 chats"), "{listed}");
    let (ok, said) = run(&["operator", "capacity", "--email", "ann@shop.example", "--chats", "5"]);
    assert!(ok && said.contains("5 chats at once"), "{said}");
    let (ok, _) = run(&["operator", "capacity", "--email", "ann@shop.example", "--chats", "0"]);
    assert!(!ok, "a capacity of 0 is refused");
    // An administrator whose sites change stays an administrator.
    let mut boss = Command::new(env!("CARGO_BIN_EXE_porchlight"));
    boss.env("PORCHLIGHT_OPERATOR_PASSWORD", PASSWORD).env_remove("PORCHLIGHT_CONFIG").env_remove("PORCHLIGHT_DB");
    boss.args(["operator", "add", "--email", "boss@shop.example", "--name", "Boss", "--admin", "--db"]);
    assert!(boss.arg(dir.path().join("porchlight.db")).output().unwrap().status.success());
    let (ok, _) = run(&["operator", "sites", "--email", "boss@shop.example", "--sites", "demo"]);
    assert!(ok);
    let (_, listed) = run(&["operator", "list"]);
    assert!(listed.contains("ann@shop.example\tAnn\t*\t5 chats"), "{listed}");
    assert!(listed.contains("boss@shop.example\tBoss\tdemo\t3 chats\tadmin"), "{listed}");
}

async fn my_id(c: &Console) -> String {
    c.get("/v1/console/me").await.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
}

async fn inbox(c: &Console, view: &str) -> Vec<String> {
    let v: Value = c.get(&format!("/v1/console/inbox?view={view}")).await.json().await.unwrap();
    v["conversations"].as_array().unwrap().iter().map(|i| i["conversation_id"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn new_conversations_go_to_the_least_loaded_online_operator_and_return_when_they_leave() {
    let (server, clock, dir) = start().await;
    add_operator(dir.path(), "cara@shop.example", "Cara", Some("demo"));
    let ann = Console::login(&server, "ann@shop.example").await;
    let cara = Console::login(&server, "cara@shop.example").await;
    let (ann_id, cara_id) = (my_id(&ann).await, my_id(&cara).await);
    for c in [&ann, &cara] {
        c.send(reqwest::Method::PUT, "/v1/console/presence", json!({"site": "demo", "status": "online"})).await;
    }
    let start_one = |n: u32| {
        let body = json!({"message": {"client_id": format!("assign-msg-{n:04}"), "body": "Hello?"},
                          "create_key": format!("assign-create-key-{n:06}")});
        let server = &server;
        async move {
            let v: Value = server.post_json("/v1/sites/demo/conversations", None, &body).await.json().await.unwrap();
            v["conversation_id"].as_str().unwrap().to_owned()
        }
    };
    let first = start_one(1).await;
    let second = start_one(2).await;
    // One each: the least loaded gets the next.
    let (ann_mine, cara_mine) = (inbox(&ann, "mine").await, inbox(&cara, "mine").await);
    assert_eq!(ann_mine.len() + cara_mine.len(), 2, "{ann_mine:?} {cara_mine:?}");
    assert_eq!((ann_mine.len(), cara_mine.len()), (1, 1));
    assert!(inbox(&ann, "unassigned").await.is_empty());

    // The team as the transfer list shows it: both online, one chat each, Bob (another site) absent.
    let team: Value = ann.get("/v1/console/team?site=demo").await.json().await.unwrap();
    let members: Vec<(String, bool, u64, u64)> = team["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let name = m["name"].as_str().unwrap().to_owned();
            (name, m["online"].as_bool().unwrap(), m["open"].as_u64().unwrap(), m["capacity"].as_u64().unwrap())
        })
        .collect();
    assert_eq!(members, vec![("Ann".to_owned(), true, 1, 3), ("Cara".to_owned(), true, 1, 3)]);
    assert_eq!(ann.get("/v1/console/team?site=stars").await.status(), 404, "not one of Ann's sites");
    api_error(ann.get("/v1/console/team").await, 422, "validation_failed").await;

    // Ann transfers hers to Cara; Cara claims nothing new, she has both.
    let ann_conv = ann_mine[0].clone();
    let moved = ann
        .send(
            reqwest::Method::POST,
            &format!("/v1/console/conversations/{ann_conv}/assign"),
            json!({"operator_id": cara_id}),
        )
        .await;
    assert_eq!(moved.status(), 204);
    assert_eq!(inbox(&cara, "mine").await.len(), 2);
    assert!(inbox(&ann, "mine").await.is_empty());
    let bad = ann
        .send(
            reqwest::Method::POST,
            &format!("/v1/console/conversations/{ann_conv}/assign"),
            json!({"operator_id": "op_nobody"}),
        )
        .await;
    api_error(bad, 422, "validation_failed").await;

    // Cara's laptop sleeps: within the expiry her conversations are back in Unassigned.
    for _ in 0..4 {
        clock.advance(Duration::from_secs(20));
        ann.send(reqwest::Method::POST, "/v1/console/heartbeat", json!({})).await;
    }
    let unassigned = inbox(&ann, "unassigned").await;
    assert!(unassigned.contains(&first) && unassigned.contains(&second), "{unassigned:?}");
    let team: Value = ann.get("/v1/console/team?site=demo").await.json().await.unwrap();
    assert_eq!(team["members"][0]["name"], "Ann", "online first");
    assert_eq!(team["members"][1]["online"], false, "Cara is away once her console went quiet");
    // Ann claims one.
    let claim = ann
        .send(
            reqwest::Method::POST,
            &format!("/v1/console/conversations/{first}/assign"),
            json!({"operator_id": ann_id}),
        )
        .await;
    assert_eq!(claim.status(), 204);
    assert_eq!(inbox(&ann, "mine").await, vec![first.clone()]);
}

#[tokio::test]
async fn a_site_is_busy_when_everyone_online_is_at_capacity() {
    let (server, _clock, _dir) = start().await;
    let ann = Console::login(&server, "ann@shop.example").await;
    ann.send(reqwest::Method::PUT, "/v1/console/presence", json!({"site": "demo", "status": "online"})).await;
    assert_eq!(availability_state(&server, "demo").await, "open");
    for n in 0..3 {
        let body = json!({"message": {"client_id": format!("busy-msg-{n:04}"), "body": "Hello?"}});
        assert_eq!(server.post_json("/v1/sites/demo/conversations", None, &body).await.status(), 201);
    }
    // Ann carries three chats, her capacity: visitors are told it is busy.
    assert_eq!(availability_state(&server, "demo").await, "busy");
}

#[tokio::test]
async fn admins_manage_operator_accounts_from_the_console_and_others_cannot() {
    let (server, _clock, dir) = start().await;
    let mut boss = Command::new(env!("CARGO_BIN_EXE_porchlight"));
    boss.env("PORCHLIGHT_OPERATOR_PASSWORD", PASSWORD).env_remove("PORCHLIGHT_CONFIG").env_remove("PORCHLIGHT_DB");
    boss.args(["operator", "add", "--email", "boss@shop.example", "--name", "Boss", "--admin", "--db"]);
    assert!(boss.arg(dir.path().join("porchlight.db")).output().unwrap().status.success());
    let boss = Console::login(&server, "boss@shop.example").await;
    let ann = Console::login(&server, "ann@shop.example").await;
    assert_eq!(ann.get("/v1/console/operators").await.status(), 404, "not an admin: as if it did not exist");

    let listed: Value = boss.get("/v1/console/operators").await.json().await.unwrap();
    let emails: Vec<&str> =
        listed["operators"].as_array().unwrap().iter().map(|o| o["email"].as_str().unwrap()).collect();
    assert_eq!(emails, ["ann@shop.example", "bob@shop.example", "boss@shop.example"]);
    assert_eq!(listed["operators"][0]["capacity"], 3);

    // Bad input: every field that is wrong says so, and nothing is stored.
    let post = reqwest::Method::POST;
    let bad = boss
        .send(
            post.clone(),
            "/v1/console/operators",
            json!({"email": "cara", "name": " ", "password": "short",
            "sites": ["nope"], "capacity": 0}),
        )
        .await;
    let body = api_error(bad, 422, "validation_failed").await;
    let fields: Vec<&str> = body["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    for field in ["email", "name", "password", "sites", "capacity"] {
        assert!(fields.contains(&field), "{field} in {fields:?}");
    }
    assert_eq!(ann.send(post.clone(), "/v1/console/operators", json!({})).await.status(), 404);

    let created = boss
        .send(
            post.clone(),
            "/v1/console/operators",
            json!({"email": " Cara@Shop.example", "name": "Cara Diaz",
            "password": PASSWORD, "sites": ["demo"], "capacity": 2}),
        )
        .await;
    assert_eq!(created.status(), 201);
    let cara_account: Value = created.json().await.unwrap();
    assert_eq!(
        (cara_account["email"].as_str(), cara_account["capacity"].as_u64()),
        (Some("cara@shop.example"), Some(2))
    );
    let cara_id = cara_account["id"].as_str().unwrap().to_owned();
    let again = boss
        .send(
            post.clone(),
            "/v1/console/operators",
            json!({"email": "cara@shop.example", "name": "Cara",
            "password": PASSWORD}),
        )
        .await;
    api_error(again, 409, "conflict").await;
    // She can sign in at once, and works on the demo site only.
    let cara = Console::login(&server, "cara@shop.example").await;
    let me: Value = cara.get("/v1/console/me").await.json().await.unwrap();
    assert_eq!(me["sites"], json!(["demo"]));

    // Moved to the other site with room for four chats.
    let path = format!("/v1/console/operators/{cara_id}");
    let moved =
        boss.send(reqwest::Method::PUT, &path, json!({"sites": ["stars"], "admin": false, "capacity": 4})).await;
    assert_eq!(moved.status(), 200);
    assert_eq!(moved.json::<Value>().await.unwrap()["capacity"], 4);
    assert_eq!(cara.get("/v1/console/team?site=demo").await.status(), 404, "no longer her site");
    assert_eq!(cara.get("/v1/console/team?site=stars").await.status(), 200);
    // An admin keeps their own role and account.
    let boss_id = my_id(&boss).await;
    let demote = boss
        .send(reqwest::Method::PUT, &format!("/v1/console/operators/{boss_id}"), json!({"admin": false, "capacity": 3}))
        .await;
    api_error(demote, 422, "validation_failed").await;
    let own = boss.send(reqwest::Method::DELETE, &format!("/v1/console/operators/{boss_id}"), json!({})).await;
    api_error(own, 409, "conflict").await;

    // Removed: her session ends; a second removal finds nothing.
    let removed = boss.send(reqwest::Method::DELETE, &path, json!({})).await;
    assert_eq!(removed.status(), 204);
    assert_eq!(cara.get("/v1/console/me").await.status(), 401);
    assert_eq!(boss.send(reqwest::Method::DELETE, &path, json!({})).await.status(), 404);
    // The audit log says who did what to which account, never a password.
    let audit: Value = boss.get("/v1/console/audit").await.json().await.unwrap();
    let text = audit.to_string();
    for action in ["operator.add", "operator.update", "operator.remove"] {
        assert!(text.contains(action), "{action} in {text}");
    }
    assert!(text.contains(&cara_id) && !text.contains(PASSWORD));
}
