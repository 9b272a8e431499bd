//! JWE: tokens the issuer encrypts to itself (refresh tokens, authorization codes, session
//! cookies: `dir` + A256GCM under the secret key), access tokens encrypted to a resource's or
//! client's public key (nested JWT, `cty: JWT`), and client assertions encrypted to the issuer.
//!
//! The cryptography is the verifier crate's `jwe` module (aws-lc-rs), the mechanism resource
//! servers open Tessera's encrypted access tokens with; this module holds the issuer's rules:
//! which headers, keys and sizes each kind of JWE may have.

use super::{Jwk, KeyError, KeyManagementAlg};
use tessera_verifier::jwe::{
    ContentEncryption, DecryptionKey, DirectKey, EncryptionKey, Jwe, Protected,
};

/// The longest encoded protected header read, before anything is decoded.
const MAX_HEADER_LEN: usize = 2048;

fn direct_key(secret: &Jwk) -> Result<DirectKey, KeyError> {
    DirectKey::new(&secret.bytes("k")?)
        .map_err(|err| KeyError::new(format!("the secret key cannot encrypt: {err}")))
}

/// Encrypts `payload` to the issuer itself under the symmetric key `secret` (its `kid` goes in
/// the header so a rotated key still opens older tokens), with header `typ`.
pub fn encrypt_to_self(secret: &Jwk, typ: &str, payload: &[u8]) -> Result<String, KeyError> {
    let protected = Protected {
        typ: Some(typ),
        cty: None,
        kid: secret.key_id(),
    };
    direct_key(secret)?
        .encrypt(&protected, payload)
        .map_err(|_| KeyError::new("encryption failed"))
}

/// Opens a token encrypted by `encrypt_to_self` with one of `secrets` (chosen by `kid`), if its
/// header is exactly `dir`, A256GCM and `typ`. `None` for anything else.
pub fn decrypt_from_self<'a>(
    secrets: impl IntoIterator<Item = &'a Jwk>,
    typ: &str,
    token: &str,
) -> Option<Vec<u8>> {
    if token.len() > super::MAX_JWS_LEN {
        return None;
    }
    let jwe = Jwe::parse(token, MAX_HEADER_LEN).ok()?;
    let header = jwe.header();
    if header.typ() != Some(typ) || header.has_zip() || header.has_crit() {
        return None;
    }
    let kid = header.kid()?;
    let secret = secrets
        .into_iter()
        .find(|jwk| jwk.key_id() == Some(kid))?;
    // DirectKey::decrypt takes only `dir` with A256GCM.
    direct_key(secret).ok()?.decrypt(&jwe).ok()
}

/// Content encryptions accepted on client assertions.
const ASSERTION_ENCS: [ContentEncryption; 2] =
    [ContentEncryption::A256Gcm, ContentEncryption::A128CbcHs256];

/// One of the issuer's encryption keys, ready to open client assertions (parsing the private
/// key is most of the cost of decrypting, so it happens once).
#[derive(Clone, Debug)]
pub struct AssertionDecrypter {
    key: std::sync::Arc<DecryptionKey>,
}

impl AssertionDecrypter {
    pub fn new(jwk: &Jwk, alg: KeyManagementAlg) -> Result<Self, KeyError> {
        let key = DecryptionKey::from_jwk(jwk.as_ref(), alg.into_verifier())
            .map_err(|err| KeyError::new(format!("not a usable {alg} key: {err}")))?;
        Ok(Self {
            key: std::sync::Arc::new(key),
        })
    }
}

/// Opens a client assertion encrypted to one of the issuer's keys. Only RSA-OAEP-256 and
/// ECDH-ES+A256KW with A256GCM or A128CBC-HS256; the key is the one `kid` names, else each key
/// of the header's algorithm. Returns the nested JWS.
pub fn decrypt_assertion<'a>(
    keys: impl IntoIterator<Item = &'a AssertionDecrypter>,
    token: &str,
) -> Option<String> {
    if token.len() > super::MAX_JWS_LEN {
        return None;
    }
    let jwe = Jwe::parse(token, MAX_HEADER_LEN).ok()?;
    let header = jwe.header();
    let alg: KeyManagementAlg = header.alg().parse().ok()?;
    if header.has_zip() || header.has_crit() {
        return None;
    }
    if header.cty().is_some_and(|cty| !cty.eq_ignore_ascii_case("JWT")) {
        return None;
    }
    let kid = header.kid();
    for AssertionDecrypter { key } in keys {
        if key.alg() != alg.into_verifier() || kid.is_some_and(|kid| key.kid() != Some(kid)) {
            continue;
        }
        // `decrypt` refuses any other `enc`.
        if let Ok(payload) = key.decrypt(&jwe, &ASSERTION_ENCS) {
            return String::from_utf8(payload)
                .ok()
                .filter(|inner| inner.split('.').count() == 3);
        }
    }
    None
}

/// A public key access tokens are encrypted to.
#[derive(Debug, Clone)]
pub struct RecipientKey {
    pub jwk: Jwk,
    pub alg: KeyManagementAlg,
    /// Parsed once: parsing and checking the key is not paid per token.
    key: std::sync::Arc<EncryptionKey>,
}

impl RecipientKey {
    /// Checks that `jwk` is a public key usable with `alg`.
    pub fn new(jwk: Jwk, alg: KeyManagementAlg) -> Result<Self, KeyError> {
        let key = EncryptionKey::from_jwk(jwk.as_ref(), alg.into_verifier())
            .map_err(|err| KeyError::new(format!("not a usable {alg} key: {err}")))?;
        Ok(Self {
            jwk,
            alg,
            key: std::sync::Arc::new(key),
        })
    }

    /// Nests a signed JWT in a JWE to this key (`cty: JWT`, A256GCM).
    pub fn encrypt_jwt(&self, signed: &str) -> Result<String, KeyError> {
        let protected = Protected {
            typ: None,
            cty: Some("JWT"),
            kid: self.jwk.key_id(),
        };
        self.key
            .encrypt(&protected, signed.as_bytes())
            .map_err(|_| KeyError::new("encryption failed"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::{generate_encryption_key, generate_secret_key};
    use crate::oauth::TokenKind;
    use strum::IntoEnumIterator;

    #[test]
    fn self_encrypted_tokens_open_only_with_their_key_and_type() {
        let key = generate_secret_key().unwrap();
        let other = generate_secret_key().unwrap();
        let refresh = TokenKind::Refresh.typ();
        let token = encrypt_to_self(&key, refresh, b"{\"a\":1}").unwrap();
        assert_eq!(
            decrypt_from_self([&key], refresh, &token).unwrap(),
            b"{\"a\":1}"
        );
        assert!(decrypt_from_self([&key], TokenKind::Code.typ(), &token).is_none());
        assert!(decrypt_from_self([&other], refresh, &token).is_none());
        let mut tampered = token.clone();
        tampered.replace_range(token.len() - 3.., "AAA");
        assert!(decrypt_from_self([&key], refresh, &tampered).is_none());
    }

    #[test]
    fn nested_jwts_encrypt_to_rsa_and_ec_keys() {
        for alg in KeyManagementAlg::iter() {
            let private = generate_encryption_key(alg).unwrap();
            let public = private.to_public_key().unwrap();
            let recipient = RecipientKey::new(public, alg).unwrap();
            let token = recipient.encrypt_jwt("a.b.c").unwrap();
            assert_eq!(token.split('.').count(), 5);
        }
    }
}

#[cfg(test)]
mod assertion_tests {
    use super::*;
    use crate::jose::generate_encryption_key;
    use strum::IntoEnumIterator;

    #[test]
    fn assertions_encrypted_by_josekit_open() {
        for alg in KeyManagementAlg::iter() {
            let private = generate_encryption_key(alg).unwrap();
            let recipient = RecipientKey::new(private.to_public_key().unwrap(), alg).unwrap();
            let token = recipient.encrypt_jwt("a.b.c").unwrap();
            let decrypter = AssertionDecrypter::new(&private, alg).unwrap();
            let opened = decrypt_assertion([&decrypter], &token);
            assert_eq!(opened.as_deref(), Some("a.b.c"), "{alg}");
        }
    }
}
