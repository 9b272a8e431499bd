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
mod par;
mod revoke;
mod status_lists;
mod token;
mod uma;
mod userinfo;

pub use error::REALM;

use crate::oauth::error::status;
use crate::oauth::{paths, OAuthError};
use crate::registry::RouteEndpoint;
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

/// The resource at `path`, named by its pattern: the latency metric's route label, which
/// `observe` then borrows instead of rebuilding the pattern for every request.
fn named(path: &str) -> actix_web::Resource {
    web::resource(path).name(path)
}

/// A protocol endpoint that takes only POST.
fn post_resource<F, Args>(path: &str, handler: F) -> actix_web::Resource
where
    F: actix_web::Handler<Args>,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    named(path)
        .route(web::post().to(handler))
        .default_service(web::to(post_only))
}

/// A document or operations endpoint that takes only GET: any other method gets 405 with
/// `Allow: GET` and an empty body.
fn get_resource<F, Args>(path: &str, handler: F) -> actix_web::Resource
where
    F: actix_web::Handler<Args>,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    named(path)
        .route(web::get().to(handler))
        .default_service(web::to(|| async {
            HttpResponse::MethodNotAllowed()
                .insert_header((header::ALLOW, "GET"))
                .finish()
        }))
}

/// Every route of the issuer.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(post_resource(paths::TOKEN, token::serve))
        .service(post_resource(paths::REVOKE, revoke::serve))
        .service(post_resource(paths::INTROSPECT, introspect::serve))
        .service(post_resource(paths::PAR, par::serve))
        .service(
            named(paths::AUTHORIZE)
                .route(web::get().to(authorize::get))
                .route(web::post().to(authorize::post)),
        )
        .service(post_resource(
            paths::DEVICE_AUTHORIZATION,
            device::authorization,
        ))
        .service(
            named(paths::DEVICE)
                .route(web::get().to(device::page))
                .route(web::post().to(device::submit)),
        )
        .service(
            named(paths::LOGOUT)
                .route(web::get().to(logout::get))
                .route(web::post().to(logout::post)),
        )
        .service(
            named(paths::USERINFO)
                .route(web::get().to(userinfo::get))
                .route(web::post().to(userinfo::post)),
        )
        .service(get_resource(paths::STATUS_LISTS, status_lists::aggregate))
        .service(get_resource(
            &format!("{}/{{id}}", paths::STATUS_LISTS),
            status_lists::list,
        ))
        .service(post_resource(paths::UMA_PERMISSION, uma::serve))
        .service(get_resource(paths::UMA_CONFIGURATION, uma::configuration))
        .service(get_resource(paths::JWKS, jwks::serve))
        .service(get_resource(paths::OPENID_CONFIGURATION, discovery::serve))
        .service(get_resource(
            paths::AUTHORIZATION_SERVER_METADATA,
            discovery::serve,
        ))
        .service(get_resource(paths::HEALTHZ, health::healthz))
        .service(get_resource(paths::READYZ, health::readyz))
        .service(get_resource(paths::METRICS, metrics::serve));
}

/// Every other path: a compatible route of the configuration as it is now (looked up per
/// request, so a reload adds, changes and removes routes), else 404 with an empty body.
pub async fn compat_or_not_found(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let route = state
        .settings()
        .routes
        .iter()
        .find(|route| route.path == req.path())
        .cloned();
    let Some(route) = route else {
        return HttpResponse::NotFound().finish();
    };
    let result = if req.method() != actix_web::http::Method::POST {
        Ok(post_only().await)
    } else {
        match route.endpoint {
            RouteEndpoint::Token => token::serve_route(&req, payload, &state, Some(&route)).await,
            RouteEndpoint::Revoke => revoke::serve_route(&req, payload, &state, Some(&route)).await,
            RouteEndpoint::Introspect => {
                introspect::serve_route(&req, payload, &state, Some(&route)).await
            }
        }
    };
    let mut response = compat::wrap(&state, &route, result).await;
    response
        .extensions_mut()
        .insert(observe::RouteLabel(route.path.clone()));
    response
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
