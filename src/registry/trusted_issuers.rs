use super::{first_by_key, ClientKeys};
use crate::jose::SigningAlg;
use crate::oauth::types::Scope;
use std::collections::HashMap;
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

/// Trusted issuers by `iss`.
#[derive(Debug, Default, Clone)]
pub struct TrustedIssuerRegistry {
    by_issuer: HashMap<String, TrustedIssuer>,
}

impl TrustedIssuerRegistry {
    pub fn new(issuers: Vec<TrustedIssuer>) -> Self {
        Self {
            by_issuer: first_by_key(issuers, |trusted| trusted.issuer.clone()),
        }
    }

    /// The trusted issuer a JWT's `iss` names.
    pub fn get(&self, iss: &str) -> Option<&TrustedIssuer> {
        self.by_issuer.get(iss)
    }
}
