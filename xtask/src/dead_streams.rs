//! wasm-streams' code, which a CSR app never runs, replaced by `unreachable` before wasm-opt.
//!
//! Leptos links `server_fn`, which links `wasm-streams`. Removing its exported classes
//! ([`wasm_names::UNUSED_EXPORTS`](crate::wasm_names::UNUSED_EXPORTS)) is not enough: trait
//! objects built generically inside it put its functions in the function table, so wasm-opt
//! must keep them (and all they call), ~10 KB of the widget's WASM. The app has no server
//! functions, so only the removed classes enter that code; a function is stubbed only when no
//! other code reaches it except through the table (no call, tail call or `ref.func` from a
//! function that is not itself stubbed, no export the build keeps).
//!
//! The functions are found by name, so LLVM must not make one function body answer for two
//! (its MergeFunctions pass with aliases, rustc's default on most targets): an app function
//! folded into a wasm-streams look-alike would then carry only the wasm-streams name and trap
//! when reached through the table, which no static check can see. The shipped build merges
//! with trampolines instead (`-Zmerge-functions=trampolines`): the folded function becomes a
//! call to the other, which the reachability above sees.

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
    let stubbed = stub_module(&mut module).map_err(|e| format!("{}: {e}", wasm.display()))?;
    module.emit_wasm_file(wasm).map_err(|e| format!("write {}: {e}", wasm.display()))?;
    Ok(stubbed)
}

fn stub_module(module: &mut Module) -> Result<usize> {
    // wasm-bindgen's wrappers behind the removed exports are named after the export
    // (`intounderlyingsource_pull`), and only call wasm-streams.
    let candidates: HashSet<FunctionId> = module
        .funcs
        .iter()
        .filter(|f| matches!(f.kind, FunctionKind::Local(_)))
        .filter(|f| f.name.as_deref().is_some_and(|name| name.contains(DEAD_CRATE) || is_removed_export(name)))
        .map(|f| f.id())
        .collect();
    let live = reached_by_app(module, &candidates);
    let dead: Vec<FunctionId> = candidates.iter().copied().filter(|id| !live.contains(id)).collect();
    if dead.is_empty() {
        return Err(format!(
            "no unreachable {DEAD_CRATE} function found by name (did the name section or the dependency go? then drop this step)"
        ));
    }

    for &id in &dead {
        if let FunctionKind::Local(function) = &mut module.funcs.get_mut(id).kind {
            let entry = function.entry_block();
            let body = &mut function.block_mut(entry).instrs;
            body.clear();
            body.push((ir::Unreachable {}.into(), Default::default()));
        }
    }
    Ok(dead.len())
}

/// An export of wasm-streams' classes, which the build removes (`wasm_names::UNUSED_EXPORTS`).
fn is_removed_export(name: &str) -> bool {
    name.to_ascii_lowercase().contains(crate::wasm_names::UNUSED_EXPORTS.trim_matches('*'))
}

/// The `candidates` the app's code can reach without the function table: those exported under
/// a name the build keeps, the start function, and every candidate that a reached function's
/// code names (a call, a tail call or a `ref.func`), transitively from all other functions.
fn reached_by_app(module: &Module, candidates: &HashSet<FunctionId>) -> HashSet<FunctionId> {
    let mut reached: HashSet<FunctionId> = module
        .exports
        .iter()
        .filter_map(|export| match export.item {
            ExportItem::Function(id) if candidates.contains(&id) && !is_removed_export(&export.name) => Some(id),
            _ => None,
        })
        .chain(module.start.filter(|id| candidates.contains(id)))
        .collect();
    let mut to_visit: Vec<FunctionId> = module
        .funcs
        .iter_local()
        .map(|(id, _)| id)
        .filter(|id| !candidates.contains(id))
        .chain(reached.iter().copied())
        .collect();
    while let Some(id) = to_visit.pop() {
        let FunctionKind::Local(function) = &module.funcs.get(id).kind else { continue };
        let mut named = NamedFunctions::default();
        ir::dfs_in_order(&mut named, function, function.entry_block());
        for callee in named.0 {
            if candidates.contains(&callee) && reached.insert(callee) {
                to_visit.push(callee);
            }
        }
    }
    reached
}

/// Every function a body names.
#[derive(Default)]
struct NamedFunctions(Vec<FunctionId>);

impl<'instr> Visitor<'instr> for NamedFunctions {
    fn visit_function_id(&mut self, &id: &FunctionId) {
        self.0.push(id);
    }
}

#[cfg(test)]
mod tests {
    use walrus::{FunctionBuilder, ModuleConfig};

    use super::*;

    /// A function named `name` whose body calls `callees`.
    fn function(module: &mut Module, name: &str, callees: &[FunctionId]) -> FunctionId {
        let mut builder = FunctionBuilder::new(&mut module.types, &[], &[]);
        let mut body = builder.func_body();
        for &callee in callees {
            body.call(callee);
        }
        let id = builder.finish(Vec::new(), &mut module.funcs);
        module.funcs.get_mut(id).name = Some(name.to_owned());
        id
    }

    fn is_stubbed(module: &Module, id: FunctionId) -> bool {
        let FunctionKind::Local(function) = &module.funcs.get(id).kind else { return false };
        matches!(function.block(function.entry_block()).instrs.as_slice(), [(ir::Instr::Unreachable(_), _)])
    }

    #[test]
    fn stubs_only_what_the_app_cannot_reach_except_through_the_table() {
        let mut module = Module::with_config(ModuleConfig::new());
        let inner = function(&mut module, "wasm_streams::readable::inner", &[]);
        let wrapper = function(&mut module, "intounderlyingsource_pull", &[inner]);
        module.exports.add("intounderlyingsource_pull", wrapper);
        // A look-alike the app calls (a merged trampoline) stays, and so does what it calls.
        let shared_callee = function(&mut module, "drop_in_place<wasm_streams::Shared>", &[]);
        let shared = function(&mut module, "wasm_streams::Shared::drop", &[shared_callee]);
        let app = function(&mut module, "porchlight_widget::app::mount", &[shared]);
        module.exports.add("start", app);
        // Exported under a name the build keeps: the glue may call it.
        let kept_export = function(&mut module, "wasm_streams::kept", &[]);
        module.exports.add("kept", kept_export);

        assert_eq!(stub_module(&mut module).unwrap(), 2);
        assert!(is_stubbed(&module, inner) && is_stubbed(&module, wrapper));
        for id in [shared, shared_callee, app, kept_export] {
            assert!(!is_stubbed(&module, id), "{:?}", module.funcs.get(id).name);
        }
    }

    #[test]
    fn nothing_to_stub_fails_the_build() {
        let mut module = Module::with_config(ModuleConfig::new());
        let used = function(&mut module, "wasm_streams::used", &[]);
        let app = function(&mut module, "app", &[used]);
        module.exports.add("start", app);
        assert!(stub_module(&mut module).unwrap_err().contains("no unreachable wasm_streams function"));
    }
}
