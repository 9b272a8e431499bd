//! `POST /oauth2/token` and the compatible routes onto it: extract, call the endpoint, write the
//! token response (and the `Location` of a provider subject's profile, the `DPoP-Nonce` for the
//! next proof).

use super::error::DPOP_NONCE;
use super::extract::{client_proof, dpop_request, params, read_body};
use crate::oauth::endpoints::token::{token, TokenOptions};
use crate::oauth::{paths, OAuthError};
use crate::registry::CompatRoute;
use crate::state::AppState;
use actix_web::http::header;
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
    let proof = client_proof(req, &issuer.settings.server.trusted_proxies);
    let authenticator = state.client_authenticator(&issuer);
    let grants = state.grant_handles(&issuer, proof.peer);
    let options = TokenOptions {
        scope_wildcard: route.and_then(|route| route.scope_wildcard.as_deref()),
    };
    let response = token(
        &authenticator,
        &grants,
        &state.metrics,
        params,
        proof,
        dpop_request(req),
        options,
    )
    .await?;
    let body = response.to_json();
    let mut answer = HttpResponse::Ok();
    if let Some(subject) = &response.profile_subject {
        let mut profile = url::Url::parse(&issuer.settings.endpoint(paths::USERINFO))
            .map_err(|_| OAuthError::server_error("the issuer URL is not valid"))?;
        profile.query_pairs_mut().append_pair("sub", subject);
        answer.insert_header((header::LOCATION, profile.as_str()));
    }
    if let Some(nonce) = &response.dpop_nonce {
        answer.insert_header((DPOP_NONCE, nonce.as_str()));
    }
    Ok(answer
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .content_type("application/json")
        .body(body))
}
