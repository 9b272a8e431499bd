//! Checking client secrets under load and abuse: failures past a limit get 429 while a correct
//! secret always passes, unknown clients cost no hashing, keyed secrets need no argon2, and the
//! argon2 pool sheds with 503 past its queue.

use crate::harness::*;
use std::time::Duration;

#[tokio::test]
async fn failures_past_the_client_limit_get_429_but_the_correct_secret_always_passes() {
    let app = spawn(&TestConfig::new().client_auth(ClientAuthConfig {
        max_failures_per_client: Some(3),
        max_failures_per_address: Some(100),
        failure_window: Some(Duration::from_secs(60)),
        ..ClientAuthConfig::default()
    }))
    .await;
    // As right after a restart: the real client's secret was never verified by this process.
    for i in 0..3 {
        app.token_form(
            Some(("reports", &format!("guess-{i}"))),
            &[("grant_type", "client_credentials")],
        )
        .await
        .assert_error(
            401,
            "invalid_client",
            "the client cannot be authenticated with secret basic",
        );
    }
    let throttled = app
        .token_form(
            Some(("reports", "guess-3")),
            &[("grant_type", "client_credentials")],
        )
        .await;
    let retry = throttled.assert_throttled();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    // Someone else's failures do not refuse the client's own secret, checked for the first time.
    let first = app.reports_token(&[]).await;
    assert_eq!(first.status, 200, "{}", first.json);
    // Guesses go on getting 429 while the window lasts; the secret, now remembered, still passes.
    app.token_form(
        Some(("reports", "guess-4")),
        &[("grant_type", "client_credentials")],
    )
    .await
    .assert_throttled();
    assert_eq!(app.reports_token(&[]).await.status, 200);
    let metrics = app.metrics().await;
    let checks = |path: &str| {
        metric(
            &metrics,
            &format!(r#"tessera_client_secret_checks_total{{path="{path}"}}"#),
        )
    };
    assert_eq!(
        checks("argon2"),
        Some(6.0),
        "five guesses and the first real check"
    );
    assert_eq!(checks("cached"), Some(1.0));
    assert_eq!(checks("throttled"), None);
    // Other clients are not affected by the per-client limit.
    let other = app
        .token_form(
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "post-only"),
                ("client_secret", OTHER_SECRET),
            ],
        )
        .await;
    assert_eq!(other.status, 200, "{}", other.json);
}

#[tokio::test]
async fn unknown_clients_cost_no_hashing_and_an_address_past_its_limit_still_gets_its_secrets_checked(
) {
    let app = spawn(&TestConfig::new().client_auth(ClientAuthConfig {
        max_failures_per_client: Some(100),
        max_failures_per_address: Some(4),
        ..ClientAuthConfig::default()
    }))
    .await;
    for i in 0..4 {
        let answer = app
            .token_form(
                Some((&format!("probe-{i}"), "x")),
                &[("grant_type", "client_credentials")],
            )
            .await;
        answer.assert_error(401, "invalid_client", "the client doesn't exist");
    }
    let answer = app
        .token_form(
            Some(("probe-4", "x")),
            &[("grant_type", "client_credentials")],
        )
        .await;
    answer.assert_throttled();
    let guess = app
        .token_form(
            Some(("reports", "another-guess")),
            &[("grant_type", "client_credentials")],
        )
        .await;
    guess.assert_throttled();
    // Behind one load balancer every client shares the address: the real one is not refused.
    let real = app.reports_token(&[]).await;
    assert_eq!(real.status, 200, "{}", real.json);
    let metrics = app.metrics().await;
    assert_eq!(
        metric(
            &metrics,
            r#"tessera_client_secret_checks_total{path="unknown"}"#
        ),
        Some(5.0)
    );
    assert_eq!(
        metric(
            &metrics,
            r#"tessera_client_secret_checks_total{path="argon2"}"#
        ),
        Some(2.0),
        "only the known client's two secrets were hashed"
    );
}

#[tokio::test]
async fn a_keyed_secret_is_checked_on_every_request_without_argon2() {
    let app = spawn_app().await;
    for _ in 0..3 {
        let answer = app
            .token_form(
                Some(("keyed", KEYED_SECRET)),
                &[("grant_type", "client_credentials")],
            )
            .await;
        assert_eq!(answer.status, 200, "{}", answer.json);
    }
    let mut wrong = KEYED_SECRET.to_owned();
    wrong.replace_range(..1, if wrong.starts_with('A') { "B" } else { "A" });
    app.token_form(
        Some(("keyed", &wrong)),
        &[("grant_type", "client_credentials")],
    )
    .await
    .assert_error(
        401,
        "invalid_client",
        "the client cannot be authenticated with secret basic",
    );
    let metrics = app.metrics().await;
    assert_eq!(
        metric(
            &metrics,
            r#"tessera_client_secret_checks_total{path="keyed"}"#
        ),
        Some(4.0)
    );
    assert_eq!(
        metric(
            &metrics,
            r#"tessera_client_secret_checks_total{path="argon2"}"#
        ),
        None
    );
}

#[tokio::test]
async fn argon2_checks_past_the_pool_and_its_queue_are_shed_with_503() {
    let app = spawn(
        &TestConfig::new()
            .server(ServerConfig {
                argon2_workers: Some(1),
                argon2_queue: Some(0),
                ..ServerConfig::default()
            })
            .client_auth(ClientAuthConfig {
                max_failures_per_client: Some(1000),
                ..ClientAuthConfig::default()
            }),
    )
    .await;
    let guesses = (0..12).map(|i| {
        let app = &app;
        async move {
            app.token_form(
                Some(("reports", &format!("flood-{i}"))),
                &[("grant_type", "client_credentials")],
            )
            .await
        }
    });
    let answers = futures_util::future::join_all(guesses).await;
    let shed: Vec<_> = answers
        .iter()
        .filter(|answer| answer.status == 503)
        .collect();
    assert!(
        !shed.is_empty(),
        "one worker and no queue must shed some of 12 checks"
    );
    for answer in &shed {
        answer.assert_error(
            503,
            "temporarily_unavailable",
            "too many secret checks are in progress; retry later",
        );
        assert_eq!(answer.header("retry-after"), Some("1"));
    }
    assert!(answers
        .iter()
        .all(|answer| answer.status == 503 || answer.status == 401));
    // Once the burst is over, the pool checks again.
    assert_eq!(app.reports_token(&[]).await.status, 200);
    let metrics = app.metrics().await;
    assert_eq!(
        metric(
            &metrics,
            r#"tessera_client_secret_checks_total{path="shed"}"#
        ),
        Some(shed.len() as f64)
    );
}
