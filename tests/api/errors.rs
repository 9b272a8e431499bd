//! Every bad input gets its precise RFC 6749 error: status, `error`, `error_description`, headers.

use crate::harness::*;
use serde_json::json;

#[tokio::test]
async fn empty_bodies_have_no_parameter() {
    let app = spawn_app().await;
    let expected = "no parameter in body request";
    app.token_raw(Some("application/x-www-form-urlencoded"), "")
        .await
        .assert_error(400, "invalid_request", expected);
    app.token_raw(None, "")
        .await
        .assert_error(400, "invalid_request", expected);
    app.token_raw(Some("application/json"), "{}")
        .await
        .assert_error(400, "invalid_request", expected);
    // Parameters without a value count as omitted (RFC 6749 3.1).
    app.token_raw(
        Some("application/x-www-form-urlencoded"),
        "grant_type=&scope=",
    )
    .await
    .assert_error(400, "invalid_request", expected);
}

#[tokio::test]
async fn a_missing_grant_type_is_named() {
    let app = spawn_app().await;
    app.token_form(
        Some(("reports", REPORTS_SECRET)),
        &[("scope", "reports:read")],
    )
    .await
    .assert_error(
        400,
        "invalid_request",
        "the parameter grant_type is missing",
    );
    app.token_json(&json!({"client_id": "reports"}))
        .await
        .assert_error(
            400,
            "invalid_request",
            "the parameter grant_type is missing",
        );
}

#[tokio::test]
async fn a_repeated_parameter_is_refused() {
    let app = spawn_app().await;
    app.token_raw(
        Some("application/x-www-form-urlencoded"),
        "grant_type=client_credentials&scope=a&scope=b",
    )
    .await
    .assert_error(400, "invalid_request", "the parameter scope is repeated");
    app.token_raw(
        Some("application/json"),
        r#"{"grant_type":"client_credentials","grant_type":"password"}"#,
    )
    .await
    .assert_error(
        400,
        "invalid_request",
        "the parameter grant_type is repeated",
    );
}

#[tokio::test]
async fn malformed_bodies_and_other_content_types_are_invalid_requests() {
    let app = spawn_app().await;
    app.token_raw(
        Some("application/x-www-form-urlencoded"),
        "grant_type=client%zzcredentials",
    )
    .await
    .assert_error(400, "invalid_request", "the form body is malformed");
    app.token_raw(Some("application/x-www-form-urlencoded"), "grant_type")
        .await
        .assert_error(400, "invalid_request", "the form body is malformed");
    app.token_raw(
        Some("application/x-www-form-urlencoded"),
        b"grant_type=%FF%FE".to_vec(),
    )
    .await
    .assert_error(400, "invalid_request", "the form body is malformed");
    app.token_raw(
        Some("application/json"),
        r#"{"grant_type": "client_credentials""#,
    )
    .await
    .assert_error(400, "invalid_request", "the JSON body is malformed");
    app.token_raw(Some("application/json"), r#"["grant_type"]"#)
        .await
        .assert_error(400, "invalid_request", "the JSON body must be an object");
    app.token_raw(
        Some("application/json"),
        r#"{"grant_type": ["client_credentials"]}"#,
    )
    .await
    .assert_error(
        400,
        "invalid_request",
        "the parameter grant_type must be a string",
    );
    // Members are strings: only `details` (the provider grant's credentials) is an object,
    // and it must be one at every grant.
    for (body, description) in [
        (
            r#"{"grant_type": "client_credentials", "client_assertion": {}}"#,
            "the parameter client_assertion must be a string",
        ),
        (
            r#"{"grant_type": "client_credentials", "client_id": 42}"#,
            "the parameter client_id must be a string",
        ),
        (
            r#"{"grant_type": "client_credentials", "client_id": "reports", "x": true}"#,
            "the parameter x must be a string",
        ),
        (
            r#"{"grant_type": "client_credentials", "details": "AAA"}"#,
            "the parameter details must be a JSON object",
        ),
        (
            r#"{"grant_type": "client_credentials", "resource": ["https://a.internal", ""]}"#,
            "the parameter resource lists an empty string",
        ),
    ] {
        app.token_raw(Some("application/json"), body)
            .await
            .assert_error(400, "invalid_request", description);
    }
    // null is left out.
    let answer = app
        .token_raw(
            Some("application/json"),
            format!(
                r#"{{"grant_type": "client_credentials", "client_id": "reports", "client_secret": "{REPORTS_SECRET}", "scope": null}}"#
            ),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    app.token_raw(Some("text/plain"), "grant_type=client_credentials")
        .await
        .assert_error(
            400,
            "invalid_request",
            "the content type is not supported; send application/x-www-form-urlencoded or application/json",
        );
    app.token_raw(None, "grant_type=client_credentials").await.assert_error(
        400,
        "invalid_request",
        "the request has no Content-Type; send application/x-www-form-urlencoded or application/json",
    );
}

#[tokio::test]
async fn an_unknown_grant_type_is_unsupported() {
    let app = spawn_app().await;
    app.token_form(
        Some(("reports", REPORTS_SECRET)),
        &[("grant_type", "magic")],
    )
    .await
    .assert_error(
        400,
        "unsupported_grant_type",
        "the grant type magic is not supported",
    );
}

#[tokio::test]
async fn a_grant_the_client_may_not_use_is_unauthorized() {
    let app = spawn_app().await;
    app.token_form(
        Some(("no-grants", OTHER_SECRET)),
        &[("grant_type", "client_credentials")],
    )
    .await
    .assert_error(
        400,
        "unauthorized_client",
        "the client no-grants doesn't support the grant type client_credentials",
    );
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_with_an_oauth_error() {
    let app = spawn(&TestConfig::new().server(ServerConfig {
        max_body_bytes: Some(2048),
        ..ServerConfig::default()
    }))
    .await;
    let body = format!("grant_type=client_credentials&scope={}", "a".repeat(4096));
    app.token_raw(Some("application/x-www-form-urlencoded"), body)
        .await
        .assert_error(
            413,
            "invalid_request",
            "the request body is larger than 2048 bytes",
        );
    // Without a Content-Length (chunked), the limit holds while reading.
    let chunks = futures_util::stream::iter(
        [vec![b'a'; 1500], vec![b'b'; 1500]].map(Ok::<_, std::io::Error>),
    );
    app.token_raw(
        Some("application/x-www-form-urlencoded"),
        reqwest::Body::wrap_stream(chunks),
    )
    .await
    .assert_error(
        413,
        "invalid_request",
        "the request body is larger than 2048 bytes",
    );
}

#[tokio::test]
async fn an_unknown_client_does_not_exist() {
    let app = spawn_app().await;
    let answer = app
        .token_form(
            Some(("nobody", "whatever")),
            &[("grant_type", "client_credentials")],
        )
        .await;
    answer.assert_error(401, "invalid_client", "the client doesn't exist");
    assert_eq!(
        answer.header("www-authenticate"),
        Some("Basic realm=\"tessera\", charset=\"UTF-8\"")
    );
    app.token_form(
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "nobody"),
            ("client_secret", "x"),
        ],
    )
    .await
    .assert_error(401, "invalid_client", "the client doesn't exist");
}

#[tokio::test]
async fn a_wrong_basic_secret_is_401_with_a_basic_challenge() {
    let app = spawn_app().await;
    let answer = app
        .token_form(
            Some(("reports", "wrong")),
            &[("grant_type", "client_credentials")],
        )
        .await;
    answer.assert_error(
        401,
        "invalid_client",
        "the client cannot be authenticated with secret basic",
    );
    assert_eq!(
        answer.header("www-authenticate"),
        Some("Basic realm=\"tessera\", charset=\"UTF-8\"")
    );
    // The same wrong secret again is answered from the refusal cache, identically.
    let again = app
        .token_form(
            Some(("reports", "wrong")),
            &[("grant_type", "client_credentials")],
        )
        .await;
    again.assert_error(
        401,
        "invalid_client",
        "the client cannot be authenticated with secret basic",
    );
}

#[tokio::test]
async fn a_wrong_post_secret_is_401_without_a_challenge() {
    let app = spawn_app().await;
    let answer = app
        .token_form(
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "reports"),
                ("client_secret", "wrong"),
            ],
        )
        .await;
    answer.assert_error(
        401,
        "invalid_client",
        "the client cannot be authenticated with secret post",
    );
    assert_eq!(answer.header("www-authenticate"), None);
}

#[tokio::test]
async fn two_authentication_methods_are_an_invalid_request() {
    let app = spawn_app().await;
    app.token_form(
        Some(("reports", REPORTS_SECRET)),
        &[
            ("grant_type", "client_credentials"),
            ("client_secret", REPORTS_SECRET),
        ],
    )
    .await
    .assert_error(
        400,
        "invalid_request",
        "the client used more than one authentication method",
    );
    app.token_form(
        Some(("reports", REPORTS_SECRET)),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "post-only"),
        ],
    )
    .await
    .assert_error(
        400,
        "invalid_request",
        "the client_id parameter does not match the authenticated client",
    );
}

#[tokio::test]
async fn only_registered_methods_authenticate() {
    let app = spawn_app().await;
    let answer = app
        .token_form(
            Some(("post-only", OTHER_SECRET)),
            &[("grant_type", "client_credentials")],
        )
        .await;
    answer.assert_error(
        401,
        "invalid_client",
        "the client post-only is not allowed to authenticate with client_secret_basic",
    );
    assert!(answer.header("www-authenticate").is_some());
    app.token_form(
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", SPECIAL_ID),
            ("client_secret", SPECIAL_SECRET),
        ],
    )
    .await
    .assert_error(
        401,
        "invalid_client",
        "the client svc:one two is not allowed to authenticate with client_secret_post",
    );
}

#[tokio::test]
async fn missing_or_malformed_credentials_are_401() {
    let app = spawn_app().await;
    let nothing = app
        .token_form(None, &[("grant_type", "client_credentials")])
        .await;
    nothing.assert_error(401, "invalid_client", "the client must authenticate");
    assert!(nothing.header("www-authenticate").is_some());

    app.token_form(
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "reports"),
        ],
    )
    .await
    .assert_error(
        401,
        "invalid_client",
        "the client reports must authenticate with client_secret_basic or client_secret_post",
    );
    app.token_form(
        None,
        &[("grant_type", "client_credentials"), ("client_secret", "x")],
    )
    .await
    .assert_error(400, "invalid_request", "the parameter client_id is missing");

    for header in ["Basic !!!", "Basic Zm9v", "Bearer abc", "Basic"] {
        let answer = Answer::from(
            app.client
                .post(app.url("/oauth2/token"))
                .header("Authorization", header)
                .form(&[("grant_type", "client_credentials")])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(answer.status, 401, "{header}");
        assert_eq!(answer.json["error"], "invalid_client", "{header}");
        assert!(answer.header("www-authenticate").is_some(), "{header}");
    }
}

#[tokio::test]
async fn only_post_is_accepted_at_the_token_endpoint() {
    let app = spawn_app().await;
    let answer = app.get("/oauth2/token").await;
    answer.assert_error(405, "invalid_request", "this endpoint accepts only POST");
    assert_eq!(answer.header("allow"), Some("POST"));
}

#[tokio::test]
async fn errors_are_counted_by_code() {
    let app = spawn_app().await;
    app.token_form(
        Some(("reports", REPORTS_SECRET)),
        &[("grant_type", "magic")],
    )
    .await;
    app.token_form(
        Some(("reports", REPORTS_SECRET)),
        &[("grant_type", "magic")],
    )
    .await;
    app.token_raw(None, "").await;
    let metrics = app.metrics().await;
    assert_eq!(
        metric(
            &metrics,
            r#"tessera_oauth_errors_total{error="unsupported_grant_type"}"#
        ),
        Some(2.0)
    );
    assert_eq!(
        metric(
            &metrics,
            r#"tessera_oauth_errors_total{error="invalid_request"}"#
        ),
        Some(1.0)
    );
}

/// An unknown client's failed request from `forwarded` (an `X-Forwarded-For` or `Forwarded`
/// header) to `app`.
async fn probe_via(app: &TestApp, header: (&str, &str)) -> Answer {
    Answer::from(
        app.client
            .post(app.url("/oauth2/token"))
            .header("Authorization", basic_header("nobody", "x"))
            .header(header.0, header.1)
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn addresses_come_from_forwarded_headers_only_through_trusted_proxies() {
    let limit = ClientAuthConfig {
        max_failures_per_address: Some(2),
        ..ClientAuthConfig::default()
    };
    let proxied = spawn(
        &TestConfig::new()
            .server(ServerConfig {
                trusted_proxies: Some(vec!["127.0.0.0/8".into(), "10.0.0.0/8".into()]),
                ..ServerConfig::default()
            })
            .client_auth(limit.clone()),
    )
    .await;
    let xff = "x-forwarded-for";
    for _ in 0..2 {
        probe_via(&proxied, (xff, "203.0.113.9"))
            .await
            .assert_error(401, "invalid_client", "the client doesn't exist");
    }
    probe_via(&proxied, (xff, "203.0.113.9"))
        .await
        .assert_throttled();
    // Another client behind the same proxy has its own count.
    probe_via(&proxied, (xff, "203.0.113.10"))
        .await
        .assert_error(401, "invalid_client", "the client doesn't exist");
    // The same client through two proxies, or named by RFC 7239's header.
    probe_via(&proxied, (xff, "203.0.113.9, 10.1.2.3"))
        .await
        .assert_throttled();
    probe_via(&proxied, ("forwarded", "for=203.0.113.9;proto=https"))
        .await
        .assert_throttled();
    // A hop the client wrote itself, in front of what the proxy saw, changes nothing.
    probe_via(&proxied, (xff, "198.51.100.1, 203.0.113.9"))
        .await
        .assert_throttled();

    // Without trusted proxies the headers are ignored: every probe is the loopback peer's.
    let direct = spawn(&TestConfig::new().client_auth(limit)).await;
    for address in ["203.0.113.1", "203.0.113.2"] {
        probe_via(&direct, (xff, address)).await.assert_error(
            401,
            "invalid_client",
            "the client doesn't exist",
        );
    }
    probe_via(&direct, (xff, "203.0.113.3"))
        .await
        .assert_throttled();
}
