//! HTTP load benchmark, written with the project's own crates: starts Tessera in a child process
//! (this bench binary again, in server mode) on an ephemeral port for each scenario (or targets
//! `TESSERA_BENCH_URL`), drives C keep-alive HTTP/1.1 connections for T seconds from one
//! generator thread, and prints requests/s, latency percentiles up to the maximum, errors, the
//! server's CPU per request and the server's own peak RSS during the run.
//!
//! Settings (environment): TESSERA_BENCH_CONNECTIONS (64), TESSERA_BENCH_SECONDS (10),
//! TESSERA_BENCH_SCENARIOS (comma-separated, default every scenario), TESSERA_BENCH_URL with
//! TESSERA_BENCH_CLIENT_ID and TESSERA_BENCH_CLIENT_SECRET for a running server.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::Request;
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tessera::clock::SystemClock;
use tessera::settings::Settings;
use tessera::startup::Application;

#[path = "load/device_pool.rs"]
mod device_pool;
#[path = "support/dpop_proofs.rs"]
mod dpop_proofs;

const LOCAL_CLIENT_ID: &str = "bench";
const LOCAL_CLIENT_SECRET: &str = "bench-secret-3a1f9c2e7b5d4f6a8c0e1b2d3f4a5b6c";

/// How a scenario asks for a token.
#[derive(Clone, Copy)]
enum Shape {
    /// client_secret_basic, form body.
    BasicForm,
    /// client_secret_post, JSON body.
    PostJson,
    /// RFC 7662 introspection of one active token by a resource server.
    Introspect,
    /// RFC 7009 revocation, each request a token not revoked before.
    Revoke,
    /// The refresh grant of a public client, each request a refresh token not used before.
    Refresh,
    /// client_credentials for a client whose access tokens are encrypted (ECDH-ES+A256KW).
    EncryptedAccess,
    /// client_credentials with private_key_jwt (ES256), each request a fresh assertion.
    PrivateKeyJwt,
    /// The same with the assertion encrypted to the issuer (ECDH-ES+A256KW, A256GCM).
    EncryptedAssertion,
    /// RFC 8628 polling of device codes the user has not answered yet (each polled again
    /// within its 1 s interval gets slow_down: both are the answers a poll is for).
    DevicePending,
    /// RFC 8628 polling of approved device codes, each request one not exchanged before.
    DeviceApproved,
    /// client_secret_basic with a DPoP proof (ES256), each request a fresh proof.
    DpopBasic,
}

#[derive(Clone, Copy)]
struct Scenario {
    name: &'static str,
    alg: &'static str,
    shape: Shape,
}

const SCENARIOS: [Scenario; 13] = [
    Scenario {
        name: "client_credentials basic ES256",
        alg: "ES256",
        shape: Shape::BasicForm,
    },
    Scenario {
        name: "client_credentials basic+DPoP ES256",
        alg: "ES256",
        shape: Shape::DpopBasic,
    },
    Scenario {
        name: "client_credentials json-post ES256",
        alg: "ES256",
        shape: Shape::PostJson,
    },
    Scenario {
        name: "client_credentials basic EdDSA",
        alg: "EdDSA",
        shape: Shape::BasicForm,
    },
    Scenario {
        name: "client_credentials basic RS256",
        alg: "RS256",
        shape: Shape::BasicForm,
    },
    Scenario {
        name: "client_credentials encrypted-access ES256",
        alg: "ES256",
        shape: Shape::EncryptedAccess,
    },
    Scenario {
        name: "refresh_token ES256",
        alg: "ES256",
        shape: Shape::Refresh,
    },
    Scenario {
        name: "client_credentials private_key_jwt ES256",
        alg: "ES256",
        shape: Shape::PrivateKeyJwt,
    },
    Scenario {
        name: "client_credentials private_key_jwt-in-JWE ES256",
        alg: "ES256",
        shape: Shape::EncryptedAssertion,
    },
    Scenario {
        name: "introspect ES256",
        alg: "ES256",
        shape: Shape::Introspect,
    },
    Scenario {
        name: "revoke ES256",
        alg: "ES256",
        shape: Shape::Revoke,
    },
    Scenario {
        name: "device_code poll pending ES256",
        alg: "ES256",
        shape: Shape::DevicePending,
    },
    Scenario {
        name: "device_code poll approved ES256",
        alg: "ES256",
        shape: Shape::DeviceApproved,
    },
];

/// Tokens minted in process before a run, handed out one per request.
struct TokenPool {
    tokens: Vec<String>,
    next: std::sync::atomic::AtomicUsize,
}

impl TokenPool {
    fn take(&self) -> &str {
        let i = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        &self.tokens[i % self.tokens.len()]
    }

    /// How many requests found a token already taken (the pool ran out).
    fn repeats(&self) -> usize {
        self.next
            .load(std::sync::atomic::Ordering::Relaxed)
            .saturating_sub(self.tokens.len())
    }
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// Where the load goes.
struct Target {
    host: String,
    path: String,
    client_id: String,
    client_secret: String,
    local: Option<LocalServer>,
    pool: Option<Arc<TokenPool>>,
}

/// The server of a scenario, in its own process, so what the generator costs is not counted.
struct LocalServer {
    child: std::process::Child,
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Set in the server process: which scenario it serves, and where it writes its port and pool.
const CHILD_SCENARIO: &str = "TESSERA_BENCH_CHILD";
const CHILD_POOL_FILE: &str = "TESSERA_BENCH_POOL_FILE";

/// What tokens a local server mints before a run.
#[derive(Clone, Copy)]
enum Pool {
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
fn serve_in_process(alg: &str, pool: Pool) -> (u16, Vec<String>, tempfile::TempDir) {
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
    let text = format!(
        r#"
issuer = "https://issuer.bench"
listen = "127.0.0.1:0"
keys_dir = "keys"
[tokens]
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

/// The server process's life: serve scenario `index`, hand the port and pool over, then serve
/// until killed.
fn serve_child(index: usize) -> ! {
    let scenario = SCENARIOS[index];
    let (port, tokens, _dir) = serve_in_process(scenario.alg, pool_of(scenario.shape));
    let path = std::env::var(CHILD_POOL_FILE).expect("the pool file");
    let mut text = format!("{port}\n");
    for token in &tokens {
        text.push_str(token);
        text.push('\n');
    }
    std::fs::write(&path, text).unwrap();
    drop(tokens);
    // The pool is the generator's now: give its memory back so the server's RSS is its own.
    // SAFETY: malloc_trim has no preconditions.
    unsafe { libc::malloc_trim(0) };
    println!("ready");
    loop {
        std::thread::park();
    }
}

/// The tokens a scenario's server mints before its run.
fn pool_of(shape: Shape) -> Pool {
    match shape {
        Shape::Revoke => Pool::AccessTokens(200_000),
        Shape::Introspect => Pool::AccessTokens(1),
        Shape::Refresh => Pool::RefreshTokens(150_000),
        Shape::PrivateKeyJwt => Pool::Assertions {
            count: 150_000,
            encrypted: false,
        },
        Shape::EncryptedAssertion => Pool::Assertions {
            count: 60_000,
            encrypted: true,
        },
        Shape::DevicePending => Pool::DeviceCodes {
            count: 20_000,
            approved: false,
        },
        Shape::DeviceApproved => Pool::DeviceCodes {
            count: 120_000,
            approved: true,
        },
        Shape::DpopBasic => Pool::DpopProofs(150_000),
        _ => Pool::Empty,
    }
}

/// Starts the server of scenario `index` in a child process and takes its pool.
fn start_local(index: usize) -> Target {
    use std::io::BufRead;
    let dir = tempfile::TempDir::new().unwrap();
    let pool_file = dir.path().join("pool");
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .env(CHILD_SCENARIO, index.to_string())
        .env(CHILD_POOL_FILE, &pool_file)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the server process starts");
    let mut ready = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    assert_eq!(ready.trim(), "ready", "the server process is ready");
    let text = std::fs::read_to_string(&pool_file).unwrap();
    let mut lines = text.lines();
    let port: u16 = lines.next().unwrap().parse().unwrap();
    let tokens: Vec<String> = lines.map(str::to_owned).collect();
    Target {
        host: format!("127.0.0.1:{port}"),
        path: "/oauth2/token".into(),
        client_id: LOCAL_CLIENT_ID.into(),
        client_secret: LOCAL_CLIENT_SECRET.into(),
        local: Some(LocalServer { child }),
        pool: (!tokens.is_empty()).then(|| {
            Arc::new(TokenPool {
                tokens,
                next: std::sync::atomic::AtomicUsize::new(0),
            })
        }),
    }
}

fn remote(url: &str) -> Target {
    let url = url::Url::parse(url).expect("TESSERA_BENCH_URL is a URL");
    assert_eq!(url.scheme(), "http", "the load generator speaks plain HTTP");
    let host = format!(
        "{}:{}",
        url.host_str().expect("a host"),
        url.port_or_known_default().unwrap()
    );
    let path = match url.path() {
        "/" | "" => "/oauth2/token".to_owned(),
        path => path.to_owned(),
    };
    Target {
        host,
        path,
        client_id: std::env::var("TESSERA_BENCH_CLIENT_ID").expect("TESSERA_BENCH_CLIENT_ID"),
        client_secret: std::env::var("TESSERA_BENCH_CLIENT_SECRET")
            .expect("TESSERA_BENCH_CLIENT_SECRET"),
        local: None,
        pool: None,
    }
}

/// One request of a scenario, built once and cloned per send.
#[derive(Clone)]
struct Template {
    host: String,
    path: String,
    authorization: Option<String>,
    content_type: &'static str,
    body: Bytes,
    /// For revocations and refreshes: a fresh token in each body, after this prefix.
    pool: Option<Arc<TokenPool>>,
    pool_prefix: &'static str,
    /// Success is a pending device's 400 (`authorization_pending`, `slow_down`), not a 200.
    poll_answers: bool,
    /// A fresh DPoP proof in each request's `DPoP` header.
    proofs: Option<Arc<TokenPool>>,
}

impl Template {
    fn new(target: &Target, shape: Shape) -> Self {
        use base64::Engine;
        let form = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let basic = |id: &str| {
            Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!(
                    "{}:{}",
                    form(id),
                    form(&target.client_secret)
                ))
            ))
        };
        match shape {
            Shape::Introspect => Template {
                host: target.host.clone(),
                path: "/oauth2/introspect".into(),
                authorization: basic(&format!("{}-rs", target.client_id)),
                content_type: "application/x-www-form-urlencoded",
                body: Bytes::from(format!(
                    "token={}",
                    target.pool.as_ref().expect("a token pool").tokens[0]
                )),
                pool: None,
                pool_prefix: "",
                poll_answers: false,
                proofs: None,
            },
            Shape::Revoke => Template {
                host: target.host.clone(),
                path: "/oauth2/revoke".into(),
                authorization: basic(&target.client_id),
                content_type: "application/x-www-form-urlencoded",
                body: Bytes::new(),
                pool: target.pool.clone(),
                pool_prefix: "token=",
                poll_answers: false,
                proofs: None,
            },
            Shape::Refresh => Template {
                host: target.host.clone(),
                path: target.path.clone(),
                authorization: None,
                content_type: "application/x-www-form-urlencoded",
                body: Bytes::new(),
                pool: target.pool.clone(),
                pool_prefix: "grant_type=refresh_token&client_id=bench-public&refresh_token=",
                poll_answers: false,
                proofs: None,
            },
            Shape::DevicePending | Shape::DeviceApproved => Template {
                host: target.host.clone(),
                path: target.path.clone(),
                authorization: None,
                content_type: "application/x-www-form-urlencoded",
                body: Bytes::new(),
                pool: target.pool.clone(),
                pool_prefix: "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&client_id=bench-public&device_code=",
                poll_answers: matches!(shape, Shape::DevicePending),
                proofs: None,
            },
            Shape::PrivateKeyJwt | Shape::EncryptedAssertion => Template {
                host: target.host.clone(),
                path: target.path.clone(),
                authorization: None,
                content_type: "application/x-www-form-urlencoded",
                body: Bytes::new(),
                pool: target.pool.clone(),
                pool_prefix: "grant_type=client_credentials&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=",
                poll_answers: false,
                proofs: None,
            },
            Shape::EncryptedAccess => Template {
                host: target.host.clone(),
                path: target.path.clone(),
                authorization: basic(&format!("{}-sealed", target.client_id)),
                content_type: "application/x-www-form-urlencoded",
                body: Bytes::from_static(b"grant_type=client_credentials"),
                pool: None,
                pool_prefix: "",
                poll_answers: false,
                proofs: None,
            },
            Shape::DpopBasic => Template {
                proofs: target.pool.clone(),
                ..Template::new(target, Shape::BasicForm)
            },
            Shape::BasicForm => Template {
                host: target.host.clone(),
                path: target.path.clone(),
                authorization: Some(format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(format!(
                        "{}:{}",
                        form(&target.client_id),
                        form(&target.client_secret)
                    ))
                )),
                content_type: "application/x-www-form-urlencoded",
                body: Bytes::from_static(b"grant_type=client_credentials"),
                pool: None,
                pool_prefix: "",
                poll_answers: false,
                proofs: None,
            },
            Shape::PostJson => Template {
                host: target.host.clone(),
                path: target.path.clone(),
                authorization: None,
                content_type: "application/json",
                body: Bytes::from(
                    serde_json::json!({
                        "grant_type": "client_credentials",
                        "client_id": target.client_id,
                        "client_secret": target.client_secret,
                    })
                    .to_string(),
                ),
                pool: None,
                pool_prefix: "",
                poll_answers: false,
                proofs: None,
            },
        }
    }

    fn request(&self) -> Request<Full<Bytes>> {
        let mut request = Request::post(self.path.as_str())
            .header(HOST, self.host.as_str())
            .header(CONTENT_TYPE, self.content_type);
        if let Some(authorization) = &self.authorization {
            request = request.header(AUTHORIZATION, authorization.as_str());
        }
        if let Some(proofs) = &self.proofs {
            request = request.header("DPoP", proofs.take());
        }
        let body = match &self.pool {
            Some(pool) => Bytes::from(format!("{}{}", self.pool_prefix, pool.take())),
            None => self.body.clone(),
        };
        request.body(Full::new(body)).unwrap()
    }
}

#[derive(Default)]
struct ConnectionResult {
    latencies_us: Vec<u32>,
    errors: u64,
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

async fn connect(host: &str) -> Sender {
    let stream = tokio::net::TcpStream::connect(host).await.expect("connect");
    stream.set_nodelay(true).unwrap();
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("HTTP handshake");
    tokio::spawn(connection);
    sender
}

/// Sends one request; `true` when it got a 200 with a token.
async fn send(sender: &mut Sender, template: &Template) -> bool {
    if sender.ready().await.is_err() {
        return false;
    }
    match sender.send_request(template.request()).await {
        Ok(response) => {
            let status = response.status();
            let body = response.into_body().collect().await;
            let Ok(body) = body.map(|body| body.to_bytes()) else {
                return false;
            };
            if template.poll_answers {
                // A device that must go on polling: the answers it is for.
                return status == 400
                    && (body.starts_with(b"{\"error\":\"authorization_pending\"")
                        || body.starts_with(b"{\"error\":\"slow_down\""));
            }
            // A token, an active introspection, or the empty body of a revocation.
            status == 200
                && (body.is_empty()
                    || body.starts_with(b"{\"access_token\"")
                    || body.windows(13).any(|w| w == b"\"active\":true"))
        }
        Err(_) => false,
    }
}

async fn drive(mut sender: Sender, template: Template, until: Instant) -> ConnectionResult {
    let mut result = ConnectionResult {
        latencies_us: Vec::with_capacity(1 << 16),
        errors: 0,
    };
    while Instant::now() < until {
        let started = Instant::now();
        if send(&mut sender, &template).await {
            result
                .latencies_us
                .push(started.elapsed().as_micros().min(u32::MAX as u128) as u32);
        } else {
            result.errors += 1;
        }
    }
    result
}

/// CPU seconds (user + system) from a /proc stat line.
fn cpu_seconds(stat: &str) -> f64 {
    // Fields after the command name, which is in parentheses and may hold spaces.
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after.split(' ').collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // SAFETY: sysconf has no preconditions.
    ticks as f64 / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64
}

/// The CPU seconds process `pid` has used.
fn process_cpu(pid: u32) -> f64 {
    cpu_seconds(&std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap())
}

/// The resident memory of process `pid` now, in MiB.
fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

/// Samples the RSS of `pid` every 50 ms until told to stop; answers the largest it saw.
fn sample_rss(pid: u32, stop: Arc<std::sync::atomic::AtomicBool>) -> std::thread::JoinHandle<f64> {
    std::thread::spawn(move || {
        let mut peak: f64 = 0.0;
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            peak = peak.max(rss_mib(pid));
            std::thread::sleep(Duration::from_millis(50));
        }
        peak.max(rss_mib(pid))
    })
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index] as f64 / 1000.0
}

fn run(scenario: Scenario, target: &Target, connections: usize, seconds: u64) {
    let template = Template::new(target, scenario.shape);
    let server_pid = target.local.as_ref().map(|local| local.child.id());
    let idle_rss = server_pid.map(rss_mib);
    let (results, elapsed, server_cpu, peak_rss) = std::thread::Builder::new()
        .name("loadgen".into())
        .spawn({
            let host = target.host.clone();
            move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async move {
                    let mut senders = Vec::with_capacity(connections);
                    for _ in 0..connections {
                        let mut sender = connect(&host).await;
                        // Warm-up: the first request of a secret pays argon2 once.
                        assert!(send(&mut sender, &template).await, "warm-up request failed");
                        senders.push(sender);
                    }
                    let cpu_before = server_pid.map(process_cpu);
                    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
                    let sampler = server_pid.map(|pid| sample_rss(pid, stop.clone()));
                    let started = Instant::now();
                    let until = started + Duration::from_secs(seconds);
                    let tasks: Vec<_> = senders
                        .into_iter()
                        .map(|sender| tokio::spawn(drive(sender, template.clone(), until)))
                        .collect();
                    let mut results = Vec::new();
                    for task in tasks {
                        results.push(task.await.unwrap());
                    }
                    let elapsed = started.elapsed();
                    let server_cpu = server_pid
                        .zip(cpu_before)
                        .map(|(pid, before)| process_cpu(pid) - before);
                    stop.store(true, std::sync::atomic::Ordering::Relaxed);
                    let peak_rss = sampler.map(|sampler| sampler.join().unwrap());
                    (results, elapsed, server_cpu, peak_rss)
                })
            }
        })
        .unwrap()
        .join()
        .unwrap();

    let mut latencies: Vec<u32> = results
        .iter()
        .flat_map(|r| r.latencies_us.iter().copied())
        .collect();
    let errors: u64 = results.iter().map(|r| r.errors).sum();
    latencies.sort_unstable();
    let tokens = latencies.len() as f64;
    let rate = tokens / elapsed.as_secs_f64();
    let (cpu, rss) = match (server_cpu, peak_rss, idle_rss) {
        (Some(cpu), Some(peak), Some(idle)) => (
            format!("{:.1} µs", cpu / tokens.max(1.0) * 1e6),
            format!("{peak:.1} MiB (idle {idle:.1} MiB)"),
        ),
        _ => ("n/a (remote)".into(), "n/a (remote)".into()),
    };
    let unit = match scenario.shape {
        Shape::Introspect => "introspections/s",
        Shape::Revoke => "revocations/s",
        Shape::Refresh => "refreshes/s",
        Shape::DevicePending => "polls/s",
        _ => "tokens/s",
    };
    let repeats = target
        .pool
        .as_ref()
        .filter(|_| {
            matches!(
                scenario.shape,
                Shape::Revoke
                    | Shape::Refresh
                    | Shape::PrivateKeyJwt
                    | Shape::EncryptedAssertion
                    | Shape::DeviceApproved
                    | Shape::DpopBasic
            )
        })
        .map(|pool| format!(", {} with a spent token", pool.repeats()))
        .unwrap_or_default();
    println!(
        "load: {}: {:.0} {unit}{repeats}, p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms, errors {}, server CPU/request {}, server peak RSS {} ({} connections, {} s)",
        scenario.name,
        rate,
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        percentile(&latencies, 0.999),
        percentile(&latencies, 1.0),
        errors,
        cpu,
        rss,
        connections,
        seconds,
    );
}

fn main() {
    if let Ok(index) = std::env::var(CHILD_SCENARIO) {
        serve_child(index.parse().expect("a scenario index"));
    }
    let connections: usize = env_or("TESSERA_BENCH_CONNECTIONS", 64);
    let seconds: u64 = env_or("TESSERA_BENCH_SECONDS", 10);
    let wanted: Option<Vec<String>> = std::env::var("TESSERA_BENCH_SCENARIOS")
        .ok()
        .map(|list| list.split(',').map(|s| s.trim().to_owned()).collect());
    let remote_url = std::env::var("TESSERA_BENCH_URL").ok();
    // A running server signs with its own algorithm: only the request shapes vary.
    let scenarios: Vec<Scenario> = match &remote_url {
        Some(_) => vec![
            Scenario {
                name: "client_credentials basic (remote)",
                alg: "",
                shape: Shape::BasicForm,
            },
            Scenario {
                name: "client_credentials json-post (remote)",
                alg: "",
                shape: Shape::PostJson,
            },
        ],
        None => SCENARIOS.to_vec(),
    };
    for (index, scenario) in scenarios.into_iter().enumerate() {
        if wanted
            .as_ref()
            .is_some_and(|w| !w.iter().any(|name| scenario.name.contains(name.as_str())))
        {
            continue;
        }
        let target = match &remote_url {
            Some(url) => remote(url),
            None => start_local(index),
        };
        run(scenario, &target, connections, seconds);
        // Dropping the target stops its server process.
    }
}
