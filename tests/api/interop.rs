//! DPoP driven by an independent implementation: npm's openid-client 6 (over oauth4webapi) makes
//! the proofs, follows the server's nonce, refreshes and calls userinfo; its own JOSE library's
//! thumbprint of its key must be the tokens' `cnf.jkt`. `.ci/run` installs the npm packages into
//! `tests/interop/node_modules`.

use crate::harness::*;
use jsonwebtoken::Algorithm;
use serde_json::Value;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop/dpop_client.mjs");

#[tokio::test]
async fn openid_client_gets_and_uses_dpop_bound_tokens() {
    assert!(
        std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/interop/node_modules/openid-client"
        ))
        .exists(),
        "the npm packages are missing: run `npm install --prefix tests/interop` (.ci/run does)"
    );
    // openid-client computes htu from the discovered endpoints: the issuer must be the address
    // it really reaches.
    let port = free_port();
    let issuer = format!("http://127.0.0.1:{port}");
    let mut config = TestConfig::new()
        .issuer(&issuer)
        .raw("dpop.require_nonce", true);
    config.listen = format!("127.0.0.1:{port}");
    let app = spawn(&config).await;

    // The server runs on this test's runtime: wait for the client without blocking it.
    let output = tokio::process::Command::new("node")
        .arg(SCRIPT)
        .args([
            issuer.as_str(),
            "reports",
            REPORTS_SECRET,
            "mobile",
            "alice",
            ALICE_PASSWORD,
        ])
        .output()
        .await
        .expect("node runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let got: Value = serde_json::from_slice(&output.stdout).unwrap();
    let jkt = got["jkt"].as_str().unwrap();
    for step in ["client_credentials", "password", "refresh"] {
        assert_eq!(got[step]["token_type"], "dpop", "{step}: {got}");
        let token = got[step]["access_token"].as_str().unwrap();
        let (_, claims) = app
            .verify(token, Algorithm::ES256, "https://reports.internal")
            .await;
        assert_eq!(claims["cnf"]["jkt"], jkt, "{step}");
    }
    assert_eq!(got["userinfo"]["sub"], "alice");
    assert_eq!(got["userinfo"]["email"], "alice@example.com");
}
