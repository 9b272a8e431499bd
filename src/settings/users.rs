//! `[[users]]`: people who sign in with a password.

use super::problems::Problems;
use super::values::json_object;
use crate::registry::{SecretHash, User, UserRegistry, RESERVED_CLAIMS};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::HashSet;

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct RawUser {
    username: Option<String>,
    password_hash: Option<String>,
    claims: toml::Table,
}

/// Every user, usernames unique.
pub(super) fn validate_users(raws: &[RawUser], problems: &mut Problems) -> UserRegistry {
    let mut seen = HashSet::new();
    let users = problems.each("users", raws, |raw, problems| {
        let username = raw.username(problems);
        if let Some(username) = &username {
            if !seen.insert(username.clone()) {
                problems.push("username", format!("duplicate username '{username}'"));
            }
        }
        let password_hash = raw.password_hash(problems);
        let claims = raw.claims(problems);
        Some(User {
            username: username?,
            password_hash: password_hash?,
            claims: claims?,
        })
    });
    UserRegistry::new(&users)
}

impl RawUser {
    fn username(&self, problems: &mut Problems) -> Option<String> {
        match self.username.as_deref() {
            Some(name)
                if !name.is_empty() && name.len() <= 255 && !name.chars().any(char::is_control) =>
            {
                Some(name.to_owned())
            }
            _ => {
                problems.push("username", "is required: at most 255 printable characters");
                None
            }
        }
    }

    fn password_hash(&self, problems: &mut Problems) -> Option<SecretHash> {
        let Some(hash) = self.password_hash.as_deref() else {
            problems.push(
                "password_hash",
                "is required (make one with `tessera user password-hash`)",
            );
            return None;
        };
        let parsed = SecretHash::parse(hash, "tessera user password-hash").and_then(|parsed| {
            match parsed {
                SecretHash::Argon2(_) => Ok(parsed),
                // A person's password can be guessed: only a slow hash protects it.
                SecretHash::Keyed { .. } => Err(
                    "a password needs an argon2id hash; make one with `tessera user password-hash`"
                        .to_owned(),
                ),
            }
        });
        problems.check("password_hash", parsed)
    }

    /// The claims, none of them one Tessera sets itself.
    fn claims(&self, problems: &mut Problems) -> Option<Map<String, Value>> {
        let Some(claims) = json_object(&self.claims) else {
            problems.push("claims", "must be a table of JSON-compatible values");
            return None;
        };
        let mut claim_problems = problems.at("claims");
        for name in claims.keys() {
            if RESERVED_CLAIMS.contains(&name.as_str()) {
                claim_problems.push(name, "is set by Tessera and cannot be configured");
            }
        }
        Some(claims)
    }
}
