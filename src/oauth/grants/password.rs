//! RFC 6749 4.3: the resource owner's username and password, for clients allowed to use it
//! (public ones included when configured). A wrong password and an unknown user get the same
//! answer in the same time; failures are throttled per username and per address, and past the
//! limit the grant answers 429 without checking any password.

use super::{issue_user_tokens, requested_audience, requested_scopes, UserGrant};
use crate::oauth::client_auth::AuthenticatedClient;
use crate::oauth::credentials::{check_user_password, CredentialVerifier, PasswordCheck};
use crate::oauth::error::OAuthError;
use crate::oauth::issuer::{Issuer, TokenResponse};
use crate::oauth::params::Params;
use crate::registry::UserRegistry;
use crate::revocation::Revocations;
use std::net::IpAddr;

pub async fn grant(
    issuer: &Issuer,
    users: &UserRegistry,
    passwords: &CredentialVerifier,
    revocations: &Revocations,
    peer: Option<IpAddr>,
    client: &AuthenticatedClient,
    params: &Params,
) -> Result<TokenResponse, OAuthError> {
    let username = params.require("username")?;
    let password = params.require("password")?;
    let scopes = requested_scopes(params, &client.scopes, &client.default_scopes)?.into_owned();
    let audience = requested_audience(params, client)?.into_owned();
    let user =
        match check_user_password(passwords, users, username, password, peer, issuer.now).await? {
            PasswordCheck::Valid(user) => user,
            PasswordCheck::Throttled { retry_after } => {
                return Err(OAuthError::invalid_grant(
                    "too many failed sign-in attempts; retry later",
                )
                .throttled(retry_after))
            }
            PasswordCheck::Invalid => {
                return Err(OAuthError::invalid_grant(
                    "resource owner credentials are not valid",
                ))
            }
        };
    issue_user_tokens(
        issuer,
        revocations,
        UserGrant {
            client,
            user,
            scopes,
            audience,
            auth_time: issuer.now,
            nonce: None,
            family: None,
            sid: None,
            binding: &client.binding,
            status: None,
        },
    )
    .await
}
