//! RFC 8628 3.4, 3.5: the device polls with its device code. Until the user answers it hears
//! `authorization_pending`; faster than its interval, `slow_down` (and the interval grows);
//! then `access_denied`, or the tokens — exactly once — and `expired_token` past the code's
//! lifetime. The tokens join the browser session that approved them: their refresh-token family
//! is the client's in that session, and the ID token names it (`sid`).

use super::{issue_user_tokens, requested_audience, UserGrant};
use crate::oauth::authorize::SignedIn;
use crate::oauth::client_auth::AuthenticatedClient;
use crate::oauth::device::DeviceCodeClaims;
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::issuer::{Issuer, TokenResponse};
use crate::oauth::params::Params;
use crate::oauth::token_kind::ReplayKind;
use crate::oauth::types::ScopeSet;
use crate::registry::UserRegistry;
use crate::revocation::{DeviceState, Poll, Revocations};

fn not_valid() -> OAuthError {
    OAuthError::invalid_grant("the device code is not valid")
}

fn expired() -> OAuthError {
    OAuthError::new(ErrorCode::ExpiredToken, "the device code has expired")
}

pub async fn grant(
    issuer: &Issuer,
    users: &UserRegistry,
    revocations: &Revocations,
    client: &AuthenticatedClient,
    params: &Params,
) -> Result<TokenResponse, OAuthError> {
    let device_code = params.require("device_code")?;
    let claims: DeviceCodeClaims = issuer.open(device_code).ok_or_else(not_valid)?;
    if claims.client_id != client.id {
        return Err(OAuthError::invalid_grant(
            "the device code was issued to another client",
        ));
    }
    let now = issuer.now;
    if claims.exp <= now {
        return Err(expired());
    }
    let approval = match revocations
        .device_poll(&claims.user_code, &claims.jti, now)
        .await?
    {
        Poll::Unknown => {
            return Err(
                if revocations
                    .is_used(ReplayKind::DeviceCode, &claims.jti, now)
                    .await?
                {
                    OAuthError::invalid_grant("the device code was used already")
                } else {
                    // Not here any more (a restarted single node): the device starts again.
                    expired()
                },
            );
        }
        Poll::SlowDown { interval } => {
            return Err(OAuthError::new(
                ErrorCode::SlowDown,
                format!("polling too fast: wait {interval} seconds between requests"),
            ))
        }
        Poll::Answer(DeviceState::Pending) => {
            return Err(OAuthError::new(
                ErrorCode::AuthorizationPending,
                "the user has not yet approved the device",
            ))
        }
        Poll::Answer(DeviceState::Denied) => {
            return Err(OAuthError::new(
                ErrorCode::AccessDenied,
                "the user denied the device",
            ))
        }
        Poll::Answer(DeviceState::Approved(approval)) => approval,
    };
    let signed_in: SignedIn = serde_json::from_str(&approval).map_err(|_| not_valid())?;
    // Everything that can refuse the request comes before the device code is spent.
    let user = users.get(&signed_in.sub).ok_or_else(not_valid)?;
    let scopes = ScopeSet::parse(&claims.scope).map_err(|_| not_valid())?;
    let audience = requested_audience(params, client)?.into_owned();
    if !revocations
        .first_use(ReplayKind::DeviceCode, &claims.jti, claims.exp, now)
        .await?
    {
        return Err(OAuthError::invalid_grant(
            "the device code was used already",
        ));
    }
    let response = issue_user_tokens(
        issuer,
        revocations,
        UserGrant {
            client,
            user,
            scopes,
            audience,
            auth_time: signed_in.auth_time,
            nonce: None,
            family: Some(signed_in.fid),
            sid: Some(signed_in.sid),
            binding: &client.binding,
            status: None,
        },
    )
    .await?;
    revocations.device_finish(&claims.user_code).await?;
    Ok(response)
}
