//! The module graph of `matcher-core` has no circles: every `crate::…` and `super::…` path in
//! the non-test code of `src/` is an edge from the file's module to the deepest module the path
//! names, and Tarjan's algorithm must find only strongly connected components of one module.
//! On failure the edges of each circle are printed (a picture to read or feed to Graphviz).

use petgraph::algo::tarjan_scc;
use petgraph::graph::DiGraph;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `a/b.rs` → `["a", "b"]`, `a/mod.rs` → `["a"]`, `lib.rs` → `[]`.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).expect("under src").with_extension("");
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// The code of a file without comments and without its `#[cfg(test)]` tail.
fn code(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with("#[cfg(test)]") {
            break;
        }
        if !t.starts_with("//") {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

fn ident_len(s: &str) -> usize {
    s.bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'_').count()
}

/// The module paths named by the path starting at `s` (just after `crate::`/`super::`),
/// relative to `base`: `a::b::C` gives `base + [a, b, C]`, braces give one per item.
fn paths(base: &[String], s: &str, out: &mut Vec<Vec<String>>) {
    let mut path = base.to_vec();
    let mut rest = s;
    loop {
        if let Some(inner) = rest.strip_prefix('{') {
            let mut depth = 1;
            let end = inner
                .char_indices()
                .find(|&(_, c)| {
                    depth += match c {
                        '{' => 1,
                        '}' => -1,
                        _ => 0,
                    };
                    depth == 0
                })
                .map_or(inner.len(), |(i, _)| i);
            let body = &inner[..end];
            let mut depth = 0;
            let mut start = 0;
            for (i, c) in body.char_indices().chain(std::iter::once((body.len(), ','))) {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        let item = body[start..i.min(body.len())].trim();
                        if !item.is_empty() && item != "self" {
                            paths(&path, item, out);
                        }
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            out.push(path);
            return;
        }
        let n = ident_len(rest);
        if n == 0 {
            break;
        }
        path.push(rest[..n].trim_start_matches("r#").to_string());
        match rest[n..].strip_prefix("::") {
            Some(next) => rest = next,
            None => break,
        }
    }
    out.push(path);
}

#[test]
fn the_module_graph_of_the_core_has_no_circles() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    // Unit-test files (`tests.rs`, `*/tests/*.rs`) may use anything.
    files.retain(|f| !f.iter().any(|p| p == "tests") && f.file_name().is_some_and(|n| n != "tests.rs"));
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(&src, f)).collect();
    let deepest = |path: &[String]| -> Vec<String> {
        (0..=path.len()).rev().map(|n| path[..n].to_vec()).find(|p| modules.contains(p)).unwrap_or_default()
    };
    let mut edges: BTreeSet<(Vec<String>, Vec<String>)> = BTreeSet::new();
    for file in &files {
        let from = module_of(&src, file);
        let text = code(&std::fs::read_to_string(file).expect("read file"));
        let mut found = Vec::new();
        for (i, _) in text.match_indices("crate::") {
            let before = text[..i].chars().last();
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                continue; // e.g. `matcher_core::`
            }
            paths(&[], &text[i + "crate::".len()..], &mut found);
        }
        for (i, _) in text.match_indices("super::") {
            if text[..i].ends_with("super::") {
                continue;
            }
            let mut rest = &text[i..];
            // A file's own module is `from`; `super` is its parent (for `mod.rs` too, since
            // its module is the directory).
            let mut base = from.clone();
            while let Some(r) = rest.strip_prefix("super::") {
                base.pop();
                rest = r;
            }
            paths(&base, rest, &mut found);
        }
        for path in found {
            let to = deepest(&path);
            if to != from && !to.is_empty() {
                edges.insert((from.clone(), to));
            }
        }
    }
    let mut graph = DiGraph::<String, ()>::new();
    let mut nodes = BTreeMap::new();
    for m in &modules {
        nodes.insert(m.clone(), graph.add_node(m.join("::")));
    }
    for (a, b) in &edges {
        graph.add_edge(nodes[a], nodes[b], ());
    }
    assert!(edges.len() > 20, "the scan found too few edges ({}); is it still reading `src`?", edges.len());
    let circles: Vec<Vec<String>> = tarjan_scc(&graph)
        .into_iter()
        .filter(|scc| scc.len() > 1)
        .map(|scc| scc.into_iter().map(|n| graph[n].clone()).collect())
        .collect();
    let picture: Vec<String> = edges
        .iter()
        .filter(|(a, b)| circles.iter().any(|c| c.contains(&a.join("::")) && c.contains(&b.join("::"))))
        .map(|(a, b)| format!("  \"{}\" -> \"{}\";", a.join("::"), b.join("::")))
        .collect();
    assert!(
        circles.is_empty(),
        "import circles: {circles:?}\ndigraph circles {{\n{}\n}}",
        picture.join("\n")
    );
}
