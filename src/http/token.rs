//! `POST /oauth2/token`: parse, authenticate the client, run the grant, answer. Compatible
//! routes (`[[routes]]` with `endpoint = "token"`) run the same steps with their own options.

use crate::oauth::request::{parse_body, read_body, route_params, TokenRequest};
use crate::oauth::{client_auth, grants, OAuthError};
use crate::registry::CompatRoute;
use crate::state::AppState;
use crate::tls::PeerCertificates;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

pub async fn token(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, OAuthError> {
    serve(&req, payload, &state, None).await
}

/// The endpoint's work; `route` when it is mounted as a compatible route.
pub(super) async fn serve(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
    route: Option<&CompatRoute>,
) -> Result<HttpResponse, OAuthError> {
    let body = read_body(req, payload, state.settings.server.max_body_bytes).await?;
    let params = match route {
        Some(route) => route_params(req, &body, route.query_parameters)?,
        None => parse_body(req, &body)?,
    };
    let mut request = TokenRequest::from_params(params)?;
    let peer = req.peer_addr().map(|addr| addr.ip());
    let client = client_auth::authenticate(
        state,
        req.headers(),
        &request.params,
        peer,
        req.conn_data::<PeerCertificates>(),
    )
    .await?;
    // The route's wildcard scope stands for every scope the client may have.
    if let Some(wildcard) = route.and_then(|route| route.scope_wildcard.as_deref()) {
        if request.params.get("scope") == Some(wildcard) {
            request.params.set("scope", client.scopes.to_string());
        }
    }
    let response = grants::issue(state, &client, &request, peer, client.binding.as_deref()).await?;
    state
        .metrics
        .record_token(request.grant_type.as_str(), &client.id);
    let body = serde_json::to_vec(&response)
        .map_err(|_| OAuthError::server_error("the response could not be encoded"))?;
    let mut answer = HttpResponse::Ok();
    if let Some(location) = &response.location {
        answer.insert_header((header::LOCATION, location.as_str()));
    }
    Ok(answer
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .content_type("application/json")
        .body(body))
}
