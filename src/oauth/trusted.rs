//! JWTs from trusted issuers: the JWT bearer grant's assertions (RFC 7523 2.1) and token
//! exchange subjects and actors (RFC 8693). Signed by a key the issuer publishes, with an
//! algorithm allowed for it, for this issuer (`aud`), current, and not too long-lived.

use super::assertion::{audience_matches, find_key, signing_keys};
use super::error::{ErrorCode, OAuthError};
use crate::jose::CompactJws;
use crate::registry::ClientKeys;
use crate::registry::TrustedIssuer;
use crate::state::AppState;
use serde_json::{Map, Value};

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
    state: &AppState,
    token: &str,
    what: &'static str,
) -> Result<ExternalJwt, OAuthError> {
    let not_valid = || invalid(what);
    let jws = CompactJws::parse(token).ok_or_else(not_valid)?;
    if jws.header.crit.is_some() {
        return Err(not_valid());
    }
    let claims: Map<String, Value> =
        serde_json::from_slice(&jws.payload).map_err(|_| not_valid())?;
    let iss = claims
        .get("iss")
        .and_then(Value::as_str)
        .ok_or_else(not_valid)?;
    let issuer = state
        .settings
        .trusted_issuers
        .get(iss)
        .ok_or_else(|| invalid("the issuer of the token is not trusted"))?
        .clone();
    let alg = jws
        .header
        .alg
        .parse()
        .ok()
        .filter(|alg| issuer.algs.contains(alg))
        .ok_or_else(not_valid)?;
    let kid = jws.header.kid.as_deref();
    let mut keys = signing_keys(state, &issuer.keys, false).await?;
    if find_key(&keys, kid, alg).is_none() && matches!(issuer.keys, ClientKeys::Uri(_)) {
        keys = signing_keys(state, &issuer.keys, true).await?;
    }
    let key = find_key(&keys, kid, alg).ok_or_else(not_valid)?;
    if !crate::jose::verify_with_jwk(key, alg, jws.signing_input.as_bytes(), &jws.signature) {
        return Err(not_valid());
    }
    let now = state.now();
    let skew = state.settings.client_assertions.clock_skew.as_secs() as i64;
    let accepted = &state.settings.assertion_audiences;
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
    if exp - iat.unwrap_or(now).min(now) > issuer.max_lifetime.as_secs() as i64 + skew {
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
        subject: format!("{}{sub}", issuer.subject_prefix),
        issuer,
        claims,
        exp,
    })
}
