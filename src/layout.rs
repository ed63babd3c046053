//! The shape the codebase keeps (docs/architecture.md, "The floors"), checked on every
//! `cargo test`: small files, no import cycle between modules, a core (engine, cycle runner,
//! directory trait, in-memory directory) that names nothing of Kubernetes nor anything outside
//! itself, and condition reasons that exist only as their enums. (Function length is clippy's
//! `too_many_lines`, threshold in `clippy.toml`.)

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

mod imports;

use imports::{Module, Sources};

const MAX_FILE_LINES: usize = 500;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn no_source_file_is_longer_than_500_lines() {
    let long: Vec<String> = rust_files(&root().join("src"))
        .iter()
        .filter_map(|p| {
            let lines = read(p).lines().count();
            (lines > MAX_FILE_LINES).then(|| format!("{} ({lines} lines)", p.display()))
        })
        .collect();
    assert!(long.is_empty(), "split these: {long:?}");
}

#[test]
fn condition_reasons_are_never_written_as_string_literals() {
    let reasons: std::collections::BTreeSet<&str> = crate::api::reasons::catalogue()
        .iter()
        .flat_map(|t| t.reasons.iter().map(|(r, _)| *r))
        .collect();
    let mut files = rust_files(&root().join("src"));
    files.extend(rust_files(&root().join("tests")));
    files.extend(rust_files(&root().join("benches")));
    let mut found = Vec::new();
    for path in files.iter().filter(|p| !p.ends_with("api/reasons.rs")) {
        let text = read(path);
        for reason in &reasons {
            if text.contains(&format!("\"{reason}\"")) {
                found.push(format!("{}: \"{reason}\"", path.display()));
            }
        }
    }
    assert!(found.is_empty(), "use the reason enums instead: {found:?}");
}

/// `a → b` for each module `a` whose code names something in its sibling `b` (children of one
/// parent): the graph an import cycle would show in.
fn sibling_imports(sources: &Sources) -> BTreeMap<Module, BTreeSet<Module>> {
    let mut graph: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for (from, named) in sources.references() {
        for to in named {
            let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
            if common < from.len() && common < to.len() {
                graph
                    .entry(from[..=common].to_vec())
                    .or_default()
                    .insert(to[..=common].to_vec());
            }
        }
    }
    graph
}

/// The path from `from` to `to` along `graph`, if any.
fn path_between(graph: &BTreeMap<Module, BTreeSet<Module>>, from: &Module, to: &Module) -> Option<Vec<Module>> {
    let mut came_from: BTreeMap<&Module, &Module> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([from]);
    while let Some(at) = queue.pop_front() {
        if at == to {
            let mut path = vec![to.clone()];
            let mut step = to;
            while let Some(&previous) = came_from.get(step) {
                path.push(previous.clone());
                step = previous;
            }
            path.reverse();
            return Some(path);
        }
        for next in graph.get(at).into_iter().flatten() {
            if next != from && !came_from.contains_key(next) {
                came_from.insert(next, at);
                queue.push_back(next);
            }
        }
    }
    None
}

/// Each import cycle between sibling modules, as the set of its members.
fn import_cycles(sources: &Sources) -> BTreeSet<Vec<String>> {
    let graph = sibling_imports(sources);
    let mut cycles = BTreeSet::new();
    for (from, tos) in &graph {
        for to in tos {
            if let Some(back) = path_between(&graph, to, from) {
                let mut members: Vec<String> = back.iter().map(|m| m.join("::")).collect();
                members.sort();
                cycles.insert(members);
            }
        }
    }
    cycles
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let cycles = import_cycles(&Sources::read(&root().join("src")));
    assert!(
        cycles.is_empty(),
        "import cycles (move what both need into a module of its own): {cycles:?}"
    );
}

#[test]
fn an_import_cycle_through_a_third_module_is_found() {
    let module = |path: &str| -> Module { path.split("::").map(str::to_owned).collect() };
    let code = BTreeMap::from([
        (module("a"), String::new()),
        (module("a::x"), "use super::y::Y;".to_owned()),
        (module("a::y"), "fn f() { crate::a::z::g() }".to_owned()),
        (module("a::z"), "use crate::a::{w, x::{self, X}};".to_owned()),
        (module("a::w"), String::new()),
    ]);
    let cycles = import_cycles(&Sources { code });
    assert_eq!(
        cycles,
        BTreeSet::from([vec!["a::x".to_owned(), "a::y".into(), "a::z".into()]])
    );
}

/// The core: the engine, the cycle runner, the directory trait, the in-memory directory, and
/// what they share with the providers (retries, budgets, why a Tenant cannot be used).
fn in_the_core(module: &Module) -> bool {
    let core: [&[&str]; 8] = [
        &["engine"],
        &["cycle"],
        &["providers", "directory"],
        &["providers", "memory"],
        &["providers", "retry"],
        &["providers", "budget"],
        &["providers", "http_date"],
        &["providers", "connect_error"],
    ];
    core.iter()
        .any(|prefix| module.len() >= prefix.len() && module.iter().zip(*prefix).all(|(a, b)| a == b))
}

#[test]
fn the_core_names_nothing_of_kubernetes_nor_anything_outside_itself() {
    let sources = Sources::read(&root().join("src"));
    let mut offenders = Vec::new();
    for (module, named) in sources.references().into_iter().filter(|(m, _)| in_the_core(m)) {
        let code = &sources.code[module];
        for kubernetes in ["kube::", "k8s_openapi::", "kube_runtime::"] {
            if code.contains(kubernetes) {
                offenders.push(format!("{} uses {kubernetes}", module.join("::")));
            }
        }
        for outside in named.iter().filter(|m| !in_the_core(m) && !m.is_empty()) {
            offenders.push(format!("{} names {}", module.join("::"), outside.join("::")));
        }
    }
    assert!(offenders.is_empty(), "{offenders:#?}");
}

/// The providers take their own settings (`providers::settings`): only the controller turns
/// the resources into them (`controller::provider_settings`), so that a provider is used and
/// tested without the Kubernetes API types. Tests included: they build providers the same way.
#[test]
fn the_providers_name_nothing_of_the_resources() {
    let sources = Sources::read(&root().join("src"));
    let mut offenders: Vec<String> = sources
        .references()
        .into_iter()
        .filter(|(module, _)| module.first().is_some_and(|m| m == "providers"))
        .filter(|(_, named)| named.iter().any(|m| m.first().is_some_and(|n| n == "api")))
        .map(|(module, _)| format!("{} names api", module.join("::")))
        .collect();
    for path in rust_files(&root().join("src").join("providers")) {
        if imports::blank_comments_and_literals(&read(&path)).contains("crate::api") {
            offenders.push(format!("{} names crate::api", path.display()));
        }
    }
    assert!(offenders.is_empty(), "{offenders:#?}");
}
