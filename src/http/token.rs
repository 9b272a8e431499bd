//! `POST /oauth2/token`: parse, authenticate the client, run the grant, answer.

use crate::oauth::request::{parse_body, read_body, TokenRequest};
use crate::oauth::{client_auth, grants, OAuthError};
use crate::state::AppState;
use crate::tls::PeerCertificates;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

pub async fn token(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, OAuthError> {
    let body = read_body(&req, payload, state.settings.server.max_body_bytes).await?;
    let request = TokenRequest::from_params(parse_body(&req, &body)?)?;
    let peer = req.peer_addr().map(|addr| addr.ip());
    let client = client_auth::authenticate(
        &state,
        req.headers(),
        &request.params,
        peer,
        req.conn_data::<PeerCertificates>(),
    )
    .await?;
    let response =
        grants::issue(&state, &client, &request, peer, client.binding.as_deref()).await?;
    state
        .metrics
        .record_token(request.grant_type.as_str(), &client.id);
    let body = serde_json::to_vec(&response)
        .map_err(|_| OAuthError::server_error("the response could not be encoded"))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .content_type("application/json")
        .body(body))
}
