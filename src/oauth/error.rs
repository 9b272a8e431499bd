//! One error type for the protocol: every failure is an RFC 6749 5.2 (or RFC 6750 3.1) error —
//! a code, a description, the HTTP status it answers with and the challenge or retry hint that
//! goes with it. How it is written on the wire is the HTTP layer's business.

use std::borrow::Cow;
use std::fmt;

/// HTTP statuses the protocol answers with, by name.
pub mod status {
    pub const CREATED: u16 = 201;
    pub const BAD_REQUEST: u16 = 400;
    pub const UNAUTHORIZED: u16 = 401;
    pub const FORBIDDEN: u16 = 403;
    pub const NOT_FOUND: u16 = 404;
    pub const NOT_ACCEPTABLE: u16 = 406;
    pub const METHOD_NOT_ALLOWED: u16 = 405;
    pub const PAYLOAD_TOO_LARGE: u16 = 413;
    pub const TOO_MANY_REQUESTS: u16 = 429;
    pub const INTERNAL_SERVER_ERROR: u16 = 500;
    pub const SERVICE_UNAVAILABLE: u16 = 503;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    /// RFC 8707: a `resource` the client may not have.
    InvalidTarget,
    /// RFC 6750 3.1: the access token is not valid, expired or revoked.
    InvalidToken,
    /// RFC 6750 3.1: the access token lacks a scope the request needs.
    InsufficientScope,
    TemporarilyUnavailable,
    ServerError,
    /// UMA 2.0: more claims about the requesting party are needed (403, with the ticket).
    NeedInfo,
    /// UMA 2.0: the policies deny the request (403).
    RequestDenied,
    /// RFC 6749 4.1.2.1: the authorization server does not issue codes for this response type.
    UnsupportedResponseType,
    /// OIDC Core 3.1.2.6: `prompt=none`, and nobody is signed in.
    LoginRequired,
    /// OIDC Core 3.1.2.6: `prompt=none`, and the user must consent first.
    ConsentRequired,
    /// OIDC Core 3.1.2.6: request objects (`request`) are not supported.
    RequestNotSupported,
    /// RFC 8628 3.5: the user has not yet approved or denied the device.
    AuthorizationPending,
    /// RFC 8628 3.5: polling too fast; the interval grows by 5 seconds.
    SlowDown,
    /// RFC 8628 3.5 (and RFC 6749 4.1.2.1): the user denied the request.
    AccessDenied,
    /// RFC 8628 3.5: the device code has expired.
    ExpiredToken,
    /// RFC 9449 5 and 7.1: the DPoP proof is missing where one is needed, or not valid.
    InvalidDpopProof,
    /// RFC 9449 8 and 9: the proof must carry the server's nonce (sent in `DPoP-Nonce`).
    UseDpopNonce,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnauthorizedClient => "unauthorized_client",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::InvalidTarget => "invalid_target",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::InsufficientScope => "insufficient_scope",
            ErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
            ErrorCode::NeedInfo => "need_info",
            ErrorCode::RequestDenied => "request_denied",
            ErrorCode::AuthorizationPending => "authorization_pending",
            ErrorCode::SlowDown => "slow_down",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::ExpiredToken => "expired_token",
            ErrorCode::InvalidDpopProof => "invalid_dpop_proof",
            ErrorCode::UseDpopNonce => "use_dpop_nonce",
            ErrorCode::ServerError => "server_error",
            ErrorCode::UnsupportedResponseType => "unsupported_response_type",
            ErrorCode::LoginRequired => "login_required",
            ErrorCode::ConsentRequired => "consent_required",
            ErrorCode::RequestNotSupported => "request_not_supported",
        }
    }

    fn default_status(self) -> u16 {
        match self {
            ErrorCode::InvalidClient | ErrorCode::InvalidToken => status::UNAUTHORIZED,
            ErrorCode::TemporarilyUnavailable => status::SERVICE_UNAVAILABLE,
            ErrorCode::NeedInfo | ErrorCode::RequestDenied | ErrorCode::InsufficientScope => {
                status::FORBIDDEN
            }
            ErrorCode::ServerError => status::INTERNAL_SERVER_ERROR,
            _ => status::BAD_REQUEST,
        }
    }
}

/// The `WWW-Authenticate` challenge an error carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    /// A failed HTTP Basic client authentication (RFC 6749 5.2).
    Basic,
    /// RFC 6750 3: a bearer-token error, with the scope the request needed.
    Bearer { scope: Option<&'static str> },
    /// RFC 6750 3.1: the request carried no credentials at all, so the answer names no error.
    BearerMissing,
    /// RFC 9449 7.1: the `DPoP` challenge with the proof algorithms accepted, and the `Bearer`
    /// one beside it where a bearer token could do too (7.2). The error is named in the
    /// challenge of the scheme `error_in` says; `None`: the request carried no token at all,
    /// so the answer names no error.
    Dpop {
        algs: String,
        bearer: bool,
        error_in: Option<Scheme>,
        scope: Option<&'static str>,
    },
}

/// The `Authorization` schemes that present an access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// RFC 6750 (or the `access_token` form field).
    Bearer,
    /// RFC 9449 7.1, with a DPoP proof beside it.
    Dpop,
}

impl Challenge {
    /// Whether the answer is only the challenge, without an error body (RFC 6750 3.1).
    pub fn is_bare(&self) -> bool {
        matches!(
            self,
            Challenge::BearerMissing | Challenge::Dpop { error_in: None, .. }
        )
    }
}

/// A protocol error. Descriptions never carry a secret or a token.
#[derive(Debug, Clone)]
pub struct OAuthError {
    pub code: ErrorCode,
    pub description: Cow<'static, str>,
    pub status: u16,
    /// Boxed: most errors have none, and every `Result` of the protocol carries this type.
    pub challenge: Option<Box<Challenge>>,
    /// `Retry-After` seconds, for throttled or unavailable answers.
    pub retry_after: Option<u64>,
    /// UMA `need_info`: the permission ticket to continue with.
    pub ticket: Option<String>,
    /// RFC 9449 8: the nonce the client must put in its next DPoP proof (`DPoP-Nonce`).
    pub dpop_nonce: Option<String>,
}

impl OAuthError {
    pub fn new(code: ErrorCode, description: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            description: description.into(),
            status: code.default_status(),
            challenge: None,
            retry_after: None,
            ticket: None,
            dpop_nonce: None,
        }
    }

    pub fn invalid_request(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidRequest, description)
    }

    pub fn invalid_client(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidClient, description)
    }

    pub fn invalid_grant(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidGrant, description)
    }

    pub fn server_error(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::ServerError, description)
    }

    pub fn missing_parameter(name: &str) -> Self {
        Self::invalid_request(format!("the parameter {name} is missing"))
    }

    /// No signing key of the configured algorithm is active now (keys staged for later only).
    pub fn no_active_key() -> Self {
        Self::new(
            ErrorCode::TemporarilyUnavailable,
            "no signing key is active",
        )
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    pub fn with_challenge(mut self, challenge: Challenge) -> Self {
        self.challenge = Some(Box::new(challenge));
        self
    }

    pub fn with_dpop_nonce(mut self, nonce: String) -> Self {
        self.dpop_nonce = Some(nonce);
        self
    }

    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds.max(1));
        self
    }

    /// Too many failures: 429 with the seconds until the window ends.
    pub fn throttled(mut self, retry_after: u64) -> Self {
        self.status = status::TOO_MANY_REQUESTS;
        self.with_retry_after(retry_after)
    }
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.description)
    }
}

impl std::error::Error for OAuthError {}

impl From<crate::revocation::RevocationError> for OAuthError {
    fn from(err: crate::revocation::RevocationError) -> Self {
        use crate::revocation::RevocationError;
        match err {
            RevocationError::Full => OAuthError::new(
                ErrorCode::TemporarilyUnavailable,
                "the revocation list is full; try again later",
            )
            .with_retry_after(60),
            // The details (addresses, driver messages) stay in the logs.
            RevocationError::Unavailable(_) => OAuthError::new(
                ErrorCode::TemporarilyUnavailable,
                "the revocation state is unavailable; try again later",
            )
            .with_retry_after(1),
        }
    }
}
