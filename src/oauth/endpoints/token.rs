//! The token endpoint (RFC 6749 3.2): the grant type, the DPoP proof (RFC 9449 5), the client's
//! authentication, then the grant. Compatible routes call it with their own options.

use crate::metrics::Metrics;
use crate::oauth::client_auth::{Binding, ClientAuthenticator, ClientProof};
use crate::oauth::dpop::{DpopChecker, DpopRequest, Endpoint};
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

/// Answers a token request with `params`, its client proven by `proof`, its tokens bound to the
/// key of the DPoP proof in `dpop` when it has one.
pub async fn token(
    authenticator: &ClientAuthenticator<'_>,
    grants: &GrantHandles<'_>,
    metrics: &Metrics,
    mut params: Params,
    proof: ClientProof<'_>,
    dpop: DpopRequest<'_>,
    options: TokenOptions<'_>,
) -> Result<TokenResponse, OAuthError> {
    let grant_type = grant_type(&params)?;
    profile::check_grant_type(authenticator.settings, grant_type)?;
    // The proof before the client: a bad one (or one without the nonce) costs no argon2 and
    // spends no client assertion.
    let checker = DpopChecker::new(grants.issuer, grants.revocations, Endpoint::Token);
    let dpop_proof = checker.check(&dpop, None).await?;
    let mut client = authenticator.authenticate(&params, proof).await?;
    let proven = dpop_proof.is_some();
    // A refusal for want of a proof: with nonces on, the client's first proof can carry one.
    let with_nonce = |refused: OAuthError| match checker.current_nonce() {
        Some(nonce) => refused.with_dpop_nonce(nonce),
        None => refused,
    };
    match dpop_proof {
        Some(proof) => client.binding = Binding::Dpop(proof.jkt),
        None if client.dpop_bound_access_tokens => {
            return Err(with_nonce(checker.invalid(format!(
                "the client {} must send a DPoP proof",
                client.id
            ))));
        }
        None => {}
    }
    profile::check_sender_constrained(authenticator.settings, &client).map_err(with_nonce)?;
    if let Some(wildcard) = options.scope_wildcard {
        if params.get("scope") == Some(wildcard) {
            params.set("scope", client.scopes.to_string());
        }
    }
    let mut response = grants::issue(grants, &client, grant_type, &params).await?;
    if proven {
        response.dpop_nonce = checker.current_nonce();
    }
    metrics.record_token(grant_type.as_str(), &client.id);
    Ok(response)
}
