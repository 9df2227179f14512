//! Installs what a fresh machine lacks, and skips what is already there, so `cargo xtask test`
//! works on a new machine and costs nothing extra on a warm one.

use std::process::Command;

use crate::{cargo, root, sh, Result};

/// Everything the tests need: the build tools plus Chromium, chromedriver, Firefox ESR, WebKitGTK's
/// WebDriver with a virtual display, and the e2e npm packages.
pub fn run() -> Result {
    run_for_build()?;
    if !(has("/usr/bin/chromium") && has("/usr/bin/chromedriver")) {
        apt_install(&["chromium", "chromium-driver"])?;
    }
    if !(has("/usr/bin/firefox-esr") && has("/usr/bin/WebKitWebDriver") && has("/usr/bin/xvfb-run")) {
        // The other engines' journeys (tests/e2e/engines.test.mjs): Firefox over WebDriver BiDi,
        // WebKitGTK's MiniBrowser over WebDriver on a virtual display.
        apt_install(&["firefox-esr", "webkit2gtk-driver", "xvfb"])?;
    }
    if !has("/usr/bin/python3") {
        // The end-to-end tests read the SQLite file with python3's sqlite3 module.
        apt_install(&["python3"])?;
    }
    if !python_has("aiosmtpd") {
        // A real SMTP server for the e-mail tests (started by the tests on loopback).
        apt_install(&["python3-aiosmtpd"])?;
    }
    if !python_has("prometheus_client") {
        // The Prometheus project's own parser reads `/metrics` in the server's tests.
        apt_install(&["python3-prometheus-client"])?;
    }
    npm_ci("tests/e2e")
}

/// Whether Debian's python3 can import `module` (not a pyenv one first in `PATH`: apt installs
/// into Debian's, and the tests run that one).
fn python_has(module: &str) -> bool {
    Command::new("/usr/bin/python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// What building the widget needs: the wasm target, the standard library's source,
/// wasm-bindgen-cli matching Cargo.lock, and the npm build tools (binaryen's wasm-opt, terser).
pub fn run_for_build() -> Result {
    // One listing answers both: an added target is its `rust-std-<target>` component.
    let installed = output(Command::new("rustup").args(["component", "list", "--installed"])).unwrap_or_default();
    let component_installed = |component: &str| installed.lines().any(|l| l.trim() == component);
    if !component_installed("rust-std-wasm32-unknown-unknown") {
        sh(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))?;
    }
    // The shipped WASM rebuilds the standard library for size (build.rs: SHIPPED_BUILD).
    if !component_installed("rust-src") {
        sh(Command::new("rustup").args(["component", "add", "rust-src"]))?;
    }
    let wanted = wasm_bindgen_version()?;
    let have = output(Command::new("wasm-bindgen").arg("--version")).unwrap_or_default();
    let runner = output(Command::new("wasm-bindgen-test-runner").arg("--version")).unwrap_or_default();
    if !have.contains(&wanted) || !runner.contains(&wanted) {
        // Without --locked: with it, a dependency version is missing from the registry.
        sh(cargo().args(["install", "wasm-bindgen-cli", "--version", &wanted]))?;
    }
    npm_ci("xtask/node")
}

/// The wasm-bindgen version pinned in Cargo.lock; the CLI must match it exactly.
pub fn wasm_bindgen_version() -> Result<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).map_err(|e| format!("Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\"" {
            if let Some(version) = lines.next().and_then(|l| l.strip_prefix("version = \"")) {
                return Ok(version.trim_end_matches('"').to_owned());
            }
        }
    }
    Err("wasm-bindgen is not in Cargo.lock".into())
}

fn npm_ci(dir: &str) -> Result {
    let dir_path = root().join(dir);
    let marker = dir_path.join("node_modules/.package-lock.json");
    let lock = dir_path.join("package-lock.json");
    let fresh = match (std::fs::metadata(&marker), std::fs::metadata(&lock)) {
        (Ok(m), Ok(l)) => m.modified().ok() >= l.modified().ok(),
        _ => false,
    };
    if fresh {
        return Ok(());
    }
    sh(Command::new("npm").args(["ci", "--no-audit", "--no-fund", "--prefix"]).arg(&dir_path))
}

fn apt_install(packages: &[&str]) -> Result {
    let root_user = output(Command::new("id").arg("-u")).map(|s| s.trim() == "0").unwrap_or(false);
    let mut prefix: Vec<&str> = Vec::new();
    if !root_user {
        prefix.push("sudo");
    }
    let mut update = Command::new(prefix.first().copied().unwrap_or("apt-get"));
    if !root_user {
        update.arg("apt-get");
    }
    update.args(["update", "-qq"]);
    sh(&mut update)?;
    let mut install = Command::new(prefix.first().copied().unwrap_or("apt-get"));
    if !root_user {
        install.arg("apt-get");
    }
    install.args(["install", "-y", "-qq"]).args(packages).env("DEBIAN_FRONTEND", "noninteractive");
    sh(&mut install)
}

fn has(path: &str) -> bool {
    std::path::Path::new(path).exists()
}

fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}
