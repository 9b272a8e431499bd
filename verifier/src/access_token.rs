//! The RFC 9068 profile: what makes a verified JWS an access token for this resource server.
//!
//! In order: (decrypt), signature, `typ` at+jwt, `iss`, `aud`, `exp`/`nbf`/`iat` with leeway,
//! the required claims (`sub`, `client_id`, `jti`), whether the token may come under the scheme
//! it came with, its DPoP proof and sender constraint (`cnf`), the status list (the draft: token
//! validation precedes any evaluation of its status), and last the proof's `jti` is spent.

use crate::binding::{self, Proof, Schemes};
use crate::claims::{AccessToken, RawClaims};
use crate::clock::{Clock, SystemClock, UnixTime};
use crate::dpop::{Dpop, DpopConfig};
use crate::jws::{verify_jws, JwsPolicy};
use crate::keys::KeySource;
use crate::status::{Context, StatusListConfig, StatusLists};
use crate::{Algorithm, AlgorithmSet, Error};
use std::sync::Arc;
use std::time::Duration;

/// Verifies access tokens of one issuer for one audience. Build it once and share it (it is
/// `Send + Sync`; clone the `Arc` it usually lives in).
pub struct AccessTokenVerifier {
    issuer: String,
    audience: String,
    keys: KeySource,
    policy: JwsPolicy,
    leeway: i64,
    clock: Arc<dyn Clock>,
    status_lists: Option<StatusLists>,
    dpop: Option<Dpop>,
    #[cfg(feature = "jwe")]
    decryption_keys: Vec<crate::jwe::DecryptionKey>,
}

impl std::fmt::Debug for AccessTokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessTokenVerifier")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("algorithms", &self.policy.algorithms)
            .field("revocation", &self.status_lists.is_some())
            .field("dpop", &self.dpop.as_ref().map(Dpop::algs_text))
            .finish_non_exhaustive()
    }
}

/// Builds an [`AccessTokenVerifier`].
pub struct AccessTokenVerifierBuilder {
    issuer: String,
    audience: String,
    keys: KeySource,
    policy: JwsPolicy,
    leeway: Duration,
    clock: Arc<dyn Clock>,
    status_lists: Option<StatusListConfig>,
    dpop: Option<DpopConfig>,
    #[cfg(feature = "jwe")]
    decryption_keys: Vec<crate::jwe::DecryptionKey>,
}

impl AccessTokenVerifierBuilder {
    /// Tolerance for clock differences on `exp`, `nbf` and `iat` (default 30 s).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The algorithms accepted (default: the asymmetric ones).
    pub fn algorithms(mut self, algorithms: &[Algorithm]) -> Self {
        self.policy.algorithms = AlgorithmSet::from_slice(algorithms);
        self
    }

    /// Largest token accepted, in bytes (default 16 KiB).
    pub fn max_token_len(mut self, len: usize) -> Self {
        self.policy.max_token_len = len;
        self
    }

    /// Turns revocation checking on: every token's status list entry must say VALID, and (by
    /// default, see [`StatusListConfig::require_status`]) every token must carry `status`.
    pub fn status_lists(mut self, config: StatusListConfig) -> Self {
        self.status_lists = Some(config);
        self
    }

    /// Takes DPoP-bound tokens (RFC 9449) with their proofs, as `config` says; without it, a
    /// token with `cnf.jkt` is refused ([`BindingError::DpopNotSupported`](crate::BindingError)).
    pub fn dpop(mut self, config: DpopConfig) -> Self {
        self.dpop = Some(config);
        self
    }

    /// Accepts tokens encrypted to this key (may be called for several keys).
    #[cfg(feature = "jwe")]
    pub fn decryption_key(mut self, key: crate::jwe::DecryptionKey) -> Self {
        self.decryption_keys.push(key);
        self
    }

    pub fn build(self) -> Result<AccessTokenVerifier, Error> {
        if self.policy.algorithms.is_empty() {
            return Err(Error::AlgorithmNotAllowed);
        }
        Ok(AccessTokenVerifier {
            issuer: self.issuer,
            audience: self.audience,
            keys: self.keys,
            policy: self.policy,
            leeway: self.leeway.as_secs() as i64,
            clock: self.clock,
            status_lists: self.status_lists.map(StatusLists::new).transpose()?,
            dpop: self.dpop.map(Dpop::new).transpose()?,
            #[cfg(feature = "jwe")]
            decryption_keys: self.decryption_keys,
        })
    }
}

fn required(value: Option<String>, name: &'static str) -> Result<String, Error> {
    value
        .filter(|value| !value.is_empty())
        .ok_or(Error::MissingClaim(name))
}

impl AccessTokenVerifier {
    /// A builder for tokens of `issuer` (compared exactly with `iss`) meant for `audience`
    /// (one of the token's `aud` values), signed by `keys`.
    pub fn builder(
        issuer: impl Into<String>,
        audience: impl Into<String>,
        keys: KeySource,
    ) -> AccessTokenVerifierBuilder {
        AccessTokenVerifierBuilder {
            issuer: issuer.into(),
            audience: audience.into(),
            keys,
            policy: JwsPolicy::default(),
            leeway: Duration::from_secs(30),
            clock: Arc::new(SystemClock),
            status_lists: None,
            dpop: None,
            #[cfg(feature = "jwe")]
            decryption_keys: Vec::new(),
        }
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// The key source, for verifying the issuer's other JWTs with [`verify_jws`](crate::verify_jws).
    pub fn keys(&self) -> &KeySource {
        &self.keys
    }

    pub fn now(&self) -> UnixTime {
        self.clock.now()
    }

    /// Verifies a bearer token presented without any proof of possession: a token with `cnf`
    /// is refused.
    pub async fn verify(&self, token: &str) -> Result<AccessToken, Error> {
        self.verify_with_proof(token, Proof::None).await
    }

    /// Verifies a token presented with `proof`: the mutual-TLS client certificate of a bearer
    /// request, or the DPoP proof of an `Authorization: DPoP` request (which needs
    /// [`dpop`](AccessTokenVerifierBuilder::dpop)). A DPoP proof's `jti` is spent only when
    /// everything else passed, so a refused request leaves the proof unspent.
    pub async fn verify_with_proof(
        &self,
        token: &str,
        proof: Proof<'_>,
    ) -> Result<AccessToken, Error> {
        if token.len() > self.policy.max_token_len {
            return Err(Error::TooLarge(crate::error::Limit::Token));
        }
        let decrypted;
        let jws = match token.bytes().filter(|&b| b == b'.').count() {
            2 => token,
            4 => {
                decrypted = self.decrypt(token)?;
                decrypted.as_str()
            }
            _ => return Err(Error::Malformed("not a compact JWS or JWE")),
        };
        let verified = verify_jws(jws, &self.keys, &self.policy).await?;
        let typ_ok = verified.header.typ.as_deref().is_some_and(|typ| {
            typ.eq_ignore_ascii_case("at+jwt") || typ.eq_ignore_ascii_case("application/at+jwt")
        });
        if !typ_ok {
            return Err(Error::WrongType);
        }
        let claims = RawClaims::parse(&verified.payload)?;
        let now = self.clock.now();
        let verified = self.check_claims(claims, now, verified.header.kid)?;
        let cnf = verified.confirmation.as_ref();
        let schemes = Schemes {
            dpop: self.dpop.is_some(),
            bearer_tokens: self.dpop.as_ref().is_none_or(Dpop::bearer_tokens),
        };
        binding::check_scheme(cnf, &proof, schemes).map_err(Error::Binding)?;
        let checked = match (&proof, &self.dpop) {
            (Proof::Dpop(request), Some(dpop)) => Some(
                dpop.check(request, token, now, self.leeway)
                    .map_err(Error::Dpop)?,
            ),
            _ => None,
        };
        let proven_jkt = checked.as_ref().map(|checked| checked.jkt.as_str());
        binding::check_possession(cnf, &proof, proven_jkt).map_err(Error::Binding)?;
        self.check_status(&verified).await?;
        if let (Some(checked), Some(dpop)) = (&checked, &self.dpop) {
            dpop.spend(checked, self.clock.now())
                .await
                .map_err(Error::Dpop)?;
        }
        Ok(verified)
    }

    /// Whether this verifier takes DPoP-bound tokens.
    pub fn takes_dpop(&self) -> bool {
        self.dpop.is_some()
    }

    /// Whether tokens that are not DPoP-bound are taken (always, without DPoP).
    pub fn takes_bearer_tokens(&self) -> bool {
        self.dpop.as_ref().is_none_or(Dpop::bearer_tokens)
    }

    /// The DPoP proof algorithms, space-separated (the `algs` of a `DPoP` challenge).
    pub fn dpop_algorithms(&self) -> Option<&str> {
        self.dpop.as_ref().map(Dpop::algs_text)
    }

    /// The nonce DPoP proofs must carry now, when nonces are required (`DPoP-Nonce`).
    pub fn dpop_nonce(&self) -> Option<String> {
        self.dpop
            .as_ref()
            .and_then(|dpop| dpop.current_nonce(self.clock.now()))
    }

    fn check_claims(
        &self,
        claims: RawClaims,
        now: UnixTime,
        key_id: Option<String>,
    ) -> Result<AccessToken, Error> {
        let issuer = claims.iss.ok_or(Error::MissingClaim("iss"))?;
        if issuer != self.issuer {
            return Err(Error::WrongIssuer);
        }
        if claims.aud.is_empty() {
            return Err(Error::MissingClaim("aud"));
        }
        if !claims.aud.contains(&self.audience) {
            return Err(Error::WrongAudience);
        }
        let expires_at = claims.exp.ok_or(Error::MissingClaim("exp"))?;
        if now >= expires_at.saturating_add(self.leeway) {
            return Err(Error::Expired);
        }
        let issued_at = claims.iat.ok_or(Error::MissingClaim("iat"))?;
        let not_yet = |time: UnixTime| time > now.saturating_add(self.leeway);
        if not_yet(issued_at) || claims.nbf.is_some_and(not_yet) {
            return Err(Error::NotYetValid);
        }
        let status = match claims.status {
            Some(Some(reference)) => Some(reference),
            Some(None) | None => None,
        };
        Ok(AccessToken {
            issuer,
            subject: required(claims.sub, "sub")?,
            client_id: required(claims.client_id, "client_id")?,
            jwt_id: required(claims.jti, "jti")?,
            audience: claims.aud,
            expires_at,
            issued_at,
            not_before: claims.nbf,
            scopes: claims
                .scope
                .as_deref()
                .unwrap_or_default()
                .split(' ')
                .filter(|scope| !scope.is_empty())
                .map(str::to_owned)
                .collect(),
            auth_time: claims.auth_time,
            actor: claims.act,
            confirmation: claims.cnf,
            permissions: claims.permissions.unwrap_or_default(),
            status,
            claims: claims.other,
            key_id,
        })
    }

    async fn check_status(&self, token: &AccessToken) -> Result<(), Error> {
        let Some(lists) = &self.status_lists else {
            return Ok(());
        };
        match &token.status {
            Some(reference) => {
                let context = Context {
                    keys: &self.keys,
                    issuer: &self.issuer,
                    clock: self.clock.as_ref(),
                    leeway: self.leeway,
                };
                lists.check(reference, &context).await
            }
            None if lists.require_status() => Err(Error::StatusMissing),
            None => Ok(()),
        }
    }

    #[cfg(feature = "jwe")]
    fn decrypt(&self, token: &str) -> Result<String, Error> {
        if self.decryption_keys.is_empty() {
            return Err(Error::Decryption);
        }
        crate::jwe::decrypt(token, &self.decryption_keys, self.policy.max_header_len)
    }

    #[cfg(not(feature = "jwe"))]
    fn decrypt(&self, _token: &str) -> Result<String, Error> {
        Err(Error::Decryption)
    }
}
