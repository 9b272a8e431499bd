//! The FAPI 2.0 Security Profile (`profile = "fapi2"`): what `config check` refuses, clause by
//! clause, and what the server refuses at run time. The profile's flow: a confidential client
//! authenticating over mutual TLS pushes its request, the user signs in, and every token the
//! client gets is bound to its certificate.

use crate::cli::tessera;
use crate::harness::*;
use serde_json::json;
use std::time::Duration;
use tessera::jose::SigningAlg;

pub(crate) const BANK_CALLBACK: &str = "https://bank.example/cb";
pub(crate) const FINTECH_CALLBACK: &str = "https://fintech.example/cb";
pub(crate) const API: &str = "https://api.bank.example";

/// Parameters to replace, add or (with an empty value) remove in a request.
type Changes<'a> = &'a [(&'a str, &'a str)];

/// A configuration the profile accepts: `bank` authenticates with its certificate from the client
/// CA, `fintech` with private_key_jwt (its keys: `fintech_keys`).
pub(crate) fn fapi2_config(fintech_keys: &[&TestKey]) -> TestConfig {
    let spare = TestKey::new(SigningAlg::ES256, "fintech");
    let fintech_keys = if fintech_keys.is_empty() {
        &[&spare][..]
    } else {
        fintech_keys
    };
    let mut config = TestConfig::new().profile("fapi2").tls(Pki::tls_listener());
    config.clients = vec![
        ClientConfig::new("bank")
            .token_endpoint_auth_methods(&["tls_client_auth"])
            .tls_client_auth_subject_dn("CN=bank")
            .grant_types(&["authorization_code", "refresh_token", "client_credentials"])
            .redirect_uris(&[BANK_CALLBACK])
            .scopes(&["openid", "accounts"])
            .audience(&[API]),
        ClientConfig::new("fintech")
            .token_endpoint_auth_methods(&["private_key_jwt"])
            .jwks(jwk_set(fintech_keys))
            .grant_types(&["authorization_code", "client_credentials"])
            .redirect_uris(&[FINTECH_CALLBACK])
            .scopes(&["openid", "accounts"])
            .audience(&[API]),
    ];
    config
}

/// A FAPI 2.0 authorization request of `client_id` to `callback`, with `changes` made (each
/// replaces the parameter of its name, or adds it; an empty value removes it).
pub(crate) fn request<'a>(
    client_id: &'a str,
    callback: &'a str,
    challenge: &'a str,
    changes: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", callback),
        ("scope", "openid accounts"),
        ("state", "fapi-state"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ];
    for (name, value) in changes {
        form.retain(|(existing, _)| existing != name);
        if !value.is_empty() {
            form.push((name, value));
        }
    }
    form
}

/// The bank's side: its certificate, its TLS client, the app's TLS listener.
pub(crate) struct Bank {
    pub(crate) der: Vec<u8>,
    pub(crate) http: reqwest::Client,
    pub(crate) base: String,
}

impl Bank {
    pub(crate) async fn new(pki: &Pki, app: &TestApp) -> Bank {
        let (identity, der, _) = pki.client("bank", true);
        Bank {
            der,
            http: pki.http(Some(&identity)),
            base: format!(
                "https://localhost:{}",
                app.tls_port.expect("a TLS listener")
            ),
        }
    }

    pub(crate) async fn post(&self, path: &str, form: &[(&str, &str)]) -> Answer {
        post_form(&self.http, &format!("{}{path}", self.base), None, form).await
    }

    /// Pushes a request, signs alice in, and returns the code sent to the bank's callback.
    async fn code(&self, app: &TestApp, jar: &mut Jar) -> String {
        let challenge = challenge(VERIFIER);
        let pushed = self
            .post(
                "/oauth2/par",
                &request("bank", BANK_CALLBACK, &challenge, &[]),
            )
            .await;
        assert_eq!(pushed.status, 201, "{}", pushed.json);
        let query = [
            ("client_id", "bank"),
            ("request_uri", pushed.str("request_uri")),
        ];
        let page = app.authorize(jar, &query).await;
        let answer = if page.status == 200 {
            app.sign_in(jar, &page, "alice", ALICE_PASSWORD).await
        } else {
            page // signed in already: the code comes back at once
        };
        let location = answer
            .header("location")
            .unwrap_or_else(|| panic!("no redirect: {}", answer.json));
        assert!(location.starts_with(BANK_CALLBACK), "{location}");
        let query = query_of(location);
        // RFC 9207, FAPI 2.0 5.3.2.2: the issuer in the authorization response.
        assert_eq!(query["iss"], ISSUER);
        assert_eq!(query["state"], "fapi-state");
        query["code"].clone()
    }

    async fn exchange(&self, code: &str) -> Answer {
        self.post(
            "/oauth2/token",
            &[
                ("grant_type", "authorization_code"),
                ("client_id", "bank"),
                ("code", code),
                ("redirect_uri", BANK_CALLBACK),
                ("code_verifier", VERIFIER),
            ],
        )
        .await
    }
}

#[test]
fn config_check_names_every_clause_a_file_breaks() {
    let dir = tempfile::TempDir::new().unwrap();
    // The standard clients, made for a server without the profile, plus one more.
    let config = TestConfig::new()
        .issuer("http://issuer.test")
        .profile("fapi2")
        .signing_alg(SigningAlg::RS256)
        .authorize(AuthorizeConfig {
            code_ttl: Some(Duration::from_secs(120)),
            request_uri_ttl: Some(Duration::from_secs(600)),
            require_pushed_authorization_requests: Some(false),
            ..AuthorizeConfig::default()
        })
        .client_assertions(ClientAssertionsConfig {
            clock_skew: Some(Duration::from_secs(5)),
            ..ClientAssertionsConfig::default()
        })
        .client(
            ClientConfig::new("loose")
                .token_endpoint_auth_methods(&["private_key_jwt"])
                .token_endpoint_auth_signing_algs(&["ES256", "RS256", "HS256"])
                .jwks(jwk_set(&[&TestKey::new(SigningAlg::ES256, "loose")]))
                .grant_types(&["authorization_code"])
                .redirect_uris(&["https://*.example.com/cb", "https://loose.example/cb"])
                .audience(&[API])
                .require_pushed_authorization_requests(false),
        )
        .client(
            ClientConfig::new("keys-over-http")
                .token_endpoint_auth_methods(&["private_key_jwt"])
                .jwks_uri("http://127.0.0.1:9/jwks.json")
                .audience(&[API]),
        )
        .trusted_issuer(TrustedIssuerConfig {
            jwks_uri: Some("http://localhost:9/jwks.json".to_owned()),
            algs: Some(vec!["ES256".to_owned(), "RS256".to_owned()]),
            ..TrustedIssuerConfig::new("https://idp.example")
        })
        .provider(ProviderConfig::facebook(
            "facebook",
            "app",
            "facebook.secret",
            "http://127.0.0.1:9",
        ));
    // Clients are named by their index in the file: `clients[webapp]` stands for it here.
    let indexed = |text: &str| {
        config
            .clients
            .iter()
            .enumerate()
            .fold(text.to_owned(), |text, (i, client)| {
                let name = match client.client_id.as_str() {
                    SPECIAL_ID => "special",
                    id => id,
                };
                text.replace(&format!("clients[{name}]"), &format!("clients[{i}]"))
            })
    };
    let path = config.write_in(dir.path());
    let output = tessera(&path, &["config", "check"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for expected in [
        "issuer: profile fapi2 needs an https issuer (FAPI 2.0 5.2.1: TLS-protected endpoints only)",
        "tokens.signing_alg: profile fapi2 signs with PS256, ES256 or EdDSA only, not RS256 (FAPI 2.0 5.4.1)",
        "authorize.code_ttl: profile fapi2 lets authorization codes live at most 60 seconds (FAPI 2.0 5.3.2.1)",
        "authorize.request_uri_ttl: profile fapi2 needs a request_uri to live less than 600 seconds (FAPI 2.0 5.3.2.2)",
        "authorize.require_pushed_authorization_requests: profile fapi2 requires pushed authorization requests (FAPI 2.0 5.3.2.2): leave it out or set it to true",
        "client_assertions.clock_skew: profile fapi2 accepts JWTs dated up to 10 seconds ahead and refuses those more than 60 seconds ahead (FAPI 2.0 5.3.2.1): set 10s to 60s",
        // reports: client_secret_basic, client_secret_post
        "clients[reports].token_endpoint_auth_methods[0]: profile fapi2 authenticates clients with private_key_jwt, tls_client_auth or self_signed_tls_client_auth only (FAPI 2.0 5.3.2.1)",
        "clients[reports].token_endpoint_auth_methods[1]: profile fapi2 authenticates clients with private_key_jwt",
        // SPECIAL_ID: no methods named
        "clients[special].token_endpoint_auth_methods: defaults to client_secret_basic, which profile fapi2 does not allow: name private_key_jwt, tls_client_auth or self_signed_tls_client_auth (FAPI 2.0 5.3.2.1)",
        // webapp: a loopback http callback
        "clients[webapp].redirect_uris[0]: profile fapi2 needs https redirect URIs, even on loopback (FAPI 2.0 5.3.2.2)",
        "clients[webapp].redirect_uris[1]: profile fapi2 needs https redirect URIs",
        // mobile: public, with the password grant
        "clients[mobile].token_endpoint_auth_methods[0]: profile fapi2 allows confidential clients only (FAPI 2.0 5.3.2.1)",
        "clients[mobile].grant_types[0]: profile fapi2 refuses the password grant (FAPI 2.0 5.3.2.1)",
        // consenting: PKCE plain allowed
        "clients[consenting].allow_plain_pkce: profile fapi2 requires PKCE with S256 (FAPI 2.0 5.3.2.2)",
        "clients[loose].token_endpoint_auth_signing_algs[1]: profile fapi2 accepts JWTs signed with PS256, ES256 or EdDSA only (FAPI 2.0 5.4.1)",
        "clients[loose].token_endpoint_auth_signing_algs[2]: profile fapi2 accepts JWTs signed with PS256, ES256 or EdDSA only",
        "clients[keys-over-http].jwks_uri: profile fapi2 connects to other servers over TLS only: an https URL (FAPI 2.0 5.2.1)",
        "trusted_issuers[0].algs[1]: profile fapi2 accepts JWTs signed with PS256, ES256 or EdDSA only (FAPI 2.0 5.4.1)",
        "trusted_issuers[0].jwks_uri: profile fapi2 connects to other servers over TLS only",
        "providers[0].base_url: profile fapi2 connects to other servers over TLS only",
        "clients[loose].redirect_uris[0]: redirect URIs are compared exactly and profile fapi2 allows no wildcard: register every URI in full (FAPI 2.0 5.3.2.2)",
        "clients[loose].require_pushed_authorization_requests: profile fapi2 requires pushed authorization requests of every client (FAPI 2.0 5.3.2.2)",
    ] {
        let expected = indexed(expected);
        assert!(stderr.contains(&expected), "{expected}\nnot in\n{stderr}");
    }
    for allowed in [
        "trusted_issuers[0].algs[0]",
        "clients[loose].token_endpoint_auth_signing_algs[0]",
        "clients[loose].redirect_uris[1]",
        "clients[loose].token_endpoint_auth_methods",
    ] {
        let allowed = indexed(allowed);
        assert!(!stderr.contains(&allowed), "{allowed} in\n{stderr}");
    }

    // A file that keeps to the profile passes, and so does the server's start.
    let pki = Pki::new();
    let config = fapi2_config(&[]).write_in(pki.dir.path());
    let output = tessera(&config, &["config", "check"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn discovery_says_what_the_profile_allows() {
    let pki = Pki::new();
    let app = spawn_in(pki.dir.clone(), &fapi2_config(&[])).await;
    let metadata = app.get("/.well-known/openid-configuration").await.json;
    assert_eq!(metadata["require_pushed_authorization_requests"], true);
    assert_eq!(
        metadata["token_endpoint_auth_methods_supported"],
        json!([
            "private_key_jwt",
            "tls_client_auth",
            "self_signed_tls_client_auth"
        ])
    );
    assert_eq!(
        metadata["token_endpoint_auth_signing_alg_values_supported"],
        json!(["ES256", "PS256", "EdDSA"])
    );
    let grants = metadata["grant_types_supported"].as_array().unwrap();
    assert!(!grants.contains(&json!("password")), "{grants:?}");
    assert!(grants.contains(&json!("authorization_code")));
    assert_eq!(
        metadata["code_challenge_methods_supported"],
        json!(["S256"])
    );
    assert_eq!(
        metadata["authorization_response_iss_parameter_supported"],
        true
    );
    assert_eq!(
        metadata["mtls_endpoint_aliases"]["pushed_authorization_request_endpoint"],
        "https://localhost:8443/oauth2/par"
    );
}

#[tokio::test]
async fn the_profile_flow_over_mutual_tls_binds_every_token_and_keeps_the_refresh_token() {
    let pki = Pki::new();
    let app = spawn_in(pki.dir.clone(), &fapi2_config(&[])).await;
    let bank = Bank::new(&pki, &app).await;
    let code = bank.code(&app, &mut Jar::default()).await;
    let tokens = bank.exchange(&code).await;
    let claims = app.token_claims(&tokens, API).await;
    let bound = json!({ "x5t#S256": thumbprint(&bank.der) });
    assert_eq!(claims["cnf"], bound);
    assert_eq!(claims["sub"], "alice");
    let refresh_token = tokens.str("refresh_token").to_owned();

    // FAPI 2.0 5.3.4: userinfo takes the bound token only with its certificate.
    let access_token = tokens.str("access_token");
    let stolen = app.userinfo(access_token).await;
    stolen.assert_error(
        401,
        "invalid_token",
        "the access token is bound to a client certificate this request did not present",
    );
    let own = bank
        .http
        .get(format!("{}/oauth2/userinfo", bank.base))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap();
    let own = Answer::from(own).await;
    assert_eq!(own.status, 200, "{}", own.json);
    assert_eq!(own.json["sub"], "alice");

    // FAPI 2.0 5.3.2.1: no refresh token rotation. The same refresh token works again, and no
    // new one is handed out.
    for _ in 0..2 {
        let refreshed = bank
            .post(
                "/oauth2/token",
                &[
                    ("grant_type", "refresh_token"),
                    ("client_id", "bank"),
                    ("refresh_token", &refresh_token),
                ],
            )
            .await;
        let claims = app.token_claims(&refreshed, API).await;
        assert_eq!(claims["cnf"], bound);
        assert!(
            refreshed.json.get("refresh_token").is_none(),
            "{}",
            refreshed.json
        );
    }

    // client_credentials too.
    let answer = bank
        .post(
            "/oauth2/token",
            &[("grant_type", "client_credentials"), ("client_id", "bank")],
        )
        .await;
    assert_eq!(app.token_claims(&answer, API).await["cnf"], bound);
}

#[tokio::test]
async fn codes_live_at_most_60_seconds() {
    let pki = Pki::new();
    let app = spawn_in(pki.dir.clone(), &fapi2_config(&[])).await;
    let bank = Bank::new(&pki, &app).await;
    let mut jar = Jar::default();
    let first = bank.code(&app, &mut jar).await;
    let second = bank.code(&app, &mut jar).await;
    app.clock.advance(Duration::from_secs(59));
    assert_eq!(bank.exchange(&first).await.status, 200);
    app.clock.advance(Duration::from_secs(1));
    bank.exchange(&second).await.assert_error(
        400,
        "invalid_grant",
        "the authorization code is not correct",
    );
}

#[tokio::test]
async fn what_the_profile_forbids_is_refused_at_run_time() {
    let pki = Pki::new();
    let app = spawn_in(pki.dir.clone(), &fapi2_config(&[])).await;
    let bank = Bank::new(&pki, &app).await;
    let challenge = challenge(VERIFIER);
    let push = |changes: &[(&'static str, &'static str)]| {
        let form: Vec<(&str, &str)> = request("bank", BANK_CALLBACK, &challenge, changes);
        let bank = &bank;
        async move { bank.post("/oauth2/par", &form).await }
    };

    // Every authorization request is pushed.
    let plain = app
        .authorize(
            &mut Jar::default(),
            &request("bank", BANK_CALLBACK, &challenge, &[]),
        )
        .await;
    assert_eq!(plain.status, 302);
    let query = query_of(plain.header("location").unwrap());
    assert_eq!(query["error"], "invalid_request");
    assert_eq!(
        query["error_description"],
        "the client bank must push its authorization requests (RFC 9126) and send only client_id and request_uri here"
    );

    let cases: [(Changes, &str, &str); 6] = [
        (
            &[("code_challenge", ""), ("code_challenge_method", "")],
            "invalid_request",
            "the FAPI 2.0 profile requires a PKCE code_challenge with code_challenge_method S256",
        ),
        (
            &[("code_challenge_method", "")],
            "invalid_request",
            "the code challenge method plain is not allowed; use S256",
        ),
        (
            &[("redirect_uri", "")],
            "invalid_request",
            "the parameter redirect_uri is missing",
        ),
        // Exact redirect URIs only.
        (
            &[("redirect_uri", "https://bank.example/cb/")],
            "invalid_request",
            "the redirect URI is not registered for the client bank",
        ),
        (
            &[("redirect_uri", "https://BANK.example/cb?x=1")],
            "invalid_request",
            "the redirect URI is not registered for the client bank",
        ),
        // No implicit or hybrid shortcuts.
        (
            &[("response_type", "code id_token")],
            "unsupported_response_type",
            "the client 'bank' doesn't support the response type: 'code id_token'",
        ),
    ];
    for (changes, error, description) in cases {
        push(changes).await.assert_error(400, error, description);
    }

    // No password grant, whoever asks.
    bank.post(
        "/oauth2/token",
        &[
            ("grant_type", "password"),
            ("client_id", "bank"),
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
    // Over plain HTTP the bank has no certificate to authenticate with.
    app.token_form(
        None,
        &[("grant_type", "client_credentials"), ("client_id", "bank")],
    )
    .await
    .assert_error(
        401,
        "invalid_client",
        "the client cannot be authenticated with TLS",
    );
}

#[tokio::test]
async fn assertions_name_the_issuer_as_a_string_and_tokens_need_a_binding() {
    let es256 = TestKey::new(SigningAlg::ES256, "fintech-es256");
    let rs256 = TestKey::new(SigningAlg::RS256, "fintech-rs256");
    let pki = Pki::new();
    let app = spawn_in(pki.dir.clone(), &fapi2_config(&[&es256, &rs256])).await;
    let challenge = challenge(VERIFIER);
    let assertion = |key: &TestKey, aud: serde_json::Value| {
        let mut claims = assertion_claims("fintech", app.clock_now());
        claims["aud"] = aud;
        key.sign(&claims)
    };
    let push = |assertion: String| {
        let app = &app;
        let challenge = challenge.clone();
        async move {
            let mut form = request(
                "fintech",
                FINTECH_CALLBACK,
                &challenge,
                &[("client_id", "")],
            );
            form.push(("client_assertion_type", ASSERTION_TYPE));
            form.push(("client_assertion", &assertion));
            app.push(None, &form).await
        }
    };

    // FAPI 2.0 5.3.2.1: the issuer identifier, as a string, and nothing else.
    assert_eq!(push(assertion(&es256, json!(ISSUER))).await.status, 201);
    for aud in [
        json!(format!("{ISSUER}/oauth2/par")),
        json!(format!("{ISSUER}/oauth2/token")),
    ] {
        push(assertion(&es256, aud)).await.assert_error(
            401,
            "invalid_client",
            "the audience passed in JWT is not correct",
        );
    }
    push(assertion(&es256, json!([ISSUER]))).await.assert_error(
        401,
        "invalid_client",
        "the audience passed in JWT must be the issuer identifier as a string",
    );
    // FAPI 2.0 5.4.1: PS256, ES256 or EdDSA.
    push(assertion(&rs256, json!(ISSUER))).await.assert_error(
        401,
        "invalid_client",
        "the assertion's algorithm is not allowed",
    );

    // The client authenticates, but over plain HTTP nothing binds its tokens: refused until the
    // request is sender-constrained.
    app.token_with_assertion(&assertion(&es256, json!(ISSUER)), &[])
        .await
        .assert_error(
            400,
            "invalid_request",
            "the FAPI 2.0 profile issues sender-constrained access tokens only, and this request binds them to nothing: send a DPoP proof, or call the mutual-TLS endpoint with the client's certificate",
        );
}

#[tokio::test]
async fn other_issuers_jwts_are_accepted_with_the_profile_algorithms_only() {
    const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
    const IDP: &str = "https://idp.example";
    let es256 = TestKey::new(SigningAlg::ES256, "idp-es256");
    let rs256 = TestKey::new(SigningAlg::RS256, "idp-rs256");
    let pki = Pki::new();
    let mut config = fapi2_config(&[])
        .trusted_issuer(TrustedIssuerConfig::new(IDP).jwks(jwk_set(&[&es256, &rs256])));
    config.clients[0] = config.clients[0]
        .clone()
        .grant_types(&["authorization_code", JWT_BEARER]);
    let app = spawn_in(pki.dir.clone(), &config).await;
    let bank = Bank::new(&pki, &app).await;
    let grant = |key: &TestKey| {
        let now = app.clock_now();
        let assertion = key.sign(&json!({
            "iss": IDP, "sub": "user-1", "aud": ISSUER, "iat": now, "exp": now + 300,
            "jti": tessera::oauth::issuer::random_id(),
        }));
        let bank = &bank;
        async move {
            bank.post(
                "/oauth2/token",
                &[
                    ("grant_type", JWT_BEARER),
                    ("client_id", "bank"),
                    ("assertion", &assertion),
                ],
            )
            .await
        }
    };
    let answer = grant(&es256).await;
    let claims = app.token_claims(&answer, API).await;
    assert_eq!(claims["cnf"], json!({ "x5t#S256": thumbprint(&bank.der) }));
    // FAPI 2.0 5.4.1: RS256 is not among PS256, ES256 and EdDSA.
    grant(&rs256)
        .await
        .assert_error(400, "invalid_grant", "the assertion is not valid");
}
