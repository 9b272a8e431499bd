//! Discovery metadata, health, metrics and request ids.

use crate::harness::*;
use serde_json::json;

#[tokio::test]
async fn both_metadata_documents_list_exactly_what_is_supported() {
    let app = spawn_app().await;
    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
    ] {
        let answer = app.get(path).await;
        assert_eq!(answer.status, 200, "{path}");
        assert_eq!(
            answer.json,
            json!({
                "issuer": ISSUER,
                "authorization_endpoint": format!("{ISSUER}/oauth2/authorize"),
                "pushed_authorization_request_endpoint": format!("{ISSUER}/oauth2/par"),
                "require_pushed_authorization_requests": false,
                "token_endpoint": format!("{ISSUER}/oauth2/token"),
                "userinfo_endpoint": format!("{ISSUER}/oauth2/userinfo"),
                "jwks_uri": format!("{ISSUER}/.well-known/jwks.json"),
                "revocation_endpoint": format!("{ISSUER}/oauth2/revoke"),
                "revocation_endpoint_auth_methods_supported":
                    ["client_secret_basic", "client_secret_post", "private_key_jwt", "client_secret_jwt", "none"],
                "introspection_endpoint": format!("{ISSUER}/oauth2/introspect"),
                "introspection_endpoint_auth_methods_supported":
                    ["client_secret_basic", "client_secret_post", "private_key_jwt", "client_secret_jwt"],
                "status_list_aggregation_endpoint": format!("{ISSUER}/oauth2/status-lists"),
                "device_authorization_endpoint": format!("{ISSUER}/oauth2/device_authorization"),
                "end_session_endpoint": format!("{ISSUER}/oauth2/logout"),
                "backchannel_logout_supported": true,
                "backchannel_logout_session_supported": true,
                "frontchannel_logout_supported": false,
                "frontchannel_logout_session_supported": false,
                "grant_types_supported": [
                    "authorization_code", "client_credentials", "password", "refresh_token",
                    "urn:ietf:params:oauth:grant-type:jwt-bearer", "urn:ietf:params:oauth:grant-type:token-exchange",
                    "urn:ietf:params:oauth:grant-type:device_code",
                ],
                "token_endpoint_auth_methods_supported":
                    ["client_secret_basic", "client_secret_post", "private_key_jwt", "client_secret_jwt", "none"],
                "token_endpoint_auth_signing_alg_values_supported":
                    ["ES256", "ES384", "RS256", "PS256", "EdDSA", "HS256", "HS384", "HS512"],
                "response_types_supported": ["code"],
                "response_modes_supported": ["query"],
                "code_challenge_methods_supported": ["S256", "plain"],
                "prompt_values_supported": ["none", "login", "consent", "select_account"],
                "authorization_response_iss_parameter_supported": true,
                "id_token_signing_alg_values_supported": ["ES256"],
                "dpop_signing_alg_values_supported": ["ES256", "ES384", "RS256", "PS256", "EdDSA"],
                "claims_supported": [
                    "at_hash", "aud", "auth_time", "azp", "email", "email_verified", "exp", "groups",
                    "iat", "iss", "name", "nonce", "sid", "sub",
                ],
                "scopes_supported": [
                    "a", "email", "openid", "profile", "reports:admin", "reports:read", "reports:write", "special",
                ],
                "subject_types_supported": ["public"],
            }),
            "{path}"
        );
    }
}

#[tokio::test]
async fn health_and_readiness() {
    let app = spawn_app().await;
    let health = app.get("/healthz").await;
    assert_eq!(
        (health.status, health.json.clone()),
        (200, json!({"status": "ok"}))
    );
    let ready = app.get("/readyz").await;
    assert_eq!(
        (ready.status, ready.json.clone()),
        (200, json!({"status": "ready"}))
    );
}

#[tokio::test]
async fn metrics_are_prometheus_text_with_latency_by_route() {
    let app = spawn_app().await;
    assert_eq!(app.reports_token(&[]).await.status, 200);
    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert!(response
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = response.text().await.unwrap();
    assert_eq!(
        metric(
            &text,
            r#"tessera_http_request_duration_seconds_count{route="/oauth2/token"}"#
        ),
        Some(1.0)
    );
    assert!(text.contains("# TYPE tessera_http_request_duration_seconds histogram"));
    // Metrics never carry a secret or a token.
    assert!(!text.contains(REPORTS_SECRET));
}

#[tokio::test]
async fn request_ids_are_echoed_when_sane_and_made_otherwise() {
    let app = spawn_app().await;
    let echoed = app
        .client
        .get(app.url("/healthz"))
        .header("X-Request-Id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "abc-123");
    let replaced = app
        .client
        .get(app.url("/healthz"))
        .header("X-Request-Id", "bad id with spaces")
        .send()
        .await
        .unwrap();
    let made = replaced.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_ne!(made, "bad id with spaces");
    assert!(!made.is_empty());
    let other = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_ne!(other.headers()["x-request-id"].to_str().unwrap(), made);
}

#[tokio::test]
async fn get_only_endpoints_answer_other_methods_with_405_and_allow() {
    let app = spawn_app().await;
    for path in [
        "/.well-known/jwks.json",
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
        "/.well-known/uma2-configuration",
        "/oauth2/status-lists",
        "/healthz",
        "/readyz",
        "/metrics",
    ] {
        for method in ["POST", "PUT", "DELETE", "TRACE"] {
            let response = app
                .client
                .request(method.parse().unwrap(), app.url(path))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 405, "{method} {path}");
            assert_eq!(response.headers()["allow"], "GET", "{method} {path}");
            assert!(response.text().await.unwrap().is_empty());
        }
    }
    // So does a status list, whose path names it.
    let response = app
        .client
        .delete(app.url("/oauth2/status-lists/any-id"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "GET");
    // A path that is nothing at all stays 404; the feed that status lists replaced is gone.
    assert_eq!(app.get("/.well-known/nothing").await.status, 404);
    assert_eq!(app.get("/oauth2/revocations").await.status, 404);
}
