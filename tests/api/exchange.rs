//! The JWT bearer grant (RFC 7523 2.1) and token exchange (RFC 8693), with JWTs of a trusted
//! issuer signed here by jsonwebtoken.

use crate::harness::*;
use jsonwebtoken::Algorithm;
use serde_json::{json, Value};
use tessera::jose::SigningAlg;

const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS: &str = "urn:ietf:params:oauth:token-type:access_token";
const JWT: &str = "urn:ietf:params:oauth:token-type:jwt";
const IDP: &str = "https://idp.test";

struct ExchangeApp {
    app: TestApp,
    idp: TestKey,
}

async fn spawn_exchange_app() -> ExchangeApp {
    let idp = TestKey::new(SigningAlg::ES256, "idp-key");
    let config = TestConfig::new()
        .trusted_issuer(
            TrustedIssuerConfig::new(IDP)
                .jwks(jwk_set(&[&idp]))
                .subject_prefix("idp:")
                .scopes(&["reports:read", "s"])
                .audience(&["https://reports.internal"]),
        )
        .client(
            ClientConfig::new("relay")
                .secret(OTHER_SECRET)
                .grant_types(&[JWT_BEARER, TOKEN_EXCHANGE, "client_credentials"])
                .scopes(&["reports:read", "reports:write", "s", "u"])
                .default_scopes(&["reports:read", "s"])
                .audience(&["https://reports.internal", "https://other.internal"]),
        )
        .client(
            ClientConfig::new("second-relay")
                .secret(OTHER_SECRET)
                .grant_types(&[TOKEN_EXCHANGE, "client_credentials"])
                .scopes(&["reports:read", "reports:write"])
                .audience(&["https://reports.internal"]),
        );
    let app = spawn(&config).await;
    ExchangeApp { app, idp }
}

impl ExchangeApp {
    fn idp_jwt(&self, change: &dyn Fn(&mut Value)) -> String {
        let now = self.app.clock_now();
        let mut claims = json!({
            "iss": IDP, "sub": "user-1", "aud": ISSUER, "iat": now, "exp": now + 300,
            "jti": tessera::oauth::issuer::random_id(),
        });
        change(&mut claims);
        self.idp.sign(&claims)
    }

    async fn as_relay(&self, client: &str, form: &[(&str, &str)]) -> Answer {
        self.app
            .token_form(Some((client, OTHER_SECRET)), form)
            .await
    }
}

#[tokio::test]
async fn a_trusted_issuers_jwt_is_an_authorization_grant_once() {
    let app = spawn_exchange_app().await;
    let assertion = app.idp_jwt(&|_| {});
    let answer = app
        .as_relay(
            "relay",
            &[("grant_type", JWT_BEARER), ("assertion", &assertion)],
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(answer.json["scope"], "reports:read s");
    let claims = app
        .app
        .token_claims(&answer, "https://reports.internal")
        .await;
    assert_eq!(claims["sub"], "idp:user-1");
    assert_eq!(claims["client_id"], "relay");

    app.as_relay(
        "relay",
        &[("grant_type", JWT_BEARER), ("assertion", &assertion)],
    )
    .await
    .assert_error(400, "invalid_grant", "the assertion was used before");
}

#[tokio::test]
async fn jwt_bearer_refusals() {
    let app = spawn_exchange_app().await;
    let grant = |assertion: String| {
        let app = &app;
        async move {
            app.as_relay(
                "relay",
                &[("grant_type", JWT_BEARER), ("assertion", &assertion)],
            )
            .await
        }
    };
    grant(app.idp_jwt(&|c| c["iss"] = json!("https://stranger.test")))
        .await
        .assert_error(
            400,
            "invalid_grant",
            "the issuer of the token is not trusted",
        );
    grant(app.idp_jwt(&|c| c["aud"] = json!("https://elsewhere.test")))
        .await
        .assert_error(
            400,
            "invalid_grant",
            "the token is not meant for this issuer (aud)",
        );
    let now = app.app.clock_now();
    grant(app.idp_jwt(&|c| c["exp"] = json!(now - 300)))
        .await
        .assert_error(400, "invalid_grant", "the token has expired");
    grant(app.idp_jwt(&|c| c["exp"] = json!(now + 86400)))
        .await
        .assert_error(
            400,
            "invalid_grant",
            "the token lives longer than this issuer is trusted for",
        );
    grant(app.idp_jwt(&|c| {
        c.as_object_mut().unwrap().remove("jti");
    }))
    .await
    .assert_error(400, "invalid_grant", "the assertion has no jti");
    let impostor = TestKey::new(SigningAlg::ES256, "idp-key");
    let forged = impostor
        .sign(&json!({"iss": IDP, "sub": "admin", "aud": ISSUER, "exp": now + 60, "jti": "x"}));
    grant(forged)
        .await
        .assert_error(400, "invalid_grant", "the assertion is not valid");
    app.as_relay(
        "relay",
        &[
            ("grant_type", JWT_BEARER),
            ("assertion", &app.idp_jwt(&|_| {})),
            ("scope", "u"),
        ],
    )
    .await
    .assert_error(
        400,
        "invalid_scope",
        "the scopes u are not allowed or invalid",
    );
    app.as_relay(
        "relay",
        &[
            ("grant_type", JWT_BEARER),
            ("assertion", &app.idp_jwt(&|_| {})),
            ("resource", "https://other.internal"),
        ],
    )
    .await
    .assert_error(
        400,
        "invalid_target",
        "tokens from https://idp.test may not name the audience https://other.internal",
    );
    app.as_relay("relay", &[("grant_type", JWT_BEARER)])
        .await
        .assert_error(400, "invalid_request", "the parameter assertion is missing");
    app.as_relay(
        "second-relay",
        &[
            ("grant_type", JWT_BEARER),
            ("assertion", &app.idp_jwt(&|_| {})),
        ],
    )
    .await
    .assert_error(
        400,
        "unauthorized_client",
        &format!("the client second-relay doesn't support the grant type {JWT_BEARER}"),
    );
}

#[tokio::test]
async fn token_exchange_delegates_with_act_and_never_widens_scopes() {
    let app = spawn_exchange_app().await;
    let subject = app
        .app
        .reports_token(&[("scope", "reports:read reports:write")])
        .await
        .json["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let actor = app
        .as_relay("relay", &[("grant_type", "client_credentials")])
        .await
        .json["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let exchanged = app
        .as_relay(
            "relay",
            &[
                ("grant_type", TOKEN_EXCHANGE),
                ("subject_token", &subject),
                ("subject_token_type", ACCESS),
                ("actor_token", &actor),
                ("actor_token_type", ACCESS),
                ("requested_token_type", ACCESS),
            ],
        )
        .await;
    assert_eq!(exchanged.status, 200, "{}", exchanged.json);
    assert_eq!(exchanged.json["issued_token_type"], ACCESS);
    assert_eq!(exchanged.json["scope"], "reports:read reports:write");
    let token = exchanged.json["access_token"].as_str().unwrap().to_owned();
    let (_, claims) = app
        .app
        .verify(&token, Algorithm::ES256, "https://reports.internal")
        .await;
    assert_eq!(claims["sub"], "reports");
    assert_eq!(claims["client_id"], "relay");
    assert_eq!(claims["act"], json!({"sub": "relay"}));

    // Issued later, it still expires with the subject token.
    let subject_claims = app
        .app
        .verify(&subject, Algorithm::ES256, "https://reports.internal")
        .await
        .1;
    app.app.clock.advance(std::time::Duration::from_secs(600));
    let later = app
        .as_relay(
            "relay",
            &[
                ("grant_type", TOKEN_EXCHANGE),
                ("subject_token", &subject),
                ("subject_token_type", ACCESS),
            ],
        )
        .await;
    assert_eq!(later.status, 200, "{}", later.json);
    assert_eq!(later.json["expires_in"], 300);
    let later_claims = app
        .app
        .token_claims(&later, "https://reports.internal")
        .await;
    assert_eq!(later_claims["exp"], subject_claims["exp"]);

    // A scope the subject token does not have: refused.
    app.as_relay(
        "relay",
        &[
            ("grant_type", TOKEN_EXCHANGE),
            ("subject_token", &subject),
            ("subject_token_type", ACCESS),
            ("scope", "s"),
        ],
    )
    .await
    .assert_error(
        400,
        "invalid_scope",
        "the scopes s are not allowed or invalid",
    );

    // Exchanged again by another relay: the earlier actor nests.
    let second_actor = app
        .as_relay("second-relay", &[("grant_type", "client_credentials")])
        .await
        .json["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let again = app
        .as_relay(
            "second-relay",
            &[
                ("grant_type", TOKEN_EXCHANGE),
                ("subject_token", &token),
                ("subject_token_type", ACCESS),
                ("actor_token", &second_actor),
                ("actor_token_type", ACCESS),
                ("scope", "reports:read"),
            ],
        )
        .await;
    assert_eq!(again.status, 200, "{}", again.json);
    let claims = app
        .app
        .token_claims(&again, "https://reports.internal")
        .await;
    assert_eq!(
        claims["act"],
        json!({"sub": "second-relay", "act": {"sub": "relay"}})
    );
    assert_eq!(claims["scope"], "reports:read");

    // A revoked subject token cannot be exchanged.
    let revoked = app
        .app
        .revoke(("reports", REPORTS_SECRET), &[("token", &subject)])
        .await;
    assert_eq!(revoked.status, 200, "{}", revoked.json);
    app.as_relay(
        "relay",
        &[
            ("grant_type", TOKEN_EXCHANGE),
            ("subject_token", &subject),
            ("subject_token_type", ACCESS),
        ],
    )
    .await
    .assert_error(400, "invalid_grant", "the subject token is not valid");
}

#[tokio::test]
async fn a_trusted_issuers_jwt_can_be_exchanged_within_its_limits() {
    let app = spawn_exchange_app().await;
    let jwt = app.idp_jwt(&|_| {});
    let answer = app
        .as_relay(
            "relay",
            &[
                ("grant_type", TOKEN_EXCHANGE),
                ("subject_token", &jwt),
                ("subject_token_type", JWT),
            ],
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(
        answer.json["scope"], "reports:read s",
        "the issuer's limit, not the client's u"
    );
    let claims = app
        .app
        .token_claims(&answer, "https://reports.internal")
        .await;
    assert_eq!(claims["sub"], "idp:user-1");
    assert!(claims.get("act").is_none());
}

#[tokio::test]
async fn token_exchange_requests_are_checked() {
    let app = spawn_exchange_app().await;
    let subject = app.app.new_token().await;
    let base = |extra: &[(&'static str, &'static str)]| {
        let mut form = vec![("grant_type", TOKEN_EXCHANGE)];
        form.extend_from_slice(extra);
        form
    };
    app.as_relay("relay", &base(&[("subject_token_type", ACCESS)]))
        .await
        .assert_error(
            400,
            "invalid_request",
            "the parameter subject_token is missing",
        );
    let mut form = base(&[(
        "subject_token_type",
        "urn:ietf:params:oauth:token-type:saml2",
    )]);
    form.push(("subject_token", &subject));
    app.as_relay("relay", &form).await.assert_error(
        400,
        "invalid_request",
        "the token type urn:ietf:params:oauth:token-type:saml2 is not supported",
    );
    let mut form = base(&[
        ("subject_token_type", ACCESS),
        (
            "requested_token_type",
            "urn:ietf:params:oauth:token-type:refresh_token",
        ),
    ]);
    form.push(("subject_token", &subject));
    app.as_relay("relay", &form).await.assert_error(
        400,
        "invalid_request",
        "the requested_token_type is not supported (access_token, jwt)",
    );
    let mut form = base(&[("subject_token_type", ACCESS)]);
    form.push(("subject_token", &subject));
    form.push(("actor_token", &subject));
    app.as_relay("relay", &form).await.assert_error(
        400,
        "invalid_request",
        "the parameter actor_token_type is missing",
    );
    app.as_relay(
        "relay",
        &[
            ("grant_type", TOKEN_EXCHANGE),
            ("subject_token", "garbage"),
            ("subject_token_type", ACCESS),
        ],
    )
    .await
    .assert_error(400, "invalid_grant", "the subject token is not valid");
}

#[tokio::test]
async fn a_trusted_issuer_whose_keys_cannot_be_fetched_is_invalid_grant_not_invalid_client() {
    let idp = TestKey::new(SigningAlg::ES256, "idp-key");
    let closed = free_port();
    let config = TestConfig::new()
        .trusted_issuer(TrustedIssuerConfig {
            jwks_uri: Some(format!("http://127.0.0.1:{closed}/jwks")),
            ..TrustedIssuerConfig::new(IDP)
                .scopes(&["reports:read"])
                .audience(&["https://reports.internal"])
        })
        .client(
            ClientConfig::new("relay")
                .secret(OTHER_SECRET)
                .grant_types(&[JWT_BEARER, TOKEN_EXCHANGE])
                .scopes(&["reports:read"])
                .audience(&["https://reports.internal"]),
        );
    let app = spawn(&config).await;
    let now = app.clock_now();
    let jwt = idp.sign(&json!({
        "iss": IDP, "sub": "user-1", "aud": ISSUER, "iat": now, "exp": now + 300, "jti": "j-1",
    }));
    // The client authenticated; the trusted issuer is what failed.
    app.token_form(
        Some(("relay", OTHER_SECRET)),
        &[("grant_type", JWT_BEARER), ("assertion", &jwt)],
    )
    .await
    .assert_error(
        400,
        "invalid_grant",
        "the issuer's keys could not be fetched",
    );
    app.token_form(
        Some(("relay", OTHER_SECRET)),
        &[
            ("grant_type", TOKEN_EXCHANGE),
            ("subject_token", &jwt),
            ("subject_token_type", JWT),
        ],
    )
    .await
    .assert_error(
        400,
        "invalid_grant",
        "the issuer's keys could not be fetched",
    );
}
