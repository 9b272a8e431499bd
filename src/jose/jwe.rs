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
    let secret = secrets.into_iter().find(|jwk| jwk.key_id() == Some(kid))?;
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
    key: DecryptionKey,
}

impl AssertionDecrypter {
    pub fn new(jwk: &Jwk, alg: KeyManagementAlg) -> Result<Self, KeyError> {
        let key = DecryptionKey::from_jwk(jwk.as_ref(), alg.into_verifier())
            .map_err(|err| KeyError::new(format!("not a usable {alg} key: {err}")))?;
        Ok(Self { key })
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
    if header
        .cty()
        .is_some_and(|cty| !cty.eq_ignore_ascii_case("JWT"))
    {
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
    key: EncryptionKey,
}

impl RecipientKey {
    /// Checks that `jwk` is a public key usable with `alg`.
    pub fn new(jwk: Jwk, alg: KeyManagementAlg) -> Result<Self, KeyError> {
        let key = EncryptionKey::from_jwk(jwk.as_ref(), alg.into_verifier())
            .map_err(|err| KeyError::new(format!("not a usable {alg} key: {err}")))?;
        Ok(Self { jwk, alg, key })
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
    use josekit::jwe::JweHeader;
    use strum::IntoEnumIterator;

    /// The same key as josekit reads it.
    fn josekit_jwk(jwk: &Jwk) -> josekit::jwk::Jwk {
        josekit::jwk::Jwk::from_bytes(jwk.to_string()).unwrap()
    }

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

    /// What josekit sealed for the josekit build of Tessera (its header, its random IV) opens:
    /// refresh tokens, codes and sessions issued before the change stay valid.
    #[test]
    fn tokens_the_josekit_build_sealed_still_open() {
        let key = generate_secret_key().unwrap();
        let rotated = generate_secret_key().unwrap();
        for kind in [TokenKind::Refresh, TokenKind::Code, TokenKind::Session] {
            let mut header = JweHeader::new();
            header.set_algorithm("dir");
            header.set_content_encryption("A256GCM");
            header.set_token_type(kind.typ());
            header.set_key_id(key.key_id().unwrap());
            let encrypter = josekit::jwe::Dir
                .encrypter_from_jwk(&josekit_jwk(&key))
                .unwrap();
            let token =
                josekit::jwe::serialize_compact(b"{\"sub\":\"alice\"}", &header, &encrypter)
                    .unwrap();
            let opened = decrypt_from_self([&rotated, &key], kind.typ(), &token);
            assert_eq!(
                opened.as_deref(),
                Some(&b"{\"sub\":\"alice\"}"[..]),
                "{kind:?}"
            );
            // And josekit opens what this build seals.
            let ours = encrypt_to_self(&key, kind.typ(), b"{}").unwrap();
            let decrypter = josekit::jwe::Dir
                .decrypter_from_jwk(&josekit_jwk(&key))
                .unwrap();
            let (payload, header) = josekit::jwe::deserialize_compact(&ours, &decrypter).unwrap();
            assert_eq!(payload, b"{}");
            assert_eq!(header.token_type(), Some(kind.typ()));
            assert_eq!(header.key_id(), key.key_id());
        }
        // A header other than exactly dir, A256GCM and the kind's typ is refused.
        let encrypter = josekit::jwe::Dir
            .encrypter_from_jwk(&josekit_jwk(&key))
            .unwrap();
        let sealed = |change: &dyn Fn(&mut JweHeader)| {
            let mut header = JweHeader::new();
            header.set_content_encryption("A256GCM");
            header.set_token_type(TokenKind::Refresh.typ());
            header.set_key_id(key.key_id().unwrap());
            change(&mut header);
            josekit::jwe::serialize_compact(b"{}", &header, &encrypter).unwrap()
        };
        let refresh = TokenKind::Refresh.typ();
        assert!(decrypt_from_self([&key], refresh, &sealed(&|_| {})).is_some());
        type Change = Box<dyn Fn(&mut JweHeader)>;
        let changes: [(&str, Change); 4] = [
            (
                "enc",
                Box::new(|h| h.set_content_encryption("A128CBC-HS256")),
            ),
            ("typ", Box::new(|h| h.set_token_type("JWT"))),
            ("kid", Box::new(|h| h.set_key_id("another"))),
            (
                "crit",
                Box::new(|h| h.set_claim("crit", Some(serde_json::json!(["x"]))).unwrap()),
            ),
        ];
        for (what, change) in changes {
            let token = sealed(&*change);
            assert!(
                decrypt_from_self([&key], refresh, &token).is_none(),
                "{what}"
            );
        }
    }

    #[test]
    fn nested_jwts_encrypted_to_rsa_and_ec_keys_open_with_josekit() {
        for alg in KeyManagementAlg::iter() {
            let private = generate_encryption_key(alg).unwrap();
            let public = private.to_public_key().unwrap();
            let recipient = RecipientKey::new(public, alg).unwrap();
            let token = recipient.encrypt_jwt("a.b.c").unwrap();
            let private = josekit_jwk(&private);
            let (payload, header) = match alg {
                KeyManagementAlg::RsaOaep256 => josekit::jwe::deserialize_compact(
                    &token,
                    &josekit::jwe::RSA_OAEP_256
                        .decrypter_from_jwk(&private)
                        .unwrap(),
                ),
                KeyManagementAlg::EcdhEsA256Kw => josekit::jwe::deserialize_compact(
                    &token,
                    &josekit::jwe::ECDH_ES_A256KW
                        .decrypter_from_jwk(&private)
                        .unwrap(),
                ),
            }
            .unwrap();
            assert_eq!(payload, b"a.b.c", "{alg}");
            assert_eq!(header.algorithm(), Some(alg.as_str()));
            assert_eq!(header.content_encryption(), Some("A256GCM"));
            assert_eq!(header.content_type(), Some("JWT"));
            assert_eq!(header.key_id(), private.key_id());
        }
    }

    /// A client assertion as josekit encrypts it to the issuer's key `private`.
    fn josekit_assertion(
        private: &Jwk,
        alg: KeyManagementAlg,
        enc: &str,
        change: impl FnOnce(&mut JweHeader),
    ) -> String {
        let public = josekit_jwk(&private.to_public_key().unwrap());
        let mut header = JweHeader::new();
        header.set_content_encryption(enc);
        header.set_content_type("JWT");
        header.set_key_id(private.key_id().unwrap());
        change(&mut header);
        let inner = b"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJjIn0.c2ln";
        match alg {
            KeyManagementAlg::RsaOaep256 => josekit::jwe::serialize_compact(
                inner,
                &header,
                &josekit::jwe::RSA_OAEP_256
                    .encrypter_from_jwk(&public)
                    .unwrap(),
            ),
            KeyManagementAlg::EcdhEsA256Kw => josekit::jwe::serialize_compact(
                inner,
                &header,
                &josekit::jwe::ECDH_ES_A256KW
                    .encrypter_from_jwk(&public)
                    .unwrap(),
            ),
        }
        .unwrap()
    }

    #[test]
    fn assertions_josekit_encrypted_open_for_every_alg_and_enc() {
        for alg in KeyManagementAlg::iter() {
            let private = generate_encryption_key(alg).unwrap();
            let decrypter = AssertionDecrypter::new(&private, alg).unwrap();
            for enc in ["A256GCM", "A128CBC-HS256"] {
                let token = josekit_assertion(&private, alg, enc, |_| {});
                assert_eq!(
                    decrypt_assertion([&decrypter], &token).as_deref(),
                    Some("eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJjIn0.c2ln"),
                    "{alg} {enc}"
                );
            }
            let refused = |change: &dyn Fn(&mut JweHeader), enc: &str| {
                let token = josekit_assertion(&private, alg, enc, |h| change(h));
                decrypt_assertion([&decrypter], &token).is_none()
            };
            assert!(refused(&|_| {}, "A192GCM"), "{alg}: enc A192GCM");
            assert!(refused(&|h| h.set_content_type("text/plain"), "A256GCM"));
            assert!(refused(&|h| h.set_key_id("someone-else"), "A256GCM"));
            assert!(refused(
                &|h| h.set_claim("crit", Some(serde_json::json!(["x"]))).unwrap(),
                "A256GCM"
            ));
            // Without a kid, each key of the header's algorithm is tried.
            let token = josekit_assertion(&private, alg, "A256GCM", |h| {
                h.set_claim("kid", None).unwrap();
            });
            assert!(decrypt_assertion([&decrypter], &token).is_some(), "{alg}");
        }
    }
}
