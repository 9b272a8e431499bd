//! The FAPI 2.0 profile at run time, whatever the settings say: settings that break every
//! clause `config check` guards (secret and public clients, the password grant, http redirect
//! URIs, plain PKCE, long codes and request_uris, no PAR required), loaded without the profile
//! and switched to it in code. Each request the profile forbids is still refused.

use crate::harness::*;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tessera::clock::Clock;
use tessera::jose::SigningAlg;
use tessera::settings::Profile;

pub const SIGNED_CALLBACK: &str = "https://signed.example/cb";

/// The standard clients plus `signed` (private_key_jwt with `keys`, an https callback, plain
/// PKCE allowed, PAR not required), codes of 120 s, request_uris of 600 s: valid without the
/// profile, and everything the profile narrows left wide.
pub fn loose_config(keys: &[&TestKey]) -> TestConfig {
    TestConfig::new()
        .authorize(AuthorizeConfig {
            code_ttl: Some(Duration::from_secs(120)),
            request_uri_ttl: Some(Duration::from_secs(600)),
            require_pushed_authorization_requests: Some(false),
            ..AuthorizeConfig::default()
        })
        .client(
            ClientConfig::new("signed")
                .token_endpoint_auth_methods(&["private_key_jwt"])
                .jwks(jwk_set(keys))
                .grant_types(&["authorization_code", "client_credentials"])
                .redirect_uris(&[SIGNED_CALLBACK])
                .allow_plain_pkce()
                .require_pushed_authorization_requests(false)
                .scopes(&["openid"])
                .audience(&["https://reports.internal"]),
        )
}

/// An app on `config` whose settings are switched to the profile after loading.
pub async fn spawn_switched(config: &TestConfig) -> TestApp {
    let dir = Arc::new(tempfile::TempDir::new().unwrap());
    let now = tessera::clock::SystemClock.now();
    spawn_changed(dir, config, now, |settings| {
        settings.profile = Some(Profile::Fapi2)
    })
    .await
}

/// `signed`'s authorization request to its callback, with `changes` (an empty value removes
/// the parameter).
pub fn signed_request<'a>(
    challenge: &'a str,
    changes: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut all = vec![("scope", "openid")];
    all.extend_from_slice(changes);
    crate::fapi2::request("signed", SIGNED_CALLBACK, challenge, &all)
}

/// A client assertion of `signed` by `key`, naming `aud`.
pub fn signed_assertion(app: &TestApp, key: &TestKey, aud: serde_json::Value) -> String {
    let mut claims = assertion_claims("signed", app.clock_now());
    claims["aud"] = aud;
    key.sign(&claims)
}

#[tokio::test]
async fn the_profile_holds_at_run_time_whatever_the_settings_say() {
    let es256 = TestKey::new(SigningAlg::ES256, "signed-es256");
    let rs256 = TestKey::new(SigningAlg::RS256, "signed-rs256");
    let app = spawn_switched(&loose_config(&[&es256, &rs256])).await;
    let challenge = challenge(VERIFIER);

    // Secret and public clients do not authenticate; the password grant is served to nobody.
    app.reports_token(&[]).await.assert_error(
        401,
        "invalid_client",
        "the FAPI 2.0 profile accepts private_key_jwt, tls_client_auth or self_signed_tls_client_auth only",
    );
    app.push(None, &mobile_query(&challenge, &[]))
        .await
        .assert_error(
            401,
            "invalid_client",
            "the FAPI 2.0 profile accepts private_key_jwt, tls_client_auth or self_signed_tls_client_auth only",
        );
    app.token_form(
        None,
        &[
            ("grant_type", "password"),
            ("client_id", "mobile"),
            ("username", "alice"),
            ("password", ALICE_PASSWORD),
        ],
    )
    .await
    .assert_error(
        400,
        "unsupported_grant_type",
        "the FAPI 2.0 profile does not allow the grant type password",
    );

    // An http redirect URI is never redirected to, even registered.
    let mobile = app
        .authorize(&mut Jar::default(), &mobile_query(&challenge, &[]))
        .await;
    assert_eq!(mobile.status, 400, "{}", mobile.json);
    assert!(mobile.header("location").is_none());
    assert!(mobile
        .json
        .as_str()
        .unwrap()
        .contains("the FAPI 2.0 profile redirects to https URIs only"));

    // Every client pushes, though neither [authorize] nor the client says so.
    let plain = app
        .authorize(&mut Jar::default(), &signed_request(&challenge, &[]))
        .await;
    let query = query_of(plain.header("location").expect("a redirect"));
    assert_eq!(query["error"], "invalid_request");
    assert_eq!(
        query["error_description"],
        "the client signed must push its authorization requests (RFC 9126) and send only client_id and request_uri here"
    );
    let metadata = app.get("/.well-known/openid-configuration").await.json;
    assert_eq!(metadata["require_pushed_authorization_requests"], true);

    // Assertions: the issuer as a string, PS256/ES256/EdDSA.
    let push = |assertion: String, changes: &[(&'static str, &'static str)]| {
        let form = signed_request(&challenge, changes);
        let app = &app;
        async move {
            let mut form: Vec<(&str, &str)> = form
                .into_iter()
                .filter(|(name, _)| *name != "client_id")
                .collect();
            form.push(("client_assertion_type", ASSERTION_TYPE));
            form.push(("client_assertion", &assertion));
            app.push(None, &form).await
        }
    };
    for (aud, description) in [
        (
            json!(format!("{ISSUER}/oauth2/par")),
            "the audience passed in JWT is not correct",
        ),
        (
            json!(format!("{ISSUER}/oauth2/token")),
            "the audience passed in JWT is not correct",
        ),
        (
            json!([ISSUER]),
            "the audience passed in JWT must be the issuer identifier as a string",
        ),
    ] {
        push(signed_assertion(&app, &es256, aud), &[])
            .await
            .assert_error(401, "invalid_client", description);
    }
    push(signed_assertion(&app, &rs256, json!(ISSUER)), &[])
        .await
        .assert_error(
            401,
            "invalid_client",
            "the assertion's algorithm is not allowed",
        );

    // PKCE S256, though the client may use plain; redirect_uri named, though it has one.
    let s256_only =
        "the FAPI 2.0 profile requires a PKCE code_challenge with code_challenge_method S256";
    for changes in [
        &[("code_challenge_method", "plain")][..],
        &[("code_challenge", ""), ("code_challenge_method", "")][..],
    ] {
        push(signed_assertion(&app, &es256, json!(ISSUER)), changes)
            .await
            .assert_error(400, "invalid_request", s256_only);
    }
    push(
        signed_assertion(&app, &es256, json!(ISSUER)),
        &[("redirect_uri", "")],
    )
    .await
    .assert_error(
        400,
        "invalid_request",
        "the parameter redirect_uri is missing",
    );

    // A request_uri lives under 600 seconds, though the settings say 600.
    let pushed = push(signed_assertion(&app, &es256, json!(ISSUER)), &[]).await;
    assert_eq!(pushed.status, 201, "{}", pushed.json);
    assert_eq!(pushed.json["expires_in"], 599);

    // Nothing binds these tokens: refused before the grant runs.
    app.token_with_assertion(&signed_assertion(&app, &es256, json!(ISSUER)), &[])
        .await
        .assert_error(
            400,
            "invalid_request",
            "the FAPI 2.0 profile issues sender-constrained access tokens only, and this request binds them to nothing: send a DPoP proof, or call the mutual-TLS endpoint with the client's certificate",
        );
}

#[tokio::test]
async fn codes_live_60_seconds_and_proofs_use_the_profile_algorithms_whatever_the_settings_say() {
    const TOKEN: &str = "/oauth2/token";
    let es256 = TestKey::new(SigningAlg::ES256, "signed-es256");
    let app = spawn_switched(&loose_config(&[&es256])).await;
    let key = DpopKey::new("ES256");
    let challenge = challenge(VERIFIER);
    // Two codes of `signed`, bound to `key` by the push's proof.
    let mut codes = Vec::new();
    for _ in 0..2 {
        let assertion = signed_assertion(&app, &es256, json!(ISSUER));
        let mut form = signed_request(&challenge, &[("client_id", "")]);
        form.push(("client_assertion_type", ASSERTION_TYPE));
        form.push(("client_assertion", &assertion));
        let proof = key.proof(&app, "POST", "/oauth2/par", json!({}));
        let pushed = app.push_dpop(None, &proof, &form).await;
        assert_eq!(pushed.status, 201, "{}", pushed.json);
        codes.push(
            app.pushed_code("signed", pushed.str("request_uri"), &[])
                .await,
        );
    }
    let exchange = |code: &str, proof: String| {
        let assertion = signed_assertion(&app, &es256, json!(ISSUER));
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", SIGNED_CALLBACK),
            ("code_verifier", VERIFIER),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", &assertion),
        ]
        .map(|(name, value)| (name, value.to_owned()));
        let app = &app;
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(n, v)| (*n, v.as_str())).collect();
            app.token_dpop(None, &proof, &form).await
        }
    };

    // [dpop] still lists ES384 (the settings were not narrowed): the profile refuses it.
    let es384 = DpopKey::new("ES384").proof(&app, "POST", TOKEN, json!({}));
    exchange(&codes[0], es384).await.assert_error(
        400,
        "invalid_dpop_proof",
        "the FAPI 2.0 profile accepts DPoP proofs signed with PS256, ES256 or EdDSA only",
    );

    // code_ttl says 120 seconds; the profile, 60.
    app.clock.advance(Duration::from_secs(59));
    let answer = exchange(&codes[0], key.proof(&app, "POST", TOKEN, json!({}))).await;
    let claims = app.token_claims(&answer, "https://reports.internal").await;
    assert_eq!(claims["cnf"]["jkt"], key.jkt.as_str());
    app.clock.advance(Duration::from_secs(1));
    exchange(&codes[1], key.proof(&app, "POST", TOKEN, json!({})))
        .await
        .assert_error(
            400,
            "invalid_grant",
            "the authorization code is not correct",
        );
}
