//! The project's single entry point for building, running and testing (cargo-xtask convention).
//!
//! cargo xtask run     build the widget, start the server with the demo site on SQLite
//! cargo xtask test    install what is missing, then run every test layer
//! cargo xtask build   build the widget into target/dist and print the size report
//! cargo xtask setup   only the install step
//! cargo xtask layers  the server's imports point down only (also a lint in `test`)
//! cargo xtask bench-host   what the widget costs a host page (a benchmark, not a test)

mod build;
mod dead_streams;
mod layers;
mod setup;
mod size;
mod tests;
mod wasm_names;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("setup") => setup::run(),
        Some("build") => setup::run().and_then(|()| build::run()),
        Some("run") => run_server(&args[1..]),
        Some("test") => tests::run(),
        Some("layers") => layers::run(),
        Some("bench-host") => bench_host(&args[1..]),
        _ => {
            eprintln!(
                "usage: cargo xtask <command>\n\n  run     build the widget and start the server with a demo site (extra args go to `porchlight serve`)\n  test    install missing tools and run every test\n  build   build the widget into target/dist and print sizes\n  setup   install missing tools only\n  layers  check that the server's imports point down only\n  bench-host   the host page's cost, side by side with feedback-js (extra args go to tests/e2e/bench/host.mjs)"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

pub type Result<T = ()> = std::result::Result<T, String>;

/// The workspace root (xtask lives one level below it).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask is inside the workspace").to_path_buf()
}

/// Runs a command from the workspace root, echoing it, failing on a non-zero exit.
pub fn sh(cmd: &mut Command) -> Result {
    run(cmd, Stdio::inherit()).map(drop)
}

/// [`sh`], returning what the command printed on stdout (stderr still goes to the terminal).
pub fn sh_stdout(cmd: &mut Command) -> Result<String> {
    run(cmd, Stdio::piped())
}

/// Runs `cmd` from the workspace root with its stdout sent to `stdout`, and returns what was
/// captured (nothing unless piped).
fn run(cmd: &mut Command, stdout: Stdio) -> Result<String> {
    eprintln!("$ {}", describe(cmd));
    let output = cmd
        .current_dir(root())
        .stdout(stdout)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot start {}: {e}", describe(cmd)))?;
    if !output.status.success() {
        return Err(format!("`{}` failed with {}", describe(cmd), output.status));
    }
    String::from_utf8(output.stdout).map_err(|e| format!("`{}` printed non-UTF-8: {e}", describe(cmd)))
}

pub fn describe(cmd: &Command) -> String {
    std::iter::once(cmd.get_program().to_string_lossy().into_owned())
        .chain(cmd.get_args().map(|a| a.to_string_lossy().into_owned()))
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// Builds the widget and the server, fetches the lightest peer widget from npm (once), and runs
/// the host-cost benchmark: a table on stdout, JSON in target/bench/host.json. Extra arguments
/// go to the script, e.g. `--runs 3` or `--variant before=/path/to/an/older/dist`.
fn bench_host(extra: &[String]) -> Result {
    setup::run()?;
    build::run()?;
    sh(cargo().args(["build", "-p", "porchlight-server"]))?;
    let bench = root().join("target/bench");
    std::fs::create_dir_all(&bench).map_err(|e| format!("{}: {e}", bench.display()))?;
    if !bench.join("package/dist/feedback-js.min.js").exists() {
        sh(Command::new("npm").args(["pack", "--silent", "@betahuhn/feedback-js@2.1.25"]).current_dir(&bench))?;
        sh(Command::new("tar").args(["xzf", "betahuhn-feedback-js-2.1.25.tgz"]).current_dir(&bench))?;
    }
    let dist = root().join("target/dist");
    sh(Command::new("node")
        .arg(root().join("tests/e2e/bench/host.mjs"))
        .arg("--variant")
        .arg(format!("porchlight={}", dist.display()))
        .args(extra)
        .current_dir(root().join("tests/e2e")))
}

fn run_server(extra: &[String]) -> Result {
    setup::run_for_build()?;
    build::run()?;
    sh(cargo().args(["build", "-p", "porchlight-server"]))?;
    let bin = root().join("target/debug/porchlight");
    let mut cmd = Command::new(bin);
    cmd.arg("serve").arg("--assets").arg(root().join("target/dist")).args(extra);
    // Hand the terminal to the server; Ctrl-C stops it gracefully.
    sh(&mut cmd)
}
