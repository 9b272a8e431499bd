//! UMA 2.0 grant (`urn:ietf:params:oauth:grant-type:uma-ticket`): a permission ticket, and
//! optionally a claim token (an ID token of ours) naming the requesting party, for a requesting
//! party token: an access token with `authorization.permissions`.

use super::requested_audience;
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::issuer::{AccessTokenSpec, TokenResponse};
use crate::oauth::request::Params;
use crate::oauth::types::ScopeSet;
use crate::oauth::uma::{granted_scopes, needs_a_user, read_ticket, Party, Permission};
use crate::registry::Client;
use crate::state::AppState;
use serde_json::{json, Map, Value};

/// The user an ID token of ours names, when it was issued to `client_id`.
fn claim_token_user<'a>(
    state: &'a AppState,
    token: &str,
    client_id: &str,
) -> Option<&'a crate::registry::User> {
    let settings = &state.settings;
    let now = state.now();
    let (header, payload) = state.keys().verify(
        token,
        settings.tokens.signing_alg,
        now,
        settings.token_retention,
    )?;
    if header.typ.as_deref() != Some("JWT") {
        return None;
    }
    let claims: Map<String, Value> = serde_json::from_slice(&payload).ok()?;
    let current = claims.get("iss").and_then(Value::as_str) == Some(settings.issuer.as_str())
        && claims.get("aud").and_then(Value::as_str) == Some(client_id)
        && claims
            .get("exp")
            .and_then(Value::as_i64)
            .is_some_and(|exp| exp > now);
    if !current {
        return None;
    }
    state
        .users
        .get(claims.get("sub")?.as_str()?)
        .map(|user| user.as_ref())
}

pub async fn grant(
    state: &AppState,
    client: &Client,
    params: &Params,
    binding: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    let ticket = params.require("ticket")?;
    let claims = read_ticket(state, ticket).ok_or_else(|| {
        OAuthError::new(
            ErrorCode::InvalidGrant,
            "the permission ticket is not valid or has expired",
        )
    })?;
    let user = match params.get("claim_token") {
        None => None,
        Some(token) => Some(claim_token_user(state, token, &client.id).ok_or_else(|| {
            OAuthError::new(ErrorCode::InvalidGrant, "the claim token is not valid")
        })?),
    };
    let party = Party {
        client_id: &client.id,
        user,
    };
    let mut granted = Vec::new();
    let mut could_know_more = false;
    for permission in &claims.permissions {
        let resource = state
            .settings
            .uma_resources
            .get(&permission.resource_id)
            .ok_or_else(|| {
                OAuthError::new(
                    ErrorCode::InvalidGrant,
                    "the ticket names an unknown resource",
                )
            })?;
        let scopes = granted_scopes(resource, &permission.resource_scopes, &party);
        if scopes.is_empty() {
            could_know_more |= user.is_none() && needs_a_user(resource);
            continue;
        }
        granted.push(Permission {
            resource_id: resource.id.clone(),
            resource_scopes: scopes,
        });
    }
    if granted.len() < claims.permissions.len() {
        if could_know_more {
            let mut error = OAuthError::new(
                ErrorCode::NeedInfo,
                "the policies need to know the requesting party: send a claim_token",
            );
            error.ticket = Some(ticket.to_owned());
            return Err(error);
        }
        return Err(OAuthError::new(
            ErrorCode::RequestDenied,
            "the policies do not grant the requested permissions",
        ));
    }
    let mut extra = Map::new();
    extra.insert("authorization".into(), json!({ "permissions": granted }));
    let subject = user.map_or(client.id.as_str(), |user| user.username.as_str());
    let audience = requested_audience(params, client)?;
    let no_scopes = ScopeSet::default();
    let access_token = state.issuer().access_token(AccessTokenSpec {
        client,
        subject,
        scopes: &no_scopes,
        audience: &audience,
        user: None,
        extra: Some(&extra),
        cnf: binding,
        not_after: None,
    })?;
    Ok(TokenResponse::bearer(access_token, &no_scopes))
}
