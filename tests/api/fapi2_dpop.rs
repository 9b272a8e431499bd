//! FAPI 2.0 with DPoP (5.3.2.1: sender-constraining by mutual TLS or DPoP): a `private_key_jwt`
//! client on the plain listener gets DPoP-bound tokens for every grant and nothing unbound; the
//! pushed request binds the code to the proof's key (5.3.2.1 clause 12, RFC 9449 10.1); the
//! profile's algorithms hold for proofs (5.4.1). Proofs and thumbprints are jwcrypto's.

use crate::cli::tessera;
use crate::fapi2::{fapi2_config, request, Bank, API, FINTECH_CALLBACK};
use crate::harness::*;
use serde_json::json;
use tessera::jose::SigningAlg;

const PAR: &str = "/oauth2/par";
const TOKEN: &str = "/oauth2/token";
const UNBOUND: &str = "the FAPI 2.0 profile issues sender-constrained access tokens only, and this request binds them to nothing: send a DPoP proof, or call the mutual-TLS endpoint with the client's certificate";

/// `fintech` (private_key_jwt with `key`) may refresh too.
fn config(key: &TestKey) -> TestConfig {
    let mut config = fapi2_config(&[key]);
    config.clients[1] = config.clients[1].clone().grant_types(&[
        "authorization_code",
        "refresh_token",
        "client_credentials",
    ]);
    config
}

/// A fresh client assertion of `fintech`, naming the issuer as the profile wants.
fn assertion(app: &TestApp, key: &TestKey) -> String {
    let mut claims = assertion_claims("fintech", app.clock_now());
    claims["aud"] = json!(ISSUER);
    key.sign(&claims)
}

/// `form` plus `fintech`'s fresh assertion, posted to `path` with `proof` when given.
async fn fintech_post(
    app: &TestApp,
    key: &TestKey,
    path: &str,
    proof: Option<&str>,
    form: &[(&str, &str)],
) -> Answer {
    let assertion = assertion(app, key);
    let mut form = form.to_vec();
    form.push(("client_assertion_type", ASSERTION_TYPE));
    form.push(("client_assertion", &assertion));
    match proof {
        Some(proof) => app.post_dpop(path, None, proof, &form).await,
        None => app.post_form(path, None, &form).await,
    }
}

#[tokio::test]
async fn a_private_key_jwt_client_gets_dpop_bound_tokens_and_nothing_unbound() {
    let fintech = TestKey::new(SigningAlg::ES256, "fintech");
    let pki = Pki::new();
    let app = spawn_in(pki.dir.clone(), &config(&fintech)).await;
    let (key, other) = (DpopKey::new("ES256"), DpopKey::new("PS256"));
    let pkce = challenge(VERIFIER);

    // The push carries the proof: the code is bound to its key.
    let pushed_form = request("fintech", FINTECH_CALLBACK, &pkce, &[("client_id", "")]);
    let proof = key.proof(&app, "POST", PAR, json!({}));
    let pushed = fintech_post(&app, &fintech, PAR, Some(&proof), &pushed_form).await;
    assert_eq!(pushed.status, 201, "{}", pushed.json);
    let code = app
        .pushed_code("fintech", pushed.str("request_uri"), &[])
        .await;
    let exchange = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", FINTECH_CALLBACK),
        ("code_verifier", VERIFIER),
    ];
    // Neither a proof nor a certificate: refused before the grant (the code is not spent).
    fintech_post(&app, &fintech, TOKEN, None, &exchange)
        .await
        .assert_error(400, "invalid_request", UNBOUND);
    let by_other = other.proof(&app, "POST", TOKEN, json!({}));
    fintech_post(&app, &fintech, TOKEN, Some(&by_other), &exchange)
        .await
        .assert_error(
            400,
            "invalid_dpop_proof",
            "the DPoP proof is not by the key the authorization code is bound to",
        );
    let by_key = key.proof(&app, "POST", TOKEN, json!({}));
    let tokens = fintech_post(&app, &fintech, TOKEN, Some(&by_key), &exchange).await;
    assert_eq!(tokens.str("token_type"), "DPoP", "{}", tokens.json);
    let claims = app.token_claims(&tokens, API).await;
    assert_eq!(claims["cnf"], json!({ "jkt": key.jkt }));
    assert_eq!(claims["sub"], "alice");

    // Refreshing: bound again (a confidential client may prove another key), never unbound,
    // and no rotation.
    let refresh = [
        ("grant_type", "refresh_token"),
        ("refresh_token", tokens.str("refresh_token")),
    ];
    fintech_post(&app, &fintech, TOKEN, None, &refresh)
        .await
        .assert_error(400, "invalid_request", UNBOUND);
    let by_other = other.proof(&app, "POST", TOKEN, json!({}));
    let refreshed = fintech_post(&app, &fintech, TOKEN, Some(&by_other), &refresh).await;
    let claims = app.token_claims(&refreshed, API).await;
    assert_eq!(claims["cnf"]["jkt"], other.jkt.as_str());
    assert!(refreshed.json.get("refresh_token").is_none());

    // client_credentials alike.
    let machine = [("grant_type", "client_credentials")];
    fintech_post(&app, &fintech, TOKEN, None, &machine)
        .await
        .assert_error(400, "invalid_request", UNBOUND);
    let proof = key.proof(&app, "POST", TOKEN, json!({}));
    let answer = fintech_post(&app, &fintech, TOKEN, Some(&proof), &machine).await;
    assert_eq!(app.token_claims(&answer, API).await["cnf"]["jkt"], key.jkt);
}

#[tokio::test]
async fn over_mutual_tls_a_proof_binds_instead_of_the_certificate() {
    let pki = Pki::new();
    let app = spawn_in(pki.dir.clone(), &fapi2_config(&[])).await;
    let bank = Bank::new(&pki, &app).await;
    let key = DpopKey::new("EdDSA");
    // htu is the TLS listener's published base URL.
    let proof = key.sign(proof_claims(
        "POST",
        "https://localhost:8443/oauth2/token",
        app.clock_now(),
    ));
    let answer = bank
        .http
        .post(format!("{}{TOKEN}", bank.base))
        .header("DPoP", proof)
        .form(&[("grant_type", "client_credentials"), ("client_id", "bank")])
        .send()
        .await
        .unwrap();
    let answer = Answer::from(answer).await;
    assert_eq!(answer.str("token_type"), "DPoP", "{}", answer.json);
    let claims = app.token_claims(&answer, API).await;
    assert_eq!(claims["cnf"], json!({ "jkt": key.jkt }));
}

#[tokio::test]
async fn the_refusal_of_an_unbound_request_hands_out_the_dpop_nonce() {
    let fintech = TestKey::new(SigningAlg::ES256, "fintech");
    let pki = Pki::new();
    let app = spawn_in(
        pki.dir.clone(),
        &config(&fintech).raw("dpop.require_nonce", true),
    )
    .await;
    let key = DpopKey::new("ES256");
    let machine = [("grant_type", "client_credentials")];
    let refused = fintech_post(&app, &fintech, TOKEN, None, &machine).await;
    refused.assert_error(400, "invalid_request", UNBOUND);
    let nonce = refused.header("dpop-nonce").expect("a nonce").to_owned();
    let proof = key.proof(&app, "POST", TOKEN, json!({ "nonce": nonce }));
    let answer = fintech_post(&app, &fintech, TOKEN, Some(&proof), &machine).await;
    assert_eq!(app.token_claims(&answer, API).await["cnf"]["jkt"], key.jkt);
}

#[tokio::test]
async fn dpop_proofs_are_held_to_the_profile_algorithms() {
    let fintech = TestKey::new(SigningAlg::ES256, "fintech");
    let pki = Pki::new();
    let app = spawn_in(pki.dir.clone(), &config(&fintech)).await;
    let metadata = app.get("/.well-known/openid-configuration").await.json;
    assert_eq!(
        metadata["dpop_signing_alg_values_supported"],
        json!(["ES256", "PS256", "EdDSA"])
    );
    for alg in ["ES384", "RS256"] {
        let proof = DpopKey::new(alg).proof(&app, "POST", TOKEN, json!({}));
        fintech_post(
            &app,
            &fintech,
            TOKEN,
            Some(&proof),
            &[("grant_type", "client_credentials")],
        )
        .await
        .assert_error(
            400,
            "invalid_dpop_proof",
            "the DPoP proof's alg must be one of ES256 PS256 EdDSA",
        );
    }

    // Naming another in [dpop] is a problem of the file.
    let path = fapi2_config(&[])
        .raw(
            "dpop.signing_algs",
            toml::Value::Array(vec!["ES256".into(), "RS256".into()]),
        )
        .write_in(pki.dir.path());
    let output = tessera(&path, &["config", "check"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("dpop.signing_algs[1]: profile fapi2 accepts JWTs signed with PS256, ES256 or EdDSA only (FAPI 2.0 5.4.1)"),
        "{stderr}"
    );
    assert!(!stderr.contains("dpop.signing_algs[0]"), "{stderr}");
}
