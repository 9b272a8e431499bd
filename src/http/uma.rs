//! UMA 2.0: `POST /uma/permission` for resource servers (authenticated like any client, e.g.
//! HTTP Basic), which answers a permission ticket, and `GET /.well-known/uma2-configuration`.

use crate::oauth::request::{read_body, Params};
use crate::oauth::types::GrantType;
use crate::oauth::uma::{issue_ticket, Permission};
use crate::oauth::{client_auth, OAuthError};
use crate::state::AppState;
use crate::tls::PeerCertificates;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

pub const PERMISSION_PATH: &str = "/uma/permission";

pub async fn permission(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, OAuthError> {
    let body = read_body(&req, payload, state.settings.server.max_body_bytes).await?;
    let peer = req.peer_addr().map(|addr| addr.ip());
    // The body is the permission request, so the resource server authenticates in headers.
    let client = client_auth::authenticate(
        &state,
        req.headers(),
        &Params::default(),
        peer,
        req.conn_data::<PeerCertificates>(),
    )
    .await?;
    let requested: Value = serde_json::from_slice(&body)
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
    let mut permissions = Vec::new();
    for item in items {
        let permission: Permission = serde_json::from_value(item).map_err(|_| {
            OAuthError::invalid_request("each permission needs a resource_id and resource_scopes")
        })?;
        let resource = state
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
                crate::oauth::ErrorCode::InvalidScope,
                format!("the resource {} has no scope {scope}", resource.id),
            ));
        }
        permissions.push(permission);
    }
    let ticket = issue_ticket(&state, &client.id, permissions)?;
    Ok(HttpResponse::build(StatusCode::CREATED)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({ "ticket": ticket })))
}

pub async fn configuration(state: web::Data<AppState>) -> HttpResponse {
    let settings = &state.settings;
    HttpResponse::Ok().json(json!({
        "issuer": settings.issuer,
        "token_endpoint": settings.endpoint(super::TOKEN_PATH),
        "jwks_uri": settings.endpoint(super::JWKS_PATH),
        "permission_endpoint": settings.endpoint(PERMISSION_PATH),
        "grant_types_supported": [GrantType::UmaTicket.as_str()],
        "uma_profiles_supported": [],
    }))
}
