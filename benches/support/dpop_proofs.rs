//! DPoP proofs for the load bench, made before the timed phase like the assertion pools: one
//! ES256 key (aws-lc-rs), a fresh `jti` in each proof, its public key in the `jwk` header.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// `count` proofs of `POST htu` at `iat`, all by one fresh key.
pub fn proofs(count: usize, htu: &str, iat: i64) -> Vec<String> {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
    // The uncompressed point: 0x04 || x || y.
    let point = key.public_key().as_ref();
    let header = serde_json::json!({
        "typ": "dpop+jwt",
        "alg": "ES256",
        "jwk": {
            "kty": "EC",
            "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
        },
    });
    let header = URL_SAFE_NO_PAD.encode(header.to_string());
    (0..count)
        .map(|_| {
            let claims = serde_json::json!({
                "jti": tessera::oauth::issuer::random_id(),
                "htm": "POST",
                "htu": htu,
                "iat": iat,
            });
            let input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(claims.to_string()));
            let signature = key.sign(&rng, input.as_bytes()).unwrap();
            format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
        })
        .collect()
}

/// The public point (0x04 || x || y) of a proof made by [`proofs`], read back from its `jwk`.
#[allow(dead_code)] // the callgrind bench's; the load bench needs only the proofs
pub fn public_point(proof: &str) -> Vec<u8> {
    let header = proof.split('.').next().unwrap();
    let header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    let mut point = vec![4u8];
    for coordinate in ["x", "y"] {
        let text = header["jwk"][coordinate].as_str().unwrap();
        point.extend(URL_SAFE_NO_PAD.decode(text).unwrap());
    }
    point
}
