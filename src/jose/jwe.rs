//! JWE: tokens the issuer encrypts to itself (refresh tokens, authorization codes, session
//! cookies: `dir` + A256GCM under the secret key), and access tokens encrypted to a resource's or
//! client's public key (nested JWT, `cty: JWT`).

use super::{Jwk, KeyError, KeyManagementAlg};
use josekit::jwe::{self, JweHeader};

const SELF_ENC: &str = "A256GCM";

/// Encrypts `payload` to the issuer itself under the symmetric key `secret` (its `kid` goes in
/// the header so a rotated key still opens older tokens), with header `typ`.
pub fn encrypt_to_self(secret: &Jwk, typ: &str, payload: &[u8]) -> Result<String, KeyError> {
    let mut header = JweHeader::new();
    header.set_algorithm("dir");
    header.set_content_encryption(SELF_ENC);
    header.set_token_type(typ);
    if let Some(kid) = secret.key_id() {
        header.set_key_id(kid);
    }
    let encrypter = jwe::Dir
        .encrypter_from_jwk(secret)
        .map_err(|err| KeyError::new(format!("the secret key cannot encrypt: {err}")))?;
    jwe::serialize_compact(payload, &header, &encrypter)
        .map_err(|err| KeyError::new(format!("encryption failed: {err}")))
}

/// Opens a token encrypted by `encrypt_to_self` with one of `secrets` (chosen by `kid`), if its
/// header is exactly `dir`, A256GCM and `typ`. `None` for anything else.
pub fn decrypt_from_self<'a>(
    secrets: impl IntoIterator<Item = &'a Jwk>,
    typ: &str,
    token: &str,
) -> Option<Vec<u8>> {
    if token.len() > super::MAX_JWS_LEN || token.split('.').count() != 5 {
        return None;
    }
    let kid = token_kid(token)?;
    let secret = secrets
        .into_iter()
        .find(|jwk| jwk.key_id() == Some(kid.as_str()))?;
    let decrypter = jwe::Dir.decrypter_from_jwk(secret).ok()?;
    let (payload, header) = jwe::deserialize_compact(token, &decrypter).ok()?;
    let exact = header.algorithm() == Some("dir")
        && header.content_encryption() == Some(SELF_ENC)
        && header.token_type() == Some(typ);
    exact.then_some(payload)
}

/// The protected header of a compact JWE, undecrypted.
fn protected_header(token: &str) -> Option<serde_json::Value> {
    use base64::Engine;
    let header = token.split('.').next()?;
    if header.len() > 2048 {
        return None;
    }
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .ok()?;
    serde_json::from_slice(&header).ok()
}

/// The `kid` of a compact JWE's protected header.
fn token_kid(token: &str) -> Option<String> {
    protected_header(token)?
        .get("kid")?
        .as_str()
        .map(str::to_owned)
}

/// Content encryptions accepted on client assertions.
const ASSERTION_ENCS: [&str; 2] = ["A256GCM", "A128CBC-HS256"];

/// One of the issuer's encryption keys, ready to open client assertions (parsing the private
/// key is most of the cost of decrypting, so it happens once).
#[derive(Clone)]
pub struct AssertionDecrypter {
    kid: Option<String>,
    alg: KeyManagementAlg,
    decrypter: std::sync::Arc<dyn jwe::JweDecrypter>,
}

impl std::fmt::Debug for AssertionDecrypter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AssertionDecrypter")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl AssertionDecrypter {
    pub fn new(jwk: &Jwk, alg: KeyManagementAlg) -> Result<Self, KeyError> {
        // The kid is matched here; josekit would otherwise insist on one in every header.
        let mut members = jwk.as_ref().clone();
        members.remove("kid");
        let bare = Jwk::from_map(members).map_err(|err| KeyError::new(err.to_string()))?;
        let unusable =
            |err: josekit::JoseError| KeyError::new(format!("not a usable {alg} key: {err}"));
        let decrypter: std::sync::Arc<dyn jwe::JweDecrypter> = match alg {
            KeyManagementAlg::RsaOaep256 => std::sync::Arc::new(
                jwe::RSA_OAEP_256
                    .decrypter_from_jwk(&bare)
                    .map_err(unusable)?,
            ),
            KeyManagementAlg::EcdhEsA256Kw => std::sync::Arc::new(
                jwe::ECDH_ES_A256KW
                    .decrypter_from_jwk(&bare)
                    .map_err(unusable)?,
            ),
        };
        Ok(Self {
            kid: jwk.key_id().map(str::to_owned),
            alg,
            decrypter,
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
    let header = protected_header(token)?;
    let alg: KeyManagementAlg = header.get("alg")?.as_str()?.parse().ok()?;
    let enc = header.get("enc")?.as_str()?;
    if !ASSERTION_ENCS.contains(&enc) || header.get("zip").is_some() || header.get("crit").is_some()
    {
        return None;
    }
    if header
        .get("cty")
        .and_then(|cty| cty.as_str())
        .is_some_and(|cty| !cty.eq_ignore_ascii_case("JWT"))
    {
        return None;
    }
    let kid = header.get("kid").and_then(|kid| kid.as_str());
    for key in keys {
        if key.alg != alg || kid.is_some_and(|kid| key.kid.as_deref() != Some(kid)) {
            continue;
        }
        if let Ok((payload, _)) = jwe::deserialize_compact(token, key.decrypter.as_ref()) {
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
    /// Parsed once: building it is most of the cost of encrypting.
    encrypter: std::sync::Arc<dyn jwe::JweEncrypter>,
}

impl RecipientKey {
    /// Checks that `jwk` is a public key usable with `alg`.
    pub fn new(jwk: Jwk, alg: KeyManagementAlg) -> Result<Self, KeyError> {
        let unusable =
            |err: josekit::JoseError| KeyError::new(format!("not a usable {alg} key: {err}"));
        let encrypter: std::sync::Arc<dyn jwe::JweEncrypter> = match alg {
            KeyManagementAlg::RsaOaep256 => std::sync::Arc::new(
                jwe::RSA_OAEP_256
                    .encrypter_from_jwk(&jwk)
                    .map_err(unusable)?,
            ),
            KeyManagementAlg::EcdhEsA256Kw => std::sync::Arc::new(
                jwe::ECDH_ES_A256KW
                    .encrypter_from_jwk(&jwk)
                    .map_err(unusable)?,
            ),
        };
        Ok(Self {
            jwk,
            alg,
            encrypter,
        })
    }

    /// Nests a signed JWT in a JWE to this key (`cty: JWT`, A256GCM).
    pub fn encrypt_jwt(&self, signed: &str) -> Result<String, KeyError> {
        let mut header = JweHeader::new();
        header.set_algorithm(self.alg.as_str());
        header.set_content_encryption("A256GCM");
        header.set_content_type("JWT");
        if let Some(kid) = self.jwk.key_id() {
            header.set_key_id(kid);
        }
        jwe::serialize_compact(signed.as_bytes(), &header, self.encrypter.as_ref())
            .map_err(|err| KeyError::new(format!("encryption failed: {err}")))
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
