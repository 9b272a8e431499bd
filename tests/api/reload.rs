//! Reloading the configuration in a running server: clients, users, routes and keys follow the
//! new file at once; an invalid file, or one that changes what needs a restart, changes nothing.

use crate::helpers::*;
use serde_json::json;
use std::path::Path;
use std::sync::Arc;
use tessera::settings::Settings;
use tessera::state::ReloadError;

/// A route and a client that the first file does not have.
fn grown_config(reports_hash: &str) -> String {
    let text = config_text("ES256", "", "");
    // The reports client's hash replaced (its old secret must stop working at once), one client
    // and one route added.
    let start = text.find("[[clients]]\nclient_id = \"reports\"").unwrap();
    let hash_start = start + text[start..].find("client_secret_hash").unwrap();
    let hash_end = hash_start + text[hash_start..].find('\n').unwrap();
    format!(
        "{}client_secret_hash = \"{reports_hash}\"{}\n{}",
        &text[..hash_start],
        &text[hash_end..],
        r#"
[[routes]]
path = "/v2/token"
endpoint = "token"
envelope = "meta-data"
function = "issue"

[[clients]]
client_id = "newcomer"
client_secret_hash = "$HASH"
scopes = ["n"]
audience = ["https://n.internal"]
"#
    )
}

fn reload(app: &TestApp, path: &Path) -> Result<(), ReloadError> {
    app.state.reload(Settings::load_with_env(path, Vec::new()))
}

#[tokio::test]
async fn a_reload_swaps_clients_secrets_and_routes_and_refuses_what_it_cannot_apply() {
    let dir = Arc::new(tempfile::TempDir::new().unwrap());
    let path = dir.path().join("tessera.toml");
    let app = spawn_in(dir.clone(), &config_text("ES256", "", "")).await;
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

    let other_hash = tessera::oauth::credentials::hash_secret(OTHER_SECRET);
    let grown = grown_config(&other_hash).replace("$HASH", &other_hash);
    std::fs::write(&path, &grown).unwrap();
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
    std::fs::write(&path, grown.replace("scopes = [\"n\"]", "scops = [\"n\"]")).unwrap();
    let err = reload(&app, &path).unwrap_err();
    assert!(matches!(err, ReloadError::Invalid(_)), "{err}");
    assert!(
        err.to_string().contains("clients[9].scops: unknown key"),
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
    let moved = config_text("ES256", "", "")
        .replace("listen = \"127.0.0.1:0\"", "listen = \"127.0.0.1:1\"");
    std::fs::write(&path, format!("{moved}\n[revocation]\ncapacity = 5\n")).unwrap();
    let err = reload(&app, &path).unwrap_err();
    match &err {
        ReloadError::NeedsRestart(keys) => assert_eq!(keys, &["listen", "revocation"]),
        other => panic!("{other}"),
    }
    assert_eq!(app.get("/v2/token").await.status, 405, "the route stays");

    // Back to the first file: the route and the newcomer are gone, the old secret works again.
    std::fs::write(&path, config_text("ES256", "", "")).unwrap();
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
    for (result, count) in [("ok", 2.0), ("invalid", 1.0), ("restart_required", 1.0)] {
        let line = format!("tessera_config_reloads_total{{result=\"{result}\"}}");
        assert_eq!(metric(&metrics, &line), Some(count), "{result}\n{metrics}");
    }
}

#[tokio::test]
async fn a_sign_in_client_without_an_audience_gets_tokens_for_the_userinfo_endpoint() {
    use crate::authorize::{challenge, query_of, Jar, VERIFIER};
    let client = format!(
        r#"
[[clients]]
client_id = "sign-in"
token_endpoint_auth_methods = ["none"]
grant_types = ["authorization_code"]
redirect_uris = ["{CALLBACK}"]
scopes = ["openid", "email"]
"#
    );
    let app = spawn_in(
        Arc::new(tempfile::TempDir::new().unwrap()),
        &format!("{}\n{client}", config_text("ES256", "", "")),
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
    let userinfo_url = format!("{ISSUER}/oauth2/userinfo");
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
    let text = format!(
        "{}\n[[clients]]\nclient_id = \"no-aud\"\nclient_secret_hash = \"{}\"\nscopes = [\"a\"]\n",
        config_text("ES256", "", ""),
        tessera::oauth::credentials::hash_secret(OTHER_SECRET)
    );
    let err = Settings::parse(&text, Path::new("."), Vec::new()).unwrap_err();
    assert!(
        err.problems
            .iter()
            .any(|problem| problem.path == "clients[9].audience"),
        "{err:?}"
    );
}
