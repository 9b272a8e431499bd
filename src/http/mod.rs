//! The web layer, and the only actix code besides startup and the TLS listener: one module per
//! endpoint extracts a typed request (body, parameters, headers, peer, certificates), calls the
//! protocol core, and writes its answer (status, headers, envelopes of compatible routes, HTML).

mod authorize;
mod compat;
mod device;
mod discovery;
mod error;
mod extract;
mod forwarded;
mod health;
mod introspect;
mod jwks;
mod logout;
mod metrics;
pub mod observe;
mod pages;
mod revoke;
mod status_lists;
mod token;
mod uma;
mod userinfo;

pub use error::REALM;

use crate::oauth::error::status;
use crate::oauth::{paths, OAuthError};
use crate::registry::{CompatRoute, RouteEndpoint};
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse, HttpResponseBuilder, ResponseError};

/// An answer that no cache may keep (RFC 6749 5.1).
fn no_store(mut builder: HttpResponseBuilder) -> HttpResponseBuilder {
    builder
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"));
    builder
}

/// A protocol endpoint that takes only POST.
fn post_resource<F, Args>(path: &str, handler: F) -> actix_web::Resource
where
    F: actix_web::Handler<Args>,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    web::resource(path)
        .route(web::post().to(handler))
        .default_service(web::to(post_only))
}

/// Every route of the issuer.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(post_resource(paths::TOKEN, token::serve))
        .service(post_resource(paths::REVOKE, revoke::serve))
        .service(post_resource(paths::INTROSPECT, introspect::serve))
        .service(
            web::resource(paths::AUTHORIZE)
                .route(web::get().to(authorize::get))
                .route(web::post().to(authorize::post)),
        )
        .service(post_resource(
            paths::DEVICE_AUTHORIZATION,
            device::authorization,
        ))
        .service(
            web::resource(paths::DEVICE)
                .route(web::get().to(device::page))
                .route(web::post().to(device::submit)),
        )
        .service(
            web::resource(paths::LOGOUT)
                .route(web::get().to(logout::get))
                .route(web::post().to(logout::post)),
        )
        .service(
            web::resource(paths::USERINFO)
                .route(web::get().to(userinfo::get))
                .route(web::post().to(userinfo::post)),
        )
        .route(paths::STATUS_LISTS, web::get().to(status_lists::aggregate))
        .route(
            &format!("{}/{{id}}", paths::STATUS_LISTS),
            web::get().to(status_lists::list),
        )
        .service(post_resource(paths::UMA_PERMISSION, uma::serve))
        .route(paths::UMA_CONFIGURATION, web::get().to(uma::configuration))
        .route(paths::JWKS, web::get().to(jwks::serve))
        .route(paths::OPENID_CONFIGURATION, web::get().to(discovery::serve))
        .route(
            paths::AUTHORIZATION_SERVER_METADATA,
            web::get().to(discovery::serve),
        )
        .route(paths::HEALTHZ, web::get().to(health::healthz))
        .route(paths::READYZ, web::get().to(health::readyz))
        .route(paths::METRICS, web::get().to(metrics::serve));
}

/// The compatible routes of the configuration, each with its options in its app data.
pub fn compat_routes(cfg: &mut web::ServiceConfig, routes: &[CompatRoute]) {
    for route in routes {
        cfg.service(
            post_resource(route.path.as_str(), compat_route)
                .app_data(web::Data::new(route.clone())),
        );
    }
}

/// A compatible route: its core endpoint's work, then its envelope.
async fn compat_route(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    route: web::Data<CompatRoute>,
) -> HttpResponse {
    let result = match route.endpoint {
        RouteEndpoint::Token => token::serve_route(&req, payload, &state, Some(&route)).await,
        RouteEndpoint::Revoke => revoke::serve_route(&req, payload, &state, Some(&route)).await,
        RouteEndpoint::Introspect => {
            introspect::serve_route(&req, payload, &state, Some(&route)).await
        }
    };
    compat::wrap(&state, &route, result).await
}

/// 405 for any method but POST on the protocol endpoints, as an OAuth error body.
async fn post_only() -> HttpResponse {
    let mut response = OAuthError::invalid_request("this endpoint accepts only POST")
        .with_status(status::METHOD_NOT_ALLOWED)
        .error_response();
    response
        .headers_mut()
        .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
    response
}
