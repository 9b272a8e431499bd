//! Compatible routes: each older token API called exactly as its documentation shows
//! (`shared/seeds/`), answers checked field by field.

use crate::harness::*;
use serde_json::{json, Value};

const LOS_CLIENT: &str = "5f0c2c86-6c52-4b9a-9c3e-2a6f1b0f3c11";
const LOS_SECRET: &str = "EXAMPLE_SECRET_KEY-0123456789abcdef";
const MY_SECRET: &str = "MY_CLIENT_SECRET-0123456789abcdef";

async fn spawn_compat_app() -> TestApp {
    let config = TestConfig::new()
        .route(RouteConfig::new("/oauth2/token", "token"))
        .route(RouteConfig::new("/token", "token").query_parameters())
        .route(RouteConfig::new("/token/revoke", "revoke").query_parameters())
        .route(
            RouteConfig::new("/api/v1.1/oauth/token", "token")
                .envelope("meta-data")
                .scope_wildcard("*"),
        )
        .client(
            ClientConfig::new("MY_CLIENT_ID")
                .secret(MY_SECRET)
                .token_endpoint_auth_methods(&["client_secret_post", "client_secret_basic"])
                .scopes(&["SignUp", "api1", "api2"])
                .default_scopes(&["SignUp"])
                .audience(&["https://cubux.internal"]),
        )
        .client(
            ClientConfig::new("MY_PUBLIC_CLIENT_ID")
                .token_endpoint_auth_methods(&["none"])
                .grant_types(&["password", "refresh_token"])
                .scopes(&["UserActivity", "openid", "role", "profile"])
                .audience(&["https://cubux.internal"]),
        )
        .client(
            ClientConfig::new(LOS_CLIENT)
                .secret(LOS_SECRET)
                .token_endpoint_auth_methods(&["client_secret_post"])
                .scopes(&["los:read", "los:write"])
                .audience(&["https://los.internal"]),
        );
    spawn(&config).await
}

/// A JSON body with the content type these APIs' documentation shows.
async fn post_json(app: &TestApp, path: &str, body: Value) -> Answer {
    app.post_raw(
        path,
        Some("application/json; charset=UTF-8"),
        body.to_string(),
    )
    .await
}

async fn post_query(
    app: &TestApp,
    path: &str,
    query: &[(&str, &str)],
    basic: Option<(&str, &str)>,
) -> Answer {
    let url = url::Url::parse_with_params(&app.url(path), query).unwrap();
    let mut request = app.client.post(url);
    if let Some((id, secret)) = basic {
        request = request.header("Authorization", basic_header(id, secret));
    }
    Answer::from(request.send().await.unwrap()).await
}

fn fields(value: &Value) -> Vec<&str> {
    let mut names: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn the_json_token_api_at_oauth2_token() {
    let app = spawn_compat_app().await;
    let answer = post_json(
        &app,
        "/oauth2/token",
        json!({
            "client_id":     "MY_CLIENT_ID",
            "grant_type":    "client_credentials",
            "client_secret": MY_SECRET,
            "scope":         "SignUp"
        }),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(
        fields(&answer.json),
        ["access_token", "expires_in", "scope", "token_type"]
    );
    assert_eq!(answer.json["token_type"], "Bearer");
    assert_eq!(answer.json["scope"], "SignUp");
    assert_eq!(answer.json["expires_in"], 900);

    let answer = post_json(
        &app,
        "/oauth2/token",
        json!({
            "client_id":  "MY_PUBLIC_CLIENT_ID",
            "grant_type": "password",
            "username":   "alice",
            "password":   ALICE_PASSWORD,
            "scope":      "UserActivity"
        }),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(
        fields(&answer.json),
        [
            "access_token",
            "expires_in",
            "refresh_token",
            "scope",
            "token_type"
        ]
    );
    assert_eq!(answer.json["scope"], "UserActivity");
}

#[tokio::test]
async fn the_token_api_with_query_parameters_and_its_revocation() {
    let app = spawn_compat_app().await;
    // Client credentials, parameters in the query string, the client by Basic.
    let answer = post_query(
        &app,
        "/token",
        &[("grant_type", "client_credentials"), ("scope", "api1 api2")],
        Some(("MY_CLIENT_ID", MY_SECRET)),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(answer.json["scope"], "api1 api2");
    let access = answer.json["access_token"].as_str().unwrap().to_owned();

    // Password, then refresh, from the public client.
    let password = post_query(
        &app,
        "/token",
        &[
            ("grant_type", "password"),
            ("client_id", "MY_PUBLIC_CLIENT_ID"),
            ("username", "alice"),
            ("password", ALICE_PASSWORD),
            ("scope", "openid role profile"),
        ],
        None,
    )
    .await;
    assert_eq!(password.status, 200, "{}", password.json);
    assert!(password.json["id_token"].is_string());
    let refreshed = post_query(
        &app,
        "/token",
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "MY_PUBLIC_CLIENT_ID"),
            (
                "refresh_token",
                password.json["refresh_token"].as_str().unwrap(),
            ),
        ],
        None,
    )
    .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.json);

    // Revocation with the token in the query string.
    let revoked = post_query(
        &app,
        "/token/revoke",
        &[("token", &access), ("token_type_hint", "access")],
        Some(("MY_CLIENT_ID", MY_SECRET)),
    )
    .await;
    assert_eq!(revoked.status, 200, "{}", revoked.json);
    let introspected = app.introspect(&access).await;
    assert_eq!(introspected.json, json!({"active": false}));

    // The documented messages.
    post_query(
        &app,
        "/token",
        &[("scope", "api1")],
        Some(("MY_CLIENT_ID", MY_SECRET)),
    )
    .await
    .assert_error(
        400,
        "invalid_request",
        "the parameter grant_type is missing",
    );
    post_query(
        &app,
        "/token/revoke",
        &[("token_type_hint", "access")],
        Some(("MY_CLIENT_ID", MY_SECRET)),
    )
    .await
    .assert_error(400, "invalid_request", "the parameter token is missing");
    post_query(&app, "/token", &[], Some(("MY_CLIENT_ID", MY_SECRET)))
        .await
        .assert_error(400, "invalid_request", "no parameter in body request");
    // A parameter in both the query string and the body.
    let url =
        url::Url::parse_with_params(&app.url("/token"), &[("grant_type", "client_credentials")])
            .unwrap();
    let both = Answer::from(
        app.client
            .post(url)
            .header("Authorization", basic_header("MY_CLIENT_ID", MY_SECRET))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    both.assert_error(
        400,
        "invalid_request",
        "the parameter grant_type is given in both the query string and the body",
    );
    // The core endpoint does not read the query string.
    let core = post_query(
        &app,
        "/oauth2/token",
        &[("grant_type", "client_credentials")],
        Some(("MY_CLIENT_ID", MY_SECRET)),
    )
    .await;
    core.assert_error(400, "invalid_request", "no parameter in body request");
}

#[tokio::test]
async fn the_v1_1_api_wraps_answers_in_meta_and_data() {
    let app = spawn_compat_app().await;
    let answer = post_json(
        &app,
        "/api/v1.1/oauth/token",
        json!({
            "grant_type": "client_credentials",
            "client_id": LOS_CLIENT,
            "client_secret": LOS_SECRET,
            "scope": "*"
        }),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(fields(&answer.json), ["data", "meta"]);
    let meta = &answer.json["meta"];
    assert_eq!(
        fields(meta),
        ["date", "function", "responseCode", "responseID", "success"]
    );
    assert_eq!(meta["function"], "oauth");
    assert_eq!(meta["responseCode"], 200);
    assert_eq!(meta["success"], true);
    let date = meta["date"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(date).is_ok() && date.ends_with('Z'),
        "{date}"
    );
    let id = meta["responseID"].as_str().unwrap();
    assert_eq!(id.len(), 36);
    assert_eq!(id.matches('-').count(), 4);
    let data = &answer.json["data"];
    assert_eq!(data["token_type"], "Bearer");
    assert_eq!(data["expires_in"], 900);
    assert_eq!(
        data["scope"], "los:read los:write",
        "* is every scope the client may have"
    );
    let (_, claims) = app
        .verify(
            data["access_token"].as_str().unwrap(),
            jsonwebtoken::Algorithm::ES256,
            "https://los.internal",
        )
        .await;
    assert_eq!(claims["client_id"], LOS_CLIENT);
    assert_eq!(answer.header("cache-control"), Some("no-store"));

    // Errors come in the same envelope.
    let refused = post_json(
        &app,
        "/api/v1.1/oauth/token",
        json!({"grant_type": "client_credentials", "client_id": LOS_CLIENT, "client_secret": "wrong", "scope": "*"}),
    )
    .await;
    assert_eq!(refused.status, 401);
    assert_eq!(refused.json["meta"]["success"], false);
    assert_eq!(refused.json["meta"]["responseCode"], 401);
    assert_eq!(
        refused.json["data"],
        json!({"error": "invalid_client", "error_description": "the client cannot be authenticated with secret post"})
    );
    let get = app.get("/api/v1.1/oauth/token").await;
    assert_eq!(get.status, 405);
}

#[tokio::test]
async fn the_token_api_exchanges_an_authorization_code_from_query_parameters() {
    let app = spawn_compat_app().await;
    let code = app.mobile_code().await;
    let answer = post_query(
        &app,
        "/token",
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "mobile"),
            ("redirect_uri", CALLBACK),
            ("code", &code),
            ("code_verifier", VERIFIER),
        ],
        None,
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert!(answer.json["id_token"].is_string());
    post_query(
        &app,
        "/token",
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "mobile"),
            ("redirect_uri", CALLBACK),
        ],
        None,
    )
    .await
    .assert_error(400, "invalid_request", "the parameter code is missing");
}
