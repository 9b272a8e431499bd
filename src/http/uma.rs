//! UMA 2.0: `POST /uma/permission` for resource servers, and `/.well-known/uma2-configuration`.

use super::extract::{client_proof, possession, read_body};
use super::no_store;
use crate::oauth::bearer::AccessTokenReader;
use crate::oauth::endpoints::discovery::uma_configuration;
use crate::oauth::endpoints::uma_permission::permission;
use crate::oauth::OAuthError;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

pub async fn serve(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, OAuthError> {
    let body = read_body(&req, payload, state.settings().server.max_body_bytes).await?;
    let issuer = state.issuer();
    let authenticator = state.client_authenticator(&issuer);
    let reader = AccessTokenReader::new(&issuer, &state.revocations);
    let ticket = permission(
        &authenticator,
        &reader,
        &issuer,
        &body,
        client_proof(&req, &issuer.settings.server.trusted_proxies),
        possession(&req),
    )
    .await?;
    Ok(no_store(HttpResponse::build(StatusCode::CREATED)).json(json!({ "ticket": ticket })))
}

pub async fn configuration(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(uma_configuration(&state.settings()))
}
