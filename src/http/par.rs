//! `POST /oauth2/par` (RFC 9126): a form body, the client's proof, a DPoP proof (RFC 9449 10.1),
//! and the pushed request's `request_uri` back with 201 Created (and the `DPoP-Nonce` for the
//! next proof).

use super::error::DPOP_NONCE;
use super::extract::{client_proof, content_type, dpop_request, read_body};
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
    let answer = push(
        &authenticator,
        &issuer,
        &state.revocations,
        params,
        proof,
        dpop_request(&req),
    )
    .await?;
    let mut response = no_store(HttpResponse::Created());
    if let Some(nonce) = &answer.dpop_nonce {
        response.insert_header((DPOP_NONCE, nonce.as_str()));
    }
    Ok(response.json(answer))
}
