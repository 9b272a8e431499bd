//! Encrypted access tokens: a signed JWT nested in a compact JWE (`cty: JWT`) encrypted to the
//! resource server's public key, as Tessera issues them. Opened with the resource server's
//! private JWK (josekit on OpenSSL), then the inner JWS is verified like any other.
//!
//! Only RSA-OAEP-256 and ECDH-ES+A256KW with A256GCM; no compression (`zip`), no `crit`.

use crate::jws::decode_header;
use crate::Error;
use josekit::jwe::{self, JweDecrypter};
use serde::Deserialize;
use std::sync::Arc;

/// The key management algorithms accepted (JWE `alg`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyManagementAlg {
    RsaOaep256,
    EcdhEsA256Kw,
}

impl KeyManagementAlg {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyManagementAlg::RsaOaep256 => "RSA-OAEP-256",
            KeyManagementAlg::EcdhEsA256Kw => "ECDH-ES+A256KW",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        [KeyManagementAlg::RsaOaep256, KeyManagementAlg::EcdhEsA256Kw]
            .into_iter()
            .find(|alg| alg.as_str() == name)
    }
}

const CONTENT_ENCRYPTION: &str = "A256GCM";

/// A private key access tokens are encrypted to, parsed once (building the decrypter is most
/// of the cost of decrypting).
#[derive(Clone)]
pub struct DecryptionKey {
    kid: Option<String>,
    alg: KeyManagementAlg,
    decrypter: Arc<dyn JweDecrypter>,
}

impl std::fmt::Debug for DecryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecryptionKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl DecryptionKey {
    /// Parses a private JWK (RSA for RSA-OAEP-256, EC P-256/P-384/P-521 for ECDH-ES+A256KW).
    pub fn from_jwk_json(jwk: &[u8], alg: KeyManagementAlg) -> Result<Self, Error> {
        let unusable = |_| Error::Malformed("the decryption JWK is not a usable private key");
        let mut members: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(jwk)
                .map_err(|_| Error::Malformed("the decryption key is not a JWK"))?;
        let kid = members
            .get("kid")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned);
        if members
            .get("alg")
            .and_then(serde_json::Value::as_str)
            .is_some_and(|declared| declared != alg.as_str())
        {
            return Err(Error::Malformed(
                "the decryption JWK is for another algorithm",
            ));
        }
        // The kid is matched here; josekit would otherwise require it in every header.
        members.remove("kid");
        let jwk = josekit::jwk::Jwk::from_map(members).map_err(unusable)?;
        let decrypter: Arc<dyn JweDecrypter> = match alg {
            KeyManagementAlg::RsaOaep256 => Arc::new(
                jwe::RSA_OAEP_256
                    .decrypter_from_jwk(&jwk)
                    .map_err(unusable)?,
            ),
            KeyManagementAlg::EcdhEsA256Kw => Arc::new(
                jwe::ECDH_ES_A256KW
                    .decrypter_from_jwk(&jwk)
                    .map_err(unusable)?,
            ),
        };
        Ok(Self {
            kid,
            alg,
            decrypter,
        })
    }

    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    pub fn alg(&self) -> KeyManagementAlg {
        self.alg
    }
}

#[derive(Deserialize)]
struct RawJweHeader {
    alg: String,
    enc: String,
    cty: Option<String>,
    kid: Option<String>,
    zip: Option<serde::de::IgnoredAny>,
    crit: Option<serde::de::IgnoredAny>,
}

/// Opens a compact JWE and returns the nested compact JWS.
pub(crate) fn decrypt(
    token: &str,
    keys: &[DecryptionKey],
    max_header_len: usize,
) -> Result<String, Error> {
    let encoded_header = token.split('.').next().unwrap_or_default();
    let header: RawJweHeader = decode_header(encoded_header, max_header_len)?;
    let alg = KeyManagementAlg::from_name(&header.alg).ok_or(Error::AlgorithmNotAllowed)?;
    if header.enc != CONTENT_ENCRYPTION || header.zip.is_some() {
        return Err(Error::AlgorithmNotAllowed);
    }
    if header.crit.is_some() {
        return Err(Error::CriticalHeader);
    }
    // RFC 7519 5.2: a nested JWT says so with cty JWT.
    if !header
        .cty
        .as_deref()
        .is_some_and(|cty| cty.eq_ignore_ascii_case("JWT"))
    {
        return Err(Error::Malformed(
            "the encrypted token does not nest a JWT (cty)",
        ));
    }
    let candidates = keys.iter().filter(|key| {
        key.alg == alg
            && header
                .kid
                .as_deref()
                .is_none_or(|kid| key.kid.as_deref().is_none_or(|own| own == kid))
    });
    for key in candidates {
        if let Ok((payload, _)) = jwe::deserialize_compact(token, key.decrypter.as_ref()) {
            let inner = String::from_utf8(payload).map_err(|_| Error::Decryption)?;
            return Ok(inner);
        }
    }
    Err(Error::Decryption)
}
