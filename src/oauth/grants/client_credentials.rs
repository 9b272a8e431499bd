//! RFC 6749 4.4: the client acts on its own behalf; the token's subject is the client.

use super::{requested_audience, requested_scopes};
use crate::oauth::error::OAuthError;
use crate::oauth::issuer::{AccessTokenSpec, TokenResponse};
use crate::oauth::request::Params;
use crate::registry::Client;
use crate::state::AppState;

pub fn grant(
    state: &AppState,
    client: &Client,
    params: &Params,
    binding: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    let scopes = requested_scopes(params, &client.scopes, &client.default_scopes)?;
    let audience = requested_audience(params, client)?;
    let access_token = state.issuer().access_token(AccessTokenSpec {
        client,
        subject: &client.id,
        scopes: &scopes,
        audience: &audience,
        user: None,
        extra: None,
        cnf: binding,
        not_after: None,
    })?;
    Ok(TokenResponse::bearer(access_token, &scopes))
}
