//! `POST /oauth2/par` (RFC 9126): a form body, the client's proof, and the pushed request's
//! `request_uri` back with 201 Created.

use super::extract::{client_proof, content_type, read_body};
use super::no_store;
use crate::oauth::endpoints::par::push;
use crate::oauth::params::parse_form_body;
use crate::oauth::OAuthError;
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};

pub async fn serve(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, OAuthError> {
    let body = read_body(&req, payload, state.settings().server.max_body_bytes).await?;
    let params = parse_form_body(content_type(&req), &body)?;
    let issuer = state.issuer();
    let authenticator = state.client_authenticator(&issuer);
    let proof = client_proof(&req, &issuer.settings.server.trusted_proxies);
    let answer = push(&authenticator, &issuer, params, proof).await?;
    Ok(no_store(HttpResponse::Created()).json(answer))
}
