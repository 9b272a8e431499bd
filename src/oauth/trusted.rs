//! JWTs from trusted issuers: the JWT bearer grant's assertions (RFC 7523 2.1) and token
//! exchange subjects and actors (RFC 8693). Signed by a key the issuer publishes, with an
//! algorithm allowed for it, for this issuer (`aud`), current, and not too long-lived.

use super::error::{ErrorCode, OAuthError};
use super::foreign_jwt::{
    asymmetric_policy, audience_matches, header_alg, parse, verify as verify_signature,
    ForeignJwtError,
};
use super::issuer::Issuer;
use crate::jose::{AssertionAlg, SigningAlg, MAX_JWS_LEN};
use crate::registry::TrustedIssuer;
use serde_json::{Map, Value};
use strum::IntoEnumIterator;

/// A verified JWT of a trusted issuer.
pub struct ExternalJwt {
    pub issuer: TrustedIssuer,
    /// The subject as Tessera names it: the issuer's prefix and the JWT's `sub`.
    pub subject: String,
    pub claims: Map<String, Value>,
    pub exp: i64,
}

fn invalid(description: &'static str) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidGrant, description)
}

/// Verifies `token` as a JWT of one of the configured trusted issuers.
pub async fn verify(
    issuer: &Issuer,
    token: &str,
    what: &'static str,
) -> Result<ExternalJwt, OAuthError> {
    let settings = &issuer.settings;
    let not_valid = || invalid(what);
    let every_alg: Vec<SigningAlg> = SigningAlg::iter()
        .filter(|alg| settings.allows_jwt_alg(*alg))
        .collect();
    let jws = parse(token, &asymmetric_policy(&every_alg, MAX_JWS_LEN)).map_err(|_| not_valid())?;
    let payload = jws.unverified_payload().map_err(|_| not_valid())?;
    let claims: Map<String, Value> = serde_json::from_slice(&payload).map_err(|_| not_valid())?;
    let iss = claims
        .get("iss")
        .and_then(Value::as_str)
        .ok_or_else(not_valid)?;
    let trusted = settings
        .trusted_issuers
        .get(iss)
        .ok_or_else(|| invalid("the issuer of the token is not trusted"))?
        .clone();
    match header_alg(&jws) {
        AssertionAlg::Asymmetric(alg) if trusted.algs.contains(&alg) => {}
        _ => return Err(not_valid()),
    }
    match verify_signature(jws, trusted.keys.as_ref()).await {
        Ok(_) => {}
        // The trusted issuer's failure, not the client's: the client did authenticate.
        Err(ForeignJwtError::KeysUnavailable) => {
            return Err(invalid("the issuer's keys could not be fetched"))
        }
        Err(_) => return Err(not_valid()),
    }
    let now = issuer.now;
    let skew = settings.client_assertions.clock_skew.as_secs() as i64;
    let accepted = &settings.assertion_audiences;
    if !audience_matches(claims.get("aud").unwrap_or(&Value::Null), accepted) {
        return Err(invalid("the token is not meant for this issuer (aud)"));
    }
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or_else(not_valid)?;
    if exp + skew <= now {
        return Err(invalid("the token has expired"));
    }
    let iat = claims.get("iat").and_then(Value::as_i64);
    let nbf = claims.get("nbf").and_then(Value::as_i64);
    if iat.is_some_and(|iat| iat > now + skew) || nbf.is_some_and(|nbf| nbf > now + skew) {
        return Err(invalid("the token is not valid yet"));
    }
    if exp - iat.unwrap_or(now).min(now) > trusted.max_lifetime.as_secs() as i64 + skew {
        return Err(invalid(
            "the token lives longer than this issuer is trusted for",
        ));
    }
    let sub = claims
        .get("sub")
        .and_then(Value::as_str)
        .filter(|sub| !sub.is_empty())
        .ok_or_else(not_valid)?;
    Ok(ExternalJwt {
        subject: format!("{}{sub}", trusted.subject_prefix),
        issuer: trusted,
        claims,
        exp,
    })
}
