//! The only module that touches JOSE crates and signature primitives: key generation and JWK
//! handling (josekit), compact JWS signing over parsed key pairs (aws-lc-rs).

mod jwe;
mod jwk;
mod jws;
mod verify;

pub use jwe::{
    decrypt_assertion, decrypt_from_self, encrypt_to_self, AssertionDecrypter, RecipientKey,
};
pub use jwk::{
    generate_encryption_key, generate_secret_key, generate_signing_key, public_jwk, thumbprint, Jwk,
};
pub use jws::{CompactJws, JwsHeader, JwsSigner, MAX_JWS_LEN};
pub use verify::{key_fits, verify_hmac, verify_with_jwk, AssertionAlg, HmacAlg};

use std::fmt;
use std::str::FromStr;

/// Errors of key material: a file that is not a usable key.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct KeyError(pub String);

impl KeyError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

/// The signature algorithms Tessera signs with: an allow-list, never `none`, never HMAC for
/// tokens others verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SigningAlg {
    ES256,
    ES384,
    RS256,
    PS256,
    EdDSA,
}

impl SigningAlg {
    pub const ALL: [SigningAlg; 5] = [
        SigningAlg::ES256,
        SigningAlg::ES384,
        SigningAlg::RS256,
        SigningAlg::PS256,
        SigningAlg::EdDSA,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlg::ES256 => "ES256",
            SigningAlg::ES384 => "ES384",
            SigningAlg::RS256 => "RS256",
            SigningAlg::PS256 => "PS256",
            SigningAlg::EdDSA => "EdDSA",
        }
    }
}

impl FromStr for SigningAlg {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|alg| alg.as_str() == value)
            .ok_or_else(|| {
                format!("unknown signing algorithm '{value}' (supported: ES256, ES384, RS256, PS256, EdDSA)")
            })
    }
}

impl fmt::Display for SigningAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Key management algorithms of the issuer's published encryption key (JWE `alg`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyManagementAlg {
    RsaOaep256,
    EcdhEsA256Kw,
}

impl KeyManagementAlg {
    pub const ALL: [KeyManagementAlg; 2] =
        [KeyManagementAlg::RsaOaep256, KeyManagementAlg::EcdhEsA256Kw];

    pub fn as_str(self) -> &'static str {
        match self {
            KeyManagementAlg::RsaOaep256 => "RSA-OAEP-256",
            KeyManagementAlg::EcdhEsA256Kw => "ECDH-ES+A256KW",
        }
    }
}

impl FromStr for KeyManagementAlg {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|alg| alg.as_str() == value)
            .ok_or_else(|| {
                format!("unknown key management algorithm '{value}' (supported: RSA-OAEP-256, ECDH-ES+A256KW)")
            })
    }
}

impl fmt::Display for KeyManagementAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
