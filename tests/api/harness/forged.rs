//! Tokens as an attacker makes them out of real ones: a changed payload under the original
//! signature, `alg: none`, HS256 keyed with the issuer's public key, a key the issuer never
//! published.

use super::*;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};
use tessera::jose::SigningAlg;

fn encode(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

fn header_of(token: &str) -> Value {
    let header = token.split('.').next().expect("a compact JWS");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap()
}

/// `token` with `changes` merged into its claims, under its original header and signature.
pub fn tampered(token: &str, changes: Value) -> String {
    let mut parts = token.split('.');
    let header = parts.next().unwrap();
    let mut claims = unverified_claims(token);
    for (name, value) in changes.as_object().unwrap() {
        claims[name] = value.clone();
    }
    let signature = parts.nth(1).unwrap();
    format!("{header}.{}.{signature}", encode(&claims))
}

/// `token`'s header and claims with `alg: none` and an empty signature.
pub fn alg_none(token: &str) -> String {
    let mut header = header_of(token);
    header["alg"] = json!("none");
    format!("{}.{}.", encode(&header), token.split('.').nth(1).unwrap())
}

/// `token` re-signed with HS256 keyed with `public_key` (the issuer's public key as the JWKS
/// publishes it): the algorithm confusion of a verifier that lets the token pick the algorithm.
pub fn hs256_with_public_key(token: &str, public_key: &Value) -> String {
    let mut header = header_of(token);
    header["alg"] = json!("HS256");
    let input = format!("{}.{}", encode(&header), token.split('.').nth(1).unwrap());
    let key = aws_lc_rs::hmac::Key::new(
        aws_lc_rs::hmac::HMAC_SHA256,
        public_key.to_string().as_bytes(),
    );
    let tag = aws_lc_rs::hmac::sign(&key, input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

/// `token`'s claims signed by a key the issuer never published, under the same `kid` header
/// shape (`typ: at+jwt`, a kid of its own).
pub fn signed_by_stranger(token: &str) -> String {
    let stranger = TestKey::new(SigningAlg::ES256, "stranger-key");
    let mut header = jsonwebtoken::Header::new(stranger.alg);
    header.kid = Some(stranger.kid.clone());
    header.typ = Some("at+jwt".to_owned());
    jsonwebtoken::encode(&header, &unverified_claims(token), &stranger.encoding).unwrap()
}
