//! client_credentials end to end: the response, the token as a resource server sees it, scopes,
//! audiences, client authentication methods and the secret cache.

use crate::harness::*;
use jsonwebtoken::Algorithm;
use serde_json::{json, Value};
use std::time::Duration;
use tessera::jose::SigningAlg;

#[tokio::test]
async fn basic_authentication_gets_a_token_that_verifies_against_the_jwks() {
    let app = spawn_app().await;
    let answer = app.reports_token(&[]).await;

    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    assert_eq!(answer.header("pragma"), Some("no-cache"));
    assert_eq!(answer.header("content-type"), Some("application/json"));
    let body = answer.json.as_object().unwrap();
    let mut fields: Vec<&str> = body.keys().map(String::as_str).collect();
    fields.sort();
    assert_eq!(
        fields,
        ["access_token", "expires_in", "scope", "token_type"]
    );
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["scope"], "reports:read");

    let token = body["access_token"].as_str().unwrap();
    // Three audiences configured and none requested: all three, as an array.
    let (header, claims) = app
        .verify(token, Algorithm::ES256, "https://reports.internal")
        .await;
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    assert_eq!(header.alg, Algorithm::ES256);
    let now = app.clock_now();
    assert_eq!(claims["iss"], ISSUER);
    assert_eq!(claims["sub"], "reports");
    assert_eq!(claims["client_id"], "reports");
    assert_eq!(
        claims["aud"],
        json!([
            "https://reports.internal",
            "https://audit.internal",
            "billing-api"
        ])
    );
    assert_eq!(claims["iat"], now);
    assert_eq!(claims["nbf"], now);
    assert_eq!(claims["exp"], now + 900);
    assert_eq!(claims["scope"], "reports:read");
    let jti = claims["jti"].as_str().unwrap();
    assert!(jti.len() >= 22, "jti carries at least 128 bits: {jti}");
    // Where a resource server learns of its revocation (Token Status List).
    let status = &claims["status"]["status_list"];
    assert!(status["idx"].is_u64(), "{claims}");
    assert!(status["uri"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{ISSUER}/oauth2/status-lists/")));
    assert_eq!(status.as_object().unwrap().len(), 2);
    assert_eq!(
        claims.as_object().unwrap().len(),
        10,
        "no other claims: {claims}"
    );
}

#[tokio::test]
async fn every_signing_algorithm_is_verified_by_an_independent_implementation() {
    for (signing_alg, name, alg) in [
        (SigningAlg::ES256, "ES256", Algorithm::ES256),
        (SigningAlg::ES384, "ES384", Algorithm::ES384),
        (SigningAlg::RS256, "RS256", Algorithm::RS256),
        (SigningAlg::PS256, "PS256", Algorithm::PS256),
        (SigningAlg::EdDSA, "EdDSA", Algorithm::EdDSA),
    ] {
        let app = spawn(&TestConfig::new().signing_alg(signing_alg)).await;
        let answer = app.reports_token(&[]).await;
        assert_eq!(answer.status, 200, "{name}: {}", answer.json);
        let token = answer.json["access_token"].as_str().unwrap();
        let (header, claims) = app.verify(token, alg, "billing-api").await;
        assert_eq!(header.alg, alg);
        assert_eq!(claims["sub"], "reports", "{name}");
        let jwk = find_key(&app.jwks().await, header.kid.as_deref().unwrap()).unwrap();
        assert_eq!(jwk["alg"], name);
        assert_eq!(jwk["use"], "sig");
    }
}

/// `token` with its payload changed by `change`, header and signature kept.
fn with_changed_claims(token: &str, change: impl Fn(&mut Value)) -> String {
    use base64::Engine;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims = unverified_claims(token);
    change(&mut claims);
    format!(
        "{}.{}.{}",
        parts[0],
        engine.encode(claims.to_string()),
        parts[2]
    )
}

/// The forgeries a resource server must refuse, made from the genuine `token`: a changed claim,
/// `alg: none` without a signature, and the same claims signed by an impostor under the
/// issuer's kid.
fn forgeries_of(token: &str, change: impl Fn(&mut Value)) -> Vec<(&'static str, String)> {
    use base64::Engine;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = jsonwebtoken::decode_header(token).unwrap();
    let kid = header.kid.clone().unwrap();
    let claims = unverified_claims(token);
    let unsigned = format!(
        "{}.{}.",
        engine.encode(json!({"alg": "none", "typ": header.typ, "kid": kid}).to_string()),
        token.split('.').nth(1).unwrap()
    );
    let impostor = TestKey::new(SigningAlg::ES256, &kid);
    let mut impostor_header = jsonwebtoken::Header::new(Algorithm::ES256);
    impostor_header.typ = header.typ.clone();
    impostor_header.kid = Some(kid);
    let resigned = jsonwebtoken::encode(&impostor_header, &claims, &impostor.encoding).unwrap();
    vec![
        ("changed claim", with_changed_claims(token, change)),
        ("alg none", unsigned),
        ("impostor key", resigned),
    ]
}

#[tokio::test]
async fn a_tampered_or_foreign_token_does_not_verify_and_no_endpoint_accepts_it() {
    let app = spawn_app().await;
    let other = spawn_app().await;
    let token = app.new_token().await;
    // Another issuer's keys do not verify it (its kid is not there).
    let jwks = other.jwks().await;
    let kid = jsonwebtoken::decode_header(&token).unwrap().kid.unwrap();
    assert!(find_key(&jwks, &kid).is_none());
    // A changed claim breaks the signature.
    let forged = with_changed_claims(&token, |claims| claims["scope"] = json!("reports:admin"));
    let key = app.decoding_key(&kid).await;
    let mut validation = jsonwebtoken::Validation::new(Algorithm::ES256);
    validation.set_audience(&["billing-api"]);
    assert!(jsonwebtoken::decode::<Value>(&forged, &key, &validation).is_err());
    assert!(jsonwebtoken::decode::<Value>(&token, &key, &validation).is_ok());

    // Tessera itself reads tokens at introspection, userinfo and revocation: a forgery, or a
    // token of another issuer, is nothing there, while the genuine token still is something.
    let mut client_forgeries =
        forgeries_of(&token, |claims| claims["scope"] = json!("reports:admin"));
    client_forgeries.push(("another issuer", other.new_token().await));
    let user = app
        .password_grant("alice", ALICE_PASSWORD, Some("openid email"))
        .await
        .str("access_token")
        .to_owned();
    let mut user_forgeries = forgeries_of(&user, |claims| claims["sub"] = json!("bob"));
    let foreign_user = other
        .password_grant("alice", ALICE_PASSWORD, Some("openid email"))
        .await;
    user_forgeries.push((
        "another issuer",
        foreign_user.str("access_token").to_owned(),
    ));

    for (what, forged) in client_forgeries.iter().chain(&user_forgeries) {
        let answer = app.introspect(forged).await;
        assert_eq!(answer.status, 200, "{what}: {}", answer.json);
        assert_eq!(answer.json, json!({"active": false}), "{what}");
        assert_eq!(answer.header("cache-control"), Some("no-store"), "{what}");
    }
    for (what, forged) in &user_forgeries {
        let answer = app.userinfo(forged).await;
        assert_eq!(answer.status, 401, "{what}: {}", answer.json);
        assert_eq!(answer.json["error"], "invalid_token", "{what}");
        assert!(
            answer
                .header("www-authenticate")
                .is_some_and(|challenge| challenge.contains("error=\"invalid_token\"")),
            "{what}: {:?}",
            answer.header("www-authenticate")
        );
    }
    // Revoking a forgery is answered like any unknown token (RFC 7009 2.2) and revokes nothing,
    // not even the genuine token whose jti it carries.
    for (what, forged) in &client_forgeries {
        let answer = app
            .revoke(("reports", REPORTS_SECRET), &[("token", forged)])
            .await;
        assert_eq!(answer.status, 200, "{what}: {}", answer.json);
    }
    for (what, forged) in &user_forgeries {
        let answer = app.revoke_public("mobile", forged).await;
        assert_eq!(answer.status, 200, "{what}: {}", answer.json);
    }
    assert_eq!(
        metric(&app.metrics().await, "tessera_revocations_total"),
        Some(0.0)
    );
    assert_eq!(app.introspect(&token).await.json["active"], true);
    assert_eq!(app.introspect(&user).await.json["active"], true);
    let info = app.userinfo(&user).await;
    assert_eq!(info.status, 200, "{}", info.json);
    assert_eq!(info.json["sub"], "alice");
}

#[tokio::test]
async fn expiry_follows_the_injected_clock() {
    // An issuer whose clock reads two hours ago: a resource server refuses its token as expired.
    let two_hours_ago = chrono::Utc::now().timestamp() - 7200;
    let dir = std::sync::Arc::new(tempfile::TempDir::new().unwrap());
    let app = spawn_at(dir, &TestConfig::new(), two_hours_ago).await;
    let token = app.new_token().await;
    let kid = jsonwebtoken::decode_header(&token).unwrap().kid.unwrap();
    let key = app.decoding_key(&kid).await;
    let mut validation = jsonwebtoken::Validation::new(Algorithm::ES256);
    validation.set_audience(&["billing-api"]);
    let err = jsonwebtoken::decode::<serde_json::Value>(&token, &key, &validation).unwrap_err();
    assert_eq!(
        *err.kind(),
        jsonwebtoken::errors::ErrorKind::ExpiredSignature
    );

    // A client's own lifetime overrides the default.
    app.clock.advance(Duration::from_secs(7200));
    let answer = app
        .token_form(
            Some((SPECIAL_ID, SPECIAL_SECRET)),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(answer.json["expires_in"], 120);
    let claims = app.token_claims(&answer, "https://special.internal").await;
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        120
    );
    assert_eq!(
        claims["aud"], "https://special.internal",
        "one audience is a string"
    );
}

#[tokio::test]
async fn every_token_has_its_own_jti() {
    let app = spawn_app().await;
    let mut seen = std::collections::HashSet::new();
    for _ in 0..20 {
        let token = app.reports_token(&[]).await.json["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let (_, claims) = app.verify(&token, Algorithm::ES256, "billing-api").await;
        assert!(seen.insert(claims["jti"].as_str().unwrap().to_owned()));
    }
}

#[tokio::test]
async fn basic_credentials_are_form_decoded_as_rfc_6749_says() {
    let app = spawn_app().await;
    // The id has ':' and ' '; the secret has '@', ':', '+', '%', '/', '&', '=' and 'é'.
    let answer = app
        .token_form(
            Some((SPECIAL_ID, SPECIAL_SECRET)),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(answer.json["scope"], "special");
}

#[tokio::test]
async fn client_secret_post_works_with_form_and_json_bodies() {
    let app = spawn_app().await;
    let form = app
        .token_form(
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "post-only"),
                ("client_secret", OTHER_SECRET),
            ],
        )
        .await;
    assert_eq!(form.status, 200, "{}", form.json);
    assert_eq!(form.json["scope"], "a");

    let json = app
        .token_json(&json!({
            "grant_type": "client_credentials",
            "client_id": "reports",
            "client_secret": REPORTS_SECRET,
            "scope": "reports:write",
        }))
        .await;
    assert_eq!(json.status, 200, "{}", json.json);
    assert_eq!(json.json["scope"], "reports:write");
    app.verify(
        json.json["access_token"].as_str().unwrap(),
        Algorithm::ES256,
        "billing-api",
    )
    .await;

    // Basic with the same client_id in the body is one method, not two.
    let both = app
        .token_form(
            Some(("reports", REPORTS_SECRET)),
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "reports"),
            ],
        )
        .await;
    assert_eq!(both.status, 200, "{}", both.json);
}

#[tokio::test]
async fn requested_scopes_must_all_be_allowed() {
    let app = spawn_app().await;
    let answer = app
        .reports_token(&[("scope", "reports:write reports:read reports:write")])
        .await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.json["scope"], "reports:write reports:read",
        "repeats dropped, order kept"
    );
    let claims = app.token_claims(&answer, "billing-api").await;
    assert_eq!(claims["scope"], "reports:write reports:read");

    app.reports_token(&[("scope", "reports:read payroll:read admin")])
        .await
        .assert_error(
            400,
            "invalid_scope",
            "the scopes payroll:read admin are not allowed or invalid",
        );
    app.reports_token(&[("scope", "bad\"scope")])
        .await
        .assert_error(
            400,
            "invalid_scope",
            "the scope parameter holds 1 malformed scope token(s)",
        );
}

#[tokio::test]
async fn resource_and_audience_choose_among_the_clients_audiences() {
    let app = spawn_app().await;
    let one = app
        .reports_token(&[("resource", "https://audit.internal")])
        .await;
    assert_eq!(one.status, 200, "{}", one.json);
    let claims = app.token_claims(&one, "https://audit.internal").await;
    assert_eq!(claims["aud"], "https://audit.internal");

    // Named twice, listed once.
    let two = app
        .reports_token(&[
            ("resource", "https://audit.internal"),
            ("audience", "billing-api"),
            ("audience", "https://audit.internal"),
        ])
        .await;
    assert_eq!(two.status, 200, "{}", two.json);
    let claims = app.token_claims(&two, "billing-api").await;
    assert_eq!(
        claims["aud"],
        json!(["https://audit.internal", "billing-api"])
    );

    // JSON bodies may list several resources.
    let listed = app
        .token_json(&json!({
            "grant_type": "client_credentials",
            "client_id": "reports",
            "client_secret": REPORTS_SECRET,
            "resource": ["https://reports.internal", "https://audit.internal"],
        }))
        .await;
    assert_eq!(listed.status, 200, "{}", listed.json);

    app.reports_token(&[("resource", "https://payroll.internal")])
        .await
        .assert_error(
            400,
            "invalid_target",
            "the resource https://payroll.internal is not allowed for the client reports",
        );
    app.reports_token(&[("resource", "billing-api")])
        .await
        .assert_error(
            400,
            "invalid_target",
            "the resource parameter must be an absolute URI without a fragment",
        );
    app.reports_token(&[("resource", "https://audit.internal#x")])
        .await
        .assert_error(
            400,
            "invalid_target",
            "the resource parameter must be an absolute URI without a fragment",
        );
}

#[tokio::test]
async fn a_verified_secret_is_not_hashed_again() {
    let app = spawn_app().await;
    for _ in 0..3 {
        assert_eq!(app.reports_token(&[]).await.status, 200);
    }
    let metrics = app.metrics().await;
    assert_eq!(
        metric(
            &metrics,
            r#"tessera_client_secret_checks_total{path="argon2"}"#
        ),
        Some(1.0)
    );
    assert_eq!(
        metric(
            &metrics,
            r#"tessera_client_secret_checks_total{path="cached"}"#
        ),
        Some(2.0)
    );
    assert_eq!(
        metric(
            &metrics,
            r#"tessera_tokens_issued_total{client_id="reports",grant_type="client_credentials"}"#
        ),
        Some(3.0)
    );
}

#[tokio::test]
async fn a_client_without_scopes_gets_a_token_without_a_scope() {
    let app = spawn_app().await;
    let answer = app
        .token_form(
            Some(("bare", OTHER_SECRET)),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert!(answer.json.get("scope").is_none(), "{}", answer.json);
    let claims = app.token_claims(&answer, "https://bare.internal").await;
    assert!(claims.get("scope").is_none(), "{claims}");
    assert_eq!(claims["sub"], "bare");
}
