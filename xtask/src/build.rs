//! Builds what the widget host serves into `target/dist`:
//!
//! ```text
//! target/dist/porchlight.js            the loader (minified), + .br / .gz
//! target/dist/frame.html               the frame document (index.html with hashed URLs)
//! target/dist/assets/*-<hash>.{js,wasm,css}   immutable, fingerprinted, + .br / .gz
//! target/dist/console/console.html   the operator console document (served at /console)
//! target/dist/console/*-<hash>.{js,wasm,css}  its fingerprinted files, + .br / .gz
//! target/dist/size-report.json
//! ```

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::size::{self, Budget};
use crate::{cargo, root, sh, Result};

const WASM_TARGET: &str = "wasm32-unknown-unknown";
const PROFILE: &str = "wasm-release";
const CRATE: &str = "porchlight_widget";

/// The features rustc enables by default for wasm32 today; wasm-opt must accept them.
const WASM_FEATURES: &[&str] = &[
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-reference-types",
    "--enable-multivalue",
];

pub fn dist() -> PathBuf {
    root().join("target/dist")
}

pub fn run() -> Result {
    let root = root();
    let dist = dist();
    let _ = fs::remove_dir_all(&dist);
    fs::create_dir_all(dist.join("assets")).map_err(io("create target/dist"))?;

    // 1. The widget as a cdylib with LTO (crate-type stays rlib in Cargo.toml: see there why).
    sh(cargo().args([
        "rustc", "-p", "porchlight-widget", "--profile", PROFILE, "--target", WASM_TARGET, "--lib", "--crate-type", "cdylib",
    ]))?;
    let raw_wasm = root.join(format!("target/{WASM_TARGET}/{PROFILE}/{CRATE}.wasm"));

    // 2. JS bindings.
    let bindgen_dir = root.join("target/wasm-bindgen");
    let _ = fs::remove_dir_all(&bindgen_dir);
    sh(Command::new("wasm-bindgen")
        .args(["--target", "web", "--no-typescript", "--out-dir"])
        .arg(&bindgen_dir)
        .arg(&raw_wasm))?;

    // 3. Size optimisation with binaryen from npm (Debian's binaryen 108 emits WASM that
    //    Chromium rejects at run time).
    let opt_wasm = bindgen_dir.join("opt.wasm");
    sh(Command::new(root.join("xtask/node/node_modules/.bin/wasm-opt"))
        .arg("-Oz")
        .args(WASM_FEATURES)
        .args(["--strip-debug", "--strip-producers", "--strip-target-features"])
        .arg(bindgen_dir.join(format!("{CRATE}_bg.wasm")))
        .arg("-o")
        .arg(&opt_wasm))?;

    // 4. Fingerprint: the wasm first, then the glue that names it, then the CSS.
    let wasm_bytes = fs::read(&opt_wasm).map_err(io("read optimised wasm"))?;
    let wasm_name = fingerprinted(CRATE, "wasm", &wasm_bytes);
    write(&dist.join("assets").join(&wasm_name), &wasm_bytes)?;

    let glue = fs::read_to_string(bindgen_dir.join(format!("{CRATE}.js"))).map_err(io("read glue"))?;
    // The glue exports its init; calling it here saves the frame an inline bootstrap script
    // (which its CSP forbids) and a request.
    let glue = format!("{glue}\n__wbg_init({{ module_or_path: new URL('{wasm_name}', import.meta.url) }});\n");
    let glue_name = fingerprinted(CRATE, "js", glue.as_bytes());
    write(&dist.join("assets").join(&glue_name), glue.as_bytes())?;

    let css = minify_css(&fs::read_to_string(root.join("style/widget.css")).map_err(io("read style/widget.css"))?);
    let css_name = fingerprinted("widget", "css", css.as_bytes());
    write(&dist.join("assets").join(&css_name), css.as_bytes())?;

    // 5. The frame document, pointing at the fingerprinted files; the wasm is preloaded so it
    //    downloads while the glue is parsed.
    let index = fs::read_to_string(root.join("index.html")).map_err(io("read index.html"))?;
    let mut frame = replace_once(&index, "href=\"style/widget.css\"", &format!("href=\"/assets/{css_name}\""))?;
    frame = replace_once(
        &frame,
        "<script type=\"module\" src=\"porchlight_widget.js\"></script>",
        &format!(
            "<link rel=\"preload\" href=\"/assets/{wasm_name}\" as=\"fetch\" type=\"application/wasm\" crossorigin>\n    <script type=\"module\" src=\"/assets/{glue_name}\"></script>"
        ),
    )?;
    write(&dist.join("frame.html"), frame.as_bytes())?;

    // 6. The loader, minified (the source stays readable and commented).
    sh(Command::new("node")
        .arg(root.join("xtask/node/node_modules/terser/bin/terser"))
        .arg(root.join("loader/porchlight.js"))
        .args(["--compress", "passes=2", "--mangle", "--comments", "false", "--ecma", "2017", "-o"])
        .arg(dist.join("porchlight.js")))?;

    // 7. The operator console, built the same way into `target/dist/console/`.
    let console_files = console(&root, &dist)?;

    // 8. Precompressed copies and the size report, with budgets that fail the build.
    let loader = vec![dist.join("porchlight.js")];
    let frame_files = vec![
        dist.join("frame.html"),
        dist.join("assets").join(&glue_name),
        dist.join("assets").join(&wasm_name),
        dist.join("assets").join(&css_name),
    ];
    for file in loader.iter().chain(&frame_files).chain(&console_files) {
        size::precompress(file)?;
    }
    size::report(
        &dist,
        &[
            Budget { name: "loader (porchlight.js)", files: loader, max_brotli: 2 * 1024 },
            Budget {
                name: "frame payload (html+js+wasm+css)",
                files: frame_files,
                // The foundation shipped at 118 KB against a 120 KB goal; wait times, the
                // outbox, rating changes, callback slots and follow-up took it to ~148 KB. The
                // budget sits just above that so any further growth fails the build, until the
                // panel is split (see README, Size) and the 120 KB goal is restored.
                max_brotli: 150 * 1024,
            },
            // Operators load it once per shift: a generous ceiling, not a target.
            Budget { name: "console payload (html+js+wasm+css)", files: console_files, max_brotli: 400 * 1024 },
        ],
    )
}

const CONSOLE_CRATE: &str = "porchlight_console";

/// The operator console (`crates/console`): the same wasm pipeline as the widget, fingerprinted
/// into `target/dist/console/` with `console.html`, which the server serves at `/console` (its
/// assets at `/console/<name>`). Returns the files for precompression and the size report.
fn console(root: &Path, dist: &Path) -> Result<Vec<PathBuf>> {
    let out = dist.join("console");
    fs::create_dir_all(&out).map_err(io("create target/dist/console"))?;
    sh(cargo().args([
        "rustc", "-p", "porchlight-console", "--profile", PROFILE, "--target", WASM_TARGET, "--lib", "--crate-type", "cdylib",
    ]))?;
    let raw_wasm = root.join(format!("target/{WASM_TARGET}/{PROFILE}/{CONSOLE_CRATE}.wasm"));
    let bindgen_dir = root.join("target/wasm-bindgen-console");
    let _ = fs::remove_dir_all(&bindgen_dir);
    sh(Command::new("wasm-bindgen")
        .args(["--target", "web", "--no-typescript", "--out-dir"])
        .arg(&bindgen_dir)
        .arg(&raw_wasm))?;
    let opt_wasm = bindgen_dir.join("opt.wasm");
    sh(Command::new(root.join("xtask/node/node_modules/.bin/wasm-opt"))
        .arg("-Oz")
        .args(WASM_FEATURES)
        .args(["--strip-debug", "--strip-producers", "--strip-target-features"])
        .arg(bindgen_dir.join(format!("{CONSOLE_CRATE}_bg.wasm")))
        .arg("-o")
        .arg(&opt_wasm))?;

    let wasm_bytes = fs::read(&opt_wasm).map_err(io("read optimised console wasm"))?;
    let wasm_name = fingerprinted(CONSOLE_CRATE, "wasm", &wasm_bytes);
    write(&out.join(&wasm_name), &wasm_bytes)?;
    let glue = fs::read_to_string(bindgen_dir.join(format!("{CONSOLE_CRATE}.js"))).map_err(io("read console glue"))?;
    let glue = format!("{glue}\n__wbg_init({{ module_or_path: new URL('{wasm_name}', import.meta.url) }});\n");
    let glue_name = fingerprinted(CONSOLE_CRATE, "js", glue.as_bytes());
    write(&out.join(&glue_name), glue.as_bytes())?;
    let css_path = root.join("crates/console/style/console.css");
    let css = minify_css(&fs::read_to_string(&css_path).map_err(io("read crates/console/style/console.css"))?);
    let css_name = fingerprinted("console", "css", css.as_bytes());
    write(&out.join(&css_name), css.as_bytes())?;

    let index = fs::read_to_string(root.join("crates/console/index.html")).map_err(io("read crates/console/index.html"))?;
    let mut html = replace_once(&index, "href=\"style/console.css\"", &format!("href=\"/console/{css_name}\""))?;
    html = replace_once(
        &html,
        "<script type=\"module\" src=\"porchlight_console.js\"></script>",
        &format!(
            "<link rel=\"preload\" href=\"/console/{wasm_name}\" as=\"fetch\" type=\"application/wasm\" crossorigin>\n    <script type=\"module\" src=\"/console/{glue_name}\"></script>"
        ),
    )?;
    write(&out.join("console.html"), html.as_bytes())?;
    Ok(vec![out.join("console.html"), out.join(&glue_name), out.join(&wasm_name), out.join(&css_name)])
}

fn fingerprinted(stem: &str, ext: &str, bytes: &[u8]) -> String {
    format!("{stem}-{:016x}.{ext}", fnv1a(bytes))
}

/// FNV-1a 64: enough to tell releases apart, no dependency needed.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// Drops comments and indentation. Safe for our stylesheet, which has no strings whose
/// whitespace matters.
fn minify_css(css: &str) -> String {
    let mut out = String::with_capacity(css.len());
    let mut rest = css;
    while let Some(start) = rest.find("/*") {
        out.push_str(&rest[..start]);
        rest = rest[start + 2..].find("*/").map_or("", |end| &rest[start + 2 + end + 2..]);
    }
    out.push_str(rest);
    out.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("\n")
}

fn replace_once(haystack: &str, needle: &str, with: &str) -> Result<String> {
    match haystack.matches(needle).count() {
        1 => Ok(haystack.replacen(needle, with, 1)),
        n => Err(format!("index.html must contain `{needle}` exactly once (found {n})")),
    }
}

fn write(path: &Path, bytes: &[u8]) -> Result {
    fs::write(path, bytes).map_err(io(&format!("write {}", path.display())))
}

pub fn io(what: &str) -> impl Fn(std::io::Error) -> String + '_ {
    move |e| format!("{what}: {e}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn css_minifier_keeps_rules() {
        let css = "/* c */\n.a {\n  color: red; /* x */\n}\n\n.b{}";
        assert_eq!(minify_css(css), ".a {\ncolor: red;\n}\n.b{}");
    }

    #[test]
    fn fingerprints_change_with_content() {
        assert_ne!(fingerprinted("a", "js", b"1"), fingerprinted("a", "js", b"2"));
        assert_eq!(fingerprinted("a", "js", b"1"), fingerprinted("a", "js", b"1"));
    }
}
