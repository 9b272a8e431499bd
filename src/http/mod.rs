//! One module per endpoint.

mod authorize;
mod compat;
mod discovery;
mod health;
mod introspect;
mod jwks;
mod metrics;
pub mod observe;
mod revocations;
mod revoke;
mod token;
mod uma;
mod userinfo;

use crate::oauth::OAuthError;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};

pub const TOKEN_PATH: &str = "/oauth2/token";
pub const AUTHORIZE_PATH: &str = "/oauth2/authorize";
pub const USERINFO_PATH: &str = "/oauth2/userinfo";
pub const REVOKE_PATH: &str = "/oauth2/revoke";
pub const INTROSPECT_PATH: &str = "/oauth2/introspect";
pub const REVOCATIONS_PATH: &str = "/oauth2/revocations";
pub const JWKS_PATH: &str = "/.well-known/jwks.json";

/// The compatible routes of the configuration, each with its options in its app data.
pub fn compat_routes(cfg: &mut web::ServiceConfig, routes: &[crate::registry::CompatRoute]) {
    for route in routes {
        cfg.service(
            web::resource(route.path.as_str())
                .app_data(web::Data::new(route.clone()))
                .route(web::post().to(compat_route))
                .default_service(web::to(post_only)),
        );
    }
}

/// A compatible route: its core endpoint's work, then its envelope.
async fn compat_route(
    req: actix_web::HttpRequest,
    payload: web::Payload,
    state: web::Data<crate::state::AppState>,
    route: web::Data<crate::registry::CompatRoute>,
) -> HttpResponse {
    use crate::registry::RouteEndpoint;
    let result = match route.endpoint {
        RouteEndpoint::Token => token::serve(&req, payload, &state, Some(&route)).await,
        RouteEndpoint::Revoke => revoke::serve(req, payload, state.clone(), Some(&route)).await,
        RouteEndpoint::Introspect => {
            introspect::serve(req, payload, state.clone(), Some(&route)).await
        }
    };
    compat::wrap(&state, &route, result).await
}

/// Every route of the issuer.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource(TOKEN_PATH)
            .route(web::post().to(token::token))
            .default_service(web::to(post_only)),
    )
    .service(
        web::resource(REVOKE_PATH)
            .route(web::post().to(revoke::revoke))
            .default_service(web::to(post_only)),
    )
    .service(
        web::resource(INTROSPECT_PATH)
            .route(web::post().to(introspect::introspect))
            .default_service(web::to(post_only)),
    )
    .service(
        web::resource(AUTHORIZE_PATH)
            .route(web::get().to(authorize::authorize))
            .route(web::post().to(authorize::authorize_form)),
    )
    .service(
        web::resource(USERINFO_PATH)
            .route(web::get().to(userinfo::userinfo))
            .route(web::post().to(userinfo::userinfo_post)),
    )
    .route(REVOCATIONS_PATH, web::get().to(revocations::revocations))
    .service(
        web::resource(uma::PERMISSION_PATH)
            .route(web::post().to(uma::permission))
            .default_service(web::to(post_only)),
    )
    .route(
        "/.well-known/uma2-configuration",
        web::get().to(uma::configuration),
    )
    .route(JWKS_PATH, web::get().to(jwks::jwks))
    .route(
        "/.well-known/openid-configuration",
        web::get().to(discovery::discovery),
    )
    .route(
        "/.well-known/oauth-authorization-server",
        web::get().to(discovery::discovery),
    )
    .route("/healthz", web::get().to(health::healthz))
    .route("/readyz", web::get().to(health::readyz))
    .route("/metrics", web::get().to(metrics::metrics));
}

/// The parameters of a protocol request (from the body, and the query string where the route
/// allows it) and its authenticated client.
async fn authenticated_params(
    req: &actix_web::HttpRequest,
    payload: web::Payload,
    state: &crate::state::AppState,
    route: Option<&crate::registry::CompatRoute>,
) -> Result<
    (
        crate::oauth::request::Params,
        crate::oauth::client_auth::Authenticated,
    ),
    OAuthError,
> {
    use crate::oauth::request::{parse_body, read_body, route_params};
    let body = read_body(req, payload, state.settings.server.max_body_bytes).await?;
    let params = match route {
        Some(route) => route_params(req, &body, route.query_parameters)?,
        None => parse_body(req, &body)?,
    };
    let client = crate::oauth::client_auth::authenticate(
        state,
        req.headers(),
        &params,
        req.peer_addr().map(|addr| addr.ip()),
        req.conn_data::<crate::tls::PeerCertificates>(),
    )
    .await?;
    Ok((params, client))
}

/// 405 for any method but POST on the protocol endpoints, as an OAuth error body.
async fn post_only() -> HttpResponse {
    let mut response = actix_web::ResponseError::error_response(
        &OAuthError::invalid_request("this endpoint accepts only POST")
            .with_status(StatusCode::METHOD_NOT_ALLOWED),
    );
    response
        .headers_mut()
        .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
    response
}
