//! The `TESSERA_*` environment overlay: `TESSERA_A__B=value` sets `a.b = value` in the file's
//! table before it is read, so every scalar can be overridden.

use super::problems::Problems;
use std::collections::HashSet;

/// The prefix of environment overrides: `TESSERA_LISTEN`, `TESSERA_TOKENS__SIGNING_ALG`...
pub const ENV_PREFIX: &str = "TESSERA_";

/// `TESSERA_*` variables that are not configuration values: the config path, and the benches'.
fn is_setting_variable(name: &str) -> bool {
    name != "TESSERA_CONFIG" && !name.starts_with("TESSERA_BENCH_")
}

/// Applies `TESSERA_A__B=value` as `a.b = value`. Returns the paths set this way.
pub(super) fn apply_env(
    table: &mut toml::Table,
    env: impl IntoIterator<Item = (String, String)>,
    problems: &mut Problems,
) -> HashSet<String> {
    let mut applied = HashSet::new();
    for (name, value) in env {
        let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        if !is_setting_variable(&name) || rest.is_empty() {
            continue;
        }
        let segments: Vec<String> = rest.split("__").map(str::to_lowercase).collect();
        let (leaf, parents) = segments.split_last().expect("split yields one segment");
        let Some(current) = table_at(table, parents) else {
            problems.push(&name, "names a value that is not a table");
            continue;
        };
        match typed_like(current.get(leaf.as_str()), &value) {
            Some(typed) => {
                current.insert(leaf.clone(), typed);
                applied.insert(segments.join("."));
            }
            None => problems.push(
                &name,
                "cannot override a value of this type from the environment",
            ),
        }
    }
    applied
}

/// `value` as the type the file gave the value it replaces; otherwise guessed from the text.
/// `None` when the file's value is not a scalar the environment can replace.
fn typed_like(current: Option<&toml::Value>, value: &str) -> Option<toml::Value> {
    match current {
        Some(toml::Value::Integer(_)) => value.parse().map(toml::Value::Integer).ok(),
        Some(toml::Value::Boolean(_)) => value.parse().map(toml::Value::Boolean).ok(),
        Some(toml::Value::String(_)) => Some(toml::Value::String(value.to_owned())),
        Some(_) => None,
        None => Some(
            value
                .parse()
                .map(toml::Value::Integer)
                .or_else(|_| value.parse().map(toml::Value::Boolean))
                .unwrap_or_else(|_| toml::Value::String(value.to_owned())),
        ),
    }
}

/// The table at `path` below `table`, created when missing; `None` if a value is in the way.
fn table_at<'a>(table: &'a mut toml::Table, path: &[String]) -> Option<&'a mut toml::Table> {
    let Some((first, rest)) = path.split_first() else {
        return Some(table);
    };
    match table
        .entry(first.clone())
        .or_insert_with(|| toml::Value::Table(toml::Table::new()))
    {
        toml::Value::Table(inner) => table_at(inner, rest),
        _ => None,
    }
}
