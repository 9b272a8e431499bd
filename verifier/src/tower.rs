//! tower glue (feature `tower`): a [`Layer`](tower_layer::Layer) for hyper, axum and other
//! tower stacks. Each request's bearer token is verified and its scopes checked; the verified
//! [`AccessToken`](crate::AccessToken) goes into the request extensions for the inner service. Refusals follow
//! RFC 6750 3, as the actix glue answers them: the response body type
//! only needs `From<String>` (axum's `Body`, `http_body_util::Full<Bytes>`, `String`).
//!
//! ```
//! use std::sync::Arc;
//! use tessera_verifier::tower::BearerLayer;
//! use tessera_verifier::{AccessTokenVerifier, KeySource};
//! use tower_layer::Layer;
//!
//! # fn run(inner: tower::util::BoxCloneService<http::Request<String>, http::Response<String>, std::convert::Infallible>) -> Result<(), tessera_verifier::Error> {
//! let keys = KeySource::from_jwks_json(br#"{"keys": []}"#)?;
//! let verifier = Arc::new(AccessTokenVerifier::builder("https://id.example.com", "https://api", keys).build()?);
//! let protected = BearerLayer::new(verifier).realm("api").require_scopes(&["read"]).layer(inner);
//! # let _ = protected; Ok(()) }
//! ```
//!
//! For tokens bound to a client certificate, put a [`PeerCertificate`] in the request
//! extensions before this layer. With a verifier that takes DPoP, `Authorization: DPoP` requests
//! are checked with their `DPoP` proof, as the actix glue does.

use crate::rfc6750::{BearerChallenge, Guard, Presented};
use crate::{dpop_proof, AccessTokenVerifier, PeerCertificate};
use http::{header, HeaderValue, Request, Response, StatusCode};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// Builds [`BearerService`]s around inner services.
#[derive(Clone)]
pub struct BearerLayer {
    guard: Guard,
}

impl BearerLayer {
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
}

impl<S> tower_layer::Layer<S> for BearerLayer {
    type Service = BearerService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        BearerService {
            inner,
            guard: self.guard.clone(),
        }
    }
}

/// The service [`BearerLayer`] builds.
#[derive(Clone)]
pub struct BearerService<S> {
    inner: S,
    guard: Guard,
}

fn refusal<B: From<String>>(challenge: &BearerChallenge) -> Response<B> {
    let mut response = Response::new(B::from(challenge.body()));
    *response.status_mut() =
        StatusCode::from_u16(challenge.status()).unwrap_or(StatusCode::UNAUTHORIZED);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    for value in challenge.www_authenticate() {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.append(header::WWW_AUTHENTICATE, value);
        }
    }
    if let Some(nonce) = challenge
        .dpop_nonce()
        .and_then(|nonce| HeaderValue::from_str(nonce).ok())
    {
        headers.insert("dpop-nonce", nonce);
    }
    if let Some(seconds) = challenge.retry_after() {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

impl<S, ReqBody, ResBody> tower_service::Service<Request<ReqBody>> for BearerService<S>
where
    S: tower_service::Service<Request<ReqBody>, Response = Response<ResBody>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: From<String> + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        // The service that was polled ready handles this request; a fresh clone waits for the
        // next poll_ready.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let guard = self.guard.clone();
        let headers = request.headers();
        // Owned, since the request moves into the inner service.
        let presented = guard
            .token_of(
                headers
                    .get_all(header::AUTHORIZATION)
                    .iter()
                    .map(HeaderValue::as_bytes),
            )
            .map(|(scheme, token)| (scheme, token.to_owned()));
        let dpop = dpop_proof(headers.get_all("dpop").iter().map(HeaderValue::as_bytes))
            .map(|proof| proof.map(str::to_owned));
        let method = request.method().as_str().to_owned();
        let path = request.uri().path().to_owned();
        let certificate = request.extensions().get::<PeerCertificate>().cloned();
        Box::pin(async move {
            let (scheme, token) = match presented {
                Ok(presented) => presented,
                Err(challenge) => return Ok(refusal(&challenge)),
            };
            let presented = Presented {
                scheme,
                token: &token,
                method: &method,
                path: &path,
                dpop: dpop.as_ref().map(Option::as_deref).map_err(|err| *err),
                certificate: certificate.as_ref().map(|cert| cert.0.as_slice()),
            };
            match guard.authorize(presented).await {
                Ok(verified) => {
                    request.extensions_mut().insert(verified);
                    inner.call(request).await
                }
                Err(challenge) => Ok(refusal(&challenge)),
            }
        })
    }
}
