//! Pushed authorization requests with DPoP (RFC 9449 10.1): a proof sent with the push binds
//! the code to its key as a pushed `dpop_jkt` does, the two must agree, the proof is checked as
//! at the token endpoint (before the client, single use, nonces), and a `dpop_jkt` added in the
//! browser is ignored. Proofs and thumbprints are jwcrypto's.

use crate::harness::*;
use serde_json::json;

const PAR: &str = "/oauth2/par";
const TOKEN: &str = "/oauth2/token";
const AUDIENCE: &str = "https://reports.internal";

impl TestApp {
    /// Pushes `form` with the DPoP proof `proof` (and Basic credentials when given).
    pub async fn push_dpop(
        &self,
        basic: Option<(&str, &str)>,
        proof: &str,
        form: &[(&str, &str)],
    ) -> Answer {
        self.post_dpop(PAR, basic, proof, form).await
    }

    /// Signs alice in on the pushed request `request_uri` of `client_id`, with `extra` query
    /// parameters beside it; returns the code.
    pub async fn pushed_code(
        &self,
        client_id: &str,
        request_uri: &str,
        extra: &[(&str, &str)],
    ) -> String {
        let mut query = vec![("client_id", client_id), ("request_uri", request_uri)];
        query.extend_from_slice(extra);
        let mut jar = Jar::default();
        let page = self.authorize(&mut jar, &query).await;
        assert_eq!(page.status, 200, "{}", page.json);
        let signed_in = self.sign_in(&mut jar, &page, "alice", ALICE_PASSWORD).await;
        let location = signed_in
            .header("location")
            .unwrap_or_else(|| panic!("no redirect: {}", signed_in.json));
        query_of(location)["code"].clone()
    }
}

/// A pushed request of `webapp` (which authenticates with Basic), plus `extra`.
fn webapp_form<'a>(pkce: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![
        ("response_type", "code"),
        ("redirect_uri", CALLBACK),
        ("scope", "openid"),
        ("code_challenge", pkce),
        ("code_challenge_method", "S256"),
    ];
    form.extend_from_slice(extra);
    form
}

/// The public client `mobile` exchanging `code`, with a proof when given.
async fn exchange(app: &TestApp, code: &str, proof: Option<&str>) -> Answer {
    let form = [
        ("grant_type", "authorization_code"),
        ("client_id", "mobile"),
        ("code", code),
        ("redirect_uri", CALLBACK),
        ("code_verifier", VERIFIER),
    ];
    match proof {
        Some(proof) => app.token_dpop(None, proof, &form).await,
        None => app.token_form(None, &form).await,
    }
}

#[tokio::test]
async fn a_proof_with_the_push_binds_the_code_to_its_key() {
    let app = spawn_app().await;
    let (key, other) = (DpopKey::new("ES256"), DpopKey::new("EdDSA"));
    let pkce = challenge(VERIFIER);
    let pushed = app
        .push_dpop(
            None,
            &key.proof(&app, "POST", PAR, json!({})),
            &mobile_query(&pkce, &[]),
        )
        .await;
    assert_eq!(pushed.status, 201, "{}", pushed.json);
    // RFC 9126 4: a dpop_jkt added in the browser is not the pushed request's.
    let code = app
        .pushed_code(
            "mobile",
            pushed.str("request_uri"),
            &[("dpop_jkt", other.jkt.as_str())],
        )
        .await;

    exchange(&app, &code, None).await.assert_error(
        400,
        "invalid_dpop_proof",
        "the authorization code is bound to a DPoP key: the request needs a proof by that key",
    );
    let by_other = other.proof(&app, "POST", TOKEN, json!({}));
    exchange(&app, &code, Some(&by_other)).await.assert_error(
        400,
        "invalid_dpop_proof",
        "the DPoP proof is not by the key the authorization code is bound to",
    );
    let by_key = key.proof(&app, "POST", TOKEN, json!({}));
    let tokens = exchange(&app, &code, Some(&by_key)).await;
    assert_eq!(tokens.str("token_type"), "DPoP", "{}", tokens.json);
    let claims = app.token_claims(&tokens, AUDIENCE).await;
    assert_eq!(claims["cnf"], json!({ "jkt": key.jkt }));

    // A pushed dpop_jkt, without a proof, binds the code the same way.
    let pushed = app
        .push(
            None,
            &mobile_query(&pkce, &[("dpop_jkt", key.jkt.as_str())]),
        )
        .await;
    assert_eq!(pushed.status, 201, "{}", pushed.json);
    let code = app
        .pushed_code("mobile", pushed.str("request_uri"), &[])
        .await;
    let by_other = other.proof(&app, "POST", TOKEN, json!({}));
    exchange(&app, &code, Some(&by_other)).await.assert_error(
        400,
        "invalid_dpop_proof",
        "the DPoP proof is not by the key the authorization code is bound to",
    );
    let by_key = key.proof(&app, "POST", TOKEN, json!({}));
    let tokens = exchange(&app, &code, Some(&by_key)).await;
    let claims = app.token_claims(&tokens, AUDIENCE).await;
    assert_eq!(claims["cnf"]["jkt"], key.jkt.as_str());
}

#[tokio::test]
async fn a_pushed_proof_is_checked_as_at_the_token_endpoint_and_agrees_with_dpop_jkt() {
    let app = spawn_app().await;
    let (key, other) = (DpopKey::new("ES256"), DpopKey::new("ES256"));
    let pkce = challenge(VERIFIER);
    let webapp = Some(("webapp", OTHER_SECRET));
    let proofs = key.sign_all(&[
        json!({ "claims": proof_claims("POST", &format!("{ISSUER}{PAR}"), app.clock_now()) }),
        json!({ "claims": proof_claims("POST", &format!("{ISSUER}{TOKEN}"), app.clock_now()) }),
        json!({ "claims": proof_claims("POST", &format!("{ISSUER}{PAR}"), app.clock_now()) }),
        json!({ "claims": proof_claims("POST", &format!("{ISSUER}{PAR}"), app.clock_now()) }),
    ]);

    // Both, naming one key: accepted.
    let pushed = app
        .push_dpop(
            webapp,
            &proofs[0],
            &webapp_form(&pkce, &[("dpop_jkt", key.jkt.as_str())]),
        )
        .await;
    assert_eq!(pushed.status, 201, "{}", pushed.json);
    // The proof is single use, here as anywhere.
    app.push_dpop(webapp, &proofs[0], &webapp_form(&pkce, &[]))
        .await
        .assert_error(
            400,
            "invalid_dpop_proof",
            "the DPoP proof has been used before",
        );
    // A proof made for the token endpoint is not one for this one; it is refused before the
    // client's (wrong) secret is looked at.
    app.push_dpop(
        Some(("webapp", "wrong")),
        &proofs[1],
        &webapp_form(&pkce, &[]),
    )
    .await
    .assert_error(
        400,
        "invalid_dpop_proof",
        "the DPoP proof's htu is not the URL of this request",
    );
    // Naming two keys: refused (RFC 9449 10.1).
    app.push_dpop(
        webapp,
        &proofs[2],
        &webapp_form(&pkce, &[("dpop_jkt", other.jkt.as_str())]),
    )
    .await
    .assert_error(
        400,
        "invalid_request",
        "the dpop_jkt parameter is not the thumbprint of the DPoP proof's key (RFC 9449 10.1)",
    );
    // A pushed dpop_jkt is checked as at the authorization endpoint.
    app.push(webapp, &webapp_form(&pkce, &[("dpop_jkt", "short")]))
        .await
        .assert_error(
            400,
            "invalid_request",
            "the dpop_jkt parameter must be a JWK SHA-256 thumbprint (43 base64url characters)",
        );
    // Two DPoP headers.
    let twice = app
        .client
        .post(app.url(PAR))
        .header("DPoP", &proofs[3])
        .header("DPoP", &proofs[3])
        .header("Authorization", basic_header("webapp", OTHER_SECRET))
        .form(&webapp_form(&pkce, &[]))
        .send()
        .await
        .unwrap();
    Answer::from(twice).await.assert_error(
        400,
        "invalid_dpop_proof",
        "the request carries more than one DPoP header",
    );
}

#[tokio::test]
async fn the_push_asks_for_and_hands_out_dpop_nonces() {
    let app = spawn(&TestConfig::new().raw("dpop.require_nonce", true)).await;
    let key = DpopKey::new("ES256");
    let pkce = challenge(VERIFIER);
    let refused = app
        .push_dpop(
            None,
            &key.proof(&app, "POST", PAR, json!({})),
            &mobile_query(&pkce, &[]),
        )
        .await;
    refused.assert_error(
        400,
        "use_dpop_nonce",
        "the DPoP proof must carry the server's nonce",
    );
    let nonce = refused.header("dpop-nonce").expect("a nonce").to_owned();
    let pushed = app
        .push_dpop(
            None,
            &key.proof(&app, "POST", PAR, json!({ "nonce": nonce })),
            &mobile_query(&pkce, &[]),
        )
        .await;
    assert_eq!(pushed.status, 201, "{}", pushed.json);
    let next = pushed.header("dpop-nonce").expect("the next nonce");
    assert_eq!(next, nonce, "one slot, one nonce");
    // A push without a proof gets no nonce: it asked for nothing DPoP.
    let plain = app.push(None, &mobile_query(&pkce, &[])).await;
    assert_eq!(plain.status, 201, "{}", plain.json);
    assert!(plain.header("dpop-nonce").is_none());

    // The code is bound: its exchange needs a proof by the key, with the nonce.
    let code = app
        .pushed_code("mobile", pushed.str("request_uri"), &[])
        .await;
    let proof = key.proof(&app, "POST", TOKEN, json!({ "nonce": next }));
    let tokens = exchange(&app, &code, Some(&proof)).await;
    let claims = app.token_claims(&tokens, AUDIENCE).await;
    assert_eq!(claims["cnf"]["jkt"], key.jkt.as_str());
}
