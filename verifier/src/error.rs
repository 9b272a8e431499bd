//! Every way a verification can fail, each its own variant, so a caller (a resource server, or
//! the issuer checking client assertions and foreign JWTs) can map each to its own message.
//!
//! The `Display` texts never quote the token, a claim value or a header value: they are safe to
//! send back in an `error_description` and to log.

use std::fmt;

/// Which size limit a token or a fetched document broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// The whole compact token.
    Token,
    /// The protected header of a JWS or JWE.
    Header,
    /// A fetched JWK Set, discovery document or status list token.
    Document,
    /// A decompressed status list.
    StatusList,
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Limit::Token => "token",
            Limit::Header => "header",
            Limit::Document => "fetched document",
            Limit::StatusList => "decompressed status list",
        })
    }
}

/// Why a sender-constrained token was refused (RFC 8705, RFC 9449).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindingError {
    /// The token is bound to a certificate but none was presented.
    CertificateMissing,
    /// The presented certificate is not the one the token is bound to.
    CertificateMismatch,
    /// The token is bound to a DPoP key (`cnf.jkt`): refused until DPoP proofs are verified.
    DpopNotSupported,
    /// The token's `cnf` names no confirmation method this verifier knows.
    UnknownConfirmation,
}

impl fmt::Display for BindingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BindingError::CertificateMissing => {
                "the token is bound to a client certificate and none was presented"
            }
            BindingError::CertificateMismatch => "the token is bound to another client certificate",
            BindingError::DpopNotSupported => {
                "the token is bound to a DPoP key and DPoP proofs are not supported"
            }
            BindingError::UnknownConfirmation => "the token's confirmation method is not supported",
        })
    }
}

/// A failed verification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The token, its header or a fetched document is larger than allowed.
    #[error("the {0} is too large")]
    TooLarge(Limit),
    /// Not a compact JWS/JWE, bad base64url, or JSON that is not an object of the right shape.
    #[error("the token is malformed: {0}")]
    Malformed(&'static str),
    /// The header's `alg` is not on the allow-list (`none` and HMAC with public keys never are).
    #[error("the token's algorithm is not allowed")]
    AlgorithmNotAllowed,
    /// The header carries `crit`: no extension is understood, so none may be critical.
    #[error("the token has critical header parameters")]
    CriticalHeader,
    /// No key of the key source fits the header's `kid` and `alg`.
    #[error("no key matches the token")]
    NoMatchingKey,
    /// The signature does not verify.
    #[error("the token signature is not valid")]
    BadSignature,
    /// The keys could not be had (never loaded, or older than the staleness bound).
    #[error("the signing keys are unavailable: {0}")]
    KeysUnavailable(String),
    /// An encrypted token could not be opened.
    #[error("the encrypted token cannot be decrypted")]
    Decryption,
    /// The header's `typ` is not the one the profile requires.
    #[error("the token type is not accepted")]
    WrongType,
    /// `iss` is not the configured issuer.
    #[error("the token was issued by another issuer")]
    WrongIssuer,
    /// None of the token's `aud` values is the required audience.
    #[error("the token is not meant for this audience")]
    WrongAudience,
    /// `exp` (plus leeway) has passed.
    #[error("the token has expired")]
    Expired,
    /// `nbf` or `iat` (less leeway) is in the future.
    #[error("the token is not valid yet")]
    NotYetValid,
    /// A claim the profile requires is missing.
    #[error("the token has no {0} claim")]
    MissingClaim(&'static str),
    /// A claim has the wrong type or an impossible value.
    #[error("the token's {0} claim is not valid")]
    InvalidClaim(&'static str),
    /// The token lacks scopes the request needs (RFC 6750 `insufficient_scope`).
    #[error("the token lacks the required scope")]
    InsufficientScope {
        /// Every scope the request needs, for the `scope` challenge attribute.
        required: Vec<String>,
    },
    /// The token is sender-constrained and the proof is missing or wrong.
    #[error("{0}")]
    Binding(BindingError),
    /// Revocation checking is on and the token carries no `status` claim.
    #[error("the token has no status claim and revocation checking requires one")]
    StatusMissing,
    /// The token's status list says 0x01 INVALID.
    #[error("the token has been revoked")]
    Revoked,
    /// The token's status list says 0x02 SUSPENDED.
    #[error("the token is suspended")]
    Suspended,
    /// The token's status list holds a value this verifier does not accept as valid.
    #[error("the token's status is not valid")]
    UnknownStatus(u8),
    /// The status list could not be had, or is invalid, beyond the staleness bound.
    #[error("the token's status cannot be checked: {0}")]
    StatusUnavailable(String),
}

/// The RFC 6750 section 3.1 error codes a resource server answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BearerErrorCode {
    /// 400: the request is malformed (no usable `Authorization` header, several tokens).
    InvalidRequest,
    /// 401: the token is expired, revoked, malformed or invalid for other reasons.
    InvalidToken,
    /// 403: the token is good but lacks the scopes the request needs.
    InsufficientScope,
    /// Not an RFC 6750 code: the verifier could not reach the keys or status list it needs, so
    /// it answers 503 instead of guessing (fail closed, and the client keeps its token).
    TemporarilyUnavailable,
}

impl BearerErrorCode {
    /// The `error` attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            BearerErrorCode::InvalidRequest => "invalid_request",
            BearerErrorCode::InvalidToken => "invalid_token",
            BearerErrorCode::InsufficientScope => "insufficient_scope",
            BearerErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
        }
    }

    /// The HTTP status code RFC 6750 section 3.1 gives it.
    pub fn http_status(self) -> u16 {
        match self {
            BearerErrorCode::InvalidRequest => 400,
            BearerErrorCode::InvalidToken => 401,
            BearerErrorCode::InsufficientScope => 403,
            BearerErrorCode::TemporarilyUnavailable => 503,
        }
    }
}

impl Error {
    /// The RFC 6750 error a resource server answers this failure with.
    pub fn bearer_error_code(&self) -> BearerErrorCode {
        match self {
            Error::InsufficientScope { .. } => BearerErrorCode::InsufficientScope,
            Error::KeysUnavailable(_) | Error::StatusUnavailable(_) => {
                BearerErrorCode::TemporarilyUnavailable
            }
            _ => BearerErrorCode::InvalidToken,
        }
    }
}
