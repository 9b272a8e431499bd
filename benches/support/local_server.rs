//! Tessera in the bench's own process, on the bench clients, with the tokens a run needs minted
//! before it (shared by the load bench and the callgrind bench): the server a scenario measures.

use super::{device_pool, dpop_proofs, LOCAL_CLIENT_ID, LOCAL_CLIENT_SECRET};
use std::sync::Arc;
use tessera::clock::SystemClock;
use tessera::settings::Settings;
use tessera::startup::Application;

/// What tokens a local server mints before a run.
#[derive(Clone, Copy)]
pub enum Pool {
    Empty,
    AccessTokens(usize),
    RefreshTokens(usize),
    /// Client assertions signed with the bench client's key, optionally encrypted to the issuer.
    Assertions {
        count: usize,
        encrypted: bool,
    },
    /// Device codes of the public client, pending or approved.
    DeviceCodes {
        count: usize,
        approved: bool,
    },
    /// DPoP proofs (ES256) of one client key.
    DpopProofs(usize),
}

/// In the server process: starts Tessera in this process and mints the scenario's pool.
/// `workers`: the server's worker threads (`None`: the default).
pub fn serve_in_process(
    alg: &str,
    pool: Pool,
    workers: Option<usize>,
) -> (u16, Vec<String>, tempfile::TempDir) {
    // Before the argon2 hashing below, whose 19 MiB would otherwise stay resident.
    tessera::return_freed_memory_at_once();
    // The bench client's own signing key for private_key_jwt.
    let assertion_key =
        tessera::jose::generate_signing_key(tessera::jose::SigningAlg::ES256).unwrap();
    let mut assertion_public = assertion_key.to_public_key().unwrap();
    assertion_public.set_key_id(assertion_key.key_id().unwrap());
    let assertion_jwk: String = assertion_public
        .as_ref()
        .iter()
        .filter_map(|(k, v)| v.as_str().map(|v| format!("{k} = \"{v}\"")))
        .collect::<Vec<_>>()
        .join(", ");
    let sealed_key =
        tessera::jose::generate_encryption_key(tessera::jose::KeyManagementAlg::EcdhEsA256Kw)
            .unwrap()
            .to_public_key()
            .unwrap();
    let sealed_jwk: String = sealed_key
        .as_ref()
        .iter()
        .filter_map(|(k, v)| v.as_str().map(|v| format!("{k} = \"{v}\"")))
        .collect::<Vec<_>>()
        .join(", ");
    let dir = tempfile::TempDir::new().unwrap();
    let hash = tessera::oauth::credentials::hash_secret(LOCAL_CLIENT_SECRET);
    let workers = workers.map_or(String::new(), |n| format!("[server]\nworkers = {n}\n"));
    let text = format!(
        r#"
issuer = "https://issuer.bench"
listen = "127.0.0.1:0"
keys_dir = "keys"
{workers}[tokens]
signing_alg = "{alg}"
[log]
level = "warn"
[device]
interval = "1s"
[dpop]
# The proofs are made before the run.
iat_window = "10m"
[[clients]]
client_id = "{LOCAL_CLIENT_ID}"
client_secret_hash = "{hash}"
token_endpoint_auth_methods = ["client_secret_basic", "client_secret_post"]
scopes = ["reports:read", "reports:write"]
audience = ["https://reports.internal"]
[[clients]]
client_id = "{LOCAL_CLIENT_ID}-rs"
client_secret_hash = "{hash}"
grant_types = []
introspect = true
audience = ["https://reports.internal"]
[[clients]]
client_id = "{LOCAL_CLIENT_ID}-sealed"
client_secret_hash = "{hash}"
scopes = ["reports:read"]
audience = ["https://reports.internal"]
access_token_encryption = {{ jwk = {{ {sealed_jwk} }}, alg = "ECDH-ES+A256KW" }}
[[clients]]
client_id = "{LOCAL_CLIENT_ID}-public"
token_endpoint_auth_methods = ["none"]
grant_types = ["password", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"]
scopes = ["openid", "reports:read"]
audience = ["https://reports.internal"]
[[clients]]
client_id = "{LOCAL_CLIENT_ID}-jwt"
token_endpoint_auth_methods = ["private_key_jwt"]
jwks = {{ keys = [{{ {assertion_jwk} }}] }}
scopes = ["reports:read"]
audience = ["https://reports.internal"]
[[users]]
username = "{LOCAL_CLIENT_ID}-user"
password_hash = "{hash}"
claims = {{ email = "bench@example.com" }}
"#
    );
    let settings = Settings::parse(&text, dir.path(), Vec::new()).expect("bench config is valid");
    let (sender, receiver) = std::sync::mpsc::channel();
    let thread = std::thread::Builder::new()
        .name("tessera-server".into())
        .spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let app =
                    Application::build(settings, Arc::new(SystemClock)).expect("server starts");
                let state = app.state();
                let client = state
                    .settings()
                    .clients
                    .get(LOCAL_CLIENT_ID)
                    .unwrap()
                    .clone();
                let tokens: Vec<String> = match pool {
                    Pool::Empty => Vec::new(),
                    Pool::DpopProofs(n) => dpop_proofs::proofs(
                        n,
                        "https://issuer.bench/oauth2/token",
                        tessera::clock::Clock::now(&SystemClock),
                    ),
                    Pool::AccessTokens(n) => {
                        let mut tokens = Vec::with_capacity(n);
                        for _ in 0..n {
                            let spec = tessera::oauth::issuer::AccessTokenSpec {
                                client: &client,
                                subject: LOCAL_CLIENT_ID,
                                scopes: &client.default_scopes,
                                audience: &client.audience,
                                user: None,
                                extra: None,
                                cnf: &tessera::oauth::client_auth::Binding::None,
                                not_after: None,
                                status: None,
                            };
                            let issued = state
                                .issuer()
                                .access_token(&state.revocations, spec)
                                .await
                                .unwrap();
                            tokens.push(issued.token);
                        }
                        tokens
                    }
                    Pool::Assertions { count, encrypted } => {
                        let signer = tessera::jose::JwsSigner::from_jwk(
                            &assertion_key,
                            tessera::jose::SigningAlg::ES256,
                        )
                        .unwrap();
                        let keys = state.keys();
                        let issuer_key = keys.encryption_keys()[0].jwk.to_public_key().unwrap();
                        let recipient = tessera::jose::RecipientKey::new(
                            issuer_key,
                            keys.encryption_keys()[0].alg,
                        )
                        .unwrap();
                        let now = tessera::clock::Clock::now(&SystemClock);
                        let client_id = format!("{LOCAL_CLIENT_ID}-jwt");
                        (0..count)
                            .map(|_| {
                                let claims = serde_json::json!({
                                    "iss": client_id, "sub": client_id,
                                    "aud": "https://issuer.bench/oauth2/token",
                                    "iat": now, "exp": now + 240,
                                    "jti": tessera::oauth::issuer::random_id(),
                                });
                                let jws =
                                    signer.sign(tessera::oauth::TokenKind::Id, &claims).unwrap();
                                if encrypted {
                                    recipient.encrypt_jwt(&jws).unwrap()
                                } else {
                                    jws
                                }
                            })
                            .collect()
                    }
                    Pool::RefreshTokens(n) => {
                        let public = state
                            .settings()
                            .clients
                            .get(&format!("{LOCAL_CLIENT_ID}-public"))
                            .unwrap()
                            .clone();
                        let user = state
                            .settings()
                            .users
                            .get(&format!("{LOCAL_CLIENT_ID}-user"))
                            .unwrap()
                            .clone();
                        let mut tokens = Vec::with_capacity(n);
                        for _ in 0..n {
                            let grant = tessera::oauth::grants::UserGrant {
                                client: &public,
                                user: &user,
                                scopes: public.default_scopes.clone(),
                                audience: public.audience.clone(),
                                auth_time: tessera::clock::Clock::now(&SystemClock),
                                nonce: None,
                                family: None,
                                sid: None,
                                binding: &tessera::oauth::client_auth::Binding::None,
                                status: None,
                            };
                            let issued = tessera::oauth::grants::issue_user_tokens(
                                &state.issuer(),
                                &state.revocations,
                                grant,
                            )
                            .await
                            .unwrap();
                            tokens.push(issued.refresh_token.unwrap());
                        }
                        tokens
                    }
                    Pool::DeviceCodes { count, approved } => {
                        device_pool::device_codes(&state, count, approved).await
                    }
                };
                sender.send((app.port(), app.handle(), tokens)).unwrap();
                app.run_until_stopped().await.unwrap();
            })
        })
        .unwrap();
    let (port, _handle, tokens) = receiver.recv().unwrap();
    // The server thread runs until the process is killed.
    std::mem::forget(thread);
    (port, tokens, dir)
}
