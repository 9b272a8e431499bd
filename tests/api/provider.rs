//! The `provider` grant at `POST /auth/token`, as that API's documentation shows its requests,
//! against a fake Facebook token-debug API and an OIDC provider's keys, both on loopback.

use crate::assertions::{jwks_toml, TestKey};
use crate::helpers::*;
use serde_json::{json, Value};
use std::sync::Arc;
use tessera::jose::SigningAlg;

const APP_SECRET: &str = "facebook-app-secret-0123456789abcdef";

/// A token-debug API: "good-token" is valid for app 1234 and account 10001.
async fn fake_facebook() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 8192];
                let n = stream.read(&mut buffer).await.unwrap_or(0);
                let request = String::from_utf8_lossy(&buffer[..n]).to_string();
                let target = request.split(' ').nth(1).unwrap_or_default().to_owned();
                let url = url::Url::parse(&format!("http://x{target}")).unwrap();
                let query: std::collections::HashMap<String, String> =
                    url.query_pairs().into_owned().collect();
                let app_ok = query.get("access_token").map(String::as_str)
                    == Some(&format!("1234|{APP_SECRET}"));
                let future = chrono::Utc::now().timestamp() + 3600;
                let (status, body) = match (app_ok, query.get("input_token").map(String::as_str)) {
                    (false, _) => (
                        "400 Bad Request",
                        json!({"error": {"message": "bad app credentials"}}),
                    ),
                    (true, Some("good-token")) => (
                        "200 OK",
                        json!({"data": {"app_id": "1234", "is_valid": true, "user_id": "10001", "expires_at": future}}),
                    ),
                    (true, Some("other-app")) => (
                        "200 OK",
                        json!({"data": {"app_id": "9999", "is_valid": true, "user_id": "10001", "expires_at": future}}),
                    ),
                    (true, Some("expired")) => (
                        "200 OK",
                        json!({"data": {"app_id": "1234", "is_valid": false, "user_id": "10001", "expires_at": 1}}),
                    ),
                    _ => ("200 OK", json!({"data": {"is_valid": false}})),
                };
                let body = body.to_string();
                let response = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
            });
        }
    });
    port
}

async fn spawn_provider_app(facebook_port: u16, corp: &TestKey) -> TestApp {
    let dir = Arc::new(tempfile::TempDir::new().unwrap());
    std::fs::write(dir.path().join("facebook.secret"), APP_SECRET).unwrap();
    let extra = format!(
        r#"
[[providers]]
name = "facebook"
type = "facebook"
app_id = "1234"
app_secret_file = "facebook.secret"
base_url = "http://127.0.0.1:{facebook_port}"
timeout = "2s"

[[providers]]
name = "corp"
type = "oidc"
issuer = "https://corp.test"
jwks = {jwks}
audience = "tessera-at-corp"

[[routes]]
path = "/auth/token"
endpoint = "token"

[[clients]]
client_id = "truelocal"
token_endpoint_auth_methods = ["none"]
grant_types = ["provider"]
scopes = ["profile"]
audience = ["https://profiles.internal"]
"#,
        jwks = jwks_toml(&[corp])
    );
    spawn_in(dir, &format!("{}{extra}", config_text("ES256", "", ""))).await
}

async fn provider_token(app: &TestApp, body: Value) -> Answer {
    Answer::from(
        app.client
            .post(app.url("/auth/token"))
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap(),
    )
    .await
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
    let app = spawn_provider_app(fake_facebook().await, &corp).await;
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
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = spawn_provider_app(closed, &corp).await;
    provider_token(&app, facebook_body("10001", "good-token"))
        .await
        .assert_error(400, "invalid_grant", "the provider could not be reached");
}

#[tokio::test]
async fn an_oidc_providers_id_token_is_verified_against_its_keys() {
    let corp = TestKey::new(SigningAlg::ES256, "corp-key");
    let app = spawn_provider_app(fake_facebook().await, &corp).await;
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
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let extra = format!(
        r#"
[[providers]]
name = "corp"
type = "oidc"
issuer = "https://corp.test"
jwks_uri = "http://127.0.0.1:{closed}/jwks"
audience = "tessera-at-corp"

[[routes]]
path = "/auth/token"
endpoint = "token"

[[clients]]
client_id = "truelocal"
token_endpoint_auth_methods = ["none"]
grant_types = ["provider"]
scopes = ["profile"]
audience = ["https://profiles.internal"]
"#
    );
    let app = spawn_in(
        Arc::new(tempfile::TempDir::new().unwrap()),
        &format!("{}{extra}", config_text("ES256", "", "")),
    )
    .await;
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
