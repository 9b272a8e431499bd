//! UMA 2.0 grant (`urn:ietf:params:oauth:grant-type:uma-ticket`): a permission ticket, and
//! optionally a claim token (an ID token of ours) naming the requesting party, for a requesting
//! party token: an access token with `authorization.permissions`.

use super::requested_audience;
use crate::oauth::client_auth::AuthenticatedClient;
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::issuer::{AccessTokenSpec, Issuer, TokenResponse};
use crate::oauth::params::Params;
use crate::oauth::tokens::IdTokenClaims;
use crate::oauth::types::ScopeSet;
use crate::oauth::uma::{granted_scopes, needs_a_user, Party, Permission, TicketClaims};
use crate::registry::{User, UserRegistry};
use crate::revocation::Revocations;
use serde_json::{json, Map};

/// The user an ID token of ours names, when it was issued to `client_id`.
fn claim_token_user<'u>(
    issuer: &Issuer,
    users: &'u UserRegistry,
    token: &str,
    client_id: &str,
) -> Option<&'u User> {
    let claims: IdTokenClaims = issuer.open(token)?;
    if claims.aud.as_str() != Some(client_id) {
        return None;
    }
    users.get(&claims.sub).map(|user| user.as_ref())
}

pub async fn grant(
    issuer: &Issuer,
    users: &UserRegistry,
    revocations: &Revocations,
    client: &AuthenticatedClient,
    params: &Params,
) -> Result<TokenResponse, OAuthError> {
    let ticket = params.require("ticket")?;
    let claims: TicketClaims = issuer.open(ticket).ok_or_else(|| {
        OAuthError::new(
            ErrorCode::InvalidGrant,
            "the permission ticket is not valid or has expired",
        )
    })?;
    let user = match params.get("claim_token") {
        None => None,
        Some(token) => Some(
            claim_token_user(issuer, users, token, &client.id).ok_or_else(|| {
                OAuthError::new(ErrorCode::InvalidGrant, "the claim token is not valid")
            })?,
        ),
    };
    let party = Party {
        client_id: &client.id,
        user,
    };
    let mut granted = Vec::new();
    let mut could_know_more = false;
    for permission in &claims.permissions {
        let resource = issuer
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
    let access_token = issuer
        .access_token(
            revocations,
            AccessTokenSpec {
                client,
                subject,
                scopes: &no_scopes,
                audience: &audience,
                user: None,
                extra: Some(&extra),
                cnf: &client.binding,
                not_after: None,
                status: None,
            },
        )
        .await?;
    Ok(TokenResponse::issued(access_token, &no_scopes))
}
