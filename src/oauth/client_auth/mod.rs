//! Client authentication, its own stage before any grant or endpoint work: find which method the
//! request used, refuse ambiguity, then prove the client with that method only if it is
//! registered for it. The outcome is one value — the client, the method, and the certificate its
//! tokens are bound to — that grants and endpoints take as it is.

mod assertion;
mod mtls;

pub use assertion::JWT_BEARER_CLIENT_ASSERTION;
pub use mtls::{certificate_thumbprint, PeerCertificates};

use super::credentials::{overloaded, CredentialVerifier, Verdict};
use super::error::{Challenge, OAuthError};
use super::params::{form_decode, Params};
use super::types::AuthMethod;
use crate::clock::UnixTime;
use crate::keys::KeyRing;
use crate::metrics::Metrics;
use crate::registry::{Client, ClientRegistry};
use crate::revocation::Revocations;
use crate::settings::Settings;
use crate::tls::ClientCa;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use std::net::IpAddr;
use std::sync::Arc;

/// What the request carried besides its parameters that may prove the client, as the HTTP layer
/// found it.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClientProof<'a> {
    /// The `Authorization` header's bytes, when there is one.
    pub authorization: Option<&'a [u8]>,
    /// The TCP peer (failures are throttled per address).
    pub peer: Option<IpAddr>,
    /// The client certificate chain of a mutual-TLS connection.
    pub certificates: Option<&'a PeerCertificates>,
}

/// What the tokens of a request are bound to: whether, and how, they are sender-constrained.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Binding {
    /// Bearer tokens: whoever holds them may use them.
    #[default]
    None,
    /// RFC 8705 3: the SHA-256 thumbprint of the client certificate (`cnf.x5t#S256`).
    Certificate(String),
    /// RFC 9449 6: the RFC 7638 thumbprint of the DPoP proof's key (`cnf.jkt`).
    Dpop(String),
}

impl Binding {
    /// Whether tokens bound so are sender-constrained (DPoP or mutual TLS).
    pub fn is_sender_constrained(&self) -> bool {
        !matches!(self, Binding::None)
    }

    /// The DPoP key thumbprint, for a DPoP binding.
    pub fn jkt(&self) -> Option<&str> {
        match self {
            Binding::Dpop(jkt) => Some(jkt),
            _ => None,
        }
    }
}

/// An authenticated client: who, how, and what its tokens are bound to — the certificate when
/// it authenticated with TLS (RFC 8705 3), the DPoP key when the request carried a valid proof
/// (RFC 9449; the token endpoint sets it after authentication, and it wins over the certificate).
#[derive(Debug, Clone)]
pub struct AuthenticatedClient {
    pub client: Arc<Client>,
    pub method: AuthMethod,
    pub binding: Binding,
}

impl AuthenticatedClient {
    fn by(client: Arc<Client>, method: AuthMethod) -> Self {
        Self {
            client,
            method,
            binding: Binding::None,
        }
    }
}

impl std::ops::Deref for AuthenticatedClient {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.client
    }
}

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
    OAuthError::invalid_client(description).with_challenge(Challenge::Basic)
}

fn malformed_basic() -> OAuthError {
    basic_failure("the Authorization header does not carry valid Basic credentials")
}

/// The client id and secret of a Basic `Authorization` header (RFC 6749 2.3.1: each
/// form-urlencoded before the base64).
pub fn decode_basic(value: &[u8]) -> Result<(String, String), OAuthError> {
    let value = std::str::from_utf8(value).map_err(|_| malformed_basic())?;
    let (scheme, encoded) = value.trim().split_once(' ').ok_or_else(malformed_basic)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(basic_failure(
            "the Authorization scheme is not supported; use Basic",
        ));
    }
    let decoded = STANDARD
        .decode(encoded.trim())
        .map_err(|_| malformed_basic())?;
    let colon = decoded
        .iter()
        .position(|&b| b == b':')
        .ok_or_else(malformed_basic)?;
    let client_id = form_decode(&decoded[..colon]).ok_or_else(malformed_basic)?;
    let secret = form_decode(&decoded[colon + 1..]).ok_or_else(malformed_basic)?;
    if client_id.is_empty() {
        return Err(malformed_basic());
    }
    Ok((client_id, secret))
}

fn two_methods() -> OAuthError {
    OAuthError::invalid_request("the client used more than one authentication method")
}

/// Which credentials the request carries. More than one method is `invalid_request`.
pub fn presented(authorization: Option<&[u8]>, params: &Params) -> Result<Presented, OAuthError> {
    let body_id = params.get("client_id");
    let body_secret = params.get("client_secret");
    let assertion = params.get("client_assertion");
    let assertion_type = params.get("client_assertion_type");
    if assertion.is_some() || assertion_type.is_some() {
        if authorization.is_some() || body_secret.is_some() {
            return Err(two_methods());
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
    if let Some(value) = authorization {
        let (client_id, secret) = decode_basic(value)?;
        if body_secret.is_some() {
            return Err(two_methods());
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

/// The handles client authentication needs, for one request.
pub struct ClientAuthenticator<'a> {
    pub settings: &'a Settings,
    pub clients: &'a ClientRegistry,
    pub secrets: &'a CredentialVerifier,
    /// The issuer's decryption keys (encrypted assertions).
    pub keys: &'a KeyRing,
    /// Assertion replay protection.
    pub revocations: &'a Revocations,
    /// The client CA of `tls_client_auth`, when the TLS listener has one.
    pub client_ca: Option<&'a ClientCa>,
    pub metrics: &'a Metrics,
    pub now: UnixTime,
}

fn not_found() -> OAuthError {
    OAuthError::invalid_client("the client doesn't exist")
}

impl ClientAuthenticator<'_> {
    /// Authenticates the client of a request with `params` and `proof`.
    pub async fn authenticate(
        &self,
        params: &Params,
        proof: ClientProof<'_>,
    ) -> Result<AuthenticatedClient, OAuthError> {
        let client = self.by_presented(params, proof).await?;
        super::profile::check_auth_method(self.settings, client.method)?;
        Ok(client)
    }

    async fn by_presented(
        &self,
        params: &Params,
        proof: ClientProof<'_>,
    ) -> Result<AuthenticatedClient, OAuthError> {
        match presented(proof.authorization, params)? {
            Presented::Nothing => Err(basic_failure("the client must authenticate")),
            Presented::Assertion {
                assertion,
                client_id,
            } => self.by_assertion(&assertion, client_id.as_deref()).await,
            Presented::IdOnly { client_id } => self.by_id_only(&client_id, proof).await,
            Presented::Basic { client_id, secret } => {
                self.by_secret(&client_id, &secret, AuthMethod::ClientSecretBasic, proof)
                    .await
            }
            Presented::Post { client_id, secret } => {
                self.by_secret(&client_id, &secret, AuthMethod::ClientSecretPost, proof)
                    .await
            }
        }
    }

    /// A public client names itself; a TLS client proves itself by its certificate.
    async fn by_id_only(
        &self,
        client_id: &str,
        proof: ClientProof<'_>,
    ) -> Result<AuthenticatedClient, OAuthError> {
        let client = self.clients.get(client_id).ok_or_else(not_found)?;
        if client.is_public() {
            return Ok(AuthenticatedClient::by(
                Arc::clone(client),
                AuthMethod::None,
            ));
        }
        if client.auth_methods.iter().any(|method| method.is_tls()) {
            let certs = proof.certificates.ok_or_else(mtls::refused)?;
            return self.by_certificate(client, certs).await;
        }
        let methods: Vec<&str> = client.auth_methods.iter().map(|m| m.as_str()).collect();
        Err(OAuthError::invalid_client(format!(
            "the client {} must authenticate with {}",
            client.id,
            methods.join(" or ")
        )))
    }

    /// client_secret_basic or client_secret_post: the secret against the client's hash.
    async fn by_secret(
        &self,
        client_id: &str,
        secret: &str,
        method: AuthMethod,
        proof: ClientProof<'_>,
    ) -> Result<AuthenticatedClient, OAuthError> {
        // A failed Basic authentication always carries the Basic challenge (RFC 6749 5.2).
        let refused = |error: OAuthError| match method {
            AuthMethod::ClientSecretBasic => error.with_challenge(Challenge::Basic),
            _ => error,
        };
        let client = self.clients.get(client_id);
        if let Some(client) = client {
            if !client.allows_method(method) {
                return Err(refused(OAuthError::invalid_client(format!(
                    "the client {} is not allowed to authenticate with {method}",
                    client.id
                ))));
            }
        }
        let hash = client.and_then(|client| client.secret_hash.as_ref());
        let mut subject = String::with_capacity(7 + client_id.len());
        subject.push_str("client:");
        subject.push_str(client_id);
        let (verdict, path) = self
            .secrets
            .verify(&subject, hash, secret, proof.peer, self.now)
            .await;
        self.metrics.record_client_auth(path);
        match (verdict, client) {
            (Verdict::Valid, Some(client)) => {
                Ok(AuthenticatedClient::by(Arc::clone(client), method))
            }
            (Verdict::Overloaded { retry_after }, _) => Err(overloaded(retry_after)),
            (Verdict::Throttled { retry_after }, _) => Err(refused(
                OAuthError::invalid_client("too many failed client authentications; retry later")
                    .throttled(retry_after),
            )),
            (_, None) => Err(refused(not_found())),
            (_, Some(_)) => Err(refused(OAuthError::invalid_client(match method {
                AuthMethod::ClientSecretBasic => {
                    "the client cannot be authenticated with secret basic"
                }
                _ => "the client cannot be authenticated with secret post",
            }))),
        }
    }
}
