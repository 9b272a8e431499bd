//! The client libraries people already use, with their defaults, against the real server:
//! authlib (Python) and openid-client (Node.js) authenticate with `private_key_jwt` and
//! `client_secret_jwt` exactly as they do out of the box. Their scripts are in tests/interop/
//! (with the DPoP client of tests/api/interop.rs); .ci/run installs the packages they need.

use crate::harness::*;
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;
use tokio::process::Command;

const HMAC_SECRET: &str = "a-shared-secret-of-at-least-32-bytes-0123456789";

fn clients_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop")
}

/// Runs a client script and reads the one JSON line it prints (without blocking the server,
/// which shares this test's runtime).
async fn run(program: &str, script: &str, args: &[&str]) -> Value {
    let output = Command::new(program)
        .arg(clients_dir().join(script))
        .args(args)
        .current_dir(clients_dir())
        .kill_on_drop(true)
        .output()
        .await
        .unwrap_or_else(|err| panic!("{program} {script}: {err}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{program} {script} {args:?}: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|err| panic!("{err}: {stdout}"))
}

/// A server with a `private_key_jwt` client for `public` (named `kid`) and a
/// `client_secret_jwt` client.
async fn spawn_for(public: &Value, kid: &str) -> TestApp {
    let dir = Arc::new(tempfile::TempDir::new().unwrap());
    std::fs::write(dir.path().join("hmac.secret"), HMAC_SECRET).unwrap();
    let mut jwk: serde_json::Map<String, Value> = ["kty", "crv", "x", "y", "n", "e"]
        .iter()
        .filter_map(|name| Some((name.to_string(), public.get(*name)?.clone())))
        .collect();
    jwk.insert("kid".into(), kid.into());
    let config = TestConfig::new()
        .client(
            ClientConfig::new("lib-pkjwt")
                .token_endpoint_auth_methods(&["private_key_jwt"])
                .jwks(serde_json::json!({ "keys": [jwk] }))
                .scopes(&["lib"])
                .audience(&["https://lib.internal"]),
        )
        .client(
            ClientConfig::new("lib-csjwt")
                .token_endpoint_auth_methods(&["client_secret_jwt"])
                .client_secret_file("hmac.secret")
                .scopes(&["lib"])
                .audience(&["https://lib.internal"]),
        );
    spawn_in(dir, &config).await
}

/// The library's answer was a token, and the token verifies as a resource server checks it.
async fn assert_token(app: &TestApp, result: &Value, client_id: &str) {
    assert_eq!(result["status"], 200, "{result}");
    let token = result["body"]["access_token"].as_str().unwrap();
    let (_, claims) = app
        .verify(
            token,
            jsonwebtoken::Algorithm::ES256,
            "https://lib.internal",
        )
        .await;
    assert_eq!(claims["client_id"], client_id);
    assert_eq!(claims["scope"], "lib");
}

fn lifetime(result: &Value) -> i64 {
    let assertion = &result["assertion"];
    assertion["exp"].as_i64().unwrap() - assertion["iat"].as_i64().unwrap()
}

#[tokio::test]
async fn authlib_authenticates_with_its_default_hour_long_assertions() {
    let keys = run("python3", "authlib_client.py", &["keygen"]).await;
    let app = spawn_for(&keys["public"], "authlib-key").await;
    let token_url = app.url("/oauth2/token");
    let audience = format!("{}/oauth2/token", app.issuer);
    let mut private = keys["private"].clone();
    private["kid"] = "authlib-key".into();

    let signed = run(
        "python3",
        "authlib_client.py",
        &[
            "private_key_jwt",
            &token_url,
            &audience,
            "lib-pkjwt",
            &private.to_string(),
        ],
    )
    .await;
    assert_eq!(lifetime(&signed), 3600, "authlib's default: {signed}");
    assert_token(&app, &signed, "lib-pkjwt").await;

    let hmac = run(
        "python3",
        "authlib_client.py",
        &[
            "client_secret_jwt",
            &token_url,
            &audience,
            "lib-csjwt",
            HMAC_SECRET,
        ],
    )
    .await;
    assert_eq!(lifetime(&hmac), 3600, "authlib's default: {hmac}");
    assert_token(&app, &hmac, "lib-csjwt").await;

    // The same library, its secret wrong: the server's refusal reaches it as an OAuth error.
    let wrong = run(
        "python3",
        "authlib_client.py",
        &[
            "client_secret_jwt",
            &token_url,
            &audience,
            "lib-csjwt",
            "not-the-secret-but-just-as-long-0123456789",
        ],
    )
    .await;
    assert_eq!(wrong["body"]["error"], "invalid_client", "{wrong}");
    assert_eq!(
        wrong["body"]["error_description"],
        "the assertion signature is not valid"
    );
}

#[tokio::test]
async fn openid_client_authenticates_with_its_default_assertions() {
    let keys = run("node", "openid_client.mjs", &["keygen"]).await;
    let app = spawn_for(&keys["public"], "node-key").await;
    let token_url = app.url("/oauth2/token");
    let mut private = keys["private"].clone();
    private["kid"] = "node-key".into();

    let signed = run(
        "node",
        "openid_client.mjs",
        &[
            "private_key_jwt",
            &token_url,
            &app.issuer,
            "lib-pkjwt",
            &private.to_string(),
        ],
    )
    .await;
    assert_eq!(lifetime(&signed), 60, "openid-client's default: {signed}");
    assert_eq!(
        signed["assertion"]["aud"], app.issuer,
        "it names the issuer"
    );
    assert_token(&app, &signed, "lib-pkjwt").await;

    let hmac = run(
        "node",
        "openid_client.mjs",
        &[
            "client_secret_jwt",
            &token_url,
            &app.issuer,
            "lib-csjwt",
            HMAC_SECRET,
        ],
    )
    .await;
    assert_token(&app, &hmac, "lib-csjwt").await;
}
