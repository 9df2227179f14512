//! The `porchlight` binary: help text, start-up output, config errors and graceful shutdown.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn porchlight() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_porchlight"));
    for var in [
        "PORCHLIGHT_CONFIG",
        "PORCHLIGHT_LISTEN",
        "PORCHLIGHT_DB",
        "PORCHLIGHT_ASSETS",
        "PORCHLIGHT_PUBLIC_URL",
        "PORCHLIGHT_OPERATOR_TOKEN",
        "PORCHLIGHT_FAKE_NOW",
    ] {
        command.env_remove(var);
    }
    command
}

#[test]
fn help_explains_every_option_and_its_environment_variable() {
    let output = porchlight().arg("--help").output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for needle in [
        "serve",
        "--config",
        "PORCHLIGHT_CONFIG",
        "--listen",
        "PORCHLIGHT_LISTEN",
        "127.0.0.1:8080",
        "--db",
        "PORCHLIGHT_DB",
        "porchlight.db",
        "--assets",
        "PORCHLIGHT_ASSETS",
        "target/dist",
        "--public-url",
        "PORCHLIGHT_PUBLIC_URL",
        "--operator-token",
        "PORCHLIGHT_OPERATOR_TOKEN",
    ] {
        assert!(help.contains(needle), "--help lacks {needle}:\n{help}");
    }
    // The testing-only clock option stays out of the help people read.
    assert!(!help.contains("fake-now"), "{help}");
}

#[test]
fn invalid_config_fails_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bad.toml");
    std::fs::write(
        &config,
        "[[sites]]\nid = \"Not Valid\"\nname = \"x\"\norigins = [\"http://a.example\"]\ntimezone = \"UTC\"\n",
    )
    .unwrap();
    let output = porchlight().args(["serve", "--listen", "127.0.0.1:0", "--config"]).arg(&config).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("site id \"Not Valid\""), "{stderr}");
}

#[cfg(unix)]
#[tokio::test]
async fn serve_prints_the_banner_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = porchlight()
        .args(["serve", "--listen", "127.0.0.1:0", "--assets"])
        .arg(dir.path().join("dist"))
        .env("PORCHLIGHT_DB", dir.path().join("cli.db"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let base = first.strip_prefix("listening on ").expect("first line names the address").to_owned();
    let port = base.rsplit(':').next().unwrap().to_owned();
    assert_eq!(lines.next().unwrap().unwrap(), "Porchlight is running.");
    assert_eq!(lines.next().unwrap().unwrap(), format!("  Demo page:  http://localhost:{port}/demo"));
    assert_eq!(
        lines.next().unwrap().unwrap(),
        format!(
            r#"  Paste this: <script src="http://127.0.0.1:{port}/porchlight.js" data-site="demo" async></script>"#
        )
    );

    let health = reqwest::get(format!("{base}/healthz")).await.unwrap();
    assert_eq!(health.text().await.unwrap(), "ok");
    assert!(dir.path().join("cli.db").exists(), "the database is created on first run");

    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let status = tokio::task::spawn_blocking(move || child.wait()).await.unwrap().unwrap();
    assert!(status.success(), "graceful shutdown exits 0, got {status}");
}

#[test]
fn invalid_fake_now_fails_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let output = porchlight()
        .args(["serve", "--listen", "127.0.0.1:0", "--fake-now", "next tuesday"])
        .env("PORCHLIGHT_DB", dir.path().join("cli.db"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("--fake-now \"next tuesday\" is not an RFC 3339 instant"), "{stderr}");
}

#[cfg(unix)]
#[tokio::test]
async fn fake_now_starts_the_servers_clock_at_the_given_instant() {
    let dir = tempfile::tempdir().unwrap();
    // Saturday noon in Riga: the built-in demo site is closed until Monday 09:00.
    let mut child = porchlight()
        .args(["serve", "--listen", "127.0.0.1:0", "--assets"])
        .arg(dir.path().join("dist"))
        .env("PORCHLIGHT_DB", dir.path().join("cli.db"))
        .env("PORCHLIGHT_FAKE_NOW", "2026-03-14T12:00:00+02:00")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let base = first.strip_prefix("listening on ").unwrap().to_owned();
    let body: serde_json::Value =
        reqwest::get(format!("{base}/v1/sites/demo/availability")).await.unwrap().json().await.unwrap();
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let _ = tokio::task::spawn_blocking(move || child.wait()).await;

    assert_eq!(body["state"], "closed", "{body}");
    assert_eq!(body["now_ms"], 1_773_482_400_000_i64, "Saturday 10:00 UTC, to the minute");
    assert_eq!(body["next_open_ms"], 1_773_644_400_000_i64, "Monday 09:00 in Riga is 07:00 UTC");
}

#[tokio::test]
async fn log_format_json_writes_one_json_object_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = porchlight()
        .args(["--log-format", "json", "serve", "--listen", "127.0.0.1:0", "--assets"])
        .arg(dir.path().join("dist"))
        .env("PORCHLIGHT_DB", dir.path().join("cli.db"))
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base = lines.next().unwrap().unwrap().strip_prefix("listening on ").unwrap().to_owned();
    // Serving (so the signal handler is in place) before the signal.
    assert_eq!(reqwest::get(format!("{base}/healthz")).await.unwrap().status(), 200);
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output()).await.unwrap().unwrap();
    assert!(out.status.success());
    let logs = String::from_utf8(out.stderr).unwrap();
    let events: Vec<serde_json::Value> =
        logs.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect();
    assert!(events.iter().any(|e| e["message"] == "stopped" && e["level"] == "INFO"), "{logs}");
    // Once at start: the demo site's greeting is translated into Latvian and Arabic only.
    let fallbacks: Vec<&serde_json::Value> =
        events.iter().filter(|e| e["message"].as_str().is_some_and(|m| m.starts_with("no [sites.texts"))).collect();
    assert_eq!(fallbacks.len(), 1, "{logs}");
    assert_eq!((fallbacks[0]["site"].as_str(), fallbacks[0]["text"].as_str()), (Some("demo"), Some("greeting")));
    let languages: Vec<&str> = fallbacks[0]["languages"].as_str().unwrap().split(',').collect();
    assert!(
        languages.contains(&"th")
            && languages.contains(&"el")
            && !languages.contains(&"lv")
            && !languages.contains(&"ar")
    );
}
