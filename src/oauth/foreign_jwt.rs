//! One verifier for the JWTs Tessera did not sign — client assertions, trusted issuers' JWTs
//! and OIDC providers' ID tokens (DPoP proofs go through the verifier's DPoP checker, see
//! `dpop`): `tessera-verifier`'s JWS layer over the signer's key source (keys parsed once; a
//! `jwks_uri` fetched on first use, kept fresh, fetched again for an unknown kid at most once
//! per interval). Each caller decides which algorithms it allows and how each
//! failure reads in its own answer.

use crate::jose::{AssertionAlg, SigningAlg};
use serde_json::Value;
use tessera_verifier::{Algorithm, Error, JwsPolicy, KeySource, UnverifiedJws, VerifiedJws};

/// Why a foreign JWT was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForeignJwtError {
    /// Not a compact JWS (or its parts are not base64url JSON).
    Malformed,
    /// Larger than allowed (the token or its header).
    TooLarge,
    /// The header's `alg` is not one the caller allows.
    AlgorithmNotAllowed,
    /// The header has `crit`: nothing is understood, so nothing may be critical.
    CriticalHeader,
    /// The signer's `jwks_uri` could not be fetched.
    KeysUnavailable,
    /// No registered key is the one the token names (or, without a kid, the only one that fits).
    NoMatchingKey,
    /// The key is known but the signature is not its.
    BadSignature,
}

impl From<Error> for ForeignJwtError {
    fn from(err: Error) -> Self {
        match err {
            Error::TooLarge(_) => ForeignJwtError::TooLarge,
            Error::AlgorithmNotAllowed => ForeignJwtError::AlgorithmNotAllowed,
            Error::CriticalHeader => ForeignJwtError::CriticalHeader,
            Error::KeysUnavailable(_) => ForeignJwtError::KeysUnavailable,
            Error::NoMatchingKey => ForeignJwtError::NoMatchingKey,
            Error::BadSignature => ForeignJwtError::BadSignature,
            _ => ForeignJwtError::Malformed,
        }
    }
}

/// The verifier's name for an algorithm of ours.
pub fn algorithm(alg: AssertionAlg) -> Algorithm {
    alg.as_str()
        .parse()
        .expect("every algorithm Tessera accepts is one the verifier knows")
}

/// A policy allowing exactly `algs`, with tokens up to `max_len` bytes.
pub fn policy(algs: impl IntoIterator<Item = AssertionAlg>, max_len: usize) -> JwsPolicy {
    let algs: Vec<Algorithm> = algs.into_iter().map(algorithm).collect();
    JwsPolicy {
        max_token_len: max_len,
        ..JwsPolicy::with_algorithms(&algs)
    }
}

/// A policy allowing the asymmetric `algs`.
pub fn asymmetric_policy(algs: &[SigningAlg], max_len: usize) -> JwsPolicy {
    policy(algs.iter().copied().map(AssertionAlg::Asymmetric), max_len)
}

/// Splits `token` and checks its header against `policy`; nothing is verified yet.
pub fn parse<'t>(token: &'t str, policy: &JwsPolicy) -> Result<UnverifiedJws<'t>, ForeignJwtError> {
    Ok(UnverifiedJws::parse(token, policy)?)
}

/// Our name for the algorithm of a parsed header.
pub fn header_alg(jws: &UnverifiedJws<'_>) -> AssertionAlg {
    jws.header()
        .alg
        .as_str()
        .parse()
        .expect("the policy only lets through algorithms of ours")
}

/// Checks the signature of `jws` with the key of `keys` its header selects.
pub async fn verify(
    jws: UnverifiedJws<'_>,
    keys: Option<&KeySource>,
) -> Result<VerifiedJws, ForeignJwtError> {
    let keys = keys.ok_or(ForeignJwtError::NoMatchingKey)?;
    Ok(jws.verify(keys).await?)
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
