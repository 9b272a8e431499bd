//! The pushed authorization request endpoint (RFC 9126): the client authenticates as at the token
//! endpoint and pushes the parameters of an authorization request, which are checked as the
//! authorization endpoint checks them (the same code); it gets back a `request_uri` standing for
//! them. The `request_uri` is self-contained — the pushed parameters sealed to the issuer — so
//! nothing is stored and every replica reads it; it is short-lived, and its code is issued once
//! (the replay store, see `endpoints::authorize`). A DPoP proof sent with the push binds the
//! code to the proof's key, as a pushed `dpop_jkt` does (RFC 9449 10.1).

use crate::clock::UnixTime;
use crate::oauth::authorize::{client_and_redirect, validate};
use crate::oauth::client_auth::{ClientAuthenticator, ClientProof};
use crate::oauth::dpop::{DpopChecker, DpopRequest, Endpoint};
use crate::oauth::error::{status, ErrorCode, OAuthError};
use crate::oauth::issuer::{random_id, Issuer};
use crate::oauth::params::Params;
use crate::oauth::token_kind::TokenKind;
use crate::oauth::tokens::OwnClaims;
use crate::revocation::Revocations;
use serde::{Deserialize, Serialize};

/// RFC 9126 2.2: the form of every `request_uri` this server issues.
pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// The most a pushed request may hold, names and values together, so that its `request_uri`
/// (about 4/3 of this, sealed) fits in the URL of the authorization request.
pub const MAX_PUSHED_BYTES: usize = 4096;

/// Parameters that authenticate the client: checked here, never sealed into a URL that the
/// browser carries.
const CLIENT_CREDENTIALS: [&str; 3] =
    ["client_secret", "client_assertion", "client_assertion_type"];

/// What a `request_uri` carries: the pushed parameters, the client that pushed them, and how
/// long they may be used.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PushedRequest {
    pub iss: String,
    pub client_id: String,
    pub params: Vec<(String, String)>,
    pub exp: UnixTime,
    pub jti: String,
}

impl OwnClaims for PushedRequest {
    const KIND: TokenKind = TokenKind::PushedRequest;

    fn iss(&self) -> Option<&str> {
        Some(&self.iss)
    }

    fn exp(&self) -> UnixTime {
        self.exp
    }
}

impl PushedRequest {
    /// The pushed request a `request_uri` of this server stands for, while it is current.
    pub fn open(issuer: &Issuer, request_uri: &str) -> Option<PushedRequest> {
        issuer.open(request_uri.strip_prefix(REQUEST_URI_PREFIX)?)
    }

    /// The parameters the authorization request is made of.
    pub fn params(&self) -> Params {
        Params::from_checked_pairs(self.params.clone())
    }
}

/// RFC 9126 2.2: the answer, sent with 201 Created.
#[derive(Debug, Serialize)]
pub struct PushedAnswer {
    pub request_uri: String,
    pub expires_in: u64,
    /// RFC 9449 8.2: the DPoP nonce for the client's next proof (`DPoP-Nonce`), when the push
    /// carried a proof and nonces are on.
    #[serde(skip)]
    pub dpop_nonce: Option<String>,
}

/// Answers a pushed authorization request with `params`, its client proven by `proof`, with the
/// DPoP side of the request in `dpop` (its proof's `jti` spent in `revocations`). Errors are
/// RFC 9126 2.3's: the token endpoint's for client authentication and DPoP proofs, the
/// authorization endpoint's codes for the request, all as JSON.
pub async fn push(
    authenticator: &ClientAuthenticator<'_>,
    issuer: &Issuer,
    revocations: &Revocations,
    params: Params,
    proof: ClientProof<'_>,
    dpop: DpopRequest<'_>,
) -> Result<PushedAnswer, OAuthError> {
    if params.is_empty() {
        return Err(OAuthError::invalid_request("no parameter in body request"));
    }
    if params.contains("request_uri") {
        return Err(OAuthError::invalid_request(
            "the request_uri parameter cannot be pushed (RFC 9126 2.1)",
        ));
    }
    if params.contains("request") {
        return Err(OAuthError::new(
            ErrorCode::RequestNotSupported,
            "request objects are not supported: push the authorization request's parameters themselves",
        ));
    }
    // RFC 9449 10.1: the proof is checked as at the token endpoint, and before the client, so
    // that a bad one costs no secret check and spends no client assertion.
    let checker = DpopChecker::new(issuer, revocations, Endpoint::Token);
    let dpop_proof = checker.check(&dpop, None).await?;
    let client = authenticator.authenticate(&params, proof).await?;
    let mut pushed = params;
    for name in CLIENT_CREDENTIALS {
        pushed.remove(name);
    }
    pushed.set("client_id", client.id.clone());
    // RFC 9449 10.1: the proof's key binds the code as `dpop_jkt` would; sent together, the two
    // must name the same key.
    if let Some(proof) = &dpop_proof {
        match pushed.get("dpop_jkt") {
            None => pushed.set("dpop_jkt", proof.jkt.clone()),
            Some(jkt) if jkt == proof.jkt => {}
            Some(_) => {
                return Err(OAuthError::invalid_request(
                    "the dpop_jkt parameter is not the thumbprint of the DPoP proof's key (RFC 9449 10.1)",
                ))
            }
        }
    }
    let size: usize = pushed
        .pairs()
        .map(|(name, value)| name.len() + value.len())
        .sum();
    if size > MAX_PUSHED_BYTES {
        return Err(OAuthError::invalid_request(format!(
            "the pushed parameters are larger than {MAX_PUSHED_BYTES} bytes"
        ))
        .with_status(status::PAYLOAD_TOO_LARGE));
    }
    let settings = &issuer.settings;
    // FAPI 2.0 5.3.2.2: no falling back on the one registered redirect URI.
    if settings.is_fapi2() && !pushed.contains("redirect_uri") {
        return Err(OAuthError::missing_parameter("redirect_uri"));
    }
    let (client, redirect_uri) = client_and_redirect(&settings.clients, &pushed, settings.profile)
        .map_err(|error| OAuthError::invalid_request(error.description))?;
    validate(
        &client,
        redirect_uri,
        &pushed,
        String::new(),
        issuer.now,
        settings.profile,
    )?;
    let ttl = settings.request_uri_ttl().as_secs();
    let sealed = issuer.seal(
        TokenKind::PushedRequest,
        &PushedRequest {
            iss: settings.issuer.clone(),
            client_id: client.id.clone(),
            params: pushed.into_pairs(),
            exp: issuer.now + ttl as i64,
            jti: random_id(),
        },
    )?;
    Ok(PushedAnswer {
        request_uri: format!("{REQUEST_URI_PREFIX}{sealed}"),
        expires_in: ttl,
        dpop_nonce: dpop_proof.and_then(|_| checker.current_nonce()),
    })
}
