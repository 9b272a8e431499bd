//! `POST /oauth2/introspect` (RFC 7662): for resource servers registered with
//! `introspect = true`. An active token answers its claims; anything else answers only
//! `{"active": false}`. Revocation is checked, and an unreachable shared store fails closed.

use crate::oauth::grants::family_key;
use crate::oauth::tokens::{read_refresh_token, verify_access_token};
use crate::oauth::{ErrorCode, OAuthError};
use crate::registry::CompatRoute;
use crate::state::AppState;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

pub async fn introspect(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, OAuthError> {
    serve(req, payload, state, None).await
}

/// The endpoint's work; `route` when it is mounted as a compatible route.
pub(super) async fn serve(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    route: Option<&CompatRoute>,
) -> Result<HttpResponse, OAuthError> {
    let (params, client) = super::authenticated_params(&req, payload, &state, route).await?;
    if !client.may_introspect {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            format!(
                "the client {} is not allowed to introspect tokens",
                client.id
            ),
        )
        .with_status(StatusCode::UNAUTHORIZED));
    }
    let token = params.require("token")?;
    let now = state.now();
    let mut answer = json!({ "active": false });
    if let Some(claims) = verify_access_token(&state, token) {
        if !state.revocations.is_revoked(&claims.jti, now).await? {
            answer = serde_json::to_value(&claims)
                .map_err(|_| OAuthError::server_error("the claims could not be encoded"))?;
            let fields = answer.as_object_mut().expect("claims are an object");
            fields.insert("active".into(), Value::Bool(true));
            fields.insert("token_type".into(), Value::from("Bearer"));
        }
    } else if let Some(claims) = read_refresh_token(&state, token) {
        let spent = state
            .revocations
            .is_used("refresh", &claims.jti, now)
            .await?;
        let revoked = state
            .revocations
            .is_revoked(&family_key(&claims.fid), now)
            .await?;
        if !spent && !revoked {
            answer = json!({
                "active": true,
                "token_type": "refresh_token",
                "iss": claims.iss,
                "sub": claims.sub,
                "client_id": claims.client_id,
                "scope": claims.scope,
                "exp": claims.exp,
                "iat": claims.iat,
                "jti": claims.jti,
            });
        }
    }
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(answer))
}
