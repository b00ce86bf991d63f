#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The repository carries its own copy of the contract and the provider notes (a reader of the
//! repository has no `../shared`). Where the shared originals exist beside the checkout, the
//! copies must match them: copy the file again when this fails.

use std::path::Path;

fn check(name: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let copy = root.join("docs").join(name);
    let original = root.join("../shared").join(name);
    let copy_text = std::fs::read_to_string(&copy)
        .unwrap_or_else(|e| panic!("docs/{name} must exist in the repository: {e}"));
    match std::fs::read_to_string(&original) {
        Ok(original_text) => assert!(
            copy_text == original_text,
            "docs/{name} differs from ../shared/{name}: run `cp ../shared/{name} docs/{name}` and commit"
        ),
        Err(_) => eprintln!(
            "../shared/{name} is not beside this checkout: only checked that docs/{name} exists"
        ),
    }
}

#[test]
fn the_contract_copy_matches_the_shared_original() {
    check("API.md");
}

#[test]
fn the_provider_notes_copy_matches_the_shared_original() {
    check("providers.md");
}

/// `config/default.toml` as `key → default`, the key dotted, the default as written in TOML.
fn defaults() -> std::collections::BTreeMap<String, String> {
    fn walk(
        prefix: &str,
        table: &toml::Table,
        out: &mut std::collections::BTreeMap<String, String>,
    ) {
        for (k, v) in table {
            let key = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            match v {
                toml::Value::Table(t) => walk(&key, t, out),
                other => {
                    out.insert(key, other.to_string());
                }
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("config/default.toml")).unwrap();
    let table: toml::Table = toml::from_str(&text).unwrap();
    let mut out = std::collections::BTreeMap::new();
    walk("", &table, &mut out);
    out
}

/// The README's configuration reference: rows `| \`key\` | \`default\` | meaning |`.
fn readme_reference() -> std::collections::BTreeMap<String, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let section = readme
        .split("## Configuration reference")
        .nth(1)
        .expect("README has a configuration reference")
        .split("\n## ")
        .next()
        .unwrap();
    section
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            // ["", key, default, meaning, ""]
            let key = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            let default = cells.get(2)?;
            let default = default
                .strip_prefix('`')
                .and_then(|d| d.strip_suffix('`'))
                .unwrap_or(default);
            Some((key.to_owned(), default.to_owned()))
        })
        .collect()
}

#[test]
fn the_readme_configuration_reference_is_default_toml() {
    let defaults = defaults();
    let mut reference = readme_reference();
    // Only from the environment: a secret never has a default in a file.
    assert_eq!(
        reference.remove("vault.master_key").as_deref(),
        Some("(unset)")
    );
    let missing: Vec<_> = defaults
        .keys()
        .filter(|k| !reference.contains_key(*k))
        .collect();
    let extra: Vec<_> = reference
        .keys()
        .filter(|k| !defaults.contains_key(*k))
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "README configuration reference: missing {missing:?}, not in config/default.toml {extra:?}"
    );
    for (key, default) in &defaults {
        assert_eq!(
            &reference[key], default,
            "README gives {key} the default {}, config/default.toml {default}",
            reference[key]
        );
    }
}

/// Every key of the contract's configuration table (API.md section 5) exists in
/// `config/default.toml`.
#[test]
fn the_contract_configuration_keys_exist() {
    let defaults = defaults();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let api = std::fs::read_to_string(root.join("docs/API.md")).unwrap();
    let section = api
        .split("## 5.")
        .nth(1)
        .unwrap()
        .split("\n## ")
        .next()
        .unwrap();
    let mut checked = 0;
    for line in section.lines().filter(|l| l.starts_with("| `")) {
        let key = line.split('`').nth(1).unwrap();
        if key.contains('<') || key == "vault.master_key" {
            continue;
        }
        assert!(
            defaults.contains_key(key),
            "API.md's {key} is not in config/default.toml"
        );
        checked += 1;
    }
    assert!(checked >= 10, "read the contract's table");
}
