//! Compact JWS signing over key pairs parsed once. This is the token hot path: the header is
//! encoded once per key and token type, so a token costs one JSON serialization, two base64
//! encodings and one signature.

use super::{Jwk, KeyError, SigningAlg};
use crate::oauth::TokenKind;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Serialize;

enum KeyPairKind {
    Ecdsa(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
    Rsa(RsaKeyPair, &'static dyn signature::RsaEncoding),
}

/// A private signing key ready to sign: parsed once, shared by every worker.
pub struct JwsSigner {
    kid: String,
    alg: SigningAlg,
    key: KeyPairKind,
    /// The public half, parsed once, for verifying tokens this key signed.
    verifier: signature::ParsedPublicKey,
    rng: SystemRandom,
    /// base64url of the protected header of each signed token kind (`TokenKind::SIGNED`).
    headers: [String; TokenKind::SIGNED.len()],
}

impl std::fmt::Debug for JwsSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwsSigner")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct Header<'a> {
    alg: &'a str,
    typ: &'a str,
    kid: &'a str,
}

impl JwsSigner {
    /// Parse a private JWK whose `alg` is `alg`. The key type must fit the algorithm.
    pub fn from_jwk(jwk: &Jwk, alg: SigningAlg) -> Result<Self, KeyError> {
        let kid = jwk
            .key_id()
            .ok_or_else(|| KeyError::new("the key has no kid"))?
            .to_owned();
        let rejected = |err: aws_lc_rs::error::KeyRejected| {
            KeyError::new(format!("the key does not fit {alg}: {err}"))
        };
        // The public point stated with an EC key must be the private scalar's.
        let ec_pair = |signing: &'static signature::EcdsaSigningAlgorithm| {
            let point = [&[4u8][..], &jwk.bytes("x")?, &jwk.bytes("y")?].concat();
            EcdsaKeyPair::from_private_key_and_public_key(signing, &jwk.bytes("d")?, &point)
                .map_err(rejected)
        };
        let rsa_pair = || {
            tessera_verifier::jwe::rsa_key_pair(jwk.as_ref())
                .map_err(|err| KeyError::new(format!("the key does not fit {alg}: {err}")))
        };
        let curve = jwk.curve().unwrap_or_default();
        let key = match (alg, jwk.key_type(), curve) {
            (SigningAlg::ES256, "EC", "P-256") => {
                KeyPairKind::Ecdsa(ec_pair(&signature::ECDSA_P256_SHA256_FIXED_SIGNING)?)
            }
            (SigningAlg::ES384, "EC", "P-384") => {
                KeyPairKind::Ecdsa(ec_pair(&signature::ECDSA_P384_SHA384_FIXED_SIGNING)?)
            }
            (SigningAlg::EdDSA, "OKP", "Ed25519") => KeyPairKind::Ed25519(
                Ed25519KeyPair::from_seed_and_public_key(&jwk.bytes("d")?, &jwk.bytes("x")?)
                    .map_err(rejected)?,
            ),
            (SigningAlg::RS256, "RSA", _) => {
                KeyPairKind::Rsa(rsa_pair()?, &signature::RSA_PKCS1_SHA256)
            }
            (SigningAlg::PS256, "RSA", _) => {
                KeyPairKind::Rsa(rsa_pair()?, &signature::RSA_PSS_SHA256)
            }
            (alg, kty, _) => {
                return Err(KeyError::new(format!(
                    "a {kty} {curve} key cannot sign {alg}"
                )))
            }
        };
        if let KeyPairKind::Rsa(pair, _) = &key {
            if pair.public_modulus_len() < 256 {
                return Err(KeyError::new("RSA keys must be at least 2048 bits"));
            }
        }
        let header = |kind: TokenKind| {
            let json = serde_json::to_vec(&Header {
                alg: alg.as_str(),
                typ: kind.typ(),
                kid: &kid,
            })
            .expect("a header of strings serializes");
            URL_SAFE_NO_PAD.encode(json)
        };
        let verification: &'static dyn signature::VerificationAlgorithm = match alg {
            SigningAlg::ES256 => &signature::ECDSA_P256_SHA256_FIXED,
            SigningAlg::ES384 => &signature::ECDSA_P384_SHA384_FIXED,
            SigningAlg::EdDSA => &signature::ED25519,
            SigningAlg::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
            SigningAlg::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
        };
        let public_key = match &key {
            KeyPairKind::Ecdsa(pair) => pair.public_key().as_ref().to_vec(),
            KeyPairKind::Ed25519(pair) => pair.public_key().as_ref().to_vec(),
            KeyPairKind::Rsa(pair, _) => pair.public_key().as_ref().to_vec(),
        };
        Ok(Self {
            verifier: signature::ParsedPublicKey::new(verification, public_key)
                .map_err(rejected)?,
            headers: TokenKind::SIGNED.map(header),
            kid,
            alg,
            key,
            rng: SystemRandom::new(),
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn alg(&self) -> SigningAlg {
        self.alg
    }

    /// Signs `claims` as a compact JWS with this key's `alg` and `kid` and the kind's `typ`.
    pub fn sign(&self, kind: TokenKind, claims: &impl Serialize) -> Result<String, KeyError> {
        let payload = serde_json::to_vec(claims)
            .map_err(|err| KeyError::new(format!("claims do not serialize: {err}")))?;
        self.sign_payload(kind, &payload)
    }

    /// Signs `payload`, claims already serialized as JSON, as `sign` does.
    pub fn sign_payload(&self, kind: TokenKind, payload: &[u8]) -> Result<String, KeyError> {
        let header = kind
            .signed_index()
            .map(|index| &self.headers[index])
            .ok_or_else(|| KeyError::new(format!("{kind:?} tokens are not signed")))?;
        // Header, payload and signature (at most 512 bytes: RSA-4096) base64url, two dots.
        let capacity = header.len() + 2 + (payload.len() + 512).div_ceil(3) * 4;
        let mut token = String::with_capacity(capacity);
        token.push_str(header);
        token.push('.');
        BASE64URL.encode_append(payload, &mut token);
        let failed = |_| KeyError::new("signing failed");
        // The signature goes after the signing input it was made over, in the same buffer.
        let append = |token: &mut String, signature: &[u8]| {
            token.push('.');
            BASE64URL.encode_append(signature, token);
        };
        match &self.key {
            KeyPairKind::Ecdsa(pair) => {
                // Read where it was returned: aws-lc-rs' `Signature` is a 4.6 KB array, and
                // `?` on the result would copy it out first.
                let signed = pair.sign(&self.rng, token.as_bytes());
                let signature = signed.as_ref().map_err(|&err| failed(err))?;
                append(&mut token, signature.as_ref());
            }
            KeyPairKind::Ed25519(pair) => {
                let signature = pair.sign(token.as_bytes());
                append(&mut token, signature.as_ref());
            }
            KeyPairKind::Rsa(pair, encoding) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(*encoding, &self.rng, token.as_bytes(), &mut signature)
                    .map_err(failed)?;
                append(&mut token, &signature);
            }
        }
        Ok(token)
    }

    /// Whether `signature` over `message` was made by this key.
    pub fn verify_signature(&self, message: &[u8], signature: &[u8]) -> bool {
        self.verifier.verify_sig(message, signature).is_ok()
    }
}

/// base64url without padding, appended in place to a token's buffer (no zero-fill, no UTF-8
/// check after): `base64-simd`'s AVX2 encoder costs an ES256 access token's claims and
/// signature ~0.8k instructions (callgrind), the `base64` crate's scalar engine ~3.1k.
const BASE64URL: base64_simd::Base64 = base64_simd::URL_SAFE_NO_PAD;

/// Largest compact JWS Tessera will parse.
pub const MAX_JWS_LEN: usize = 16 * 1024;

/// The protected header members Tessera reads.
#[derive(Debug, serde::Deserialize)]
pub struct JwsHeader {
    pub alg: String,
    pub kid: Option<String>,
    pub typ: Option<String>,
    /// Any critical extension makes the token unusable: none is understood.
    pub crit: Option<serde_json::Value>,
}

/// A compact JWS split into its parts; nothing verified yet.
#[derive(Debug)]
pub struct CompactJws<'a> {
    pub header: JwsHeader,
    pub signing_input: &'a str,
    pub payload: Vec<u8>,
    pub signature: Vec<u8>,
}

impl<'a> CompactJws<'a> {
    /// Splits and decodes `token`; `None` when it is not a well-formed compact JWS.
    pub fn parse(token: &'a str) -> Option<CompactJws<'a>> {
        if token.len() > MAX_JWS_LEN {
            return None;
        }
        let (signing_input, signature) = token.rsplit_once('.')?;
        let (header, payload) = signing_input.split_once('.')?;
        if payload.contains('.') {
            return None;
        }
        let header: JwsHeader =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
        Some(CompactJws {
            header,
            signing_input,
            payload: URL_SAFE_NO_PAD.decode(payload).ok()?,
            signature: URL_SAFE_NO_PAD.decode(signature).ok()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::generate_signing_key;
    use strum::IntoEnumIterator;

    #[test]
    fn every_algorithm_loads_and_signs() {
        for alg in SigningAlg::iter() {
            let jwk = generate_signing_key(alg).unwrap();
            let signer = JwsSigner::from_jwk(&jwk, alg).unwrap();
            let token = signer
                .sign(TokenKind::Access, &serde_json::json!({"sub": "x"}))
                .unwrap();
            assert_eq!(token.split('.').count(), 3, "{alg}");
        }
    }

    /// The SIMD base64url of the payload and of the signature is what the `base64` crate (and
    /// so every parser of ours) writes and reads, for payloads of every length modulo the
    /// encoder's blocks, and the signature over the signing input written in place verifies.
    #[test]
    fn a_signed_token_is_encoded_as_the_base64_crate_encodes_it() {
        for alg in SigningAlg::iter() {
            let jwk = generate_signing_key(alg).unwrap();
            let signer = JwsSigner::from_jwk(&jwk, alg).unwrap();
            for len in (0..100).chain([255, 256, 257, 600, 1500]) {
                let payload: Vec<u8> = (0..len).map(|i| (i * 37 + len) as u8).collect();
                let token = signer.sign_payload(TokenKind::Access, &payload).unwrap();
                let parts: Vec<&str> = token.split('.').collect();
                assert_eq!(parts.len(), 3, "{alg} {len}");
                let header = &signer.headers[TokenKind::Access.signed_index().unwrap()];
                assert_eq!(parts[0], header, "{alg} {len}");
                assert_eq!(parts[1], URL_SAFE_NO_PAD.encode(&payload), "{alg} {len}");
                let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
                assert_eq!(parts[2], URL_SAFE_NO_PAD.encode(&signature), "{alg} {len}");
                let jws = CompactJws::parse(&token).unwrap();
                assert_eq!(jws.payload, payload, "{alg} {len}");
                assert!(
                    signer.verify_signature(jws.signing_input.as_bytes(), &signature),
                    "{alg} {len}"
                );
            }
        }
    }

    #[test]
    fn a_key_of_the_wrong_type_is_refused() {
        let ec = generate_signing_key(SigningAlg::ES256).unwrap();
        assert!(JwsSigner::from_jwk(&ec, SigningAlg::RS256).is_err());
        assert!(JwsSigner::from_jwk(&ec, SigningAlg::ES384).is_err());
        let rsa = generate_signing_key(SigningAlg::RS256).unwrap();
        assert!(JwsSigner::from_jwk(&rsa, SigningAlg::EdDSA).is_err());
    }

    /// Keys generated here are the keys josekit reads (RSA with its CRT members, EC and
    /// Ed25519 with their public points), and keys josekit generated load and sign here.
    #[test]
    fn keys_cross_between_aws_lc_and_josekit() {
        use josekit::jws::{JwsHeader, JwsVerifier};
        for alg in SigningAlg::iter() {
            let ours = generate_signing_key(alg).unwrap();
            let theirs = josekit::jwk::Jwk::from_bytes(ours.to_string()).unwrap();
            let header = {
                let mut header = JwsHeader::new();
                header.set_key_id(ours.key_id().unwrap());
                header
            };
            let signer: Box<dyn josekit::jws::JwsSigner> = match alg {
                SigningAlg::ES256 => {
                    Box::new(josekit::jws::ES256.signer_from_jwk(&theirs).unwrap())
                }
                SigningAlg::ES384 => {
                    Box::new(josekit::jws::ES384.signer_from_jwk(&theirs).unwrap())
                }
                SigningAlg::RS256 => {
                    Box::new(josekit::jws::RS256.signer_from_jwk(&theirs).unwrap())
                }
                SigningAlg::PS256 => {
                    Box::new(josekit::jws::PS256.signer_from_jwk(&theirs).unwrap())
                }
                SigningAlg::EdDSA => {
                    Box::new(josekit::jws::EdDSA.signer_from_jwk(&theirs).unwrap())
                }
            };
            let token = josekit::jws::serialize_compact(b"{}", &header, signer.as_ref()).unwrap();
            let jws = CompactJws::parse(&token).unwrap();
            let ours = JwsSigner::from_jwk(&ours, alg).unwrap();
            assert!(
                ours.verify_signature(jws.signing_input.as_bytes(), &jws.signature),
                "{alg}: josekit's signature with a key generated here"
            );

            // The other way: a josekit key, labelled as Tessera's, signs here.
            let mut generated = match alg {
                SigningAlg::ES256 => {
                    josekit::jwk::Jwk::generate_ec_key(josekit::jwk::alg::ec::EcCurve::P256)
                }
                SigningAlg::ES384 => {
                    josekit::jwk::Jwk::generate_ec_key(josekit::jwk::alg::ec::EcCurve::P384)
                }
                SigningAlg::RS256 | SigningAlg::PS256 => josekit::jwk::Jwk::generate_rsa_key(2048),
                SigningAlg::EdDSA => {
                    josekit::jwk::Jwk::generate_ed_key(josekit::jwk::alg::ed::EdCurve::Ed25519)
                }
            }
            .unwrap();
            generated.set_key_id("k");
            let jwk = Jwk::from_bytes(generated.to_string()).unwrap();
            let signed = JwsSigner::from_jwk(&jwk, alg)
                .unwrap()
                .sign(TokenKind::Access, &serde_json::json!({"sub": "x"}))
                .unwrap();
            let public = generated.to_public_key().unwrap();
            let verifier: Box<dyn JwsVerifier> = match alg {
                SigningAlg::ES256 => {
                    Box::new(josekit::jws::ES256.verifier_from_jwk(&public).unwrap())
                }
                SigningAlg::ES384 => {
                    Box::new(josekit::jws::ES384.verifier_from_jwk(&public).unwrap())
                }
                SigningAlg::RS256 => {
                    Box::new(josekit::jws::RS256.verifier_from_jwk(&public).unwrap())
                }
                SigningAlg::PS256 => {
                    Box::new(josekit::jws::PS256.verifier_from_jwk(&public).unwrap())
                }
                SigningAlg::EdDSA => {
                    Box::new(josekit::jws::EdDSA.verifier_from_jwk(&public).unwrap())
                }
            };
            assert!(
                josekit::jws::deserialize_compact(&signed, verifier.as_ref()).is_ok(),
                "{alg}: josekit verifies what a josekit key signed here"
            );
        }
    }
}
