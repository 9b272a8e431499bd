//! What the web layer takes from a request before the protocol sees it: the body (bounded), its
//! parameters by content type (and the query string where a route takes them), the
//! `Authorization` and `DPoP` headers, the client's address, the listener and the TLS client
//! certificates.

use super::forwarded::client_address;
use crate::oauth::bearer::Possession;
use crate::oauth::client_auth::{ClientProof, PeerCertificates};
use crate::oauth::dpop::{DpopRequest, DPOP_HEADER};
use crate::oauth::error::status;
use crate::oauth::params::{parse_body, route_params, Params};
use crate::oauth::OAuthError;
use crate::registry::CompatRoute;
use crate::tls::TlsConnection;
use actix_web::http::header;
use actix_web::{web, HttpRequest};
use ipnet::IpNet;

/// Reads a request body of at most `limit` bytes; a larger one is 413 with an OAuth error body.
pub async fn read_body(
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<web::Bytes, OAuthError> {
    let too_large = || {
        OAuthError::invalid_request(format!("the request body is larger than {limit} bytes"))
            .with_status(status::PAYLOAD_TOO_LARGE)
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(too_large());
    }
    match payload.to_bytes_limited(limit).await {
        Err(_) => Err(too_large()),
        Ok(Err(_)) => Err(OAuthError::invalid_request(
            "the request body could not be read",
        )),
        Ok(Ok(bytes)) => Ok(bytes),
    }
}

/// The `Content-Type` header's value, when it is text.
pub fn content_type(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
}

/// The parameters of a protocol request's body (form or JSON), plus its query string's when the
/// compatible route it came by takes them.
pub fn params(
    req: &HttpRequest,
    body: &[u8],
    route: Option<&CompatRoute>,
) -> Result<Params, OAuthError> {
    match route {
        Some(route) => route_params(
            req.query_string(),
            content_type(req),
            body,
            route.query_parameters,
        ),
        None => parse_body(content_type(req), body),
    }
}

/// The `Authorization` header's bytes.
pub fn authorization(req: &HttpRequest) -> Option<&[u8]> {
    req.headers()
        .get(header::AUTHORIZATION)
        .map(|value| value.as_bytes())
}

/// Whatever besides its parameters may prove the client of `req`; its address is the one
/// `trusted_proxies` vouch for.
pub fn client_proof<'a>(req: &'a HttpRequest, trusted_proxies: &[IpNet]) -> ClientProof<'a> {
    ClientProof {
        authorization: authorization(req),
        peer: client_address(req, trusted_proxies),
        certificates: req.conn_data::<PeerCertificates>(),
    }
}

/// The DPoP side of `req`: its `DPoP` header(s), method, path and listener.
pub fn dpop_request(req: &HttpRequest) -> DpopRequest<'_> {
    let mut proofs = req.headers().get_all(DPOP_HEADER);
    let proof = proofs.next().map(|value| value.as_bytes());
    DpopRequest {
        proof,
        repeated: proofs.next().is_some(),
        method: req.method().as_str(),
        path: req.path(),
        via_tls: req.conn_data::<TlsConnection>().is_some(),
    }
}

/// What `req` holds that a bound access token may need: its DPoP proof, its TLS certificate.
pub fn possession(req: &HttpRequest) -> Possession<'_> {
    Possession {
        dpop: dpop_request(req),
        certificates: req.conn_data::<PeerCertificates>(),
    }
}

/// The value of cookie `name`.
pub fn cookie(req: &HttpRequest, name: &str) -> Option<String> {
    req.cookie(name).map(|cookie| cookie.value().to_owned())
}
