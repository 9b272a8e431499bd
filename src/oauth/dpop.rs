//! DPoP (RFC 9449): the one checker of proofs, for every endpoint that takes one — the token
//! endpoint (4.3, 5), and the endpoints that take an access token (7), where the proof must also
//! name that token (`ath`). Server nonces (8, 9) are stateless: an HMAC of a time slot under a
//! key derived from the issuer's secret key, so every replica sharing the keys folder makes and
//! accepts the same ones with no coordination; a nonce is good in its slot and the next.
//!
//! The order is the RFC's, cheapest refusals first: one header, a compact JWS of an allowed
//! asymmetric `alg` with `typ: dpop+jwt`, a public `jwk` in its header, the signature by that
//! key (through `foreign_jwt`, as every JWT Tessera did not sign), then the claims: `htm`,
//! `htu`, `iat` in the window, the nonce, `ath`, and last the `jti`'s single use in the shared
//! replay store, keyed by the key's thumbprint so one client can never spend another's ids.

use super::client_auth::Binding;
use super::error::{Challenge, ErrorCode, OAuthError, Scheme};
use super::foreign_jwt::{self, ForeignJwtError};
use super::issuer::Issuer;
use super::token_kind::{ReplayKind, DPOP_PROOF_TYP};
use crate::clock::UnixTime;
use crate::jose::{has_private_members, thumbprint_of};
use crate::revocation::Revocations;
use crate::settings::DpopSettings;
use aws_lc_rs::{digest, hmac};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;
use serde_json::Value;
use subtle::ConstantTimeEq;

/// The request header that carries the proof.
pub const DPOP_HEADER: &str = "DPoP";

/// The largest proof accepted: an RSA-4096 key in its header fits with room to spare.
const MAX_PROOF_LEN: usize = 8 * 1024;
/// The longest `jti` kept in the replay store (RFC 9449 asks for 96 random bits or more).
const MAX_JTI_LEN: usize = 256;
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

#[derive(Deserialize)]
struct ProofHeader {
    jwk: Option<Value>,
}

/// Claims are read loosely so that a missing one is named, not a parse error.
#[derive(Deserialize)]
struct ProofClaims {
    jti: Option<Value>,
    htm: Option<Value>,
    htu: Option<Value>,
    iat: Option<Value>,
    ath: Option<Value>,
    nonce: Option<Value>,
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

    /// Whether `nonce` is one this issuer made for the current or the previous slot, under any
    /// of its secret keys (one rotated in a moment ago included).
    fn nonce_is_current(&self, nonce: &str) -> bool {
        if nonce.len() != NONCE_LEN {
            return false;
        }
        let now_slot = slot(self.issuer.now, self.settings().nonce_slot.as_secs());
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
        let (jkt, claims) = self.verified(proof).await?;
        self.check_claims(request, &claims, access_token)?;
        let jti = self.string_claim(&claims.jti, "jti")?;
        if jti.is_empty() || jti.len() > MAX_JTI_LEN {
            return Err(self.invalid(format!(
                "the DPoP proof's jti must have 1 to {MAX_JTI_LEN} characters"
            )));
        }
        let iat = claims
            .iat
            .as_ref()
            .and_then(Value::as_i64)
            .unwrap_or_default();
        let window = self.settings().iat_window.as_secs() as i64;
        let first = self
            .revocations
            .first_use(
                ReplayKind::DpopProof,
                &format!("{jkt}:{jti}"),
                iat + window + 1,
                self.issuer.now,
            )
            .await?;
        if !first {
            return Err(self.invalid("the DPoP proof has been used before"));
        }
        Ok(Some(DpopProof { jkt }))
    }

    fn missing(&self, claim: &str) -> OAuthError {
        self.invalid(format!("the DPoP proof has no {claim} claim"))
    }

    /// A claim that must be a string: missing and of another type are refused apart.
    fn string_claim<'c>(
        &self,
        claim: &'c Option<Value>,
        name: &str,
    ) -> Result<&'c str, OAuthError> {
        match claim {
            None => Err(self.missing(name)),
            Some(Value::String(text)) => Ok(text),
            Some(_) => Err(self.invalid(format!("the DPoP proof's {name} must be a string"))),
        }
    }

    /// The header checks and the signature: the key's thumbprint and the claims.
    async fn verified(&self, proof: &str) -> Result<(String, ProofClaims), OAuthError> {
        let policy = foreign_jwt::asymmetric_policy(&self.settings().signing_algs, MAX_PROOF_LEN);
        let jws = foreign_jwt::parse(proof, &policy).map_err(|err| self.unverified(err))?;
        // The security profile's algorithms whatever the list says (config check narrows it).
        if !(self.issuer.settings).allows_assertion_alg(foreign_jwt::header_alg(&jws)) {
            return Err(self.invalid(
                "the FAPI 2.0 profile accepts DPoP proofs signed with PS256, ES256 or EdDSA only",
            ));
        }
        if jws.header().typ.as_deref() != Some(DPOP_PROOF_TYP) {
            return Err(self.invalid("the DPoP proof's typ must be dpop+jwt"));
        }
        // The verifier reads no key-carrying header member: the jwk is read here.
        let encoded = proof.split('.').next().unwrap_or_default();
        let header: ProofHeader = URL_SAFE_NO_PAD
            .decode(encoded)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or_else(|| self.invalid("the DPoP proof is not a well-formed JWT"))?;
        let Some(Value::Object(mut jwk)) = header.jwk else {
            return Err(self.invalid("the DPoP proof's header has no jwk"));
        };
        if has_private_members(&jwk) {
            return Err(self.invalid("the DPoP proof's jwk must not hold a private key"));
        }
        let jkt = jwk
            .get("kty")
            .and_then(Value::as_str)
            .and_then(|kty| thumbprint_of(kty, &jwk).ok())
            .ok_or_else(|| self.invalid("the DPoP proof's jwk is not a public key"))?;
        // The one key verifies the proof whatever `kid` either side names.
        jwk.remove("kid");
        if let Some(kid) = &jws.header().kid {
            jwk.insert("kid".into(), Value::from(kid.as_str()));
        }
        let keys = foreign_jwt::embedded_key(&jwk)
            .map_err(|_| self.invalid("the DPoP proof's jwk is not a public key"))?
            .ok_or_else(|| self.invalid("the DPoP proof's jwk is not a public signature key"))?;
        let verified = foreign_jwt::verify(jws, Some(&keys))
            .await
            .map_err(|err| self.unverified(err))?;
        let claims: ProofClaims = verified
            .deserialize()
            .map_err(|_| self.invalid("the DPoP proof's payload is not a JSON object"))?;
        Ok((jkt, claims))
    }

    fn unverified(&self, err: ForeignJwtError) -> OAuthError {
        self.invalid(match err {
            ForeignJwtError::TooLarge => "the DPoP proof is too large",
            ForeignJwtError::AlgorithmNotAllowed => {
                return self.invalid(format!(
                    "the DPoP proof's alg must be one of {}",
                    self.settings().algs_text
                ))
            }
            ForeignJwtError::CriticalHeader => "the DPoP proof has a crit header",
            ForeignJwtError::NoMatchingKey => "the DPoP proof's jwk does not fit its alg",
            ForeignJwtError::BadSignature => "the DPoP proof's signature does not verify",
            ForeignJwtError::Malformed | ForeignJwtError::KeysUnavailable => {
                "the DPoP proof is not a well-formed JWT"
            }
        })
    }

    /// `htm`, `htu`, `iat`, the nonce and `ath` (RFC 9449 4.3 8-12).
    fn check_claims(
        &self,
        request: &DpopRequest<'_>,
        claims: &ProofClaims,
        access_token: Option<&str>,
    ) -> Result<(), OAuthError> {
        let htm = self.string_claim(&claims.htm, "htm")?;
        if htm != request.method {
            return Err(self.invalid("the DPoP proof's htm is not the method of this request"));
        }
        let htu = self.string_claim(&claims.htu, "htu")?;
        let expected = self
            .issuer
            .settings
            .addressed_url(request.via_tls, request.path);
        if !same_target(htu, &expected) {
            return Err(self.invalid("the DPoP proof's htu is not the URL of this request"));
        }
        let iat = match &claims.iat {
            None => return Err(self.missing("iat")),
            Some(iat) => iat
                .as_i64()
                .ok_or_else(|| self.invalid("the DPoP proof's iat must be a whole number"))?,
        };
        let window = self.settings().iat_window.as_secs() as i64;
        if (iat - self.issuer.now).abs() > window {
            return Err(self.invalid("the DPoP proof's iat is too far from now"));
        }
        if self.settings().require_nonce {
            match text(&claims.nonce) {
                None => {
                    return Err(self.nonce_needed("the DPoP proof must carry the server's nonce"))
                }
                Some(nonce) if !self.nonce_is_current(nonce) => {
                    return Err(self.nonce_needed("the DPoP proof's nonce is not current"))
                }
                Some(_) => {}
            }
        }
        if let Some(token) = access_token {
            let ath = self.string_claim(&claims.ath, "ath")?;
            if ath != access_token_hash(token) {
                return Err(
                    self.invalid("the DPoP proof's ath is not the hash of the access token")
                );
            }
        }
        Ok(())
    }
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

/// A string claim.
fn text(claim: &Option<Value>) -> Option<&str> {
    claim.as_ref().and_then(Value::as_str)
}

/// RFC 9449 4.2 `ath`: base64url of the SHA-256 of the access token's ASCII.
pub fn access_token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, token.as_bytes()))
}

/// Whether `htu` names `expected`, without query and fragment, after RFC 3986 syntax- and
/// scheme-based normalization (case of scheme and host, default port, dot segments,
/// percent-encoding case) — the normalization the url crate's parser applies (RFC 9449 4.3).
fn same_target(htu: &str, expected: &str) -> bool {
    let Ok(mut htu) = url::Url::parse(htu) else {
        return false;
    };
    htu.set_query(None);
    htu.set_fragment(None);
    url::Url::parse(expected).is_ok_and(|expected| expected == htu)
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
