//! Holds docs/configuration.md and the code together. The keys the code accepts are not listed
//! by hand: a recording deserializer walks `RawSettings` and notes the fields serde asks for
//! at every table (the `FIELDS` a derived `Deserialize` hands `deserialize_struct`), so a key
//! added to a raw struct and not to the page, or the other way round, fails here. Every
//! documented default is then written into a file and must parse to the same typed settings as
//! leaving the key out.

use super::RawSettings;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

/// A table of the file: the keys serde reads there, and whether it is an array of tables.
#[derive(Debug, Default)]
struct Table {
    keys: BTreeSet<&'static str>,
    array: bool,
}

type Tables = Rc<RefCell<BTreeMap<String, Table>>>;

/// Answers every request with a placeholder value, recording each struct it is asked for.
struct Recorder {
    path: String,
    in_array: bool,
    tables: Tables,
}

impl Recorder {
    fn child(&self, field: &str, in_array: bool) -> Recorder {
        Recorder {
            path: if self.path.is_empty() {
                field.to_owned()
            } else {
                format!("{}.{field}", self.path)
            },
            in_array,
            tables: self.tables.clone(),
        }
    }
}

#[derive(Debug)]
struct Unreachable(String);

impl std::fmt::Display for Unreachable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unreachable {}

impl de::Error for Unreachable {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Unreachable(msg.to_string())
    }
}

impl<'de> Deserializer<'de> for Recorder {
    type Error = Unreachable;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Unreachable> {
        visitor.visit_str("")
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Unreachable> {
        visitor.visit_bool(false)
    }

    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Unreachable> {
        visitor.visit_u64(0)
    }

    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Unreachable> {
        visitor.visit_u64(0)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Unreachable> {
        // Some, so that optional tables are walked too.
        visitor.visit_some(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Unreachable> {
        visitor.visit_seq(OneItem(Some(Recorder {
            in_array: true,
            ..self
        })))
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Unreachable> {
        // A free-form table (claims, JWKs): no keys of its own to document.
        visitor.visit_map(Fields {
            parent: self,
            fields: &[],
            next: 0,
        })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Unreachable> {
        {
            let mut tables = self.tables.borrow_mut();
            let table = tables.entry(self.path.clone()).or_default();
            table.keys.extend(fields.iter().copied());
            table.array |= self.in_array;
        }
        visitor.visit_map(Fields {
            parent: self,
            fields,
            next: 0,
        })
    }

    serde::forward_to_deserialize_any! {
        i8 i16 i32 i64 i128 u8 u16 u128 f32 f64 char str string bytes byte_buf unit
        unit_struct newtype_struct tuple tuple_struct enum identifier ignored_any
    }
}

struct OneItem(Option<Recorder>);

impl<'de> SeqAccess<'de> for OneItem {
    type Error = Unreachable;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Unreachable> {
        self.0.take().map(|item| seed.deserialize(item)).transpose()
    }
}

struct Fields {
    parent: Recorder,
    fields: &'static [&'static str],
    next: usize,
}

impl<'de> MapAccess<'de> for Fields {
    type Error = Unreachable;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Unreachable> {
        let Some(field) = self.fields.get(self.next) else {
            return Ok(None);
        };
        seed.deserialize(de::value::StrDeserializer::<Unreachable>::new(field))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Unreachable> {
        let field = self.fields[self.next];
        self.next += 1;
        seed.deserialize(self.parent.child(field, false))
    }
}

/// Every table `RawSettings` reads, by its path (`""` for the top level).
fn code_tables() -> BTreeMap<String, Table> {
    let tables = Tables::default();
    let recorder = Recorder {
        path: String::new(),
        in_array: false,
        tables: tables.clone(),
    };
    RawSettings::deserialize(recorder).expect("the recorder answers every request");
    tables.take()
}

/// One row of the reference.
#[derive(Debug)]
struct Row {
    key: String,
    default: String,
}

/// The reference's tables by path, from its headings (`Top-level keys`, `[tokens]`,
/// `[[clients]]`, `[clients.access_token_encryption]`, ...), with whether the heading names an
/// array of tables.
fn documented_tables(page: &str) -> BTreeMap<String, (bool, Vec<Row>)> {
    let mut tables = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in page.lines() {
        if let Some(heading) = line.strip_prefix("## ") {
            current = match heading {
                "Top-level keys" => Some(String::new()),
                _ if heading.starts_with('[') => Some(heading.to_owned()),
                _ => None,
            };
            if let Some(heading) = &current {
                let array = heading.starts_with("[[");
                let path = heading.trim_matches(['[', ']']).to_owned();
                tables.insert(path.clone(), (array, Vec::new()));
                current = Some(path);
            }
            continue;
        }
        let (Some(path), Some(row)) = (&current, line.strip_prefix("| `")) else {
            continue;
        };
        let cells: Vec<&str> = row.split(" | ").collect();
        let key = cells[0].trim_end_matches('`').to_owned();
        let default = cells.get(2).copied().unwrap_or_default().to_owned();
        tables
            .get_mut(path)
            .expect("a table per heading")
            .1
            .push(Row { key, default });
    }
    tables
}

fn page() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/configuration.md");
    std::fs::read_to_string(path).expect("docs/configuration.md is readable")
}

#[test]
fn every_table_and_key_the_code_reads_is_documented_and_nothing_else() {
    let code = code_tables();
    let docs = documented_tables(&page());
    let code_paths: BTreeSet<&String> = code.keys().collect();
    let doc_paths: BTreeSet<&String> = docs.keys().collect();
    assert_eq!(
        code_paths, doc_paths,
        "the tables the code reads and the page's headings"
    );
    for (path, table) in &code {
        let (array, rows) = &docs[path];
        assert_eq!(*array, table.array, "[{path}]: array of tables or not");
        // At the top level, a table is documented by its own heading, not as a row.
        let expected: BTreeSet<&str> = table
            .keys
            .iter()
            .copied()
            .filter(|key| !(path.is_empty() && code.contains_key(*key)))
            .collect();
        let documented: BTreeSet<&str> = rows.iter().map(|row| row.key.as_str()).collect();
        assert_eq!(documented, expected, "the keys of [{path}]");
        assert_eq!(
            rows.len(),
            documented.len(),
            "[{path}] documents a key twice"
        );
    }
}

/// What a table needs to be valid, so that one documented key can be added to it; `extra` goes
/// into the `access_token_encryption` inline table of the encryption sections.
fn base_of(path: &str, fixtures: &Fixtures, extra: &str) -> Option<String> {
    let client = format!(
        "client_id = \"c\"\nclient_secret_hash = \"{}\"\naudience = [\"https://api.example\"]",
        fixtures.hash
    );
    let encryption = |key: &str| {
        format!(
            "access_token_encryption = {{ jwk = {}, alg = \"ECDH-ES+A256KW\"{key} }}",
            fixtures.encryption_jwk
        )
    };
    Some(match path {
        "" => String::new(),
        "server" | "tokens" | "keys" | "client_auth" | "user_auth" | "authorize"
        | "client_assertions" | "device" | "logout" | "dpop" | "log" | "revocation"
        | "status_lists" => {
            format!("[{path}]")
        }
        "tls" => "[tls]\ncert_file = \"tls.pem\"\nkey_file = \"tls.key\"".to_owned(),
        "clients" => format!("[[clients]]\n{client}"),
        "clients.access_token_encryption" => {
            format!("[[clients]]\n{client}\n{}", encryption(extra))
        }
        "users" => format!("[[users]]\nusername = \"u\"\npassword_hash = \"{}\"", fixtures.hash),
        "resources" => "[[resources]]\naudience = \"https://api.example\"".to_owned(),
        "resources.access_token_encryption" => {
            format!("[[resources]]\naudience = \"https://api.example\"\n{}", encryption(extra))
        }
        "trusted_issuers" => format!(
            "[[trusted_issuers]]\nissuer = \"https://other.example\"\njwks = {{ keys = [ {} ] }}",
            fixtures.signing_jwk
        ),
        "routes" => "[[routes]]\npath = \"/v1/token\"\nendpoint = \"token\"".to_owned(),
        "providers" => "[[providers]]\nname = \"fb\"\ntype = \"facebook\"\napp_id = \"1\"\napp_secret_file = \"app.secret\"".to_owned(),
        "uma_resources" => "[[uma_resources]]\nid = \"r\"\nresource_server = \"c\"".to_owned(),
        _ => return None,
    })
}

struct Fixtures {
    dir: tempfile::TempDir,
    hash: String,
    encryption_jwk: String,
    signing_jwk: String,
}

/// A public JWK as a TOML inline table.
fn inline(jwk: &crate::jose::Jwk) -> String {
    let members: Vec<String> = ["kty", "crv", "x", "y", "alg", "use"]
        .iter()
        .filter_map(|name| {
            let value = jwk.parameter(name)?.as_str()?;
            Some(format!("{name} = \"{value}\""))
        })
        .collect();
    format!("{{ {} }}", members.join(", "))
}

fn fixtures() -> Fixtures {
    use crate::jose::{
        generate_encryption_key, generate_signing_key, KeyManagementAlg, SigningAlg,
    };
    let dir = tempfile::TempDir::new().unwrap();
    for file in ["tls.pem", "tls.key", "app.secret"] {
        std::fs::write(dir.path().join(file), "placeholder").unwrap();
    }
    Fixtures {
        hash: crate::oauth::credentials::hash_secret("a secret"),
        encryption_jwk: inline(&generate_encryption_key(KeyManagementAlg::EcdhEsA256Kw).unwrap()),
        signing_jwk: inline(&generate_signing_key(SigningAlg::ES256).unwrap()),
        dir,
    }
}

#[test]
fn every_documented_default_is_accepted_and_is_the_default() {
    let docs = documented_tables(&page());
    let fixtures = fixtures();
    let parse = |text: &str| {
        let text = format!("issuer = \"https://id.example\"\n{text}\n");
        super::Settings::parse(&text, fixtures.dir.path(), Vec::new())
            .map(|settings| format!("{settings:?}"))
            .map_err(|err| format!("{err:?}"))
    };
    let mut checked = 0;
    for (path, (_, rows)) in &docs {
        for row in rows {
            // A TOML value in backticks; `—` and derived defaults (in italics) are words.
            let Some(value) = row
                .default
                .strip_prefix('`')
                .and_then(|rest| rest.strip_suffix('`'))
            else {
                continue;
            };
            let with_key = match path.as_str() {
                "clients.access_token_encryption" | "resources.access_token_encryption" => {
                    base_of(path, &fixtures, &format!(", {} = {value}", row.key)).unwrap()
                }
                "uma_resources.policies" => format!(
                    "{}\npolicies = [ {{ {} = {value} }} ]",
                    base_of("uma_resources", &fixtures, "").unwrap(),
                    row.key
                ),
                _ => format!(
                    "{}\n{} = {value}",
                    base_of(path, &fixtures, "").unwrap_or_else(|| panic!("no base for [{path}]")),
                    row.key
                ),
            };
            let without = match path.as_str() {
                "uma_resources.policies" => format!(
                    "{}\npolicies = [ {{}} ]",
                    base_of("uma_resources", &fixtures, "").unwrap()
                ),
                _ => base_of(path, &fixtures, "").unwrap(),
            };
            let (left_out, written) = (parse(&without), parse(&with_key));
            assert!(
                written.is_ok(),
                "[{path}] {} = {value}: {written:?}",
                row.key
            );
            assert_eq!(
                written, left_out,
                "[{path}] {}: the documented default {value} is not what leaving it out gives",
                row.key
            );
            checked += 1;
        }
    }
    assert!(checked > 50, "only {checked} documented defaults found");
}

/// Every `(table, key)` a configuration file writes, tables named by their reference path.
fn keys_written(path: &str, table: &toml::Table, into: &mut BTreeSet<(String, String)>) {
    for (key, value) in table {
        into.insert((path.to_owned(), key.clone()));
        let child = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        match value {
            toml::Value::Table(inner) => keys_written(&child, inner, into),
            toml::Value::Array(items) => {
                for item in items {
                    if let toml::Value::Table(inner) = item {
                        keys_written(&child, inner, into);
                    }
                }
            }
            _ => {}
        }
    }
}

#[test]
fn the_example_configurations_use_every_documented_key() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/config/examples");
    let mut written = BTreeSet::new();
    let mut examples = 0;
    for entry in std::fs::read_dir(dir).expect("config/examples exists") {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|ext| ext == "toml") {
            let text = std::fs::read_to_string(&path).unwrap();
            let table: toml::Table = text.parse().unwrap_or_else(|err| panic!("{path:?}: {err}"));
            keys_written("", &table, &mut written);
            examples += 1;
        }
    }
    assert!(examples >= 3, "{examples} examples");
    let missing: Vec<String> = documented_tables(&page())
        .into_iter()
        .flat_map(|(path, (_, rows))| rows.into_iter().map(move |row| (path.clone(), row.key)))
        .filter(|entry| !written.contains(entry))
        .map(|(path, key)| format!("[{path}] {key}"))
        .collect();
    assert!(missing.is_empty(), "no example sets {missing:?}");
}
