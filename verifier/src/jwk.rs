//! Public JWKs parsed once into aws-lc-rs public keys, ready for any number of verifications.
//!
//! A key is used only for what it says it is for: `use` other than `sig`, `key_ops` without
//! `verify`, or an `alg` member naming another algorithm keep it out of a verification. Private
//! and symmetric members are never read: a key that carries them is skipped, so a JWK Set can
//! never turn into an HMAC secret.

use crate::alg::Algorithm;
use crate::Error;
use aws_lc_rs::signature::{self, ParsedPublicKey, RsaPublicKeyComponents};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;

/// Members that only a private or symmetric JWK has (`RawJwk` reads each of them).
pub(crate) const PRIVATE_MEMBERS: [&str; 7] = ["d", "p", "q", "dp", "dq", "qi", "k"];

/// Smallest RSA modulus accepted, in bytes (2048 bits).
const MIN_RSA_MODULUS_LEN: usize = 256;

/// The public key's own numbers, for comparing it with a key found elsewhere (the public key
/// of a client certificate, RFC 8705 `self_signed_tls_client_auth`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKeyMaterial {
    /// An uncompressed point: `0x04 || x || y`.
    Ec { point: Vec<u8> },
    /// The 32-byte public key.
    Ed25519 { x: Vec<u8> },
    /// Modulus and exponent, big-endian, without leading zeros.
    Rsa { n: Vec<u8>, e: Vec<u8> },
}

/// One public key, parsed for each algorithm it may verify.
pub struct VerifyingKey {
    kid: Option<String>,
    public: PublicKeyMaterial,
    /// RSA keys without an `alg` member verify both RS256 and PS256, so each is parsed once.
    parsed: Vec<(Algorithm, ParsedPublicKey)>,
}

impl std::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("kid", &self.kid)
            .field(
                "algorithms",
                &self.parsed.iter().map(|(alg, _)| *alg).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl VerifyingKey {
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The key's numbers.
    pub fn public_key(&self) -> &PublicKeyMaterial {
        &self.public
    }

    /// The algorithms this key may verify.
    pub fn algorithms(&self) -> impl Iterator<Item = Algorithm> + '_ {
        self.parsed.iter().map(|(alg, _)| *alg)
    }

    pub(crate) fn for_alg(&self, alg: Algorithm) -> Option<&ParsedPublicKey> {
        self.parsed
            .iter()
            .find(|(fits, _)| *fits == alg)
            .map(|(_, key)| key)
    }

    /// Parses one JWK (a JSON object). `Ok(None)`: a well-formed key that is not for verifying
    /// signatures (an encryption key, a private or symmetric key, an unknown curve).
    pub fn from_jwk(
        jwk: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Option<Self>, Error> {
        let raw = RawJwk::from_map(jwk)?;
        if raw.has_private_members() {
            return Ok(None);
        }
        Self::from_raw(&raw)
    }

    /// Parses the members of one public JWK (private members are the caller's to refuse).
    pub(crate) fn from_raw(raw: &RawJwk<'_>) -> Result<Option<Self>, Error> {
        if raw.key_use.is_some_and(|key_use| key_use != "sig")
            || raw
                .key_ops
                .as_ref()
                .is_some_and(|ops| !ops.contains(&"verify"))
        {
            return Ok(None);
        }
        let declared = match raw.alg {
            None => None,
            Some(name) => match name.parse::<Algorithm>() {
                Ok(alg) if !alg.is_hmac() => Some(alg),
                // An encryption algorithm, HMAC or something unknown: not a signature key.
                _ => return Ok(None),
            },
        };
        let candidates: &[Algorithm] = match (raw.kty, raw.crv) {
            ("EC", Some("P-256")) => &[Algorithm::ES256],
            ("EC", Some("P-384")) => &[Algorithm::ES384],
            ("OKP", Some("Ed25519")) => &[Algorithm::EdDSA],
            ("RSA", _) => &[Algorithm::RS256, Algorithm::PS256],
            _ => return Ok(None),
        };
        let algorithms: Vec<Algorithm> = candidates
            .iter()
            .copied()
            .filter(|alg| declared.is_none_or(|declared| declared == *alg))
            .collect();
        if algorithms.is_empty() {
            // `alg` names an algorithm this key type cannot verify: a broken key, not a skip.
            return Err(Error::Malformed("the JWK's alg does not fit its key type"));
        }
        // Each member decoded once, whatever the number of algorithms parsed from it.
        let public = match raw.kty {
            "EC" => {
                let (x, y) = (decode(&raw.x)?, decode(&raw.y)?);
                if x.len() != y.len() {
                    return Err(Error::Malformed(
                        "the EC key coordinates have the wrong size",
                    ));
                }
                let mut point = Vec::with_capacity(1 + x.len() + y.len());
                point.push(0x04);
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                PublicKeyMaterial::Ec { point }
            }
            "OKP" => PublicKeyMaterial::Ed25519 { x: decode(&raw.x)? },
            _ => PublicKeyMaterial::Rsa {
                n: strip_leading_zeros(&decode(&raw.n)?).to_vec(),
                e: strip_leading_zeros(&decode(&raw.e)?).to_vec(),
            },
        };
        let mut parsed = Vec::with_capacity(algorithms.len());
        for alg in algorithms {
            parsed.push((alg, parse_public_key(&public, alg)?));
        }
        Ok(Some(Self {
            kid: raw.kid.map(str::to_owned),
            public,
            parsed,
        }))
    }
}

/// The RFC 7638 JWK SHA-256 thumbprint, base64url: the hash of the key type's required members
/// (EC `crv kty x y`, OKP `crv kty x`, RSA `e kty n`) as JSON in lexicographic order without
/// whitespace, their values as the JWK spells them. A DPoP key's thumbprint is the `cnf.jkt` of
/// the tokens bound to it (RFC 9449 6.1).
///
/// ```
/// // RFC 7638 3.1's example key.
/// let jwk = serde_json::json!({
///     "kty": "RSA", "alg": "RS256", "kid": "2011-04-29", "e": "AQAB",
///     "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
/// });
/// let thumbprint = tessera_verifier::jwk_thumbprint(jwk.as_object().unwrap())?;
/// assert_eq!(thumbprint, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
/// # Ok::<(), tessera_verifier::Error>(())
/// ```
pub fn jwk_thumbprint(jwk: &serde_json::Map<String, serde_json::Value>) -> Result<String, Error> {
    thumbprint(|name| jwk.get(name).and_then(serde_json::Value::as_str))
}

/// The thumbprint of the JWK whose string members `member` gives.
fn thumbprint<'m>(member: impl Fn(&str) -> Option<&'m str>) -> Result<String, Error> {
    let member = |name: &str| {
        member(name).ok_or(Error::Malformed("a JWK member is missing or not a string"))
    };
    let kty = member("kty")?;
    let required: &[&str] = match kty {
        "EC" => &["crv", "kty", "x", "y"],
        "OKP" => &["crv", "kty", "x"],
        "RSA" => &["e", "kty", "n"],
        _ => {
            return Err(Error::Malformed(
                "the JWK's key type has no thumbprint here",
            ))
        }
    };
    let mut canonical = Vec::with_capacity(256);
    canonical.push(b'{');
    for (index, name) in required.iter().enumerate() {
        if index > 0 {
            canonical.push(b',');
        }
        canonical.push(b'"');
        canonical.extend_from_slice(name.as_bytes());
        canonical.extend_from_slice(b"\":");
        // The value as JSON, escaped as serde_json escapes it (members are base64url or names:
        // in practice nothing to escape).
        serde_json::to_writer(&mut canonical, member(name)?)
            .map_err(|_| Error::Malformed("a JWK member is missing or not a string"))?;
    }
    canonical.push(b'}');
    Ok(URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        &canonical,
    )))
}

/// The members of a JWK this crate reads, borrowed from its JSON object or its JSON text, and
/// whether it has private or symmetric members.
#[derive(Deserialize)]
pub(crate) struct RawJwk<'a> {
    kty: &'a str,
    #[serde(borrow)]
    kid: Option<&'a str>,
    #[serde(rename = "use", borrow)]
    key_use: Option<&'a str>,
    #[serde(borrow)]
    key_ops: Option<Vec<&'a str>>,
    #[serde(borrow)]
    alg: Option<&'a str>,
    #[serde(borrow)]
    crv: Option<&'a str>,
    #[serde(borrow)]
    x: Option<&'a str>,
    #[serde(borrow)]
    y: Option<&'a str>,
    #[serde(borrow)]
    n: Option<&'a str>,
    #[serde(borrow)]
    e: Option<&'a str>,
    /// The `PRIVATE_MEMBERS`, present whatever their value (`null` included).
    #[serde(default, deserialize_with = "present")]
    d: bool,
    #[serde(default, deserialize_with = "present")]
    p: bool,
    #[serde(default, deserialize_with = "present")]
    q: bool,
    #[serde(default, deserialize_with = "present")]
    dp: bool,
    #[serde(default, deserialize_with = "present")]
    dq: bool,
    #[serde(default, deserialize_with = "present")]
    qi: bool,
    #[serde(default, deserialize_with = "present")]
    k: bool,
}

fn present<'de, D: serde::Deserializer<'de>>(member: D) -> Result<bool, D::Error> {
    serde::de::IgnoredAny::deserialize(member).map(|_| true)
}

impl<'a> RawJwk<'a> {
    /// The members read from a JSON object, by the same derived reading as from text: each a
    /// string when present (`key_ops` an array of strings), anything else is no JWK.
    fn from_map(jwk: &'a serde_json::Map<String, serde_json::Value>) -> Result<Self, Error> {
        Self::deserialize(jwk).map_err(|_| Error::Malformed("not a JWK"))
    }

    /// Whether any of `PRIVATE_MEMBERS` is there: a private or symmetric key.
    pub(crate) fn has_private_members(&self) -> bool {
        self.d || self.p || self.q || self.dp || self.dq || self.qi || self.k
    }

    /// The RFC 7638 thumbprint ([`jwk_thumbprint`]) of these members.
    pub(crate) fn thumbprint(&self) -> Result<String, Error> {
        thumbprint(|name| match name {
            "kty" => Some(self.kty),
            "crv" => self.crv,
            "x" => self.x,
            "y" => self.y,
            "n" => self.n,
            "e" => self.e,
            _ => None,
        })
    }
}

fn decode(member: &Option<&str>) -> Result<Vec<u8>, Error> {
    member
        .and_then(|value| URL_SAFE_NO_PAD.decode(value).ok())
        .ok_or(Error::Malformed("a JWK member is missing or not base64url"))
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

fn parse_public_key(public: &PublicKeyMaterial, alg: Algorithm) -> Result<ParsedPublicKey, Error> {
    let rejected = |_| Error::Malformed("the JWK is not a valid public key");
    let ec_point = |size: usize| -> Result<&[u8], Error> {
        match public {
            PublicKeyMaterial::Ec { point } if point.len() == 1 + 2 * size => Ok(point),
            _ => Err(Error::Malformed(
                "the EC key coordinates have the wrong size",
            )),
        }
    };
    match (alg, public) {
        (Algorithm::ES256, _) => {
            ParsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, ec_point(32)?)
                .map_err(rejected)
        }
        (Algorithm::ES384, _) => {
            ParsedPublicKey::new(&signature::ECDSA_P384_SHA384_FIXED, ec_point(48)?)
                .map_err(rejected)
        }
        (Algorithm::EdDSA, PublicKeyMaterial::Ed25519 { x }) => {
            if x.len() != 32 {
                return Err(Error::Malformed("the Ed25519 key has the wrong size"));
            }
            ParsedPublicKey::new(&signature::ED25519, x).map_err(rejected)
        }
        (Algorithm::RS256 | Algorithm::PS256, PublicKeyMaterial::Rsa { n, e }) => {
            // Leading zeros are stripped already.
            let components = RsaPublicKeyComponents {
                n: n.as_slice(),
                e: e.as_slice(),
            };
            if components.n.len() < MIN_RSA_MODULUS_LEN {
                return Err(Error::Malformed("RSA keys must have at least 2048 bits"));
            }
            let params = if alg == Algorithm::RS256 {
                &signature::RSA_PKCS1_2048_8192_SHA256
            } else {
                &signature::RSA_PSS_2048_8192_SHA256
            };
            components.to_parsed_public_key(params).map_err(rejected)
        }
        (Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512, _) => {
            Err(Error::AlgorithmNotAllowed)
        }
        // The candidates follow the key type: nothing else comes here.
        _ => Err(Error::Malformed("the JWK is not a valid public key")),
    }
}

/// What a key set holds for a header's `kid` and `alg`.
#[derive(Debug)]
pub(crate) enum Selection<'a> {
    Found(&'a ParsedPublicKey),
    /// Nothing under that kid (or, without a kid, no key of that algorithm): the issuer may have
    /// rotated, so a refetch may help.
    Absent,
    /// Keys exist but none fits (the kid names a key of another algorithm), or several keys
    /// fit a header without a kid: refetching would not help.
    Unusable,
}

/// A JWK Set parsed once: the keys that can verify signatures.
///
/// ```
/// use tessera_verifier::KeySet;
/// let jwks = r#"{"keys": [
///   {"kty": "OKP", "crv": "Ed25519", "kid": "k1", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
///   {"kty": "EC", "crv": "P-256", "use": "enc", "kid": "e1",
///    "x": "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4", "y": "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"}
/// ]}"#;
/// let set = KeySet::from_json(jwks.as_bytes())?;
/// assert_eq!(set.len(), 1); // the encryption key is not for verifying
/// assert_eq!(set.keys().next().unwrap().kid(), Some("k1"));
/// # Ok::<(), tessera_verifier::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct KeySet {
    keys: Vec<VerifyingKey>,
}

impl KeySet {
    /// Parses a JWK Set document (`{"keys": [...]}`). Keys that are not for verifying
    /// signatures are left out, and so are broken ones (a short RSA modulus, a point off the
    /// curve), with a warning naming their kid: one bad key must not take the issuer's other
    /// keys down with it.
    pub fn from_json(document: &[u8]) -> Result<Self, Error> {
        #[derive(Deserialize)]
        struct Document {
            keys: Vec<serde_json::Map<String, serde_json::Value>>,
        }
        let document: Document =
            serde_json::from_slice(document).map_err(|_| Error::Malformed("not a JWK Set"))?;
        Ok(Self::from_jwks(&document.keys))
    }

    /// Builds a set from JWK objects.
    pub fn from_jwks(jwks: &[serde_json::Map<String, serde_json::Value>]) -> Self {
        let mut keys = Vec::with_capacity(jwks.len());
        for jwk in jwks {
            match VerifyingKey::from_jwk(jwk) {
                Ok(Some(key)) => keys.push(key),
                Ok(None) => {}
                Err(err) => tracing::warn!(
                    kid = jwk
                        .get("kid")
                        .and_then(serde_json::Value::as_str)
                        .unwrap_or(""),
                    "a JWK is left out of the key set: {err}"
                ),
            }
        }
        Self { keys }
    }

    /// A set of one key: the key a JWT carries itself (a DPoP proof's `jwk` header), parsed by
    /// the caller once it decided to trust that key for that JWT.
    pub fn single(key: VerifyingKey) -> Self {
        Self { keys: vec![key] }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn keys(&self) -> impl Iterator<Item = &VerifyingKey> {
        self.keys.iter()
    }

    /// Whether a key with this `kid` is in the set.
    pub fn contains_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|key| key.kid() == Some(kid))
    }

    /// The key for a header: the one `kid` names, or without a kid the only key that fits `alg`.
    pub(crate) fn select(&self, kid: Option<&str>, alg: Algorithm) -> Selection<'_> {
        match kid {
            Some(kid) => {
                let mut named = self
                    .keys
                    .iter()
                    .filter(|key| key.kid() == Some(kid))
                    .peekable();
                if named.peek().is_none() {
                    return Selection::Absent;
                }
                named
                    .find_map(|key| key.for_alg(alg))
                    .map_or(Selection::Unusable, Selection::Found)
            }
            None => {
                let mut fitting = self.keys.iter().filter_map(|key| key.for_alg(alg));
                match (fitting.next(), fitting.next()) {
                    (Some(only), None) => Selection::Found(only),
                    (None, _) => Selection::Absent,
                    (Some(_), Some(_)) => Selection::Unusable,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A DPoP proof's `jwk` is read from its text straight into its members; a JWK Set's from
    /// its JSON object: both readings agree on the key, its thumbprint and its private members.
    #[test]
    fn members_read_from_text_or_from_an_object_agree() {
        let ec = json!({"kty": "EC", "crv": "P-256", "kid": "k",
            "x": "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4",
            "y": "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"});
        let ed = json!({"kty": "OKP", "crv": "Ed25519", "key_ops": ["verify"],
            "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"});
        let with_null_d = json!({"kty": "OKP", "crv": "Ed25519", "d": null,
            "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"});
        let for_encryption = json!({"kty": "OKP", "crv": "Ed25519", "key_ops": ["encrypt"],
            "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"});
        for jwk in [ec, ed, with_null_d, for_encryption] {
            let text = jwk.to_string();
            let object = jwk.as_object().unwrap();
            let from_text: RawJwk<'_> = serde_json::from_str(&text).unwrap();
            let from_object = RawJwk::from_map(object).unwrap();
            assert_eq!(
                from_text.has_private_members(),
                from_object.has_private_members(),
                "{text}"
            );
            assert_eq!(
                from_text.thumbprint().unwrap(),
                jwk_thumbprint(object).unwrap(),
                "{text}"
            );
            let key = |raw: &RawJwk<'_>| {
                VerifyingKey::from_raw(raw).unwrap().map(|key| {
                    (
                        key.public_key().clone(),
                        key.algorithms().collect::<Vec<_>>(),
                    )
                })
            };
            assert_eq!(key(&from_text), key(&from_object), "{text}");
        }
        // A private member, whatever its value, is seen either way.
        let null_d: RawJwk<'_> =
            serde_json::from_str(r#"{"kty": "OKP", "crv": "Ed25519", "d": null}"#).unwrap();
        assert!(null_d.has_private_members());
        // A member of another type than the JWK's is no JWK, from an object as from text.
        for bad in [
            json!({"kty": "OKP", "crv": "Ed25519", "kid": 5}),
            json!({"kty": "OKP", "crv": "Ed25519", "key_ops": "verify"}),
            json!({"kty": "OKP", "crv": "Ed25519", "key_ops": ["verify", 1]}),
            json!({"crv": "Ed25519"}),
        ] {
            assert!(RawJwk::from_map(bad.as_object().unwrap()).is_err(), "{bad}");
            assert!(
                serde_json::from_str::<RawJwk<'_>>(&bad.to_string()).is_err(),
                "{bad}"
            );
        }
        // What the text reading cannot borrow (an escape) is no JWK to it: the caller reads the
        // object instead.
        assert!(serde_json::from_str::<RawJwk<'_>>(r#"{"kty": "E\u0043"}"#).is_err());
    }
}
