//! JSON Web Keys: Tessera's own JWK type (a JSON object checked once), generation on
//! aws-lc-rs, RFC 7638 thumbprints, and the public projection that goes into the JWKS (built
//! from an explicit list of public members, so a private member can never leak).

use super::{KeyError, KeyManagementAlg, SigningAlg};
use aws_lc_rs::digest;
use aws_lc_rs::encoding::{AsBigEndian, AsDer};
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{Map, Value};

const RSA_SIZE: aws_lc_rs::rsa::KeySize = aws_lc_rs::rsa::KeySize::Rsa2048;

/// The members RFC 7517 4 defines as strings, checked when a JWK is read.
const STRING_MEMBERS: [&str; 6] = ["kty", "use", "alg", "kid", "x5u", "x5t"];

/// A JSON Web Key (RFC 7517): a JSON object with a string `kty`, and `use`, `alg`, `kid`,
/// `key_ops` and `x5c` of the types the RFC gives them. The key material itself is checked by
/// whatever parses it for use (a signer, an encrypter), where its algorithm is known.
#[derive(Clone, PartialEq)]
pub struct Jwk(Map<String, Value>);

impl Jwk {
    /// Checks the members' types; the map becomes the key as it is.
    pub fn from_map(members: Map<String, Value>) -> Result<Self, KeyError> {
        if !members.contains_key("kty") {
            return Err(KeyError::new("the key has no 'kty' member"));
        }
        for name in STRING_MEMBERS.iter().chain(&["x5t#S256"]) {
            if members.get(*name).is_some_and(|value| !value.is_string()) {
                return Err(KeyError::new(format!(
                    "the key's '{name}' must be a string"
                )));
            }
        }
        for name in ["key_ops", "x5c"] {
            let strings = |value: &Value| {
                value
                    .as_array()
                    .is_some_and(|items| items.iter().all(Value::is_string))
            };
            if members.get(name).is_some_and(|value| !strings(value)) {
                return Err(KeyError::new(format!(
                    "the key's '{name}' must be an array of strings"
                )));
            }
        }
        Ok(Self(members))
    }

    /// Reads a JWK from its JSON text.
    pub fn from_bytes(bytes: impl AsRef<[u8]>) -> Result<Self, KeyError> {
        let members: Map<String, Value> = serde_json::from_slice(bytes.as_ref())
            .map_err(|err| KeyError::new(format!("not a JSON object: {err}")))?;
        Self::from_map(members)
    }

    fn string(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(Value::as_str)
    }

    pub fn key_type(&self) -> &str {
        self.string("kty").unwrap_or_default()
    }

    pub fn key_id(&self) -> Option<&str> {
        self.string("kid")
    }

    pub fn key_use(&self) -> Option<&str> {
        self.string("use")
    }

    pub fn algorithm(&self) -> Option<&str> {
        self.string("alg")
    }

    pub fn curve(&self) -> Option<&str> {
        self.string("crv")
    }

    pub fn parameter(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }

    pub fn set_key_id(&mut self, kid: impl Into<String>) {
        self.0.insert("kid".to_owned(), Value::String(kid.into()));
    }

    pub fn set_key_use(&mut self, key_use: impl Into<String>) {
        self.0
            .insert("use".to_owned(), Value::String(key_use.into()));
    }

    pub fn set_algorithm(&mut self, alg: impl Into<String>) {
        self.0.insert("alg".to_owned(), Value::String(alg.into()));
    }

    /// Sets (or with `None` removes) a member that is not one RFC 7517 or 7518 gives a
    /// meaning: those go through their own setters, or come with the key.
    pub fn set_parameter(&mut self, name: &str, value: Option<Value>) -> Result<(), KeyError> {
        const REGISTERED: [&str; 20] = [
            "kty", "use", "key_ops", "alg", "kid", "x5u", "x5c", "x5t", "x5t#S256", "crv", "x",
            "y", "d", "n", "e", "p", "q", "dp", "dq", "qi",
        ];
        if REGISTERED.contains(&name) || PRIVATE_MEMBERS.contains(&name) {
            return Err(KeyError::new(format!(
                "'{name}' is a registered JWK member"
            )));
        }
        match value {
            Some(value) => self.0.insert(name.to_owned(), value),
            None => self.0.remove(name),
        };
        Ok(())
    }

    /// The key without its private members: every other member stays. A symmetric key has
    /// no public part.
    pub fn to_public_key(&self) -> Result<Jwk, KeyError> {
        if self.key_type() == "oct" {
            return Err(KeyError::new("a symmetric key has no public part"));
        }
        let mut public = self.0.clone();
        for member in PRIVATE_MEMBERS.iter().chain(&["oth"]) {
            public.remove(*member);
        }
        Ok(Jwk(public))
    }

    /// The bytes of a base64url member.
    pub(super) fn bytes(&self, name: &str) -> Result<Vec<u8>, KeyError> {
        self.string(name)
            .and_then(|value| URL_SAFE_NO_PAD.decode(value).ok())
            .ok_or_else(|| KeyError::new(format!("the key has no usable '{name}' member")))
    }
}

impl AsRef<Map<String, Value>> for Jwk {
    fn as_ref(&self) -> &Map<String, Value> {
        &self.0
    }
}

impl std::fmt::Display for Jwk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&Value::Object(self.0.clone()).to_string())
    }
}

/// Never the key material: a JWK in a log names its type and kid.
impl std::fmt::Debug for Jwk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jwk")
            .field("kty", &self.key_type())
            .field("kid", &self.key_id())
            .finish_non_exhaustive()
    }
}

impl serde::Serialize for Jwk {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for Jwk {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let members = Map::deserialize(deserializer)?;
        Jwk::from_map(members).map_err(serde::de::Error::custom)
    }
}

fn failed(what: &str) -> impl Fn(aws_lc_rs::error::Unspecified) -> KeyError + '_ {
    move |_| KeyError::new(format!("key generation failed: {what}"))
}

fn b64(bytes: &[u8]) -> Value {
    Value::String(URL_SAFE_NO_PAD.encode(bytes))
}

fn jwk_of(members: impl IntoIterator<Item = (&'static str, Value)>) -> Jwk {
    Jwk(members
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect())
}

fn generate_ec(alg: &'static signature::EcdsaSigningAlgorithm, crv: &str) -> Result<Jwk, KeyError> {
    let pair = EcdsaKeyPair::generate(alg).map_err(failed("EC"))?;
    let d = pair.private_key().as_be_bytes().map_err(failed("EC"))?;
    let point = pair.public_key().as_ref();
    let (x, y) = point[1..].split_at((point.len() - 1) / 2);
    Ok(jwk_of([
        ("kty", Value::from("EC")),
        ("crv", Value::from(crv)),
        ("x", b64(x)),
        ("y", b64(y)),
        ("d", b64(d.as_ref())),
    ]))
}

fn generate_ed25519() -> Result<Jwk, KeyError> {
    let pair = Ed25519KeyPair::generate().map_err(failed("Ed25519"))?;
    let seed = pair.seed().map_err(failed("Ed25519"))?;
    let d = seed.as_be_bytes().map_err(failed("Ed25519"))?;
    Ok(jwk_of([
        ("kty", Value::from("OKP")),
        ("crv", Value::from("Ed25519")),
        ("x", b64(pair.public_key().as_ref())),
        ("d", b64(d.as_ref())),
    ]))
}

/// An RSA key from aws-lc-rs, its members read from the PKCS#8 / PKCS#1 DER it exports.
fn generate_rsa() -> Result<Jwk, KeyError> {
    let pair = aws_lc_rs::rsa::KeyPair::generate(RSA_SIZE).map_err(failed("RSA"))?;
    let der = pair.as_der().map_err(failed("RSA"))?;
    let unreadable = || KeyError::new("key generation failed: RSA DER unreadable");
    let info = pkcs8::PrivateKeyInfo::try_from(der.as_ref()).map_err(|_| unreadable())?;
    let key = pkcs1::RsaPrivateKey::try_from(info.private_key).map_err(|_| unreadable())?;
    Ok(jwk_of([
        ("kty", Value::from("RSA")),
        ("n", b64(key.modulus.as_bytes())),
        ("e", b64(key.public_exponent.as_bytes())),
        ("d", b64(key.private_exponent.as_bytes())),
        ("p", b64(key.prime1.as_bytes())),
        ("q", b64(key.prime2.as_bytes())),
        ("dp", b64(key.exponent1.as_bytes())),
        ("dq", b64(key.exponent2.as_bytes())),
        ("qi", b64(key.coefficient.as_bytes())),
    ]))
}

/// A fresh private signing key for `alg`, with `kid` (its thumbprint), `use` and `alg` set.
pub fn generate_signing_key(alg: SigningAlg) -> Result<Jwk, KeyError> {
    let mut jwk = match alg {
        SigningAlg::ES256 => generate_ec(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, "P-256"),
        SigningAlg::ES384 => generate_ec(&signature::ECDSA_P384_SHA384_FIXED_SIGNING, "P-384"),
        SigningAlg::RS256 | SigningAlg::PS256 => generate_rsa(),
        SigningAlg::EdDSA => generate_ed25519(),
    }?;
    label(&mut jwk, "sig", alg.as_str())?;
    Ok(jwk)
}

/// A fresh private key that clients encrypt to (published with `use: enc`).
pub fn generate_encryption_key(alg: KeyManagementAlg) -> Result<Jwk, KeyError> {
    let mut jwk = match alg {
        KeyManagementAlg::RsaOaep256 => generate_rsa(),
        KeyManagementAlg::EcdhEsA256Kw => {
            generate_ec(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, "P-256")
        }
    }?;
    label(&mut jwk, "enc", alg.as_str())?;
    Ok(jwk)
}

/// A fresh 256-bit symmetric key for tokens the issuer encrypts to itself (JWE `dir`, A256GCM).
pub fn generate_secret_key() -> Result<Jwk, KeyError> {
    let mut k = [0u8; 32];
    aws_lc_rs::rand::fill(&mut k).map_err(failed("random"))?;
    let mut jwk = jwk_of([("kty", Value::from("oct")), ("k", b64(&k))]);
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
