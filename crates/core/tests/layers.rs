//! The core's modules keep to the layers the README draws: a module uses
//! only modules in rows below its own, or to its right in its row, and every
//! module has a place in the drawing. Read from the sources themselves.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The README's drawing: rows, top first, each a list of module names.
fn layers() -> Vec<Vec<String>> {
    let readme = std::fs::read_to_string(crate_dir().join("../../README.md")).unwrap();
    let start = readme.find("<!-- layers -->").expect("the README draws the layers");
    let end = readme.find("<!-- /layers -->").expect("the drawing ends");
    let block = &readme[start..end];
    let mut rows = Vec::new();
    for line in block.lines().skip_while(|l| !l.starts_with("```")).skip(1) {
        if line.starts_with("```") {
            break;
        }
        // A row starts at the margin; indented lines are its description.
        if line.starts_with(' ') || line.is_empty() {
            continue;
        }
        let names: Vec<String> = line
            .split("  ")
            .map(str::trim)
            .take_while(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
            .map(String::from)
            .collect();
        rows.push(names);
    }
    rows
}

/// Strip `//` comments (doc comments name modules freely) and string
/// literals' contents are left: they do not contain `crate::`.
fn code_of(source: &str) -> String {
    source.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n")
}

/// Top-level module -> the top-level modules its files use.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = crate_dir().join("src");
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(&src).unwrap();
            let top = rel.components().next().unwrap().as_os_str().to_string_lossy().trim_end_matches(".rs").to_string();
            if top == "lib" {
                continue;
            }
            let code = code_of(&std::fs::read_to_string(&path).unwrap());
            let used = out.entry(top.clone()).or_default();
            for (i, _) in code.match_indices("crate::") {
                let rest = &code[i + "crate::".len()..];
                if let Some(group) = rest.strip_prefix('{') {
                    // `use crate::{a::B, c};`
                    let group = &group[..group.find('}').unwrap_or(group.len())];
                    for part in group.split(',') {
                        used.insert(part.trim().split("::").next().unwrap().to_string());
                    }
                } else {
                    let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                    used.insert(name);
                }
            }
            used.retain(|m| m != &top && !m.is_empty() && m.chars().next().unwrap().is_ascii_lowercase());
        }
    }
    out
}

/// Every use that breaks the drawing. Ranks are a total order, so a cycle
/// always has a use that reaches up and is reported too.
fn violations(rows: &[Vec<String>], graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    // A module's rank: lower rows rank lower; in a row, right ranks lower.
    let mut rank = BTreeMap::new();
    let mut broken = Vec::new();
    for (r, row) in rows.iter().rev().enumerate() {
        for (c, name) in row.iter().enumerate() {
            if rank.insert(name.clone(), (r, row.len() - c)).is_some() {
                broken.push(format!("{name} is drawn twice"));
            }
        }
    }
    for (module, used) in graph {
        let Some(mine) = rank.get(module) else {
            broken.push(format!("{module} is not in the README's drawing"));
            continue;
        };
        for other in used {
            match rank.get(other) {
                Some(theirs) if theirs < mine => {}
                Some(_) => broken.push(format!("{module} uses {other}, which is drawn above it")),
                None => broken.push(format!("{module} uses {other}, which is not in the drawing")),
            }
        }
    }
    for name in rank.keys() {
        if !graph.contains_key(name) {
            broken.push(format!("the drawing names {name}, which is not a module"));
        }
    }
    broken
}

#[test]
fn every_module_uses_only_modules_below_it_in_the_readme() {
    let rows = layers();
    assert!(rows.len() >= 5, "the drawing has its rows: {rows:?}");
    let broken = violations(&rows, &imports());
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn uses_that_reach_up_or_go_round_are_caught() {
    let rows: Vec<Vec<String>> = vec![vec!["top".into()], vec!["left".into(), "right".into()], vec!["base".into()]];
    let graph = |edges: &[(&str, &str)]| {
        let mut g: BTreeMap<String, BTreeSet<String>> =
            ["top", "left", "right", "base"].iter().map(|m| (m.to_string(), BTreeSet::new())).collect();
        for (a, b) in edges {
            g.get_mut(*a).unwrap().insert(b.to_string());
        }
        g
    };
    assert!(violations(&rows, &graph(&[("top", "left"), ("left", "right"), ("right", "base")])).is_empty());
    assert_eq!(violations(&rows, &graph(&[("base", "top")])), ["base uses top, which is drawn above it"]);
    assert_eq!(violations(&rows, &graph(&[("right", "left")])), ["right uses left, which is drawn above it"]);
    // A cycle: one of its uses reaches up.
    assert_eq!(violations(&rows, &graph(&[("left", "right"), ("right", "left")])).len(), 1);
    let mut unknown = graph(&[]);
    unknown.insert("stray".into(), BTreeSet::new());
    assert_eq!(violations(&rows, &unknown), ["stray is not in the README's drawing"]);
    // Comments do not count as uses.
    let code = code_of("use crate::{library::Library, error::Error};\n// crate::engine here\nfn f() { crate::search::x(); }");
    assert!(code.contains("crate::{library") && code.contains("crate::search") && !code.contains("engine"));
}
