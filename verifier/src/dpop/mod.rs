//! DPoP (RFC 9449) on the resource server's side: a token bound to a key (`cnf.jkt`) is good
//! only with `Authorization: DPoP <token>` and a `DPoP` header proof, signed by that key, made
//! for this request and this token.
//!
//! A proof is checked in the order of RFC 9449 4.3, cheapest refusals first: one header of at
//! most 8 KiB, a compact JWS whose `alg` is on the DPoP allow-list (never `none`, never HMAC),
//! no `crit`, `typ` `dpop+jwt`, a public `jwk` in its header (no private member), the signature
//! by that key (through the crate's JWS layer and key parsing), then its claims: `htm` the
//! request's method, `htu` the request's URL at one of the resource server's public URLs (query
//! and fragment ignored, RFC 3986 normalization), the server's nonce when nonces are required,
//! `iat` within the window (plus leeway, on the verifier's clock), `ath` the hash of the token.
//! The access token's `cnf.jkt` must be the RFC 7638 thumbprint of the proof's key, and last
//! the `jti` is spent in a bounded replay cache, once the request is otherwise accepted.

mod nonce;
mod replay;

pub use nonce::DpopNonces;

use crate::alg::{Algorithm, AlgorithmSet};
use crate::claims::numeric_date;
use crate::clock::UnixTime;
use crate::error::{DpopError, Limit};
use crate::jwk::{jwk_thumbprint, VerifyingKey, PRIVATE_MEMBERS};
use crate::jws::{decode_header, JwsPolicy, UnverifiedJws};
use crate::Error;
use aws_lc_rs::digest;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use replay::{replay_key, ReplayCache, ReplayKey, Spend};
use serde::Deserialize;
use serde_json::Value;
use std::time::Duration;
use subtle::ConstantTimeEq;

/// The largest proof accepted: an RSA-4096 key in its header fits with room to spare.
const MAX_PROOF_LEN: usize = 8 * 1024;
const MAX_PROOF_HEADER_LEN: usize = 4 * 1024;
/// The longest `jti` accepted (RFC 9449 4.2 asks for at least 96 random bits).
const MAX_JTI_LEN: usize = 256;
/// RFC 9449 4.2: the `typ` of a DPoP proof.
const PROOF_TYP: &str = "dpop+jwt";
const DEFAULT_IAT_WINDOW: Duration = Duration::from_secs(60);
const DEFAULT_REPLAY_CAPACITY: usize = 1_000_000;

/// How a resource server takes DPoP tokens: where it is reachable (the `htu` of proofs), the
/// proof algorithms, how old a proof may be, the replay cache's size, nonces, and whether plain
/// bearer tokens are still welcome.
///
/// ```
/// use std::time::Duration;
/// use tessera_verifier::{Algorithm, DpopConfig, DpopNonces};
/// let config = DpopConfig::new("https://api.example.com/reports")? // behind the gateway
///     .also_at("https://reports.internal:8443")?                    // inside the network
///     .algorithms(&[Algorithm::ES256, Algorithm::EdDSA])
///     .iat_window(Duration::from_secs(60))
///     .require_nonce(DpopNonces::new([7u8; 32])?);
/// # let _ = config; Ok::<(), tessera_verifier::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct DpopConfig {
    public_urls: Vec<String>,
    algorithms: AlgorithmSet,
    iat_window: Duration,
    replay_capacity: usize,
    nonces: Option<DpopNonces>,
    bearer_tokens: bool,
}

/// A public URL as the proofs' `htu` start: scheme, host, port if not the default, and the
/// path prefix, without a trailing slash (`https://api.example.com`, `https://gw/reports`).
fn public_url(url: &str) -> Result<String, Error> {
    let refused = Error::Malformed("a DPoP public URL is an http(s) URL without query or user");
    let parsed = url::Url::parse(url).map_err(|_| refused.clone())?;
    if !matches!(parsed.scheme(), "https" | "http")
        || parsed.host().is_none()
        || parsed.query().is_some()
        || parsed.fragment().is_some()
        || !parsed.username().is_empty()
        || parsed.password().is_some()
    {
        return Err(refused);
    }
    Ok(parsed.as_str().trim_end_matches('/').to_owned())
}

impl DpopConfig {
    /// DPoP for a resource server whose clients reach it at `public_url`: the URL of its root
    /// as they address it (behind a proxy or gateway, the outside one, with the path prefix the
    /// proxy strips). A request's `htu` must be this URL followed by the request's path.
    pub fn new(public_url: &str) -> Result<Self, Error> {
        Ok(Self {
            public_urls: vec![self::public_url(public_url)?],
            algorithms: AlgorithmSet::asymmetric(),
            iat_window: DEFAULT_IAT_WINDOW,
            replay_capacity: DEFAULT_REPLAY_CAPACITY,
            nonces: None,
            bearer_tokens: true,
        })
    }

    /// Another URL clients reach the same resource server at.
    pub fn also_at(mut self, public_url: &str) -> Result<Self, Error> {
        self.public_urls.push(self::public_url(public_url)?);
        Ok(self)
    }

    /// The `alg`s a proof may use (default: ES256, ES384, RS256, PS256, EdDSA); HMAC ones make
    /// [`build`](crate::AccessTokenVerifierBuilder::build) fail.
    pub fn algorithms(mut self, algorithms: &[Algorithm]) -> Self {
        self.algorithms = AlgorithmSet::from_slice(algorithms);
        self
    }

    /// How old a proof may be (default 60 s, at most 1 hour), plus the verifier's leeway; a
    /// proof may also be up to the leeway ahead of the verifier's clock.
    pub fn iat_window(mut self, window: Duration) -> Self {
        self.iat_window = window;
        self
    }

    /// How many proofs the replay cache holds (default 1,000,000; 70 bytes resident each as
    /// measured by `benches/verify.rs`, about 80 MB when full). A proof
    /// stays in it for the window plus the leeway after its `iat`, so the default serves about
    /// 8,000 DPoP requests per second with the default window and leeway; when it is full,
    /// proofs are refused with 503 rather than an entry forgotten.
    pub fn replay_capacity(mut self, capacity: usize) -> Self {
        self.replay_capacity = capacity;
        self
    }

    /// Proofs must carry a nonce of `nonces` (`use_dpop_nonce` otherwise, with the nonce to use
    /// in the `DPoP-Nonce` header).
    pub fn require_nonce(mut self, nonces: DpopNonces) -> Self {
        self.nonces = Some(nonces);
        self
    }

    /// Whether tokens that are not DPoP-bound are accepted too, as bearer tokens (default
    /// true). With `false`, only DPoP-bound tokens with their proof get in.
    pub fn bearer_tokens(mut self, accepted: bool) -> Self {
        self.bearer_tokens = accepted;
        self
    }
}

/// The DPoP side of one request: the `DPoP` header's proof and what it must match.
#[derive(Debug, Clone, Copy)]
pub struct DpopRequest<'a> {
    proof: &'a str,
    method: &'a str,
    path: &'a str,
    certificate: Option<&'a [u8]>,
}

impl<'a> DpopRequest<'a> {
    /// `proof`: the one `DPoP` header value (see [`dpop_proof`]); `method`: the request's
    /// method (`GET`); `path`: the request target's path as received (a query is ignored),
    /// which follows one of the [`DpopConfig`] public URLs in the proof's `htu`.
    pub fn new(proof: &'a str, method: &'a str, path: &'a str) -> Self {
        Self {
            proof,
            method,
            path,
            certificate: None,
        }
    }

    /// The client certificate of the request's mutual-TLS connection (DER), for a token bound
    /// to both a DPoP key and a certificate.
    pub fn with_certificate(mut self, der: &'a [u8]) -> Self {
        self.certificate = Some(der);
        self
    }

    pub(crate) fn certificate(&self) -> Option<&'a [u8]> {
        self.certificate
    }
}

/// The proof of a request's `DPoP` header values: `Ok(None)` without one, refused when there
/// are several (RFC 9449 4.3) or it is not text.
///
/// ```
/// use tessera_verifier::{dpop_proof, DpopError};
/// assert_eq!(dpop_proof([b"a.b.c".as_slice()].into_iter()), Ok(Some("a.b.c")));
/// assert_eq!(dpop_proof(std::iter::empty()), Ok(None));
/// assert_eq!(dpop_proof([b"a".as_slice(), b"b"].into_iter()), Err(DpopError::Repeated));
/// ```
pub fn dpop_proof<'a>(
    mut values: impl Iterator<Item = &'a [u8]>,
) -> Result<Option<&'a str>, DpopError> {
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(DpopError::Repeated);
    }
    std::str::from_utf8(first)
        .map(|proof| Some(proof.trim_matches(' ')))
        .map_err(|_| DpopError::Malformed)
}

/// RFC 9449 4.2 `ath`: base64url of the SHA-256 of the access token.
///
/// ```
/// // RFC 9449 7.1's example token and its ath.
/// let ath = tessera_verifier::access_token_hash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU");
/// assert_eq!(ath, "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo");
/// ```
pub fn access_token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, token.as_bytes()))
}

/// A proof that passed every check but the replay cache.
#[derive(Debug)]
pub(crate) struct CheckedProof {
    /// The RFC 7638 thumbprint of the proof's key.
    pub jkt: String,
    replay: ReplayKey,
    expires_at: UnixTime,
}

#[derive(Deserialize)]
struct ProofHeader {
    jwk: Option<Value>,
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

/// The DPoP state of a verifier: its configuration, ready to check, and its replay cache.
pub(crate) struct Dpop {
    config: DpopConfig,
    policy: JwsPolicy,
    algs_text: String,
    replay: ReplayCache,
}

impl Dpop {
    pub fn new(config: DpopConfig) -> Result<Self, Error> {
        if config.algorithms.is_empty() || config.algorithms.without_hmac() != config.algorithms {
            return Err(Error::AlgorithmNotAllowed);
        }
        if config.iat_window.is_zero() || config.iat_window > Duration::from_secs(3600) {
            return Err(Error::Malformed(
                "the DPoP iat window lasts from 1 second to 1 hour",
            ));
        }
        if config.replay_capacity == 0 {
            return Err(Error::Malformed(
                "the DPoP replay cache must hold at least one proof",
            ));
        }
        Ok(Self {
            policy: JwsPolicy {
                algorithms: config.algorithms,
                max_token_len: MAX_PROOF_LEN,
                max_header_len: MAX_PROOF_HEADER_LEN,
            },
            algs_text: config
                .algorithms
                .iter()
                .map(Algorithm::as_str)
                .collect::<Vec<_>>()
                .join(" "),
            replay: ReplayCache::new(config.replay_capacity),
            config,
        })
    }

    /// The proof algorithms, space-separated: the `algs` of the DPoP challenge.
    pub fn algs_text(&self) -> &str {
        &self.algs_text
    }

    pub fn bearer_tokens(&self) -> bool {
        self.config.bearer_tokens
    }

    /// The nonce for clients' next proofs, when nonces are required.
    pub fn current_nonce(&self, now: UnixTime) -> Option<String> {
        self.config
            .nonces
            .as_ref()
            .map(|nonces| nonces.current(now))
    }

    /// Every check of `request`'s proof for `access_token` but the replay cache.
    pub fn check(
        &self,
        request: &DpopRequest<'_>,
        access_token: &str,
        now: UnixTime,
        leeway: i64,
    ) -> Result<CheckedProof, DpopError> {
        let (jkt, claims) = self.verified(request.proof)?;
        let jti = text(&claims.jti, "jti")?;
        if jti.is_empty() || jti.len() > MAX_JTI_LEN {
            return Err(DpopError::InvalidClaim("jti"));
        }
        if text(&claims.htm, "htm")? != request.method {
            return Err(DpopError::WrongMethod);
        }
        if !self.htu_matches(text(&claims.htu, "htu")?, request.path) {
            return Err(DpopError::WrongUrl);
        }
        if let Some(nonces) = &self.config.nonces {
            match &claims.nonce {
                None | Some(Value::Null) => return Err(DpopError::NonceMissing),
                Some(Value::String(nonce)) if nonces.accepts(nonce, now) => {}
                Some(_) => return Err(DpopError::NonceStale),
            }
        }
        let iat = match &claims.iat {
            None | Some(Value::Null) => return Err(DpopError::MissingClaim("iat")),
            Some(iat) => numeric_date(iat).ok_or(DpopError::InvalidClaim("iat"))?,
        };
        let window = self.config.iat_window.as_secs() as i64;
        let expires_at = iat.saturating_add(window).saturating_add(leeway);
        if now > expires_at {
            return Err(DpopError::TooOld);
        }
        if iat > now.saturating_add(leeway) {
            return Err(DpopError::IssuedInFuture);
        }
        let ath = text(&claims.ath, "ath")?;
        let expected = access_token_hash(access_token);
        if !bool::from(ath.as_bytes().ct_eq(expected.as_bytes())) {
            return Err(DpopError::WrongAccessTokenHash);
        }
        Ok(CheckedProof {
            replay: replay_key(&jkt, jti),
            jkt,
            expires_at,
        })
    }

    /// Spends the proof's `jti`: the last step, once the request is otherwise accepted.
    pub fn spend(&self, proof: &CheckedProof, now: UnixTime) -> Result<(), DpopError> {
        match self.replay.spend(proof.replay, proof.expires_at, now) {
            Spend::First => Ok(()),
            Spend::Replayed => Err(DpopError::Replayed),
            Spend::Full => Err(DpopError::ReplayCacheFull),
        }
    }

    /// The header checks and the signature: the key's thumbprint and the claims.
    fn verified(&self, proof: &str) -> Result<(String, ProofClaims), DpopError> {
        let jws = UnverifiedJws::parse(proof, &self.policy).map_err(|err| match err {
            Error::TooLarge(_) => DpopError::TooLarge,
            Error::AlgorithmNotAllowed => DpopError::AlgorithmNotAllowed,
            Error::CriticalHeader => DpopError::CriticalHeader,
            _ => DpopError::Malformed,
        })?;
        // Exactly the RFC's value, as Tessera's token endpoint requires it.
        if jws.header().typ.as_deref() != Some(PROOF_TYP) {
            return Err(DpopError::WrongType);
        }
        // The JWS layer never reads a key from a header; a DPoP proof is the one JWT whose key
        // is its own header's, so it is read here.
        let header: ProofHeader = decode_header(jws.encoded_header(), MAX_PROOF_HEADER_LEN)
            .map_err(|err| match err {
                Error::TooLarge(Limit::Header) => DpopError::TooLarge,
                _ => DpopError::Malformed,
            })?;
        let Some(Value::Object(jwk)) = header.jwk else {
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
        let verified = jws.verify_with_key(&key).map_err(|err| match err {
            Error::NoMatchingKey => DpopError::UnusableKey,
            Error::BadSignature => DpopError::BadSignature,
            _ => DpopError::Malformed,
        })?;
        let claims = verified.deserialize().map_err(|_| DpopError::Malformed)?;
        Ok((jkt, claims))
    }

    /// Whether `htu` is `path` at one of the public URLs, ignoring query and fragment (RFC 9449
    /// 4.3): the exact string first, then after the syntax- and scheme-based normalization of
    /// RFC 3986 6.2.2-6.2.3 that URL parsing applies (case of scheme and host, default port,
    /// dot segments).
    fn htu_matches(&self, htu: &str, path: &str) -> bool {
        let bare = |url: &'_ str| -> usize { url.find(['?', '#']).unwrap_or(url.len()) };
        let path = &path[..bare(path)];
        let path = if path.starts_with('/') { path } else { "/" };
        let htu_bare = &htu[..bare(htu)];
        let exact = self.config.public_urls.iter().any(|base| {
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
        self.config.public_urls.iter().any(|base| {
            url::Url::parse(&format!("{base}{path}")).is_ok_and(|expected| expected == presented)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dpop(urls: &[&str]) -> Dpop {
        let mut config = DpopConfig::new(urls[0]).unwrap();
        for url in &urls[1..] {
            config = config.also_at(url).unwrap();
        }
        Dpop::new(config).unwrap()
    }

    #[test]
    fn htu_is_the_path_at_a_public_url_normalized() {
        let dpop = dpop(&["https://api.example.com", "https://gw.example.com/reports/"]);
        for good in [
            "https://api.example.com/items",
            "https://api.example.com/items?x=1#f",
            "HTTPS://API.Example.com:443/items",
            "https://api.example.com/a/../items",
            "https://gw.example.com/reports/items",
        ] {
            assert!(dpop.htu_matches(good, "/items"), "{good}");
        }
        for bad in [
            "https://api.example.com/items/",
            "http://api.example.com/items",
            "https://api.example.com:8443/items",
            "https://evil.example.com/items",
            "https://gw.example.com/items",
            "/items",
            "",
        ] {
            assert!(!dpop.htu_matches(bad, "/items"), "{bad}");
        }
        // The request's query is not part of the comparison either.
        assert!(dpop.htu_matches("https://api.example.com/items", "/items?page=2"));
    }

    #[test]
    fn configurations_are_checked() {
        assert!(DpopConfig::new("ftp://api.example.com").is_err());
        assert!(DpopConfig::new("https://api.example.com/?x=1").is_err());
        assert!(DpopConfig::new("https://user@api.example.com").is_err());
        assert!(DpopConfig::new("/relative").is_err());
        let config = DpopConfig::new("https://api.example.com").unwrap();
        assert_eq!(
            Dpop::new(config.clone().algorithms(&[Algorithm::HS256])).err(),
            Some(Error::AlgorithmNotAllowed)
        );
        assert!(Dpop::new(config.clone().algorithms(&[])).is_err());
        assert!(Dpop::new(config.clone().iat_window(Duration::ZERO)).is_err());
        assert!(Dpop::new(config.clone().replay_capacity(0)).is_err());
        let algs = Dpop::new(config.algorithms(&[Algorithm::EdDSA, Algorithm::ES256])).unwrap();
        assert_eq!(algs.algs_text(), "ES256 EdDSA");
    }
}
