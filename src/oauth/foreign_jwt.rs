//! One verifier for the JWTs Tessera did not sign — client assertions, trusted issuers' JWTs and
//! OIDC providers' ID tokens: the signer's registered keys (inline, from a file, or fetched from
//! its `jwks_uri`), the key its `kid` names, and one fetch again when a fetched set lacks that
//! kid (the fetcher rate-limits it). Each caller decides which algorithms it allows and how
//! each failure reads in its own answer.

use super::jwks_fetch::JwksFetcher;
use crate::jose::{key_fits, verify_with_jwk, CompactJws, SigningAlg};
use crate::registry::ClientKeys;
use serde_json::{Map, Value};
use std::sync::Arc;

/// Why a signature was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureError {
    /// The signer's `jwks_uri` could not be fetched.
    KeysUnavailable,
    /// No registered key is the one the token names (or, without a kid, the only one that fits).
    NoMatchingKey,
    /// The key is known but the signature is not its.
    Invalid,
}

/// The keys of `keys`, fetched again (rate-limited) with `refetch`.
pub async fn signing_keys(
    fetcher: &JwksFetcher,
    keys: &ClientKeys,
    refetch: bool,
) -> Result<Arc<Vec<Map<String, Value>>>, SignatureError> {
    match keys {
        ClientKeys::None => Ok(Arc::new(Vec::new())),
        ClientKeys::Static(keys) => Ok(keys.clone()),
        ClientKeys::Uri(uri) => fetcher
            .keys(uri, refetch)
            .await
            .map_err(|_| SignatureError::KeysUnavailable),
    }
}

/// The key `kid` names, or the only one that fits `alg` when there is no kid.
fn find_key<'a>(
    keys: &'a [Map<String, Value>],
    kid: Option<&str>,
    alg: SigningAlg,
) -> Option<&'a Map<String, Value>> {
    match kid {
        Some(kid) => keys
            .iter()
            .find(|key| key.get("kid").and_then(Value::as_str) == Some(kid)),
        None => {
            let mut fitting = keys.iter().filter(|key| key_fits(key, alg));
            match (fitting.next(), fitting.next()) {
                (Some(only), None) => Some(only),
                _ => None,
            }
        }
    }
}

/// Checks the signature of `jws` under `alg` (which the caller has allowed) with the signer's
/// key that the header's `kid` names.
pub async fn verify_signature(
    fetcher: &JwksFetcher,
    keys: &ClientKeys,
    jws: &CompactJws<'_>,
    alg: SigningAlg,
) -> Result<(), SignatureError> {
    let kid = jws.header.kid.as_deref();
    let mut available = signing_keys(fetcher, keys, false).await?;
    if find_key(&available, kid, alg).is_none() && matches!(keys, ClientKeys::Uri(_)) {
        // A kid we have not seen: the signer may have rotated. Fetch again (rate-limited).
        available = signing_keys(fetcher, keys, true).await?;
    }
    let key = find_key(&available, kid, alg).ok_or(SignatureError::NoMatchingKey)?;
    if verify_with_jwk(key, alg, jws.signing_input.as_bytes(), &jws.signature) {
        Ok(())
    } else {
        Err(SignatureError::Invalid)
    }
}

/// Whether an `aud` claim (a string or an array of strings) names one of `accepted`.
pub fn audience_matches(aud: &Value, accepted: &[String]) -> bool {
    match aud {
        Value::String(one) => accepted.contains(one),
        Value::Array(many) => many
            .iter()
            .filter_map(Value::as_str)
            .any(|one| accepted.iter().any(|a| a == one)),
        _ => false,
    }
}
