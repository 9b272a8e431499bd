//! Reloading the configuration in a running server: clients, users, routes and keys follow the
//! new file at once; an invalid file, or one that changes what needs a restart, changes nothing.

use crate::harness::*;
use serde_json::json;
use std::path::Path;
use std::sync::Arc;
use tessera::settings::Settings;
use tessera::state::ReloadError;

/// The standard configuration with the reports client's secret replaced (its old secret must
/// stop working at once), one client and one route added.
fn grown_config() -> TestConfig {
    let mut config = TestConfig::new()
        .route(RouteConfig {
            function: Some("issue".to_owned()),
            ..RouteConfig::new("/v2/token", "token").envelope("meta-data")
        })
        .client(
            ClientConfig::new("newcomer")
                .secret(OTHER_SECRET)
                .scopes(&["n"])
                .audience(&["https://n.internal"]),
        );
    assert_eq!(config.clients[0].client_id, "reports");
    config.clients[0] = config.clients[0].clone().secret(OTHER_SECRET);
    config
}

fn reload(app: &TestApp, path: &Path) -> Result<(), ReloadError> {
    app.state.reload(Settings::load_with_env(path, Vec::new()))
}

#[tokio::test]
async fn a_reload_swaps_clients_secrets_and_routes_and_refuses_what_it_cannot_apply() {
    let dir = Arc::new(tempfile::TempDir::new().unwrap());
    let path = dir.path().join("tessera.toml");
    let app = spawn_in(dir.clone(), &TestConfig::new()).await;
    // Verified once: the cache remembers REPORTS_SECRET for reports.
    assert_eq!(app.reports_token(&[]).await.status, 200);
    assert_eq!(
        app.client
            .post(app.url("/v2/token"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );

    grown_config().write_in(dir.path());
    reload(&app, &path).expect("the grown file reloads");

    // The old secret's cached verdict belongs to the old hash: refused at once.
    app.reports_token(&[]).await.assert_error(
        401,
        "invalid_client",
        "the client cannot be authenticated with secret basic",
    );
    let answer = app
        .token_form(
            Some(("reports", OTHER_SECRET)),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    let newcomer = app
        .token_form(
            Some(("newcomer", OTHER_SECRET)),
            &[("grant_type", "client_credentials")],
        )
        .await;
    let claims = app.token_claims(&newcomer, "https://n.internal").await;
    assert_eq!(claims["client_id"], "newcomer");

    // The new route serves with its envelope, and keeps POST only.
    let routed = Answer::from(
        app.client
            .post(app.url("/v2/token"))
            .header("Authorization", basic_header("newcomer", OTHER_SECRET))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(routed.status, 200, "{}", routed.json);
    assert_eq!(routed.json["meta"]["function"], "issue");
    assert_eq!(routed.json["meta"]["success"], true);
    assert!(routed.json["data"]["access_token"].is_string());
    let get = app.get("/v2/token").await;
    assert_eq!(get.status, 405);
    assert_eq!(get.header("allow"), Some("POST"));
    assert_eq!(get.json["meta"]["responseCode"], 405);
    assert_eq!(get.json["data"]["error"], "invalid_request");

    // An invalid file: every problem named, nothing changed.
    grown_config().raw("tokens.scops", "n").write_in(dir.path());
    let err = reload(&app, &path).unwrap_err();
    assert!(matches!(err, ReloadError::Invalid(_)), "{err}");
    assert!(
        err.to_string().contains("tokens.scops: unknown key"),
        "{err}"
    );
    assert_eq!(
        app.token_form(
            Some(("newcomer", OTHER_SECRET)),
            &[("grant_type", "client_credentials")],
        )
        .await
        .status,
        200
    );

    // A change that needs a restart is refused whole: the client it also removes stays.
    let mut moved = TestConfig::new()
        .raw("revocation.capacity", 5)
        .raw("server.argon2_workers", 7);
    moved.listen = "127.0.0.1:1".to_owned();
    moved.write_in(dir.path());
    let err = reload(&app, &path).unwrap_err();
    match &err {
        ReloadError::NeedsRestart(keys) => {
            assert_eq!(keys, &["listen", "server.argon2_workers", "revocation"])
        }
        other => panic!("{other}"),
    }
    assert_eq!(app.get("/v2/token").await.status, 405, "the route stays");

    // Back to the first file: the route and the newcomer are gone, the old secret works again.
    TestConfig::new().write_in(dir.path());
    reload(&app, &path).expect("the first file reloads");
    assert_eq!(app.reports_token(&[]).await.status, 200);
    assert_eq!(app.get("/v2/token").await.status, 404);
    app.token_form(
        Some(("newcomer", OTHER_SECRET)),
        &[("grant_type", "client_credentials")],
    )
    .await
    .assert_error(401, "invalid_client", "the client doesn't exist");

    let metrics = app.metrics().await;
    // The route is labelled with its configured path; 404s with no route stay unmatched.
    let served = "tessera_http_request_duration_seconds_count{route=\"/v2/token\"}";
    // POST served, GET refused twice: three requests.
    assert_eq!(metric(&metrics, served), Some(3.0), "{metrics}");
    for (result, count) in [("ok", 2.0), ("invalid", 1.0), ("restart_required", 1.0)] {
        let line = format!("tessera_config_reloads_total{{result=\"{result}\"}}");
        assert_eq!(metric(&metrics, &line), Some(count), "{result}\n{metrics}");
    }
}

#[tokio::test]
async fn a_sign_in_client_without_an_audience_gets_tokens_for_the_userinfo_endpoint() {
    let app = spawn(
        &TestConfig::new().client(
            ClientConfig::new("sign-in")
                .token_endpoint_auth_methods(&["none"])
                .grant_types(&["authorization_code"])
                .redirect_uris(&[CALLBACK])
                .scopes(&["openid", "email"]),
        ),
    )
    .await;
    let mut jar = Jar::default();
    let challenge = challenge(VERIFIER);
    let page = app
        .authorize(
            &mut jar,
            &[
                ("response_type", "code"),
                ("client_id", "sign-in"),
                ("redirect_uri", CALLBACK),
                ("scope", "openid email"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        )
        .await;
    assert_eq!(page.status, 200, "{}", page.json);
    let signed_in = app.sign_in(&mut jar, &page, "alice", ALICE_PASSWORD).await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.json);
    let code = query_of(signed_in.header("location").unwrap())["code"].clone();
    let tokens = app
        .token_form(
            None,
            &[
                ("grant_type", "authorization_code"),
                ("client_id", "sign-in"),
                ("code", &code),
                ("redirect_uri", CALLBACK),
                ("code_verifier", VERIFIER),
            ],
        )
        .await;
    let userinfo_url = format!("{}/oauth2/userinfo", app.issuer);
    let claims = app.token_claims(&tokens, &userinfo_url).await;
    assert_eq!(claims["aud"], json!(userinfo_url));
    let userinfo = Answer::from(
        app.client
            .get(app.url("/oauth2/userinfo"))
            .bearer_auth(tokens.json["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(userinfo.status, 200, "{}", userinfo.json);
    assert_eq!(userinfo.json["sub"], "alice");
    assert_eq!(userinfo.json["email"], "alice@example.com");

    // Without openid there is nothing to default to.
    let err = TestConfig::new()
        .client(
            ClientConfig::new("no-aud")
                .secret(OTHER_SECRET)
                .scopes(&["a"]),
        )
        .parse_in(Path::new("."))
        .unwrap_err();
    assert!(
        err.problems.iter().any(
            |problem| problem.path == format!("clients[{}].audience", standard_clients().len())
        ),
        "{err:?}"
    );
}
