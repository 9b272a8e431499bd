//! RFC 7009 revocation, RFC 7662 introspection, the denylist's capacity rule and the signed
//! revocation feed, on the memory backend.

use crate::harness::*;
use jsonwebtoken::Algorithm;
use serde_json::{json, Value};
use std::time::Duration;

fn revoked_jtis(feed: &Value) -> Vec<String> {
    feed["revoked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["jti"].as_str().unwrap().to_owned())
        .collect()
}

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
    ] {
        assert_eq!(body[claim], claims[claim], "{claim}");
    }
    assert_eq!(body.len(), 11);
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
    assert_eq!(metric(&metrics, "tessera_denylist_entries"), Some(1.0));
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
    let tokens = [
        app.new_token().await,
        app.new_token().await,
        app.new_token().await,
    ];
    for token in &tokens[..2] {
        assert_eq!(
            app.revoke(("reports", REPORTS_SECRET), &[("token", token)])
                .await
                .status,
            200
        );
    }
    let refused = app
        .revoke(("reports", REPORTS_SECRET), &[("token", &tokens[2])])
        .await;
    refused.assert_error(
        503,
        "temporarily_unavailable",
        "the revocation list is full; try again later",
    );
    assert_eq!(refused.header("retry-after"), Some("60"));
    for token in &tokens[..2] {
        inactive(&app.introspect(token).await);
    }
    assert_eq!(
        metric(
            &app.metrics().await,
            r#"tessera_revocation_store_refusals_total{reason="full"}"#
        ),
        Some(1.0)
    );
    // Once the revoked tokens expire, their room comes back.
    app.clock.advance(Duration::from_secs(901));
    let fresh = app.new_token().await;
    assert_eq!(
        app.revoke(("reports", REPORTS_SECRET), &[("token", &fresh)])
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn the_revocation_feed_is_signed_pages_by_cursor_and_forgets_expired_entries() {
    let app = spawn_app().await;
    let empty = app.feed(None).await;
    assert_eq!(empty["revoked"], json!([]));
    assert_eq!(empty["more"], false);
    assert_eq!(empty["iss"], ISSUER);

    let first = app.new_token().await;
    let second = app.new_token().await;
    for token in [&first, &second] {
        app.revoke(("reports", REPORTS_SECRET), &[("token", token)])
            .await;
    }
    let jti = |token: &str| {
        let claims = unverified_claims(token);
        (
            claims["jti"].as_str().unwrap().to_owned(),
            claims["exp"].as_i64().unwrap(),
        )
    };
    let page = app.feed(Some(empty["next"].as_str().unwrap())).await;
    assert_eq!(revoked_jtis(&page), [jti(&first).0, jti(&second).0]);
    assert_eq!(page["revoked"][0]["exp"], jti(&first).1);

    // From the cursor: only what came after.
    let third = app.new_token().await;
    app.revoke(("reports", REPORTS_SECRET), &[("token", &third)])
        .await;
    let next = app.feed(Some(page["next"].as_str().unwrap())).await;
    assert_eq!(revoked_jtis(&next), [jti(&third).0]);
    let nothing = app.feed(Some(next["next"].as_str().unwrap())).await;
    assert_eq!(nothing["revoked"], json!([]));
    assert_eq!(nothing["next"], next["next"]);

    // Entries leave the feed when their tokens expire.
    app.clock.advance(Duration::from_secs(901));
    let later = app.feed(Some("0")).await;
    assert_eq!(later["revoked"], json!([]));

    let bad = app.get("/oauth2/revocations?since=yesterday").await;
    bad.assert_error(
        400,
        "invalid_request",
        "the parameter since must be a cursor this endpoint returned",
    );
}
