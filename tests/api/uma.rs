//! UMA 2.0: permission tickets from the permission endpoint, the UMA grant against the policies
//! in the configuration, need_info and request_denied, and the older `/token` API's `uma_ticket`.

use crate::harness::*;
use serde_json::{json, Value};
use std::time::Duration;

const UMA: &str = "urn:ietf:params:oauth:grant-type:uma-ticket";

async fn spawn_uma_app() -> TestApp {
    let config = TestConfig::new()
        .route(RouteConfig::new("/token", "token").query_parameters())
        .uma_resource(
            UmaResourceConfig::new("album-1", "photos-rs")
                .scopes(&["view", "edit"])
                .policy(
                    UmaPolicyConfig::default()
                        .users(&["alice"])
                        .scopes(&["view"]),
                )
                .policy(UmaPolicyConfig::default().groups(&["staff"]))
                .policy(
                    UmaPolicyConfig::default()
                        .clients(&["gallery"])
                        .scopes(&["view"]),
                ),
        )
        .client(
            ClientConfig::new("photos-rs")
                .secret(OTHER_SECRET)
                .grant_types(&[])
                .audience(&["https://photos.internal"]),
        )
        .client(
            ClientConfig::new("gallery")
                .secret(OTHER_SECRET)
                .grant_types(&[UMA])
                .audience(&["https://photos.internal"]),
        )
        .client(
            ClientConfig::new("uma-app")
                .token_endpoint_auth_methods(&["none"])
                .grant_types(&["password", "uma_ticket"])
                .scopes(&["openid"])
                .audience(&["https://photos.internal"]),
        );
    spawn(&config).await
}

async fn ask_ticket(app: &TestApp, body: Value) -> Answer {
    Answer::from(
        app.client
            .post(app.url("/uma/permission"))
            .header("Authorization", basic_header("photos-rs", OTHER_SECRET))
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn new_ticket(app: &TestApp, scopes: &[&str]) -> String {
    let answer = ask_ticket(
        app,
        json!({"resource_id": "album-1", "resource_scopes": scopes}),
    )
    .await;
    assert_eq!(answer.status, 201, "{}", answer.json);
    answer.json["ticket"].as_str().unwrap().to_owned()
}

async fn id_token(app: &TestApp, user: &str, password: &str) -> String {
    let answer = app
        .token_form(
            None,
            &[
                ("grant_type", "password"),
                ("client_id", "uma-app"),
                ("username", user),
                ("password", password),
                ("scope", "openid"),
            ],
        )
        .await;
    answer.json["id_token"]
        .as_str()
        .unwrap_or_else(|| panic!("{}", answer.json))
        .to_owned()
}

#[tokio::test]
async fn a_client_policy_grants_a_requesting_party_token() {
    let app = spawn_uma_app().await;
    let ticket = new_ticket(&app, &["view"]).await;
    let header = jsonwebtoken::decode_header(&ticket).unwrap();
    assert_eq!(header.typ.as_deref(), Some("uma-ticket+jwt"));
    let answer = app
        .token_form(
            Some(("gallery", OTHER_SECRET)),
            &[("grant_type", UMA), ("ticket", &ticket)],
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    let claims = app.token_claims(&answer, "https://photos.internal").await;
    assert_eq!(claims["sub"], "gallery");
    assert_eq!(
        claims["authorization"],
        json!({"permissions": [{"resource_id": "album-1", "resource_scopes": ["view"]}]})
    );
    // The client policy stops at view: a ticket for view and edit gets view alone.
    let edit = new_ticket(&app, &["view", "edit"]).await;
    let partial = app
        .token_form(
            Some(("gallery", OTHER_SECRET)),
            &[("grant_type", UMA), ("ticket", &edit)],
        )
        .await;
    assert_eq!(partial.status, 200, "{}", partial.json);
    let claims = app.token_claims(&partial, "https://photos.internal").await;
    assert_eq!(
        claims["authorization"]["permissions"][0]["resource_scopes"],
        json!(["view"])
    );
}

#[tokio::test]
async fn user_policies_need_a_claim_token_and_decide_by_user_and_group() {
    let app = spawn_uma_app().await;
    let ticket = new_ticket(&app, &["view", "edit"]).await;
    let need_info = Answer::from(
        app.client
            .post(app.url("/oauth2/token"))
            .form(&[
                ("grant_type", UMA),
                ("client_id", "uma-app"),
                ("ticket", ticket.as_str()),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(need_info.status, 403);
    assert_eq!(need_info.json["error"], "need_info");
    assert_eq!(need_info.json["ticket"], ticket);

    // alice is staff: view and edit.
    let alice = id_token(&app, "alice", ALICE_PASSWORD).await;
    let granted = app
        .token_form(
            None,
            &[
                ("grant_type", UMA),
                ("client_id", "uma-app"),
                ("ticket", &ticket),
                ("claim_token", &alice),
            ],
        )
        .await;
    assert_eq!(granted.status, 200, "{}", granted.json);
    let claims = app.token_claims(&granted, "https://photos.internal").await;
    assert_eq!(claims["sub"], "alice");
    assert_eq!(
        claims["authorization"]["permissions"][0]["resource_scopes"],
        json!(["view", "edit"])
    );

    // bob matches no policy.
    let bob = id_token(&app, "bob", OTHER_SECRET).await;
    app.token_form(
        None,
        &[
            ("grant_type", UMA),
            ("client_id", "uma-app"),
            ("ticket", &ticket),
            ("claim_token", &bob),
        ],
    )
    .await
    .assert_error(
        403,
        "request_denied",
        "the policies do not grant the requested permissions",
    );
    app.token_form(
        None,
        &[
            ("grant_type", UMA),
            ("client_id", "uma-app"),
            ("ticket", &ticket),
            ("claim_token", "garbage"),
        ],
    )
    .await
    .assert_error(400, "invalid_grant", "the claim token is not valid");
}

#[tokio::test]
async fn tickets_expire_and_the_permission_endpoint_checks_its_requests() {
    let app = spawn_uma_app().await;
    let ticket = new_ticket(&app, &["view"]).await;
    app.clock.advance(Duration::from_secs(301));
    app.token_form(
        Some(("gallery", OTHER_SECRET)),
        &[("grant_type", UMA), ("ticket", &ticket)],
    )
    .await
    .assert_error(
        400,
        "invalid_grant",
        "the permission ticket is not valid or has expired",
    );
    app.token_form(
        Some(("gallery", OTHER_SECRET)),
        &[("grant_type", UMA), ("ticket", "garbage")],
    )
    .await
    .assert_error(
        400,
        "invalid_grant",
        "the permission ticket is not valid or has expired",
    );

    ask_ticket(
        &app,
        json!({"resource_id": "album-9", "resource_scopes": ["view"]}),
    )
    .await
    .assert_error(
        400,
        "invalid_request",
        "the resource album-9 is not registered for this resource server",
    );
    ask_ticket(
        &app,
        json!([{"resource_id": "album-1", "resource_scopes": ["delete"]}]),
    )
    .await
    .assert_error(
        400,
        "invalid_scope",
        "the resource album-1 has no scope delete",
    );
    let stranger = Answer::from(
        app.client
            .post(app.url("/uma/permission"))
            .header("Authorization", basic_header("gallery", OTHER_SECRET))
            .json(&json!({"resource_id": "album-1", "resource_scopes": ["view"]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    stranger.assert_error(
        400,
        "invalid_request",
        "the resource album-1 is not registered for this resource server",
    );
    let anonymous = Answer::from(
        app.client
            .post(app.url("/uma/permission"))
            .json(&json!({"resource_id": "album-1", "resource_scopes": ["view"]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(anonymous.status, 401);

    let configuration = app.get("/.well-known/uma2-configuration").await;
    assert_eq!(
        configuration.json["permission_endpoint"],
        format!("{ISSUER}/uma/permission")
    );
    assert_eq!(configuration.json["grant_types_supported"], json!([UMA]));
}

#[tokio::test]
async fn the_older_token_api_calls_it_uma_ticket() {
    let app = spawn_uma_app().await;
    let ticket = new_ticket(&app, &["view"]).await;
    let alice = id_token(&app, "alice", ALICE_PASSWORD).await;
    let url = url::Url::parse_with_params(
        &app.url("/token"),
        &[
            ("grant_type", "uma_ticket"),
            ("ticket", ticket.as_str()),
            ("client_id", "uma-app"),
            ("claim_token", alice.as_str()),
        ],
    )
    .unwrap();
    let answer = Answer::from(app.client.post(url).send().await.unwrap()).await;
    assert_eq!(answer.status, 200, "{}", answer.json);
}
