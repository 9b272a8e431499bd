use super::ClientKeys;
use crate::jose::SigningAlg;
use crate::oauth::types::Scope;
use std::time::Duration;

/// Another issuer whose JWTs Tessera accepts for the JWT bearer grant (RFC 7523 2.1) and as
/// token exchange subjects (RFC 8693).
#[derive(Debug, Clone)]
pub struct TrustedIssuer {
    pub issuer: String,
    pub keys: ClientKeys,
    pub algs: Vec<SigningAlg>,
    /// Subjects become `subject_prefix` + the JWT's `sub`.
    pub subject_prefix: String,
    /// Scopes tokens from this issuer's assertions may carry (all the client's when empty).
    pub scopes: Vec<Scope>,
    /// Audiences tokens from this issuer's assertions may name (all the client's when empty).
    pub audience: Vec<String>,
    pub max_lifetime: Duration,
}
