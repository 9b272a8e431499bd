//! Client authentication, its own stage before any grant: find which method the request used,
//! refuse ambiguity, then prove the client with that method only if it is registered for it.

use super::assertion::{self, JWT_BEARER_CLIENT_ASSERTION};
use super::credentials::Verdict;
use super::error::OAuthError;
use super::mtls;
use super::request::{form_decode, Params};
use super::types::AuthMethod;
use crate::registry::Client;
use crate::state::AppState;
use crate::tls::PeerCertificates;
use actix_web::http::header::{self, HeaderMap};
use actix_web::http::StatusCode;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use std::net::IpAddr;
use std::sync::Arc;

/// The realm of the Basic challenge.
pub const REALM: &str = "tessera";

/// What the request presented to prove the client.
#[derive(Debug)]
pub enum Presented {
    /// RFC 6749 2.3.1 HTTP Basic: form-urlencoded id and secret.
    Basic {
        client_id: String,
        secret: String,
    },
    /// `client_id` and `client_secret` in the body.
    Post {
        client_id: String,
        secret: String,
    },
    /// RFC 7523 `client_assertion` (with `client_id` when the request also sent it).
    Assertion {
        assertion: String,
        client_id: Option<String>,
    },
    /// Only `client_id`: no proof.
    IdOnly {
        client_id: String,
    },
    Nothing,
}

fn basic_failure(description: &'static str) -> OAuthError {
    OAuthError::invalid_client(description).with_basic_challenge(REALM)
}

fn decode_basic(value: &str) -> Result<(String, String), OAuthError> {
    let malformed =
        || basic_failure("the Authorization header does not carry valid Basic credentials");
    let (scheme, encoded) = value.trim().split_once(' ').ok_or_else(malformed)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(basic_failure(
            "the Authorization scheme is not supported; use Basic",
        ));
    }
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| malformed())?;
    let colon = decoded
        .iter()
        .position(|&b| b == b':')
        .ok_or_else(malformed)?;
    let client_id = form_decode(&decoded[..colon]).ok_or_else(malformed)?;
    let secret = form_decode(&decoded[colon + 1..]).ok_or_else(malformed)?;
    if client_id.is_empty() {
        return Err(malformed());
    }
    Ok((client_id, secret))
}

/// Which credentials the request carries. More than one method is `invalid_request`.
pub fn presented(headers: &HeaderMap, params: &Params) -> Result<Presented, OAuthError> {
    let body_id = params.get("client_id");
    let body_secret = params.get("client_secret");
    let assertion = params.get("client_assertion");
    let assertion_type = params.get("client_assertion_type");
    if assertion.is_some() || assertion_type.is_some() {
        if headers.contains_key(header::AUTHORIZATION) || body_secret.is_some() {
            return Err(OAuthError::invalid_request(
                "the client used more than one authentication method",
            ));
        }
        let assertion =
            assertion.ok_or_else(|| OAuthError::missing_parameter("client_assertion"))?;
        match assertion_type {
            None => return Err(OAuthError::missing_parameter("client_assertion_type")),
            Some(JWT_BEARER_CLIENT_ASSERTION) => {}
            Some(_) => {
                return Err(OAuthError::invalid_client(
                    "the client_assertion_type is not supported",
                ))
            }
        }
        return Ok(Presented::Assertion {
            assertion: assertion.to_owned(),
            client_id: body_id.map(str::to_owned),
        });
    }
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let value = value.to_str().map_err(|_| {
            basic_failure("the Authorization header does not carry valid Basic credentials")
        })?;
        let (client_id, secret) = decode_basic(value)?;
        if body_secret.is_some() {
            return Err(OAuthError::invalid_request(
                "the client used more than one authentication method",
            ));
        }
        if body_id.is_some_and(|id| id != client_id) {
            return Err(OAuthError::invalid_request(
                "the client_id parameter does not match the authenticated client",
            ));
        }
        return Ok(Presented::Basic { client_id, secret });
    }
    match (body_id, body_secret) {
        (Some(id), Some(secret)) => Ok(Presented::Post {
            client_id: id.to_owned(),
            secret: secret.to_owned(),
        }),
        (None, Some(_)) => Err(OAuthError::missing_parameter("client_id")),
        (Some(id), None) => Ok(Presented::IdOnly {
            client_id: id.to_owned(),
        }),
        (None, None) => Ok(Presented::Nothing),
    }
}

/// Authenticates the client of a token request.
pub async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    params: &Params,
    peer: Option<IpAddr>,
    certs: Option<&PeerCertificates>,
) -> Result<Authenticated, OAuthError> {
    authenticate_client(state, headers, params, peer, certs).await
}

/// An authenticated client, and the certificate its tokens are bound to when it authenticated
/// with TLS (RFC 8705 3).
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub client: Arc<Client>,
    pub binding: Option<String>,
}

impl std::ops::Deref for Authenticated {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.client
    }
}

impl From<Arc<Client>> for Authenticated {
    fn from(client: Arc<Client>) -> Self {
        Self {
            client,
            binding: None,
        }
    }
}

async fn authenticate_client(
    state: &AppState,
    headers: &HeaderMap,
    params: &Params,
    peer: Option<IpAddr>,
    certs: Option<&PeerCertificates>,
) -> Result<Authenticated, OAuthError> {
    let (client_id, secret, method) = match presented(headers, params)? {
        Presented::Nothing => {
            return Err(basic_failure("the client must authenticate"));
        }
        Presented::Assertion {
            assertion,
            client_id,
        } => {
            return assertion::authenticate(state, &assertion, client_id.as_deref())
                .await
                .map(Authenticated::from)
        }
        Presented::IdOnly { client_id } => {
            let client = find(state, &client_id)?;
            if client.is_public() {
                return Ok(Arc::clone(client).into());
            }
            let by_tls = client.allows_method(AuthMethod::TlsClientAuth)
                || client.allows_method(AuthMethod::SelfSignedTlsClientAuth);
            if by_tls {
                let certs = certs.ok_or_else(|| {
                    OAuthError::invalid_client("the client cannot be authenticated with TLS")
                })?;
                let binding = mtls::authenticate(state, client, certs).await?;
                return Ok(Authenticated {
                    client: Arc::clone(client),
                    binding: Some(binding),
                });
            }
            let methods: Vec<&str> = client.auth_methods.iter().map(|m| m.as_str()).collect();
            return Err(OAuthError::invalid_client(format!(
                "the client {} must authenticate with {}",
                client.id,
                methods.join(" or ")
            )));
        }
        Presented::Basic { client_id, secret } => {
            (client_id, secret, AuthMethod::ClientSecretBasic)
        }
        Presented::Post { client_id, secret } => (client_id, secret, AuthMethod::ClientSecretPost),
    };
    // A failed Basic authentication always carries the Basic challenge (RFC 6749 5.2).
    let refused = |error: OAuthError| match method {
        AuthMethod::ClientSecretBasic => error.with_basic_challenge(REALM),
        _ => error,
    };
    let client = state.clients.get(&client_id);
    if let Some(client) = client {
        if !client.allows_method(method) {
            return Err(refused(OAuthError::invalid_client(format!(
                "the client {} is not allowed to authenticate with {method}",
                client.id
            ))));
        }
    }
    let hash = client.and_then(|client| client.secret_hash.as_ref());
    let subject = format!("client:{client_id}");
    let (verdict, path) = state
        .credentials
        .verify(&subject, hash, &secret, peer, state.now())
        .await
        .map_err(|_| OAuthError::server_error("the server is shutting down"))?;
    state.metrics.record_client_auth(path);
    match (verdict, client) {
        (Verdict::Valid, Some(client)) => Ok(Arc::clone(client).into()),
        (Verdict::Throttled { retry_after }, _) => Err(refused(
            OAuthError::invalid_client("too many failed client authentications; retry later")
                .with_status(StatusCode::TOO_MANY_REQUESTS)
                .with_retry_after(retry_after),
        )),
        (_, None) => Err(refused(not_found())),
        (_, Some(_)) => Err(refused(OAuthError::invalid_client(match method {
            AuthMethod::ClientSecretBasic => "the client cannot be authenticated with secret basic",
            _ => "the client cannot be authenticated with secret post",
        }))),
    }
}

fn not_found() -> OAuthError {
    OAuthError::invalid_client("the client doesn't exist")
}

fn find<'a>(state: &'a AppState, client_id: &str) -> Result<&'a Arc<Client>, OAuthError> {
    state.clients.get(client_id).ok_or_else(not_found)
}
