//! Where verification keys come from: a static JWK Set, a remote one kept fresh in the
//! background ([`RemoteKeySet`]), or a shared secret for `client_secret_jwt`.

mod remote;

pub use remote::{RemoteKeySet, RemoteKeysConfig};

use crate::alg::Algorithm;
use crate::jwk::{KeySet, Selection};
use crate::Error;
use aws_lc_rs::hmac;
use std::sync::Arc;

/// Keys a JWS is verified against. Cheap to clone (shared inside).
#[derive(Clone, Debug)]
pub enum KeySource {
    /// A fixed JWK Set, parsed once.
    Static(Arc<KeySet>),
    /// A JWK Set fetched from an issuer and kept fresh.
    Remote(RemoteKeySet),
    /// A secret the caller shares with the signer (`client_secret_jwt`): HMAC algorithms only.
    SharedSecret(SharedSecret),
}

impl KeySource {
    /// A static source from a JWK Set document.
    pub fn from_jwks_json(document: &[u8]) -> Result<Self, Error> {
        Ok(KeySource::Static(Arc::new(KeySet::from_json(document)?)))
    }

    /// A remote source: loads the set now (an error if it cannot), then keeps it fresh.
    pub async fn remote(config: RemoteKeysConfig) -> Result<Self, Error> {
        Ok(KeySource::Remote(RemoteKeySet::load(config).await?))
    }

    /// A shared-secret source.
    pub fn shared_secret(secret: impl Into<Vec<u8>>) -> Result<Self, Error> {
        Ok(KeySource::SharedSecret(SharedSecret::new(secret)?))
    }

    /// The public keys as they are now (none for a shared secret).
    pub async fn key_set(&self) -> Result<Arc<KeySet>, Error> {
        match self {
            KeySource::Static(set) => Ok(set.clone()),
            KeySource::Remote(remote) => remote.current_keys().await,
            KeySource::SharedSecret(_) => Ok(Arc::new(KeySet::default())),
        }
    }

    /// Verifies `signature` over `message` with the key `kid`/`alg` select.
    pub(crate) async fn verify_signature(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), Error> {
        match self {
            KeySource::SharedSecret(secret) => secret.verify(alg, message, signature),
            // No public key ever verifies an HMAC: that would make the public key a secret.
            _ if alg.is_hmac() => Err(Error::AlgorithmNotAllowed),
            KeySource::Static(set) => match set.select(kid, alg) {
                Selection::Found(key) => key
                    .verify_sig(message, signature)
                    .map_err(|_| Error::BadSignature),
                Selection::Absent | Selection::Unusable => Err(Error::NoMatchingKey),
            },
            KeySource::Remote(remote) => {
                remote.verify_signature(kid, alg, message, signature).await
            }
        }
    }
}

/// A shared secret for HMAC-signed JWTs, with a key per HMAC algorithm built once.
///
/// RFC 7518 3.2 requires a key at least as long as the hash: a secret shorter than 32 bytes is
/// refused, and HS384/HS512 need 48/64 bytes.
///
/// ```
/// use tessera_verifier::SharedSecret;
/// assert!(SharedSecret::new(b"too short".to_vec()).is_err());
/// assert!(SharedSecret::new(vec![7u8; 32]).is_ok());
/// ```
#[derive(Clone)]
pub struct SharedSecret {
    len: usize,
    keys: Arc<HmacKeys>,
}

struct HmacKeys {
    hs256: hmac::Key,
    hs384: hmac::Key,
    hs512: hmac::Key,
}

impl std::fmt::Debug for SharedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedSecret(<redacted>)")
    }
}

impl SharedSecret {
    pub fn new(secret: impl Into<Vec<u8>>) -> Result<Self, Error> {
        let secret: Vec<u8> = secret.into();
        if secret.len() < 32 {
            return Err(Error::Malformed(
                "a shared secret must have at least 32 bytes",
            ));
        }
        Ok(Self {
            len: secret.len(),
            keys: Arc::new(HmacKeys {
                hs256: hmac::Key::new(hmac::HMAC_SHA256, &secret),
                hs384: hmac::Key::new(hmac::HMAC_SHA384, &secret),
                hs512: hmac::Key::new(hmac::HMAC_SHA512, &secret),
            }),
        })
    }

    fn verify(&self, alg: Algorithm, message: &[u8], tag: &[u8]) -> Result<(), Error> {
        let (key, min_len) = match alg {
            Algorithm::HS256 => (&self.keys.hs256, 32),
            Algorithm::HS384 => (&self.keys.hs384, 48),
            Algorithm::HS512 => (&self.keys.hs512, 64),
            _ => return Err(Error::AlgorithmNotAllowed),
        };
        if self.len < min_len {
            return Err(Error::NoMatchingKey);
        }
        // Constant-time comparison inside aws-lc-rs.
        hmac::verify(key, message, tag).map_err(|_| Error::BadSignature)
    }
}
