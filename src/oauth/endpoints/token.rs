//! The token endpoint (RFC 6749 3.2): the grant type, the client's authentication, then the
//! grant. Compatible routes call it with their own options.

use crate::metrics::Metrics;
use crate::oauth::client_auth::{ClientAuthenticator, ClientProof};
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::grants::{self, GrantHandles};
use crate::oauth::issuer::TokenResponse;
use crate::oauth::params::{printable, Params};
use crate::oauth::profile;
use crate::oauth::types::GrantType;

/// What a route changes about the endpoint.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokenOptions<'a> {
    /// A `scope` value that stands for every scope the client may have.
    pub scope_wildcard: Option<&'a str>,
}

/// The grant type of a token request.
fn grant_type(params: &Params) -> Result<GrantType, OAuthError> {
    if params.is_empty() {
        return Err(OAuthError::invalid_request("no parameter in body request"));
    }
    let grant_type = params.require("grant_type")?;
    grant_type.parse().map_err(|_| {
        OAuthError::new(
            ErrorCode::UnsupportedGrantType,
            format!("the grant type {} is not supported", printable(grant_type)),
        )
    })
}

/// Answers a token request with `params`, its client proven by `proof`.
pub async fn token(
    authenticator: &ClientAuthenticator<'_>,
    grants: &GrantHandles<'_>,
    metrics: &Metrics,
    mut params: Params,
    proof: ClientProof<'_>,
    options: TokenOptions<'_>,
) -> Result<TokenResponse, OAuthError> {
    let grant_type = grant_type(&params)?;
    profile::check_grant_type(authenticator.settings, grant_type)?;
    let client = authenticator.authenticate(&params, proof).await?;
    profile::check_sender_constrained(authenticator.settings, &client)?;
    if let Some(wildcard) = options.scope_wildcard {
        if params.get("scope") == Some(wildcard) {
            params.set("scope", client.scopes.to_string());
        }
    }
    let response = grants::issue(grants, &client, grant_type, &params).await?;
    metrics.record_token(grant_type.as_str(), &client.id);
    Ok(response)
}
