//! RFC 6749 4.4: the client acts on its own behalf; the token's subject is the client.

use super::{requested_audience, requested_scopes};
use crate::oauth::client_auth::AuthenticatedClient;
use crate::oauth::error::OAuthError;
use crate::oauth::issuer::{AccessTokenSpec, Issuer, TokenResponse};
use crate::oauth::params::Params;
use crate::revocation::Revocations;

pub async fn grant(
    issuer: &Issuer,
    revocations: &Revocations,
    client: &AuthenticatedClient,
    params: &Params,
) -> Result<TokenResponse, OAuthError> {
    let scopes = requested_scopes(params, &client.scopes, &client.default_scopes)?;
    let audience = requested_audience(params, client)?;
    let access_token = issuer
        .access_token(
            revocations,
            AccessTokenSpec {
                client,
                subject: &client.id,
                scopes: &scopes,
                audience: &audience,
                user: None,
                extra: None,
                cnf: &client.binding,
                not_after: None,
                status: None,
            },
        )
        .await?;
    Ok(TokenResponse::issued(access_token, &scopes))
}
