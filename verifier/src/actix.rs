//! actix-web glue (feature `actix`): a middleware that protects a scope or a route, and an
//! extractor that hands the verified [`AccessToken`] to handlers.
//!
//! Refusals follow RFC 6750 3 (and RFC 9449 7 for DPoP): 401 with a bare `Bearer realm=...` challenge when no token was
//! sent, 400 `invalid_request`, 401 `invalid_token`, 403 `insufficient_scope` with the `scope`
//! attribute, each with a JSON body; 503 with `Retry-After` when keys or status lists cannot
//! be had (fail closed).
//!
//! ```no_run
//! use actix_web::{web, App, HttpServer, Responder};
//! use std::sync::Arc;
//! use tessera_verifier::actix::{Bearer, BearerAuth};
//! use tessera_verifier::{AccessTokenVerifier, KeySource, RemoteKeysConfig};
//!
//! async fn report(Bearer(token): Bearer) -> impl Responder {
//!     format!("hello {}", token.subject)
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let keys = KeySource::remote(RemoteKeysConfig::issuer("https://id.example.com")).await?;
//! let verifier = Arc::new(
//!     AccessTokenVerifier::builder("https://id.example.com", "https://reports.internal", keys).build()?,
//! );
//! HttpServer::new(move || {
//!     App::new().service(
//!         web::scope("/reports")
//!             .wrap(BearerAuth::new(verifier.clone()).realm("reports").require_scopes(&["reports:read"]))
//!             .route("", web::get().to(report)),
//!     )
//! })
//! .bind("127.0.0.1:8081")?
//! .run()
//! .await?;
//! # Ok(()) }
//! ```
//!
//! For tokens bound to a client certificate, put a [`PeerCertificate`] in the connection data
//! (`HttpServer::on_connect`) or the request extensions.
//!
//! With a verifier built with [`dpop`](crate::AccessTokenVerifierBuilder::dpop), requests may
//! also come as `Authorization: DPoP <token>` with a `DPoP` proof of the request's method and
//! path (RFC 9449 7); refusals then carry the `DPoP` challenge with its `algs` beside the
//! `Bearer` one, and the `DPoP-Nonce` header when nonces are required.

use crate::rfc6750::{BearerChallenge, Guard, Presented};
use crate::{dpop_proof, AccessToken, AccessTokenVerifier, PeerCertificate};
use actix_web::body::EitherBody;
use actix_web::dev::{forward_ready, Payload, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::{header, StatusCode};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use futures_util::future::LocalBoxFuture;
use std::future::{ready, Ready};
use std::rc::Rc;
use std::sync::Arc;

/// RFC 9449 4.1: the request header of a DPoP proof.
const DPOP: &str = "dpop";
/// RFC 9449 9: the response header of the nonce the next proof must carry.
const DPOP_NONCE: &str = "dpop-nonce";

/// Middleware: verifies the bearer token of every request and checks the required scopes,
/// then stores the [`AccessToken`] in the request extensions for [`Bearer`].
#[derive(Clone)]
pub struct BearerAuth {
    guard: Guard,
}

impl BearerAuth {
    pub fn new(verifier: Arc<AccessTokenVerifier>) -> Self {
        Self {
            guard: Guard::new(verifier),
        }
    }

    /// The `realm` of challenges (default `api`).
    pub fn realm(mut self, realm: &str) -> Self {
        self.guard.realm = Arc::from(realm);
        self
    }

    /// Scopes every request must have (403 `insufficient_scope` otherwise).
    pub fn require_scopes(mut self, scopes: &[&str]) -> Self {
        self.guard.scopes = scopes.iter().map(|scope| (*scope).to_owned()).collect();
        self
    }

    async fn authorize(&self, request: &HttpRequest) -> Result<AccessToken, BearerRejection> {
        let (scheme, token) = self.guard.token_of(
            request
                .headers()
                .get_all(header::AUTHORIZATION)
                .map(|value| value.as_bytes()),
        )?;
        let certificate = request
            .conn_data::<PeerCertificate>()
            .cloned()
            .or_else(|| request.extensions().get::<PeerCertificate>().cloned());
        let presented = Presented {
            scheme,
            token,
            method: request.method().as_str(),
            path: request.uri().path(),
            dpop: dpop_proof(
                request
                    .headers()
                    .get_all(DPOP)
                    .map(|value| value.as_bytes()),
            ),
            certificate: certificate.as_ref().map(|cert| cert.0.as_slice()),
        };
        Ok(self.guard.authorize(presented).await?)
    }
}

impl<S, B> Transform<S, ServiceRequest> for BearerAuth
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = BearerAuthMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(BearerAuthMiddleware {
            service: Rc::new(service),
            auth: self.clone(),
        }))
    }
}

/// The service [`BearerAuth`] wraps around a route.
pub struct BearerAuthMiddleware<S> {
    service: Rc<S>,
    auth: BearerAuth,
}

impl<S, B> Service<ServiceRequest> for BearerAuthMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, request: ServiceRequest) -> Self::Future {
        let service = self.service.clone();
        let auth = self.auth.clone();
        Box::pin(async move {
            match auth.authorize(request.request()).await {
                Ok(token) => {
                    request.extensions_mut().insert(token);
                    Ok(service.call(request).await?.map_into_left_body())
                }
                Err(rejection) => {
                    let response = rejection.error_response();
                    Ok(request.into_response(response).map_into_right_body())
                }
            }
        })
    }
}

/// Extractor of the verified token. Behind [`BearerAuth`] it takes the token the middleware
/// verified; elsewhere it verifies the request itself with a `BearerAuth` registered as app
/// data (`App::app_data(BearerAuth::new(...))`).
#[derive(Debug, Clone)]
pub struct Bearer(pub AccessToken);

impl FromRequest for Bearer {
    type Error = BearerRejection;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        if let Some(token) = request.extensions().get::<AccessToken>() {
            let token = token.clone();
            return Box::pin(ready(Ok(Bearer(token))));
        }
        let request = request.clone();
        Box::pin(async move {
            let auth = request
                .app_data::<BearerAuth>()
                .cloned()
                .ok_or(BearerRejection::NotConfigured)?;
            auth.authorize(&request).await.map(Bearer)
        })
    }
}

/// Why [`Bearer`] or [`BearerAuth`] refused a request; answers as RFC 6750 says.
#[derive(Debug, Clone)]
pub enum BearerRejection {
    Refused(BearerChallenge),
    /// [`Bearer`] was used on a route with no [`BearerAuth`] middleware or app data: a
    /// programming error, answered 500 rather than letting the request through.
    NotConfigured,
}

impl From<BearerChallenge> for BearerRejection {
    fn from(challenge: BearerChallenge) -> Self {
        BearerRejection::Refused(challenge)
    }
}

impl std::fmt::Display for BearerRejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BearerRejection::Refused(challenge) => f.write_str(&challenge.body()),
            BearerRejection::NotConfigured => {
                f.write_str("no BearerAuth is configured for this route")
            }
        }
    }
}

impl ResponseError for BearerRejection {
    fn status_code(&self) -> StatusCode {
        match self {
            BearerRejection::Refused(challenge) => {
                StatusCode::from_u16(challenge.status()).unwrap_or(StatusCode::UNAUTHORIZED)
            }
            BearerRejection::NotConfigured => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CACHE_CONTROL, "no-store"));
        match self {
            BearerRejection::Refused(challenge) => {
                for value in challenge.www_authenticate() {
                    response.append_header((header::WWW_AUTHENTICATE, value));
                }
                if let Some(nonce) = challenge.dpop_nonce() {
                    response.insert_header((DPOP_NONCE, nonce));
                }
                if let Some(seconds) = challenge.retry_after() {
                    response.insert_header((header::RETRY_AFTER, seconds.to_string()));
                }
                response
                    .content_type("application/json")
                    .body(challenge.body())
            }
            BearerRejection::NotConfigured => response.finish(),
        }
    }
}
