//! RFC 7523 2.1: a JWT from a trusted issuer as the authorization grant. The subject is the
//! issuer's `sub` under the issuer's prefix; scopes and audiences are limited by the client and
//! by what the issuer is trusted for; each assertion works once.

use super::{requested_audience, requested_scopes};
use crate::oauth::client_auth::AuthenticatedClient;
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::issuer::{AccessTokenSpec, Issuer, TokenResponse};
use crate::oauth::params::Params;
use crate::oauth::token_kind::ReplayKind;
use crate::oauth::trusted;
use crate::oauth::types::ScopeSet;
use crate::registry::Client;
use crate::registry::TrustedIssuer;
use crate::revocation::Revocations;
use serde_json::Value;

/// What `scopes` allows once the issuer's own limit is applied.
pub(super) fn limited(scopes: &ScopeSet, issuer: &TrustedIssuer) -> ScopeSet {
    if issuer.scopes.is_empty() {
        return scopes.clone();
    }
    scopes
        .iter()
        .filter(|scope| issuer.scopes.contains(scope))
        .cloned()
        .collect()
}

/// The audience of a token for a trusted issuer's subject: what the request names (each one
/// the client may have and the issuer is trusted for), else every such audience.
pub(super) fn limited_audience(
    params: &Params,
    client: &Client,
    issuer: &TrustedIssuer,
) -> Result<Vec<String>, OAuthError> {
    let explicit =
        params.all("resource").next().is_some() || params.all("audience").next().is_some();
    let audience = requested_audience(params, client)?.into_owned();
    if issuer.audience.is_empty() {
        return Ok(audience);
    }
    if explicit {
        if let Some(aud) = audience.iter().find(|aud| !issuer.audience.contains(aud)) {
            return Err(OAuthError::new(
                ErrorCode::InvalidTarget,
                format!(
                    "tokens from {} may not name the audience {aud}",
                    issuer.issuer
                ),
            ));
        }
        return Ok(audience);
    }
    let allowed: Vec<String> = audience
        .into_iter()
        .filter(|aud| issuer.audience.contains(aud))
        .collect();
    if allowed.is_empty() {
        return Err(OAuthError::new(
            ErrorCode::InvalidTarget,
            format!(
                "the client has no audience that tokens from {} may name",
                issuer.issuer
            ),
        ));
    }
    Ok(allowed)
}

pub async fn grant(
    issuer: &Issuer,
    revocations: &Revocations,
    client: &AuthenticatedClient,
    params: &Params,
) -> Result<TokenResponse, OAuthError> {
    let assertion = params.require("assertion")?;
    let jwt = trusted::verify(issuer, assertion, "the assertion is not valid").await?;
    let jti = jwt
        .claims
        .get("jti")
        .and_then(Value::as_str)
        .filter(|jti| !jti.is_empty() && jti.len() <= 256)
        .ok_or_else(|| OAuthError::new(ErrorCode::InvalidGrant, "the assertion has no jti"))?
        .to_owned();
    let allowed = limited(&client.scopes, &jwt.issuer);
    let default = limited(&client.default_scopes, &jwt.issuer);
    let scopes = requested_scopes(params, &allowed, &default)?;
    let audience = limited_audience(params, client, &jwt.issuer)?;
    let skew = issuer.settings.client_assertions.clock_skew.as_secs() as i64;
    let first = revocations
        .first_use(
            ReplayKind::JwtBearer,
            &format!("{}:{jti}", jwt.issuer.issuer),
            jwt.exp + skew,
            issuer.now,
        )
        .await?;
    if !first {
        return Err(OAuthError::new(
            ErrorCode::InvalidGrant,
            "the assertion was used before",
        ));
    }
    let access_token = issuer
        .access_token(
            revocations,
            AccessTokenSpec {
                client,
                subject: &jwt.subject,
                scopes: &scopes,
                audience: &audience,
                user: None,
                extra: None,
                cnf: &client.binding,
                not_after: None,
                status: None,
            },
        )
        .await?;
    Ok(TokenResponse::issued(access_token, &scopes))
}
