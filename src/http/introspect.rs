//! `POST /oauth2/introspect` (RFC 7662) and the compatible routes onto it.

use super::extract::{client_proof, params, read_body};
use super::no_store;
use crate::oauth::endpoints::introspect::introspect;
use crate::oauth::OAuthError;
use crate::registry::CompatRoute;
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};

pub async fn serve(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, OAuthError> {
    serve_route(&req, payload, &state, None).await
}

/// The endpoint as `route` mounts it (`None`: at its own path).
pub(super) async fn serve_route(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
    route: Option<&CompatRoute>,
) -> Result<HttpResponse, OAuthError> {
    let body = read_body(req, payload, state.settings().server.max_body_bytes).await?;
    let params = params(req, &body, route)?;
    let issuer = state.issuer();
    let authenticator = state.client_authenticator(&issuer);
    let answer = introspect(
        &authenticator,
        &issuer,
        &state.revocations,
        &params,
        client_proof(req, &issuer.settings.server.trusted_proxies),
    )
    .await?;
    Ok(no_store(HttpResponse::Ok()).json(answer))
}
