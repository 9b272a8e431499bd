//! OpenID Connect userinfo (OIDC Core 5.3): the user's claims that the access token's scopes
//! release. Errors are RFC 6750's, with their Bearer challenges.

use crate::oauth::bearer::{bearer_error, invalid_token, missing_token};
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::issuer::{scoped_claims, Issuer};
use crate::oauth::tokens::{AccessTokenClaims, Reading};
use crate::oauth::types::ScopeSet;
use crate::registry::UserRegistry;
use crate::revocation::Revocations;
use serde_json::{json, Map, Value};

/// The claims `token` may see.
pub async fn userinfo(
    issuer: &Issuer,
    revocations: &Revocations,
    users: &UserRegistry,
    token: Option<&str>,
) -> Result<Map<String, Value>, OAuthError> {
    let token = token.ok_or_else(missing_token)?;
    let Reading::Valid(claims) = issuer.read::<AccessTokenClaims>(revocations, token).await? else {
        return Err(invalid_token());
    };
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
        .ok_or_else(invalid_token)?;
    let scopes = ScopeSet::parse(claims.scope.as_deref().unwrap_or_default()).unwrap_or_default();
    if !scopes.iter().any(|scope| scope.as_str() == "openid") {
        return Err(bearer_error(
            ErrorCode::InsufficientScope,
            "the access token was not granted the openid scope",
            Some("openid"),
        ));
    }
    let mut body = scoped_claims(user, &scopes);
    body.insert("sub".into(), Value::from(user.username.as_str()));
    Ok(body)
}
