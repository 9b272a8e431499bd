//! RFC 7009 revocation, RFC 7662 introspection, the denylist's capacity rule and the signed
//! revocation feed, on the memory backend.

use crate::harness::*;
use jsonwebtoken::Algorithm;
use serde_json::json;
use std::time::Duration;

fn inactive(answer: &Answer) {
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(answer.json, json!({"active": false}));
    assert_eq!(answer.header("cache-control"), Some("no-store"));
}

#[tokio::test]
async fn an_active_token_introspects_with_its_claims() {
    let app = spawn_app().await;
    let token = app.new_token().await;
    let answer = app.introspect(&token).await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    let (_, claims) = app.verify(&token, Algorithm::ES256, "billing-api").await;
    let body = answer.json.as_object().unwrap();
    assert_eq!(body["active"], true);
    assert_eq!(body["token_type"], "Bearer");
    for claim in [
        "iss",
        "sub",
        "aud",
        "exp",
        "iat",
        "nbf",
        "jti",
        "client_id",
        "scope",
        "status",
    ] {
        assert_eq!(body[claim], claims[claim], "{claim}");
    }
    assert_eq!(body.len(), 12);
}

#[tokio::test]
async fn a_revoked_token_is_inactive_and_revoking_is_idempotent() {
    let app = spawn_app().await;
    let token = app.new_token().await;
    let other = app.new_token().await;
    let answer = app
        .revoke(
            ("reports", REPORTS_SECRET),
            &[("token", &token), ("token_type_hint", "access_token")],
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    inactive(&app.introspect(&token).await);
    assert_eq!(
        app.introspect(&other).await.json["active"],
        true,
        "only that token"
    );
    // Again, and with a wrong hint: still 200.
    let again = app
        .revoke(
            ("reports", REPORTS_SECRET),
            &[("token", &token), ("token_type_hint", "refresh_token")],
        )
        .await;
    assert_eq!(again.status, 200);
    let metrics = app.metrics().await;
    assert_eq!(metric(&metrics, "tessera_revocations_total"), Some(2.0));
    // An access token is revoked by its bit in its status list, not on the denylist.
    assert_eq!(metric(&metrics, "tessera_denylist_entries"), Some(0.0));
    assert!(app.status_revoked(&token).await);
    assert!(!app.status_revoked(&other).await);
}

#[tokio::test]
async fn a_wrong_hint_still_revokes() {
    let app = spawn_app().await;
    let token = app.new_token().await;
    let answer = app
        .revoke(
            ("reports", REPORTS_SECRET),
            &[("token", &token), ("token_type_hint", "refresh_token")],
        )
        .await;
    assert_eq!(answer.status, 200);
    inactive(&app.introspect(&token).await);
}

#[tokio::test]
async fn garbage_expired_or_foreign_tokens_revoke_with_200_and_change_nothing() {
    let app = spawn_app().await;
    let foreign = spawn_app().await.new_token().await;
    let expired = app.new_token().await;
    app.clock.advance(Duration::from_secs(901));
    for token in ["garbage", "a.b.c", &expired, &foreign] {
        let answer = app
            .revoke(("reports", REPORTS_SECRET), &[("token", token)])
            .await;
        assert_eq!(answer.status, 200, "{token}: {}", answer.json);
    }
    assert_eq!(
        metric(&app.metrics().await, "tessera_revocations_total"),
        Some(0.0)
    );
}

#[tokio::test]
async fn a_client_revokes_only_its_own_tokens() {
    let app = spawn_app().await;
    let token = app.new_token().await;
    app.revoke(("resource-server", OTHER_SECRET), &[("token", &token)])
        .await
        .assert_error(
            400,
            "unauthorized_client",
            "the token has not been issued for the given client id 'resource-server'",
        );
    assert_eq!(app.introspect(&token).await.json["active"], true);
}

#[tokio::test]
async fn revocation_and_introspection_requests_are_checked() {
    let app = spawn_app().await;
    app.revoke(
        ("reports", REPORTS_SECRET),
        &[("token_type_hint", "access_token")],
    )
    .await
    .assert_error(400, "invalid_request", "the parameter token is missing");
    app.revoke(("reports", "wrong"), &[("token", "x")])
        .await
        .assert_error(
            401,
            "invalid_client",
            "the client cannot be authenticated with secret basic",
        );
    app.post_form(
        "/oauth2/introspect",
        Some(("reports", REPORTS_SECRET)),
        &[("token", "x")],
    )
    .await
    .assert_error(
        401,
        "unauthorized_client",
        "the client reports is not allowed to introspect tokens",
    );
    app.post_form("/oauth2/introspect", Some(RESOURCE_SERVER), &[])
        .await
        .assert_error(400, "invalid_request", "no parameter in body request");
    let get = app.get("/oauth2/revoke").await;
    get.assert_error(405, "invalid_request", "this endpoint accepts only POST");
}

#[tokio::test]
async fn expired_foreign_and_malformed_tokens_are_inactive_with_nothing_else() {
    let app = spawn_app().await;
    let foreign = spawn_app().await.new_token().await;
    let token = app.new_token().await;
    // Same kid and signature, another claim: tampered.
    let parts: Vec<&str> = token.split('.').collect();
    let tampered = format!("{}.{}.{}", parts[0], parts[2], parts[2]);
    for bad in ["garbage", "a.b.c", &foreign, &tampered] {
        inactive(&app.introspect(bad).await);
    }
    app.clock.advance(Duration::from_secs(900));
    inactive(&app.introspect(&token).await);
}

#[tokio::test]
async fn a_full_denylist_refuses_new_revocations_instead_of_forgetting_live_ones() {
    let app = spawn(&TestConfig::new().revocation(RevocationConfig {
        capacity: Some(2),
        ..RevocationConfig::default()
    }))
    .await;
    // Refresh tokens are revoked by family, on the denylist.
    let mut families = Vec::new();
    for _ in 0..3 {
        let login = app
            .password_grant("alice", ALICE_PASSWORD, Some("reports:read"))
            .await;
        families.push(login.str("refresh_token").to_owned());
    }
    for token in &families[..2] {
        assert_eq!(app.revoke_public("mobile", token).await.status, 200);
    }
    let refused = app.revoke_public("mobile", &families[2]).await;
    refused.assert_error(
        503,
        "temporarily_unavailable",
        "the revocation list is full; try again later",
    );
    assert_eq!(refused.header("retry-after"), Some("60"));
    for token in &families[..2] {
        app.refresh("mobile", token, None).await.assert_error(
            400,
            "invalid_grant",
            "the refresh token is not valid",
        );
    }
    assert_eq!(
        metric(
            &app.metrics().await,
            r#"tessera_revocation_store_refusals_total{reason="full"}"#
        ),
        Some(1.0)
    );
    // Once every token the revoked families could issue has expired, their room comes back.
    app.clock.advance(Duration::from_secs(31 * 24 * 3600));
    let login = app
        .password_grant("alice", ALICE_PASSWORD, Some("reports:read"))
        .await;
    assert_eq!(
        app.revoke_public("mobile", login.str("refresh_token"))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn status_lists_are_signed_cacheable_and_revocation_sets_the_tokens_bit() {
    let app = spawn_app().await;
    let first = app.new_token().await;
    let second = app.new_token().await;
    let (uri, first_idx) = status_of(&first);
    let (second_uri, second_idx) = status_of(&second);
    assert_eq!(uri, second_uri, "one window, one list");
    assert_ne!(first_idx, second_idx);

    let list = app.status_list(&uri).await;
    assert_eq!(list.claims["sub"], uri.as_str());
    assert_eq!(list.claims["iss"], ISSUER);
    assert_eq!(list.claims["iat"], app.clock_now());
    assert_eq!(list.claims["exp"], app.clock_now() + 3600);
    assert_eq!(list.claims["ttl"], 60);
    assert_eq!(list.cache_control, "public, max-age=60");
    assert_eq!(
        list.bits.len(),
        (1 << 22) / 8,
        "a whole list, of the configured size"
    );
    assert!(!list.bit(first_idx) && !list.bit(second_idx));

    app.revoke(("reports", REPORTS_SECRET), &[("token", &first)])
        .await;
    // The list is rendered at most once a second: the copy a resource server just fetched
    // stands until then, and no longer.
    assert!(!app.status_list(&uri).await.bit(first_idx));
    app.clock.advance(Duration::from_secs(1));
    let after = app.status_list(&uri).await;
    assert!(after.bit(first_idx), "the revoked token's bit is set");
    assert!(!after.bit(second_idx), "and only its bit");
    assert_eq!(after.bits.iter().map(|b| b.count_ones()).sum::<u32>(), 1);

    // The aggregation names every list served.
    let aggregation = app.get("/oauth2/status-lists").await;
    assert_eq!(aggregation.status, 200);
    assert_eq!(aggregation.json["status_lists"], json!([uri]));

    // A list is served until every token in it has expired, then no more.
    let path = uri.strip_prefix(ISSUER).unwrap();
    let refused = app
        .client
        .get(app.url(path))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 406, "only as application/statuslist+jwt");
    for bad in [
        "/oauth2/status-lists/nope",
        "/oauth2/status-lists/0000000a-1-0",
    ] {
        app.get(bad)
            .await
            .assert_error(404, "invalid_request", "no such status list");
    }
    app.clock.advance(Duration::from_secs(2 * 900 + 961 + 60));
    app.get(path)
        .await
        .assert_error(404, "invalid_request", "no such status list");
    assert_eq!(
        app.get("/oauth2/status-lists").await.json["status_lists"],
        json!([])
    );
}

#[tokio::test]
async fn a_status_list_reads_the_same_with_python_zlib_and_jwcrypto() {
    let app = spawn_app().await;
    let revoked = app.new_token().await;
    let kept = app.new_token().await;
    app.revoke(("reports", REPORTS_SECRET), &[("token", &revoked)])
        .await;
    let (uri, revoked_idx) = status_of(&revoked);
    let (_, kept_idx) = status_of(&kept);
    let token = app
        .client
        .get(app.url(uri.strip_prefix(ISSUER).unwrap()))
        .header("accept", "application/statuslist+jwt")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let jwks = app.jwks().await;
    assert!(python_status_bit(&jwks, &token, revoked_idx));
    assert!(!python_status_bit(&jwks, &token, kept_idx));
}

#[tokio::test]
async fn revoking_a_refresh_token_revokes_the_access_token_issued_with_it() {
    let app = spawn_app().await;
    let login = app
        .password_grant("alice", ALICE_PASSWORD, Some("reports:read"))
        .await;
    let access = login.str("access_token").to_owned();
    assert_eq!(app.introspect(&access).await.json["active"], true);
    assert_eq!(
        app.revoke_public("mobile", login.str("refresh_token"))
            .await
            .status,
        200
    );
    inactive(&app.introspect(&access).await);
    app.clock.advance(Duration::from_secs(1));
    assert!(app.status_revoked(&access).await);
}
