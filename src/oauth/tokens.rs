//! Reading back the tokens this issuer signed: signature by a published key of the ring, the
//! right `typ`, our `iss`, and within `nbf`..`exp` by the application's clock. Revocation is the
//! caller's question (it may need the shared store).

use crate::jose::decrypt_from_self;
use crate::oauth::issuer::{RefreshClaims, REFRESH_TOKEN_TYP};
use crate::state::AppState;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Clock skew tolerated on `nbf` between replicas.
const NBF_SKEW_SECS: i64 = 60;

/// The claims of one of our access tokens.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct AccessTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: Value,
    pub exp: i64,
    pub iat: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    pub jti: String,
    pub client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Any other claim (user claims, `cnf`, `act`...).
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// The claims of `token` if it is a current access token of ours; `None` for anything else
/// (garbage, foreign, tampered, expired, not yet valid, another kind of token).
pub fn verify_access_token(state: &AppState, token: &str) -> Option<AccessTokenClaims> {
    let settings = &state.settings;
    let now = state.now();
    let (header, payload) = state.keys().verify(
        token,
        settings.tokens.signing_alg,
        now,
        settings.token_retention,
    )?;
    if header.typ.as_deref() != Some("at+jwt") {
        return None;
    }
    let claims: AccessTokenClaims = serde_json::from_slice(&payload).ok()?;
    let current = claims.iss == settings.issuer
        && claims.exp > now
        && claims.nbf.unwrap_or(claims.iat) <= now + NBF_SKEW_SECS;
    current.then_some(claims)
}

/// The claims of `token` if it is a current refresh token of ours (sealed by one of our secret
/// keys, our `iss`, not expired). Spent or revoked is the caller's question.
pub fn read_refresh_token(state: &AppState, token: &str) -> Option<RefreshClaims> {
    let keys = state.keys();
    let payload = decrypt_from_self(keys.secret_jwks(), REFRESH_TOKEN_TYP, token)?;
    let claims: RefreshClaims = serde_json::from_slice(&payload).ok()?;
    (claims.iss == state.settings.issuer && claims.exp > state.now()).then_some(claims)
}
