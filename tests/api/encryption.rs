//! Encrypted access tokens: nested JWTs (signed, then encrypted to a resource's or a client's
//! public key), opened here with an independent JOSE library (Python's jwcrypto) and the
//! recipient's private key, then verified against the JWKS like any token.

use crate::harness::*;
use jsonwebtoken::Algorithm;
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;
use tessera::jose::{generate_encryption_key, KeyManagementAlg};

/// A fresh key pair: the private JWK written to `dir/name`, and the public JWK.
fn recipient(dir: &Path, name: &str, alg: KeyManagementAlg) -> (std::path::PathBuf, Value) {
    let private = generate_encryption_key(alg).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, private.to_string()).unwrap();
    let public = private.to_public_key().unwrap();
    (path, serde_json::from_str(&public.to_string()).unwrap())
}

#[tokio::test]
async fn access_tokens_are_encrypted_to_the_resource_or_the_client_that_asks() {
    let dir = Arc::new(tempfile::TempDir::new().unwrap());
    let (resource_key, resource_public) =
        recipient(dir.path(), "audit.jwk", KeyManagementAlg::RsaOaep256);
    let (client_key, _) = recipient(
        dir.path(),
        "sealed-private.jwk",
        KeyManagementAlg::EcdhEsA256Kw,
    );
    // The client's public key as a file (JSON), the resource's inline.
    let public_json: Value = {
        let private: Value =
            serde_json::from_str(&std::fs::read_to_string(&client_key).unwrap()).unwrap();
        let mut public = private.as_object().unwrap().clone();
        public.remove("d");
        Value::Object(public)
    };
    std::fs::write(dir.path().join("sealed.pub.jwk"), public_json.to_string()).unwrap();
    let config = TestConfig::new()
        .resource(
            ResourceConfig::new("https://audit.internal").access_token_encryption(
                EncryptionConfig::inline(resource_public, "RSA-OAEP-256").enc("A256GCM"),
            ),
        )
        .client(
            ClientConfig::new("sealed")
                .secret(OTHER_SECRET)
                .scopes(&["x"])
                .audience(&["https://x.internal"])
                .access_token_encryption(EncryptionConfig::file(
                    "sealed.pub.jwk",
                    "ECDH-ES+A256KW",
                )),
        );
    let app = spawn_in(dir.clone(), &config).await;

    // For the audit resource alone: encrypted to it (RSA-OAEP-256).
    let answer = app
        .reports_token(&[("resource", "https://audit.internal")])
        .await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    let token = answer.json["access_token"].as_str().unwrap();
    assert_eq!(token.split('.').count(), 5, "a compact JWE");
    let (header, inner) = jwcrypto_decrypt(&resource_key, token).unwrap();
    assert_eq!(header["alg"], "RSA-OAEP-256");
    assert_eq!(header["enc"], "A256GCM");
    assert_eq!(header["cty"], "JWT");
    let (inner_header, claims) = app
        .verify(&inner, Algorithm::ES256, "https://audit.internal")
        .await;
    assert_eq!(inner_header.typ.as_deref(), Some("at+jwt"));
    assert_eq!(claims["sub"], "reports");
    // The wrong key cannot open it.
    let (other_key, _) = recipient(dir.path(), "other.jwk", KeyManagementAlg::RsaOaep256);
    let refused = jwcrypto_decrypt(&other_key, token).unwrap_err();
    assert!(refused.contains("InvalidJWEData"), "{refused}");

    // Other audiences of the same client: a plain signed token.
    let plain = app
        .reports_token(&[("resource", "https://reports.internal")])
        .await;
    assert_eq!(
        plain.json["access_token"]
            .as_str()
            .unwrap()
            .split('.')
            .count(),
        3
    );

    // A client with its own key: every token encrypted to it (ECDH-ES+A256KW).
    let sealed = app
        .token_form(
            Some(("sealed", OTHER_SECRET)),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(sealed.status, 200, "{}", sealed.json);
    let (header, inner) = jwcrypto_decrypt(&client_key, sealed.str("access_token")).unwrap();
    assert_eq!(header["alg"], "ECDH-ES+A256KW");
    assert_eq!(header["cty"], "JWT");
    let (_, claims) = app
        .verify(&inner, Algorithm::ES256, "https://x.internal")
        .await;
    assert_eq!(claims["client_id"], "sealed");
}

#[test]
fn a_private_key_or_a_wrong_algorithm_is_a_configuration_error() {
    let dir = tempfile::TempDir::new().unwrap();
    let private = generate_encryption_key(KeyManagementAlg::RsaOaep256).unwrap();
    std::fs::write(dir.path().join("private.jwk"), private.to_string()).unwrap();
    let config = TestConfig::new()
        .resource(
            ResourceConfig::new("a")
                .access_token_encryption(EncryptionConfig::file("private.jwk", "RSA-OAEP-256")),
        )
        .resource(
            ResourceConfig::new("b")
                .access_token_encryption(EncryptionConfig::file("missing.jwk", "RSA1_5")),
        );
    let err = config.parse_in(dir.path()).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("resources[0].access_token_encryption: the key must be public"),
        "{text}"
    );
    assert!(
        text.contains(
            "resources[1].access_token_encryption.alg: unknown key management algorithm 'RSA1_5'"
        ),
        "{text}"
    );
}

/// The JWE the josekit build of Tessera sealed: the same header (`dir`, A256GCM, the kind's
/// `typ`, the secret key's `kid`) encrypted by josekit under the keys folder's secret key.
fn josekit_reseal(keys_dir: &Path, token: &str) -> String {
    let file = keys_dir_files(keys_dir)
        .into_iter()
        .find(|path| {
            path.file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with("secret-"))
        })
        .expect("a secret key in the keys folder");
    let secret = josekit::jwk::Jwk::from_bytes(std::fs::read(file).unwrap()).unwrap();
    let decrypter = josekit::jwe::Dir.decrypter_from_jwk(&secret).unwrap();
    let (payload, header) = josekit::jwe::deserialize_compact(token, &decrypter).unwrap();
    assert_eq!(header.algorithm(), Some("dir"));
    assert_eq!(header.content_encryption(), Some("A256GCM"));
    assert_eq!(header.key_id(), secret.key_id());
    let encrypter = josekit::jwe::Dir.encrypter_from_jwk(&secret).unwrap();
    josekit::jwe::serialize_compact(&payload, &header, &encrypter).unwrap()
}

#[tokio::test]
async fn refresh_tokens_josekit_sealed_before_the_change_are_honoured() {
    let app = spawn_app().await;
    let login = app.password_grant("alice", ALICE_PASSWORD, None).await;
    assert_eq!(login.status, 200, "{}", login.json);
    let ours = login.str("refresh_token").to_owned();
    let theirs = josekit_reseal(&app.keys_dir, &ours);
    assert_ne!(theirs, ours, "a fresh IV");
    // A copy with a changed tag is refused, and spends nothing.
    let at = theirs.len() - 5;
    let flipped = if &theirs[at..at + 1] == "A" { "B" } else { "A" };
    let tampered = format!("{}{flipped}{}", &theirs[..at], &theirs[at + 1..]);
    app.refresh("mobile", &tampered, None).await.assert_error(
        400,
        "invalid_grant",
        "the refresh token is not valid",
    );
    let refreshed = app.refresh("mobile", &theirs, None).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.json);
    assert!(refreshed.json["access_token"].is_string());
    // The rotated one, sealed here, opens with josekit in turn and is honoured.
    let next = josekit_reseal(&app.keys_dir, refreshed.str("refresh_token"));
    assert_eq!(app.refresh("mobile", &next, None).await.status, 200);
    // The first refresh token (its jti) in the other encryption was spent with josekit's.
    app.refresh("mobile", &ours, None).await.assert_error(
        400,
        "invalid_grant",
        "the refresh token is not valid",
    );
}
