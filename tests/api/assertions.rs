//! Client authentication by signed (and encrypted) JWT assertions. Assertions are built here
//! with independent libraries: keys from josekit (OpenSSL), signatures by jsonwebtoken
//! (RustCrypto), encryption by Python's jwcrypto. Each attack gets its precise refusal.

use crate::helpers::*;
use josekit::jwk::KeyPair;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use strum::IntoEnumIterator;
use tessera::jose::SigningAlg;

pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const HMAC_SECRET: &str = "a-shared-secret-of-at-least-32-bytes-0123456789";

/// A client's signing key: private for jsonwebtoken, public as a JWK for the issuer.
pub struct TestKey {
    pub alg: Algorithm,
    pub kid: String,
    encoding: EncodingKey,
    pub public_jwk: Value,
}

impl TestKey {
    pub fn new(alg: SigningAlg, kid: &str) -> TestKey {
        use josekit::jwk::alg::{ec::EcKeyPair, ed::EdKeyPair, rsa::RsaKeyPair};
        let jwk = tessera::jose::generate_signing_key(alg).unwrap();
        let (pem, jws_alg) = match alg {
            SigningAlg::ES256 => (
                EcKeyPair::from_jwk(&jwk).unwrap().to_pem_private_key(),
                Algorithm::ES256,
            ),
            SigningAlg::ES384 => (
                EcKeyPair::from_jwk(&jwk).unwrap().to_pem_private_key(),
                Algorithm::ES384,
            ),
            SigningAlg::EdDSA => (
                EdKeyPair::from_jwk(&jwk).unwrap().to_pem_private_key(),
                Algorithm::EdDSA,
            ),
            SigningAlg::RS256 => (
                RsaKeyPair::from_jwk(&jwk).unwrap().to_pem_private_key(),
                Algorithm::RS256,
            ),
            SigningAlg::PS256 => (
                RsaKeyPair::from_jwk(&jwk).unwrap().to_pem_private_key(),
                Algorithm::PS256,
            ),
        };
        let encoding = match alg {
            SigningAlg::ES256 | SigningAlg::ES384 => EncodingKey::from_ec_pem(&pem).unwrap(),
            SigningAlg::EdDSA => EncodingKey::from_ed_pem(&pem).unwrap(),
            SigningAlg::RS256 | SigningAlg::PS256 => EncodingKey::from_rsa_pem(&pem).unwrap(),
        };
        let mut public: Value =
            serde_json::from_str(&jwk.to_public_key().unwrap().to_string()).unwrap();
        public["kid"] = json!(kid);
        public.as_object_mut().unwrap().remove("use");
        TestKey {
            alg: jws_alg,
            kid: kid.to_owned(),
            encoding,
            public_jwk: public,
        }
    }

    pub fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(self.alg);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).unwrap()
    }
}

/// Standard assertion claims for `client` at `now`.
pub fn claims(client: &str, now: i64) -> Value {
    json!({
        "iss": client,
        "sub": client,
        "aud": format!("{ISSUER}/oauth2/token"),
        "iat": now,
        "exp": now + 60,
        "jti": tessera::oauth::issuer::random_id(),
    })
}

/// Encrypts `jws` to the issuer's public encryption key `jwk` with jwcrypto.
pub fn jwcrypto_encrypt(jwk: &Value, alg: &str, enc: &str, jws: &str) -> String {
    let script = r#"
import json, sys
from jwcrypto import jwe, jwk
key = jwk.JWK.from_json(sys.argv[1])
token = jwe.JWE(sys.stdin.read().encode(), json.dumps({"alg": sys.argv[2], "enc": sys.argv[3], "cty": "JWT", "kid": key.get("kid")}))
token.add_recipient(key)
print(token.serialize(compact=True))
"#;
    let mut child = Command::new("python3")
        .args(["-c", script, &jwk.to_string(), alg, enc])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(jws.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

pub fn jwks_toml(keys: &[&TestKey]) -> String {
    let keys: Vec<String> = keys
        .iter()
        .map(|key| {
            let members: Vec<String> = key
                .public_jwk
                .as_object()
                .unwrap()
                .iter()
                .filter_map(|(k, v)| v.as_str().map(|v| format!("{k} = \"{v}\"")))
                .collect();
            format!("{{ {} }}", members.join(", "))
        })
        .collect();
    format!("{{ keys = [{}] }}", keys.join(", "))
}

/// An app whose keys folder also holds an RSA-OAEP-256 encryption key, with clients for each
/// assertion method.
struct AssertionApp {
    app: TestApp,
    keys: Vec<TestKey>,
}

async fn spawn_assertion_app(sections: &str) -> AssertionApp {
    let dir = Arc::new(tempfile::TempDir::new().unwrap());
    let keys_dir = dir.path().join("keys");
    let now = chrono::Utc::now().timestamp();
    for spec in ["ES256", "ECDH-ES+A256KW", "RSA-OAEP-256", "dir"] {
        tessera::keys::generate(&keys_dir, spec.parse().unwrap(), now, now).unwrap();
    }
    std::fs::write(dir.path().join("hmac.secret"), HMAC_SECRET).unwrap();
    let keys: Vec<TestKey> = SigningAlg::iter()
        .map(|alg| TestKey::new(alg, &format!("key-{alg}")))
        .collect();
    let all: Vec<&TestKey> = keys.iter().collect();
    let extra = format!(
        r#"
[[clients]]
client_id = "signer"
token_endpoint_auth_methods = ["private_key_jwt"]
jwks = {jwks}
scopes = ["s"]
audience = ["https://s.internal"]

[[clients]]
client_id = "es256-only"
token_endpoint_auth_methods = ["private_key_jwt"]
token_endpoint_auth_signing_algs = ["ES256"]
jwks = {jwks}
audience = ["https://s.internal"]

[[clients]]
client_id = "sealed-signer"
token_endpoint_auth_methods = ["private_key_jwt"]
require_encrypted_assertion = true
jwks = {jwks}
audience = ["https://s.internal"]

[[clients]]
client_id = "hmac"
token_endpoint_auth_methods = ["client_secret_jwt"]
client_secret_file = "hmac.secret"
audience = ["https://s.internal"]
"#,
        jwks = jwks_toml(&all)
    );
    let text = format!("{}{extra}", config_text("ES256", "", sections));
    AssertionApp {
        app: spawn_in(dir, &text).await,
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
        let mut form = vec![
            ("grant_type", "client_credentials"),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", assertion),
        ];
        form.extend_from_slice(extra);
        self.app.token_form(None, &form).await
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
    let app = spawn_assertion_app("").await;
    for alg in SigningAlg::iter() {
        let assertion = app.key(alg).sign(&claims("signer", app.app.clock_now()));
        let answer = app.token(&assertion, &[]).await;
        assert_eq!(answer.status, 200, "{alg}: {}", answer.json);
        let token = app.app.token_claims(&answer, "https://s.internal").await;
        assert_eq!(token["client_id"], "signer");
    }
    // client_id in the body too, naming the same client.
    let assertion = app
        .key(SigningAlg::ES256)
        .sign(&claims("signer", app.app.clock_now()));
    assert_eq!(
        app.token(&assertion, &[("client_id", "signer")])
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn client_secret_jwt_uses_the_secret_itself() {
    let app = spawn_assertion_app("").await;
    for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
        let assertion = jsonwebtoken::encode(
            &Header::new(alg),
            &claims("hmac", app.app.clock_now()),
            &EncodingKey::from_secret(HMAC_SECRET.as_bytes()),
        )
        .unwrap();
        let answer = app.token(&assertion, &[]).await;
        assert_eq!(answer.status, 200, "{alg:?}: {}", answer.json);
    }
    let forged = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims("hmac", app.app.clock_now()),
        &EncodingKey::from_secret(b"another-secret-of-at-least-32-bytes-xxxxxx"),
    )
    .unwrap();
    app.token(&forged, &[]).await.assert_error(
        401,
        "invalid_client",
        "the assertion signature is not valid",
    );
}

#[tokio::test]
async fn assertions_encrypted_to_the_issuer_open_with_both_key_managements() {
    let app = spawn_assertion_app("").await;
    for (alg, enc) in [
        ("RSA-OAEP-256", "A256GCM"),
        ("ECDH-ES+A256KW", "A128CBC-HS256"),
        ("ECDH-ES+A256KW", "A256GCM"),
        ("RSA-OAEP-256", "A128CBC-HS256"),
    ] {
        let jws = app
            .key(SigningAlg::ES256)
            .sign(&claims("sealed-signer", app.app.clock_now()));
        let jwe = jwcrypto_encrypt(&app.issuer_enc_key(alg).await, alg, enc, &jws);
        assert_eq!(jwe.split('.').count(), 5);
        let answer = app.token(&jwe, &[]).await;
        assert_eq!(answer.status, 200, "{alg} {enc}: {}", answer.json);
    }
    // A client that requires encryption refuses a bare JWS.
    let bare = app
        .key(SigningAlg::ES256)
        .sign(&claims("sealed-signer", app.app.clock_now()));
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
        .sign(&claims("sealed-signer", app.app.clock_now()));
    let wrong = jwcrypto_encrypt(&stranger, "RSA-OAEP-256", "A256GCM", &jws);
    app.token(&wrong, &[]).await.assert_error(
        401,
        "invalid_client",
        "the jwe token cannot be decrypted",
    );
}

#[tokio::test]
async fn each_rule_refuses_its_attack() {
    let app = spawn_assertion_app("").await;
    let now = app.app.clock_now();
    let es256 = app.key(SigningAlg::ES256);
    let with = |change: &dyn Fn(&mut Value)| {
        let mut c = claims("signer", now);
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
    let app = spawn_assertion_app("").await;
    let now = app.app.clock_now();
    let es256 = app.key(SigningAlg::ES256);
    let body = engine.encode(claims("signer", now).to_string());

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
        &claims("signer", now),
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
    let unknown = jsonwebtoken::encode(&header, &claims("signer", now), &es256.encoding).unwrap();
    app.token(&unknown, &[]).await.assert_error(
        401,
        "invalid_client",
        "no registered key of the client matches the assertion",
    );

    // Tampered: a claim changed after signing.
    let good = es256.sign(&claims("signer", now));
    let parts: Vec<&str> = good.split('.').collect();
    let mut changed = claims("signer", now);
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
    app.token(&impostor.sign(&claims("signer", now)), &[])
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
        &app.key(SigningAlg::ES384).sign(&claims("es256-only", now)),
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
    let mut huge = claims("signer", now);
    huge["padding"] = json!("x".repeat(10_000));
    app.token(&es256.sign(&huge), &[]).await.assert_error(
        401,
        "invalid_client",
        "the client assertion is too large",
    );
}

#[tokio::test]
async fn an_assertion_works_once() {
    let app = spawn_assertion_app("").await;
    let assertion = app
        .key(SigningAlg::EdDSA)
        .sign(&claims("signer", app.app.clock_now()));
    assert_eq!(app.token(&assertion, &[]).await.status, 200);
    app.token(&assertion, &[]).await.assert_error(
        401,
        "invalid_client",
        "the assertion was used before",
    );
}

#[tokio::test]
async fn a_full_replay_cache_refuses_instead_of_admitting_unchecked() {
    let app = spawn_assertion_app("[revocation]\nreplay_capacity = 1").await;
    let first = app
        .key(SigningAlg::ES256)
        .sign(&claims("signer", app.app.clock_now()));
    assert_eq!(app.token(&first, &[]).await.status, 200);
    let second = app
        .key(SigningAlg::ES256)
        .sign(&claims("signer", app.app.clock_now()));
    app.token(&second, &[]).await.assert_error(
        503,
        "temporarily_unavailable",
        "the assertion replay cache is full; try again later",
    );
}

#[tokio::test]
async fn assertion_parameters_are_checked() {
    let app = spawn_assertion_app("").await;
    let assertion = app
        .key(SigningAlg::ES256)
        .sign(&claims("signer", app.app.clock_now()));
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

/// A client's JWKS endpoint that counts its hits and can gain keys.
async fn jwks_server(keys: Arc<Mutex<Vec<Value>>>, hits: Arc<AtomicUsize>) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut stream, _)) = listener.accept().await {
            let (keys, hits) = (keys.clone(), hits.clone());
            tokio::spawn(async move {
                let mut buffer = [0u8; 4096];
                let _ = stream.read(&mut buffer).await;
                hits.fetch_add(1, Ordering::SeqCst);
                let body = json!({ "keys": *keys.lock().unwrap() }).to_string();
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
            });
        }
    });
    port
}

#[tokio::test]
async fn keys_from_a_jwks_uri_are_cached_and_an_unknown_kid_cannot_hammer_the_client() {
    let first = TestKey::new(SigningAlg::ES256, "first");
    let second = TestKey::new(SigningAlg::ES256, "second");
    let keys = Arc::new(Mutex::new(vec![first.public_jwk.clone()]));
    let hits = Arc::new(AtomicUsize::new(0));
    let port = jwks_server(keys.clone(), hits.clone()).await;
    let extra = format!(
        "[[clients]]\nclient_id = \"remote\"\ntoken_endpoint_auth_methods = [\"private_key_jwt\"]\njwks_uri = \"http://127.0.0.1:{port}/jwks\"\naudience = [\"https://s.internal\"]\n"
    );
    let app = spawn_in(
        Arc::new(tempfile::TempDir::new().unwrap()),
        &format!(
            "{}{extra}",
            config_text(
                "ES256",
                "",
                "[client_assertions]\njwks_refetch_interval = \"1h\""
            )
        ),
    )
    .await;
    let token = |assertion: String| {
        let app = &app;
        async move {
            app.token_form(
                None,
                &[
                    ("grant_type", "client_credentials"),
                    ("client_assertion_type", ASSERTION_TYPE),
                    ("client_assertion", &assertion),
                ],
            )
            .await
        }
    };
    for _ in 0..3 {
        let answer = token(first.sign(&claims("remote", app.clock_now()))).await;
        assert_eq!(answer.status, 200, "{}", answer.json);
    }
    assert_eq!(hits.load(Ordering::SeqCst), 1, "fetched once, then cached");

    // The client rotates in a new key: its unknown kid makes one more fetch, which finds it.
    keys.lock().unwrap().push(second.public_jwk.clone());
    assert_eq!(
        token(second.sign(&claims("remote", app.clock_now())))
            .await
            .status,
        200
    );
    assert_eq!(hits.load(Ordering::SeqCst), 2);

    // A flood of made-up kids: no more fetches within the interval.
    for i in 0..10 {
        let stranger = TestKey::new(SigningAlg::ES256, &format!("made-up-{i}"));
        token(stranger.sign(&claims("remote", app.clock_now())))
            .await
            .assert_error(
                401,
                "invalid_client",
                "no registered key of the client matches the assertion",
            );
    }
    assert_eq!(hits.load(Ordering::SeqCst), 2);
}

#[test]
fn client_secret_jwt_needs_the_secret_itself_and_private_key_jwt_needs_keys() {
    let text = format!(
        "{}\n[[clients]]\nclient_id = \"h\"\ntoken_endpoint_auth_methods = [\"client_secret_jwt\"]\nclient_secret_hash = \"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$Hf0CjJ1i2ZVJkM6AAh4l2xOKnUVbfO5zWNnD0MY3cAk\"\naudience = [\"x\"]\n[[clients]]\nclient_id = \"k\"\ntoken_endpoint_auth_methods = [\"private_key_jwt\"]\naudience = [\"x\"]\n",
        config_text("ES256", "", "")
    );
    let err = tessera::settings::Settings::parse(&text, Path::new("/tmp"), Vec::new())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("client_secret_jwt needs the secret itself"),
        "{err}"
    );
    assert!(
        err.contains("private_key_jwt needs the client's public keys"),
        "{err}"
    );
}
