//! JSON Web Keys: generation, RFC 7638 thumbprints, and the public projection that goes into
//! the JWKS (built from an explicit list of public members, so a private member can never leak).

use super::{KeyError, KeyManagementAlg, SigningAlg};
use aws_lc_rs::digest;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{Map, Value};

pub use josekit::jwk::Jwk;

const RSA_BITS: u32 = 2048;

fn jose(err: josekit::JoseError) -> KeyError {
    KeyError::new(format!("key generation failed: {err}"))
}

/// A fresh private signing key for `alg`, with `kid` (its thumbprint), `use` and `alg` set.
pub fn generate_signing_key(alg: SigningAlg) -> Result<Jwk, KeyError> {
    let mut jwk = match alg {
        SigningAlg::ES256 => Jwk::generate_ec_key(josekit::jwk::alg::ec::EcCurve::P256),
        SigningAlg::ES384 => Jwk::generate_ec_key(josekit::jwk::alg::ec::EcCurve::P384),
        SigningAlg::RS256 | SigningAlg::PS256 => Jwk::generate_rsa_key(RSA_BITS),
        SigningAlg::EdDSA => Jwk::generate_ed_key(josekit::jwk::alg::ed::EdCurve::Ed25519),
    }
    .map_err(jose)?;
    label(&mut jwk, "sig", alg.as_str())?;
    Ok(jwk)
}

/// A fresh private key that clients encrypt to (published with `use: enc`).
pub fn generate_encryption_key(alg: KeyManagementAlg) -> Result<Jwk, KeyError> {
    let mut jwk = match alg {
        KeyManagementAlg::RsaOaep256 => Jwk::generate_rsa_key(RSA_BITS),
        KeyManagementAlg::EcdhEsA256Kw => {
            Jwk::generate_ec_key(josekit::jwk::alg::ec::EcCurve::P256)
        }
    }
    .map_err(jose)?;
    label(&mut jwk, "enc", alg.as_str())?;
    Ok(jwk)
}

/// A fresh 256-bit symmetric key for tokens the issuer encrypts to itself (JWE `dir`, A256GCM).
pub fn generate_secret_key() -> Result<Jwk, KeyError> {
    let mut jwk = Jwk::generate_oct_key(32).map_err(jose)?;
    label(&mut jwk, "enc", "dir")?;
    Ok(jwk)
}

fn label(jwk: &mut Jwk, key_use: &str, alg: &str) -> Result<(), KeyError> {
    jwk.set_key_use(key_use);
    jwk.set_algorithm(alg);
    let kid = thumbprint(jwk)?;
    jwk.set_key_id(kid);
    Ok(())
}

/// The members that define each key type, in the lexicographic order RFC 7638 requires.
fn required_members(kty: &str) -> Result<&'static [&'static str], KeyError> {
    match kty {
        "EC" => Ok(&["crv", "kty", "x", "y"]),
        "RSA" => Ok(&["e", "kty", "n"]),
        "OKP" => Ok(&["crv", "kty", "x"]),
        "oct" => Ok(&["k", "kty"]),
        other => Err(KeyError::new(format!("unsupported key type '{other}'"))),
    }
}

/// RFC 7638 JWK thumbprint (SHA-256, base64url): the `kid` of every Tessera key.
pub fn thumbprint(jwk: &Jwk) -> Result<String, KeyError> {
    thumbprint_of(jwk.key_type(), jwk.as_ref())
}

/// RFC 7638 thumbprint of a JWK given as its JSON members (a DPoP proof's `jwk`, the `cnf.jkt`
/// of RFC 9449): the required members of `kty`, in lexicographic order, hashed with SHA-256.
pub fn thumbprint_of(kty: &str, members: &Map<String, Value>) -> Result<String, KeyError> {
    let mut canonical = String::with_capacity(160);
    canonical.push('{');
    for (i, name) in required_members(kty)?.iter().enumerate() {
        let value = members
            .get(*name)
            .and_then(Value::as_str)
            .ok_or_else(|| KeyError::new(format!("the key has no '{name}' member")))?;
        if i > 0 {
            canonical.push(',');
        }
        // serde_json's string form is the JSON the RFC asks for (no whitespace, minimal escapes).
        canonical.push_str(&Value::from(*name).to_string());
        canonical.push(':');
        canonical.push_str(&Value::from(value).to_string());
    }
    canonical.push('}');
    Ok(URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, canonical.as_bytes())))
}

/// The public half of an asymmetric key, as published in the JWKS: only the members RFC 7518
/// defines as public for its key type, plus `kid`, `use` and `alg`. Symmetric keys have none.
pub fn public_jwk(jwk: &Jwk) -> Result<Map<String, Value>, KeyError> {
    let kty = jwk.key_type();
    if kty == "oct" {
        return Err(KeyError::new("a symmetric key has no public part"));
    }
    let members = jwk.as_ref();
    let mut public = Map::new();
    for name in required_members(kty)?.iter().chain(&["kid", "use", "alg"]) {
        if let Some(value) = members.get(*name) {
            public.insert((*name).to_owned(), value.clone());
        }
    }
    Ok(public)
}

/// The members that carry private or symmetric key material (RFC 7518 6.2.2, 6.3.2, 6.4.1).
const PRIVATE_MEMBERS: [&str; 7] = ["d", "p", "q", "dp", "dq", "qi", "k"];

/// Whether a JWK holds private or symmetric key material. Keys that others register, publish or
/// that Tessera encrypts to must not: a key with such members is refused, never trimmed.
pub fn has_private_members(jwk: &Map<String, Value>) -> bool {
    PRIVATE_MEMBERS
        .iter()
        .any(|member| jwk.contains_key(*member))
}

/// PKCS#8 DER of a private asymmetric JWK, the form aws-lc-rs parses.
pub(super) fn private_pkcs8_der(jwk: &Jwk) -> Result<Vec<u8>, KeyError> {
    use josekit::jwk::alg::{ec::EcKeyPair, ed::EdKeyPair, rsa::RsaKeyPair};
    use josekit::jwk::KeyPair;
    let bad = |err: josekit::JoseError| KeyError::new(format!("not a usable private key: {err}"));
    let pem = match jwk.key_type() {
        "EC" => EcKeyPair::from_jwk(jwk).map_err(bad)?.to_pem_private_key(),
        "RSA" => RsaKeyPair::from_jwk(jwk).map_err(bad)?.to_pem_private_key(),
        "OKP" => EdKeyPair::from_jwk(jwk).map_err(bad)?.to_pem_private_key(),
        other => return Err(KeyError::new(format!("unsupported key type '{other}'"))),
    };
    pem_body(&pem)
}

fn pem_body(pem: &[u8]) -> Result<Vec<u8>, KeyError> {
    let text = std::str::from_utf8(pem).map_err(|_| KeyError::new("PEM is not text"))?;
    let body: String = text
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|_| KeyError::new("PEM body is not base64"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use strum::IntoEnumIterator;

    #[test]
    fn thumbprint_matches_rfc7638_example() {
        // The RSA key of RFC 7638 section 3.1 and its published thumbprint.
        let jwk = Jwk::from_bytes(
            br#"{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}"#,
        )
        .unwrap();
        assert_eq!(
            thumbprint(&jwk).unwrap(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn public_jwk_never_carries_private_members() {
        for alg in SigningAlg::iter() {
            let jwk = generate_signing_key(alg).unwrap();
            let public = public_jwk(&jwk).unwrap();
            assert!(
                !has_private_members(&public),
                "{alg}: a private member published"
            );
            assert!(
                has_private_members(jwk.as_ref()),
                "{alg}: not seen as private"
            );
            assert_eq!(public["kid"], Value::from(thumbprint(&jwk).unwrap()));
            assert_eq!(public["alg"], Value::from(alg.as_str()));
        }
        assert!(public_jwk(&generate_secret_key().unwrap()).is_err());
    }

    #[test]
    fn private_keys_are_told_from_their_public_halves() {
        for alg in SigningAlg::iter() {
            let jwk = generate_signing_key(alg).unwrap();
            assert!(has_private_members(jwk.as_ref()), "{alg}");
            assert!(!has_private_members(&public_jwk(&jwk).unwrap()), "{alg}");
        }
        assert!(has_private_members(generate_secret_key().unwrap().as_ref()));
    }
}
