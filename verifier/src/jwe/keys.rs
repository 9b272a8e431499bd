//! Key management (RFC 7518 4): RSA-OAEP-256 and ECDH-ES+A256KW, both ways, over keys parsed
//! once from JWKs, and `dir` for a shared symmetric key.

use super::content::{ContentEncryption, CEK_LEN};
use super::{Jwe, Protected};
use crate::Error;
use aws_lc_rs::agreement::{self, UnparsedPublicKey};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::error::Unspecified;
use aws_lc_rs::kdf::{get_sskdf_digest_algorithm, sskdf_digest, SskdfDigestAlgorithmId};
use aws_lc_rs::key_wrap::{AesKek, KeyWrap, AES_256};
use aws_lc_rs::rand;
use aws_lc_rs::rsa::{
    self, OaepPrivateDecryptingKey, OaepPublicEncryptingKey, PrivateDecryptingKey,
    PublicEncryptingKey, OAEP_SHA256_MGF1SHA256,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{Map, Value};
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

    pub fn from_name(name: &str) -> Option<Self> {
        [KeyManagementAlg::RsaOaep256, KeyManagementAlg::EcdhEsA256Kw]
            .into_iter()
            .find(|alg| alg.as_str() == name)
    }
}

/// An AES key wrap of a 256-bit content key (RFC 3394): the key and one 64-bit block.
const WRAPPED_LEN: usize = CEK_LEN + 8;

/// The NIST curves ECDH-ES works over, as JWKs name them.
struct Curve {
    crv: &'static str,
    agreement: &'static agreement::Algorithm,
    /// Bytes of a coordinate and of a private scalar.
    len: usize,
}

const CURVES: [Curve; 3] = [
    Curve {
        crv: "P-256",
        agreement: &agreement::ECDH_P256,
        len: 32,
    },
    Curve {
        crv: "P-384",
        agreement: &agreement::ECDH_P384,
        len: 48,
    },
    Curve {
        crv: "P-521",
        agreement: &agreement::ECDH_P521,
        len: 66,
    },
];

fn curve(crv: Option<&str>) -> Option<&'static Curve> {
    CURVES.iter().find(|curve| Some(curve.crv) == crv)
}

/// The bytes of a base64url JWK member.
fn member(jwk: &Map<String, Value>, name: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD
        .decode(jwk.get(name)?.as_str()?)
        .ok()
        .filter(|bytes| !bytes.is_empty())
}

/// An unsigned big-endian integer member without its leading zero bytes (some encoders keep
/// one; aws-lc-rs wants the public components minimal).
fn integer(jwk: &Map<String, Value>, name: &str) -> Option<Vec<u8>> {
    let bytes = member(jwk, name)?;
    let start = bytes.iter().position(|&byte| byte != 0)?;
    Some(bytes[start..].to_vec())
}

/// The uncompressed SEC 1 point of an EC JWK's (or an `epk`'s) coordinates.
fn ec_point(curve: &Curve, x: &[u8], y: &[u8]) -> Option<Vec<u8>> {
    (x.len() == curve.len && y.len() == curve.len).then(|| [&[4u8][..], x, y].concat())
}

/// The uncompressed SEC 1 point of an EC JWK's `x` and `y`.
fn jwk_point(jwk: &Map<String, Value>, curve: &Curve) -> Option<Vec<u8>> {
    ec_point(curve, &member(jwk, "x")?, &member(jwk, "y")?)
}

/// An RSA private JWK (RFC 7518 6.3.2, two primes) as an aws-lc-rs key pair, its components
/// checked for consistency. Shared with the issuer, whose RSA signing keys are such JWKs.
pub fn rsa_key_pair(jwk: &Map<String, Value>) -> Result<rsa::KeyPair, Error> {
    let missing = Error::Malformed("an RSA private JWK needs n, e, d, p, q, dp, dq and qi");
    if jwk.contains_key("oth") {
        return Err(Error::Malformed("multi-prime RSA keys are not supported"));
    }
    let get = |name| integer(jwk, name).ok_or(missing.clone());
    let components = rsa::KeyPairComponents {
        public_key: rsa::PublicKeyComponents {
            n: get("n")?,
            e: get("e")?,
        },
        d: get("d")?,
        p: get("p")?,
        q: get("q")?,
        dP: get("dp")?,
        dQ: get("dq")?,
        qInv: get("qi")?,
    };
    rsa::KeyPair::from_components(&components)
        .map_err(|_| Error::Malformed("the RSA JWK is not a consistent key of 2048 to 8192 bits"))
}

enum PrivateKey {
    Rsa(OaepPrivateDecryptingKey),
    Ec(agreement::PrivateKey, &'static Curve),
}

/// A private key JWEs are encrypted to, parsed once (building it is most of the cost of
/// decrypting); clones share it.
#[derive(Clone)]
pub struct DecryptionKey {
    kid: Option<String>,
    alg: KeyManagementAlg,
    key: Arc<PrivateKey>,
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
        let members: Map<String, Value> = serde_json::from_slice(jwk)
            .map_err(|_| Error::Malformed("the decryption key is not a JWK"))?;
        Self::from_jwk(&members, alg)
    }

    /// Parses a private JWK given as its members.
    pub fn from_jwk(jwk: &Map<String, Value>, alg: KeyManagementAlg) -> Result<Self, Error> {
        let unusable = Error::Malformed("the decryption JWK is not a usable private key");
        if jwk
            .get("alg")
            .and_then(Value::as_str)
            .is_some_and(|declared| declared != alg.as_str())
        {
            return Err(Error::Malformed(
                "the decryption JWK is for another algorithm",
            ));
        }
        let kty = jwk.get("kty").and_then(Value::as_str);
        let key = match (alg, kty) {
            (KeyManagementAlg::RsaOaep256, Some("RSA")) => {
                let pair = rsa_key_pair(jwk)?;
                let der = pair.as_der().map_err(|_| unusable.clone())?;
                let private =
                    PrivateDecryptingKey::from_pkcs8(der.as_ref()).map_err(|_| unusable.clone())?;
                PrivateKey::Rsa(OaepPrivateDecryptingKey::new(private).map_err(|_| unusable)?)
            }
            (KeyManagementAlg::EcdhEsA256Kw, Some("EC")) => {
                let curve = curve(jwk.get("crv").and_then(Value::as_str)).ok_or(
                    Error::Malformed("the decryption JWK's curve is not supported"),
                )?;
                let d = member(jwk, "d").ok_or(unusable.clone())?;
                let private = agreement::PrivateKey::from_private_key(curve.agreement, &d)
                    .map_err(|_| unusable.clone())?;
                // The stated public key must be this private key's.
                let stated = jwk_point(jwk, curve);
                let actual = private.compute_public_key().map_err(|_| unusable.clone())?;
                if stated.as_deref() != Some(actual.as_ref()) {
                    return Err(unusable);
                }
                PrivateKey::Ec(private, curve)
            }
            _ => {
                return Err(Error::Malformed(
                    "the decryption JWK's key type does not fit its algorithm",
                ))
            }
        };
        Ok(Self {
            kid: jwk.get("kid").and_then(Value::as_str).map(str::to_owned),
            alg,
            key: Arc::new(key),
        })
    }

    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    pub fn alg(&self) -> KeyManagementAlg {
        self.alg
    }

    /// Opens `jwe` if its `alg` is this key's and its `enc` one of `encs`.
    pub fn decrypt(&self, jwe: &Jwe<'_>, encs: &[ContentEncryption]) -> Result<Vec<u8>, Error> {
        let enc = ContentEncryption::from_name(&jwe.header.enc)
            .filter(|enc| encs.contains(enc))
            .ok_or(Error::AlgorithmNotAllowed)?;
        if jwe.header.alg != self.alg.as_str() {
            return Err(Error::AlgorithmNotAllowed);
        }
        // RFC 7516 11.5: a content key that does not unwrap goes on as a random one, so that
        // the answer and its timing are those of a bad tag, never an oracle on the key.
        let cek = self.unwrap_cek(jwe).unwrap_or_else(|_| {
            let mut random = [0u8; CEK_LEN];
            rand::fill(&mut random).map(|()| random).unwrap_or_default()
        });
        jwe.open(enc, &cek)
    }

    fn unwrap_cek(&self, jwe: &Jwe<'_>) -> Result<[u8; CEK_LEN], Unspecified> {
        let mut cek = [0u8; CEK_LEN];
        match self.key.as_ref() {
            PrivateKey::Rsa(key) => {
                if jwe.encrypted_key.len() != key.key_size_bytes() {
                    return Err(Unspecified);
                }
                let mut out = vec![0u8; key.min_output_size()];
                let plain =
                    key.decrypt(&OAEP_SHA256_MGF1SHA256, &jwe.encrypted_key, &mut out, None)?;
                if plain.len() != CEK_LEN {
                    return Err(Unspecified);
                }
                cek.copy_from_slice(plain);
            }
            PrivateKey::Ec(key, curve) => {
                let epk = jwe.header.epk.as_ref().ok_or(Unspecified)?;
                if epk.kty != "EC" || epk.crv != curve.crv || jwe.encrypted_key.len() != WRAPPED_LEN
                {
                    return Err(Unspecified);
                }
                let decode = |value: &str| URL_SAFE_NO_PAD.decode(value).map_err(|_| Unspecified);
                let point =
                    ec_point(curve, &decode(&epk.x)?, &decode(&epk.y)?).ok_or(Unspecified)?;
                let party =
                    |value: &Option<String>| value.as_deref().map_or(Ok(Vec::new()), decode);
                // aws-lc-rs refuses a point off the curve (the invalid-curve attack).
                let kek = agreement::agree(
                    key,
                    UnparsedPublicKey::new(curve.agreement, &point),
                    Unspecified,
                    |shared| a256kw_kek(shared, &party(&jwe.header.apu)?, &party(&jwe.header.apv)?),
                )?;
                let unwrapped =
                    AesKek::new(&AES_256, &kek)?.unwrap(&jwe.encrypted_key, &mut cek)?;
                if unwrapped.len() != CEK_LEN {
                    return Err(Unspecified);
                }
            }
        }
        Ok(cek)
    }
}

/// The Concat KDF of RFC 7518 4.6.2 (NIST SP 800-56A's single-step KDF with SHA-256): `out`
/// filled with the key `alg` uses (for ECDH-ES+A256KW, its 256-bit key-encryption key).
fn concat_kdf(
    shared: &[u8],
    alg: &str,
    apu: &[u8],
    apv: &[u8],
    out: &mut [u8],
) -> Result<(), Unspecified> {
    let mut info = Vec::with_capacity(alg.len() + apu.len() + apv.len() + 16);
    for part in [alg.as_bytes(), apu, apv] {
        let len = u32::try_from(part.len()).map_err(|_| Unspecified)?;
        info.extend_from_slice(&len.to_be_bytes());
        info.extend_from_slice(part);
    }
    // SuppPubInfo: keydatalen in bits.
    let bits = u32::try_from(out.len() * 8).map_err(|_| Unspecified)?;
    info.extend_from_slice(&bits.to_be_bytes());
    let digest = get_sskdf_digest_algorithm(SskdfDigestAlgorithmId::Sha256).ok_or(Unspecified)?;
    sskdf_digest(digest, shared, &info, out)
}

/// The 256-bit key-encryption key of ECDH-ES+A256KW.
fn a256kw_kek(shared: &[u8], apu: &[u8], apv: &[u8]) -> Result<[u8; 32], Unspecified> {
    let mut kek = [0u8; 32];
    concat_kdf(
        shared,
        KeyManagementAlg::EcdhEsA256Kw.as_str(),
        apu,
        apv,
        &mut kek,
    )?;
    Ok(kek)
}

enum PublicKey {
    Rsa(OaepPublicEncryptingKey),
    Ec(Vec<u8>, &'static Curve),
}

/// A public key JWEs are encrypted to (A256GCM content), checked and parsed once; clones
/// share it.
#[derive(Clone)]
pub struct EncryptionKey {
    kid: Option<String>,
    alg: KeyManagementAlg,
    key: Arc<PublicKey>,
}

impl std::fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncryptionKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl EncryptionKey {
    /// A public JWK: RSA of at least 2048 bits for RSA-OAEP-256, EC P-256/P-384/P-521 with a
    /// point on its curve for ECDH-ES+A256KW.
    pub fn from_jwk(jwk: &Map<String, Value>, alg: KeyManagementAlg) -> Result<Self, Error> {
        let kty = jwk.get("kty").and_then(Value::as_str);
        let key = match (alg, kty) {
            (KeyManagementAlg::RsaOaep256, Some("RSA")) => {
                let unusable =
                    Error::Malformed("the JWK is not an RSA public key of 2048 bits or more");
                let components = rsa::PublicKeyComponents {
                    n: integer(jwk, "n").ok_or(unusable.clone())?,
                    e: integer(jwk, "e").ok_or(unusable.clone())?,
                };
                let public: PublicEncryptingKey =
                    components.try_into().map_err(|_| unusable.clone())?;
                if public.key_size_bits() < 2048 {
                    return Err(unusable);
                }
                PublicKey::Rsa(OaepPublicEncryptingKey::new(public).map_err(|_| unusable)?)
            }
            (KeyManagementAlg::EcdhEsA256Kw, Some("EC")) => {
                let curve = curve(jwk.get("crv").and_then(Value::as_str))
                    .ok_or(Error::Malformed("the JWK's curve is not supported"))?;
                let unusable = Error::Malformed("the JWK is not a point on its curve");
                let point = jwk_point(jwk, curve).ok_or(unusable.clone())?;
                agreement::ParsedPublicKey::try_from(&UnparsedPublicKey::new(
                    curve.agreement,
                    &point,
                ))
                .map_err(|_| unusable)?;
                PublicKey::Ec(point, curve)
            }
            _ => {
                return Err(Error::Malformed(
                    "the JWK's key type does not fit its algorithm",
                ))
            }
        };
        Ok(Self {
            kid: jwk.get("kid").and_then(Value::as_str).map(str::to_owned),
            alg,
            key: Arc::new(key),
        })
    }

    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    pub fn alg(&self) -> KeyManagementAlg {
        self.alg
    }

    /// Encrypts `plaintext` (A256GCM under a fresh content key) with `protected`'s members in
    /// the header besides `alg`, `enc` and, for ECDH-ES, `epk`.
    pub fn encrypt(
        &self,
        protected: &Protected<'_>,
        plaintext: &[u8],
    ) -> Result<String, Unspecified> {
        let mut cek = [0u8; CEK_LEN];
        rand::fill(&mut cek)?;
        let (encrypted_key, epk) = match self.key.as_ref() {
            PublicKey::Rsa(key) => {
                let mut out = vec![0u8; key.ciphertext_size()];
                let len = key
                    .encrypt(&OAEP_SHA256_MGF1SHA256, &cek, &mut out, None)?
                    .len();
                out.truncate(len);
                (out, None)
            }
            PublicKey::Ec(point, curve) => {
                let ephemeral = agreement::PrivateKey::generate(curve.agreement)?;
                let kek = agreement::agree(
                    &ephemeral,
                    UnparsedPublicKey::new(curve.agreement, point),
                    Unspecified,
                    |shared| a256kw_kek(shared, &[], &[]),
                )?;
                let mut wrapped = vec![0u8; WRAPPED_LEN];
                AesKek::new(&AES_256, &kek)?.wrap(&cek, &mut wrapped)?;
                let public = ephemeral.compute_public_key()?;
                let (x, y) = public.as_ref()[1..].split_at(curve.len);
                (wrapped, Some((curve.crv, x.to_vec(), y.to_vec())))
            }
        };
        let epk = epk.map(|(crv, x, y)| super::EpkOut {
            kty: "EC",
            crv,
            x: URL_SAFE_NO_PAD.encode(x),
            y: URL_SAFE_NO_PAD.encode(y),
        });
        super::seal_compact(
            self.alg.as_str(),
            protected,
            epk,
            &encrypted_key,
            &cek,
            plaintext,
        )
    }
}

/// A 256-bit symmetric key used directly as the content key (`dir` + A256GCM): tokens a party
/// encrypts to itself.
pub struct DirectKey {
    key: Box<[u8; CEK_LEN]>,
}

impl std::fmt::Debug for DirectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirectKey").finish_non_exhaustive()
    }
}

impl DirectKey {
    /// The key's 32 bytes.
    pub fn new(key: &[u8]) -> Result<Self, Error> {
        let key: [u8; CEK_LEN] = key
            .try_into()
            .map_err(|_| Error::Malformed("a dir A256GCM key has 256 bits"))?;
        Ok(Self { key: Box::new(key) })
    }

    /// Encrypts `plaintext` with `protected`'s members in the header besides `alg` and `enc`.
    pub fn encrypt(
        &self,
        protected: &Protected<'_>,
        plaintext: &[u8],
    ) -> Result<String, Unspecified> {
        super::seal_compact("dir", protected, None, &[], self.key.as_ref(), plaintext)
    }

    /// Opens `jwe` if it is `dir` with A256GCM and no encrypted key.
    pub fn decrypt(&self, jwe: &Jwe<'_>) -> Result<Vec<u8>, Error> {
        if jwe.header.alg != "dir" || jwe.header.enc != ContentEncryption::A256Gcm.as_str() {
            return Err(Error::AlgorithmNotAllowed);
        }
        if !jwe.encrypted_key.is_empty() {
            return Err(Error::Malformed("a dir JWE has an empty encrypted key"));
        }
        jwe.open(ContentEncryption::A256Gcm, self.key.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(text: &str) -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(text).unwrap()
    }

    /// RFC 7518 Appendix C: Bob's static key, Alice's ephemeral public key, apu "Alice", apv
    /// "Bob", a 128-bit key for A128GCM. The agreement and the KDF give the published key.
    #[test]
    fn ecdh_es_and_the_concat_kdf_give_rfc7518_appendix_c() {
        let bob = agreement::PrivateKey::from_private_key(
            &agreement::ECDH_P256,
            &b64("VEmDZpDXXK8p8N0Cndsxs924q6nS1RXFASRl6BfUqdw"),
        )
        .unwrap();
        let alice = ec_point(
            &CURVES[0],
            &b64("gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0"),
            &b64("SLW_xSffzlPWrHEVI30DHM_4egVwt3NQqeUD7nMFpps"),
        )
        .unwrap();
        let mut derived = [0u8; 16];
        agreement::agree(
            &bob,
            UnparsedPublicKey::new(&agreement::ECDH_P256, &alice),
            Unspecified,
            |shared| concat_kdf(shared, "A128GCM", b"Alice", b"Bob", &mut derived),
        )
        .unwrap();
        assert_eq!(URL_SAFE_NO_PAD.encode(derived), "VqqN6vgjbSBcIijNcacQGg");
    }
}
