//! One module per grant type, dispatched by `grant_type`, plus the checks every grant shares
//! (scopes, audience).

mod authorization_code;
mod client_credentials;
mod jwt_bearer;
mod password;
mod provider;
mod refresh_token;
mod token_exchange;
mod uma_ticket;

use super::error::{ErrorCode, OAuthError};
use super::issuer::{random_id, AccessTokenSpec, RefreshClaims, TokenResponse};
use super::request::{Params, TokenRequest};
use super::types::{GrantType, ScopeSet};
use crate::clock::UnixTime;
use crate::registry::{Client, User};
use crate::state::AppState;
use std::net::IpAddr;

/// Runs the grant of an authenticated client's request.
pub async fn issue(
    state: &AppState,
    client: &Client,
    request: &TokenRequest,
    peer: Option<IpAddr>,
    binding: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    if !client.allows_grant(request.grant_type) {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            format!(
                "the client {} doesn't support the grant type {}",
                client.id, request.grant_type
            ),
        ));
    }
    match request.grant_type {
        GrantType::ClientCredentials => {
            client_credentials::grant(state, client, &request.params, binding)
        }
        GrantType::Password => password::grant(state, client, &request.params, peer, binding).await,
        GrantType::RefreshToken => {
            refresh_token::grant(state, client, &request.params, binding).await
        }
        GrantType::AuthorizationCode => {
            authorization_code::grant(state, client, &request.params, binding).await
        }
        GrantType::JwtBearer => jwt_bearer::grant(state, client, &request.params, binding).await,
        GrantType::UmaTicket => uma_ticket::grant(state, client, &request.params, binding).await,
        GrantType::Provider => provider::grant(state, client, &request.params, binding).await,
        GrantType::TokenExchange => {
            token_exchange::grant(state, client, &request.params, binding).await
        }
    }
}

/// What a user grant hands to `issue_user_tokens`.
pub struct UserGrant<'a> {
    pub client: &'a Client,
    pub user: &'a User,
    pub scopes: ScopeSet,
    pub audience: Vec<String>,
    pub auth_time: UnixTime,
    pub nonce: Option<&'a str>,
    /// The refresh token family this grant continues (a new one when `None`).
    pub family: Option<String>,
    /// The certificate a mutual-TLS client's tokens are bound to.
    pub binding: Option<&'a str>,
}

/// The family id of refresh tokens as the denylist knows it.
pub fn family_key(fid: &str) -> String {
    format!("family:{fid}")
}

/// The tokens of a user grant: an access token with the user's claims, a refresh token when the
/// client may refresh, an ID token when `openid` was granted.
pub fn issue_user_tokens(
    state: &AppState,
    grant: UserGrant<'_>,
) -> Result<TokenResponse, OAuthError> {
    let issuer = state.issuer();
    let access_token = issuer.access_token(AccessTokenSpec {
        client: grant.client,
        subject: &grant.user.username,
        scopes: &grant.scopes,
        audience: &grant.audience,
        user: Some((grant.user, grant.auth_time)),
        extra: None,
        cnf: grant.binding,
        not_after: None,
    })?;
    let id_token = if grant.scopes.iter().any(|scope| scope.as_str() == "openid") {
        Some(issuer.id_token(
            grant.client,
            grant.user,
            &grant.scopes,
            grant.auth_time,
            grant.nonce,
            &access_token.token,
        )?)
    } else {
        None
    };
    let refresh_token = if grant.client.allows_grant(GrantType::RefreshToken) {
        Some(issuer.refresh_token(&RefreshClaims {
            iss: state.settings.issuer.clone(),
            client_id: grant.client.id.clone(),
            sub: grant.user.username.clone(),
            scope: grant.scopes.to_string(),
            aud: grant.audience.clone(),
            auth_time: grant.auth_time,
            iat: issuer.now,
            exp: issuer.now + state.settings.tokens.refresh_token_ttl.as_secs() as i64,
            jti: random_id(),
            fid: grant.family.unwrap_or_else(random_id),
        })?)
    } else {
        None
    };
    let mut response = TokenResponse::bearer(access_token, &grant.scopes);
    response.refresh_token = refresh_token;
    response.id_token = id_token;
    Ok(response)
}

/// The scopes a request gets from `allowed`: those it asks for, all of which must be allowed,
/// or `default` when it asks for none.
pub fn requested_scopes(
    params: &Params,
    allowed: &ScopeSet,
    default: &ScopeSet,
) -> Result<ScopeSet, OAuthError> {
    let Some(requested) = params.get("scope") else {
        return Ok(default.clone());
    };
    let refused = |names: Vec<&str>| {
        OAuthError::new(
            ErrorCode::InvalidScope,
            format!("the scopes {} are not allowed or invalid", names.join(" ")),
        )
    };
    let requested = ScopeSet::parse(requested).map_err(|invalid| {
        // Invalid scope syntax is not echoed back verbatim: it may hold anything.
        let count = invalid.len();
        OAuthError::new(
            ErrorCode::InvalidScope,
            format!("the scope parameter holds {count} malformed scope token(s)"),
        )
    })?;
    if requested.is_empty() {
        return Ok(default.clone());
    }
    let not_allowed = requested.not_in(allowed);
    if !not_allowed.is_empty() {
        return Err(refused(not_allowed.iter().map(|s| s.as_str()).collect()));
    }
    Ok(requested)
}

/// The `aud` of an access token: the RFC 8707 `resource` and `audience` parameters when the
/// request names some (each must be one the client may have), else all the client's audiences.
pub fn requested_audience(params: &Params, client: &Client) -> Result<Vec<String>, OAuthError> {
    let mut audience: Vec<String> = Vec::new();
    for resource in params.all("resource") {
        let absolute = url::Url::parse(resource).is_ok_and(|url| url.fragment().is_none());
        if !absolute {
            return Err(OAuthError::new(
                ErrorCode::InvalidTarget,
                "the resource parameter must be an absolute URI without a fragment",
            ));
        }
        audience.push(resource.to_owned());
    }
    audience.extend(params.all("audience").map(str::to_owned));
    if audience.is_empty() {
        return Ok(client.audience.clone());
    }
    let mut seen = std::collections::HashSet::new();
    audience.retain(|target| seen.insert(target.clone()));
    for target in &audience {
        if !client.audience.contains(target) {
            let shown: String = target.chars().take(200).collect();
            return Err(OAuthError::new(
                ErrorCode::InvalidTarget,
                format!(
                    "the resource {shown} is not allowed for the client {}",
                    client.id
                ),
            ));
        }
    }
    Ok(audience)
}
