//! DPoP where an access token is presented (RFC 9449 7): userinfo, the UMA permission endpoint
//! with a PAT, token exchange's subject token; the challenges of each refusal.

use crate::harness::*;
use serde_json::json;

const USERINFO: &str = "/oauth2/userinfo";
const ALGS: &str = "ES256 ES384 RS256 PS256 EdDSA";

/// A DPoP-bound token of alice (openid email) from `mobile`, bound to `key`.
async fn alice_token(app: &TestApp, key: &DpopKey) -> String {
    let proof = key.proof(app, "POST", "/oauth2/token", json!({}));
    let form = [
        ("grant_type", "password"),
        ("client_id", "mobile"),
        ("username", "alice"),
        ("password", ALICE_PASSWORD),
        ("scope", "openid email"),
    ];
    let answer = app.token_dpop(None, &proof, &form).await;
    assert_eq!(answer.str("token_type"), "DPoP", "{}", answer.json);
    answer.str("access_token").to_owned()
}

/// Asserts a 401 with both challenges, the error named in the DPoP one.
fn assert_dpop_refusal(answer: &Answer, error: &str, description: &str) {
    answer.assert_error(401, error, description);
    assert_eq!(
        answer.challenges(),
        [
            "Bearer realm=\"tessera\"".to_owned(),
            format!(
                "DPoP realm=\"tessera\", algs=\"{ALGS}\", error=\"{error}\", error_description=\"{description}\""
            ),
        ]
    );
}

#[tokio::test]
async fn userinfo_takes_a_dpop_token_with_a_proof_naming_it() {
    let app = spawn_app().await;
    let key = DpopKey::new("ES256");
    let other = DpopKey::new("ES256");
    let token = alice_token(&app, &key).await;
    let hash = ath(&token);

    let proof = key.proof(&app, "GET", USERINFO, json!({ "ath": hash }));
    let answer = app.userinfo_with("DPoP", &token, Some(&proof)).await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(
        answer.json,
        json!({"sub": "alice", "email": "alice@example.com", "email_verified": true})
    );
    // POST too, the method in htm.
    let proof = key.proof(&app, "POST", USERINFO, json!({ "ath": hash }));
    let answer = Answer::from(
        app.client
            .post(app.url(USERINFO))
            .header("Authorization", format!("DPoP {token}"))
            .header("DPoP", proof)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.json);

    // Never as a bearer token.
    assert_dpop_refusal(
        &app.userinfo(&token).await,
        "invalid_token",
        "the access token is DPoP-bound: present it with the DPoP scheme and a proof",
    );
    assert_dpop_refusal(
        &app.userinfo_with("DPoP", &token, None).await,
        "invalid_dpop_proof",
        "the DPoP scheme needs a DPoP proof",
    );
    let no_ath = key.proof(&app, "GET", USERINFO, json!({}));
    assert_dpop_refusal(
        &app.userinfo_with("DPoP", &token, Some(&no_ath)).await,
        "invalid_dpop_proof",
        "the DPoP proof has no ath claim",
    );
    let wrong_ath = key.proof(&app, "GET", USERINFO, json!({ "ath": ath("another") }));
    assert_dpop_refusal(
        &app.userinfo_with("DPoP", &token, Some(&wrong_ath)).await,
        "invalid_dpop_proof",
        "the DPoP proof's ath is not the hash of the access token",
    );
    let wrong_htu = key.proof(&app, "GET", "/oauth2/token", json!({ "ath": hash }));
    assert_dpop_refusal(
        &app.userinfo_with("DPoP", &token, Some(&wrong_htu)).await,
        "invalid_dpop_proof",
        "the DPoP proof's htu is not the URL of this request",
    );
    let by_other = other.proof(&app, "GET", USERINFO, json!({ "ath": hash }));
    assert_dpop_refusal(
        &app.userinfo_with("DPoP", &token, Some(&by_other)).await,
        "invalid_token",
        "the access token is not bound to the DPoP proof's key",
    );

    // A bearer token is not presented under the DPoP scheme.
    let bearer = app
        .password_grant("alice", ALICE_PASSWORD, Some("openid"))
        .await;
    let bearer = bearer.str("access_token");
    let proof = key.proof(&app, "GET", USERINFO, json!({ "ath": ath(bearer) }));
    assert_dpop_refusal(
        &app.userinfo_with("DPoP", bearer, Some(&proof)).await,
        "invalid_token",
        "the access token is not DPoP-bound: present it as a Bearer token",
    );
    assert_eq!(app.userinfo(bearer).await.status, 200);

    // A bad bearer token: the error is in the Bearer challenge, DPoP offered beside it.
    let garbage = app.userinfo("garbage").await;
    garbage.assert_error(
        401,
        "invalid_token",
        "the access token is not valid, expired or revoked",
    );
    assert_eq!(
        garbage.challenges(),
        [
            "Bearer realm=\"tessera\", error=\"invalid_token\", error_description=\"the access token is not valid, expired or revoked\"".to_owned(),
            format!("DPoP realm=\"tessera\", algs=\"{ALGS}\""),
        ]
    );

    // No token at all: both schemes offered, no error, no body.
    let none = app.get(USERINFO).await;
    assert_eq!(none.status, 401);
    assert_eq!(none.json, json!(""));
    assert_eq!(
        none.challenges(),
        [
            "Bearer realm=\"tessera\"".to_owned(),
            format!("DPoP realm=\"tessera\", algs=\"{ALGS}\""),
        ]
    );
}

#[tokio::test]
async fn resource_nonces_answer_401_with_the_nonce() {
    let app = spawn(&TestConfig::new().raw("dpop.require_nonce", true)).await;
    let key = DpopKey::new("ES256");
    let first = key.proof(&app, "POST", "/oauth2/token", json!({}));
    let form = [
        ("grant_type", "password"),
        ("client_id", "mobile"),
        ("username", "alice"),
        ("password", ALICE_PASSWORD),
        ("scope", "openid"),
    ];
    let nonce = app
        .token_dpop(None, &first, &form)
        .await
        .header("dpop-nonce")
        .unwrap()
        .to_owned();
    let proof = key.proof(&app, "POST", "/oauth2/token", json!({ "nonce": nonce }));
    let issued = app.token_dpop(None, &proof, &form).await;
    let token = issued.str("access_token");

    let proof = key.proof(&app, "GET", USERINFO, json!({ "ath": ath(token) }));
    let answer = app.userinfo_with("DPoP", token, Some(&proof)).await;
    assert_dpop_refusal(
        &answer,
        "use_dpop_nonce",
        "the DPoP proof must carry the server's nonce",
    );
    assert_eq!(answer.header("dpop-nonce"), Some(nonce.as_str()));
    let proof = key.proof(
        &app,
        "GET",
        USERINFO,
        json!({ "ath": ath(token), "nonce": nonce }),
    );
    assert_eq!(
        app.userinfo_with("DPoP", token, Some(&proof)).await.status,
        200
    );
}

#[tokio::test]
async fn the_uma_permission_endpoint_takes_a_pat() {
    let config = TestConfig::new()
        .uma_resource(UmaResourceConfig::new("album-1", "photos-rs").scopes(&["view"]))
        .client(
            ClientConfig::new("photos-rs")
                .secret(OTHER_SECRET)
                .audience(&["https://photos.internal"]),
        );
    let app = spawn(&config).await;
    let permission = json!({"resource_id": "album-1", "resource_scopes": ["view"]});
    let ask = |authorization: String, proof: Option<String>| {
        let mut request = app
            .client
            .post(app.url("/uma/permission"))
            .header("Authorization", authorization)
            .json(&permission);
        if let Some(proof) = proof {
            request = request.header("DPoP", proof);
        }
        async move { Answer::from(request.send().await.unwrap()).await }
    };

    // As a client, as before.
    let answer = ask(basic_header("photos-rs", OTHER_SECRET), None).await;
    assert_eq!(answer.status, 201, "{}", answer.json);

    // A bearer PAT.
    let pat = app
        .token_form(
            Some(("photos-rs", OTHER_SECRET)),
            &[("grant_type", "client_credentials")],
        )
        .await;
    let pat = pat.str("access_token").to_owned();
    let answer = ask(format!("Bearer {pat}"), None).await;
    assert_eq!(answer.status, 201, "{}", answer.json);
    let ticket = unverified_claims(answer.str("ticket"));
    assert_eq!(ticket["rs"], "photos-rs", "{ticket}");

    // A DPoP PAT, with its proof.
    let key = DpopKey::new("ES256");
    let proof = key.proof(&app, "POST", "/oauth2/token", json!({}));
    let bound = app
        .token_dpop(
            Some(("photos-rs", OTHER_SECRET)),
            &proof,
            &[("grant_type", "client_credentials")],
        )
        .await;
    let bound = bound.str("access_token").to_owned();
    let proof = key.proof(
        &app,
        "POST",
        "/uma/permission",
        json!({ "ath": ath(&bound) }),
    );
    let answer = ask(format!("DPoP {bound}"), Some(proof)).await;
    assert_eq!(answer.status, 201, "{}", answer.json);
    assert_dpop_refusal(
        &ask(format!("Bearer {bound}"), None).await,
        "invalid_token",
        "the access token is DPoP-bound: present it with the DPoP scheme and a proof",
    );

    // Another client's token names that client, which registered no such resource.
    let other = app.new_token().await;
    let answer = ask(format!("Bearer {other}"), None).await;
    answer.assert_error(
        400,
        "invalid_request",
        "the resource album-1 is not registered for this resource server",
    );
    let answer = ask("Bearer garbage".to_owned(), None).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.json["error"], "invalid_token");
}

#[tokio::test]
async fn a_dpop_bound_subject_token_is_exchanged_only_with_its_key() {
    const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
    const ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";
    let config = TestConfig::new().client(
        ClientConfig::new("relay")
            .secret(OTHER_SECRET)
            .grant_types(&[TOKEN_EXCHANGE])
            .scopes(&["reports:read"])
            .audience(&["https://reports.internal"]),
    );
    let app = spawn(&config).await;
    let key = DpopKey::new("ES256");
    let other = DpopKey::new("ES256");
    let proof = key.proof(&app, "POST", "/oauth2/token", json!({}));
    let subject = app
        .token_dpop(
            Some(("reports", REPORTS_SECRET)),
            &proof,
            &[("grant_type", "client_credentials")],
        )
        .await;
    let subject = subject.str("access_token");
    let form = [
        ("grant_type", TOKEN_EXCHANGE),
        ("subject_token", subject),
        ("subject_token_type", ACCESS_TOKEN),
    ];
    app.token_form(Some(("relay", OTHER_SECRET)), &form)
        .await
        .assert_error(
            400,
            "invalid_grant",
            "the subject token is bound to a DPoP key this request did not prove",
        );
    let by_other = other.proof(&app, "POST", "/oauth2/token", json!({}));
    app.token_dpop(Some(("relay", OTHER_SECRET)), &by_other, &form)
        .await
        .assert_error(
            400,
            "invalid_grant",
            "the subject token is bound to a DPoP key this request did not prove",
        );
    let by_key = key.proof(&app, "POST", "/oauth2/token", json!({}));
    let exchanged = app
        .token_dpop(Some(("relay", OTHER_SECRET)), &by_key, &form)
        .await;
    assert_eq!(exchanged.status, 200, "{}", exchanged.json);
    assert_eq!(exchanged.str("token_type"), "DPoP");
    let claims = app
        .token_claims(&exchanged, "https://reports.internal")
        .await;
    assert_eq!(claims["cnf"]["jkt"], key.jkt.as_str());
}
