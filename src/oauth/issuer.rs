//! Claims to tokens to the token response. Access tokens are RFC 9068 JWTs signed by the key
//! ring's active key.

use super::error::{ErrorCode, OAuthError};
use super::types::ScopeSet;
use crate::clock::UnixTime;
use crate::jose::TokenType;
use crate::keys::KeyRing;
use crate::registry::Client;
use crate::settings::Settings;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Serialize, Serializer};

/// What an access token is about.
pub struct AccessTokenSpec<'a> {
    pub client: &'a Client,
    pub subject: &'a str,
    pub scopes: &'a ScopeSet,
    pub audience: &'a [String],
}

/// A signed access token and what the response says of it.
#[derive(Debug)]
pub struct AccessToken {
    pub token: String,
    pub jti: String,
    pub expires_in: u64,
}

/// RFC 9068 section 2.2 claims.
#[derive(Serialize)]
struct AccessTokenClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: Audience<'a>,
    exp: UnixTime,
    iat: UnixTime,
    nbf: UnixTime,
    jti: &'a str,
    client_id: &'a str,
    /// Omitted when the token carries no scope.
    #[serde(skip_serializing_if = "String::is_empty")]
    scope: String,
}

/// `aud` is a string when there is one audience, an array otherwise (RFC 7519 4.1.3).
struct Audience<'a>(&'a [String]);

impl Serialize for Audience<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            [one] => serializer.serialize_str(one),
            many => many.serialize(serializer),
        }
    }
}

/// 128 random bits, base64url: unguessable and unique token ids.
pub fn random_id() -> String {
    let mut bytes = [0u8; 16];
    SystemRandom::new()
        .fill(&mut bytes)
        .expect("the system random source works");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Signs tokens with the key ring as it is at one instant.
pub struct Issuer<'a> {
    pub settings: &'a Settings,
    pub keys: arc_swap::Guard<std::sync::Arc<KeyRing>>,
    pub now: UnixTime,
}

impl Issuer<'_> {
    pub fn access_token(&self, spec: AccessTokenSpec<'_>) -> Result<AccessToken, OAuthError> {
        let alg = self.settings.tokens.signing_alg;
        let signer = self.keys.signer(alg, self.now).ok_or_else(|| {
            OAuthError::new(
                ErrorCode::TemporarilyUnavailable,
                "no signing key is active",
            )
        })?;
        let ttl = spec
            .client
            .access_token_ttl
            .unwrap_or(self.settings.tokens.access_token_ttl)
            .as_secs();
        let jti = random_id();
        let claims = AccessTokenClaims {
            iss: &self.settings.issuer,
            sub: spec.subject,
            aud: Audience(spec.audience),
            exp: self.now + ttl as i64,
            iat: self.now,
            nbf: self.now,
            jti: &jti,
            client_id: &spec.client.id,
            scope: spec.scopes.to_string(),
        };
        let token = signer
            .sign(TokenType::AccessToken, &claims)
            .map_err(|err| {
                OAuthError::server_error(format!("the token could not be signed: {err}"))
            })?;
        Ok(AccessToken {
            token,
            jti,
            expires_in: ttl,
        })
    }
}

/// RFC 6749 5.1 successful response.
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

impl TokenResponse {
    pub fn bearer(access_token: AccessToken, scopes: &ScopeSet) -> Self {
        Self {
            access_token: access_token.token,
            token_type: "Bearer",
            expires_in: access_token.expires_in,
            scope: scopes.to_string(),
            refresh_token: None,
        }
    }
}
