//! Looking at a token the way someone debugging one needs to: decoded without any check, or
//! verified as a resource server verifies it, against a running issuer (its JWK Set over HTTP,
//! `typ`, `iss`, `aud`, `exp`, and the status list entry when the token carries one), through
//! `tessera-verifier`, the same code resource servers use.

use crate::jose::CompactJws;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{Map, Value};
use std::sync::Arc;
use tessera_verifier::{
    AccessToken, AccessTokenVerifier, Clock, KeySource, RemoteKeysConfig, StatusListConfig,
};

/// A token's parts as written, nothing verified.
#[derive(Debug)]
pub enum Decoded {
    /// A compact JWS: its protected header and its claims.
    Signed {
        header: Map<String, Value>,
        claims: Map<String, Value>,
    },
    /// A compact JWE: only its protected header is readable without the recipient's key.
    Encrypted { header: Map<String, Value> },
}

fn json_object(part: &str) -> Option<Map<String, Value>> {
    let bytes = URL_SAFE_NO_PAD.decode(part).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// Decodes `token` without checking anything; `None` when it is neither a compact JWS nor a
/// compact JWE of JSON objects.
pub fn decode(token: &str) -> Option<Decoded> {
    let parts: Vec<&str> = token.trim().split('.').collect();
    match parts.as_slice() {
        [header, _, _] => {
            let parsed = CompactJws::parse(token.trim())?;
            let claims = match serde_json::from_slice(&parsed.payload).ok()? {
                Value::Object(map) => map,
                _ => return None,
            };
            Some(Decoded::Signed {
                header: json_object(header)?,
                claims,
            })
        }
        [header, _, _, _, _] => Some(Decoded::Encrypted {
            header: json_object(header)?,
        }),
        _ => None,
    }
}

/// Where the issuer is and what the token must be for.
pub struct VerifyOptions {
    /// The `iss` the token must have.
    pub issuer: String,
    /// Where the issuer publishes its keys.
    pub jwks_uri: String,
    /// The `aud` the token must name.
    pub audience: String,
    pub clock: Arc<dyn Clock>,
}

/// Verifies an access token as a resource server of `options.audience` would. A token with a
/// `status` claim is checked against its status list (fetched from the list's `uri`); one
/// without is accepted, and says so in [`AccessToken::status`].
pub async fn verify(
    token: &str,
    options: VerifyOptions,
) -> Result<AccessToken, tessera_verifier::Error> {
    let keys = KeySource::remote(
        RemoteKeysConfig::jwks_uri(options.jwks_uri).clock(options.clock.clone()),
    )
    .await?;
    let verifier = AccessTokenVerifier::builder(options.issuer, options.audience, keys)
        .clock(options.clock)
        .status_lists(StatusListConfig::default().require_status(false))
        .build()?;
    verifier.verify(token.trim()).await
}

/// The first `aud` of a decoded token's claims: what a debugging session verifies for when it
/// names no audience.
pub fn first_audience(claims: &Map<String, Value>) -> Option<String> {
    match claims.get("aud")? {
        Value::String(aud) => Some(aud.clone()),
        Value::Array(values) => values.first()?.as_str().map(str::to_owned),
        _ => None,
    }
}
