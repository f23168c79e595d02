//! The dependency rule of ARCHITECTURE.md, checked: every top-level module
//! sits on a layer and uses (`crate::…`) only modules on lower layers, so the
//! pipeline reads one way and there is no cycle. The sandbox is apart: it uses
//! only the leaves, and only `cli` and `commands` (for `run --sandbox`) use it.
//! The audit log (`audit`) uses only the leaves too: its entries are plain
//! fields the runner fills in, so it does not follow the Graph client's types.
//! Test code (`tests.rs`, `proptests.rs`, anything after `#[cfg(test)] mod`) is
//! not counted: tests may reach across.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top to bottom. A module may use only modules of a later line.
const LAYERS: &[&[&str]] = &[
    &["cli"],
    &["commands"],
    &["ui", "sandbox"],
    &["plan", "runner"],
    &["schedule", "send"],
    &["results", "audit"],
    &["graph"],
    &["validate"],
    &["manifest"],
    &["diagnostic", "exit", "limits", "schema", "secret", "text"],
];

const LEAVES: usize = 9;

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

fn allowed(from: &str, to: &str) -> bool {
    let (Some(a), Some(b)) = (layer_of(from), layer_of(to)) else {
        return false;
    };
    // The sandbox, and the audit log's plain record type, stand on the leaves alone.
    if from == "sandbox" || from == "audit" {
        return b == LEAVES;
    }
    if to == "sandbox" {
        return from == "cli" || from == "commands";
    }
    b > a
}

/// The top-level modules named after `crate::` in `code`, including grouped
/// ones (`crate::{a, b::c}`).
fn crate_uses(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        out.extend(first_ident(&item));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
            out.extend(first_ident(&item));
        } else {
            out.extend(first_ident(rest));
        }
    }
    out
}

fn first_ident(s: &str) -> Option<String> {
    let s = s.trim_start();
    let ident: String = s
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (!ident.is_empty() && ident != "self").then_some(ident)
}

/// The non-test part of a source file.
fn non_test(code: &str) -> &str {
    let mut offset = 0;
    for line in code.split_inclusive('\n') {
        if line.trim() == "#[cfg(test)]" {
            let after = &code[offset + line.len()..];
            if after.trim_start().starts_with("mod ") {
                return &code[..offset];
            }
        }
        offset += line.len();
    }
    code
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// module → the modules it uses, from the sources under `src/`.
fn edges() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let rel = file.strip_prefix(&src).unwrap();
        let name = rel.file_name().unwrap().to_str().unwrap();
        if name == "tests.rs" || name == "proptests.rs" {
            continue;
        }
        let top = rel.iter().next().unwrap().to_str().unwrap();
        let module = top.trim_end_matches(".rs").to_string();
        if matches!(module.as_str(), "lib" | "main" | "layering") {
            continue;
        }
        let code = std::fs::read_to_string(&file).unwrap();
        let uses = crate_uses(non_test(&code));
        let entry = edges.entry(module.clone()).or_default();
        entry.extend(uses.into_iter().filter(|u| *u != module));
    }
    edges
}

#[test]
fn every_module_has_a_layer() {
    for module in edges().keys() {
        assert!(
            layer_of(module).is_some(),
            "src/{module} is not on a layer: add it to LAYERS (and to ARCHITECTURE.md)"
        );
    }
}

#[test]
fn modules_use_only_lower_layers() {
    let mut wrong = Vec::new();
    for (from, uses) in edges() {
        for to in uses {
            if !allowed(&from, &to) {
                wrong.push(format!("{from} uses {to}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "uses against the layering of ARCHITECTURE.md:\n  {}",
        wrong.join("\n  ")
    );
}

#[test]
fn the_scanner_sees_grouped_and_nested_uses() {
    let code = "use crate::{a::B, c, d::{e, f}};\nfn x() { crate::g::h(); }\n#[cfg(test)]\nmod tests { use crate::z; }";
    let uses = crate_uses(non_test(code));
    assert_eq!(
        uses.into_iter().collect::<Vec<_>>(),
        ["a", "c", "d", "g"].map(String::from)
    );
    assert!(!allowed("manifest", "validate"));
    assert!(allowed("validate", "manifest"));
    assert!(!allowed("runner", "sandbox"));
    assert!(!allowed("sandbox", "graph"));
    assert!(allowed("sandbox", "limits"));
    // The audit log is a record file: the runner writes it, it uses only leaves.
    assert!(allowed("runner", "audit"));
    assert!(!allowed("audit", "graph"));
    assert!(!allowed("audit", "results"));
}
