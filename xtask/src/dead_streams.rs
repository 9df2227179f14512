//! wasm-streams' code, which a CSR app never runs, replaced by `unreachable` before wasm-opt.
//!
//! Leptos links `server_fn`, which links `wasm-streams`. Removing its exported classes
//! ([`wasm_names::UNUSED_EXPORTS`](crate::wasm_names::UNUSED_EXPORTS)) is not enough: trait
//! objects built generically inside it put its functions in the function table, so wasm-opt
//! must keep them (and all they call), ~10 KB of the widget's WASM. No code path of this app
//! reaches them (the app has no server functions), which the checks below make sure of before
//! anything is changed: only wasm-streams calls wasm-streams, and only its removed classes
//! export it. Measured on the widget: WASM −2.6 KB brotli.
//!
//! The functions are found by name, so LLVM must not merge look-alike functions across crates
//! (`-Zmerge-functions=disabled` in the shipped build): a merged body keeps one of the names,
//! and an app function folded into a wasm-streams one would then trap when reached through the
//! table, which no static check can see.

use std::collections::HashSet;
use std::path::Path;

use walrus::ir::{self, Visitor};
use walrus::{ExportItem, FunctionId, FunctionKind, Module};

use crate::Result;

/// The crate whose functions are stubbed, as it appears in mangled symbol names.
const DEAD_CRATE: &str = "wasm_streams";

/// Rewrites `wasm` in place; returns how many functions became `unreachable`.
pub fn stub(wasm: &Path) -> Result<usize> {
    let mut module = Module::from_file(wasm).map_err(|e| format!("read {}: {e}", wasm.display()))?;
    // wasm-bindgen's wrappers behind the removed exports are named after the export
    // (`intounderlyingsource_pull`), and only call wasm-streams.
    let dead: HashSet<FunctionId> = module
        .funcs
        .iter()
        .filter(|f| matches!(f.kind, FunctionKind::Local(_)))
        .filter(|f| f.name.as_deref().is_some_and(|name| name.contains(DEAD_CRATE) || is_removed_export(name)))
        .map(|f| f.id())
        .collect();
    if dead.is_empty() {
        return Err(format!(
            "{}: no {DEAD_CRATE} function found by name (did the name section or the dependency go? then drop this step)",
            wasm.display()
        ));
    }
    check_unreachable_from_app(&module, &dead)?;

    for &id in &dead {
        if let FunctionKind::Local(function) = &mut module.funcs.get_mut(id).kind {
            let entry = function.entry_block();
            let body = &mut function.block_mut(entry).instrs;
            body.clear();
            body.push((ir::Unreachable {}.into(), Default::default()));
        }
    }
    module.emit_wasm_file(wasm).map_err(|e| format!("write {}: {e}", wasm.display()))?;
    Ok(dead.len())
}

/// An export of wasm-streams' classes, which the build removes (`wasm_names::UNUSED_EXPORTS`).
fn is_removed_export(name: &str) -> bool {
    name.to_ascii_lowercase().contains(crate::wasm_names::UNUSED_EXPORTS.trim_matches('*'))
}

/// Fails unless every export of a dead function is one the build removes and no other
/// function's code names a dead one (a call, a tail call or a `ref.func`).
fn check_unreachable_from_app(module: &Module, dead: &HashSet<FunctionId>) -> Result {
    for export in module.exports.iter() {
        if let ExportItem::Function(id) = export.item {
            if dead.contains(&id) && !is_removed_export(&export.name) {
                return Err(format!("export `{}` is {DEAD_CRATE} code the glue may call", export.name));
            }
        }
    }
    for (id, function) in module.funcs.iter_local() {
        if dead.contains(&id) {
            continue;
        }
        let mut named = NamedFunctions::default();
        ir::dfs_in_order(&mut named, function, function.entry_block());
        if let Some(callee) = named.0.iter().find(|callee| dead.contains(callee)) {
            let name = |id: FunctionId| module.funcs.get(id).name.clone().unwrap_or_else(|| format!("{id:?}"));
            return Err(format!("`{}` calls {DEAD_CRATE} code `{}`", name(id), name(*callee)));
        }
    }
    Ok(())
}

/// Every function a body names.
#[derive(Default)]
struct NamedFunctions(Vec<FunctionId>);

impl<'instr> Visitor<'instr> for NamedFunctions {
    fn visit_function_id(&mut self, &id: &FunctionId) {
        self.0.push(id);
    }
}
