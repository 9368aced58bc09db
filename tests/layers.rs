//! The module graph of docs/architecture.md, checked: every `crate::<module>` a file names must
//! lie in a layer below its own (or be its own module). A new arrow upwards fails here.

use std::collections::BTreeMap;
use std::path::Path;

/// Layer of each top-level module (docs/architecture.md).
const LAYERS: &[(&str, u8)] = &[
    ("model", 0),
    ("error", 0),
    ("telemetry", 0),
    ("upstream", 1),
    ("formats", 1),
    ("sources", 2),
    ("catalog", 2),
    ("resolve", 3),
    ("importer", 3),
    ("stream", 3),
    ("config", 3),
    ("demo", 3),
    ("api", 5),
    ("cli", 5),
    ("server", 5),
    ("web", 4),
    ("auth", 4),
];

/// Exceptions, each with its reason: `error` renders itself as an HTTP answer and names model
/// times in a message; nothing else.
const ALLOWED: &[(&str, &str)] = &[("error", "model")];

fn layer(module: &str) -> Option<u8> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The modules `source` names as `crate::<module>` (also inside `use crate::{a, b::{c}}`).
fn named_modules(source: &str) -> Vec<String> {
    let ident = |s: &str| -> String {
        s.trim()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut found = Vec::new();
    for (i, _) in source.match_indices("crate::") {
        let rest = &source[i + "crate::".len()..];
        let Some(group) = rest.strip_prefix('{') else {
            found.push(ident(rest));
            continue;
        };
        // The top-level items of the group: split at commas outside nested braces.
        let (mut depth, mut start) = (0, 0);
        for (j, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    found.push(ident(&group[start..j]));
                    break;
                }
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    found.push(ident(&group[start..j]));
                    start = j + 1;
                }
                _ => {}
            }
        }
    }
    found.retain(|m| !m.is_empty());
    found
}

#[test]
fn every_module_uses_only_lower_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut violations = BTreeMap::new();
    let mut checked = 0;
    for file in files {
        let relative = file.strip_prefix(&src).unwrap();
        let own = relative
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_str()
            .unwrap()
            .trim_end_matches(".rs")
            .to_owned();
        let Some(own_layer) = layer(&own) else {
            assert!(
                ["lib", "main"].contains(&own.as_str()),
                "{own} is in no layer: add it to LAYERS and docs/architecture.md"
            );
            continue;
        };
        let source = std::fs::read_to_string(&file).unwrap();
        for used in named_modules(&source) {
            checked += 1;
            if used == own || ALLOWED.contains(&(own.as_str(), used.as_str())) {
                continue;
            }
            let used_layer =
                layer(&used).unwrap_or_else(|| panic!("{}: crate::{used} is in no layer", relative.display()));
            if used_layer >= own_layer {
                violations
                    .entry(relative.display().to_string())
                    .or_insert_with(Vec::new)
                    .push(format!("{used} (layer {used_layer}, not below {own_layer})"));
            }
        }
    }
    assert!(checked > 50, "the check read too little: {checked} references");
    assert!(violations.is_empty(), "arrows pointing up or sideways: {violations:#?}");
}

#[test]
fn the_reader_finds_grouped_and_plain_paths() {
    assert_eq!(
        named_modules("use crate::{model, upstream::{Locator, net}, formats};\nlet x = crate::error::Error::Busy;"),
        ["model", "upstream", "formats", "error"]
    );
}
