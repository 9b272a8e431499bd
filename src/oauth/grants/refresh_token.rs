//! RFC 6749 6: a refresh token for new tokens. Every use rotates it; the spent one is remembered
//! until it expires, and presenting a spent one again revokes its whole family, so the newest
//! token of that family stops working too. Scopes may narrow, never widen. Under FAPI 2.0 it does
//! not rotate (5.3.2.1): the token stays valid until it expires or its family is revoked.

use super::{issue_user_tokens, requested_scopes, UserGrant};
use crate::oauth::client_auth::AuthenticatedClient;
use crate::oauth::dpop::require_key;
use crate::oauth::error::OAuthError;
use crate::oauth::issuer::{Issuer, RefreshClaims, TokenResponse};
use crate::oauth::params::Params;
use crate::oauth::profile;
use crate::oauth::token_kind::ReplayKind;
use crate::oauth::types::ScopeSet;
use crate::registry::UserRegistry;
use crate::revocation::Revocations;

fn not_valid() -> OAuthError {
    OAuthError::invalid_grant("the refresh token is not valid")
}

pub async fn grant(
    issuer: &Issuer,
    users: &UserRegistry,
    revocations: &Revocations,
    client: &AuthenticatedClient,
    params: &Params,
) -> Result<TokenResponse, OAuthError> {
    let token = params.require("refresh_token")?;
    let claims: RefreshClaims = issuer.open(token).ok_or_else(not_valid)?;
    if claims.client_id != client.id {
        return Err(OAuthError::invalid_grant(
            "the refresh token can be used only by the same issuer",
        ));
    }
    // Everything that can refuse the request comes before the token is spent.
    if let Some(jkt) = &claims.jkt {
        require_key(&client.binding, jkt, "refresh token")?;
    }
    let user = users.get(&claims.sub).ok_or_else(not_valid)?;
    let granted = ScopeSet::parse(&claims.scope).map_err(|_| not_valid())?;
    let scopes = requested_scopes(params, &granted, &granted)?.into_owned();
    if issuer.is_revoked(revocations, &claims).await? {
        // A member of a revoked family: whoever holds it, the access token that came with it
        // goes too.
        issuer.revoke_refresh_token(revocations, &claims).await?;
        return Err(not_valid());
    }
    let rotates = profile::rotates_refresh_tokens(&issuer.settings);
    if rotates
        && !revocations
            .first_use(ReplayKind::Refresh, &claims.jti, claims.exp, issuer.now)
            .await?
    {
        // A spent token again: someone holds a copy. Cut the whole family off.
        issuer.revoke_refresh_token(revocations, &claims).await?;
        tracing::warn!(client_id = %client.id, "a spent refresh token was presented again: its family is revoked");
        return Err(not_valid());
    }
    let mut response = issue_user_tokens(
        issuer,
        revocations,
        UserGrant {
            client,
            user,
            scopes,
            audience: claims.aud,
            auth_time: claims.auth_time,
            nonce: None,
            family: Some(claims.fid),
            sid: claims.sid,
            binding: &client.binding,
            status: None,
        },
    )
    .await?;
    if !rotates {
        // The client keeps the refresh token it sent, which was not spent.
        response.refresh_token = None;
    }
    Ok(response)
}
