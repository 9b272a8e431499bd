//! The device authorization endpoint (RFC 8628 3.1, 3.2): an authenticated (or public) client
//! asks for a device code and a user code. The device code is self-contained (sealed); the
//! authorization pending behind the user code is the flow's only state, living no longer than
//! `expires_in`.

use crate::oauth::client_auth::{ClientAuthenticator, ClientProof};
use crate::oauth::device::{display_user_code, new_user_code, DeviceCodeClaims};
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::grants::requested_scopes;
use crate::oauth::issuer::{random_id, Issuer};
use crate::oauth::params::Params;
use crate::oauth::paths;
use crate::oauth::token_kind::TokenKind;
use crate::oauth::types::GrantType;
use crate::revocation::{PendingDevice, Revocations};
use serde::Serialize;

/// How many user codes are drawn before giving up on finding a free one.
const USER_CODE_DRAWS: usize = 8;

/// RFC 8628 3.2.
#[derive(Debug, Serialize)]
pub struct DeviceAuthorizationResponse {
    pub device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: String,
    pub expires_in: u64,
    pub interval: u64,
}

/// Answers a device authorization request with `params`, its client proven by `proof`.
pub async fn device_authorization(
    authenticator: &ClientAuthenticator<'_>,
    issuer: &Issuer,
    revocations: &Revocations,
    params: &Params,
    proof: ClientProof<'_>,
) -> Result<DeviceAuthorizationResponse, OAuthError> {
    let client = authenticator.authenticate(params, proof).await?;
    if !client.allows_grant(GrantType::DeviceCode) {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            format!(
                "the client {} doesn't support the grant type {}",
                client.id,
                GrantType::DeviceCode
            ),
        ));
    }
    let scopes = requested_scopes(params, &client.scopes, &client.default_scopes)?;
    let settings = &issuer.settings;
    let ttl = settings.tokens.device_code_ttl.as_secs();
    let interval = settings.device.interval.as_secs();
    let now = issuer.now;
    let pending = PendingDevice {
        device_id: random_id(),
        client_id: client.id.clone(),
        scope: scopes.to_string(),
        exp: now + ttl as i64,
    };
    let mut user_code = None;
    for _ in 0..USER_CODE_DRAWS {
        let drawn = new_user_code();
        if revocations
            .device_start(&drawn, &pending, interval, now)
            .await?
        {
            user_code = Some(drawn);
            break;
        }
    }
    let user_code = user_code.ok_or_else(|| {
        OAuthError::new(
            ErrorCode::TemporarilyUnavailable,
            "no free user code could be drawn; try again later",
        )
        .with_retry_after(1)
    })?;
    let device_code = issuer.seal(
        TokenKind::DeviceCode,
        &DeviceCodeClaims {
            iss: settings.issuer.clone(),
            client_id: client.id.clone(),
            user_code: user_code.clone(),
            scope: pending.scope,
            exp: pending.exp,
            jti: pending.device_id,
        },
    )?;
    let verification_uri = settings.endpoint(paths::DEVICE);
    let shown = display_user_code(&user_code);
    let mut complete = url::Url::parse(&verification_uri)
        .map_err(|_| OAuthError::server_error("the issuer URL is not valid"))?;
    complete.query_pairs_mut().append_pair("user_code", &shown);
    Ok(DeviceAuthorizationResponse {
        device_code,
        user_code: shown,
        verification_uri,
        verification_uri_complete: complete.into(),
        expires_in: ttl,
        interval,
    })
}
