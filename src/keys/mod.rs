//! The issuer's key ring: signing keys with their activation times, the published encryption
//! key(s) and the symmetric key for tokens the issuer encrypts to itself.
//!
//! Rotation without downtime: a new signing key is published in the JWKS as soon as it exists but
//! signs only from its `activates_at` (the publish-ahead delay lets verifiers' caches fetch it
//! first). A key that a newer one replaced stays published until every token it signed has
//! expired (`retention`), then disappears from the JWKS.

mod lifecycle;
mod store;

pub use lifecycle::{prunable, remove, stored_states, KeyState};
pub use store::{ensure_dir, load_all, prepare, write_new, KeyPurpose, StoredKey};

use lifecycle::signing_key_state;

use crate::clock::UnixTime;
use crate::jose::AssertionDecrypter;
use crate::jose::{
    generate_encryption_key, generate_secret_key, generate_signing_key, public_jwk, CompactJws,
    Jwk, JwsHeader, JwsSigner, KeyError, KeyManagementAlg, SigningAlg,
};
use crate::names::names;
use aws_lc_rs::{hkdf, hmac};
use serde_json::{Map, Value};
use std::path::Path;
use std::time::Duration;

pub struct SigningKey {
    pub signer: JwsSigner,
    pub created_at: UnixTime,
    pub activates_at: UnixTime,
    public: Map<String, Value>,
}

pub struct EncryptionKey {
    pub jwk: Jwk,
    pub alg: KeyManagementAlg,
    /// Opens client assertions encrypted to this key.
    pub decrypter: AssertionDecrypter,
    public: Map<String, Value>,
}

/// The symmetric key (JWE `dir`) for refresh tokens, codes and sessions.
pub struct SecretKey {
    pub kid: String,
    pub jwk: Jwk,
    /// A MAC key derived from it (HKDF-SHA256), for values the issuer checks itself without
    /// storing them (DPoP nonces): every replica sharing the keys folder derives the same one.
    pub mac: hmac::Key,
}

/// The HKDF `info` of the derived MAC key: changing it changes every derived value.
const MAC_KEY_INFO: &[u8] = b"tessera derived MAC key v1";

/// HKDF-SHA256 of the secret key's bytes into a MAC key.
fn derive_mac_key(jwk: &Jwk) -> Result<hmac::Key, KeyError> {
    use base64::Engine;
    let secret = jwk
        .parameter("k")
        .and_then(Value::as_str)
        .and_then(|k| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(k)
                .ok()
        })
        .ok_or_else(|| KeyError::new("the secret key has no usable 'k' member"))?;
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, &[]).extract(&secret);
    let okm = prk
        .expand(&[MAC_KEY_INFO], hmac::HMAC_SHA256)
        .map_err(|_| KeyError::new("the MAC key could not be derived"))?;
    Ok(hmac::Key::from(okm))
}

pub struct KeyRing {
    /// Sorted by activation time.
    signing: Vec<SigningKey>,
    encryption: Vec<EncryptionKey>,
    /// Oldest first; the newest encrypts, any opens (by `kid`).
    secrets: Vec<SecretKey>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field(
                "signing",
                &self
                    .signing
                    .iter()
                    .map(|k| k.signer.kid())
                    .collect::<Vec<_>>(),
            )
            .field("encryption", &self.encryption.len())
            .finish_non_exhaustive()
    }
}

impl KeyRing {
    /// Loads every key of `dir`. The folder must hold at least one signing key for `alg`, one
    /// encryption key and one secret key.
    pub fn load(dir: &Path, alg: SigningAlg) -> Result<Self, KeyError> {
        Self::from_stored(load_all(dir)?, dir, alg)
    }

    /// A ring of fresh keys that lives only in memory (a signing key for `alg` active at `now`,
    /// an ECDH-ES+A256KW encryption key, a secret key): for unit tests and benches.
    pub fn in_memory(alg: SigningAlg, now: UnixTime) -> Result<Self, KeyError> {
        let stored = vec![
            prepare(generate_signing_key(alg)?, now, now)?,
            prepare(
                generate_encryption_key(KeyManagementAlg::EcdhEsA256Kw)?,
                now,
                now,
            )?,
            prepare(generate_secret_key()?, now, now)?,
        ];
        Self::from_stored(stored, Path::new("(memory)"), alg)
    }

    fn from_stored(stored: Vec<StoredKey>, dir: &Path, alg: SigningAlg) -> Result<Self, KeyError> {
        let mut signing = Vec::new();
        let mut encryption = Vec::new();
        let mut secrets = Vec::new();
        for key in stored {
            let in_file = |err: KeyError| KeyError::new(format!("{}: {err}", key.path.display()));
            match key.purpose {
                KeyPurpose::Signing(key_alg) => signing.push(SigningKey {
                    signer: JwsSigner::from_jwk(&key.jwk, key_alg).map_err(in_file)?,
                    public: public_jwk(&key.jwk).map_err(in_file)?,
                    created_at: key.created_at,
                    activates_at: key.activates_at,
                }),
                KeyPurpose::Encryption(key_alg) => encryption.push(EncryptionKey {
                    public: public_jwk(&key.jwk).map_err(in_file)?,
                    decrypter: AssertionDecrypter::new(&key.jwk, key_alg).map_err(in_file)?,
                    alg: key_alg,
                    jwk: key.jwk,
                }),
                KeyPurpose::Secret => secrets.push(SecretKey {
                    mac: derive_mac_key(&key.jwk).map_err(in_file)?,
                    kid: key.kid,
                    jwk: key.jwk,
                }),
            }
        }
        let missing = |what: &str, command: &str| {
            KeyError::new(format!(
                "{} holds no {what}; create one with `tessera keys generate {command}`",
                dir.display()
            ))
        };
        if !signing.iter().any(|key| key.signer.alg() == alg) {
            return Err(missing(
                &format!("{alg} signing key"),
                &format!("--alg {alg}"),
            ));
        }
        if encryption.is_empty() {
            return Err(missing("encryption key", "--alg ECDH-ES+A256KW"));
        }
        if secrets.is_empty() {
            return Err(missing("secret key", "--alg dir"));
        }
        Ok(Self {
            signing,
            encryption,
            secrets,
        })
    }

    /// The key that signs `alg` tokens at `now`: the newest one already active.
    pub fn signer(&self, alg: SigningAlg, now: UnixTime) -> Option<&JwsSigner> {
        self.signing
            .iter()
            .rev()
            .find(|key| key.signer.alg() == alg && key.activates_at <= now)
            .map(|key| &key.signer)
    }

    /// The secret key that encrypts: the newest.
    pub fn secret(&self) -> &SecretKey {
        self.secrets
            .last()
            .expect("a ring holds at least one secret key")
    }

    /// Every secret key, newest first: what any of them made can be checked.
    pub fn secrets_newest_first(&self) -> impl Iterator<Item = &SecretKey> {
        self.secrets.iter().rev()
    }

    /// Every secret key, to open what any of them encrypted.
    pub fn secret_jwks(&self) -> impl Iterator<Item = &Jwk> {
        self.secrets.iter().map(|secret| &secret.jwk)
    }

    pub fn encryption_keys(&self) -> &[EncryptionKey] {
        &self.encryption
    }

    /// The state of signing key `index` at `now` when `alg` is configured and signed tokens live
    /// at most `retention`.
    pub fn state(
        &self,
        index: usize,
        alg: SigningAlg,
        now: UnixTime,
        retention: Duration,
    ) -> KeyState {
        let timeline: Vec<(SigningAlg, UnixTime)> = self
            .signing
            .iter()
            .map(|key| (key.signer.alg(), key.activates_at))
            .collect();
        signing_key_state(&timeline, index, alg, now, retention)
    }

    /// Verifies a compact JWS signed by one of this ring's keys still published at `now`, with
    /// the algorithm of that key (never the one the header would like). Returns the header and
    /// the payload bytes; `None` for anything else.
    pub fn verify(
        &self,
        token: &str,
        alg: SigningAlg,
        now: UnixTime,
        retention: Duration,
    ) -> Option<(JwsHeader, Vec<u8>)> {
        let jws = CompactJws::parse(token)?;
        if jws.header.crit.is_some() {
            return None;
        }
        let kid = jws.header.kid.as_deref()?;
        let index = self
            .signing
            .iter()
            .position(|key| key.signer.kid() == kid)?;
        if !self.state(index, alg, now, retention).is_published() {
            return None;
        }
        let signer = &self.signing[index].signer;
        if jws.header.alg != signer.alg().as_str()
            || !signer.verify_signature(jws.signing_input.as_bytes(), &jws.signature)
        {
            return None;
        }
        Some((jws.header, jws.payload))
    }

    /// The JWK Set published at `now`: every signing key not expired, and the encryption keys.
    pub fn jwks(&self, alg: SigningAlg, now: UnixTime, retention: Duration) -> Value {
        let mut keys: Vec<Value> = (0..self.signing.len())
            .filter(|&i| self.state(i, alg, now, retention).is_published())
            .map(|i| Value::Object(self.signing[i].public.clone()))
            .collect();
        keys.extend(
            self.encryption
                .iter()
                .map(|key| Value::Object(key.public.clone())),
        );
        serde_json::json!({ "keys": keys })
    }
}

/// When the keys folder holds no key at all, fills it with development keys: one signing key for
/// `alg` active at once, one ECDH-ES+A256KW encryption key and one secret key. Returns whether it
/// did.
pub fn ensure_development_keys(
    dir: &Path,
    alg: SigningAlg,
    now: UnixTime,
) -> Result<bool, KeyError> {
    if !load_all(dir)?.is_empty() {
        return Ok(false);
    }
    write_new(dir, generate_signing_key(alg)?, now, now)?;
    write_new(
        dir,
        generate_encryption_key(KeyManagementAlg::EcdhEsA256Kw)?,
        now,
        now,
    )?;
    write_new(dir, generate_secret_key()?, now, now)?;
    Ok(true)
}

/// What `tessera keys generate` makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySpec {
    Signing(SigningAlg),
    Encryption(KeyManagementAlg),
    Secret,
}

impl std::str::FromStr for KeySpec {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        if value == "dir" {
            return Ok(KeySpec::Secret);
        }
        if let Ok(alg) = value.parse() {
            return Ok(KeySpec::Signing(alg));
        }
        value.parse().map(KeySpec::Encryption).map_err(|_| {
            format!(
                "unknown algorithm '{value}' (signing: {}; encryption: {}; secret: dir)",
                names::<SigningAlg>(),
                names::<KeyManagementAlg>()
            )
        })
    }
}

/// Generates one key of `spec` into `dir`, signing from `activates_at`. A new signing key always
/// activates strictly after every existing key of its algorithm, so which key signs is never a tie.
pub fn generate(
    dir: &Path,
    spec: KeySpec,
    now: UnixTime,
    activates_at: UnixTime,
) -> Result<StoredKey, KeyError> {
    let mut activates_at = activates_at;
    let jwk = match spec {
        KeySpec::Signing(alg) => {
            let latest = load_all(dir)?
                .iter()
                .filter(|key| key.purpose == KeyPurpose::Signing(alg))
                .map(|key| key.activates_at)
                .max();
            if let Some(latest) = latest {
                activates_at = activates_at.max(latest + 1);
            }
            generate_signing_key(alg)?
        }
        KeySpec::Encryption(alg) => generate_encryption_key(alg)?,
        KeySpec::Secret => generate_secret_key()?,
    };
    write_new(dir, jwk, now, activates_at)
}

/// Rotation: a new `alg` signing key, published now, signing after `publish_ahead`.
pub fn rotate(
    dir: &Path,
    alg: SigningAlg,
    now: UnixTime,
    publish_ahead: Duration,
) -> Result<StoredKey, KeyError> {
    generate(
        dir,
        KeySpec::Signing(alg),
        now,
        now + publish_ahead.as_secs() as i64,
    )
}
