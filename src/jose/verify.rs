//! Verifying signatures made by others (client assertions, trusted issuers' tokens) with keys
//! they registered as JWKs. The algorithm is always the one allowed for the key; the key's type
//! and curve must fit it, and a key that says it is not for signing is never used.

use super::SigningAlg;
use aws_lc_rs::hmac;
use aws_lc_rs::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{Map, Value};
use std::fmt;
use std::str::FromStr;
use strum::{Display, EnumIter, EnumString, IntoStaticStr};

/// HMAC algorithms, for `client_secret_jwt` only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, IntoStaticStr, Display, EnumString)]
#[strum(parse_err_ty = String, parse_err_fn = unknown_hmac_alg)]
pub enum HmacAlg {
    HS256,
    HS384,
    HS512,
}

impl HmacAlg {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    fn algorithm(self) -> hmac::Algorithm {
        match self {
            HmacAlg::HS256 => hmac::HMAC_SHA256,
            HmacAlg::HS384 => hmac::HMAC_SHA384,
            HmacAlg::HS512 => hmac::HMAC_SHA512,
        }
    }
}

fn unknown_hmac_alg(value: &str) -> String {
    format!("unknown HMAC algorithm '{value}'")
}

/// Any algorithm a client assertion may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AssertionAlg {
    Asymmetric(SigningAlg),
    Hmac(HmacAlg),
}

impl AssertionAlg {
    pub fn as_str(self) -> &'static str {
        match self {
            AssertionAlg::Asymmetric(alg) => alg.as_str(),
            AssertionAlg::Hmac(alg) => alg.as_str(),
        }
    }
}

impl FromStr for AssertionAlg {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        value
            .parse()
            .map(AssertionAlg::Asymmetric)
            .or_else(|_| value.parse().map(AssertionAlg::Hmac))
            .map_err(|_| format!("unknown signature algorithm '{value}'"))
    }
}

impl fmt::Display for AssertionAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn member<'a>(jwk: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    jwk.get(name).and_then(Value::as_str)
}

fn bytes(jwk: &Map<String, Value>, name: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(member(jwk, name)?).ok()
}

/// Whether `jwk` is a public key that can verify `alg` signatures: right type and curve, not
/// marked for another use or algorithm, no private members.
pub fn key_fits(jwk: &Map<String, Value>, alg: SigningAlg) -> bool {
    if member(jwk, "use").is_some_and(|key_use| key_use != "sig")
        || member(jwk, "alg").is_some_and(|key_alg| key_alg != alg.as_str())
        || super::has_private_members(jwk)
    {
        return false;
    }
    matches!(
        (alg, member(jwk, "kty"), member(jwk, "crv")),
        (SigningAlg::ES256, Some("EC"), Some("P-256"))
            | (SigningAlg::ES384, Some("EC"), Some("P-384"))
            | (SigningAlg::EdDSA, Some("OKP"), Some("Ed25519"))
            | (SigningAlg::RS256 | SigningAlg::PS256, Some("RSA"), _)
    )
}

/// Verifies `signature` over `message` with the public JWK `jwk` under `alg`.
pub fn verify_with_jwk(
    jwk: &Map<String, Value>,
    alg: SigningAlg,
    message: &[u8],
    signature: &[u8],
) -> bool {
    if !key_fits(jwk, alg) {
        return false;
    }
    let point = |size: usize| -> Option<Vec<u8>> {
        let (x, y) = (bytes(jwk, "x")?, bytes(jwk, "y")?);
        if x.len() != size || y.len() != size {
            return None;
        }
        let mut point = Vec::with_capacity(1 + 2 * size);
        point.push(0x04);
        point.extend_from_slice(&x);
        point.extend_from_slice(&y);
        Some(point)
    };
    match alg {
        SigningAlg::ES256 => point(32).is_some_and(|p| {
            UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, p)
                .verify(message, signature)
                .is_ok()
        }),
        SigningAlg::ES384 => point(48).is_some_and(|p| {
            UnparsedPublicKey::new(&signature::ECDSA_P384_SHA384_FIXED, p)
                .verify(message, signature)
                .is_ok()
        }),
        SigningAlg::EdDSA => bytes(jwk, "x").filter(|x| x.len() == 32).is_some_and(|x| {
            UnparsedPublicKey::new(&signature::ED25519, x)
                .verify(message, signature)
                .is_ok()
        }),
        SigningAlg::RS256 | SigningAlg::PS256 => {
            let (Some(n), Some(e)) = (bytes(jwk, "n"), bytes(jwk, "e")) else {
                return false;
            };
            let params = if alg == SigningAlg::RS256 {
                &signature::RSA_PKCS1_2048_8192_SHA256
            } else {
                &signature::RSA_PSS_2048_8192_SHA256
            };
            RsaPublicKeyComponents { n: &n, e: &e }
                .verify(params, message, signature)
                .is_ok()
        }
    }
}

/// Verifies an HMAC `tag` over `message` keyed by `secret`, in constant time.
pub fn verify_hmac(secret: &[u8], alg: HmacAlg, message: &[u8], tag: &[u8]) -> bool {
    hmac::verify(&hmac::Key::new(alg.algorithm(), secret), message, tag).is_ok()
}
