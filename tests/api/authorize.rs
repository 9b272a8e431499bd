//! The authorization code flow over HTTP: authorize, the login form, the session cookie,
//! consent, the code exchange with PKCE, and every error on the way.

use crate::harness::*;
use reqwest::header::{LOCATION, SET_COOKIE};
use std::time::Duration;

#[tokio::test]
async fn the_code_flow_with_pkce_signs_in_redirects_and_exchanges_once() {
    let app = spawn_app().await;
    let mut jar = Jar::default();
    let challenge = challenge(VERIFIER);
    let page = app
        .authorize(&mut jar, &mobile_query(&challenge, &[]))
        .await;
    assert_eq!(page.status, 200);
    assert!(page
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    let csp = page.header("content-security-policy").unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert!(
        csp.contains("form-action 'self' http://127.0.0.1:9"),
        "{csp}"
    );
    assert!(jar.0.contains_key("tessera_csrf"));
    let csrf_cookie = page.headers.get(SET_COOKIE).unwrap().to_str().unwrap();
    assert!(
        csrf_cookie.contains("HttpOnly") && csrf_cookie.contains("SameSite=Strict"),
        "{csrf_cookie}"
    );

    let signed_in = app.sign_in(&mut jar, &page, "alice", ALICE_PASSWORD).await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.json);
    let session = signed_in
        .headers
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|v| v.starts_with("tessera_session="))
        .expect("a session cookie");
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Lax"),
        "{session}"
    );
    assert!(
        session.contains("Secure"),
        "the issuer is an https URL: {session}"
    );
    let location = signed_in.header("location").unwrap();
    assert!(location.starts_with(CALLBACK), "{location}");
    let query = query_of(location);
    assert_eq!(query["state"], "xyz-123");
    assert_eq!(query["iss"], ISSUER);
    let code = &query["code"];

    let tokens = app.exchange_mobile_code(code, Some(VERIFIER)).await;
    assert_eq!(tokens.status, 200, "{}", tokens.json);
    let id = app
        .verify_id_token(tokens.json["id_token"].as_str().unwrap(), "mobile")
        .await;
    assert_eq!(id["nonce"], "n-0S6_WzA2Mj");
    assert_eq!(id["sub"], "alice");
    assert_eq!(id["email"], "alice@example.com");
    let refresh = tokens.json["refresh_token"].as_str().unwrap().to_owned();
    let access = tokens.json["access_token"].as_str().unwrap().to_owned();
    assert_eq!(app.introspect(&access).await.json["active"], true);

    // Once only; the second try also revokes what the first one got: the refresh token's
    // family and the access token (its status-list entry was set aside with the code).
    app.exchange_mobile_code(code, Some(VERIFIER))
        .await
        .assert_error(
            400,
            "invalid_grant",
            "the authorization code is not correct",
        );
    app.refresh("mobile", &refresh, None).await.assert_error(
        400,
        "invalid_grant",
        "the refresh token is not valid",
    );
    assert_eq!(
        app.introspect(&access).await.json,
        serde_json::json!({"active": false})
    );
    app.clock.advance(std::time::Duration::from_secs(1));
    assert!(app.status_revoked(&access).await);
}

#[tokio::test]
async fn prompt_consent_asks_even_a_client_that_needs_no_consent() {
    let app = spawn_app().await;
    let mut jar = Jar::default();
    let challenge = challenge(VERIFIER);
    let page = app
        .authorize(
            &mut jar,
            &mobile_query(&challenge, &[("prompt", "consent")]),
        )
        .await;
    let consent = app.sign_in(&mut jar, &page, "alice", ALICE_PASSWORD).await;
    assert_eq!(consent.status, 200, "the consent page, not a redirect");
    let html = consent.json.as_str().unwrap().to_owned();
    assert!(html.contains("Allow access?"), "{html}");
    let allowed = app.decide(&mut jar, &html, "allow").await;
    assert_eq!(allowed.status, 303);
    assert!(query_of(allowed.header("location").unwrap()).contains_key("code"));
    // Without it, the same client goes straight back with a code.
    let page = app
        .authorize(&mut jar, &mobile_query(&challenge, &[("prompt", "login")]))
        .await;
    let signed_in = app.sign_in(&mut jar, &page, "alice", ALICE_PASSWORD).await;
    assert_eq!(signed_in.status, 303);
}

#[tokio::test]
async fn max_age_zero_asks_for_the_password_even_within_the_second_of_sign_in() {
    let app = spawn_app().await;
    let mut jar = Jar::default();
    let challenge = challenge(VERIFIER);
    let page = app
        .authorize(&mut jar, &mobile_query(&challenge, &[]))
        .await;
    assert_eq!(
        app.sign_in(&mut jar, &page, "alice", ALICE_PASSWORD)
            .await
            .status,
        303
    );
    // The clock has not moved: the session is 0 whole seconds old.
    let fresh = app
        .authorize(&mut jar, &mobile_query(&challenge, &[("max_age", "0")]))
        .await;
    assert_eq!(fresh.status, 200, "max_age=0 always asks for the password");
    assert!(fresh.json.as_str().unwrap().contains("Sign in"));
    let within = app
        .authorize(&mut jar, &mobile_query(&challenge, &[("max_age", "1")]))
        .await;
    assert_eq!(
        within.status, 302,
        "a session of the same second is within max_age=1"
    );
}

#[tokio::test]
async fn a_session_skips_the_form_unless_prompt_or_max_age_say_otherwise() {
    let app = spawn_app().await;
    let mut jar = Jar::default();
    let challenge = challenge(VERIFIER);
    let page = app
        .authorize(&mut jar, &mobile_query(&challenge, &[]))
        .await;
    assert_eq!(
        app.sign_in(&mut jar, &page, "alice", ALICE_PASSWORD)
            .await
            .status,
        303
    );

    let again = app
        .authorize(&mut jar, &mobile_query(&challenge, &[]))
        .await;
    assert_eq!(again.status, 302, "the session skips the form");
    assert!(query_of(again.header("location").unwrap()).contains_key("code"));

    let forced = app
        .authorize(&mut jar, &mobile_query(&challenge, &[("prompt", "login")]))
        .await;
    assert_eq!(forced.status, 200);
    assert!(forced.json.as_str().unwrap().contains("Sign in"));

    app.clock.advance(Duration::from_secs(10));
    let too_old = app
        .authorize(&mut jar, &mobile_query(&challenge, &[("max_age", "5")]))
        .await;
    assert_eq!(too_old.status, 200, "max_age asks for a fresh sign-in");
    let recent_enough = app
        .authorize(&mut jar, &mobile_query(&challenge, &[("max_age", "60")]))
        .await;
    assert_eq!(recent_enough.status, 302);

    let mut stranger = Jar::default();
    let none = app
        .authorize(
            &mut stranger,
            &mobile_query(&challenge, &[("prompt", "none")]),
        )
        .await;
    assert_eq!(none.status, 302);
    let query = query_of(none.header("location").unwrap());
    assert_eq!(query["error"], "login_required");
    assert_eq!(query["state"], "xyz-123");
}

#[tokio::test]
async fn errors_before_the_redirect_uri_is_trusted_are_shown_not_redirected() {
    let app = spawn_app().await;
    let mut jar = Jar::default();
    for (query, text) in [
        (
            vec![
                ("response_type", "code"),
                ("client_id", "nobody"),
                ("redirect_uri", CALLBACK),
            ],
            "the client doesn&#39;t exist",
        ),
        (
            vec![("response_type", "code"), ("redirect_uri", CALLBACK)],
            "the parameter client_id is missing",
        ),
        (
            vec![
                ("response_type", "code"),
                ("client_id", "mobile"),
                ("redirect_uri", "https://evil.example/cb"),
            ],
            "the redirect URI is not registered for the client mobile",
        ),
        (
            vec![
                ("response_type", "code"),
                ("client_id", "mobile"),
                ("redirect_uri", "not a uri"),
            ],
            "Based on the RFC-3986 the redirection-uri is not well formed",
        ),
    ] {
        let answer = app.authorize(&mut jar, &query).await;
        assert_eq!(answer.status, 400, "{query:?}");
        assert!(answer.header("location").is_none());
        assert!(
            answer.json.as_str().unwrap().contains(text),
            "{text} not in {}",
            answer.json
        );
        assert_eq!(answer.header("x-frame-options"), Some("DENY"));
    }
}

#[tokio::test]
async fn errors_after_it_go_back_to_the_client() {
    let app = spawn_app().await;
    let mut jar = Jar::default();
    let challenge = challenge(VERIFIER);
    // (query, error, error_description)
    type Case<'a> = (Vec<(&'a str, &'a str)>, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec![
                ("response_type", "token"),
                ("client_id", "mobile"),
                ("redirect_uri", CALLBACK),
                ("state", "s1"),
            ],
            "unsupported_response_type",
            "the client 'mobile' doesn't support the response type: 'token'",
        ),
        (
            vec![
                ("client_id", "mobile"),
                ("redirect_uri", CALLBACK),
                ("state", "s1"),
            ],
            "invalid_request",
            "the parameter response_type is missing",
        ),
        (
            vec![
                ("response_type", "code"),
                ("client_id", "mobile"),
                ("redirect_uri", CALLBACK),
                ("state", "s1"),
            ],
            "invalid_request",
            "a public client must send a PKCE code_challenge (S256)",
        ),
        (
            vec![
                ("response_type", "code"),
                ("client_id", "webapp"),
                ("redirect_uri", CALLBACK),
                ("state", "s1"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "plain"),
            ],
            "invalid_request",
            "the code challenge method plain is not allowed; use S256",
        ),
        (
            vec![
                ("response_type", "code"),
                ("client_id", "webapp"),
                ("redirect_uri", CALLBACK),
                ("state", "s1"),
                ("scope", "openid payroll"),
            ],
            "invalid_scope",
            "the scopes payroll are not allowed or invalid",
        ),
    ];
    for (query, error, description) in cases {
        let answer = app.authorize(&mut jar, &query).await;
        assert_eq!(answer.status, 302, "{query:?}");
        let location = answer.header("location").unwrap();
        assert!(location.starts_with(CALLBACK));
        let params = query_of(location);
        assert_eq!(params["error"], error, "{query:?}");
        assert_eq!(params["error_description"], description);
        assert_eq!(params["state"], "s1");
        assert_eq!(params["iss"], ISSUER);
    }
}

#[tokio::test]
async fn bad_credentials_get_an_honest_message_and_a_forged_form_is_refused() {
    let app = spawn_app().await;
    let mut jar = Jar::default();
    let challenge = challenge(VERIFIER);
    let page = app
        .authorize(&mut jar, &mobile_query(&challenge, &[]))
        .await;
    let wrong = app.sign_in(&mut jar, &page, "alice", "wrong").await;
    assert_eq!(wrong.status, 401);
    assert!(wrong
        .json
        .as_str()
        .unwrap()
        .contains("The username or password is incorrect."));
    assert!(wrong.header("location").is_none());
    assert!(!jar.0.contains_key("tessera_session"));

    // Another browser (no CSRF cookie) posting this form: refused.
    let mut other = Jar::default();
    let html = page.json.as_str().unwrap();
    let forged = app
        .submit(
            &mut other,
            &[
                ("request", &hidden(html, "request")),
                ("csrf", &hidden(html, "csrf")),
                ("action", "login"),
                ("username", "alice"),
                ("password", ALICE_PASSWORD),
            ],
        )
        .await;
    assert_eq!(forged.status, 403);
    assert!(forged.header("location").is_none());

    // A form that is too old: refused.
    app.clock.advance(Duration::from_secs(601));
    let stale = app.sign_in(&mut jar, &page, "alice", ALICE_PASSWORD).await;
    assert_eq!(stale.status, 400);
    assert!(stale.json.as_str().unwrap().contains("expired"));
}

#[tokio::test]
async fn the_code_exchange_checks_client_redirect_uri_verifier_and_age() {
    let app = spawn_app().await;
    let code = app.mobile_code().await;

    app.exchange_mobile_code(&code, None).await.assert_error(
        400,
        "invalid_request",
        "the parameter code_verifier is missing",
    );
    app.exchange_mobile_code(
        &code,
        Some("wrong-verifier-wrong-verifier-wrong-verifier-xx"),
    )
    .await
    .assert_error(
        400,
        "invalid_grant",
        "the code_verifier does not match the code challenge",
    );
    let base = [
        ("grant_type", "authorization_code"),
        ("client_id", "mobile"),
        ("code", code.as_str()),
        ("code_verifier", VERIFIER),
    ];
    let mut other_uri = base.to_vec();
    other_uri.push(("redirect_uri", "http://127.0.0.1:9/other"));
    app.token_form(None, &other_uri).await.assert_error(
        400,
        "invalid_grant",
        "the redirect_uri does not match the authorization request",
    );
    let mut malformed = base.to_vec();
    malformed.push(("redirect_uri", "::not a uri"));
    app.token_form(None, &malformed).await.assert_error(
        400,
        "invalid_request",
        "Based on the RFC-3986 the redirection-uri is not well formed",
    );
    app.token_form(
        Some(("webapp", OTHER_SECRET)),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CALLBACK),
            ("code_verifier", VERIFIER),
        ],
    )
    .await
    .assert_error(
        400,
        "invalid_grant",
        "the authorization code is not correct",
    );
    app.exchange_mobile_code("garbage", Some(VERIFIER))
        .await
        .assert_error(
            400,
            "invalid_grant",
            "the authorization code is not correct",
        );
    app.token_form(
        None,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "mobile"),
            ("redirect_uri", CALLBACK),
        ],
    )
    .await
    .assert_error(400, "invalid_request", "the parameter code is missing");

    // None of the failures spent the code, but after 60 s it is gone.
    app.clock.advance(Duration::from_secs(61));
    app.exchange_mobile_code(&code, Some(VERIFIER))
        .await
        .assert_error(
            400,
            "invalid_grant",
            "the authorization code is not correct",
        );
}

#[tokio::test]
async fn a_client_that_asks_for_consent_gets_an_answer_either_way() {
    let app = spawn_app().await;
    let mut jar = Jar::default();
    let query = [
        ("response_type", "code"),
        ("client_id", "consenting"),
        ("redirect_uri", CALLBACK),
        ("scope", "openid"),
        ("state", "c1"),
        ("code_challenge", VERIFIER),
        ("code_challenge_method", "plain"),
    ];
    let page = app.authorize(&mut jar, &query).await;
    let consent = app.sign_in(&mut jar, &page, "alice", ALICE_PASSWORD).await;
    assert_eq!(consent.status, 200, "{}", consent.json);
    let html = consent.json.as_str().unwrap().to_owned();
    assert!(
        html.contains("Allow access?") && html.contains("<li>openid</li>"),
        "{html}"
    );
    let denied = app.decide(&mut jar, &html, "deny").await;
    assert_eq!(denied.status, 303);
    let params = query_of(denied.header("location").unwrap());
    assert_eq!(params["error"], "access_denied");
    assert_eq!(params["state"], "c1");

    // The same form cannot answer twice.
    let again = app.decide(&mut jar, &html, "allow").await;
    assert_eq!(again.status, 400);
    assert!(again.header("location").is_none());

    // A new authorization: signed in already, so straight to a new consent page.
    let consent = app.authorize(&mut jar, &query).await;
    assert_eq!(consent.status, 200, "{}", consent.json);
    let html = consent.json.as_str().unwrap().to_owned();
    let allowed = app.decide(&mut jar, &html, "allow").await;
    assert_eq!(allowed.status, 303);
    let code = query_of(allowed.header("location").unwrap())["code"].clone();
    let tokens = app
        .token_form(
            Some(("consenting", OTHER_SECRET)),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", CALLBACK),
                ("code_verifier", VERIFIER),
            ],
        )
        .await;
    assert_eq!(tokens.status, 200, "{}", tokens.json);

    // prompt=none cannot show the consent page.
    let silent = app
        .authorize(&mut jar, &[&query[..], &[("prompt", "none")]].concat())
        .await;
    assert_eq!(
        query_of(silent.header("location").unwrap())["error"],
        "consent_required"
    );
}

#[tokio::test]
async fn a_confidential_client_may_skip_pkce_but_not_send_a_verifier_it_never_promised() {
    let app = spawn_app().await;
    let mut jar = Jar::default();
    let page = app
        .authorize(
            &mut jar,
            &[
                ("response_type", "code"),
                ("client_id", "webapp"),
                ("redirect_uri", CALLBACK),
            ],
        )
        .await;
    let signed_in = app.sign_in(&mut jar, &page, "alice", ALICE_PASSWORD).await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.json);
    let location = signed_in
        .headers
        .get(LOCATION)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let code = query_of(&location)["code"].clone();
    let exchange = |verifier: Option<&'static str>| {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", CALLBACK),
        ];
        if let Some(verifier) = verifier {
            form.push(("code_verifier", verifier));
        }
        form
    };
    app.token_form(Some(("webapp", OTHER_SECRET)), &exchange(Some(VERIFIER)))
        .await
        .assert_error(
            400,
            "invalid_grant",
            "the authorization request had no code challenge",
        );
    let tokens = app
        .token_form(Some(("webapp", OTHER_SECRET)), &exchange(None))
        .await;
    assert_eq!(tokens.status, 200, "{}", tokens.json);
    assert_eq!(tokens.json["scope"], "openid");
}

#[tokio::test]
async fn configured_session_and_code_lifetimes_hold() {
    let app = spawn(&TestConfig::new().authorize(AuthorizeConfig {
        session_ttl: Some(Duration::from_secs(300)),
        code_ttl: Some(Duration::from_secs(180)),
        ..AuthorizeConfig::default()
    }))
    .await;
    let mut jar = Jar::default();
    let challenge = challenge(VERIFIER);
    let query = mobile_query(&challenge, &[]);
    let page = app.authorize(&mut jar, &query).await;
    let signed_in = app.sign_in(&mut jar, &page, "alice", ALICE_PASSWORD).await;
    let code = query_of(signed_in.header("location").unwrap())["code"].clone();

    // Past the default 60 s, within the configured 180 s: the code still works.
    app.clock.advance(Duration::from_secs(120));
    let tokens = app.exchange_mobile_code(&code, Some(VERIFIER)).await;
    assert_eq!(tokens.status, 200, "{}", tokens.json);

    // The session (300 s) still skips the form; its code dies after 180 s.
    let again = app.authorize(&mut jar, &query).await;
    assert_eq!(again.status, 302, "{}", again.json);
    let code = query_of(again.header("location").unwrap())["code"].clone();
    app.clock.advance(Duration::from_secs(181));
    app.exchange_mobile_code(&code, Some(VERIFIER))
        .await
        .assert_error(
            400,
            "invalid_grant",
            "the authorization code is not correct",
        );

    // 301 s after signing in, the session is over: the form again.
    let expired = app.authorize(&mut jar, &query).await;
    assert_eq!(expired.status, 200, "{}", expired.json);
    assert!(expired.json.as_str().unwrap().contains("Sign in"));
}
