//! The rooms of `shared/docs/design.md`, held: every folder under `src/` is a room, and a room
//! uses only the rooms the table lets it use. The test reads the sources (no build needed to
//! understand a failure) and prints every forbidden path as `file:line  from -> to`.
//!
//! When the table must change, change it in design.md and here in the same commit, and say
//! why: `the_table_here_is_the_table_in_design_md` compares the two when design.md is beside
//! the checkout.
//!
//! Test code follows the table too, with one exception: it may start the reference server
//! (`server`), which stands in for the production server in tests of any room.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The layered table, top to bottom: each room and the rooms it may use. `cli` may use
/// everything; `term` uses no room (only ratatui's `Backend` trait).
const ROOMS: &[(&str, &[&str])] = &[
    ("cli", &["shell", "commands", "server", "ui", "term", "app", "sync", "api", "store", "config", "model"]),
    ("shell", &["app", "ui", "term", "sync", "api", "store", "config", "model"]),
    ("commands", &["sync", "api", "store", "config", "model"]),
    ("server", &["model"]),
    ("ui", &["app", "model"]),
    ("term", &[]),
    ("app", &["model"]),
    ("sync", &["api", "store", "config", "model"]),
    ("api", &["config", "model"]),
    ("store", &["model"]),
    ("config", &["model"]),
    ("model", &[]),
];

/// Files at the top of `src/` that are the crate's root, not a room.
const ROOT_FILES: &[&str] = &["lib.rs", "main.rs"];

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn table() -> BTreeMap<&'static str, BTreeSet<&'static str>> {
    ROOMS.iter().map(|(room, uses)| (*room, uses.iter().copied().collect())).collect()
}

/// One `crate::` path found in the sources.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Import {
    line: usize,
    target: String,
    in_test: bool,
}

/// Every `.rs` file under `dir`, sorted so the report is stable.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The room a file belongs to: the first folder under `src/` (or the file's stem for a
/// single-file room); `None` for the crate root files.
fn room_of(rel: &Path) -> Option<String> {
    let mut parts = rel.components();
    let first = parts.next()?.as_os_str().to_string_lossy().into_owned();
    if parts.next().is_some() {
        return Some(first);
    }
    if ROOT_FILES.contains(&first.as_str()) {
        return None;
    }
    Some(first.trim_end_matches(".rs").to_owned())
}

/// The code part of a line: string literals blanked and any `//` comment dropped, so that
/// a path in a doc comment or a message is not taken for an import.
fn code_part(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut in_str = false;
    let mut escaped = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if in_str {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
            }
            out.push(' ');
            continue;
        }
        match c {
            '"' => {
                in_str = true;
                out.push(' ');
            }
            '/' if chars.peek() == Some(&'/') => break,
            _ => out.push(c),
        }
    }
    out
}

/// The rooms named by `crate::{a::x, b, c::{..}}`: the first name of each top-level item.
fn group_heads(group: &str) -> Vec<String> {
    let mut heads = Vec::new();
    let mut depth = 0;
    let mut item = String::new();
    for c in group.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                heads.push(std::mem::take(&mut item));
                continue;
            }
            _ => {}
        }
        if depth == 0 {
            item.push(c);
        }
    }
    heads.push(item);
    heads
        .iter()
        .filter_map(|i| {
            let name: String = i.trim().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            (!name.is_empty() && name != "self").then_some(name)
        })
        .collect()
}

/// Which lines of a file are test code: inside a `#[cfg(test)]` (or `cfg(all(test, …))`)
/// item's braces.
fn test_lines(lines: &[String]) -> Vec<bool> {
    let mut in_test = vec![false; lines.len()];
    let mut armed = false;
    let mut depth_at_start: Option<i64> = None;
    let mut depth: i64 = 0;
    for (i, line) in lines.iter().enumerate() {
        let code = code_part(line);
        let t = code.trim();
        if depth_at_start.is_none() && (t.starts_with("#[cfg(test)]") || t.starts_with("#[cfg(all(test")) {
            armed = true;
        }
        if depth_at_start.is_some() || armed {
            in_test[i] = true;
        }
        for c in code.chars() {
            match c {
                '{' => {
                    if armed && depth_at_start.is_none() {
                        depth_at_start = Some(depth);
                        armed = false;
                    }
                    depth += 1;
                }
                '}' => {
                    depth -= 1;
                    if depth_at_start == Some(depth) {
                        depth_at_start = None;
                    }
                }
                _ => {}
            }
        }
        // An attribute on a `mod x;` declaration or a one-line item ends with it.
        if armed && !t.starts_with("#[") && t.ends_with(';') {
            armed = false;
        }
    }
    in_test
}

/// Every `crate::` path of a source file, with its line and whether it is test code.
fn imports(source: &str) -> Vec<Import> {
    let lines: Vec<String> = source.lines().map(str::to_owned).collect();
    let tests = test_lines(&lines);
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let code = code_part(&lines[i]);
        let mut rest = code.as_str();
        while let Some(at) = rest.find("crate::") {
            let before = rest[..at].chars().last();
            rest = &rest[at + "crate::".len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
                continue;
            }
            if let Some(group) = rest.strip_prefix('{') {
                // A group may run over several lines: gather it up to its closing brace.
                let mut text = group.to_owned();
                let mut j = i;
                while text.matches('{').count() >= text.matches('}').count() && j + 1 < lines.len() {
                    j += 1;
                    text.push_str(&code_part(&lines[j]));
                }
                for head in group_heads(&text) {
                    out.push(Import { line: i + 1, target: head, in_test: tests[i] });
                }
                break;
            }
            let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                out.push(Import { line: i + 1, target: name, in_test: tests[i] });
            }
        }
        i += 1;
    }
    out
}

/// Which files of `src/` test code only: those a parent declares under `#[cfg(test)]`.
fn test_only_files(files: &[PathBuf]) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    for f in files {
        let Ok(source) = fs::read_to_string(f) else { continue };
        let lines: Vec<String> = source.lines().map(str::to_owned).collect();
        let tests = test_lines(&lines);
        let dir = if f.file_name().is_some_and(|n| n == "mod.rs" || n == "lib.rs") {
            f.parent().map(Path::to_path_buf)
        } else {
            f.parent().map(|p| p.join(f.file_stem().unwrap_or_default()))
        };
        let Some(dir) = dir else { continue };
        let mut path_attr: Option<String> = None;
        for (i, line) in lines.iter().enumerate() {
            let t = line.trim();
            if let Some(p) = t.strip_prefix("#[path = \"").and_then(|p| p.strip_suffix("\"]")) {
                path_attr = Some(p.to_owned());
                continue;
            }
            let decl = t.trim_start_matches("pub(crate) ").trim_start_matches("pub ");
            if let Some(name) = decl.strip_prefix("mod ").and_then(|n| n.strip_suffix(';')) {
                if tests[i] {
                    match path_attr.take() {
                        Some(p) => out.insert(f.parent().unwrap_or(Path::new(".")).join(p)),
                        None => {
                            out.insert(dir.join(format!("{name}.rs")));
                            out.insert(dir.join(name).join("mod.rs"))
                        }
                    };
                }
            }
            if !t.starts_with("#[") {
                path_attr = None;
            }
        }
    }
    out
}

/// Every forbidden path under `src`, as `file:line  from -> to`, plus folders that are no room.
fn violations(src: &Path) -> Vec<String> {
    let table = table();
    let files = rust_files(src);
    let test_files = test_only_files(&files);
    let mut out = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(src).unwrap_or(f);
        let Some(from) = room_of(rel) else { continue };
        let Some(allowed) = table.get(from.as_str()) else {
            out.push(format!("src/{}  `{from}` is not a room of the table", rel.display()));
            continue;
        };
        let Ok(source) = fs::read_to_string(f) else {
            out.push(format!("src/{}  cannot be read", rel.display()));
            continue;
        };
        let whole_file_is_test = test_files.contains(f);
        for imp in imports(&source) {
            let to = imp.target.as_str();
            if to == from || allowed.contains(to) || !table.contains_key(to) {
                continue;
            }
            if (imp.in_test || whole_file_is_test) && to == "server" {
                continue;
            }
            out.push(format!("src/{}:{}  {from} -> {to}", rel.display(), imp.line));
        }
    }
    out
}

#[test]
fn every_import_follows_the_room_table() {
    let found = violations(&src_dir());
    assert!(
        found.is_empty(),
        "{} import(s) the room table of design.md forbids:\n{}",
        found.len(),
        found.join("\n")
    );
}

#[test]
fn every_room_of_the_table_is_a_folder_and_every_folder_a_room() {
    let src = src_dir();
    let mut folders = BTreeSet::new();
    for e in fs::read_dir(&src).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            folders.insert(e.file_name().to_string_lossy().into_owned());
        } else if let Some(room) = room_of(Path::new(&e.file_name())) {
            panic!("src/{room}.rs: a room is a folder (src/{room}/mod.rs), so `ls src` shows the rooms");
        }
    }
    let rooms: BTreeSet<String> = ROOMS.iter().map(|(r, _)| (*r).to_owned()).collect();
    assert_eq!(folders, rooms, "the folders of src/ and the rooms of the table differ");
}

#[test]
fn the_table_only_points_down() {
    // A room may use only rooms below it: the table is a layering, never a cycle.
    for (i, (room, uses)) in ROOMS.iter().enumerate() {
        for used in *uses {
            let j = ROOMS.iter().position(|(r, _)| r == used);
            assert!(j.is_some_and(|j| j > i), "`{room}` may use `{used}`, which is not below it");
        }
    }
}

/// The table of design.md's "Rooms" section, as room -> rooms it may use.
fn design_table(design: &str) -> BTreeMap<String, BTreeSet<String>> {
    let all: Vec<&str> = ROOMS.iter().map(|(r, _)| *r).collect();
    let mut out = BTreeMap::new();
    for line in design.lines().filter(|l| l.starts_with("| `")) {
        let cols: Vec<&str> = line.split('|').map(str::trim).collect();
        let (Some(room), Some(uses)) = (cols.get(1), cols.get(3)) else { continue };
        let room = room.trim_matches('`').to_owned();
        let used: BTreeSet<String> = if *uses == "everything" {
            all.iter().filter(|r| **r != room).map(|r| (*r).to_owned()).collect()
        } else {
            // Only room names count: `term`'s cell also names ratatui's `Backend` trait.
            uses.split('`').skip(1).step_by(2).filter(|u| all.contains(u)).map(str::to_owned).collect()
        };
        out.insert(room, used);
    }
    out
}

#[test]
fn the_table_here_is_the_table_in_design_md() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let candidates = [root.join("../shared/docs/design.md"), root.join("../../shared/docs/design.md")];
    let Some(design) = candidates.iter().find_map(|p| fs::read_to_string(p).ok()) else {
        eprintln!("design.md is not beside this checkout; the table is checked against it where it is");
        return;
    };
    let theirs = design_table(&design);
    let ours: BTreeMap<String, BTreeSet<String>> = ROOMS
        .iter()
        .map(|(r, uses)| ((*r).to_owned(), uses.iter().map(|u| (*u).to_owned()).collect()))
        .collect();
    assert_eq!(ours, theirs, "tests/architecture.rs and design.md disagree on the room table");
}

#[test]
fn the_reader_finds_every_form_of_path() {
    let source = "\
use crate::api::Client;
use crate::{model::types::Message, store};
use crate::{
    config::Paths,
    sync::{link, sender},
};
fn f() { let x = crate::ui::view; } // crate::shell in a comment
const S: &str = \"crate::server in a string\";
#[cfg(test)]
mod tests {
    use crate::server::Seed;
}
fn g() { crate::term::osc::bell(); }
";
    let found: Vec<(usize, String, bool)> =
        imports(source).into_iter().map(|i| (i.line, i.target, i.in_test)).collect();
    let want: Vec<(usize, String, bool)> = [
        (1, "api", false),
        (2, "model", false),
        (2, "store", false),
        (3, "config", false),
        (3, "sync", false),
        (7, "ui", false),
        (11, "server", true),
        (13, "term", false),
    ]
    .into_iter()
    .map(|(l, t, x)| (l, t.to_owned(), x))
    .collect();
    assert_eq!(found, want);
}

#[test]
fn a_forbidden_import_is_reported_with_file_line_and_rooms() {
    let dir = std::env::temp_dir().join(format!("arch-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("model")).unwrap();
    fs::create_dir_all(dir.join("app")).unwrap();
    fs::write(dir.join("model/mod.rs"), "//! m\nuse crate::app::State;\n").unwrap();
    fs::write(dir.join("app/mod.rs"), "use crate::model::types;\n").unwrap();
    let found = violations(&dir);
    let _ = fs::remove_dir_all(&dir);
    assert_eq!(found, vec!["src/model/mod.rs:2  model -> app".to_owned()]);
}
