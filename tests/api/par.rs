//! Pushed authorization requests (RFC 9126) over HTTP: the client pushes and authenticates as at
//! the token endpoint, the authorization endpoint takes `client_id` + `request_uri` only, the
//! request_uri expires and gets one code, and every refusal is the RFC's.

use crate::harness::*;
use serde_json::json;
use std::time::Duration;
use tessera::jose::SigningAlg;

const PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// Parameters to replace or add in a request.
type Changes<'a> = &'a [(&'a str, &'a str)];

impl TestApp {
    /// POST a pushed authorization request, with Basic credentials when given.
    pub async fn push(&self, basic: Option<(&str, &str)>, form: &[(&str, &str)]) -> Answer {
        self.post_form("/oauth2/par", basic, form).await
    }

    /// Pushes `form` as `webapp` and returns the request_uri.
    pub async fn pushed_uri(&self, form: &[(&str, &str)]) -> String {
        let answer = self.push(Some(("webapp", OTHER_SECRET)), form).await;
        assert_eq!(answer.status, 201, "{}", answer.json);
        answer.str("request_uri").to_owned()
    }
}

/// An authorization request of `webapp` to `CALLBACK`, with PKCE S256, with `changes` made
/// (each replaces the parameter of its name, or adds it).
fn webapp_request<'a>(
    challenge: &'a str,
    changes: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![
        ("response_type", "code"),
        ("client_id", "webapp"),
        ("redirect_uri", CALLBACK),
        ("scope", "openid reports:read"),
        ("state", "pushed-state"),
        ("nonce", "n-pushed"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ];
    for (name, value) in changes {
        form.retain(|(existing, _)| existing != name);
        form.push((name, value));
    }
    form
}

/// Asserts an error page (nothing redirected) whose text says `description`.
fn assert_page(answer: &Answer, description: &str) {
    assert_eq!(answer.status, 400, "{}", answer.json);
    assert!(answer.header("location").is_none());
    let html = answer.json.as_str().unwrap();
    assert!(html.contains(description), "{description} not in {html}");
}

#[tokio::test]
async fn a_pushed_request_answers_201_and_its_request_uri_gets_one_code() {
    let app = spawn_app().await;
    let challenge = challenge(VERIFIER);
    let pushed = app
        .push(
            Some(("webapp", OTHER_SECRET)),
            &webapp_request(&challenge, &[]),
        )
        .await;
    assert_eq!(pushed.status, 201, "{}", pushed.json);
    assert_eq!(pushed.header("cache-control"), Some("no-store"));
    assert!(pushed
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    assert_eq!(pushed.json.as_object().unwrap().len(), 2, "{}", pushed.json);
    assert_eq!(pushed.json["expires_in"], 60);
    let request_uri = pushed.str("request_uri");
    assert!(request_uri.starts_with(PREFIX), "{request_uri}");
    // Self-contained and sealed: nothing of the request is readable in it.
    assert!(!request_uri.contains("pushed-state") && !request_uri.contains(OTHER_SECRET));

    let mut jar = Jar::default();
    let by_reference = [("client_id", "webapp"), ("request_uri", request_uri)];
    let page = app.authorize(&mut jar, &by_reference).await;
    assert_eq!(page.status, 200, "{}", page.json);
    // Loading it again (a reload, a link preview) does not spend it: only a code does.
    let mut other_jar = Jar::default();
    let reloaded = app.authorize(&mut other_jar, &by_reference).await;
    assert_eq!(reloaded.status, 200, "{}", reloaded.json);

    let signed_in = app.sign_in(&mut jar, &page, "alice", ALICE_PASSWORD).await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.json);
    let query = query_of(signed_in.header("location").unwrap());
    assert_eq!(query["state"], "pushed-state");
    assert_eq!(query["iss"], ISSUER);
    let tokens = app
        .exchange_code(("webapp", OTHER_SECRET), &query["code"])
        .await;
    let claims = app.token_claims(&tokens, "https://reports.internal").await;
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["scope"], "openid reports:read");
    let id = app.verify_id_token(tokens.str("id_token"), "webapp").await;
    assert_eq!(id["nonce"], "n-pushed");

    // The request_uri has had its code: loading it again, or finishing the other sign-in
    // started from it, is refused.
    assert_page(
        &app.authorize(&mut Jar::default(), &by_reference).await,
        "the request_uri was used already",
    );
    let late = app
        .sign_in(&mut other_jar, &reloaded, "alice", ALICE_PASSWORD)
        .await;
    assert_eq!(late.status, 303);
    let query = query_of(late.header("location").unwrap());
    assert_eq!(query["error"], "invalid_request");
    assert_eq!(
        query["error_description"],
        "the request_uri was used already"
    );
    assert!(!query.contains_key("code"));
}

#[tokio::test]
async fn parameters_outside_the_pushed_request_are_ignored() {
    let app = spawn_app().await;
    let challenge = challenge(VERIFIER);
    let request_uri = app
        .pushed_uri(&webapp_request(&challenge, &[("scope", "openid")]))
        .await;
    let mut jar = Jar::default();
    let page = app
        .authorize(
            &mut jar,
            &[
                ("client_id", "webapp"),
                ("request_uri", &request_uri),
                ("response_type", "token"),
                ("redirect_uri", "http://127.0.0.1:9/other"),
                ("scope", "openid reports:read profile"),
                ("state", "injected"),
                ("prompt", "none"),
                ("code_challenge", "x"),
            ],
        )
        .await;
    // prompt=none, response_type=token and a bad code_challenge were not the pushed request's.
    assert_eq!(page.status, 200, "{}", page.json);
    let signed_in = app.sign_in(&mut jar, &page, "alice", ALICE_PASSWORD).await;
    let location = signed_in.header("location").unwrap();
    assert!(location.starts_with(&format!("{CALLBACK}?")), "{location}");
    let query = query_of(location);
    assert_eq!(query["state"], "pushed-state");
    let tokens = app
        .exchange_code(("webapp", OTHER_SECRET), &query["code"])
        .await;
    let claims = app.token_claims(&tokens, "https://reports.internal").await;
    assert_eq!(claims["scope"], "openid");
}

#[tokio::test]
async fn a_request_uri_names_its_client_and_expires() {
    let app = spawn_app().await;
    let challenge = challenge(VERIFIER);
    let request_uri = app.pushed_uri(&webapp_request(&challenge, &[])).await;
    let authorize = |query: Vec<(&'static str, String)>| {
        let app = &app;
        async move {
            let query: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.authorize(&mut Jar::default(), &query).await
        }
    };
    assert_page(
        &authorize(vec![("request_uri", request_uri.clone())]).await,
        "the parameter client_id is missing",
    );
    assert_page(
        &authorize(vec![
            ("client_id", "mobile".into()),
            ("request_uri", request_uri.clone()),
        ])
        .await,
        "the client_id is not the client that pushed the request",
    );
    let tampered = {
        let mut chars: Vec<char> = request_uri.chars().collect();
        let last = chars.len() - 3;
        chars[last] = if chars[last] == 'A' { 'B' } else { 'A' };
        chars.into_iter().collect::<String>()
    };
    for bad in [
        tampered,
        format!("{PREFIX}not-ours"),
        request_uri.trim_start_matches(PREFIX).to_owned(),
        "https://client.example/request.jwt".to_owned(),
    ] {
        assert_page(
            &authorize(vec![("client_id", "webapp".into()), ("request_uri", bad)]).await,
            "the request_uri was not issued by this server, or it has expired",
        );
    }
    let by_reference = || {
        vec![
            ("client_id", "webapp".to_owned()),
            ("request_uri", request_uri.clone()),
        ]
    };
    app.clock.advance(Duration::from_secs(59));
    assert_eq!(authorize(by_reference()).await.status, 200);
    app.clock.advance(Duration::from_secs(1));
    assert_page(
        &authorize(by_reference()).await,
        "the request_uri was not issued by this server, or it has expired",
    );

    // The lifetime is configurable.
    let app = spawn(&TestConfig::new().authorize(AuthorizeConfig {
        request_uri_ttl: Some(Duration::from_secs(300)),
        ..AuthorizeConfig::default()
    }))
    .await;
    let pushed = app
        .push(
            Some(("webapp", OTHER_SECRET)),
            &webapp_request(&challenge, &[]),
        )
        .await;
    assert_eq!(pushed.json["expires_in"], 300);
    app.clock.advance(Duration::from_secs(299));
    let page = app
        .authorize(
            &mut Jar::default(),
            &[
                ("client_id", "webapp"),
                ("request_uri", pushed.str("request_uri")),
            ],
        )
        .await;
    assert_eq!(page.status, 200);
}

#[tokio::test]
async fn pushing_clients_authenticate_as_at_the_token_endpoint() {
    let key = TestKey::new(SigningAlg::ES256, "signed-app-key");
    let app = spawn(
        &TestConfig::new().client(
            ClientConfig::new("signed-app")
                .token_endpoint_auth_methods(&["private_key_jwt"])
                .jwks(jwk_set(&[&key]))
                .grant_types(&["authorization_code"])
                .redirect_uris(&[CALLBACK])
                .scopes(&["openid"])
                .audience(&["https://reports.internal"]),
        ),
    )
    .await;
    let challenge = challenge(VERIFIER);
    let request = webapp_request(&challenge, &[]);

    let nobody = app.push(None, &request[..1]).await;
    nobody.assert_error(401, "invalid_client", "the client must authenticate");
    assert!(nobody
        .header("www-authenticate")
        .unwrap()
        .starts_with("Basic "));
    let wrong = app.push(Some(("webapp", "wrong")), &request).await;
    wrong.assert_error(
        401,
        "invalid_client",
        "the client cannot be authenticated with secret basic",
    );
    assert!(wrong.header("www-authenticate").is_some());
    let mut posted = request.clone();
    posted.push(("client_secret", OTHER_SECRET));
    app.push(None, &posted).await.assert_error(
        401,
        "invalid_client",
        "the client webapp is not allowed to authenticate with client_secret_post",
    );
    app.push(Some(("mobile", "x")), &request)
        .await
        .assert_error(
            400,
            "invalid_request",
            "the client_id parameter does not match the authenticated client",
        );

    // RFC 9126 2: an assertion may name the issuer, the token endpoint or this endpoint.
    let now = app.clock_now();
    for aud in [
        ISSUER.to_owned(),
        format!("{ISSUER}/oauth2/token"),
        format!("{ISSUER}/oauth2/par"),
    ] {
        let mut claims = assertion_claims("signed-app", now);
        claims["aud"] = json!(aud);
        let assertion = key.sign(&claims);
        let form = [
            ("response_type", "code"),
            ("redirect_uri", CALLBACK),
            ("scope", "openid"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", assertion.as_str()),
        ];
        let pushed = app.push(None, &form).await;
        assert_eq!(pushed.status, 201, "{aud}: {}", pushed.json);
        // The client is the assertion's: its request_uri authorizes signed-app.
        let page = app
            .authorize(
                &mut Jar::default(),
                &[
                    ("client_id", "signed-app"),
                    ("request_uri", pushed.str("request_uri")),
                ],
            )
            .await;
        assert_eq!(page.status, 200, "{}", page.json);
        // The replay store knows the assertion now.
        app.push(None, &form).await.assert_error(
            401,
            "invalid_client",
            "the assertion was used before",
        );
    }

    // A public client identifies itself, and must send PKCE.
    let public = mobile_query(&challenge, &[]);
    assert_eq!(app.push(None, &public).await.status, 201);
    let without_pkce: Vec<_> = public
        .iter()
        .copied()
        .filter(|(name, _)| !name.starts_with("code_challenge"))
        .collect();
    app.push(None, &without_pkce).await.assert_error(
        400,
        "invalid_request",
        "a public client must send a PKCE code_challenge (S256)",
    );
}

#[tokio::test]
async fn pushed_requests_are_checked_as_authorization_requests_and_refused_as_rfc_9126_says() {
    let app = spawn(
        &TestConfig::new().client(
            ClientConfig::new("machine")
                .secret(OTHER_SECRET)
                .redirect_uris(&[CALLBACK])
                .audience(&["https://reports.internal"]),
        ),
    )
    .await;
    let challenge = challenge(VERIFIER);
    let webapp = Some(("webapp", OTHER_SECRET));
    let cases: [(Changes, &str, &str); 9] = [
        (
            &[("request_uri", "urn:ietf:params:oauth:request_uri:x")],
            "invalid_request",
            "the request_uri parameter cannot be pushed (RFC 9126 2.1)",
        ),
        (
            &[("request", "eyJhbGciOiJFUzI1NiJ9.e30.sig")],
            "request_not_supported",
            "request objects are not supported: push the authorization request's parameters themselves",
        ),
        (
            &[("response_type", "token")],
            "unsupported_response_type",
            "the client 'webapp' doesn't support the response type: 'token'",
        ),
        (
            &[("scope", "openid reports:admin")],
            "invalid_scope",
            "the scopes reports:admin are not allowed or invalid",
        ),
        (
            &[("redirect_uri", "http://127.0.0.1:9/elsewhere")],
            "invalid_request",
            "the redirect URI is not registered for the client webapp",
        ),
        (
            &[("redirect_uri", "/callback")],
            "invalid_request",
            "Based on the RFC-3986 the redirection-uri is not well formed",
        ),
        (
            &[("code_challenge_method", "plain")],
            "invalid_request",
            "the code challenge method plain is not allowed; use S256",
        ),
        (
            &[("prompt", "sometimes")],
            "invalid_request",
            "the prompt parameter has an unknown value",
        ),
        (
            &[("max_age", "-1")],
            "invalid_request",
            "max_age must be a number of seconds",
        ),
    ];
    for (extra, error, description) in cases {
        app.push(webapp, &webapp_request(&challenge, extra))
            .await
            .assert_error(400, error, description);
    }
    // A client that may not use the code flow (client_credentials only).
    let machine = webapp_request(&challenge, &[("client_id", "machine")]);
    app.push(Some(("machine", OTHER_SECRET)), &machine)
        .await
        .assert_error(
            400,
            "unauthorized_client",
            "the client machine doesn't support the grant type authorization_code",
        );

    // The request itself: a form, POSTed, of bounded size.
    app.post_json("/oauth2/par", &json!({"client_id": "webapp"}))
        .await
        .assert_error(
            400,
            "invalid_request",
            "the content type is not supported; send application/x-www-form-urlencoded",
        );
    app.post_raw("/oauth2/par", Some("application/x-www-form-urlencoded"), "")
        .await
        .assert_error(400, "invalid_request", "no parameter in body request");
    let get = app.get("/oauth2/par").await;
    get.assert_error(405, "invalid_request", "this endpoint accepts only POST");
    assert_eq!(get.header("allow"), Some("POST"));
    let long_state = "s".repeat(4096);
    app.push(
        webapp,
        &webapp_request(&challenge, &[("state", &long_state)]),
    )
    .await
    .assert_error(
        413,
        "invalid_request",
        "the pushed parameters are larger than 4096 bytes",
    );
    // 64-character nonces and long states fit (FAPI 2.0 5.3.2.2).
    let nonce = "n".repeat(64);
    let state = "s".repeat(1500);
    let pushed = app
        .push(
            webapp,
            &webapp_request(&challenge, &[("nonce", &nonce), ("state", &state)]),
        )
        .await;
    assert_eq!(pushed.status, 201, "{}", pushed.json);
}

#[tokio::test]
async fn pushed_requests_can_be_required_of_one_client_or_of_all() {
    let app = spawn(
        &TestConfig::new().client(
            ClientConfig::new("par-only")
                .secret(OTHER_SECRET)
                .grant_types(&["authorization_code"])
                .redirect_uris(&[CALLBACK])
                .scopes(&["openid"])
                .audience(&["https://reports.internal"])
                .require_pushed_authorization_requests(true),
        ),
    )
    .await;
    let challenge = challenge(VERIFIER);
    let plain = |client_id: &'static str| {
        let challenge = challenge.clone();
        let app = &app;
        async move {
            let query =
                webapp_request(&challenge, &[("scope", "openid"), ("client_id", client_id)]);
            app.authorize(&mut Jar::default(), &query).await
        }
    };
    let refused = plain("par-only").await;
    assert_eq!(refused.status, 302);
    let query = query_of(refused.header("location").unwrap());
    assert_eq!(query["error"], "invalid_request");
    assert_eq!(
        query["error_description"],
        "the client par-only must push its authorization requests (RFC 9126) and send only client_id and request_uri here"
    );
    assert_eq!(query["state"], "pushed-state");
    assert_eq!(query["iss"], ISSUER);
    assert_eq!(plain("webapp").await.status, 200);
    let pushed = app
        .push(
            Some(("par-only", OTHER_SECRET)),
            &webapp_request(
                &challenge,
                &[("scope", "openid"), ("client_id", "par-only")],
            ),
        )
        .await;
    assert_eq!(pushed.status, 201, "{}", pushed.json);
    let page = app
        .authorize(
            &mut Jar::default(),
            &[
                ("client_id", "par-only"),
                ("request_uri", pushed.str("request_uri")),
            ],
        )
        .await;
    assert_eq!(page.status, 200);

    let metadata = app.get("/.well-known/openid-configuration").await.json;
    assert_eq!(
        metadata["pushed_authorization_request_endpoint"],
        format!("{ISSUER}/oauth2/par")
    );
    assert_eq!(metadata["require_pushed_authorization_requests"], false);

    // For every client.
    let app = spawn(&TestConfig::new().authorize(AuthorizeConfig {
        require_pushed_authorization_requests: Some(true),
        ..AuthorizeConfig::default()
    }))
    .await;
    let refused = app
        .authorize(&mut Jar::default(), &webapp_request(&challenge, &[]))
        .await;
    assert_eq!(
        query_of(refused.header("location").unwrap())["error"],
        "invalid_request"
    );
    let request_uri = app.pushed_uri(&webapp_request(&challenge, &[])).await;
    let page = app
        .authorize(
            &mut Jar::default(),
            &[("client_id", "webapp"), ("request_uri", &request_uri)],
        )
        .await;
    assert_eq!(page.status, 200);
    let metadata = app
        .get("/.well-known/oauth-authorization-server")
        .await
        .json;
    assert_eq!(metadata["require_pushed_authorization_requests"], true);
}
