//! The UMA 2.0 permission endpoint (UMA Federated Authorization 4): a resource server asks for a
//! permission ticket for resources it registered. It proves who it is with a PAT — an access
//! token issued to it, Bearer or DPoP (read by `oauth::bearer`) — or by authenticating like any
//! client. The body is the permission request (JSON), so either is in the headers.

use crate::oauth::bearer::{presents_token, AccessTokenReader, Possession};
use crate::oauth::client_auth::{ClientAuthenticator, ClientProof};
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::issuer::Issuer;
use crate::oauth::params::Params;
use crate::oauth::uma::{issue_ticket, Permission};
use crate::registry::Client;
use serde_json::Value;
use std::sync::Arc;

/// The permissions of a request body: one object or an array of them.
fn requested(body: &[u8]) -> Result<Vec<Value>, OAuthError> {
    let requested: Value = serde_json::from_slice(body)
        .map_err(|_| OAuthError::invalid_request("the permission request must be JSON"))?;
    let items = match requested {
        Value::Array(items) => items,
        object @ Value::Object(_) => vec![object],
        _ => {
            return Err(OAuthError::invalid_request(
                "the permission request must be an object or an array",
            ))
        }
    };
    if items.is_empty() {
        return Err(OAuthError::invalid_request(
            "the permission request names no resource",
        ));
    }
    Ok(items)
}

/// The resource server of a request: the client a PAT was issued to, or the authenticated client.
async fn resource_server(
    authenticator: &ClientAuthenticator<'_>,
    reader: &AccessTokenReader<'_>,
    proof: ClientProof<'_>,
    possession: Possession<'_>,
) -> Result<Arc<Client>, OAuthError> {
    if !presents_token(proof.authorization) {
        let client = authenticator
            .authenticate(&Params::default(), proof)
            .await?;
        return Ok(client.client);
    }
    let presented = reader
        .presented(proof.authorization, None)?
        .ok_or_else(|| reader.missing())?;
    let claims = reader.read(&presented, possession).await?;
    authenticator
        .clients
        .get(&claims.client_id)
        .cloned()
        .ok_or_else(|| {
            reader.error(
                ErrorCode::InvalidToken,
                "the access token's client is no longer registered",
                None,
                Some(presented.scheme),
            )
        })
}

/// A signed permission ticket for the permissions `body` asks for.
pub async fn permission(
    authenticator: &ClientAuthenticator<'_>,
    reader: &AccessTokenReader<'_>,
    issuer: &Issuer,
    body: &[u8],
    proof: ClientProof<'_>,
    possession: Possession<'_>,
) -> Result<String, OAuthError> {
    let client = resource_server(authenticator, reader, proof, possession).await?;
    let mut permissions = Vec::new();
    for item in requested(body)? {
        let permission: Permission = serde_json::from_value(item).map_err(|_| {
            OAuthError::invalid_request("each permission needs a resource_id and resource_scopes")
        })?;
        let resource = issuer
            .settings
            .uma_resources
            .get_for(&client.id, &permission.resource_id)
            .ok_or_else(|| {
                OAuthError::invalid_request(format!(
                    "the resource {} is not registered for this resource server",
                    permission.resource_id.chars().take(80).collect::<String>()
                ))
            })?;
        if let Some(scope) = permission
            .resource_scopes
            .iter()
            .find(|scope| !resource.scopes.contains(scope))
        {
            return Err(OAuthError::new(
                ErrorCode::InvalidScope,
                format!("the resource {} has no scope {scope}", resource.id),
            ));
        }
        permissions.push(permission);
    }
    issue_ticket(issuer, &client.id, permissions)
}
