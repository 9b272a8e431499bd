//! Client authentication by signed (and encrypted) JWT assertions. Assertions are built here
//! with independent libraries: keys from josekit (OpenSSL), signatures by jsonwebtoken
//! (RustCrypto), encryption by Python's jwcrypto. Each attack gets its precise refusal.

use crate::harness::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use strum::IntoEnumIterator;
use tessera::jose::SigningAlg;

/// 64 bytes: long enough for HS512 (RFC 7518 3.2: a key at least as long as the hash).
const HMAC_SECRET: &str = "a-shared-secret-of-64-bytes-for-every-hmac-0123456789abcdefghijk";
/// 32 bytes: HS256 only.
const SHORT_HMAC_SECRET: &str = "a-shared-secret-of-32-bytes-0123";

/// An app whose keys folder also holds an RSA-OAEP-256 encryption key, with clients for each
/// assertion method.
struct AssertionApp {
    app: TestApp,
    keys: Vec<TestKey>,
}

/// Starts `config` with the assertion clients added.
async fn spawn_assertion_app(config: TestConfig) -> AssertionApp {
    let dir = Arc::new(tempfile::TempDir::new().unwrap());
    let keys_dir = dir.path().join("keys");
    let now = chrono::Utc::now().timestamp();
    for spec in ["ES256", "ECDH-ES+A256KW", "RSA-OAEP-256", "dir"] {
        tessera::keys::generate(&keys_dir, spec.parse().unwrap(), now, now).unwrap();
    }
    std::fs::write(dir.path().join("hmac.secret"), HMAC_SECRET).unwrap();
    std::fs::write(dir.path().join("short.secret"), SHORT_HMAC_SECRET).unwrap();
    let keys: Vec<TestKey> = SigningAlg::iter()
        .map(|alg| TestKey::new(alg, &format!("key-{alg}")))
        .collect();
    let jwks = jwk_set(&keys.iter().collect::<Vec<_>>());
    let signer = |client_id: &str| {
        ClientConfig::new(client_id)
            .token_endpoint_auth_methods(&["private_key_jwt"])
            .jwks(jwks.clone())
            .audience(&["https://s.internal"])
    };
    let config = config
        .client(signer("signer").scopes(&["s"]))
        .client(signer("es256-only").token_endpoint_auth_signing_algs(&["ES256"]))
        .client(signer("sealed-signer").require_encrypted_assertion())
        .client(
            ClientConfig::new("hmac")
                .token_endpoint_auth_methods(&["client_secret_jwt"])
                .client_secret_file("hmac.secret")
                .audience(&["https://s.internal"]),
        )
        .client(
            ClientConfig::new("short-hmac")
                .token_endpoint_auth_methods(&["client_secret_jwt"])
                .client_secret_file("short.secret")
                .audience(&["https://s.internal"]),
        );
    AssertionApp {
        app: spawn_in(dir, &config).await,
        keys,
    }
}

impl AssertionApp {
    fn key(&self, alg: SigningAlg) -> &TestKey {
        self.keys
            .iter()
            .find(|key| key.kid == format!("key-{alg}"))
            .unwrap()
    }

    async fn token(&self, assertion: &str, extra: &[(&str, &str)]) -> Answer {
        self.app.token_with_assertion(assertion, extra).await
    }

    /// The issuer's encryption key for `alg`, as a client finds it: in the JWKS.
    async fn issuer_enc_key(&self, alg: &str) -> Value {
        self.app.jwks().await["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|key| key["use"] == "enc" && key["alg"] == alg)
            .cloned()
            .unwrap()
    }
}

#[tokio::test]
async fn every_signature_algorithm_authenticates_with_private_key_jwt() {
    let app = spawn_assertion_app(TestConfig::new()).await;
    for alg in SigningAlg::iter() {
        let assertion = app
            .key(alg)
            .sign(&assertion_claims("signer", app.app.clock_now()));
        let answer = app.token(&assertion, &[]).await;
        assert_eq!(answer.status, 200, "{alg}: {}", answer.json);
        let token = app.app.token_claims(&answer, "https://s.internal").await;
        assert_eq!(token["client_id"], "signer");
    }
    // client_id in the body too, naming the same client.
    let assertion = app
        .key(SigningAlg::ES256)
        .sign(&assertion_claims("signer", app.app.clock_now()));
    assert_eq!(
        app.token(&assertion, &[("client_id", "signer")])
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn client_secret_jwt_uses_the_secret_itself() {
    let app = spawn_assertion_app(TestConfig::new()).await;
    for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
        let assertion = jsonwebtoken::encode(
            &Header::new(alg),
            &assertion_claims("hmac", app.app.clock_now()),
            &EncodingKey::from_secret(HMAC_SECRET.as_bytes()),
        )
        .unwrap();
        let answer = app.token(&assertion, &[]).await;
        assert_eq!(answer.status, 200, "{alg:?}: {}", answer.json);
    }
    let forged = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &assertion_claims("hmac", app.app.clock_now()),
        &EncodingKey::from_secret(b"another-secret-of-at-least-32-bytes-xxxxxx"),
    )
    .unwrap();
    app.token(&forged, &[]).await.assert_error(
        401,
        "invalid_client",
        "the assertion signature is not valid",
    );
    // RFC 7518 3.2: a 32-byte secret is too short a key for HS384 and HS512.
    for (alg, expected) in [
        (Algorithm::HS256, None),
        (
            Algorithm::HS384,
            Some("the algorithm HS384 is not allowed for the client short-hmac"),
        ),
        (
            Algorithm::HS512,
            Some("the algorithm HS512 is not allowed for the client short-hmac"),
        ),
    ] {
        let assertion = jsonwebtoken::encode(
            &Header::new(alg),
            &assertion_claims("short-hmac", app.app.clock_now()),
            &EncodingKey::from_secret(SHORT_HMAC_SECRET.as_bytes()),
        )
        .unwrap();
        let answer = app.token(&assertion, &[]).await;
        match expected {
            None => assert_eq!(answer.status, 200, "{alg:?}: {}", answer.json),
            Some(description) => answer.assert_error(401, "invalid_client", description),
        }
    }
}

#[tokio::test]
async fn assertions_encrypted_to_the_issuer_open_with_both_key_managements() {
    let app = spawn_assertion_app(TestConfig::new()).await;
    for (alg, enc) in [
        ("RSA-OAEP-256", "A256GCM"),
        ("ECDH-ES+A256KW", "A128CBC-HS256"),
        ("ECDH-ES+A256KW", "A256GCM"),
        ("RSA-OAEP-256", "A128CBC-HS256"),
    ] {
        let jws = app
            .key(SigningAlg::ES256)
            .sign(&assertion_claims("sealed-signer", app.app.clock_now()));
        let jwe = jwcrypto_encrypt(&app.issuer_enc_key(alg).await, alg, enc, &jws);
        assert_eq!(jwe.split('.').count(), 5);
        let answer = app.token(&jwe, &[]).await;
        assert_eq!(answer.status, 200, "{alg} {enc}: {}", answer.json);
    }
    // A client that requires encryption refuses a bare JWS.
    let bare = app
        .key(SigningAlg::ES256)
        .sign(&assertion_claims("sealed-signer", app.app.clock_now()));
    app.token(&bare, &[]).await.assert_error(
        401,
        "invalid_client",
        "the client assertion is not a JWE token",
    );
    // Encrypted to someone else's key: it cannot be opened.
    let stranger =
        tessera::jose::generate_encryption_key(tessera::jose::KeyManagementAlg::RsaOaep256)
            .unwrap();
    let stranger: Value =
        serde_json::from_str(&stranger.to_public_key().unwrap().to_string()).unwrap();
    let jws = app
        .key(SigningAlg::ES256)
        .sign(&assertion_claims("sealed-signer", app.app.clock_now()));
    let wrong = jwcrypto_encrypt(&stranger, "RSA-OAEP-256", "A256GCM", &jws);
    app.token(&wrong, &[]).await.assert_error(
        401,
        "invalid_client",
        "the jwe token cannot be decrypted",
    );
}

#[tokio::test]
async fn each_rule_refuses_its_attack() {
    let app = spawn_assertion_app(TestConfig::new()).await;
    let now = app.app.clock_now();
    let es256 = app.key(SigningAlg::ES256);
    let with = |change: &dyn Fn(&mut Value)| {
        let mut c = assertion_claims("signer", now);
        change(&mut c);
        es256.sign(&c)
    };
    let cases: Vec<(String, &str)> = vec![
        (
            with(&|c| c["exp"] = json!(now - 120)),
            "the received JWT has expired",
        ),
        (
            with(&|c| c["aud"] = json!("https://elsewhere.example/token")),
            "the audience passed in JWT is not correct",
        ),
        (
            with(&|c| c["aud"] = json!(["https://elsewhere.example", ISSUER])),
            "USE-SUCCESS",
        ),
        (
            with(&|c| c["sub"] = json!("someone-else")),
            "the client id passed in JWT is not correct",
        ),
        (
            with(&|c| {
                c.as_object_mut().unwrap().remove("exp");
            }),
            "the assertion has no exp",
        ),
        (
            with(&|c| {
                c["iat"] = json!(now - 10);
                c["exp"] = json!(now + 3600)
            }),
            "USE-SUCCESS",
        ),
        (
            with(&|c| {
                c["iat"] = json!(now - 10);
                c["exp"] = json!(now + 3600 + 60)
            }),
            "the assertion may live at most 3600 seconds",
        ),
        (
            with(&|c| {
                c.as_object_mut().unwrap().remove("iat");
                c["exp"] = json!(now + 365 * 86_400)
            }),
            "the assertion may live at most 3600 seconds",
        ),
        (
            with(&|c| c["nbf"] = json!(now + 600)),
            "the assertion is not valid yet",
        ),
        (
            with(&|c| c["iat"] = json!(now + 600)),
            "the assertion is not valid yet",
        ),
        (
            with(&|c| {
                c.as_object_mut().unwrap().remove("jti");
            }),
            "the assertion has no jti",
        ),
        ("garbage".into(), "the client assertion is not a JWS token"),
        ("a.b.c".into(), "the client assertion is not a JWS token"),
    ];
    for (assertion, expected) in cases {
        let answer = app.token(&assertion, &[]).await;
        if expected == "USE-SUCCESS" {
            assert_eq!(
                answer.status, 200,
                "a case that passes (an aud array naming the issuer, an hour-long life): {}",
                answer.json
            );
        } else {
            answer.assert_error(401, "invalid_client", expected);
        }
    }
}

#[tokio::test]
async fn forged_headers_and_keys_are_refused() {
    use base64::Engine;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let app = spawn_assertion_app(TestConfig::new()).await;
    let now = app.app.clock_now();
    let es256 = app.key(SigningAlg::ES256);
    let body = engine.encode(assertion_claims("signer", now).to_string());

    // alg none.
    let none = format!(
        "{}.{body}.",
        engine.encode(r#"{"alg":"none","kid":"key-ES256"}"#)
    );
    app.token(&none, &[]).await.assert_error(
        401,
        "invalid_client",
        "the assertion's algorithm is not allowed",
    );

    // Algorithm confusion: HS256 keyed with the client's public RSA key.
    let rsa_public = app.key(SigningAlg::RS256).public_jwk.to_string();
    let confused = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &assertion_claims("signer", now),
        &EncodingKey::from_secret(rsa_public.as_bytes()),
    )
    .unwrap();
    app.token(&confused, &[]).await.assert_error(
        401,
        "invalid_client",
        "the client signer is not allowed to authenticate with client_secret_jwt",
    );

    // A kid nobody registered.
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some("unknown".into());
    let unknown =
        jsonwebtoken::encode(&header, &assertion_claims("signer", now), &es256.encoding).unwrap();
    app.token(&unknown, &[]).await.assert_error(
        401,
        "invalid_client",
        "no registered key of the client matches the assertion",
    );

    // Tampered: a claim changed after signing.
    let good = es256.sign(&assertion_claims("signer", now));
    let parts: Vec<&str> = good.split('.').collect();
    let mut changed = assertion_claims("signer", now);
    changed["exp"] = json!(now + 200);
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        engine.encode(changed.to_string()),
        parts[2]
    );
    app.token(&tampered, &[]).await.assert_error(
        401,
        "invalid_client",
        "the assertion signature is not valid",
    );

    // A signature by a key the client does not have, under its kid.
    let impostor = TestKey::new(SigningAlg::ES256, "key-ES256");
    app.token(&impostor.sign(&assertion_claims("signer", now)), &[])
        .await
        .assert_error(
            401,
            "invalid_client",
            "the assertion signature is not valid",
        );

    // A critical header nobody understands.
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some("key-ES256".into());
    let header_json = json!({"alg": "ES256", "kid": "key-ES256", "crit": ["exp"], "exp": 1});
    let input = format!("{}.{body}", engine.encode(header_json.to_string()));
    let signature =
        jsonwebtoken::crypto::sign(input.as_bytes(), &es256.encoding, Algorithm::ES256).unwrap();
    app.token(&format!("{input}.{signature}"), &[])
        .await
        .assert_error(
            401,
            "invalid_client",
            "the assertion has critical headers this server does not understand",
        );

    // An algorithm the client does not allow.
    app.token(
        &app.key(SigningAlg::ES384)
            .sign(&assertion_claims("es256-only", now)),
        &[],
    )
    .await
    .assert_error(
        401,
        "invalid_client",
        "the algorithm ES384 is not allowed for the client es256-only",
    );

    // Payload that is not JSON, properly signed.
    let input = format!(
        "{}.{}",
        engine.encode(r#"{"alg":"ES256","kid":"key-ES256"}"#),
        engine.encode("not json")
    );
    let signature =
        jsonwebtoken::crypto::sign(input.as_bytes(), &es256.encoding, Algorithm::ES256).unwrap();
    app.token(&format!("{input}.{signature}"), &[])
        .await
        .assert_error(401, "invalid_client", "the JWS payload cannot be extracted");

    // A protected header too large to decode, in an assertion of allowed size.
    let big_header = json!({"alg": "ES256", "kid": "key-ES256", "x": "h".repeat(2000)});
    let input = format!("{}.{body}", engine.encode(big_header.to_string()));
    let signature =
        jsonwebtoken::crypto::sign(input.as_bytes(), &es256.encoding, Algorithm::ES256).unwrap();
    app.token(&format!("{input}.{signature}"), &[])
        .await
        .assert_error(
            401,
            "invalid_client",
            "the client assertion header is too large",
        );

    // Oversized.
    let mut huge = assertion_claims("signer", now);
    huge["padding"] = json!("x".repeat(10_000));
    app.token(&es256.sign(&huge), &[]).await.assert_error(
        401,
        "invalid_client",
        "the client assertion is too large",
    );
}

#[tokio::test]
async fn an_assertion_works_once() {
    let app = spawn_assertion_app(TestConfig::new()).await;
    let assertion = app
        .key(SigningAlg::EdDSA)
        .sign(&assertion_claims("signer", app.app.clock_now()));
    assert_eq!(app.token(&assertion, &[]).await.status, 200);
    app.token(&assertion, &[]).await.assert_error(
        401,
        "invalid_client",
        "the assertion was used before",
    );
}

#[tokio::test]
async fn a_full_replay_cache_refuses_instead_of_admitting_unchecked() {
    let app = spawn_assertion_app(TestConfig::new().revocation(RevocationConfig {
        replay_capacity: Some(1),
        ..RevocationConfig::default()
    }))
    .await;
    let first = app
        .key(SigningAlg::ES256)
        .sign(&assertion_claims("signer", app.app.clock_now()));
    assert_eq!(app.token(&first, &[]).await.status, 200);
    let second = app
        .key(SigningAlg::ES256)
        .sign(&assertion_claims("signer", app.app.clock_now()));
    app.token(&second, &[]).await.assert_error(
        503,
        "temporarily_unavailable",
        "the assertion replay cache is full; try again later",
    );
}

#[tokio::test]
async fn assertion_parameters_are_checked() {
    let app = spawn_assertion_app(TestConfig::new()).await;
    let assertion = app
        .key(SigningAlg::ES256)
        .sign(&assertion_claims("signer", app.app.clock_now()));
    app.app
        .token_form(
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_assertion", &assertion),
            ],
        )
        .await
        .assert_error(
            400,
            "invalid_request",
            "the parameter client_assertion_type is missing",
        );
    app.app
        .token_form(
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_assertion_type", "urn:other"),
                ("client_assertion", &assertion),
            ],
        )
        .await
        .assert_error(
            401,
            "invalid_client",
            "the client_assertion_type is not supported",
        );
    app.app
        .token_form(
            Some(("reports", REPORTS_SECRET)),
            &[
                ("grant_type", "client_credentials"),
                ("client_assertion_type", ASSERTION_TYPE),
                ("client_assertion", &assertion),
            ],
        )
        .await
        .assert_error(
            400,
            "invalid_request",
            "the client used more than one authentication method",
        );
    app.token(&assertion, &[("client_id", "es256-only")])
        .await
        .assert_error(
            401,
            "invalid_client",
            "the client id passed in JWT is not correct",
        );
}

#[tokio::test]
async fn keys_from_a_jwks_uri_are_cached_and_an_unknown_kid_cannot_hammer_the_client() {
    let first = TestKey::new(SigningAlg::ES256, "first");
    let second = TestKey::new(SigningAlg::ES256, "second");
    // The client's JWKS endpoint.
    let client_keys = StubServer::start().await;
    client_keys.respond("/jwks", StubResponse::json(200, &jwk_set(&[&first])));
    let config = TestConfig::new()
        .client_assertions(ClientAssertionsConfig {
            jwks_refetch_interval: Some(Duration::from_secs(3600)),
            ..ClientAssertionsConfig::default()
        })
        .client(
            ClientConfig::new("remote")
                .token_endpoint_auth_methods(&["private_key_jwt"])
                .jwks_uri(&client_keys.url("/jwks"))
                .audience(&["https://s.internal"]),
        );
    let app = spawn(&config).await;
    let token = |assertion: String| {
        let app = &app;
        async move { app.token_with_assertion(&assertion, &[]).await }
    };
    for _ in 0..3 {
        let answer = token(first.sign(&assertion_claims("remote", app.clock_now()))).await;
        assert_eq!(answer.status, 200, "{}", answer.json);
    }
    assert_eq!(client_keys.hits("/jwks"), 1, "fetched once, then cached");

    // The client rotates in a new key: its unknown kid makes one more fetch, which finds it.
    client_keys.respond(
        "/jwks",
        StubResponse::json(200, &jwk_set(&[&first, &second])),
    );
    assert_eq!(
        token(second.sign(&assertion_claims("remote", app.clock_now())))
            .await
            .status,
        200
    );
    assert_eq!(client_keys.hits("/jwks"), 2);

    // A flood of made-up kids: no more fetches within the interval.
    for i in 0..10 {
        let stranger = TestKey::new(SigningAlg::ES256, &format!("made-up-{i}"));
        token(stranger.sign(&assertion_claims("remote", app.clock_now())))
            .await
            .assert_error(
                401,
                "invalid_client",
                "no registered key of the client matches the assertion",
            );
    }
    assert_eq!(client_keys.hits("/jwks"), 2);
}

#[test]
fn client_secret_jwt_needs_the_secret_itself_and_private_key_jwt_needs_keys() {
    // A hash cannot sign (client_secret_jwt); a client without keys cannot be checked.
    let config = TestConfig::new()
        .client(
            ClientConfig::new("h")
                .token_endpoint_auth_methods(&["client_secret_jwt"])
                .secret(OTHER_SECRET)
                .audience(&["x"]),
        )
        .client(
            ClientConfig::new("k")
                .token_endpoint_auth_methods(&["private_key_jwt"])
                .audience(&["x"]),
        );
    let err = config.parse_in(Path::new("/tmp")).unwrap_err().to_string();
    assert!(
        err.contains("client_secret_jwt needs the secret itself"),
        "{err}"
    );
    assert!(
        err.contains("private_key_jwt needs the client's public keys"),
        "{err}"
    );
}
