//! DPoP (RFC 9449) at Tessera's endpoints: the token endpoint (4.3, 5), and the endpoints that
//! take an access token (7), where the proof must also name that token (`ath`). The proof is
//! checked by `tessera-verifier`'s one DPoP checker (the checks of 4.3 in the RFC's order,
//! cheapest refusals first), with the server's own pieces plugged in: its `[dpop]` settings, the
//! URL the client addressed (the issuer's, or `[tls] base_url` on the mutual-TLS listener), its
//! stateless nonces, and its shared replay store; this module turns the checker's refusals into
//! Tessera's answers.
//!
//! Server nonces (8, 9) are stateless: an HMAC of a time slot under a key derived from the
//! issuer's secret key, so every replica sharing the keys folder makes and accepts the same ones
//! with no coordination; a nonce is good in its slot and the next. A `jti` is spent last, in
//! the shared replay store (Redis across replicas), keyed by the key's thumbprint so one client
//! can never spend another's ids.

use super::client_auth::Binding;
use super::error::{Challenge, ErrorCode, OAuthError, Scheme};
use super::foreign_jwt;
use super::issuer::Issuer;
use super::token_kind::ReplayKind;
use crate::clock::UnixTime;
use crate::jose::{AssertionAlg, SigningAlg};
use crate::revocation::{RevocationError, Revocations};
use crate::settings::DpopSettings;
use aws_lc_rs::hmac;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;
use subtle::ConstantTimeEq;
use tessera_verifier::{
    check_dpop_proof, CheckedDpopProof, DpopError, DpopNonceSource, DpopProofRules,
    DpopReplayStore, DpopTarget, DPOP_MAX_JTI_LEN,
};

pub use tessera_verifier::access_token_hash;

/// The request header that carries the proof.
pub const DPOP_HEADER: &str = "DPoP";

/// What an HMAC of a nonce slot is computed over, before the slot number.
const NONCE_LABEL: &[u8] = b"dpop-nonce:";
/// A nonce's length: base64url of an HMAC-SHA256.
const NONCE_LEN: usize = 43;

/// The DPoP side of one request, as the web layer found it.
#[derive(Debug, Clone, Copy, Default)]
pub struct DpopRequest<'a> {
    /// The `DPoP` header's value, when the request has one.
    pub proof: Option<&'a [u8]>,
    /// The request has more than one `DPoP` header (refused: RFC 9449 4.3).
    pub repeated: bool,
    /// The HTTP method (`htm`).
    pub method: &'a str,
    /// The request's path, without its query (`htu` is the URL the client addressed).
    pub path: &'a str,
    /// It came in on the mutual-TLS listener: `htu` is on `[tls] base_url`.
    pub via_tls: bool,
}

impl DpopRequest<'_> {
    /// Whether the request carries a proof at all.
    pub fn has_proof(&self) -> bool {
        self.proof.is_some() || self.repeated
    }
}

/// Where a proof is checked, which decides how its refusals read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// The token endpoint (and the like: the pushed authorization request endpoint, 10.1): 400,
    /// with `DPoP-Nonce` for `use_dpop_nonce` (5, 8).
    Token,
    /// An endpoint that takes an access token: 401 with the `DPoP` challenge (7.1, 9), and the
    /// `Bearer` one beside it when `bearer` tokens are accepted too.
    Resource { bearer: bool },
}

/// A proof that passed every check: the thumbprint of the key that signed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DpopProof {
    /// RFC 7638 SHA-256 thumbprint of the proof's `jwk` (`cnf.jkt`).
    pub jkt: String,
}

/// The server's nonces, as the checker asks for them: any of the issuer's secret keys (one
/// rotated in a moment ago included), the current slot or the previous one.
struct IssuerNonces<'a> {
    issuer: &'a Issuer,
    slot_secs: u64,
}

impl DpopNonceSource for IssuerNonces<'_> {
    fn accepts(&self, nonce: &str, now: UnixTime) -> bool {
        if nonce.len() != NONCE_LEN {
            return false;
        }
        let now_slot = slot(now, self.slot_secs);
        self.issuer.keys.secrets_newest_first().any(|secret| {
            [now_slot, now_slot - 1].into_iter().any(|slot| {
                bool::from(
                    nonce_for(&secret.mac, slot)
                        .as_bytes()
                        .ct_eq(nonce.as_bytes()),
                )
            })
        })
    }
}

/// The shared replay store, as the checker spends in it: a proof stays spent a second past the
/// last one it could be accepted in.
struct SharedReplay<'a>(&'a Revocations);

impl DpopReplayStore for SharedReplay<'_> {
    type Error = RevocationError;

    async fn spend(&self, proof: &CheckedDpopProof, now: UnixTime) -> Result<bool, Self::Error> {
        let id = format!("{}:{}", proof.jkt, proof.jti);
        (self.0)
            .first_use(ReplayKind::DpopProof, &id, proof.expires_at + 1, now)
            .await
    }
}

/// The proof checker for one request's endpoint.
pub struct DpopChecker<'a> {
    pub issuer: &'a Issuer,
    /// The replay store (`jti`s).
    pub revocations: &'a Revocations,
    pub endpoint: Endpoint,
}

impl<'a> DpopChecker<'a> {
    pub fn new(issuer: &'a Issuer, revocations: &'a Revocations, endpoint: Endpoint) -> Self {
        Self {
            issuer,
            revocations,
            endpoint,
        }
    }

    fn settings(&self) -> &DpopSettings {
        &self.issuer.settings.dpop
    }

    /// A refusal of the proof (or of its absence where one is needed).
    pub fn invalid(&self, description: impl Into<std::borrow::Cow<'static, str>>) -> OAuthError {
        self.refusal(ErrorCode::InvalidDpopProof, description)
    }

    fn refusal(
        &self,
        code: ErrorCode,
        description: impl Into<std::borrow::Cow<'static, str>>,
    ) -> OAuthError {
        let error = OAuthError::new(code, description);
        match self.endpoint {
            Endpoint::Token => error.with_status(super::error::status::BAD_REQUEST),
            Endpoint::Resource { bearer } => self.challenge(error, bearer, Some(Scheme::Dpop)),
        }
    }

    /// `error` with the challenges of an endpoint that takes DPoP (and Bearer, when `bearer`)
    /// access tokens, naming the error in `error_in`'s challenge.
    fn challenge(&self, error: OAuthError, bearer: bool, error_in: Option<Scheme>) -> OAuthError {
        error
            .with_status(super::error::status::UNAUTHORIZED)
            .with_challenge(Challenge::Dpop {
                algs: self.settings().algs_text.clone(),
                bearer,
                error_in,
                scope: None,
            })
    }

    /// The nonce a client should put in its next proof, when nonces are on.
    pub fn current_nonce(&self) -> Option<String> {
        let settings = self.settings();
        settings.require_nonce.then(|| {
            nonce_for(
                &self.issuer.keys.secret().mac,
                slot(self.issuer.now, settings.nonce_slot.as_secs()),
            )
        })
    }

    fn nonce_needed(&self, description: &'static str) -> OAuthError {
        let nonce = self.current_nonce().unwrap_or_default();
        self.refusal(ErrorCode::UseDpopNonce, description)
            .with_dpop_nonce(nonce)
    }

    /// Checks the proof of `request`, if it carries one; `access_token` is the token presented
    /// with it, which the proof must name in `ath`. `Ok(None)`: no proof was sent.
    pub async fn check(
        &self,
        request: &DpopRequest<'_>,
        access_token: Option<&str>,
    ) -> Result<Option<DpopProof>, OAuthError> {
        if request.repeated {
            return Err(self.invalid("the request carries more than one DPoP header"));
        }
        let Some(proof) = request.proof else {
            return Ok(None);
        };
        let proof = std::str::from_utf8(proof)
            .map_err(|_| self.invalid("the DPoP proof is not a well-formed JWT"))?
            .trim();
        let settings = self.settings();
        // The security profile's algorithms whatever the list says (config check narrows it).
        let algorithms = (settings.signing_algs.iter().copied())
            .filter(|alg| self.allows(*alg))
            .map(|alg| foreign_jwt::algorithm(AssertionAlg::Asymmetric(alg)));
        // The window both ways: a client's clock may be ahead of ours as much as behind.
        let rules = DpopProofRules::new(algorithms, settings.iat_window, settings.iat_window)
            .map_err(|_| self.invalid(self.algorithm_refusal(proof)))?;
        let nonces = IssuerNonces {
            issuer: self.issuer,
            slot_secs: settings.nonce_slot.as_secs(),
        };
        let base = self.issuer.settings.addressed_base(request.via_tls);
        let target = DpopTarget {
            method: request.method,
            bases: std::slice::from_ref(base),
            path: request.path,
            access_token,
            nonces: settings
                .require_nonce
                .then_some(&nonces as &dyn DpopNonceSource),
        };
        let checked = check_dpop_proof(proof, &rules, &target, self.issuer.now)
            .map_err(|err| self.refused(err, proof))?;
        if !SharedReplay(self.revocations)
            .spend(&checked, self.issuer.now)
            .await?
        {
            return Err(self.invalid("the DPoP proof has been used before"));
        }
        Ok(Some(DpopProof { jkt: checked.jkt }))
    }

    /// Whether the security profile lets a proof be signed with `alg`.
    fn allows(&self, alg: SigningAlg) -> bool {
        (self.issuer.settings).allows_assertion_alg(AssertionAlg::Asymmetric(alg))
    }

    /// How the checker's refusal of `proof` reads in Tessera's answers.
    fn refused(&self, err: DpopError, proof: &str) -> OAuthError {
        match err {
            DpopError::NonceMissing => {
                self.nonce_needed("the DPoP proof must carry the server's nonce")
            }
            DpopError::NonceStale => self.nonce_needed("the DPoP proof's nonce is not current"),
            DpopError::AlgorithmNotAllowed => self.invalid(self.algorithm_refusal(proof)),
            DpopError::UnusableKey => self.invalid("the DPoP proof's jwk is not a public key"),
            DpopError::TooOld | DpopError::IssuedInFuture => {
                self.invalid("the DPoP proof's iat is too far from now")
            }
            DpopError::InvalidClaim("iat") => {
                self.invalid("the DPoP proof's iat must be a whole number")
            }
            // A jti of the wrong type, or of a length outside the bounds.
            DpopError::InvalidClaim("jti")
                if unverified_claim(proof, "jti").is_some_and(|jti| jti.is_string()) =>
            {
                self.invalid(format!(
                    "the DPoP proof's jti must have 1 to {DPOP_MAX_JTI_LEN} characters"
                ))
            }
            DpopError::InvalidClaim(claim) => {
                self.invalid(format!("the DPoP proof's {claim} must be a string"))
            }
            other => self.invalid(other.to_string()),
        }
    }

    /// The refusal of a proof whose `alg` is not allowed: by the profile, or by `[dpop]`.
    fn algorithm_refusal(&self, proof: &str) -> String {
        let alg = unverified_header_alg(proof).and_then(|alg| alg.parse::<SigningAlg>().ok());
        match alg {
            Some(alg) if self.settings().signing_algs.contains(&alg) && !self.allows(alg) => {
                "the FAPI 2.0 profile accepts DPoP proofs signed with PS256, ES256 or EdDSA only"
                    .to_owned()
            }
            _ => format!(
                "the DPoP proof's alg must be one of {}",
                self.settings().algs_text
            ),
        }
    }
}

/// A part of a refused proof decoded as JSON, to say why it was refused: `index` 0 the header,
/// 1 the claims.
fn unverified_part(proof: &str, index: usize) -> Option<Value> {
    let part = proof.split('.').nth(index)?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).ok()?).ok()
}

fn unverified_header_alg(proof: &str) -> Option<String> {
    Some(unverified_part(proof, 0)?.get("alg")?.as_str()?.to_owned())
}

fn unverified_claim(proof: &str, claim: &str) -> Option<Value> {
    unverified_part(proof, 1)?.get_mut(claim).map(Value::take)
}

/// At the token endpoint: whether the request proved the DPoP key `jkt` that `what` (a code, a
/// refresh token) is bound to (RFC 9449 5 and 10).
pub fn require_key(binding: &Binding, jkt: &str, what: &str) -> Result<(), OAuthError> {
    match binding.jkt() {
        None => Err(OAuthError::new(
            ErrorCode::InvalidDpopProof,
            format!("the {what} is bound to a DPoP key: the request needs a proof by that key"),
        )),
        Some(proven) if !bool::from(proven.as_bytes().ct_eq(jkt.as_bytes())) => {
            Err(OAuthError::new(
                ErrorCode::InvalidDpopProof,
                format!("the DPoP proof is not by the key the {what} is bound to"),
            ))
        }
        Some(_) => Ok(()),
    }
}

/// The nonce slot of `now`.
fn slot(now: UnixTime, slot_secs: u64) -> i64 {
    now.div_euclid(slot_secs.max(1) as i64)
}

/// The nonce of `slot` under `key`.
fn nonce_for(key: &hmac::Key, slot: i64) -> String {
    let mut message = [0u8; NONCE_LABEL.len() + 8];
    message[..NONCE_LABEL.len()].copy_from_slice(NONCE_LABEL);
    message[NONCE_LABEL.len()..].copy_from_slice(&slot.to_be_bytes());
    URL_SAFE_NO_PAD.encode(hmac::sign(key, &message).as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `htu` names `expected` as the checker compares them (the issuer's base and the
    /// request's path).
    fn same_target(htu: &str, expected: &str) -> bool {
        let path = expected.strip_prefix("https://issuer.test").unwrap();
        tessera_verifier::dpop_htu_matches(&["https://issuer.test".to_owned()], htu, path)
    }

    #[test]
    fn targets_compare_after_normalization_without_query_or_fragment() {
        let expected = "https://issuer.test/oauth2/token";
        for same in [
            "https://issuer.test/oauth2/token",
            "HTTPS://Issuer.TEST/oauth2/token",
            "https://issuer.test:443/oauth2/token",
            "https://issuer.test/oauth2/./token",
            "https://issuer.test/oauth2/token?x=1",
            "https://issuer.test/oauth2/token#frag",
        ] {
            assert!(same_target(same, expected), "{same}");
        }
        for other in [
            "http://issuer.test/oauth2/token",
            "https://issuer.test:8443/oauth2/token",
            "https://issuer.test/oauth2/token/",
            "https://issuer.test/oauth2/TOKEN",
            "https://other.test/oauth2/token",
            "/oauth2/token",
            "",
        ] {
            assert!(!same_target(other, expected), "{other}");
        }
    }

    #[test]
    fn access_token_hash_is_rfc_9449_s_example() {
        // RFC 9449 7.1: the access token of the example and its ath.
        assert_eq!(
            access_token_hash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
            "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
        );
    }

    #[test]
    fn nonces_change_with_the_slot_and_the_key() {
        let key = hmac::Key::new(hmac::HMAC_SHA256, b"one key of thirty-two bytes.....");
        let other = hmac::Key::new(hmac::HMAC_SHA256, b"another key of thirty-two bytes.");
        assert_eq!(nonce_for(&key, 7), nonce_for(&key, 7));
        assert_ne!(nonce_for(&key, 7), nonce_for(&key, 8));
        assert_ne!(nonce_for(&key, 7), nonce_for(&other, 7));
        assert_eq!(nonce_for(&key, 7).len(), NONCE_LEN);
        assert_eq!(slot(299, 300), 0);
        assert_eq!(slot(300, 300), 1);
    }
}
