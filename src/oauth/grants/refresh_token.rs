//! RFC 6749 6: a refresh token for new tokens. Every use rotates it; the spent one is remembered
//! until it expires, and presenting a spent one again revokes its whole family, so the newest
//! token of that family stops working too. Scopes may narrow, never widen.

use super::{family_key, issue_user_tokens, requested_scopes, UserGrant};
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::issuer::TokenResponse;
use crate::oauth::request::Params;
use crate::oauth::tokens::read_refresh_token;
use crate::oauth::types::ScopeSet;
use crate::registry::Client;
use crate::state::AppState;

fn not_valid() -> OAuthError {
    OAuthError::new(ErrorCode::InvalidGrant, "the refresh token is not valid")
}

pub async fn grant(
    state: &AppState,
    client: &Client,
    params: &Params,
    binding: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    let token = params.require("refresh_token")?;
    let claims = read_refresh_token(state, token).ok_or_else(not_valid)?;
    if claims.client_id != client.id {
        return Err(OAuthError::new(
            ErrorCode::InvalidGrant,
            "the refresh token can be used only by the same issuer",
        ));
    }
    // Everything that can refuse the request comes before the token is spent.
    let user = state.users.get(&claims.sub).ok_or_else(not_valid)?;
    let granted = ScopeSet::parse(&claims.scope).map_err(|_| not_valid())?;
    let scopes = requested_scopes(params, &granted, &granted)?;
    let now = state.now();
    let family = family_key(&claims.fid);
    if state.revocations.is_revoked(&family, now).await? {
        return Err(not_valid());
    }
    if !state
        .revocations
        .first_use("refresh", &claims.jti, claims.exp, now)
        .await?
    {
        // A spent token again: someone holds a copy. Cut the whole family off, for as long as
        // its newest member could live.
        let family_end = now + state.settings.tokens.refresh_token_ttl.as_secs() as i64;
        state
            .revocations
            .revoke_unlisted(&family, family_end, now)
            .await?;
        tracing::warn!(client_id = %client.id, "a spent refresh token was presented again: its family is revoked");
        return Err(not_valid());
    }
    issue_user_tokens(
        state,
        UserGrant {
            client,
            user,
            scopes,
            audience: claims.aud,
            auth_time: claims.auth_time,
            nonce: None,
            family: Some(claims.fid),
            binding,
        },
    )
}
