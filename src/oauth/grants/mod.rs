//! One module per grant type, dispatched by `grant_type`, plus the checks every grant shares
//! (scopes, audience) and the tokens of user grants. Each grant takes the authenticated client
//! and the handles it uses — the issuer (signing at one instant), and the stores it asks — and
//! returns what it issued.

mod authorization_code;
mod client_credentials;
mod device_code;
mod jwt_bearer;
mod password;
mod provider;
mod refresh_token;
mod token_exchange;
mod uma_ticket;

#[cfg(test)]
mod tests;

use super::client_auth::{AuthenticatedClient, Binding};
use super::credentials::CredentialVerifier;
use super::error::{ErrorCode, OAuthError};
use super::issuer::{random_id, AccessTokenSpec, Issuer, RefreshClaims, TokenResponse};
use super::params::Params;
use super::types::{GrantType, ScopeSet};
use crate::clock::UnixTime;
use crate::registry::{Client, User, UserRegistry};
use crate::revocation::Revocations;
use std::borrow::Cow;
use std::net::IpAddr;

/// Everything some grant needs, for one request; `issue` hands each grant its part.
pub struct GrantHandles<'a> {
    pub issuer: &'a Issuer,
    pub users: &'a UserRegistry,
    /// User passwords (throttled per username and per address).
    pub passwords: &'a CredentialVerifier,
    pub revocations: &'a Revocations,
    /// Outbound HTTP (identity providers).
    pub http: &'a reqwest::Client,
    /// The TCP peer (password failures are throttled per address).
    pub peer: Option<IpAddr>,
}

/// Runs the grant `grant_type` of an authenticated client's request.
pub async fn issue(
    handles: &GrantHandles<'_>,
    client: &AuthenticatedClient,
    grant_type: GrantType,
    params: &Params,
) -> Result<TokenResponse, OAuthError> {
    if !client.allows_grant(grant_type) {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            format!(
                "the client {} doesn't support the grant type {grant_type}",
                client.id
            ),
        ));
    }
    let GrantHandles {
        issuer,
        users,
        passwords,
        revocations,
        http,
        peer,
    } = handles;
    match grant_type {
        GrantType::ClientCredentials => {
            client_credentials::grant(issuer, revocations, client, params).await
        }
        GrantType::Password => {
            password::grant(issuer, users, passwords, revocations, *peer, client, params).await
        }
        GrantType::RefreshToken => {
            refresh_token::grant(issuer, users, revocations, client, params).await
        }
        GrantType::AuthorizationCode => {
            authorization_code::grant(issuer, users, revocations, client, params).await
        }
        GrantType::JwtBearer => jwt_bearer::grant(issuer, revocations, client, params).await,
        GrantType::UmaTicket => uma_ticket::grant(issuer, users, revocations, client, params).await,
        GrantType::Provider => provider::grant(issuer, http, revocations, client, params).await,
        GrantType::TokenExchange => {
            token_exchange::grant(issuer, revocations, client, params).await
        }
        GrantType::DeviceCode => {
            device_code::grant(issuer, users, revocations, client, params).await
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
    /// The browser session the grant came from (`sid` of its ID tokens).
    pub sid: Option<String>,
    /// What the tokens are bound to (a mutual-TLS client's certificate, a DPoP key).
    pub binding: &'a Binding,
    /// The access token's status-list entry, set aside when the code was made.
    pub status: Option<crate::revocation::status_list::StatusRef>,
}

/// The tokens of a user grant: an access token with the user's claims, a refresh token when the
/// client may refresh, an ID token when `openid` was granted.
pub async fn issue_user_tokens(
    issuer: &Issuer,
    revocations: &Revocations,
    grant: UserGrant<'_>,
) -> Result<TokenResponse, OAuthError> {
    let settings = &issuer.settings;
    let access_token = issuer
        .access_token(
            revocations,
            AccessTokenSpec {
                client: grant.client,
                subject: &grant.user.username,
                scopes: &grant.scopes,
                audience: &grant.audience,
                user: Some((grant.user, grant.auth_time)),
                extra: None,
                cnf: grant.binding,
                not_after: None,
                status: grant.status,
            },
        )
        .await?;
    let id_token = if grant.scopes.iter().any(|scope| scope.as_str() == "openid") {
        Some(issuer.id_token(
            grant.client,
            grant.user,
            &grant.scopes,
            grant.auth_time,
            grant.nonce,
            grant.sid.as_deref(),
            &access_token.token,
        )?)
    } else {
        None
    };
    let refresh_token = if grant.client.allows_grant(GrantType::RefreshToken) {
        Some(
            issuer.refresh_token(&RefreshClaims {
                iss: settings.issuer.clone(),
                client_id: grant.client.id.clone(),
                sub: grant.user.username.clone(),
                scope: grant.scopes.to_string(),
                aud: grant.audience.clone(),
                auth_time: grant.auth_time,
                iat: issuer.now,
                exp: issuer.now + settings.tokens.refresh_token_ttl.as_secs() as i64,
                jti: random_id(),
                fid: grant.family.unwrap_or_else(random_id),
                sid: grant.sid.clone(),
                at_status: Some(access_token.status),
                // RFC 9449 5: a confidential client's refresh tokens are bound by its
                // authentication; a public client's only by its DPoP key.
                jkt: grant
                    .binding
                    .jkt()
                    .filter(|_| grant.client.is_public())
                    .map(str::to_owned),
            })?,
        )
    } else {
        None
    };
    let mut response = TokenResponse::issued(access_token, &grant.scopes);
    response.refresh_token = refresh_token;
    response.id_token = id_token;
    Ok(response)
}

/// The scopes a request gets from `allowed`: those it asks for, all of which must be allowed,
/// or `default` when it asks for none.
pub fn requested_scopes<'a>(
    params: &Params,
    allowed: &ScopeSet,
    default: &'a ScopeSet,
) -> Result<Cow<'a, ScopeSet>, OAuthError> {
    let Some(requested) = params.get("scope") else {
        return Ok(Cow::Borrowed(default));
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
        return Ok(Cow::Borrowed(default));
    }
    let not_allowed = requested.not_in(allowed);
    if !not_allowed.is_empty() {
        return Err(refused(not_allowed.iter().map(|s| s.as_str()).collect()));
    }
    Ok(Cow::Owned(requested))
}

/// The `aud` of an access token: the RFC 8707 `resource` and `audience` parameters when the
/// request names some (each must be one the client may have), else all the client's audiences.
pub fn requested_audience<'a>(
    params: &Params,
    client: &'a Client,
) -> Result<Cow<'a, [String]>, OAuthError> {
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
        return Ok(Cow::Borrowed(&client.audience));
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
    Ok(Cow::Owned(audience))
}
