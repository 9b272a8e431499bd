//! The `resource_server` example of tessera-verifier against a real Tessera: Tessera in process
//! on an ephemeral port (its issuer URL its own address, so the API can discover its keys and
//! fetch its status lists), the example's API beside it on another, both reached over HTTP. The
//! issuer's clock and the API's are moved together.

use crate::harness::*;
use serde_json::{json, Value};
use std::time::Duration;
use tessera::jose::SigningAlg;

const AUDIENCE: &str = "https://reports.internal";

async fn issuer_and_api(vars: &[(&str, &str)]) -> (TestApp, ExampleApi) {
    let app = spawn(&reachable(TestConfig::new())).await;
    let api = ExampleApi::start(&app, vars).await;
    (app, api)
}

async fn token_with(app: &TestApp, extra: &[(&str, &str)]) -> String {
    let answer = app.reports_token(extra).await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    answer.str("access_token").to_owned()
}

#[tokio::test]
async fn the_example_api_reads_its_configuration_from_the_environment() {
    let app = spawn(&reachable(TestConfig::new())).await;
    // A token the default audience accepts, from an API configured by nothing but its issuer.
    let api = ExampleApi::start(&app, &[]).await;
    let token = app.new_token().await;
    assert_eq!(api.get("/reports", Some(&token)).await.status, 200);
    // Another audience: the same token is not for it.
    assert!(!unverified_claims(&token)["aud"]
        .as_array()
        .unwrap()
        .contains(&json!("https://special.internal")));
    let special = ExampleApi::start(&app, &[("API_AUDIENCE", "https://special.internal")]).await;
    special
        .get("/reports", Some(&token))
        .await
        .assert_invalid_token("the token is not meant for this audience");
    // Keys at an explicit JWK Set URL instead of discovery.
    let jwks_uri = app.url("/.well-known/jwks.json");
    let explicit = ExampleApi::start(&app, &[("API_JWKS_URI", &jwks_uri)]).await;
    assert_eq!(explicit.get("/reports", Some(&token)).await.status, 200);
}

#[tokio::test]
async fn good_tokens_are_accepted_and_each_route_needs_its_scope() {
    let (app, api) = issuer_and_api(&[]).await;
    assert_eq!(
        api.get("/healthz", None).await.json,
        json!({"status": "ok"})
    );

    let reader = app.new_token().await;
    let listed = api.get("/reports", Some(&reader)).await;
    assert_eq!(listed.status, 200, "{}", listed.json);
    assert_eq!(listed.json, json!({"reports": [], "read_by": "reports"}));
    let me = api.get("/whoami", Some(&reader)).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json["client_id"], "reports");
    assert_eq!(me.json["scope"], json!(["reports:read"]));
    assert_eq!(me.json["certificate_bound"], false);
    assert_eq!(me.json["exp"], unverified_claims(&reader)["exp"]);

    // Writing needs reports:write: 403 with the scope it needs in the challenge.
    api.post("/reports", &reader, &json!({"title": "Q3"}))
        .await
        .assert_bearer_error(
            403,
            "insufficient_scope",
            "the token lacks the required scope",
            Some("reports:write"),
        );
    let writer = token_with(&app, &[("scope", "reports:read reports:write")]).await;
    let created = api.post("/reports", &writer, &json!({"title": "Q3"})).await;
    assert_eq!(created.status, 201, "{}", created.json);
    assert_eq!(
        created.json,
        json!({"id": 1, "title": "Q3", "created_by": "reports"})
    );
    assert_eq!(
        api.get("/reports", Some(&reader)).await.json["reports"][0]["title"],
        "Q3"
    );
    // And reading needs reports:read, which a writer-only token lacks.
    let write_only = token_with(&app, &[("scope", "reports:write")]).await;
    api.get("/reports", Some(&write_only))
        .await
        .assert_bearer_error(
            403,
            "insufficient_scope",
            "the token lacks the required scope",
            Some("reports:read"),
        );

    // No token: 401 with a bare challenge (RFC 6750 3.1: no error code).
    let bare = api.get("/reports", None).await;
    assert_eq!(bare.status, 401);
    assert_eq!(
        bare.header("www-authenticate"),
        Some("Bearer realm=\"reports\"")
    );
    // Not a Bearer header: 400 invalid_request.
    let basic = Answer::from(
        reqwest::Client::new()
            .get(format!("{}/reports", api.url))
            .header("authorization", basic_header("reports", REPORTS_SECRET))
            .send()
            .await
            .unwrap(),
    )
    .await;
    basic.assert_bearer_error(
        400,
        "invalid_request",
        "the Authorization header is not a Bearer token",
        None,
    );
}

#[tokio::test]
async fn bad_tokens_are_refused_with_rfc_6750_errors() {
    let (app, api) = issuer_and_api(&[]).await;
    let good = app.new_token().await;
    let refused = |token: String, description: &'static str| {
        let api = &api;
        async move {
            api.get("/reports", Some(&token))
                .await
                .assert_invalid_token(description);
        }
    };

    // Another audience.
    refused(
        token_with(&app, &[("audience", "billing-api")]).await,
        "the token is not meant for this audience",
    )
    .await;
    // Another typ: an ID token, signed by the same key.
    let login = app
        .password_grant("alice", ALICE_PASSWORD, Some("openid reports:read"))
        .await;
    assert_eq!(unverified_claims(login.str("id_token"))["aud"], "mobile");
    refused(
        login.str("id_token").to_owned(),
        "the token type is not accepted",
    )
    .await;
    // A claim changed under the original signature.
    refused(
        tampered(&good, json!({"scope": "reports:read reports:admin"})),
        "the token signature is not valid",
    )
    .await;
    // The algorithm swapped: none, and HS256 keyed with the published public key.
    refused(alg_none(&good), "the token's algorithm is not allowed").await;
    let kid = jsonwebtoken::decode_header(&good).unwrap().kid.unwrap();
    let public_key = find_key(&app.jwks().await, &kid).unwrap();
    refused(
        hs256_with_public_key(&good, &public_key),
        "the token's algorithm is not allowed",
    )
    .await;
    // Signed by a key Tessera never published.
    refused(signed_by_stranger(&good), "no key matches the token").await;
    // Not a JWT at all.
    refused(
        "not-a-token".to_owned(),
        "the token is malformed: not a compact JWS or JWE",
    )
    .await;

    // Expired: the good token was accepted, then 15 minutes and the 30 s leeway pass on both
    // clocks.
    assert_eq!(api.get("/reports", Some(&good)).await.status, 200);
    api.advance(&app, Duration::from_secs(15 * 60 + 29));
    assert_eq!(
        api.get("/reports", Some(&good)).await.status,
        200,
        "within the leeway"
    );
    api.advance(&app, Duration::from_secs(1));
    refused(good, "the token has expired").await;
    // A token issued now is good on both clocks.
    assert_eq!(
        api.get("/reports", Some(&app.new_token().await))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn a_revoked_token_is_accepted_from_the_cached_list_then_refused_after_its_ttl() {
    let (app, api) = issuer_and_api(&[]).await;
    let (revoked, kept) = app.two_tokens_in_one_list().await;
    assert_eq!(api.get("/reports", Some(&revoked)).await.status, 200);

    let answer = app
        .revoke(("reports", REPORTS_SECRET), &[("token", &revoked)])
        .await;
    assert_eq!(answer.status, 200);
    // The API holds the list it fetched for its ttl (60 s, Tessera's default): the draft lets a
    // verifier use a cached list that long, so the revoked token still passes.
    assert_eq!(
        app.status_list(&status_of(&revoked).0).await.claims["ttl"],
        60
    );
    api.advance(&app, Duration::from_secs(59));
    assert_eq!(api.get("/reports", Some(&revoked)).await.status, 200);
    // Past the ttl the API fetches the list again and sees the bit.
    api.advance(&app, Duration::from_secs(1));
    api.get("/reports", Some(&revoked))
        .await
        .assert_invalid_token("the token has been revoked");
    assert_eq!(api.get("/reports", Some(&kept)).await.status, 200);
}

#[tokio::test]
async fn rotated_keys_verify_without_restarting_the_api() {
    let mut config = reachable(TestConfig::new());
    config.keys = KeysConfig {
        publish_ahead: Some(Duration::from_secs(10 * 60)),
        jwks_max_age: Some(Duration::from_secs(5 * 60)),
    };
    let app = spawn(&config).await;
    let api = ExampleApi::start(&app, &[]).await;
    let before = app.new_token().await;
    assert_eq!(api.get("/reports", Some(&before)).await.status, 200);

    // `tessera keys rotate`, then the reload SIGHUP triggers.
    let new_key = tessera::keys::rotate(
        &app.keys_dir,
        SigningAlg::ES256,
        app.clock_now(),
        Duration::from_secs(10 * 60),
    )
    .unwrap();
    app.state.reload_keys().unwrap();
    // Ten minutes on, the new key signs.
    api.advance(&app, Duration::from_secs(10 * 60 + 1));
    let after = app.new_token().await;
    let kid = jsonwebtoken::decode_header(&after).unwrap().kid.unwrap();
    assert_eq!(kid, new_key.kid);
    assert_ne!(
        kid,
        jsonwebtoken::decode_header(&before).unwrap().kid.unwrap()
    );
    let me = api.get("/whoami", Some(&after)).await;
    assert_eq!(me.status, 200, "{}", me.json);
    // The old key's token is still good until it expires.
    assert_eq!(api.get("/whoami", Some(&before)).await.status, 200);
}

#[tokio::test]
async fn with_tessera_stopped_cached_keys_keep_working_and_revocation_fails_closed() {
    let (app, api) = issuer_and_api(&[("API_STATUS_MAX_STALENESS_SECS", "120")]).await;
    let token = app.new_token().await;
    let elsewhere = token_with(&app, &[("audience", "billing-api")]).await;
    assert_eq!(api.get("/reports", Some(&token)).await.status, 200);
    app.handle.stop(true).await;
    assert!(
        reqwest::get(app.url("/healthz")).await.is_err(),
        "Tessera is down"
    );

    // Cached keys and list: accepted.
    assert_eq!(api.get("/reports", Some(&token)).await.status, 200);
    // Past the list's ttl (60 s) its refetch fails, and the copy is used stale, within the
    // 120 s bound.
    api.advance(&app, Duration::from_secs(150));
    assert_eq!(api.get("/reports", Some(&token)).await.status, 200);

    // Past the bound (60 + 120 s), and past the JWK Set's max-age (300 s) too.
    api.advance(&app, Duration::from_secs(200));
    let unavailable = api.get("/reports", Some(&token)).await;
    assert_eq!(unavailable.status, 503, "{}", unavailable.json);
    assert_eq!(unavailable.json["error"], "temporarily_unavailable");
    let description = unavailable.json["error_description"].as_str().unwrap();
    let uri = status_of(&token).0;
    assert!(
        description.starts_with(&format!(
            "the token's status cannot be checked: the status list {uri} could not be had: "
        )),
        "{description}"
    );
    assert!(!description.contains(&token));
    assert_eq!(unavailable.header("retry-after"), Some("5"));
    assert_eq!(unavailable.header("www-authenticate"), None);
    // The keys still verify signatures: these tokens fail on what comes after the signature
    // check, or on the signature itself, not on missing keys.
    api.get("/reports", Some(&elsewhere))
        .await
        .assert_invalid_token("the token is not meant for this audience");
    api.get(
        "/reports",
        Some(&tampered(&token, json!({"sub": "mallory"}))),
    )
    .await
    .assert_invalid_token("the token signature is not valid");
}

#[tokio::test]
async fn a_certificate_bound_token_is_refused_without_its_certificate() {
    let pki = Pki::new();
    let (identity, der, key) = pki.client("bound-client", false);
    let (other_identity, _, _) = pki.client("bound-client", false);
    let config = reachable(
        TestConfig::new().tls(Pki::tls_listener()).client(
            ClientConfig::new("bound-client")
                .token_endpoint_auth_methods(&["self_signed_tls_client_auth"])
                .jwks(json!({ "keys": [public_jwk(&key)] }))
                .scopes(&["reports:read"])
                .default_scopes(&["reports:read"])
                .audience(&[AUDIENCE]),
        ),
    );
    let app = spawn_in(pki.dir.clone(), &config).await;
    let token_url = format!(
        "https://localhost:{}/oauth2/token",
        app.tls_port.expect("a TLS listener")
    );
    let answer = post_form(
        &pki.http(Some(&identity)),
        &token_url,
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "bound-client"),
        ],
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    let bound = answer.str("access_token").to_owned();
    assert_eq!(
        unverified_claims(&bound)["cnf"],
        json!({"x5t#S256": thumbprint(&der)})
    );

    let dir = pki.dir.path();
    let cert = dir.join("server.pem");
    let key_file = dir.join("server-key.pem");
    let api = ExampleApi::start(
        &app,
        &[
            ("API_TLS_CERT", cert.to_str().unwrap()),
            ("API_TLS_KEY", key_file.to_str().unwrap()),
            ("API_TLS_LISTEN", "127.0.0.1:0"),
        ],
    )
    .await;

    // Over mutual TLS with its certificate: accepted.
    let me = api
        .get_tls(&pki.http(Some(&identity)), "/whoami", &bound)
        .await;
    assert_eq!(me.status, 200, "{}", me.json);
    assert_eq!(me.json["certificate_bound"], true);
    assert_eq!(me.json["client_id"], "bound-client");
    // Without a certificate, over HTTPS or plain HTTP: refused.
    let missing = "the token is bound to a client certificate and none was presented";
    api.get_tls(&pki.http(None), "/whoami", &bound)
        .await
        .assert_invalid_token(missing);
    api.get("/whoami", Some(&bound))
        .await
        .assert_invalid_token(missing);
    // With someone else's certificate (same subject, another key): refused.
    api.get_tls(&pki.http(Some(&other_identity)), "/whoami", &bound)
        .await
        .assert_invalid_token("the token is bound to another client certificate");
    // A bearer token needs no certificate, and presenting one changes nothing.
    let bearer = app.new_token().await;
    let plain = api
        .get_tls(&pki.http(Some(&identity)), "/whoami", &bearer)
        .await;
    assert_eq!(plain.status, 200);
    assert_eq!(plain.json["certificate_bound"], false);
}

/// The URL the DPoP tests' clients address the API at: a gateway's, in front of the API's own
/// loopback address (the proofs' `htu` names it, not the socket the request came in on).
const PUBLIC_URL: &str = "https://reports.example.test";

/// A DPoP-bound access token of `reports` for `key`, from Tessera's token endpoint.
async fn dpop_token(app: &TestApp, key: &DpopKey) -> String {
    let proof = key.proof(app, "POST", "/oauth2/token", json!({}));
    let answer = app
        .token_dpop(
            Some(("reports", REPORTS_SECRET)),
            &proof,
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(answer.str("token_type"), "DPoP");
    answer.str("access_token").to_owned()
}

/// A proof of `GET path` at the API for `token`, at `app`'s clock, plus `extra` claims.
fn api_proof(app: &TestApp, key: &DpopKey, path: &str, token: &str, extra: Value) -> String {
    let mut claims = proof_claims("GET", &format!("{PUBLIC_URL}{path}"), app.clock_now());
    claims["ath"] = ath(token).into();
    for (name, value) in extra.as_object().unwrap() {
        claims[name] = value.clone();
    }
    key.sign(claims)
}

#[tokio::test]
async fn a_dpop_bound_token_is_taken_with_its_proof_and_refused_without() {
    let (app, api) = issuer_and_api(&[("API_PUBLIC_URL", PUBLIC_URL)]).await;
    let algs = "ES256 ES384 RS256 PS256 EdDSA";
    let dpop_challenge = format!("DPoP realm=\"{REALM}\", algs=\"{algs}\"");
    for alg in ["ES256", "EdDSA"] {
        let key = DpopKey::new(alg);
        let token = dpop_token(&app, &key).await;
        // Tessera bound it to jwcrypto's thumbprint of the key.
        assert_eq!(unverified_claims(&token)["cnf"], json!({"jkt": key.jkt}));
        let proof = api_proof(&app, &key, "/whoami", &token, json!({}));
        let me = api.get_with("/whoami", "DPoP", &token, Some(&proof)).await;
        assert_eq!(me.status, 200, "{alg}: {}", me.json);
        assert_eq!(me.json["dpop_bound"], true);
        assert_eq!(me.json["client_id"], "reports");

        // The same proof again: a replay.
        let replayed = api.get_with("/whoami", "DPoP", &token, Some(&proof)).await;
        assert_eq!(replayed.status, 401);
        assert_eq!(replayed.json["error"], "invalid_dpop_proof");
        assert_eq!(
            replayed.json["error_description"],
            "the DPoP proof has been used before"
        );
        assert_eq!(
            replayed.challenges(),
            [
                format!("Bearer realm=\"{REALM}\""),
                format!("{dpop_challenge}, error=\"invalid_dpop_proof\", error_description=\"the DPoP proof has been used before\"")
            ]
        );
    }
    let key = DpopKey::new("ES256");
    let token = dpop_token(&app, &key).await;
    // As a bearer token (RFC 9449 7.2), or with the DPoP scheme and no proof: refused.
    let downgraded = api.get("/reports", Some(&token)).await;
    assert_eq!(downgraded.status, 401);
    assert_eq!(downgraded.json["error"], "invalid_token");
    assert_eq!(
        downgraded.challenges()[1],
        format!("{dpop_challenge}, error=\"invalid_token\", error_description=\"the token is DPoP-bound: present it with the DPoP scheme and a proof\"")
    );
    let without = api.get_with("/reports", "DPoP", &token, None).await;
    assert_eq!(
        (without.status, without.json["error"].as_str()),
        (401, Some("invalid_dpop_proof"))
    );
    // Proofs that are not for this request or this token.
    let other_key = DpopKey::new("ES256");
    for (name, proof, error, description) in [
        (
            "another key",
            api_proof(&app, &other_key, "/reports", &token, json!({})),
            "invalid_token",
            "the token is not bound to the DPoP proof's key",
        ),
        (
            "another path",
            api_proof(&app, &key, "/whoami", &token, json!({})),
            "invalid_dpop_proof",
            "the DPoP proof's htu is not the URL of this request",
        ),
        (
            "the API's own address",
            key.sign(
                json!({"jti": "j-1", "htm": "GET", "htu": format!("{}/reports", api.url),
                "iat": app.clock_now(), "ath": ath(&token)}),
            ),
            "invalid_dpop_proof",
            "the DPoP proof's htu is not the URL of this request",
        ),
        (
            "another token's ath",
            api_proof(&app, &key, "/reports", &token, json!({"ath": ath("other")})),
            "invalid_dpop_proof",
            "the DPoP proof's ath is not the hash of the access token",
        ),
        (
            "an old proof",
            api_proof(
                &app,
                &key,
                "/reports",
                &token,
                json!({"iat": app.clock_now() - 120}),
            ),
            "invalid_dpop_proof",
            "the DPoP proof was issued too long ago",
        ),
    ] {
        let refused = api.get_with("/reports", "DPoP", &token, Some(&proof)).await;
        assert_eq!(refused.status, 401, "{name}: {}", refused.json);
        assert_eq!(
            refused.json,
            json!({"error": error, "error_description": description}),
            "{name}"
        );
    }
    // Scopes are checked as for bearer tokens; a plain bearer token is still taken.
    let listed = api_proof(&app, &key, "/reports", &token, json!({}));
    assert_eq!(
        api.get_with("/reports", "DPoP", &token, Some(&listed))
            .await
            .status,
        200
    );
    assert_eq!(
        api.get("/reports", Some(&app.new_token().await))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn without_its_public_url_the_api_refuses_dpop_bound_tokens() {
    let (app, api) = issuer_and_api(&[]).await;
    let key = DpopKey::new("ES256");
    let token = dpop_token(&app, &key).await;
    api.get("/reports", Some(&token))
        .await
        .assert_invalid_token(
            "the token is bound to a DPoP key and this resource server does not take DPoP proofs",
        );
}

#[tokio::test]
async fn the_api_can_require_its_dpop_nonce() {
    let (app, api) = issuer_and_api(&[
        ("API_PUBLIC_URL", PUBLIC_URL),
        (
            "API_DPOP_NONCE_SECRET",
            "a nonce secret of thirty-two bytes or more",
        ),
    ])
    .await;
    let key = DpopKey::new("ES256");
    let token = dpop_token(&app, &key).await;
    let first = api_proof(&app, &key, "/reports", &token, json!({}));
    let asked = api.get_with("/reports", "DPoP", &token, Some(&first)).await;
    assert_eq!(asked.status, 401);
    assert_eq!(asked.json["error"], "use_dpop_nonce");
    assert!(asked.challenges()[1].contains("error=\"use_dpop_nonce\""));
    let nonce = asked
        .header("dpop-nonce")
        .expect("the nonce to use")
        .to_owned();
    let retried = api_proof(&app, &key, "/reports", &token, json!({ "nonce": nonce }));
    let answer = api
        .get_with("/reports", "DPoP", &token, Some(&retried))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.json);
}
