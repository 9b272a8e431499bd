//! OpenID Connect userinfo (OIDC Core 5.3): the user's claims that the access token's scopes
//! release. The token is a Bearer (RFC 6750) or a DPoP (RFC 9449 7) one, read by
//! `oauth::bearer`; errors carry both challenges.

use crate::oauth::bearer::{AccessTokenReader, Possession, PresentedToken};
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::issuer::scoped_claims;
use crate::oauth::types::ScopeSet;
use crate::registry::UserRegistry;
use serde_json::{json, Map, Value};

/// The claims `presented` may see.
pub async fn userinfo(
    reader: &AccessTokenReader<'_>,
    users: &UserRegistry,
    presented: Option<PresentedToken>,
    possession: Possession<'_>,
) -> Result<Map<String, Value>, OAuthError> {
    let presented = presented.ok_or_else(|| reader.missing())?;
    let claims = reader.read(&presented, possession).await?;
    // A provider grant's subject: its profile is who it is and who vouched for it.
    if let Some(idp) = claims.other.get("idp").and_then(Value::as_str) {
        let profile = json!({ "sub": claims.sub, "idp": idp });
        return Ok(profile.as_object().cloned().unwrap_or_default());
    }
    // Only tokens of a user grant (they carry auth_time) speak for a user.
    let user_token = claims.other.contains_key("auth_time");
    let user = users
        .get(&claims.sub)
        .filter(|_| user_token)
        .ok_or_else(|| {
            reader.error(
                ErrorCode::InvalidToken,
                "the access token is not valid, expired or revoked",
                None,
                Some(presented.scheme),
            )
        })?;
    let scopes = ScopeSet::parse(claims.scope.as_deref().unwrap_or_default()).unwrap_or_default();
    if !scopes.iter().any(|scope| scope.as_str() == "openid") {
        return Err(reader.error(
            ErrorCode::InsufficientScope,
            "the access token was not granted the openid scope",
            Some("openid"),
            Some(presented.scheme),
        ));
    }
    let mut body = scoped_claims(user, &scopes);
    body.insert("sub".into(), Value::from(user.username.as_str()));
    Ok(body)
}
