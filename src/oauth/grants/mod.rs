//! One module per grant type, dispatched by `grant_type`, plus the checks every grant shares
//! (scopes, audience).

mod client_credentials;

use super::error::{ErrorCode, OAuthError};
use super::issuer::TokenResponse;
use super::request::{Params, TokenRequest};
use super::types::{GrantType, ScopeSet};
use crate::registry::Client;
use crate::state::AppState;

/// Runs the grant of an authenticated client's request.
pub fn issue(
    state: &AppState,
    client: &Client,
    request: &TokenRequest,
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
        GrantType::ClientCredentials => client_credentials::grant(state, client, &request.params),
    }
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
