//! Three `tessera serve` processes sharing one keys folder and a real Redis: a revocation on one
//! is seen by all; when Redis stops, what needs it fails closed (503) and issuing goes on; when
//! Redis returns, the replicas recover by themselves, before the next request.

use crate::harness::*;
use serde_json::json;
use std::time::Duration;
use tessera::jose::SigningAlg;

async fn introspect(client: &reqwest::Client, server: &ServerProcess, token: &str) -> Answer {
    post_form(
        client,
        &server.url("/oauth2/introspect"),
        Some(RESOURCE_SERVER),
        &[("token", token)],
    )
    .await
}

async fn token(client: &reqwest::Client, server: &ServerProcess) -> Answer {
    post_form(
        client,
        &server.url("/oauth2/token"),
        Some(("reports", REPORTS_SECRET)),
        &[("grant_type", "client_credentials")],
    )
    .await
}

/// client_credentials on `server`, the client authenticating with `assertion`.
async fn with_assertion(
    client: &reqwest::Client,
    server: &ServerProcess,
    assertion: &str,
) -> Answer {
    post_form(
        client,
        &server.url("/oauth2/token"),
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", assertion),
        ],
    )
    .await
}

/// The refresh grant of the public client `mobile`.
async fn refresh(client: &reqwest::Client, server: &ServerProcess, token: &str) -> Answer {
    post_form(
        client,
        &server.url("/oauth2/token"),
        None,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "mobile"),
            ("refresh_token", token),
        ],
    )
    .await
}

#[tokio::test]
async fn replicas_share_revocations_through_redis_and_fail_closed_without_it() {
    let dir = tempfile::TempDir::new().unwrap();
    let redis_dir = tempfile::TempDir::new().unwrap();
    let port = free_port();
    let redis = Redis::start(redis_dir.path(), port);
    let signer = TestKey::new(SigningAlg::ES256, "replica-key");
    let config = process_config(
        dir.path(),
        TestConfig::new()
            .revocation(RevocationConfig::redis(
                &format!("redis://127.0.0.1:{port}/"),
                &format!("t{port}"),
            ))
            .client(
                ClientConfig::new("signer")
                    .token_endpoint_auth_methods(&["private_key_jwt"])
                    .jwks(jwk_set(&[&signer]))
                    .audience(&["https://s.internal"]),
            ),
    );
    // The first replica creates the shared keys; the others load them.
    let a = ServerProcess::start(&config);
    let b = ServerProcess::start(&config);
    let c = ServerProcess::start(&config);
    let client = reqwest::Client::new();

    let issued = token(&client, &a).await;
    assert_eq!(issued.status, 200, "{}", issued.json);
    let revoked = issued.json["access_token"].as_str().unwrap().to_owned();
    let kept = token(&client, &b).await.json["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    for server in [&a, &b, &c] {
        assert_eq!(
            introspect(&client, server, &revoked).await.json["active"],
            true
        );
    }

    // Revoked on A: inactive on B and C at once.
    let answer = post_form(
        &client,
        &a.url("/oauth2/revoke"),
        Some(("reports", REPORTS_SECRET)),
        &[("token", &revoked)],
    )
    .await;
    assert_eq!(answer.status, 200);
    for server in [&b, &c] {
        assert_eq!(
            introspect(&client, server, &revoked).await.json,
            json!({"active": false})
        );
        assert_eq!(
            introspect(&client, server, &kept).await.json["active"],
            true
        );
    }
    // Every replica serves the same status list, with the revoked token's bit set: the lists
    // live in Redis, and the replicas took their indices from it without colliding.
    let (uri, idx) = status_of(&revoked);
    let (kept_uri, kept_idx) = status_of(&kept);
    assert!(
        uri != kept_uri || idx != kept_idx,
        "two replicas, two indices"
    );
    let path = &uri[uri
        .find("/oauth2/status-lists/")
        .expect("a status list path")..];
    let mut lists = Vec::new();
    for server in [&a, &b, &c] {
        let token = client
            .get(server.url(path))
            .header("accept", "application/statuslist+jwt")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let claims = unverified_claims(&token);
        lists.push(claims["status_list"]["lst"].as_str().unwrap().to_owned());
    }
    assert!(
        lists.iter().all(|lst| *lst == lists[0]),
        "the same list everywhere"
    );
    let view = a_status_list(&lists[0]);
    assert!(view[(idx / 8) as usize] >> (idx % 8) & 1 == 1);

    // An assertion used on A cannot be replayed on B or C.
    let assertion = signer.sign(&assertion_claims("signer", chrono::Utc::now().timestamp()));
    assert_eq!(with_assertion(&client, &a, &assertion).await.status, 200);
    for server in [&b, &c] {
        with_assertion(&client, server, &assertion)
            .await
            .assert_error(401, "invalid_client", "the assertion was used before");
    }

    // A refresh token spent on B cannot be used again on C, and that reuse revokes the family
    // everywhere: the newest token fails on A.
    let login = post_form(
        &client,
        &a.url("/oauth2/token"),
        None,
        &[
            ("grant_type", "password"),
            ("client_id", "mobile"),
            ("username", "alice"),
            ("password", ALICE_PASSWORD),
        ],
    )
    .await;
    let r1 = login.json["refresh_token"].as_str().unwrap().to_owned();
    let second = refresh(&client, &b, &r1).await;
    assert_eq!(second.status, 200, "{}", second.json);
    let r2 = second.json["refresh_token"].as_str().unwrap().to_owned();
    refresh(&client, &c, &r1).await.assert_error(
        400,
        "invalid_grant",
        "the refresh token is not valid",
    );
    refresh(&client, &a, &r2).await.assert_error(
        400,
        "invalid_grant",
        "the refresh token is not valid",
    );

    // Redis stops: revoked-or-not is unknown, so introspection and revocation refuse; issuing
    // needs no shared state and goes on.
    redis.stop();
    let fresh = signer.sign(&assertion_claims("signer", chrono::Utc::now().timestamp()));
    let answer = with_assertion(&client, &a, &fresh).await;
    answer.assert_error(
        503,
        "temporarily_unavailable",
        "the revocation state is unavailable; try again later",
    );
    refresh(&client, &b, &r2).await.assert_error(
        503,
        "temporarily_unavailable",
        "the revocation state is unavailable; try again later",
    );
    introspect(&client, &b, &kept).await.assert_error(
        503,
        "temporarily_unavailable",
        "the revocation state is unavailable; try again later",
    );
    post_form(
        &client,
        &c.url("/oauth2/revoke"),
        Some(("reports", REPORTS_SECRET)),
        &[("token", &kept)],
    )
    .await
    .assert_error(
        503,
        "temporarily_unavailable",
        "the revocation state is unavailable; try again later",
    );
    assert_eq!(token(&client, &a).await.status, 200);
    // A revocation this replica already knows stays known.
    assert_eq!(
        introspect(&client, &a, &revoked).await.json,
        json!({"active": false})
    );

    // Redis returns (with its data): each replica notices by itself, so the very first request
    // it gets afterwards is served.
    let redis = Redis::start(redis_dir.path(), port);
    for server in [&a, &b, &c] {
        server.wait_for_log("Redis answers again", Duration::from_secs(10));
    }
    let answer = introspect(&client, &b, &kept).await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(answer.json["active"], true);
    for server in [&b, &c] {
        let answer = introspect(&client, server, &revoked).await;
        assert_eq!(answer.status, 200, "{}", answer.json);
        assert_eq!(
            answer.json,
            json!({"active": false}),
            "the revocation survived"
        );
    }
    for server in [a, b, c] {
        assert!(server.stop().success());
    }
    redis.stop();
}

/// The bitstring of a status list's `lst`.
fn a_status_list(lst: &str) -> Vec<u8> {
    let compressed =
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, lst).unwrap();
    let mut bits = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::ZlibDecoder::new(compressed.as_slice()),
        &mut bits,
    )
    .unwrap();
    bits
}

#[tokio::test]
async fn replicas_agree_on_the_one_use_of_a_request_uri() {
    let redis_dir = tempfile::TempDir::new().unwrap();
    let port = free_port();
    let redis = Redis::start(redis_dir.path(), port);
    let config = TestConfig::new().revocation(RevocationConfig::redis(
        &format!("redis://127.0.0.1:{port}/"),
        &format!("t{port}"),
    ));
    // Two replicas of one folder: the first makes the keys, the second loads them.
    let dir = std::sync::Arc::new(tempfile::TempDir::new().unwrap());
    let a = spawn_in(dir.clone(), &config).await;
    let b = spawn_in(dir, &config).await;
    let challenge = challenge(VERIFIER);
    let pushed = a
        .push(
            Some(("webapp", OTHER_SECRET)),
            &[
                ("response_type", "code"),
                ("redirect_uri", CALLBACK),
                ("scope", "openid"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        )
        .await;
    assert_eq!(pushed.status, 201, "{}", pushed.json);
    let by_reference = [
        ("client_id", "webapp"),
        ("request_uri", pushed.str("request_uri")),
    ];

    // Pushed to A, used on B: the request_uri carries the request itself.
    let mut jar = Jar::default();
    let page = b.authorize(&mut jar, &by_reference).await;
    assert_eq!(page.status, 200, "{}", page.json);
    let loaded_on_a = a.authorize(&mut Jar::default(), &by_reference).await;
    assert_eq!(loaded_on_a.status, 200, "{}", loaded_on_a.json);
    let signed_in = b.sign_in(&mut jar, &page, "alice", ALICE_PASSWORD).await;
    let code = query_of(signed_in.header("location").unwrap())["code"].clone();

    // B gave its code: A knows, through Redis.
    let again = a.authorize(&mut Jar::default(), &by_reference).await;
    assert_eq!(again.status, 400);
    assert!(again
        .json
        .as_str()
        .unwrap()
        .contains("the request_uri was used already"));
    let answer = a.exchange_code(("webapp", OTHER_SECRET), &code).await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    a.handle.stop(true).await;
    b.handle.stop(true).await;
    redis.stop();
}

/// Two replicas on one keys folder and one Redis: a DPoP proof spent on one is refused by the
/// other (RFC 9449 11.1), and the nonce one made is taken by the other.
#[tokio::test]
async fn a_dpop_proof_is_used_once_across_replicas() {
    let redis_dir = tempfile::TempDir::new().unwrap();
    let port = free_port();
    let redis = Redis::start(redis_dir.path(), port);
    let dir = std::sync::Arc::new(tempfile::TempDir::new().unwrap());
    let config = TestConfig::new()
        .revocation(RevocationConfig::redis(
            &format!("redis://127.0.0.1:{port}/"),
            &format!("d{port}"),
        ))
        .raw("dpop.require_nonce", true);
    let start = tessera::clock::Clock::now(&tessera::clock::SystemClock);
    let a = spawn_at(dir.clone(), &config, start).await;
    let b = spawn_at(dir.clone(), &config, start).await;
    let key = DpopKey::new("ES256");
    let form = [("grant_type", "client_credentials")];
    let basic = Some(("reports", REPORTS_SECRET));

    let no_nonce = key.proof(&a, "POST", "/oauth2/token", json!({}));
    let refused = a.token_dpop(basic, &no_nonce, &form).await;
    assert_eq!(refused.json["error"], "use_dpop_nonce");
    let nonce = refused.header("dpop-nonce").unwrap().to_owned();
    let proof = key.proof(&a, "POST", "/oauth2/token", json!({ "nonce": nonce }));
    let first = b.token_dpop(basic, &proof, &form).await;
    assert_eq!(first.status, 200, "{}", first.json);
    assert_eq!(first.str("token_type"), "DPoP");
    a.token_dpop(basic, &proof, &form).await.assert_error(
        400,
        "invalid_dpop_proof",
        "the DPoP proof has been used before",
    );
    redis.stop();
}
