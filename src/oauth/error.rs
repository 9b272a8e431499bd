//! One error type for the protocol: every failure becomes an RFC 6749 5.2 body
//! (`error`, `error_description`) with the right status and headers.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use std::borrow::Cow;
use std::fmt;

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
    TemporarilyUnavailable,
    ServerError,
    /// UMA 2.0: more claims about the requesting party are needed (403, with the ticket).
    NeedInfo,
    /// UMA 2.0: the policies deny the request (403).
    RequestDenied,
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
            ErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
            ErrorCode::NeedInfo => "need_info",
            ErrorCode::RequestDenied => "request_denied",
            ErrorCode::ServerError => "server_error",
        }
    }

    fn default_status(self) -> StatusCode {
        match self {
            ErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
            ErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::NeedInfo | ErrorCode::RequestDenied => StatusCode::FORBIDDEN,
            ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

/// A protocol error. Descriptions never carry a secret or a token.
#[derive(Debug, Clone)]
pub struct OAuthError {
    pub code: ErrorCode,
    pub description: Cow<'static, str>,
    pub status: StatusCode,
    /// `WWW-Authenticate: Basic realm="..."` when Basic authentication failed.
    pub basic_realm: Option<String>,
    /// `Retry-After` seconds, for throttled or unavailable answers.
    pub retry_after: Option<u64>,
    /// UMA `need_info`: the permission ticket to continue with.
    pub ticket: Option<String>,
}

impl OAuthError {
    pub fn new(code: ErrorCode, description: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            description: description.into(),
            status: code.default_status(),
            basic_realm: None,
            retry_after: None,
            ticket: None,
        }
    }

    pub fn invalid_request(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidRequest, description)
    }

    pub fn invalid_client(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidClient, description)
    }

    pub fn server_error(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::ServerError, description)
    }

    pub fn missing_parameter(name: &str) -> Self {
        Self::invalid_request(format!("the parameter {name} is missing"))
    }

    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    pub fn with_basic_challenge(mut self, realm: &str) -> Self {
        self.basic_realm = Some(realm.to_owned());
        self
    }

    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds.max(1));
        self
    }
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.description)
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    error_description: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    ticket: Option<&'a str>,
}

impl ResponseError for OAuthError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        response
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::PRAGMA, "no-cache"));
        if let Some(realm) = &self.basic_realm {
            let challenge = format!(
                "Basic realm=\"{}\", charset=\"UTF-8\"",
                realm.replace('"', "")
            );
            if let Ok(value) = HeaderValue::from_str(&challenge) {
                response.insert_header((header::WWW_AUTHENTICATE, value));
            }
        }
        if let Some(seconds) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        let mut response = response.json(ErrorBody {
            error: self.code.as_str(),
            error_description: &self.description,
            ticket: self.ticket.as_deref(),
        });
        // The metrics middleware counts errors by code.
        response.extensions_mut().insert(self.code);
        response
    }
}

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
