//! Redis that tells and recovers: an outage logged (naming Redis, never its password), counted
//! and reported by `/readyz`, and the first request after it served; `rediss://` with a
//! private CA; a 3-node Redis Cluster holding the shared state; throttle counters shared by
//! replicas.

use crate::harness::*;
use std::time::Duration;

const PASSWORD: &str = "redis-pw-0123456789";

fn revocation(url: &str, prefix: &str) -> RevocationConfig {
    RevocationConfig::redis(url, prefix)
}

#[tokio::test]
async fn an_outage_is_logged_counted_and_reported_and_the_first_request_after_it_is_served() {
    let dir = tempfile::TempDir::new().unwrap();
    let redis_dir = tempfile::TempDir::new().unwrap();
    let port = free_port();
    let redis = Redis::start_with_password(redis_dir.path(), port, PASSWORD);
    let address = format!("redis://127.0.0.1:{port}/");
    let config = process_config(
        dir.path(),
        TestConfig::new().revocation(revocation(
            &format!("redis://:{PASSWORD}@127.0.0.1:{port}/"),
            "outage",
        )),
    );
    let server = ServerProcess::start(&config);
    let listening = server.wait_for_log("listening", Duration::from_secs(1));
    assert_eq!(
        listening["revocation"],
        format!("Redis at redis://127.0.0.1:{port}"),
        "startup names the backend"
    );
    let client = reqwest::Client::new();
    let introspect = |token: String| {
        let client = client.clone();
        let url = server.url("/oauth2/introspect");
        async move { post_form(&client, &url, Some(RESOURCE_SERVER), &[("token", &token)]).await }
    };
    let issued = post_form(
        &client,
        &server.url("/oauth2/token"),
        Some(("reports", REPORTS_SECRET)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    let token = issued.str("access_token").to_owned();
    assert_eq!(introspect(token.clone()).await.json["active"], true);
    assert_eq!(
        Answer::from(client.get(server.url("/readyz")).send().await.unwrap())
            .await
            .status,
        200
    );

    redis.stop();
    introspect(token.clone()).await.assert_error(
        503,
        "temporarily_unavailable",
        "the revocation state is unavailable; try again later",
    );
    let outage = server.wait_for_log("Redis is unreachable", Duration::from_secs(5));
    assert_eq!(outage["redis"], address.trim_end_matches('/'));
    assert_eq!(outage["level"], "ERROR");
    let ready = Answer::from(client.get(server.url("/readyz")).send().await.unwrap()).await;
    assert_eq!(
        ready.status, 200,
        "all replicas share Redis: none leaves the balancer"
    );
    assert_eq!(
        ready.json,
        serde_json::json!({
            "status": "degraded",
            "redis": "unreachable",
            "reason": format!("Redis at redis://127.0.0.1:{port} cannot be reached"),
        })
    );
    let metrics = Answer::from(client.get(server.url("/metrics")).send().await.unwrap()).await;
    let text = metrics.json.as_str().unwrap().to_owned();
    assert_eq!(metric(&text, "tessera_redis_up"), Some(0.0));
    assert!(metric(&text, "tessera_redis_failures_total").unwrap() >= 1.0);

    // Redis returns: the replica notices by itself, and the first request is served.
    let redis = Redis::start_with_password(redis_dir.path(), port, PASSWORD);
    server.wait_for_log("Redis answers again", Duration::from_secs(5));
    let first = introspect(token.clone()).await;
    assert_eq!(first.status, 200, "{}", first.json);
    assert_eq!(first.json["active"], true);
    let ready = Answer::from(client.get(server.url("/readyz")).send().await.unwrap()).await;
    assert_eq!(ready.json, serde_json::json!({"status": "ready"}));
    let metrics = Answer::from(client.get(server.url("/metrics")).send().await.unwrap()).await;
    let text = metrics.json.as_str().unwrap().to_owned();
    assert_eq!(metric(&text, "tessera_redis_up"), Some(1.0));
    assert_eq!(metric(&text, "tessera_redis_recoveries_total"), Some(1.0));
    let logs = server.logs();
    assert!(
        logs.iter()
            .all(|event| !event.to_string().contains(PASSWORD)),
        "the Redis password was logged"
    );
    assert!(server.stop().success());
    redis.stop();
}

/// A CA and a certificate for `localhost` / 127.0.0.1 it signed, as PEM files in `dir`.
fn tls_files(
    dir: &std::path::Path,
) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let ca_pem = ca.pem();
    let issuer = Issuer::new(ca_params, ca_key);
    let server_key = KeyPair::generate().unwrap();
    let server_params =
        CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
    let server = server_params.signed_by(&server_key, &issuer).unwrap();
    let paths = (
        dir.join("ca.pem"),
        dir.join("redis.pem"),
        dir.join("redis.key"),
    );
    std::fs::write(&paths.0, ca_pem).unwrap();
    std::fs::write(&paths.1, server.pem()).unwrap();
    std::fs::write(&paths.2, server_key.serialize_pem()).unwrap();
    (paths.0, paths.1, paths.2)
}

#[tokio::test]
async fn rediss_reaches_a_tls_only_redis_through_a_private_ca() {
    let dir = std::sync::Arc::new(tempfile::TempDir::new().unwrap());
    let (_, cert, key) = tls_files(dir.path());
    let port = free_port();
    let redis = Redis::start_tls(dir.path(), port, &cert, &key);
    let config = TestConfig::new().revocation(RevocationConfig {
        tls_ca_file: Some("ca.pem".to_owned()),
        ..revocation(&format!("rediss://localhost:{port}/"), "tls")
    });
    let app = spawn_in(dir.clone(), &config).await;
    assert_eq!(app.get("/readyz").await.status, 200);
    let token = app.new_token().await;
    assert_eq!(app.introspect(&token).await.json["active"], true);
    assert_eq!(
        app.revoke(("reports", REPORTS_SECRET), &[("token", &token)])
            .await
            .status,
        200
    );
    assert_eq!(app.introspect(&token).await.json["active"], false);
    assert!(app.status_revoked(&token).await);

    // The same server, trusted through the system's roots only: refused, and /readyz says so.
    let untrusting = spawn(
        &TestConfig::new().revocation(revocation(&format!("rediss://localhost:{port}/"), "tls")),
    )
    .await;
    let ready = untrusting.get("/readyz").await;
    assert_eq!(ready.json["status"], "degraded");
    assert_eq!(
        ready.json["reason"],
        format!("Redis at rediss://localhost:{port} cannot be reached")
    );
    redis.stop();
}

#[tokio::test]
async fn a_three_node_redis_cluster_holds_revocations_status_lists_single_uses_and_counters() {
    let dir = tempfile::TempDir::new().unwrap();
    let cluster = RedisCluster::start(dir.path());
    let config = TestConfig::new()
        .revocation(RevocationConfig {
            backend: Some("redis".to_owned()),
            cluster_nodes: Some(cluster.urls()),
            key_prefix: Some("cl".to_owned()),
            ..RevocationConfig::default()
        })
        .client_auth(ClientAuthConfig {
            max_failures_per_client: Some(2),
            ..ClientAuthConfig::default()
        });
    let app = spawn(&config).await;
    assert_eq!(app.get("/readyz").await.status, 200);
    // Status lists (hash-tagged keys, Lua scripts on one slot) and revocation.
    let tokens = [app.new_token().await, app.new_token().await];
    assert_eq!(
        app.revoke(("reports", REPORTS_SECRET), &[("token", &tokens[0])])
            .await
            .status,
        200
    );
    assert_eq!(app.introspect(&tokens[0]).await.json["active"], false);
    assert_eq!(app.introspect(&tokens[1]).await.json["active"], true);
    assert!(app.status_revoked(&tokens[0]).await);
    assert!(!app.status_revoked(&tokens[1]).await);
    // Single use: a refresh token spent twice is refused the second time.
    let login = app.password_grant("alice", ALICE_PASSWORD, None).await;
    assert_eq!(login.status, 200, "{}", login.json);
    let refresh_token = login.str("refresh_token").to_owned();
    assert_eq!(
        app.refresh("mobile", &refresh_token, None).await.status,
        200
    );
    app.refresh("mobile", &refresh_token, None)
        .await
        .assert_error(400, "invalid_grant", "the refresh token is not valid");
    // Throttle counters in the cluster too.
    for guess in ["g1", "g2"] {
        app.token_form(
            Some(("reports", guess)),
            &[("grant_type", "client_credentials")],
        )
        .await
        .assert_error(
            401,
            "invalid_client",
            "the client cannot be authenticated with secret basic",
        );
    }
    app.token_form(
        Some(("reports", "g3")),
        &[("grant_type", "client_credentials")],
    )
    .await
    .assert_throttled();
    let spread = cluster.keys_per_node();
    assert!(
        spread.iter().filter(|keys| **keys > 0).count() >= 2,
        "the keys live on several nodes: {spread:?}"
    );
}

#[tokio::test]
async fn throttle_counters_are_shared_by_replicas_through_redis() {
    let redis_dir = tempfile::TempDir::new().unwrap();
    let port = free_port();
    let redis = Redis::start(redis_dir.path(), port);
    let config = TestConfig::new()
        .revocation(revocation(&format!("redis://127.0.0.1:{port}/"), "shared"))
        .client_auth(ClientAuthConfig {
            max_failures_per_client: Some(3),
            ..ClientAuthConfig::default()
        });
    let a = spawn(&config).await;
    let b = spawn(&config).await;
    let wrong = "the client cannot be authenticated with secret basic";
    for (replica, guess) in [(&a, "g1"), (&b, "g2"), (&a, "g3")] {
        replica
            .token_form(
                Some(("reports", guess)),
                &[("grant_type", "client_credentials")],
            )
            .await
            .assert_error(401, "invalid_client", wrong);
    }
    // The fourth failure, on a replica that saw only one of the three.
    let throttled = b
        .token_form(
            Some(("reports", "g4")),
            &[("grant_type", "client_credentials")],
        )
        .await;
    let retry = throttled.assert_throttled();
    assert!((1..=60).contains(&retry));
    // And the correct secret still passes on both.
    assert_eq!(a.reports_token(&[]).await.status, 200);
    assert_eq!(b.reports_token(&[]).await.status, 200);
    redis.stop();
}
