//! The only module that touches JOSE and signature primitives, all on aws-lc-rs: Tessera's JWK
//! type and key generation, compact JWS signing over parsed key pairs, and the issuer's JWE
//! rules over the verifier crate's JWE mechanism (the one resource servers decrypt with).

mod algs;
mod jwe;
mod jwk;
mod jws;

pub use algs::{AssertionAlg, HmacAlg};
pub use jwe::{
    decrypt_assertion, decrypt_from_self, encrypt_to_self, AssertionDecrypter, RecipientKey,
};
pub use jwk::{
    generate_encryption_key, generate_secret_key, generate_signing_key, has_private_members,
    public_jwk, thumbprint, thumbprint_of, Jwk,
};
pub use jws::{CompactJws, JwsHeader, JwsSigner, MAX_JWS_LEN};

use crate::names;
use strum::{Display, EnumIter, EnumString, IntoStaticStr};

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, IntoStaticStr, Display, EnumString)]
#[strum(parse_err_ty = String, parse_err_fn = unknown_signing_alg)]
pub enum SigningAlg {
    ES256,
    ES384,
    RS256,
    PS256,
    EdDSA,
}

impl SigningAlg {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

fn unknown_signing_alg(value: &str) -> String {
    names::unsupported::<SigningAlg>("unknown signing algorithm", value)
}

/// Key management algorithms of the issuer's published encryption key (JWE `alg`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, IntoStaticStr, Display, EnumString)]
#[strum(parse_err_ty = String, parse_err_fn = unknown_key_management_alg)]
pub enum KeyManagementAlg {
    #[strum(serialize = "RSA-OAEP-256")]
    RsaOaep256,
    #[strum(serialize = "ECDH-ES+A256KW")]
    EcdhEsA256Kw,
}

impl KeyManagementAlg {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The same algorithm as the verifier crate's JWE mechanism names it.
    pub(crate) fn into_verifier(self) -> tessera_verifier::KeyManagementAlg {
        match self {
            KeyManagementAlg::RsaOaep256 => tessera_verifier::KeyManagementAlg::RsaOaep256,
            KeyManagementAlg::EcdhEsA256Kw => tessera_verifier::KeyManagementAlg::EcdhEsA256Kw,
        }
    }
}

fn unknown_key_management_alg(value: &str) -> String {
    names::unsupported::<KeyManagementAlg>("unknown key management algorithm", value)
}
