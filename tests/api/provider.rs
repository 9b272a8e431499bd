//! The `provider` grant at `POST /auth/token`, as that API's documentation shows its requests,
//! against a fake Facebook token-debug API and an OIDC provider's keys, both on loopback.

use crate::harness::*;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tessera::jose::SigningAlg;

const APP_SECRET: &str = "facebook-app-secret-0123456789abcdef";

/// Facebook's token-debug API: "good-token" is valid for app 1234 and account 10001.
async fn fake_facebook() -> StubServer {
    let facebook = StubServer::start().await;
    facebook.respond_with("/debug_token", |request| {
        if request.method != "GET" {
            return StubResponse::status(405);
        }
        let query = &request.query;
        let app_ok = query.get("access_token").map(String::as_str)
            == Some(&format!("1234|{APP_SECRET}"));
        let future = chrono::Utc::now().timestamp() + 3600;
        let data = match (app_ok, query.get("input_token").map(String::as_str)) {
            (false, _) => {
                return StubResponse::json(
                    400,
                    &json!({"error": {"message": "bad app credentials"}}),
                )
            }
            (true, Some("good-token")) => {
                json!({"app_id": "1234", "is_valid": true, "user_id": "10001", "expires_at": future})
            }
            (true, Some("other-app")) => {
                json!({"app_id": "9999", "is_valid": true, "user_id": "10001", "expires_at": future})
            }
            (true, Some("expired")) => {
                json!({"app_id": "1234", "is_valid": false, "user_id": "10001", "expires_at": 1})
            }
            _ => json!({"is_valid": false}),
        };
        StubResponse::json(200, &json!({ "data": data }))
    });
    facebook
}

/// The two providers (Facebook's API at `facebook_url`, and the OpenID provider `corp`
/// signing with `corp`), the route `/auth/token`, and the client `truelocal`.
fn provider_config(facebook_url: &str, corp: &TestKey) -> TestConfig {
    TestConfig::new()
        .provider(
            ProviderConfig::facebook("facebook", "1234", "facebook.secret", facebook_url)
                .timeout(Duration::from_secs(2)),
        )
        .provider(ProviderConfig::oidc(
            "corp",
            "https://corp.test",
            jwk_set(&[corp]),
            "tessera-at-corp",
        ))
        .route(RouteConfig::new("/auth/token", "token"))
        .client(
            ClientConfig::new("truelocal")
                .token_endpoint_auth_methods(&["none"])
                .grant_types(&["provider"])
                .scopes(&["profile"])
                .audience(&["https://profiles.internal"]),
        )
}

/// Starts `config` next to the Facebook app secret file it names.
async fn spawn_provider_app(config: &TestConfig) -> TestApp {
    let dir = Arc::new(tempfile::TempDir::new().unwrap());
    std::fs::write(dir.path().join("facebook.secret"), APP_SECRET).unwrap();
    spawn_in(dir, config).await
}

async fn provider_token(app: &TestApp, body: Value) -> Answer {
    app.post_json("/auth/token", &body).await
}

fn facebook_body(account_id: &str, access_token: &str) -> Value {
    json!({
        "client_id": "truelocal",
        "grant_type": "provider",
        "provider": "facebook",
        "details": {
            "account_id": account_id,
            "access_token": access_token,
            "refresh_token": "ignored-refresh",
            "expires_in": 5183944
        }
    })
}

#[tokio::test]
async fn facebook_credentials_become_a_token_when_the_provider_confirms_them() {
    let corp = TestKey::new(SigningAlg::ES256, "corp-key");
    let facebook = fake_facebook().await;
    let app = spawn_provider_app(&provider_config(&facebook.url(""), &corp)).await;
    let answer = provider_token(&app, facebook_body("10001", "good-token")).await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(answer.json["token_type"], "Bearer");
    let location = answer.header("location").unwrap();
    assert_eq!(
        location,
        "https://issuer.test/oauth2/userinfo?sub=facebook%3A10001"
    );
    let claims = app.token_claims(&answer, "https://profiles.internal").await;
    assert_eq!(claims["sub"], "facebook:10001");
    assert_eq!(claims["client_id"], "truelocal");
    // The Location is the subject's profile.
    let profile = Answer::from(
        app.client
            .get(app.url("/oauth2/userinfo?sub=facebook%3A10001"))
            .bearer_auth(answer.json["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(profile.status, 200, "{}", profile.json);
    assert_eq!(
        profile.json,
        json!({"sub": "facebook:10001", "idp": "facebook"})
    );

    // An account id sent as a number reads the same.
    let mut numeric = facebook_body("10001", "good-token");
    numeric["details"]["account_id"] = json!(10001);
    assert_eq!(provider_token(&app, numeric).await.status, 200);

    for (account, token, description) in [
        (
            "10001",
            "other-app",
            "the access token was issued for another app",
        ),
        (
            "10002",
            "good-token",
            "the access token belongs to another account",
        ),
        (
            "10001",
            "expired",
            "the provider says the access token is not valid",
        ),
    ] {
        provider_token(&app, facebook_body(account, token))
            .await
            .assert_error(400, "invalid_grant", description);
    }
    let mut missing = facebook_body("10001", "good-token");
    missing["details"]
        .as_object_mut()
        .unwrap()
        .remove("access_token");
    provider_token(&app, missing).await.assert_error(
        400,
        "invalid_request",
        "the parameter details.access_token is missing",
    );
    let mut unknown = facebook_body("10001", "good-token");
    unknown["provider"] = json!("myspace");
    provider_token(&app, unknown).await.assert_error(
        400,
        "invalid_request",
        "the provider is not configured",
    );
}

#[tokio::test]
async fn a_provider_that_is_down_means_invalid_grant() {
    let corp = TestKey::new(SigningAlg::ES256, "corp-key");
    let facebook = fake_facebook().await;
    let app = spawn_provider_app(&provider_config(&facebook.url(""), &corp)).await;
    let good = || facebook_body("10001", "good-token");
    assert_eq!(provider_token(&app, good()).await.status, 200);
    assert_eq!(facebook.hits("/debug_token"), 1);

    // Up but failing: no credentials are confirmed.
    facebook.fail_with(503);
    provider_token(&app, good()).await.assert_error(
        400,
        "invalid_grant",
        "the provider refused the credentials",
    );
    assert_eq!(facebook.hits("/debug_token"), 2);

    // Gone.
    facebook.stop().await;
    provider_token(&app, good()).await.assert_error(
        400,
        "invalid_grant",
        "the provider could not be reached",
    );
}

#[tokio::test]
async fn an_oidc_provider_whose_keys_cannot_be_fetched_means_invalid_grant() {
    let corp = TestKey::new(SigningAlg::ES256, "corp-key");
    let keys = StubServer::start().await;
    keys.fail_with(500);
    let facebook = fake_facebook().await;
    // The same provider as corp, its keys behind a URL.
    let config = provider_config(&facebook.url(""), &corp).provider(ProviderConfig {
        name: "remote-corp".to_owned(),
        kind: "oidc".to_owned(),
        issuer: Some("https://corp.test".to_owned()),
        jwks_uri: Some(keys.url("/jwks")),
        audience: Some("tessera-at-corp".to_owned()),
        ..ProviderConfig::default()
    });
    let app = spawn_provider_app(&config).await;
    let now = app.clock_now();
    let id_token = corp.sign(&json!({"iss": "https://corp.test", "sub": "emp-7", "aud": "tessera-at-corp", "iat": now, "exp": now + 300}));
    let body = json!({"client_id": "truelocal", "grant_type": "provider", "provider": "remote-corp", "details": {"id_token": id_token}});
    provider_token(&app, body).await.assert_error(
        400,
        "invalid_grant",
        "the provider's keys could not be fetched",
    );
    assert!(keys.hits("/jwks") >= 1, "the keys were asked for");
}

#[tokio::test]
async fn an_oidc_providers_id_token_is_verified_against_its_keys() {
    let corp = TestKey::new(SigningAlg::ES256, "corp-key");
    let facebook = fake_facebook().await;
    let app = spawn_provider_app(&provider_config(&facebook.url(""), &corp)).await;
    let now = app.clock_now();
    let id_token = |change: &dyn Fn(&mut Value)| {
        let mut claims = json!({"iss": "https://corp.test", "sub": "emp-7", "aud": "tessera-at-corp", "iat": now, "exp": now + 300});
        change(&mut claims);
        corp.sign(&claims)
    };
    let body = |token: String| json!({"client_id": "truelocal", "grant_type": "provider", "provider": "corp", "details": {"id_token": token}});
    let answer = provider_token(&app, body(id_token(&|_| {}))).await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    let claims = app.token_claims(&answer, "https://profiles.internal").await;
    assert_eq!(claims["sub"], "corp:emp-7");
    provider_token(&app, body(id_token(&|c| c["aud"] = json!("someone-else"))))
        .await
        .assert_error(
            400,
            "invalid_grant",
            "the ID token was issued for another app",
        );
    provider_token(&app, body(id_token(&|c| c["exp"] = json!(now - 600))))
        .await
        .assert_error(400, "invalid_grant", "the ID token has expired");
    provider_token(
        &app,
        body(id_token(&|c| c["iss"] = json!("https://evil.test"))),
    )
    .await
    .assert_error(
        400,
        "invalid_grant",
        "the ID token comes from another issuer",
    );
    let impostor = TestKey::new(SigningAlg::ES256, "corp-key");
    provider_token(&app, body(impostor.sign(&json!({"iss": "https://corp.test", "sub": "ceo", "aud": "tessera-at-corp", "exp": now + 60}))))
        .await
        .assert_error(400, "invalid_grant", "the ID token is not valid");
}

#[tokio::test]
async fn an_oidc_provider_whose_jwks_uri_cannot_be_fetched_is_invalid_grant_not_invalid_client() {
    let corp = TestKey::new(SigningAlg::ES256, "corp-key");
    let closed = free_port();
    let config = TestConfig::new()
        .provider(ProviderConfig {
            jwks: None,
            jwks_uri: Some(format!("http://127.0.0.1:{closed}/jwks")),
            ..ProviderConfig::oidc("corp", "https://corp.test", json!({}), "tessera-at-corp")
        })
        .route(RouteConfig::new("/auth/token", "token"))
        .client(
            ClientConfig::new("truelocal")
                .token_endpoint_auth_methods(&["none"])
                .grant_types(&["provider"])
                .scopes(&["profile"])
                .audience(&["https://profiles.internal"]),
        );
    let app = spawn(&config).await;
    let now = app.clock_now();
    let id_token = corp.sign(&json!({"iss": "https://corp.test", "sub": "emp-7", "aud": "tessera-at-corp", "iat": now, "exp": now + 300}));
    let body = json!({"client_id": "truelocal", "grant_type": "provider", "provider": "corp", "details": {"id_token": id_token}});
    // The client (a public one) is who it says; the provider is what failed.
    provider_token(&app, body).await.assert_error(
        400,
        "invalid_grant",
        "the provider's keys could not be fetched",
    );
}
