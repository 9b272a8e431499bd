//! RFC 6749 4.3: the resource owner's username and password, for clients allowed to use it
//! (public ones included when configured). A wrong password and an unknown user get the same
//! answer in the same time; failures are throttled per username and per address, and past the
//! limit the grant answers 429 without checking any password.

use super::{issue_user_tokens, requested_audience, requested_scopes, UserGrant};
use crate::oauth::credentials::Verdict;
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::issuer::TokenResponse;
use crate::oauth::request::Params;
use crate::registry::Client;
use crate::state::AppState;
use actix_web::http::StatusCode;
use std::net::IpAddr;

pub async fn grant(
    state: &AppState,
    client: &Client,
    params: &Params,
    peer: Option<IpAddr>,
    binding: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    let username = params.require("username")?;
    let password = params.require("password")?;
    let scopes = requested_scopes(params, &client.scopes, &client.default_scopes)?;
    let audience = requested_audience(params, client)?;
    let user = state.users.get(username);
    let now = state.now();
    let (verdict, _) = state
        .user_credentials
        .verify(
            &format!("user:{username}"),
            user.map(|user| &user.password_hash),
            password,
            peer,
            now,
        )
        .await
        .map_err(|_| OAuthError::server_error("the server is shutting down"))?;
    let user = match (verdict, user) {
        (Verdict::Valid, Some(user)) => user,
        (Verdict::Throttled { retry_after }, _) => {
            return Err(OAuthError::new(
                ErrorCode::InvalidGrant,
                "too many failed sign-in attempts; retry later",
            )
            .with_status(StatusCode::TOO_MANY_REQUESTS)
            .with_retry_after(retry_after))
        }
        _ => {
            return Err(OAuthError::new(
                ErrorCode::InvalidGrant,
                "resource owner credentials are not valid",
            ))
        }
    };
    issue_user_tokens(
        state,
        UserGrant {
            client,
            user,
            scopes,
            audience,
            auth_time: now,
            nonce: None,
            family: None,
            binding,
        },
    )
}
