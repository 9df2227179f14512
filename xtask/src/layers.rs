//! `cargo xtask layers`: the server's imports point down only.
//!
//! The server crate is four layers, one folder each: `domain` (types and rules, no HTTP, no
//! SQL) < `store` (the database) < `app` (the use cases) < `http` (the edge); `lib.rs` and
//! `main.rs` sit on top and wire them. A file may name (`crate::…`, in code or in a doc link)
//! only its own layer or one below. Inside `http/routes/`, a route module may not name another
//! route module or the router (`routes/mod.rs`) that imports them all: what two routes share
//! lives in `http/` beside them. Together these rule out every import circle across layers and
//! between routes. HTTP crates (axum, hyper, tower) appear only in `http`, SQL (sqlx) only from
//! `store` up. The check reads the source text, so it needs no build.

use std::path::{Path, PathBuf};

const LAYERS: [&str; 4] = ["domain", "store", "app", "http"];
const ROOT: usize = LAYERS.len();

/// Outside crates that belong to one layer and up: HTTP to `http`, SQL to `store`.
const FOREIGN: &[(&str, usize)] = &[("axum", 3), ("hyper", 3), ("tower", 3), ("sqlx", 1)];

/// `krate::` or `use krate` on a line, as a path and not inside a longer name.
fn mentions_crate(line: &str, krate: &str) -> bool {
    line.match_indices(krate).any(|(at, _)| {
        let before = line[..at].chars().next_back();
        let after = &line[at + krate.len()..];
        !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            && (after.starts_with("::") || after.starts_with(';'))
    })
}

/// Layer index of a source file, by its path relative to `src/` (`/`-separated).
fn layer_of_file(relative: &str) -> usize {
    let first = relative.split('/').next().unwrap_or("");
    let module = first.strip_suffix(".rs").unwrap_or(first);
    LAYERS.iter().position(|l| *l == module).unwrap_or(ROOT)
}

/// The route module a file is, if it is one (`http/routes/chat.rs` → `chat`), not the router.
fn route_of_file(relative: &str) -> Option<&str> {
    let name = relative.strip_prefix("http/routes/")?.strip_suffix(".rs")?;
    (name != "mod" && !name.contains('/')).then_some(name)
}

/// Every rule the file `relative` with contents `text` breaks, one line each.
pub fn violations(relative: &str, text: &str) -> Vec<String> {
    let own = layer_of_file(relative);
    let route = route_of_file(relative);
    let mut found = Vec::new();
    for (number, line) in text.lines().enumerate() {
        // A route file's unit tests (`mod tests { use super::*; … }`) may reach anything.
        if route.is_some() && line.trim_start().starts_with("#[cfg(test)]") {
            break;
        }
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            let preceded_by_ident =
                rest[..at].chars().next_back().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
            let path: String =
                rest[at + 7..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':').collect();
            rest = &rest[at + 7..];
            if preceded_by_ident {
                continue; // `porchlight_crate::…` and the like
            }
            let first = path.split("::").next().unwrap_or("");
            match LAYERS.iter().position(|l| *l == first) {
                Some(target) if target > own => {
                    found.push(format!(
                        "{relative}:{}: the {} layer names crate::{path} (the {} layer above it)",
                        number + 1,
                        LAYERS[own],
                        LAYERS[target]
                    ));
                }
                Some(_) => {}
                // `crate::AppState` and the like: the root's re-exports would hide an upward import.
                None if own < ROOT && !first.is_empty() => found.push(format!(
                    "{relative}:{}: the {} layer names crate::{path} at the crate root; name its layer",
                    number + 1,
                    LAYERS[own]
                )),
                None => {}
            }
            if route.is_some() && path.starts_with("http::routes") {
                found.push(format!(
                    "{relative}:{}: a route names crate::{path}; move what routes share into http/",
                    number + 1
                ));
            }
        }
        for (krate, lowest_allowed) in FOREIGN {
            if own < *lowest_allowed && mentions_crate(line, krate) {
                found.push(format!(
                    "{relative}:{}: the {} layer uses {krate}, which belongs to the {} layer",
                    number + 1,
                    LAYERS[own],
                    LAYERS[*lowest_allowed]
                ));
            }
        }
        if route.is_some() && line.contains("super::") {
            found.push(format!("{relative}:{}: a route names the router (super::)", number + 1));
        }
    }
    found
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) -> crate::Result {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_dir() {
            rust_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

/// Checks every file of the server crate; the error lists each violation.
pub fn run() -> crate::Result {
    let src = crate::root().join("crates/server/src");
    let mut files = Vec::new();
    rust_files(&src, &mut files)?;
    files.sort();
    let mut all = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).expect("under src").to_string_lossy().replace('\\', "/");
        let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        all.extend(violations(&relative, &text));
    }
    if all.is_empty() {
        eprintln!("layers: {} files of crates/server/src, every import points down", files.len());
        Ok(())
    } else {
        Err(format!("{} import(s) point up or across routes:\n{}", all.len(), all.join("\n")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lower_layer_naming_a_higher_one_is_reported_with_its_line() {
        let found = violations("domain/ratings.rs", "use crate::domain::hours;\nuse crate::app::error::AppError;\n");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("domain/ratings.rs:2: the domain layer names crate::app::error::AppError"));
        assert_eq!(violations("store/email.rs", "/// See [`crate::http::routes::app`].").len(), 1);
        assert_eq!(violations("app/metrics.rs", "use crate::AppState;").len(), 1, "root re-exports hide the layer");
    }

    #[test]
    fn downward_and_same_layer_imports_pass() {
        assert!(
            violations("http/routes/chat.rs", "use crate::app::state::AppState;\nuse crate::domain::Site;").is_empty()
        );
        assert!(violations("app/ledger.rs", "use crate::app::email;\nuse crate::store::promises;").is_empty());
        assert!(violations("lib.rs", "use crate::http::routes::app;").is_empty());
        assert!(violations("domain.rs", "use porchlight_crate::app::x;").is_empty());
    }

    #[test]
    fn http_and_sql_crates_stay_in_their_layers() {
        assert_eq!(violations("app/metrics.rs", "use axum::middleware::Next;").len(), 1);
        assert_eq!(violations("domain/hours.rs", "fn f(e: sqlx::Error) {}").len(), 1);
        assert!(violations("store/email.rs", "use sqlx::Row;").is_empty());
        assert!(violations("app/error.rs", "Database(#[from] sqlx::Error),").is_empty());
        assert!(violations("domain.rs", "// the tower of babel; my_axum::x").is_empty());
    }

    #[test]
    fn routes_may_not_name_each_other_or_the_router() {
        assert_eq!(violations("http/routes/ratings.rs", "use crate::http::routes::api::respond;").len(), 1);
        assert_eq!(violations("http/routes/ratings.rs", "use super::no_store;").len(), 1);
        assert!(violations("http/routes/mod.rs", "use crate::http::routes::api;").is_empty());
        assert!(violations("http/routes/ratings.rs", "use crate::http::extract::Bearer;\n#[cfg(test)]\nuse super::*;")
            .is_empty());
    }
}
