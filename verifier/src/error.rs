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

/// Why a sender-constrained token was refused (RFC 8705, RFC 9449 7), or a token refused for
/// the way it was presented. Each is an `invalid_token`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindingError {
    /// The token is bound to a certificate but none was presented.
    CertificateMissing,
    /// The presented certificate is not the one the token is bound to.
    CertificateMismatch,
    /// The token is bound to a DPoP key (`cnf.jkt`) and this verifier was built without
    /// [`DpopConfig`](crate::DpopConfig), so it cannot check proofs.
    DpopNotSupported,
    /// The token is bound to a DPoP key and was presented as a bearer token (RFC 9449 7.2): it
    /// needs the DPoP scheme and a proof.
    DpopProofMissing,
    /// The DPoP proof is by another key than the one the token's `cnf.jkt` names.
    DpopKeyMismatch,
    /// The token is not bound to a DPoP key and was presented with the DPoP scheme.
    NotDpopBound,
    /// The resource server takes only DPoP-bound tokens (`DpopConfig::bearer_tokens(false)`).
    BearerNotAccepted,
    /// The token's `cnf` names no confirmation method this verifier knows.
    UnknownConfirmation,
}

impl BindingError {
    /// Whether the DPoP challenge is the one that names this error: the client has to use
    /// DPoP (or use it differently) to be let in.
    pub fn concerns_dpop(self) -> bool {
        matches!(
            self,
            BindingError::DpopProofMissing
                | BindingError::DpopKeyMismatch
                | BindingError::NotDpopBound
                | BindingError::BearerNotAccepted
        )
    }
}

impl fmt::Display for BindingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BindingError::CertificateMissing => {
                "the token is bound to a client certificate and none was presented"
            }
            BindingError::CertificateMismatch => "the token is bound to another client certificate",
            BindingError::DpopNotSupported => {
                "the token is bound to a DPoP key and this resource server does not take DPoP proofs"
            }
            BindingError::DpopProofMissing => {
                "the token is DPoP-bound: present it with the DPoP scheme and a proof"
            }
            BindingError::DpopKeyMismatch => "the token is not bound to the DPoP proof's key",
            BindingError::NotDpopBound => {
                "the token is not DPoP-bound: present it as a Bearer token"
            }
            BindingError::BearerNotAccepted => "this resource server takes only DPoP-bound tokens",
            BindingError::UnknownConfirmation => "the token's confirmation method is not supported",
        })
    }
}

/// Why a DPoP proof (RFC 9449 4.3) was refused: `invalid_dpop_proof`, except the nonce errors
/// (`use_dpop_nonce`, RFC 9449 9) and a full replay cache (503, the proof cannot be checked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DpopError {
    /// The DPoP scheme was used and the request has no `DPoP` header.
    Missing,
    /// The request has more than one `DPoP` header.
    Repeated,
    /// The proof or its header is larger than allowed.
    TooLarge,
    /// Not a compact JWS, bad base64url, or JSON that is not an object of the right shape.
    Malformed,
    /// `alg` is not one of the DPoP algorithms allowed (never `none`, never HMAC).
    AlgorithmNotAllowed,
    /// The header carries `crit`.
    CriticalHeader,
    /// `typ` is not `dpop+jwt`.
    WrongType,
    /// The header has no `jwk` object.
    MissingKey,
    /// The header's `jwk` carries private key members.
    PrivateKey,
    /// The header's `jwk` is not a public signature key fitting `alg`.
    UnusableKey,
    /// The signature does not verify with the header's `jwk`.
    BadSignature,
    /// A required claim is missing (`jti`, `htm`, `htu`, `iat`, `ath`).
    MissingClaim(&'static str),
    /// A claim has the wrong type or an impossible value.
    InvalidClaim(&'static str),
    /// `htm` is not the request's method.
    WrongMethod,
    /// `htu` is not the request's URL at any of the resource server's public URLs.
    WrongUrl,
    /// `iat` is older than the window (plus leeway).
    TooOld,
    /// `iat` is later than now (plus leeway).
    IssuedInFuture,
    /// `ath` is not the hash of the access token presented with the proof.
    WrongAccessTokenHash,
    /// The proof's `jti` was seen before with this key, within its window.
    Replayed,
    /// Nonces are required and the proof has none (`use_dpop_nonce`).
    NonceMissing,
    /// The proof's nonce is not one of the current ones (`use_dpop_nonce`).
    NonceStale,
    /// The replay cache is full: the proof cannot be checked for replay, so it is refused
    /// rather than an older entry forgotten (503).
    ReplayCacheFull,
}

impl fmt::Display for DpopError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DpopError::MissingClaim(claim) => {
                return write!(f, "the DPoP proof has no {claim} claim")
            }
            DpopError::InvalidClaim(claim) => {
                return write!(f, "the DPoP proof's {claim} claim is not valid")
            }
            DpopError::Missing => "the request has no DPoP proof",
            DpopError::Repeated => "the request carries more than one DPoP header",
            DpopError::TooLarge => "the DPoP proof is too large",
            DpopError::Malformed => "the DPoP proof is not a well-formed JWT",
            DpopError::AlgorithmNotAllowed => "the DPoP proof's alg is not allowed",
            DpopError::CriticalHeader => "the DPoP proof has a crit header",
            DpopError::WrongType => "the DPoP proof's typ must be dpop+jwt",
            DpopError::MissingKey => "the DPoP proof's header has no jwk",
            DpopError::PrivateKey => "the DPoP proof's jwk must not hold a private key",
            DpopError::UnusableKey => {
                "the DPoP proof's jwk is not a public signature key fitting its alg"
            }
            DpopError::BadSignature => "the DPoP proof's signature does not verify",
            DpopError::WrongMethod => "the DPoP proof's htm is not the method of this request",
            DpopError::WrongUrl => "the DPoP proof's htu is not the URL of this request",
            DpopError::TooOld => "the DPoP proof was issued too long ago",
            DpopError::IssuedInFuture => "the DPoP proof's iat is in the future",
            DpopError::WrongAccessTokenHash => {
                "the DPoP proof's ath is not the hash of the access token"
            }
            DpopError::Replayed => "the DPoP proof has been used before",
            DpopError::NonceMissing => "the DPoP proof must carry the resource server's nonce",
            DpopError::NonceStale => "the DPoP proof's nonce is not current",
            DpopError::ReplayCacheFull => {
                "too many DPoP proofs are in flight to check this one for replay"
            }
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
    /// The token is sender-constrained and the proof is missing or wrong, or it was presented
    /// with a scheme its binding does not allow.
    #[error("{0}")]
    Binding(BindingError),
    /// The DPoP proof presented with the token was refused.
    #[error("{0}")]
    Dpop(DpopError),
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

/// The error codes a resource server answers with: RFC 6750 3.1, and RFC 9449 7.1 and 9 for
/// DPoP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BearerErrorCode {
    /// 400: the request is malformed (no usable `Authorization` header, several tokens).
    InvalidRequest,
    /// 401: the token is expired, revoked, malformed or invalid for other reasons.
    InvalidToken,
    /// 403: the token is good but lacks the scopes the request needs.
    InsufficientScope,
    /// 401 (RFC 9449 7.1): the DPoP proof is missing or invalid.
    InvalidDpopProof,
    /// 401 (RFC 9449 9): the DPoP proof must carry the nonce of the `DPoP-Nonce` header.
    UseDpopNonce,
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
            BearerErrorCode::InvalidDpopProof => "invalid_dpop_proof",
            BearerErrorCode::UseDpopNonce => "use_dpop_nonce",
            BearerErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
        }
    }

    /// The HTTP status code RFC 6750 3.1 (and RFC 9449 7.1, 9) give it.
    pub fn http_status(self) -> u16 {
        match self {
            BearerErrorCode::InvalidRequest => 400,
            BearerErrorCode::InvalidToken
            | BearerErrorCode::InvalidDpopProof
            | BearerErrorCode::UseDpopNonce => 401,
            BearerErrorCode::InsufficientScope => 403,
            BearerErrorCode::TemporarilyUnavailable => 503,
        }
    }
}

impl Error {
    /// The RFC 6750 (or RFC 9449) error a resource server answers this failure with.
    pub fn bearer_error_code(&self) -> BearerErrorCode {
        match self {
            Error::InsufficientScope { .. } => BearerErrorCode::InsufficientScope,
            Error::KeysUnavailable(_)
            | Error::StatusUnavailable(_)
            | Error::Dpop(DpopError::ReplayCacheFull) => BearerErrorCode::TemporarilyUnavailable,
            Error::Dpop(DpopError::NonceMissing | DpopError::NonceStale) => {
                BearerErrorCode::UseDpopNonce
            }
            Error::Dpop(_) => BearerErrorCode::InvalidDpopProof,
            _ => BearerErrorCode::InvalidToken,
        }
    }

    /// Whether the `DPoP` challenge names this error rather than the `Bearer` one: a proof
    /// error, or a token whose binding calls for DPoP (RFC 9449 7.1, 7.2).
    pub fn concerns_dpop(&self) -> bool {
        match self {
            Error::Dpop(_) => true,
            Error::Binding(binding) => binding.concerns_dpop(),
            _ => false,
        }
    }
}
