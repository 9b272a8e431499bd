//! RFC 6749 4.1.3 with RFC 7636: a code for tokens. The code names its client, redirect URI and
//! PKCE challenge; it works once, and a second try revokes what the first one got (the refresh
//! token family is the one the code names: its client's in the browser session it came from).

use super::{issue_user_tokens, requested_audience, UserGrant};
use crate::oauth::authorize::{is_pkce_value, is_well_formed_redirect, pkce_matches, CodeClaims};
use crate::oauth::client_auth::AuthenticatedClient;
use crate::oauth::dpop::require_key;
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::issuer::{Issuer, TokenResponse};
use crate::oauth::params::Params;
use crate::oauth::token_kind::ReplayKind;
use crate::oauth::types::ScopeSet;
use crate::registry::UserRegistry;
use crate::revocation::Revocations;

fn not_correct() -> OAuthError {
    OAuthError::new(
        ErrorCode::InvalidGrant,
        "the authorization code is not correct",
    )
}

pub async fn grant(
    issuer: &Issuer,
    users: &UserRegistry,
    revocations: &Revocations,
    client: &AuthenticatedClient,
    params: &Params,
) -> Result<TokenResponse, OAuthError> {
    let code = params.require("code")?;
    let redirect_uri = params.require("redirect_uri")?;
    if !is_well_formed_redirect(redirect_uri) {
        return Err(OAuthError::invalid_request(
            "Based on the RFC-3986 the redirection-uri is not well formed",
        ));
    }
    let claims: CodeClaims = issuer.open(code).ok_or_else(not_correct)?;
    if claims.client_id != client.id {
        return Err(not_correct());
    }
    if claims.redirect_uri != redirect_uri {
        return Err(OAuthError::new(
            ErrorCode::InvalidGrant,
            "the redirect_uri does not match the authorization request",
        ));
    }
    match (
        &claims.code_challenge,
        claims.code_challenge_method,
        params.get("code_verifier"),
    ) {
        (Some(challenge), Some(method), Some(verifier))
            if !is_pkce_value(verifier) || !pkce_matches(method, challenge, verifier) =>
        {
            return Err(OAuthError::new(
                ErrorCode::InvalidGrant,
                "the code_verifier does not match the code challenge",
            ))
        }
        (Some(_), _, None) => return Err(OAuthError::missing_parameter("code_verifier")),
        (None, _, Some(_)) => {
            return Err(OAuthError::new(
                ErrorCode::InvalidGrant,
                "the authorization request had no code challenge",
            ))
        }
        _ => {}
    }
    // RFC 9449 10: a code bound at the authorization endpoint (`dpop_jkt`) needs that key.
    if let Some(jkt) = &claims.dpop_jkt {
        require_key(&client.binding, jkt, "authorization code")?;
    }
    if !revocations
        .first_use(ReplayKind::Code, &claims.jti, claims.exp, issuer.now)
        .await?
    {
        // Used before: whatever the first exchange got must not outlive this. The refresh
        // tokens of that exchange are the code's family; its access token took the
        // status-list entry the code set aside.
        issuer.revoke_family(revocations, claims.family()).await?;
        if let Some(status) = &claims.status {
            revocations.revoke_status(status, issuer.now).await?;
        }
        return Err(not_correct());
    }
    let user = users.get(&claims.sub).ok_or_else(not_correct)?;
    let scopes = ScopeSet::parse(&claims.scope).map_err(|_| not_correct())?;
    let audience = requested_audience(params, client)?.into_owned();
    issue_user_tokens(
        issuer,
        revocations,
        UserGrant {
            client,
            user,
            scopes,
            audience,
            auth_time: claims.auth_time,
            nonce: claims.nonce.as_deref(),
            family: Some(claims.family().to_owned()),
            sid: claims.sid.clone(),
            binding: &client.binding,
            status: claims.status,
        },
    )
    .await
}
