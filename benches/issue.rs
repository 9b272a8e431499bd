//! In-process cost of issuing one client_credentials token (request parsing, grant, signing,
//! response encoding) per algorithm, of signing alone, and of a resource server verifying one;
//! of sealing and opening refresh tokens and pushed authorization requests' request_uris.

use criterion::{criterion_group, criterion_main, Criterion};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use strum::IntoEnumIterator;
use tessera::clock::SystemClock;
use tessera::oauth::client_auth::AuthenticatedClient;
use tessera::oauth::grants;
use tessera::oauth::issuer::AccessTokenSpec;
use tessera::oauth::params::Params;
use tessera::oauth::types::{AuthMethod, GrantType};
use tessera::registry::Client;
use tessera::settings::Settings;
use tessera::startup::load_keys;
use tessera::state::AppState;

const ALGORITHMS: [(&str, Algorithm); 5] = [
    ("ES256", Algorithm::ES256),
    ("ES384", Algorithm::ES384),
    ("EdDSA", Algorithm::EdDSA),
    ("RS256", Algorithm::RS256),
    ("PS256", Algorithm::PS256),
];

fn state(alg: &str, dir: &Path) -> AppState {
    let text = format!(
        r#"
issuer = "https://issuer.bench"
keys_dir = "keys"
[tokens]
signing_alg = "{alg}"
[[clients]]
client_id = "bench"
client_secret_hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$Hf0CjJ1i2ZVJkM6AAh4l2xOKnUVbfO5zWNnD0MY3cAk"
scopes = ["reports:read", "reports:write"]
audience = ["https://reports.internal"]
"#
    );
    let settings = Settings::parse(&text, dir, Vec::new()).expect("bench config is valid");
    let keys = load_keys(&settings, &SystemClock).expect("keys load");
    AppState::new(settings, keys, Arc::new(SystemClock)).unwrap()
}

/// The client_credentials grant never awaits: poll it once.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let waker = std::task::Waker::noop();
    match future
        .as_mut()
        .poll(&mut std::task::Context::from_waker(waker))
    {
        std::task::Poll::Ready(output) => output,
        std::task::Poll::Pending => panic!("the grant awaited"),
    }
}

/// What the bench client gets by default: its scopes and audience, subject "bench", unbound.
fn default_token(client: &Client) -> AccessTokenSpec<'_> {
    AccessTokenSpec {
        client,
        subject: "bench",
        scopes: &client.default_scopes,
        audience: &client.audience,
        user: None,
        extra: None,
        cnf: &tessera::oauth::client_auth::Binding::None,
        not_after: None,
        status: None,
    }
}

fn benches(c: &mut Criterion) {
    for (name, alg) in ALGORITHMS {
        let dir = tempfile::TempDir::new().unwrap();
        let state = state(name, dir.path());
        let client = state.settings().clients.get("bench").unwrap().clone();
        let authenticated = AuthenticatedClient {
            client: client.clone(),
            method: AuthMethod::ClientSecretBasic,
            binding: tessera::oauth::client_auth::Binding::None,
        };
        let body = b"grant_type=client_credentials&scope=reports:read";

        c.bench_function(&format!("client_credentials_grant/{name}"), |b| {
            b.iter(|| {
                let params = Params::from_form(black_box(body)).unwrap();
                let grant_type: GrantType = params.require("grant_type").unwrap().parse().unwrap();
                let issuer = state.issuer();
                let handles = state.grant_handles(&issuer, None);
                let response =
                    block_on(grants::issue(&handles, &authenticated, grant_type, &params)).unwrap();
                black_box(serde_json::to_vec(&response).unwrap())
            })
        });

        c.bench_function(&format!("sign_access_token/{name}"), |b| {
            b.iter(|| {
                black_box(
                    block_on(
                        state
                            .issuer()
                            .access_token(&state.revocations, default_token(&client)),
                    )
                    .unwrap(),
                )
            })
        });

        // The resource server's side: jsonwebtoken (RustCrypto) with a key parsed once.
        let token = block_on(
            state
                .issuer()
                .access_token(&state.revocations, default_token(&client)),
        )
        .unwrap()
        .token;
        let jwks = state.keys().jwks(
            state.settings().tokens.signing_alg,
            tessera::clock::Clock::now(&SystemClock),
            state.settings().token_retention,
        );
        let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(jwks["keys"][0].clone()).unwrap();
        let key = DecodingKey::from_jwk(&jwk).unwrap();
        let mut validation = Validation::new(alg);
        validation.set_audience(&["https://reports.internal"]);
        c.bench_function(&format!("verify_access_token/{name}"), |b| {
            b.iter(|| {
                black_box(
                    jsonwebtoken::decode::<serde_json::Value>(black_box(&token), &key, &validation)
                        .unwrap(),
                )
            })
        });
    }
}

/// The cost an encrypted access token adds and opening an encrypted client assertion, per key
/// management (each beside josekit doing the same, the implementation it replaced), and
/// sealing and opening a refresh token.
fn jwe_benches(c: &mut Criterion) {
    use tessera::jose::{generate_encryption_key, KeyManagementAlg, RecipientKey};
    let dir = tempfile::TempDir::new().unwrap();
    let state = state("ES256", dir.path());
    let client = state.settings().clients.get("bench").unwrap().clone();
    let signed = block_on(
        state
            .issuer()
            .access_token(&state.revocations, default_token(&client)),
    )
    .unwrap()
    .token;
    for alg in KeyManagementAlg::iter() {
        let private = generate_encryption_key(alg).unwrap();
        let public = private.to_public_key().unwrap();
        let recipient = RecipientKey::new(public.clone(), alg).unwrap();
        c.bench_function(&format!("encrypt_access_token/{alg}"), |b| {
            b.iter(|| black_box(recipient.encrypt_jwt(black_box(&signed)).unwrap()))
        });
        // The same with josekit (OpenSSL), as the server did before aws-lc-rs: the "before"
        // figure, measured in the same run.
        let josekit_public = josekit::jwk::Jwk::from_bytes(public.to_string()).unwrap();
        let encrypter = josekit_encrypter(alg, &josekit_public);
        let mut header = josekit::jwe::JweHeader::new();
        header.set_algorithm(alg.as_str());
        header.set_content_encryption("A256GCM");
        header.set_content_type("JWT");
        c.bench_function(&format!("encrypt_access_token/{alg}/josekit"), |b| {
            b.iter(|| {
                black_box(
                    josekit::jwe::serialize_compact(
                        black_box(signed.as_bytes()),
                        &header,
                        encrypter.as_ref(),
                    )
                    .unwrap(),
                )
            })
        });
        // A client assertion encrypted to the issuer's key, opened (the key parsed once).
        let decrypter = tessera::jose::AssertionDecrypter::new(&private, alg).unwrap();
        let josekit_private = josekit::jwk::Jwk::from_bytes(private.to_string()).unwrap();
        let josekit_decrypter = josekit_decrypter(alg, &josekit_private);
        for enc in ["A256GCM", "A128CBC-HS256"] {
            let mut header = josekit::jwe::JweHeader::new();
            header.set_content_encryption(enc);
            header.set_content_type("JWT");
            header.set_key_id(private.key_id().unwrap());
            let assertion =
                josekit::jwe::serialize_compact(signed.as_bytes(), &header, encrypter.as_ref())
                    .unwrap();
            c.bench_function(&format!("decrypt_assertion/{alg}/{enc}"), |b| {
                b.iter(|| {
                    black_box(
                        tessera::jose::decrypt_assertion([&decrypter], black_box(&assertion))
                            .unwrap(),
                    )
                })
            });
            c.bench_function(&format!("decrypt_assertion/{alg}/{enc}/josekit"), |b| {
                b.iter(|| {
                    black_box(
                        josekit::jwe::deserialize_compact(
                            black_box(&assertion),
                            josekit_decrypter.as_ref(),
                        )
                        .unwrap(),
                    )
                })
            });
        }
    }
    let claims = tessera::oauth::issuer::RefreshClaims {
        iss: state.settings().issuer.clone(),
        client_id: "bench".into(),
        sub: "someone".into(),
        scope: "openid reports:read".into(),
        aud: client.audience.clone(),
        auth_time: 1_800_000_000,
        iat: 1_800_000_000,
        exp: 4_000_000_000,
        jti: tessera::oauth::issuer::random_id(),
        fid: tessera::oauth::issuer::random_id(),
        at_status: None,
        sid: None,
        jkt: None,
    };
    c.bench_function("seal_refresh_token", |b| {
        b.iter(|| black_box(state.issuer().refresh_token(black_box(&claims)).unwrap()))
    });
    let sealed = state.issuer().refresh_token(&claims).unwrap();
    c.bench_function("open_refresh_token", |b| {
        b.iter(|| {
            black_box(
                state
                    .issuer()
                    .open::<tessera::oauth::issuer::RefreshClaims>(black_box(&sealed))
                    .unwrap(),
            )
        })
    });

    // A pushed authorization request as a FAPI client sends it: what its request_uri seals,
    // and what the authorization endpoint opens.
    use tessera::oauth::endpoints::par::{PushedRequest, REQUEST_URI_PREFIX};
    let pushed = PushedRequest {
        iss: "https://issuer.bench".into(),
        client_id: "bench".into(),
        params: [
            ("response_type", "code"),
            ("client_id", "bench"),
            ("redirect_uri", "https://client.bench/callback"),
            ("scope", "openid reports:read"),
            ("state", "af0ifjsldkj-0123456789abcdef"),
            ("nonce", "n-0S6_WzA2Mj-0123456789abcdef"),
            (
                "code_challenge",
                "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            ),
            ("code_challenge_method", "S256"),
        ]
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect(),
        exp: 4_000_000_000,
        jti: tessera::oauth::issuer::random_id(),
    };
    let seal = || {
        let sealed = state
            .issuer()
            .seal(tessera::oauth::TokenKind::PushedRequest, &pushed)
            .unwrap();
        format!("{REQUEST_URI_PREFIX}{sealed}")
    };
    c.bench_function("seal_request_uri", |b| b.iter(|| black_box(seal())));
    let request_uri = seal();
    println!(
        "request_uri of a typical pushed request: {} bytes",
        request_uri.len()
    );
    c.bench_function("open_request_uri", |b| {
        b.iter(|| black_box(PushedRequest::open(&state.issuer(), black_box(&request_uri)).unwrap()))
    });
}

fn josekit_encrypter(
    alg: tessera::jose::KeyManagementAlg,
    public: &josekit::jwk::Jwk,
) -> Box<dyn josekit::jwe::JweEncrypter> {
    use tessera::jose::KeyManagementAlg;
    match alg {
        KeyManagementAlg::RsaOaep256 => Box::new(
            josekit::jwe::RSA_OAEP_256
                .encrypter_from_jwk(public)
                .unwrap(),
        ),
        KeyManagementAlg::EcdhEsA256Kw => Box::new(
            josekit::jwe::ECDH_ES_A256KW
                .encrypter_from_jwk(public)
                .unwrap(),
        ),
    }
}

fn josekit_decrypter(
    alg: tessera::jose::KeyManagementAlg,
    private: &josekit::jwk::Jwk,
) -> Box<dyn josekit::jwe::JweDecrypter> {
    use tessera::jose::KeyManagementAlg;
    match alg {
        KeyManagementAlg::RsaOaep256 => Box::new(
            josekit::jwe::RSA_OAEP_256
                .decrypter_from_jwk(private)
                .unwrap(),
        ),
        KeyManagementAlg::EcdhEsA256Kw => Box::new(
            josekit::jwe::ECDH_ES_A256KW
                .decrypter_from_jwk(private)
                .unwrap(),
        ),
    }
}

criterion_group! {
    name = issue;
    config = Criterion::default()
        .sample_size(50)
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(3));
    targets = benches, jwe_benches
}
criterion_main!(issue);
