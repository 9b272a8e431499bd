//! `access_token_encryption` of a client or a resource: the public key its access tokens are
//! encrypted to, `{ jwk_file = "...", alg = "RSA-OAEP-256", enc = "A256GCM" }` or
//! `{ jwk = {...}, ... }`.

use super::problems::Problems;
use super::values::json_object;
use crate::jose::{has_private_members, Jwk, KeyManagementAlg, RecipientKey};
use serde::Deserialize;
use std::path::Path;

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub(super) struct RawEncryption {
    jwk_file: Option<String>,
    jwk: Option<toml::Table>,
    alg: Option<String>,
    enc: Option<String>,
}

impl RawEncryption {
    pub(super) fn validate(
        &self,
        problems: &mut Problems,
        base_dir: &Path,
    ) -> Option<RecipientKey> {
        let alg: Option<KeyManagementAlg> = match self.alg.as_deref() {
            None => {
                problems.push("alg", "is required (RSA-OAEP-256 or ECDH-ES+A256KW)");
                None
            }
            Some(text) => problems.check("alg", text.parse()),
        };
        if let Some(enc) = self.enc.as_deref() {
            if enc != "A256GCM" {
                problems.push("enc", format!("'{enc}' is not supported (A256GCM)"));
            }
        }
        let jwk = self.jwk(problems, base_dir)?;
        if has_private_members(jwk.as_ref()) {
            problems.push("", "the key must be public: Tessera only encrypts to it");
            return None;
        }
        let alg = alg?;
        problems.check(
            "",
            RecipientKey::new(jwk, alg).map_err(|err| err.to_string()),
        )
    }

    /// The key from `jwk_file` or `jwk`: exactly one.
    fn jwk(&self, problems: &mut Problems, base_dir: &Path) -> Option<Jwk> {
        match (&self.jwk_file, &self.jwk) {
            (Some(file), None) => {
                let full = base_dir.join(file);
                let bytes = problems.check(
                    "jwk_file",
                    std::fs::read(&full)
                        .map_err(|err| format!("cannot read {}: {err}", full.display())),
                )?;
                problems.check(
                    "jwk_file",
                    Jwk::from_bytes(&bytes).map_err(|err| format!("not a JWK: {err}")),
                )
            }
            (None, Some(table)) => {
                let Some(map) = json_object(table) else {
                    problems.push("jwk", "must be a JWK");
                    return None;
                };
                problems.check(
                    "jwk",
                    Jwk::from_map(map).map_err(|err| format!("not a JWK: {err}")),
                )
            }
            _ => {
                problems.push("", "give exactly one of jwk_file or jwk");
                None
            }
        }
    }
}
