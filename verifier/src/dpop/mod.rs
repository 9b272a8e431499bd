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
mod proof;
mod replay;

pub use nonce::DpopNonces;
pub use proof::{
    check_dpop_proof, htu_matches as dpop_htu_matches, CheckedDpopProof, DpopNonceSource,
    DpopProofRules, DpopReplayStore, DpopTarget, MAX_JTI_LEN,
};

use crate::alg::{Algorithm, AlgorithmSet};
use crate::clock::UnixTime;
use crate::error::DpopError;
use crate::Error;
use aws_lc_rs::digest;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use replay::ReplayCache;
use std::time::Duration;
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

/// The DPoP state of a verifier: its configuration, ready to check, and its replay cache.
pub(crate) struct Dpop {
    config: DpopConfig,
    /// The window without the leeway, which each check adds.
    rules: DpopProofRules,
    algs_text: String,
    replay: ReplayCache,
}

impl Dpop {
    pub fn new(config: DpopConfig) -> Result<Self, Error> {
        if config.iat_window.is_zero() || config.iat_window > Duration::from_secs(3600) {
            return Err(Error::Malformed(
                "the DPoP iat window lasts from 1 second to 1 hour",
            ));
        }
        let rules =
            DpopProofRules::new(config.algorithms.iter(), config.iat_window, Duration::ZERO)?;
        if config.replay_capacity == 0 {
            return Err(Error::Malformed(
                "the DPoP replay cache must hold at least one proof",
            ));
        }
        Ok(Self {
            rules,
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

    /// Every check of `request`'s proof for `access_token` but the replay cache: the proof
    /// may be up to `leeway` ahead of the clock, and the window plus `leeway` old.
    pub fn check(
        &self,
        request: &DpopRequest<'_>,
        access_token: &str,
        now: UnixTime,
        leeway: i64,
    ) -> Result<CheckedDpopProof, DpopError> {
        let leeway = leeway.max(0);
        let rules = DpopProofRules {
            max_age: self.rules.max_age.saturating_add(leeway),
            max_ahead: leeway,
            ..self.rules
        };
        let target = DpopTarget {
            method: request.method,
            bases: &self.config.public_urls,
            path: request.path,
            access_token: Some(access_token),
            nonces: self
                .config
                .nonces
                .as_ref()
                .map(|nonces| nonces as &dyn DpopNonceSource),
        };
        check_dpop_proof(request.proof, &rules, &target, now)
    }

    /// Spends the proof's `jti`: the last step, once the request is otherwise accepted.
    pub async fn spend(&self, proof: &CheckedDpopProof, now: UnixTime) -> Result<(), DpopError> {
        match self.replay.spend(proof, now).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(DpopError::Replayed),
            Err(full) => Err(full),
        }
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
            assert!(
                dpop_htu_matches(&dpop.config.public_urls, good, "/items"),
                "{good}"
            );
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
            assert!(
                !dpop_htu_matches(&dpop.config.public_urls, bad, "/items"),
                "{bad}"
            );
        }
        // The request's query is not part of the comparison either.
        assert!(dpop_htu_matches(
            &dpop.config.public_urls,
            "https://api.example.com/items",
            "/items?page=2"
        ));
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
