//! The shape the codebase keeps (docs/architecture.md, "The floors"), checked on every
//! `cargo test`: small files, an engine and a cycle runner that know nothing of the Kubernetes
//! resources, and condition reasons that exist only as their enums. (Function length is clippy's
//! `too_many_lines`, threshold in `clippy.toml`.)

use std::path::{Path, PathBuf};

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
fn the_engine_and_the_cycle_runner_import_nothing_from_the_api() {
    let mut files = rust_files(&root().join("src/engine"));
    files.extend(rust_files(&root().join("src/cycle")));
    let offenders: Vec<String> = files
        .iter()
        .filter(|p| read(p).contains("crate::api"))
        .map(|p| p.display().to_string())
        .collect();
    assert!(offenders.is_empty(), "{offenders:?} use crate::api");
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
