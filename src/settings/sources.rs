//! Where a section's public keys (`jwks` | `jwks_file` | `jwks_uri`) and raw secrets (`*_env` |
//! `*_file`) come from. Clients, providers and trusted issuers spell the same sources; each
//! hands its fields to these types, which check and read them the same way for all.
//!
//! The fields stay in each section's raw struct rather than in a `#[serde(flatten)]`ed one:
//! serde reads a struct with a flattened member as a map and drops the keys no member takes
//! without telling serde_ignored, so a typo such as `scops` would no longer be reported.

use super::client_assertions::ClientAssertionSettings;
use super::problems::Problems;
use super::values::{is_https_or_loopback, json_object};
use crate::jose::has_private_members;
use crate::registry::{ClientKeys, RawSecret};
use serde_json::{Map, Value};
use std::path::Path;
use std::sync::Arc;
use tessera_verifier::{KeySet, KeySource as Keys, RemoteKeySet, VerifyingKey};

/// `jwks = { keys = [...] }`, `jwks_file = "..."` or `jwks_uri = "https://..."`: at most one.
pub(super) struct KeySource<'a> {
    jwks: Option<&'a toml::Table>,
    jwks_file: Option<&'a str>,
    jwks_uri: Option<&'a str>,
}

impl<'a> KeySource<'a> {
    /// The key source a section's `jwks`, `jwks_file` and `jwks_uri` fields make.
    pub(super) fn of(
        jwks: &'a Option<toml::Table>,
        jwks_file: &'a Option<String>,
        jwks_uri: &'a Option<String>,
    ) -> Self {
        Self {
            jwks: jwks.as_ref(),
            jwks_file: jwks_file.as_deref(),
            jwks_uri: jwks_uri.as_deref(),
        }
    }

    /// The public keys; `required` says why some are needed when they are.
    pub(super) fn validate(
        &self,
        problems: &mut Problems,
        base_dir: &Path,
        required: Option<&str>,
        fetching: &ClientAssertionSettings,
    ) -> ClientKeys {
        let keys = match (self.jwks, self.jwks_file, self.jwks_uri) {
            (None, None, None) => ClientKeys::None,
            (Some(table), None, None) => match json_object(table) {
                Some(set) => {
                    static_keys(public_keys(&mut problems.at("jwks"), &Value::Object(set)))
                }
                None => ClientKeys::None,
            },
            (None, Some(file), None) => {
                let full = base_dir.join(file);
                let set = std::fs::read(&full)
                    .map_err(|err| format!("cannot read {}: {err}", full.display()))
                    .and_then(|bytes| {
                        serde_json::from_slice(&bytes).map_err(|err| format!("not JSON: {err}"))
                    });
                match problems.check("jwks_file", set) {
                    Some(set) => static_keys(public_keys(&mut problems.at("jwks_file"), &set)),
                    None => ClientKeys::None,
                }
            }
            (None, None, Some(uri)) if is_https_or_loopback(uri) => {
                match RemoteKeySet::lazy(fetching.remote_keys(uri)) {
                    Ok(remote) => Some(Keys::Remote(remote)),
                    Err(err) => {
                        problems.push("jwks_uri", err.to_string());
                        ClientKeys::None
                    }
                }
            }
            (None, None, Some(_)) => {
                problems.push("jwks_uri", "must be an https URL (http only on loopback)");
                ClientKeys::None
            }
            _ => {
                problems.push("jwks", "give only one of jwks, jwks_file or jwks_uri");
                ClientKeys::None
            }
        };
        if let Some(reason) = required {
            if keys.is_none() && !problems.any_under("jwks") {
                problems.push(
                    "jwks",
                    format!("{reason}: give jwks, jwks_file or jwks_uri"),
                );
            }
        }
        keys
    }
}

fn static_keys(keys: Option<Vec<Map<String, Value>>>) -> ClientKeys {
    keys.map(|keys| Keys::Static(Arc::new(KeySet::from_jwks(&keys))))
}

/// A JWK Set's keys, each checked public and of a known type.
fn public_keys(problems: &mut Problems, set: &Value) -> Option<Vec<Map<String, Value>>> {
    let Some(keys) = set.get("keys").and_then(|keys| keys.as_array()) else {
        problems.push("", "must be a JWK Set: { keys = [ ... ] }");
        return None;
    };
    let mut listed = problems.at("keys");
    let mut out = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let mut problems = listed.item(i);
        let Some(key) = key.as_object() else {
            problems.push("", "must be a JWK");
            continue;
        };
        if has_private_members(key) {
            problems.push("", "must be a public key (it has private members)");
            continue;
        }
        if !matches!(
            key.get("kty").and_then(|kty| kty.as_str()),
            Some("EC" | "RSA" | "OKP")
        ) {
            problems.push("", "kty must be EC, RSA or OKP");
            continue;
        }
        // Parsed now as it will be used, so a broken key is named here, not skipped later.
        if let Err(err) = VerifyingKey::from_jwk(key) {
            problems.push("", err.to_string());
            continue;
        }
        out.push(key.clone());
    }
    Some(out)
}

/// A secret itself (not a hash) from an environment variable or a file: `client_secret_env` |
/// `client_secret_file` for a client, `app_secret_env` | `app_secret_file` for a provider.
pub(super) struct SecretSource<'a> {
    /// The field names, as the section spells them.
    pub env_field: &'static str,
    pub file_field: &'static str,
    pub env: Option<&'a str>,
    pub file: Option<&'a str>,
}

impl SecretSource<'_> {
    /// The secret: `required` says why one is needed when it is, `min_len` is the shortest
    /// accepted.
    pub(super) fn validate(
        &self,
        problems: &mut Problems,
        base_dir: &Path,
        required: Option<&str>,
        min_len: usize,
    ) -> Option<RawSecret> {
        let (env_field, file_field) = (self.env_field, self.file_field);
        let secret = match (self.env, self.file) {
            (None, None) => None,
            (Some(name), None) => problems.check(env_field, read_env(name)),
            (None, Some(file)) => problems.check(file_field, read_file(&base_dir.join(file))),
            (Some(_), Some(_)) => {
                problems.push(
                    env_field,
                    format!("give only one of {env_field} or {file_field}"),
                );
                None
            }
        };
        if let Some(secret) = &secret {
            if secret.len() < min_len {
                problems.push(
                    env_field,
                    format!("the secret must be at least {min_len} bytes"),
                );
            }
        }
        if let Some(reason) = required {
            if secret.is_none() && self.env.is_none() && self.file.is_none() {
                let message = format!(
                    "{reason}: give {} or {}",
                    problems.path_of(env_field),
                    problems.path_of(file_field)
                );
                problems.push(env_field, message);
            }
        }
        secret.map(RawSecret::new)
    }
}

fn read_env(name: &str) -> Result<String, String> {
    std::env::var(name)
        .ok()
        .filter(|value| !value.is_empty())
        .ok_or_else(|| format!("the environment variable {name} is not set"))
}

fn read_file(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map(|text| text.trim_end_matches(['\r', '\n']).to_owned())
        .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
    if text.is_empty() {
        return Err("the file is empty".to_owned());
    }
    Ok(text)
}
