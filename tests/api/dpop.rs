//! DPoP at the token endpoint (RFC 9449 4, 5, 8, 10): proofs made by jwcrypto, tokens verified by
//! jsonwebtoken against the JWKS, each refusal's error and description.

use crate::harness::*;
use base64::Engine;
use serde_json::{json, Value};
use std::sync::Arc;

const TOKEN: &str = "/oauth2/token";
const CLIENT_CREDENTIALS: &[(&str, &str)] = &[("grant_type", "client_credentials")];

/// client_credentials for `reports` with the DPoP proof `proof`.
async fn reports_dpop(app: &TestApp, proof: &str) -> Answer {
    app.token_dpop(Some(("reports", REPORTS_SECRET)), proof, CLIENT_CREDENTIALS)
        .await
}

fn b64(value: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
}

#[tokio::test]
async fn a_proof_binds_the_access_token_to_its_key() {
    let app = spawn_app().await;
    for alg in ["ES256", "EdDSA", "PS256"] {
        let key = DpopKey::new(alg);
        let proof = key.proof(&app, "POST", TOKEN, json!({}));
        let answer = reports_dpop(&app, &proof).await;
        assert_eq!(answer.status, 200, "{alg}: {}", answer.json);
        assert_eq!(answer.str("token_type"), "DPoP");
        assert_eq!(answer.header("dpop-nonce"), None, "nonces are off");
        let claims = app.token_claims(&answer, "https://reports.internal").await;
        // jwcrypto's own RFC 7638 thumbprint of the key.
        assert_eq!(claims["cnf"], json!({ "jkt": key.jkt }), "{alg}");

        let introspected = app.introspect(answer.str("access_token")).await;
        assert_eq!(introspected.json["active"], true);
        assert_eq!(introspected.json["token_type"], "DPoP");
        assert_eq!(introspected.json["cnf"]["jkt"], key.jkt.as_str());

        // A proof is used once, on this replica and (through Redis) on every other.
        let again = reports_dpop(&app, &proof).await;
        again.assert_error(
            400,
            "invalid_dpop_proof",
            "the DPoP proof has been used before",
        );
    }
    // Without a proof the token is a bearer token, as before.
    let bearer = app.reports_token(&[]).await;
    assert_eq!(bearer.str("token_type"), "Bearer");
    let introspected = app.introspect(bearer.str("access_token")).await;
    assert_eq!(introspected.json["token_type"], "Bearer");
    assert!(introspected.json.get("cnf").is_none());
}

#[tokio::test]
async fn htu_is_compared_without_query_fragment_or_case_differences() {
    let app = spawn_app().await;
    let key = DpopKey::new("ES256");
    let now = app.clock_now();
    for htu in [
        "https://issuer.test/oauth2/token?x=1",
        "HTTPS://ISSUER.test:443/oauth2/token#f",
        "https://issuer.test/oauth2/./token",
    ] {
        let proof = key.sign(proof_claims("POST", htu, now));
        let answer = reports_dpop(&app, &proof).await;
        assert_eq!(answer.status, 200, "{htu}: {}", answer.json);
    }
}

#[tokio::test]
async fn every_bad_proof_is_refused_with_invalid_dpop_proof() {
    let app = spawn_app().await;
    let key = DpopKey::new("ES256");
    let other = DpopKey::new("ES256");
    let now = app.clock_now();
    let htu = format!("{ISSUER}{TOKEN}");
    let good = || proof_claims("POST", &htu, now);
    let without = |claim: &str| {
        let mut claims = good();
        claims.as_object_mut().unwrap().remove(claim);
        claims
    };
    let with = |claim: &str, value: Value| {
        let mut claims = good();
        claims[claim] = value;
        claims
    };
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"claims": good(), "header": {"typ": "JWT"}}),
            "the DPoP proof's typ must be dpop+jwt",
        ),
        (
            json!({"claims": good(), "header": {"typ": null}}),
            "the DPoP proof's typ must be dpop+jwt",
        ),
        (
            json!({"claims": good(), "header": {"jwk": null}}),
            "the DPoP proof's header has no jwk",
        ),
        (
            json!({"claims": good(), "header": {"jwk": key.private}}),
            "the DPoP proof's jwk must not hold a private key",
        ),
        (
            json!({"claims": good(), "header": {"jwk": other.public}}),
            "the DPoP proof's signature does not verify",
        ),
        (
            json!({"claims": good(), "header": {"jwk": {"kty": "EC", "crv": "P-256"}}}),
            "the DPoP proof's jwk is not a public key",
        ),
        (
            json!({"claims": with("htm", json!("GET"))}),
            "the DPoP proof's htm is not the method of this request",
        ),
        (
            json!({"claims": with("htu", json!(format!("{ISSUER}/oauth2/revoke")))}),
            "the DPoP proof's htu is not the URL of this request",
        ),
        (
            json!({"claims": with("htu", json!("http://127.0.0.1/oauth2/token"))}),
            "the DPoP proof's htu is not the URL of this request",
        ),
        (
            json!({"claims": with("iat", json!(now - 61))}),
            "the DPoP proof's iat is too far from now",
        ),
        (
            json!({"claims": with("iat", json!(now + 61))}),
            "the DPoP proof's iat is too far from now",
        ),
        (
            json!({"claims": with("iat", json!("now"))}),
            "the DPoP proof's iat must be a whole number",
        ),
        (
            json!({"claims": with("jti", json!("j".repeat(257)))}),
            "the DPoP proof's jti must have 1 to 256 characters",
        ),
        (
            json!({"claims": without("jti")}),
            "the DPoP proof has no jti claim",
        ),
        (
            json!({"claims": without("htm")}),
            "the DPoP proof has no htm claim",
        ),
        (
            json!({"claims": without("htu")}),
            "the DPoP proof has no htu claim",
        ),
        (
            json!({"claims": without("iat")}),
            "the DPoP proof has no iat claim",
        ),
        // Found by the dpop_proof fuzz target's seeds: a claim of the wrong type is not missing.
        (
            json!({"claims": with("jti", json!(7))}),
            "the DPoP proof's jti must be a string",
        ),
        (
            json!({"claims": with("htm", json!(["POST"]))}),
            "the DPoP proof's htm must be a string",
        ),
        (
            json!({"claims": with("htu", json!({"url": ISSUER}))}),
            "the DPoP proof's htu must be a string",
        ),
    ];
    let requests: Vec<Value> = cases.iter().map(|(request, _)| request.clone()).collect();
    let proofs = key.sign_all(&requests);
    for ((_, description), proof) in cases.iter().zip(&proofs) {
        let answer = reports_dpop(&app, proof).await;
        answer.assert_error(400, "invalid_dpop_proof", description);
    }

    // Made by hand: what no JOSE library signs.
    let header = |alg: &str| json!({"typ": "dpop+jwt", "alg": alg, "jwk": key.public});
    let hand_made = [
        (
            format!("{}.{}.", b64(&header("none")), b64(&good())),
            "the DPoP proof's alg must be one of ES256 ES384 RS256 PS256 EdDSA",
        ),
        (
            format!("{}.{}.c2ln", b64(&header("HS256")), b64(&good())),
            "the DPoP proof's alg must be one of ES256 ES384 RS256 PS256 EdDSA",
        ),
        (
            "not-a-jwt".to_owned(),
            "the DPoP proof is not a well-formed JWT",
        ),
        ("a".repeat(9000), "the DPoP proof is too large"),
    ];
    for (proof, description) in &hand_made {
        let answer = reports_dpop(&app, proof).await;
        answer.assert_error(400, "invalid_dpop_proof", description);
    }

    // RFC 9449 4.3: exactly one DPoP header.
    let first = key.proof(&app, "POST", TOKEN, json!({}));
    let second = key.proof(&app, "POST", TOKEN, json!({}));
    let answer = Answer::from(
        app.client
            .post(app.url(TOKEN))
            .header("Authorization", basic_header("reports", REPORTS_SECRET))
            .header("DPoP", &first)
            .header("DPoP", &second)
            .form(CLIENT_CREDENTIALS)
            .send()
            .await
            .unwrap(),
    )
    .await;
    answer.assert_error(
        400,
        "invalid_dpop_proof",
        "the request carries more than one DPoP header",
    );
    // None of those proofs was spent: the first is still good alone.
    let answer = reports_dpop(&app, &first).await;
    assert_eq!(answer.status, 200, "{}", answer.json);
}

#[tokio::test]
async fn the_accepted_algorithms_are_configured_and_published() {
    let app = spawn(&TestConfig::new().raw(
        "dpop.signing_algs",
        toml::Value::Array(vec!["ES256".into()]),
    ))
    .await;
    let metadata = app.get("/.well-known/openid-configuration").await;
    assert_eq!(
        metadata.json["dpop_signing_alg_values_supported"],
        json!(["ES256"])
    );
    let key = DpopKey::new("EdDSA");
    let proof = key.proof(&app, "POST", TOKEN, json!({}));
    reports_dpop(&app, &proof).await.assert_error(
        400,
        "invalid_dpop_proof",
        "the DPoP proof's alg must be one of ES256",
    );

    let standard = spawn_app().await;
    let metadata = standard
        .get("/.well-known/oauth-authorization-server")
        .await;
    assert_eq!(
        metadata.json["dpop_signing_alg_values_supported"],
        json!(["ES256", "ES384", "RS256", "PS256", "EdDSA"])
    );
}

#[tokio::test]
async fn bad_dpop_settings_are_named() {
    let config = TestConfig::new()
        .raw(
            "dpop.signing_algs",
            toml::Value::Array(vec!["HS256".into()]),
        )
        .raw("dpop.iat_window", "2h")
        .raw("dpop.nonce_slot", "1s");
    let err = config
        .parse_in(std::path::Path::new("/tmp"))
        .unwrap_err()
        .to_string();
    for expected in [
        "dpop.signing_algs[0]",
        "dpop.signing_algs: must name at least one algorithm",
        "dpop.iat_window: must be from 1 second to 1 hour",
        "dpop.nonce_slot: must be from 10 seconds to 1 day",
    ] {
        assert!(err.contains(expected), "{expected} in {err}");
    }
}

#[tokio::test]
async fn a_client_registered_for_dpop_must_send_a_proof() {
    let config = TestConfig::new().client(
        ClientConfig::new("dpop-only")
            .secret(OTHER_SECRET)
            .audience(&["https://a.internal"])
            .dpop_bound_access_tokens(),
    );
    let app = spawn(&config).await;
    app.token_form(Some(("dpop-only", OTHER_SECRET)), CLIENT_CREDENTIALS)
        .await
        .assert_error(
            400,
            "invalid_dpop_proof",
            "the client dpop-only must send a DPoP proof",
        );
    let key = DpopKey::new("ES256");
    let proof = key.proof(&app, "POST", TOKEN, json!({}));
    let answer = app
        .token_dpop(
            Some(("dpop-only", OTHER_SECRET)),
            &proof,
            CLIENT_CREDENTIALS,
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(answer.str("token_type"), "DPoP");
}

#[tokio::test]
async fn server_nonces_are_stateless_and_shared_by_replicas() {
    let dir = Arc::new(tempfile::TempDir::new().unwrap());
    let config = TestConfig::new().raw("dpop.require_nonce", true);
    let start = 1_900_000_000;
    let app = spawn_at(dir.clone(), &config, start).await;
    let key = DpopKey::new("ES256");

    let first = key.proof(&app, "POST", TOKEN, json!({}));
    let refused = reports_dpop(&app, &first).await;
    refused.assert_error(
        400,
        "use_dpop_nonce",
        "the DPoP proof must carry the server's nonce",
    );
    assert_eq!(refused.header("www-authenticate"), None);
    let nonce = refused.header("dpop-nonce").expect("a nonce").to_owned();
    assert_eq!(nonce.len(), 43);

    let with_nonce = key.proof(&app, "POST", TOKEN, json!({ "nonce": nonce }));
    let answer = reports_dpop(&app, &with_nonce).await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(answer.header("dpop-nonce"), Some(nonce.as_str()));

    let forged = key.proof(&app, "POST", TOKEN, json!({ "nonce": "A".repeat(43) }));
    let answer = reports_dpop(&app, &forged).await;
    answer.assert_error(
        400,
        "use_dpop_nonce",
        "the DPoP proof's nonce is not current",
    );
    assert_eq!(answer.header("dpop-nonce"), Some(nonce.as_str()));

    // A replica sharing the keys folder accepts it, with no state shared.
    let replica = spawn_at(dir.clone(), &config, start).await;
    let at_replica = key.proof(&replica, "POST", TOKEN, json!({ "nonce": nonce }));
    let answer = reports_dpop(&replica, &at_replica).await;
    assert_eq!(answer.status, 200, "{}", answer.json);

    // Good in its slot (5 minutes) and the next; then the client gets a new one.
    app.clock.advance(std::time::Duration::from_secs(300));
    let next_slot = key.proof(&app, "POST", TOKEN, json!({ "nonce": nonce }));
    let answer = reports_dpop(&app, &next_slot).await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    let newer = answer.header("dpop-nonce").unwrap().to_owned();
    assert_ne!(newer, nonce);
    app.clock.advance(std::time::Duration::from_secs(300));
    let stale = key.proof(&app, "POST", TOKEN, json!({ "nonce": nonce }));
    let answer = reports_dpop(&app, &stale).await;
    answer.assert_error(
        400,
        "use_dpop_nonce",
        "the DPoP proof's nonce is not current",
    );
    let fresh = key.proof(&app, "POST", TOKEN, json!({ "nonce": newer }));
    let answer = reports_dpop(&app, &fresh).await;
    assert_eq!(answer.status, 200, "{}", answer.json);
}

#[tokio::test]
async fn a_public_clients_refresh_token_is_bound_to_its_key() {
    let app = spawn_app().await;
    let key = DpopKey::new("ES256");
    let other = DpopKey::new("ES256");
    let proof = key.proof(&app, "POST", TOKEN, json!({}));
    let form = [
        ("grant_type", "password"),
        ("client_id", "mobile"),
        ("username", "alice"),
        ("password", ALICE_PASSWORD),
    ];
    let issued = app.token_dpop(None, &proof, &form).await;
    assert_eq!(issued.status, 200, "{}", issued.json);
    assert_eq!(issued.str("token_type"), "DPoP");
    let refresh = issued.str("refresh_token").to_owned();
    let refresh_form = [
        ("grant_type", "refresh_token"),
        ("client_id", "mobile"),
        ("refresh_token", refresh.as_str()),
    ];

    app.token_form(None, &refresh_form).await.assert_error(
        400,
        "invalid_dpop_proof",
        "the refresh token is bound to a DPoP key: the request needs a proof by that key",
    );
    let by_other = other.proof(&app, "POST", TOKEN, json!({}));
    app.token_dpop(None, &by_other, &refresh_form)
        .await
        .assert_error(
            400,
            "invalid_dpop_proof",
            "the DPoP proof is not by the key the refresh token is bound to",
        );
    // Neither refusal spent the token: its holder refreshes with the key.
    let by_key = key.proof(&app, "POST", TOKEN, json!({}));
    let refreshed = app.token_dpop(None, &by_key, &refresh_form).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.json);
    assert_eq!(refreshed.str("token_type"), "DPoP");
    let claims = app
        .token_claims(&refreshed, "https://reports.internal")
        .await;
    assert_eq!(claims["cnf"]["jkt"], key.jkt.as_str());
    // The rotated token is bound too.
    let next = [
        ("grant_type", "refresh_token"),
        ("client_id", "mobile"),
        ("refresh_token", refreshed.str("refresh_token")),
    ];
    app.token_form(None, &next).await.assert_error(
        400,
        "invalid_dpop_proof",
        "the refresh token is bound to a DPoP key: the request needs a proof by that key",
    );
}

#[tokio::test]
async fn dpop_jkt_binds_the_authorization_code() {
    let app = spawn_app().await;
    let key = DpopKey::new("ES256");
    let other = DpopKey::new("ES256");
    let mut jar = Jar::default();
    let pkce = challenge(VERIFIER);
    let page = app
        .authorize(
            &mut jar,
            &mobile_query(&pkce, &[("dpop_jkt", key.jkt.as_str())]),
        )
        .await;
    let signed_in = app.sign_in(&mut jar, &page, "alice", ALICE_PASSWORD).await;
    let code = query_of(signed_in.header("location").unwrap())["code"].clone();
    let form = [
        ("grant_type", "authorization_code"),
        ("client_id", "mobile"),
        ("code", code.as_str()),
        ("redirect_uri", CALLBACK),
        ("code_verifier", VERIFIER),
    ];
    app.token_form(None, &form).await.assert_error(
        400,
        "invalid_dpop_proof",
        "the authorization code is bound to a DPoP key: the request needs a proof by that key",
    );
    let by_other = other.proof(&app, "POST", TOKEN, json!({}));
    app.token_dpop(None, &by_other, &form).await.assert_error(
        400,
        "invalid_dpop_proof",
        "the DPoP proof is not by the key the authorization code is bound to",
    );
    let by_key = key.proof(&app, "POST", TOKEN, json!({}));
    let answer = app.token_dpop(None, &by_key, &form).await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(answer.str("token_type"), "DPoP");
    let claims = app.token_claims(&answer, "https://reports.internal").await;
    assert_eq!(claims["cnf"]["jkt"], key.jkt.as_str());

    // A code without dpop_jkt takes a proof all the same.
    let code = app.mobile_code().await;
    let form = [
        ("grant_type", "authorization_code"),
        ("client_id", "mobile"),
        ("code", code.as_str()),
        ("redirect_uri", CALLBACK),
        ("code_verifier", VERIFIER),
    ];
    let proof = other.proof(&app, "POST", TOKEN, json!({}));
    let answer = app.token_dpop(None, &proof, &form).await;
    assert_eq!(answer.str("token_type"), "DPoP");

    // A dpop_jkt that is no thumbprint goes back to the client.
    let mut jar = Jar::default();
    let answer = app
        .authorize(&mut jar, &mobile_query(&pkce, &[("dpop_jkt", "short")]))
        .await;
    let query = query_of(answer.header("location").expect("a redirect"));
    assert_eq!(query["error"], "invalid_request");
    assert_eq!(
        query["error_description"],
        "the dpop_jkt parameter must be a JWK SHA-256 thumbprint (43 base64url characters)"
    );
}
