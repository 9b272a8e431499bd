//! Users: the password grant, refresh tokens (rotation, reuse, families), ID tokens, userinfo.

use crate::harness::*;
use aws_lc_rs::digest;
use base64::Engine;
use jsonwebtoken::Algorithm;
use serde_json::json;
use std::time::Duration;

/// OIDC at_hash, computed here independently: left half of SHA-256, base64url.
fn at_hash(access_token: &str) -> String {
    let hash = digest::digest(&digest::SHA256, access_token.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&hash.as_ref()[..16])
}

#[tokio::test]
async fn a_public_client_gets_user_tokens_with_the_password_grant() {
    let app = spawn_app().await;
    let answer = app
        .password_grant(
            "alice",
            ALICE_PASSWORD,
            Some("openid profile email reports:read"),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    assert_eq!(answer.json["token_type"], "Bearer");
    assert_eq!(answer.json["scope"], "openid profile email reports:read");
    assert!(answer.json["refresh_token"].is_string());

    let access = answer.str("access_token");
    let (_, claims) = app
        .verify(access, Algorithm::ES256, "https://reports.internal")
        .await;
    let now = app.clock_now();
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["client_id"], "mobile");
    assert_eq!(claims["auth_time"], now);
    assert_eq!(claims["email"], "alice@example.com");
    assert_eq!(claims["groups"], json!(["staff"]));

    let id = app.verify_id_token(answer.str("id_token"), "mobile").await;
    assert_eq!(id["sub"], "alice");
    assert_eq!(id["azp"], "mobile");
    assert_eq!(id["auth_time"], now);
    assert_eq!(id["iat"], now);
    assert_eq!(id["exp"], now + 900);
    assert_eq!(id["at_hash"], at_hash(access));
    assert_eq!(id["email"], "alice@example.com");
    assert_eq!(id["email_verified"], true);
    assert_eq!(id["name"], "Alice Liddell");
    assert!(
        id.get("groups").is_none(),
        "only scoped standard claims: {id}"
    );
    assert!(id.get("nonce").is_none());
}

#[tokio::test]
async fn id_token_claims_follow_the_scopes_and_no_openid_means_no_id_token() {
    let app = spawn_app().await;
    let answer = app
        .password_grant("alice", ALICE_PASSWORD, Some("openid"))
        .await;
    let id = app.verify_id_token(answer.str("id_token"), "mobile").await;
    assert!(
        id.get("email").is_none() && id.get("name").is_none(),
        "{id}"
    );
    let plain = app
        .password_grant("alice", ALICE_PASSWORD, Some("reports:read"))
        .await;
    assert_eq!(plain.status, 200);
    assert!(plain.json.get("id_token").is_none());
}

#[tokio::test]
async fn wrong_passwords_and_unknown_users_are_refused_alike() {
    let app = spawn_app().await;
    for (user, password) in [("alice", "wrong"), ("nobody", ALICE_PASSWORD)] {
        app.password_grant(user, password, None).await.assert_error(
            400,
            "invalid_grant",
            "resource owner credentials are not valid",
        );
    }
    app.token_form(
        None,
        &[
            ("grant_type", "password"),
            ("client_id", "mobile"),
            ("password", "x"),
        ],
    )
    .await
    .assert_error(400, "invalid_request", "the parameter username is missing");
    app.token_form(
        None,
        &[
            ("grant_type", "password"),
            ("client_id", "mobile"),
            ("username", "alice"),
        ],
    )
    .await
    .assert_error(400, "invalid_request", "the parameter password is missing");
    app.token_form(
        Some(("reports", REPORTS_SECRET)),
        &[
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", ALICE_PASSWORD),
        ],
    )
    .await
    .assert_error(
        400,
        "unauthorized_client",
        "the client reports doesn't support the grant type password",
    );
}

#[tokio::test]
async fn password_guessing_is_throttled_per_username_without_checking_passwords() {
    let app = spawn(&TestConfig::new().user_auth(UserAuthConfig {
        max_failures_per_user: Some(2),
        ..UserAuthConfig::default()
    }))
    .await;
    for guess in ["one", "two"] {
        app.password_grant("alice", guess, None).await.assert_error(
            400,
            "invalid_grant",
            "resource owner credentials are not valid",
        );
    }
    // Past the limit even the right password is not checked.
    let throttled = app.password_grant("alice", ALICE_PASSWORD, None).await;
    throttled.assert_error(
        429,
        "invalid_grant",
        "too many failed sign-in attempts; retry later",
    );
    assert!(throttled.header("retry-after").is_some());
    // Another user is not affected.
    assert_eq!(
        app.password_grant("bob", OTHER_SECRET, None).await.status,
        200
    );
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_revokes_its_family() {
    let app = spawn_app().await;
    let first = app.password_grant("alice", ALICE_PASSWORD, None).await;
    let r1 = first.str("refresh_token").to_owned();
    // Refresh tokens are sealed: nothing readable inside.
    assert_eq!(r1.split('.').count(), 5);
    assert!(!r1.contains("alice"));

    let second = app.refresh("mobile", &r1, None).await;
    assert_eq!(second.status, 200, "{}", second.json);
    let r2 = second.str("refresh_token").to_owned();
    assert_ne!(r1, r2);
    let (_, claims) = app
        .verify(
            second.str("access_token"),
            Algorithm::ES256,
            "https://reports.internal",
        )
        .await;
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["scope"], "openid reports:read");

    let third = app.refresh("mobile", &r2, None).await;
    let r3 = third.str("refresh_token").to_owned();

    // r2 again: refused, and the family's newest token r3 dies with it.
    app.refresh("mobile", &r2, None).await.assert_error(
        400,
        "invalid_grant",
        "the refresh token is not valid",
    );
    app.refresh("mobile", &r3, None).await.assert_error(
        400,
        "invalid_grant",
        "the refresh token is not valid",
    );
    // Another family of the same user is untouched.
    let other = app.password_grant("alice", ALICE_PASSWORD, None).await;
    assert_eq!(
        app.refresh("mobile", other.str("refresh_token"), None)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn refresh_scopes_narrow_but_never_widen_and_tokens_stay_with_their_client() {
    let app = spawn_app().await;
    let first = app
        .password_grant("alice", ALICE_PASSWORD, Some("openid reports:read"))
        .await;
    let r1 = first.str("refresh_token").to_owned();
    app.refresh("mobile", &r1, Some("openid reports:write"))
        .await
        .assert_error(
            400,
            "invalid_scope",
            "the scopes reports:write are not allowed or invalid",
        );
    let narrowed = app.refresh("mobile", &r1, Some("reports:read")).await;
    assert_eq!(narrowed.status, 200, "{}", narrowed.json);
    assert_eq!(narrowed.json["scope"], "reports:read");
    assert!(narrowed.json.get("id_token").is_none());

    let other = app.password_grant("alice", ALICE_PASSWORD, None).await;
    let answer = app
        .token_form(
            Some(("webapp", OTHER_SECRET)),
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", other.str("refresh_token")),
            ],
        )
        .await;
    answer.assert_error(
        400,
        "invalid_grant",
        "the refresh token can be used only by the same issuer",
    );
}

#[tokio::test]
async fn bad_and_expired_refresh_tokens_are_not_valid() {
    let app = spawn_app().await;
    for bad in ["garbage", "a.b.c.d.e"] {
        app.refresh("mobile", bad, None).await.assert_error(
            400,
            "invalid_grant",
            "the refresh token is not valid",
        );
    }
    app.token_form(
        None,
        &[("grant_type", "refresh_token"), ("client_id", "mobile")],
    )
    .await
    .assert_error(
        400,
        "invalid_request",
        "the parameter refresh_token is missing",
    );
    let first = app.password_grant("alice", ALICE_PASSWORD, None).await;
    app.clock.advance(Duration::from_secs(30 * 86400 + 1));
    app.refresh("mobile", first.str("refresh_token"), None)
        .await
        .assert_error(400, "invalid_grant", "the refresh token is not valid");
}

#[tokio::test]
async fn refresh_tokens_introspect_and_revoking_one_revokes_its_family() {
    let app = spawn_app().await;
    let first = app.password_grant("alice", ALICE_PASSWORD, None).await;
    let r1 = first.str("refresh_token").to_owned();
    let active = app.introspect(&r1).await;
    assert_eq!(active.json["active"], true, "{}", active.json);
    assert_eq!(active.json["token_type"], "refresh_token");
    assert_eq!(active.json["client_id"], "mobile");
    assert_eq!(active.json["sub"], "alice");

    let r2 = app
        .refresh("mobile", &r1, None)
        .await
        .str("refresh_token")
        .to_owned();
    assert_eq!(
        app.introspect(&r1).await.json,
        json!({"active": false}),
        "spent"
    );
    // Another client may not revoke it.
    app.revoke(("reports", REPORTS_SECRET), &[("token", &r2)])
        .await
        .assert_error(
            400,
            "unauthorized_client",
            "the token has not been issued for the given client id 'reports'",
        );
    let revoked = app
        .token_form(
            None,
            &[
                ("client_id", "mobile"),
                ("token", &r2),
                ("token_type_hint", "refresh_token"),
            ],
        )
        .await;
    assert_eq!(
        revoked.status, 400,
        "the token endpoint is not the revocation endpoint"
    );
    let answer = app.revoke_public("mobile", &r2).await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(app.introspect(&r2).await.json, json!({"active": false}));
    app.refresh("mobile", &r2, None).await.assert_error(
        400,
        "invalid_grant",
        "the refresh token is not valid",
    );
}

#[tokio::test]
async fn userinfo_answers_the_scoped_claims_of_a_bearer_token() {
    let app = spawn_app().await;
    let answer = app
        .password_grant("alice", ALICE_PASSWORD, Some("openid email"))
        .await;
    let access = answer.str("access_token").to_owned();
    for response in [
        app.client
            .get(app.url("/oauth2/userinfo"))
            .bearer_auth(&access)
            .send()
            .await
            .unwrap(),
        app.client
            .post(app.url("/oauth2/userinfo"))
            .form(&[("access_token", access.as_str())])
            .send()
            .await
            .unwrap(),
    ] {
        let info = Answer::from(response).await;
        assert_eq!(info.status, 200, "{}", info.json);
        assert_eq!(
            info.json,
            json!({"sub": "alice", "email": "alice@example.com", "email_verified": true})
        );
    }

    let none = Answer::from(
        app.client
            .get(app.url("/oauth2/userinfo"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(none.status, 401);
    assert_eq!(
        none.challenges(),
        [
            "Bearer realm=\"tessera\"",
            "DPoP realm=\"tessera\", algs=\"ES256 ES384 RS256 PS256 EdDSA\""
        ]
    );

    let bad = app.userinfo("garbage").await;
    assert_eq!(bad.status, 401);
    assert_eq!(bad.json["error"], "invalid_token");
    assert!(bad
        .header("www-authenticate")
        .unwrap()
        .contains("error=\"invalid_token\""));

    let no_openid = app
        .password_grant("alice", ALICE_PASSWORD, Some("reports:read"))
        .await;
    let forbidden = app.userinfo(no_openid.str("access_token")).await;
    assert_eq!(forbidden.status, 403);
    assert_eq!(forbidden.json["error"], "insufficient_scope");

    // A client token has no user.
    let client_token = app.new_token().await;
    let answer = app.userinfo(&client_token).await;
    assert_eq!(answer.status, 401);

    // Revoked: refused.
    let revoked = app.revoke_public("mobile", &access).await;
    assert_eq!(revoked.status, 200);
    let after = app.userinfo(&access).await;
    assert_eq!(after.status, 401);
    assert_eq!(after.json["error"], "invalid_token");
}
