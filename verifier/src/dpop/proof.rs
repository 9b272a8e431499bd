//! The checks of one DPoP proof (RFC 9449 4.3), for whoever checks proofs: this crate's
//! resource servers, and Tessera's own token and resource endpoints, which plug in their shared
//! replay store and their own nonces. What the checker needs from its caller is a
//! [`DpopTarget`] (the request, its URL's bases, the token the proof must name, the nonces
//! accepted); what it does not do is spend the `jti`, which is the caller's last step, through
//! a [`DpopReplayStore`], once the request is otherwise accepted.

use crate::alg::{Algorithm, AlgorithmSet};
use crate::clock::UnixTime;
use crate::error::{DpopError, Limit};
use crate::jwk::{jwk_thumbprint, RawJwk, VerifyingKey, PRIVATE_MEMBERS};
use crate::jws::{JwsPolicy, UnverifiedJws};
use crate::Error;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use std::future::Future;
use std::time::Duration;
use subtle::ConstantTimeEq;

/// The largest proof accepted: an RSA-4096 key in its header fits with room to spare.
pub const MAX_PROOF_LEN: usize = 8 * 1024;
const MAX_PROOF_HEADER_LEN: usize = 4 * 1024;
/// The longest `jti` accepted (RFC 9449 4.2 asks for at least 96 random bits).
pub const MAX_JTI_LEN: usize = 256;
/// RFC 9449 4.2: the `typ` of a DPoP proof.
const PROOF_TYP: &str = "dpop+jwt";

/// How proofs are judged whatever the request: the `alg`s allowed and how far `iat` may be
/// from now, behind (`max_age`) and ahead (`max_ahead`).
///
/// ```
/// use std::time::Duration;
/// use tessera_verifier::{Algorithm, DpopProofRules};
/// let minute = Duration::from_secs(60);
/// let rules = DpopProofRules::new([Algorithm::ES256], minute, Duration::from_secs(5))?;
/// assert!(DpopProofRules::new([Algorithm::HS256], minute, Duration::ZERO).is_err());
/// # let _ = rules; Ok::<(), tessera_verifier::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct DpopProofRules {
    pub(crate) policy: JwsPolicy,
    pub(crate) max_age: i64,
    pub(crate) max_ahead: i64,
}

impl DpopProofRules {
    /// `algorithms` must be asymmetric ones (at least one); the ages are whole seconds.
    pub fn new(
        algorithms: impl IntoIterator<Item = Algorithm>,
        max_age: Duration,
        max_ahead: Duration,
    ) -> Result<Self, Error> {
        let algorithms: AlgorithmSet = algorithms.into_iter().collect();
        if algorithms.is_empty() || algorithms.without_hmac() != algorithms {
            return Err(Error::AlgorithmNotAllowed);
        }
        let seconds = |age: Duration| i64::try_from(age.as_secs()).unwrap_or(i64::MAX);
        Ok(Self {
            policy: JwsPolicy {
                algorithms,
                max_token_len: MAX_PROOF_LEN,
                max_header_len: MAX_PROOF_HEADER_LEN,
            },
            max_age: seconds(max_age),
            max_ahead: seconds(max_ahead),
        })
    }

    /// The algorithms allowed.
    pub fn algorithms(&self) -> AlgorithmSet {
        self.policy.algorithms
    }
}

/// Where the nonces a proof must carry come from (RFC 9449 9): [`DpopNonces`](crate::DpopNonces)
/// for a resource server, or a server's own (Tessera derives them from its keys folder).
pub trait DpopNonceSource {
    /// Whether `nonce` is one this source accepts at `now`.
    fn accepts(&self, nonce: &str, now: UnixTime) -> bool;
}

/// What one request's proof must match.
#[derive(Clone, Copy)]
pub struct DpopTarget<'a> {
    /// The request's method (`htm`).
    pub method: &'a str,
    /// The URLs the request's path may follow in `htu` (scheme, host, port, path prefix,
    /// without a trailing slash).
    pub bases: &'a [String],
    /// The request's path as received (a query is ignored).
    pub path: &'a str,
    /// The access token presented with the proof, which `ath` must name; `None` where no
    /// token comes with it (a token request).
    pub access_token: Option<&'a str>,
    /// The nonces required, when they are.
    pub nonces: Option<&'a dyn DpopNonceSource>,
}

/// A proof that passed every check but the replay store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedDpopProof {
    /// The RFC 7638 thumbprint of the proof's key (`cnf.jkt`).
    pub jkt: String,
    /// The proof's `jti`, to be spent once per key.
    pub jti: String,
    /// The last second at which the proof could still be accepted: how long its `jti` must be
    /// remembered.
    pub expires_at: UnixTime,
}

/// A store of spent proofs (RFC 9449 11.1): this crate's bounded in-memory cache, or a store
/// shared by the replicas of a server.
pub trait DpopReplayStore {
    type Error;
    /// Records `proof`'s `jti` for its key until `proof.expires_at`: `Ok(true)` when it had
    /// not been spent before.
    fn spend(
        &self,
        proof: &CheckedDpopProof,
        now: UnixTime,
    ) -> impl Future<Output = Result<bool, Self::Error>>;
}

/// Claims are read loosely so that a missing or mistyped one is named, not a parse error.
#[derive(Deserialize)]
struct ProofClaims {
    jti: Option<Value>,
    htm: Option<Value>,
    htu: Option<Value>,
    iat: Option<Value>,
    ath: Option<Value>,
    nonce: Option<Value>,
}

/// A string claim: missing or not a string is refused.
fn text<'v>(claim: &'v Option<Value>, name: &'static str) -> Result<&'v str, DpopError> {
    match claim {
        None | Some(Value::Null) => Err(DpopError::MissingClaim(name)),
        Some(Value::String(text)) => Ok(text),
        Some(_) => Err(DpopError::InvalidClaim(name)),
    }
}

/// Every check of RFC 9449 4.3 on `proof` for `target` at `now`, in the RFC's order, cheapest
/// refusals first: a compact JWS of an allowed `alg` (never `none`, never HMAC), no `crit`,
/// `typ` `dpop+jwt`, a public `jwk` in its header, the signature by that key, then `jti`,
/// `htm`, `htu`, the nonce, `iat` and `ath`. The `jti` is left for the caller to spend.
pub fn check_dpop_proof(
    proof: &str,
    rules: &DpopProofRules,
    target: &DpopTarget<'_>,
    now: UnixTime,
) -> Result<CheckedDpopProof, DpopError> {
    let (jkt, claims) = verified(proof, rules)?;
    let jti = text(&claims.jti, "jti")?.to_owned();
    if jti.is_empty() || jti.len() > MAX_JTI_LEN {
        return Err(DpopError::InvalidClaim("jti"));
    }
    if text(&claims.htm, "htm")? != target.method {
        return Err(DpopError::WrongMethod);
    }
    if !htu_matches(target.bases, text(&claims.htu, "htu")?, target.path) {
        return Err(DpopError::WrongUrl);
    }
    if let Some(nonces) = target.nonces {
        match &claims.nonce {
            None | Some(Value::Null) => return Err(DpopError::NonceMissing),
            Some(Value::String(nonce)) if nonces.accepts(nonce, now) => {}
            Some(_) => return Err(DpopError::NonceStale),
        }
    }
    // Whole seconds, as clients send it: Tessera's token endpoint never took a fraction.
    let iat = match &claims.iat {
        None | Some(Value::Null) => return Err(DpopError::MissingClaim("iat")),
        Some(iat) => iat.as_i64().ok_or(DpopError::InvalidClaim("iat"))?,
    };
    let expires_at = iat.saturating_add(rules.max_age);
    if now > expires_at {
        return Err(DpopError::TooOld);
    }
    if iat > now.saturating_add(rules.max_ahead) {
        return Err(DpopError::IssuedInFuture);
    }
    if let Some(token) = target.access_token {
        let ath = text(&claims.ath, "ath")?;
        let expected = super::access_token_hash(token);
        if !bool::from(ath.as_bytes().ct_eq(expected.as_bytes())) {
            return Err(DpopError::WrongAccessTokenHash);
        }
    }
    Ok(CheckedDpopProof {
        jkt,
        jti,
        expires_at,
    })
}

/// The header checks and the signature: the key's thumbprint and the claims.
fn verified(proof: &str, rules: &DpopProofRules) -> Result<(String, ProofClaims), DpopError> {
    // The `jwk` is kept as text, to be read into its members at once.
    let (jws, jwk) = UnverifiedJws::parse_with_jwk::<Option<Box<RawValue>>>(proof, &rules.policy)
        .map_err(|err| match err {
        Error::TooLarge(Limit::Token | Limit::Header) => DpopError::TooLarge,
        Error::AlgorithmNotAllowed => DpopError::AlgorithmNotAllowed,
        Error::CriticalHeader => DpopError::CriticalHeader,
        _ => DpopError::Malformed,
    })?;
    // Exactly the RFC's value, as Tessera's token endpoint requires it.
    if jws.header().typ.as_deref() != Some(PROOF_TYP) {
        return Err(DpopError::WrongType);
    }
    // The JWS layer never takes a key from a header; a DPoP proof is the one JWT whose key is
    // its own header's, so it is read here.
    let jwk = jwk.ok_or(DpopError::MissingKey)?;
    let (key, jkt) = match serde_json::from_str::<RawJwk<'_>>(jwk.get()) {
        Ok(members) => {
            if members.has_private_members() {
                return Err(DpopError::PrivateKey);
            }
            let key = VerifyingKey::from_raw(&members)
                .ok()
                .flatten()
                .ok_or(DpopError::UnusableKey)?;
            (
                key,
                members.thumbprint().map_err(|_| DpopError::UnusableKey)?,
            )
        }
        // Not an object of string members, or one with escapes or repeated members: read as a
        // JSON value, which says which.
        Err(_) => key_of_value(jwk.get())?,
    };
    let verified = jws.verify_with_key(&key).map_err(|err| match err {
        Error::NoMatchingKey => DpopError::UnusableKey,
        Error::BadSignature => DpopError::BadSignature,
        _ => DpopError::Malformed,
    })?;
    let claims = verified.deserialize().map_err(|_| DpopError::Malformed)?;
    Ok((jkt, claims))
}

/// The key and thumbprint of a `jwk` header member that is not plain string members.
fn key_of_value(jwk: &str) -> Result<(VerifyingKey, String), DpopError> {
    let Ok(Value::Object(jwk)) = serde_json::from_str::<Value>(jwk) else {
        return Err(DpopError::MissingKey);
    };
    if PRIVATE_MEMBERS
        .iter()
        .any(|member| jwk.contains_key(*member))
    {
        return Err(DpopError::PrivateKey);
    }
    let key = VerifyingKey::from_jwk(&jwk)
        .ok()
        .flatten()
        .ok_or(DpopError::UnusableKey)?;
    let jkt = jwk_thumbprint(&jwk).map_err(|_| DpopError::UnusableKey)?;
    Ok((key, jkt))
}

/// Whether `htu` is `path` at one of `bases`, ignoring query and fragment (RFC 9449 4.3): the
/// exact string first, then after the syntax- and scheme-based normalization of RFC 3986
/// 6.2.2-6.2.3 that URL parsing applies (case of scheme and host, default port, dot segments).
/// The comparison of [`check_dpop_proof`].
///
/// ```
/// use tessera_verifier::dpop_htu_matches;
/// let bases = ["https://api.example.com".to_owned()];
/// assert!(dpop_htu_matches(&bases, "HTTPS://API.example.com:443/items?x=1", "/items"));
/// assert!(!dpop_htu_matches(&bases, "https://api.example.com/items/", "/items"));
/// ```
pub fn htu_matches(bases: &[String], htu: &str, path: &str) -> bool {
    let bare = |url: &'_ str| -> usize { url.find(['?', '#']).unwrap_or(url.len()) };
    let path = &path[..bare(path)];
    let path = if path.starts_with('/') { path } else { "/" };
    let htu_bare = &htu[..bare(htu)];
    let exact = bases.iter().any(|base| {
        htu_bare.len() == base.len() + path.len()
            && htu_bare.starts_with(base.as_str())
            && htu_bare.ends_with(path)
    });
    if exact {
        return true;
    }
    let Ok(mut presented) = url::Url::parse(htu) else {
        return false;
    };
    presented.set_query(None);
    presented.set_fragment(None);
    bases.iter().any(|base| {
        url::Url::parse(&format!("{base}{path}")).is_ok_and(|expected| expected == presented)
    })
}
