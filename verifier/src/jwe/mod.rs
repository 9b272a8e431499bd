//! JWE (RFC 7516) compact serialization on aws-lc-rs, the one JWE mechanism of Tessera: the
//! resource server opens encrypted access tokens with it, and the issuer encrypts access tokens,
//! opens client assertions and seals its own tokens with it.
//!
//! Encrypted access tokens are a signed JWT nested in a compact JWE (`cty: JWT`) encrypted to
//! the resource server's public key: opened with its private JWK, then the inner JWS is
//! verified like any other. Only RSA-OAEP-256 and ECDH-ES+A256KW with A256GCM; no compression
//! (`zip`), no `crit`.
//!
//! Every length is bounded before any key is used: the header by the caller's limit, the
//! encrypted key by the key management algorithm, the IV and the tag by the content
//! encryption. Tags are compared in constant time; EC points off their curve are refused.

mod content;
mod keys;

pub use content::ContentEncryption;
pub use keys::{rsa_key_pair, DecryptionKey, DirectKey, EncryptionKey, KeyManagementAlg};

use crate::jws::decode_header;
use crate::Error;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

/// The protected header of a JWE, as far as this crate reads it.
#[derive(Deserialize)]
pub struct JweHeader {
    alg: String,
    enc: String,
    typ: Option<String>,
    cty: Option<String>,
    kid: Option<String>,
    epk: Option<Epk>,
    apu: Option<String>,
    apv: Option<String>,
    zip: Option<serde::de::IgnoredAny>,
    crit: Option<serde::de::IgnoredAny>,
}

impl JweHeader {
    pub fn alg(&self) -> &str {
        &self.alg
    }

    pub fn enc(&self) -> &str {
        &self.enc
    }

    pub fn typ(&self) -> Option<&str> {
        self.typ.as_deref()
    }

    pub fn cty(&self) -> Option<&str> {
        self.cty.as_deref()
    }

    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// Whether the header asks for compression (`zip`): never accepted here.
    pub fn has_zip(&self) -> bool {
        self.zip.is_some()
    }

    /// Whether the header carries `crit`: no extension is understood, so none may be critical.
    pub fn has_crit(&self) -> bool {
        self.crit.is_some()
    }
}

/// The ephemeral public key of ECDH-ES (RFC 7518 4.6.1.1).
#[derive(Deserialize)]
struct Epk {
    kty: String,
    crv: String,
    x: String,
    y: String,
}

#[derive(Serialize)]
struct EpkOut {
    kty: &'static str,
    crv: &'static str,
    x: String,
    y: String,
}

/// Header members an encrypting party chooses, besides `alg`, `enc` and `epk`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Protected<'a> {
    pub typ: Option<&'a str>,
    pub cty: Option<&'a str>,
    pub kid: Option<&'a str>,
}

#[derive(Serialize)]
struct HeaderOut<'a> {
    alg: &'a str,
    enc: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    typ: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cty: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    epk: Option<EpkOut>,
}

/// A compact JWE taken apart, not yet decrypted.
pub struct Jwe<'a> {
    /// The encoded protected header: the additional authenticated data.
    encoded_header: &'a str,
    header: JweHeader,
    encrypted_key: Vec<u8>,
    iv: Vec<u8>,
    ciphertext: Vec<u8>,
    tag: Vec<u8>,
}

impl<'a> Jwe<'a> {
    /// Splits and decodes a compact JWE whose encoded header is at most `max_header_len`.
    pub fn parse(token: &'a str, max_header_len: usize) -> Result<Self, Error> {
        let mut parts = token.split('.');
        let (Some(header), Some(key), Some(iv), Some(ciphertext), Some(tag), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(Error::Malformed("not a compact JWE"));
        };
        let decode = |part: &str| {
            URL_SAFE_NO_PAD
                .decode(part)
                .map_err(|_| Error::Malformed("a JWE part is not base64url"))
        };
        Ok(Self {
            header: decode_header(header, max_header_len)?,
            encoded_header: header,
            encrypted_key: decode(key)?,
            iv: decode(iv)?,
            ciphertext: decode(ciphertext)?,
            tag: decode(tag)?,
        })
    }

    pub fn header(&self) -> &JweHeader {
        &self.header
    }

    fn open(&self, enc: ContentEncryption, cek: &[u8]) -> Result<Vec<u8>, Error> {
        enc.open(
            cek,
            self.encoded_header.as_bytes(),
            &self.iv,
            self.ciphertext.clone(),
            &self.tag,
        )
        .map_err(|_| Error::Decryption)
    }
}

/// The compact serialization of an A256GCM encryption under `cek`.
fn seal_compact(
    alg: &str,
    protected: &Protected<'_>,
    epk: Option<EpkOut>,
    encrypted_key: &[u8],
    cek: &[u8],
    plaintext: &[u8],
) -> Result<String, aws_lc_rs::error::Unspecified> {
    let header = serde_json::to_vec(&HeaderOut {
        alg,
        enc: ContentEncryption::A256Gcm.as_str(),
        typ: protected.typ,
        cty: protected.cty,
        kid: protected.kid,
        epk,
    })
    .map_err(|_| aws_lc_rs::error::Unspecified)?;
    let header = URL_SAFE_NO_PAD.encode(header);
    let (iv, ciphertext, tag) = content::seal_a256gcm(cek, header.as_bytes(), plaintext)?;
    let mut token = header;
    for part in [encrypted_key, &iv, &ciphertext, tag.as_ref()] {
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(part, &mut token);
    }
    Ok(token)
}

/// Opens an encrypted access token and returns the nested compact JWS.
pub(crate) fn decrypt(
    token: &str,
    keys: &[DecryptionKey],
    max_header_len: usize,
) -> Result<String, Error> {
    let jwe = Jwe::parse(token, max_header_len)?;
    let header = jwe.header();
    let alg = KeyManagementAlg::from_name(header.alg()).ok_or(Error::AlgorithmNotAllowed)?;
    if header.enc() != ContentEncryption::A256Gcm.as_str() || header.has_zip() {
        return Err(Error::AlgorithmNotAllowed);
    }
    if header.has_crit() {
        return Err(Error::CriticalHeader);
    }
    // RFC 7519 5.2: a nested JWT says so with cty JWT.
    if !header
        .cty()
        .is_some_and(|cty| cty.eq_ignore_ascii_case("JWT"))
    {
        return Err(Error::Malformed(
            "the encrypted token does not nest a JWT (cty)",
        ));
    }
    let candidates = keys.iter().filter(|key| {
        key.alg() == alg
            && header
                .kid()
                .is_none_or(|kid| key.kid().is_none_or(|own| own == kid))
    });
    for key in candidates {
        if let Ok(payload) = key.decrypt(&jwe, &[ContentEncryption::A256Gcm]) {
            return String::from_utf8(payload).map_err(|_| Error::Decryption);
        }
    }
    Err(Error::Decryption)
}
