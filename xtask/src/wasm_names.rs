//! Short names across the WASM ↔ JS boundary, and no bindings for code the app never calls.
//!
//! wasm-bindgen names each import after its Rust path plus a 16-digit hash
//! (`__wbg_set_textContent_0177b2a6d9293c2c`) and each closure export after its full type
//! (`wasm_bindgen_…___convert__closures_____invoke___…`, up to 300 characters), and every one of
//! those names is written twice: in the WASM's import and export sections and in the glue. The
//! hashes are random digits, which brotli cannot compress. binaryen's
//! `--minify-imports-and-exports-and-modules` renames them all (`a`, `b`, … `$a`) and prints the
//! mapping; [`rename_in_glue`] applies that mapping to the glue. Measured on the widget: WASM
//! 122.9 → 120.7 KB and glue 6.0 → 3.8 KB brotli.
//!
//! Leptos links `server_fn`, which links `wasm-streams`, whose `#[wasm_bindgen]` classes
//! (`IntoUnderlyingSource` and friends: Rust streams handed to JS) are exported whether or not
//! anything uses them. A CSR app without server functions never does: the build removes those
//! exports from the WASM ([`UNUSED_EXPORTS`], so wasm-opt drops the code behind them) and their
//! classes from the glue ([`drop_classes`]).

use std::collections::HashMap;

use crate::Result;

/// The module name binaryen gives every import once modules are minified.
const MINIFIED_MODULE: &str = "a";

/// A `wasm-opt --remove-exports` wildcard for the exports of [`UNUSED_CLASSES`].
pub const UNUSED_EXPORTS: &str = "*intounderlying*";

/// wasm-streams' exported classes (see the module comment).
const UNUSED_CLASSES: &[&str] = &["IntoUnderlyingByteSource", "IntoUnderlyingSink", "IntoUnderlyingSource"];

/// binaryen's mapping: `{"imports": [[module, old, new], …], "exports": [[old, new], …]}`.
struct Mapping {
    imports: HashMap<String, String>,
    exports: HashMap<String, String>,
}

impl Mapping {
    fn parse(json: &str) -> Result<Self> {
        let value: serde_json::Value =
            serde_json::from_str(json).map_err(|e| format!("wasm-opt's name mapping is not JSON: {e}"))?;
        let pairs = |key: &str, old: usize, new: usize| -> Result<HashMap<String, String>> {
            let rows = value[key].as_array().ok_or_else(|| format!("wasm-opt's name mapping has no `{key}` list"))?;
            rows.iter()
                .map(|row| match (row[old].as_str(), row[new].as_str()) {
                    (Some(old), Some(new)) => Ok((old.to_owned(), new.to_owned())),
                    _ => Err(format!("wasm-opt's name mapping has a malformed `{key}` row: {row}")),
                })
                .collect()
        };
        Ok(Mapping { imports: pairs("imports", 1, 2)?, exports: pairs("exports", 0, 1)? })
    }
}

/// wasm-bindgen's glue (`--target web`, unminified) made to match the WASM wasm-opt wrote:
/// without [`UNUSED_CLASSES`], without its own exports ([`unexport`]), and with the names of
/// binaryen's `mapping` (its printed JSON). `lib` is the library's file stem.
pub fn rewrite_glue(glue: &str, mapping: &str, lib: &str) -> Result<String> {
    let glue = unexport(&drop_classes(glue, UNUSED_CLASSES)?)?;
    rename_in_glue(&glue, &Mapping::parse(mapping)?, &format!("./{lib}_bg.js"))
}

/// Renames in wasm-bindgen's glue (`--target web`, unminified) what the mapping renamed in the
/// WASM: the import object's module key and function keys, and every `wasm.<export>` use. Fails
/// when the glue and the mapping disagree, so a wasm-bindgen upgrade that changes the glue's
/// shape stops the build instead of shipping a frame that cannot link.
fn rename_in_glue(glue: &str, mapping: &Mapping, original_module: &str) -> Result<String> {
    let module_key = format!("\"{original_module}\": import0");
    if glue.matches(&module_key).count() != 1 {
        return Err(format!("the glue should name its import module once as `{module_key}`"));
    }
    let glue = glue.replacen(&module_key, &format!("\"{MINIFIED_MODULE}\": import0"), 1);

    // Imports: each is one `name: function(` key of the import object, up to the next line that
    // starts with `}` at its indentation (`},` or `}, arguments); },`). One the WASM no longer
    // imports (wasm-opt dropped the only code calling it: see dead_streams) goes, or its name,
    // with a random hash brotli cannot compress, would stay.
    let mut renamed_imports = 0;
    let mut out = String::with_capacity(glue.len());
    let mut dropping_until: Option<String> = None;
    for line in glue.split_inclusive('\n') {
        if let Some(end) = &dropping_until {
            if line.starts_with(end.as_str()) {
                dropping_until = None;
            }
            continue;
        }
        let body = line.trim_start();
        let indent = &line[..line.len() - body.len()];
        let key = body.split_once(": function(").map(|(key, _)| key).filter(|key| is_bindgen_import(key));
        match key.map(|key| (key, mapping.imports.get(key))) {
            Some((key, Some(new))) => {
                out.push_str(indent);
                out.push_str(new);
                out.push_str(&body[key.len()..]);
                renamed_imports += 1;
            }
            Some((_, None)) if !body.trim_end().ends_with("},") => dropping_until = Some(format!("{indent}}}")),
            Some((_, None)) => {}
            None => out.push_str(line),
        }
    }
    if dropping_until.is_some() {
        return Err("the glue's import object ends inside an import".into());
    }
    if renamed_imports != mapping.imports.len() {
        return Err(format!("the glue defines {renamed_imports} of the WASM's {} imports", mapping.imports.len()));
    }

    // Exports: every `wasm.<name>` (the glue's handle on the instance's exports).
    let mut result = String::with_capacity(out.len());
    let mut rest = out.as_str();
    while let Some(at) = rest.find("wasm.") {
        let before = rest[..at].chars().next_back();
        result.push_str(&rest[..at + "wasm.".len()]);
        rest = &rest[at + "wasm.".len()..];
        if before.is_some_and(is_identifier_char) {
            continue; // `xwasm.`: another identifier
        }
        let name_len = rest.find(|c: char| !is_identifier_char(c)).unwrap_or(rest.len());
        let name = &rest[..name_len];
        if name.is_empty() {
            continue;
        }
        let new = mapping
            .exports
            .get(name)
            .ok_or_else(|| format!("the glue uses `wasm.{name}`, which the WASM does not export"))?;
        result.push_str(new);
        rest = &rest[name_len..];
    }
    result.push_str(rest);
    Ok(result)
}

/// A key wasm-bindgen gives an import in its import object.
fn is_bindgen_import(key: &str) -> bool {
    (key.starts_with("__wbg_") || key.starts_with("__wbindgen_")) && key.chars().all(is_identifier_char)
}

fn is_identifier_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '$'
}

/// Removes an exported class from the glue: `export class Name { … }`, the `Symbol.dispose`
/// line after it, and its `NameFinalization` registry. Fails when the class is not there.
fn drop_classes(glue: &str, classes: &[&str]) -> Result<String> {
    let mut glue = glue.to_owned();
    for class in classes {
        let start = format!("export class {class} {{\n");
        let end = format!("if (Symbol.dispose) {class}.prototype[Symbol.dispose] = {class}.prototype.free;\n");
        glue = cut(&glue, &start, &end).ok_or_else(|| format!("the glue has no class `{class}` to drop"))?;
        let registry = format!("const {class}Finalization = ");
        glue = cut(&glue, &registry, ";\n").ok_or_else(|| format!("the glue has no `{class}Finalization` to drop"))?;
    }
    Ok(glue)
}

/// The glue runs as the frame's module script and nothing imports from it (the build appends
/// the call to its init), so its exports (`initSync`, the default init, the `start` wrapper)
/// only stop terser from dropping code never called. This unexports them: `export function f`
/// becomes `function f`, and `export { … };` goes. Any other `export` fails the build.
fn unexport(glue: &str) -> Result<String> {
    let mut out = String::with_capacity(glue.len());
    for line in glue.split_inclusive('\n') {
        if let Some(function) = line.strip_prefix("export function ") {
            out.push_str("function ");
            out.push_str(function);
        } else if line.starts_with("export {") && line.trim_end().ends_with("};") {
            continue;
        } else if line.starts_with("export ") {
            return Err(format!("the glue has an export the build does not know: {}", line.trim_end()));
        } else {
            out.push_str(line);
        }
    }
    Ok(out)
}

/// `text` without the first span from `start` to the end of the next `end`.
fn cut(text: &str, start: &str, end: &str) -> Option<String> {
    let from = text.find(start)?;
    let to = from + text[from..].find(end)? + end.len();
    Some([&text[..from], &text[to..]].concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GLUE: &str = "export class IntoUnderlyingSink {
    free() {
        wasm.__wbg_intounderlyingsink_free(ptr, 0);
    }
}
if (Symbol.dispose) IntoUnderlyingSink.prototype[Symbol.dispose] = IntoUnderlyingSink.prototype.free;

export function start() {
    wasm.start();
}
function __wbg_get_imports() {
    const import0 = {
        __proto__: null,
        __wbg_set_textContent_0177b2a6d9293c2c: function(arg0, arg1, arg2) {
            arg0.textContent = getStringFromWasm0(arg1, arg2);
        },
        __wbindgen_init_externref_table: function() {
            const table = wasm.__wbindgen_externrefs;
        },
        __wbg_enqueue_c11626eae1c54509: function() { return handleError(function (arg0, arg1) {
            arg0.enqueue(arg1);
        }, arguments); },
        __wbg_close_294d3f727cb7a844: function(arg0) {
            arg0.close();
        },
    };
    return {
        __proto__: null,
        \"./app_bg.js\": import0,
    };
}
const IntoUnderlyingSinkFinalization = (typeof FinalizationRegistry === 'undefined')
    ? { register: () => {}, unregister: () => {} }
    : new FinalizationRegistry(ptr => wasm.__wbg_intounderlyingsink_free(ptr, 1));
let size = otherwasm.length + wasm.memory.buffer.byteLength;
";

    const MAPPING: &str = r#"{
 "imports": [
  ["./app_bg.js", "__wbg_set_textContent_0177b2a6d9293c2c", "$"],
  ["./app_bg.js", "__wbindgen_init_externref_table", "a"]
 ],
 "exports": [
  ["start", "b"],
  ["__wbindgen_externrefs", "c"],
  ["memory", "d"]
 ]
}"#;

    #[test]
    fn renames_imports_module_and_export_uses() {
        let glue = drop_classes(GLUE, &["IntoUnderlyingSink"]).unwrap();
        let glue = rename_in_glue(&glue, &Mapping::parse(MAPPING).unwrap(), "./app_bg.js").unwrap();
        assert!(glue.contains("        $: function(arg0, arg1, arg2) {"), "{glue}");
        assert!(glue.contains("        a: function() {"), "{glue}");
        assert!(glue.contains("    wasm.b();"), "{glue}");
        assert!(glue.contains("const table = wasm.c;"), "{glue}");
        assert!(glue.contains("\"a\": import0"), "{glue}");
        // `otherwasm.` is another object; `wasm.memory` is the instance's export.
        assert!(glue.contains("let size = otherwasm.length + wasm.d.buffer.byteLength;"), "{glue}");
        // Imports the WASM no longer has are gone, whole.
        assert!(!glue.contains("enqueue") && !glue.contains("close"), "{glue}");
        assert!(glue.contains("        },\n    };\n"), "{glue}");
        assert!(!glue.contains("IntoUnderlyingSink") && !glue.contains("intounderlying"), "{glue}");
    }

    #[test]
    fn a_glue_that_uses_a_removed_export_fails_the_build() {
        // The class still calls `__wbg_intounderlyingsink_free`, which the mapping lacks.
        let err = rename_in_glue(GLUE, &Mapping::parse(MAPPING).unwrap(), "./app_bg.js").unwrap_err();
        assert!(err.contains("wasm.__wbg_intounderlyingsink_free"), "{err}");
    }

    #[test]
    fn a_mapping_with_an_import_the_glue_lacks_fails_the_build() {
        let mapping = MAPPING.replace(r#""a"]"#, r#""a"], ["./app_bg.js", "__wbg_gone_1234", "b"]"#);
        let glue = drop_classes(GLUE, &["IntoUnderlyingSink"]).unwrap();
        let err = rename_in_glue(&glue, &Mapping::parse(&mapping).unwrap(), "./app_bg.js").unwrap_err();
        assert!(err.contains("2 of the WASM's 3 imports"), "{err}");
    }

    #[test]
    fn the_glue_keeps_no_exports() {
        let glue = "export function start() {\n    wasm.start();\n}\nfunction initSync() {}\nexport { initSync, __wbg_init as default };\n";
        assert_eq!(unexport(glue).unwrap(), "function start() {\n    wasm.start();\n}\nfunction initSync() {}\n");
        assert!(unexport("export class Stream {\n}\n").is_err());
    }

    #[test]
    fn a_missing_class_fails_the_build() {
        assert!(drop_classes(GLUE, &["IntoUnderlyingSource"]).is_err());
    }
}
