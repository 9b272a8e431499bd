//! Instructions per request, counted by valgrind's callgrind: repeatable however busy the machine
//! is, so this is the number to optimise against. Each part runs twice in a child process under
//! `valgrind --tool=callgrind`, after the same warm-up, once with N and once with 2N requests
//! (one at a time on one keep-alive connection); the difference of the two totals, over N, is
//! the cost of one request, with start-up and warm-up cancelled out. (The difference is taken
//! rather than switching collection on and off with `callgrind_control`, which needs ptrace.)
//!
//! - `client_credentials basic ES256` (and EdDSA): Tessera's token endpoint.
//! - `framework floor`: an actix-web handler that reads the same body, parses the same form and
//!   Basic header with Tessera's parsers, and answers a fixed token: what any server pays.
//! - `ES256 signature` (and Ed25519): one aws-lc-rs signature of a message as long as the
//!   token's signing input, its bytes used.
//!
//! - `client_credentials basic+DPoP ES256`: the ES256 scenario with a fresh ES256 DPoP proof
//!   (made before the run, `support/dpop_proofs.rs`) in each request's `DPoP` header.
//! - `ES256 verification` of a proof: one aws-lc-rs verification of a proof-sized signing input
//!   with the proof's public point, what checking a proof cannot do without.
//! - `client_credentials basic ES256 encrypted-access`: the ES256 scenario for a client whose
//!   access tokens are encrypted (ECDH-ES+A256KW).
//!
//! Tessera's own work is the first minus the other two; DPoP's own work is the DPoP scenario
//! minus the plain ES256 one minus one ES256 verification.
//!
//! The other paths, on the load bench's server and clients (`support/local_server.rs`), each
//! request a token or answer not used before (minted in the server process before the run, as
//! many in both runs, so minting cancels out too):
//!
//! - `client_credentials private_key_jwt ES256`: a fresh ES256 client assertion per request;
//!   its crypto is one ES256 verification with a parsed key (over as long a signing input) and
//!   one signature.
//! - `refresh_token ES256`: the rotation of a public client's refresh token; its crypto is the
//!   open and the seal of the refresh token's `dir` A256GCM JWE (counted in the run itself: the
//!   inclusive instructions of `jose::jwe::decrypt_from_self` and `encrypt_to_self`, as
//!   `callgrind_annotate` reads them) and one ES256 signature per token signed.
//! - `introspection ES256`: a resource server introspects an active access token; one ES256
//!   verification.
//!
//! Own work is the total minus the framework floor (the client_credentials floor: a request's
//! parsing, routing and writing) minus that crypto.
//!
//! Settings (environment): TESSERA_CALLGRIND_REQUESTS (1000), TESSERA_CALLGRIND_WARMUP (200),
//! TESSERA_CALLGRIND_PARTS (comma-separated: `plain`, `dpop`, `encrypted`, `private_key_jwt`,
//! `refresh`, `introspection`; default all), TESSERA_CALLGRIND_KEEP (a folder: each child's
//! callgrind output is copied there, named after its mode and request count, for
//! `callgrind_annotate`).

#[allow(dead_code)] // The load bench's device pools, unused here.
#[path = "support/device_pool.rs"]
mod device_pool;
#[path = "support/dpop_proofs.rs"]
mod dpop_proofs;
#[allow(dead_code)] // Pools of the load bench's other scenarios, unused here.
#[path = "support/local_server.rs"]
mod local_server;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const MODE: &str = "TESSERA_CALLGRIND_MODE";
/// The server child's pool: how many tokens to mint, and the file it writes them to.
const POOL_SIZE: &str = "TESSERA_CALLGRIND_POOL_SIZE";
const POOL_FILE: &str = "TESSERA_CALLGRIND_POOL_FILE";
/// The signer child's message length.
const MESSAGE_LEN: &str = "TESSERA_CALLGRIND_MESSAGE_LEN";
const CLIENT_ID: &str = "bench";
const CLIENT_SECRET: &str = "bench-secret-3a1f9c2e7b5d4f6a8c0e1b2d3f4a5b6c";
const LOCAL_CLIENT_ID: &str = CLIENT_ID;
const LOCAL_CLIENT_SECRET: &str = CLIENT_SECRET;
const BODY: &str = "grant_type=client_credentials";
/// The JWE functions a refresh pays for, excluded from its own work.
const JWE_FUNCTIONS: [&str; 2] = [
    "tessera::jose::jwe::decrypt_from_self",
    "tessera::jose::jwe::encrypt_to_self",
];

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// A child under callgrind.
struct Counted {
    child: Child,
    out_file: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Counted {
    /// Starts `mode` and reads its first line (a port, or "ready").
    fn start(mode: &str, env: &[(&str, String)]) -> (Counted, String) {
        let dir = tempfile::TempDir::new().unwrap();
        let out_file = dir.path().join("callgrind.out");
        let mut child = Command::new("valgrind")
            .arg("--tool=callgrind")
            .arg("--dump-instr=no")
            .arg(format!("--callgrind-out-file={}", out_file.display()))
            .arg(std::env::current_exe().unwrap())
            .env(MODE, mode)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("valgrind runs");
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        (
            Counted {
                child,
                out_file,
                _dir: dir,
            },
            line.trim().to_owned(),
        )
    }

    /// Stops the child (SIGTERM: a server stops gracefully) and reads the instructions of its
    /// whole run.
    fn total(self, name: &str) -> u64 {
        self.total_and(name, &[]).0
    }

    /// The whole run's instructions, and those of each of `functions` with what they call;
    /// `name` names the kept output.
    fn total_and(mut self, name: &str, functions: &[&str]) -> (u64, Vec<u64>) {
        // A pool server ends when its stdin closes, the others on SIGTERM.
        drop(self.child.stdin.take());
        // SAFETY: kill has no memory-safety preconditions; the pid is our child's.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let _ = self.child.wait();
        if let Ok(keep) = std::env::var("TESSERA_CALLGRIND_KEEP") {
            let kept = std::path::Path::new(&keep).join(format!("callgrind.{name}.out"));
            std::fs::copy(&self.out_file, kept).expect("the kept output is written");
        }
        let text = std::fs::read_to_string(&self.out_file).expect("callgrind wrote its counts");
        let total = text
            .lines()
            .filter_map(|line| {
                line.strip_prefix("totals:")
                    .or(line.strip_prefix("summary:"))
            })
            .filter_map(|rest| rest.split_whitespace().next()?.parse::<u64>().ok())
            .next()
            .expect("a totals line");
        if functions.is_empty() {
            return (total, Vec::new());
        }
        let annotated = Command::new("callgrind_annotate")
            .args(["--inclusive=yes", "--threshold=100"])
            .arg(&self.out_file)
            .output()
            .expect("callgrind_annotate runs");
        let annotated = String::from_utf8_lossy(&annotated.stdout);
        let inclusive = functions
            .iter()
            .map(|function| inclusive_cost(&annotated, function))
            .collect();
        (total, inclusive)
    }
}

/// The inclusive instructions of `function` in `callgrind_annotate --inclusive=yes` output: its
/// line of the form `1,234 (0.5%)  file:function [binary]` (the lines without the binary are
/// the same cost again, as inlined into a caller).
fn inclusive_cost(annotated: &str, function: &str) -> u64 {
    let needle = format!(":{function} [");
    annotated
        .lines()
        .filter(|line| line.contains(&needle))
        .filter_map(|line| line.split_whitespace().next())
        .filter_map(|count| count.replace(',', "").parse::<u64>().ok())
        .max()
        .unwrap_or(0)
}

/// One keep-alive HTTP/1.1 connection, one request at a time.
struct Connection {
    stream: BufReader<TcpStream>,
    port: String,
    /// One proof for each request, in order, when the scenario is DPoP's.
    proofs: std::vec::IntoIter<String>,
}

/// What a path's requests are.
#[derive(Clone, Copy)]
enum Path {
    /// client_credentials, client_secret_basic.
    Basic,
    /// client_credentials with a fresh client assertion (the pool's) per request.
    PrivateKeyJwt,
    /// The refresh grant of the public client, a fresh refresh token (the pool's) per request.
    Refresh,
    /// The resource server's introspection of the pool's one access token.
    Introspect,
}

/// The `Basic` credentials of `client_id` with the bench secret.
fn basic(client_id: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{client_id}:{CLIENT_SECRET}"))
}

impl Connection {
    fn open(port: &str, proofs: Vec<String>) -> Self {
        let stream = TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
        stream.set_nodelay(true).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(120)))
            .unwrap();
        Self {
            stream: BufReader::new(stream),
            port: port.to_owned(),
            proofs: proofs.into_iter(),
        }
    }

    /// Posts `body` to `path` (with `Basic` credentials when given) and reads the answer, which
    /// must be a 200 whose body holds `expected`.
    fn post(&mut self, path: &str, basic: Option<&str>, body: &str, expected: &[u8]) -> Vec<u8> {
        let authorization = basic.map_or(String::new(), |credentials| {
            format!("Authorization: Basic {credentials}\r\n")
        });
        let dpop = self
            .proofs
            .next()
            .map_or(String::new(), |proof| format!("DPoP: {proof}\r\n"));
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n{authorization}{dpop}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            self.port,
            body.len()
        );
        self.stream.get_mut().write_all(request.as_bytes()).unwrap();
        let mut length = 0;
        let mut status = String::new();
        self.stream.read_line(&mut status).unwrap();
        assert!(status.starts_with("HTTP/1.1 200"), "{status}");
        loop {
            let mut line = String::new();
            self.stream.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = value.trim().parse().unwrap();
            }
        }
        let mut answer = vec![0; length];
        self.stream.read_exact(&mut answer).unwrap();
        assert!(
            answer.windows(expected.len()).any(|part| part == expected),
            "{}",
            String::from_utf8_lossy(&answer)
        );
        answer
    }

    /// Request `i` of `path`, with the pool's tokens.
    fn request(&mut self, path: Path, pool: &[String], i: usize) -> Vec<u8> {
        const TOKEN: &[u8] = b"\"access_token\":";
        match path {
            Path::Basic => self.post("/oauth2/token", Some(&basic(CLIENT_ID)), BODY, TOKEN),
            Path::PrivateKeyJwt => self.post(
                "/oauth2/token",
                None,
                &format!("grant_type=client_credentials&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion={}", pool[i]),
                TOKEN,
            ),
            Path::Refresh => self.post(
                "/oauth2/token",
                None,
                &format!(
                    "grant_type=refresh_token&client_id={CLIENT_ID}-public&refresh_token={}",
                    pool[i]
                ),
                TOKEN,
            ),
            Path::Introspect => self.post(
                "/oauth2/introspect",
                Some(&basic(&format!("{CLIENT_ID}-rs"))),
                &format!("token={}", pool[0]),
                b"\"active\":true",
            ),
        }
    }
}

/// One counted run of a server: `mode`, its pool made of `pool_size` tokens.
struct Run<'a> {
    mode: &'a str,
    path: Path,
    pool_size: usize,
    functions: &'a [&'a str],
    /// A DPoP proof for each request, when there are any.
    proofs: &'a [String],
}

impl Run<'_> {
    /// The whole run answering `warmup` then `requests` requests: its instructions, those of
    /// `functions`, the last answer and the pool's first token.
    fn count(&self, warmup: usize, requests: usize) -> (u64, Vec<u64>, Vec<u8>, String) {
        let pool_dir = tempfile::TempDir::new().unwrap();
        let pool_file = pool_dir.path().join("pool");
        let (counted, port) = Counted::start(
            self.mode,
            &[
                (POOL_SIZE, self.pool_size.to_string()),
                (POOL_FILE, pool_file.display().to_string()),
            ],
        );
        let pool: Vec<String> = std::fs::read_to_string(&pool_file)
            .map(|text| text.lines().map(str::to_owned).collect())
            .unwrap_or_default();
        let proofs = self
            .proofs
            .iter()
            .take(warmup + requests)
            .cloned()
            .collect();
        let mut connection = Connection::open(&port, proofs);
        let mut last = Vec::new();
        for i in 0..warmup + requests {
            last = connection.request(self.path, &pool, i);
        }
        drop(connection);
        let (total, inclusive) =
            counted.total_and(&format!("{}.{requests}", self.mode), self.functions);
        let first = pool.into_iter().next().unwrap_or_default();
        (total, inclusive, last, first)
    }

    /// Counts per request: its instructions, those of `functions`, an answer, the pool's first
    /// token.
    fn per_request(&self, warmup: usize, requests: usize) -> Counts {
        let (once, once_functions, _, _) = self.count(warmup, requests);
        let (twice, twice_functions, answer, first) = self.count(warmup, 2 * requests);
        let per = |a: u64, b: u64| b.saturating_sub(a) / requests as u64;
        Counts {
            total: per(once, twice),
            functions: once_functions
                .iter()
                .zip(&twice_functions)
                .map(|(a, b)| per(*a, *b))
                .collect(),
            answer,
            first,
        }
    }
}

struct Counts {
    total: u64,
    functions: Vec<u64>,
    answer: Vec<u8>,
    first: String,
}

fn per_request(mode: &str, warmup: usize, requests: usize, proofs: &[String]) -> u64 {
    let run = Run {
        mode,
        path: Path::Basic,
        pool_size: 0,
        functions: &[],
        proofs,
    };
    run.per_request(warmup, requests).total
}

/// The whole run of crypto child `mode` doing its operation `count` times on a message of
/// `message_len` bytes.
fn crypto_and_count(mode: &str, message_len: usize, count: usize) -> u64 {
    let (mut counted, ready) = Counted::start(mode, &[(MESSAGE_LEN, message_len.to_string())]);
    assert_eq!(ready, "ready");
    writeln!(counted.child.stdin.as_mut().unwrap(), "{count}").unwrap();
    let mut done = String::new();
    BufReader::new(counted.child.stdout.as_mut().unwrap())
        .read_line(&mut done)
        .unwrap();
    assert_eq!(done.trim(), "done");
    counted.total(&format!("{mode}.{count}"))
}

/// Instructions of one operation of crypto child `mode` on a message of `message_len` bytes.
fn per_operation(mode: &str, message_len: usize, requests: usize) -> u64 {
    let once = crypto_and_count(mode, message_len, requests);
    let twice = crypto_and_count(mode, message_len, 2 * requests);
    twice.saturating_sub(once) / requests as u64
}

/// The length of a compact JWS's signing input (header and payload, base64url).
fn signing_input_len(jws: &str) -> usize {
    jws.rfind('.').expect("a compact JWS")
}

/// The access token of a token answer.
fn access_token(answer: &[u8]) -> String {
    let answer: serde_json::Value = serde_json::from_slice(answer).unwrap();
    answer["access_token"].as_str().unwrap().to_owned()
}

// ---- the children -------------------------------------------------------------------------

/// Tessera on the bench client, answering on an ephemeral port it prints; `dpop_section`: its
/// `[dpop]` settings; with `encrypted`, the client's access tokens are encrypted to a fresh
/// ECDH-ES+A256KW key.
fn serve_tessera(alg: &str, dpop_section: &str, encrypted: bool) {
    let dir = tempfile::TempDir::new().unwrap();
    let hash = tessera::oauth::credentials::hash_secret(CLIENT_SECRET);
    let encryption = if encrypted {
        use tessera::jose::{generate_encryption_key, KeyManagementAlg};
        let public = generate_encryption_key(KeyManagementAlg::EcdhEsA256Kw)
            .unwrap()
            .to_public_key()
            .unwrap();
        let member = |name: &str| public.parameter(name).unwrap().as_str().unwrap().to_owned();
        format!(
            r#"access_token_encryption = {{ alg = "ECDH-ES+A256KW", jwk = {{ kty = "EC", crv = "P-256", x = "{}", y = "{}" }} }}"#,
            member("x"),
            member("y")
        )
    } else {
        String::new()
    };
    let text = format!(
        r#"
issuer = "https://issuer.bench"
listen = "127.0.0.1:0"
keys_dir = "keys"
[server]
workers = 1
[tokens]
signing_alg = "{alg}"
[log]
level = "error"
{dpop_section}
[[clients]]
client_id = "{CLIENT_ID}"
client_secret_hash = "{hash}"
scopes = ["reports:read"]
audience = ["https://reports.internal"]
{encryption}
"#
    );
    let settings = tessera::settings::Settings::parse(&text, dir.path(), Vec::new()).unwrap();
    actix_web::rt::System::new().block_on(async move {
        let app = tessera::startup::Application::build(
            settings,
            std::sync::Arc::new(tessera::clock::SystemClock),
        )
        .unwrap();
        println!("{}", app.port());
        app.run_until_stopped().await.unwrap();
    });
}

/// The framework floor: the same extraction and parsing, a fixed answer, no crypto.
fn serve_floor() {
    use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
    const FIXED: &str = r#"{"access_token":"eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCIsImtpZCI6ImsifQ.eyJpc3MiOiJodHRwczovL2lzc3Vlci5iZW5jaCIsInN1YiI6ImJlbmNoIn0.c2ln","token_type":"Bearer","expires_in":900,"scope":"reports:read"}"#;
    async fn token(req: HttpRequest, body: web::Bytes) -> HttpResponse {
        let params = tessera::oauth::params::Params::from_form(&body).unwrap();
        assert_eq!(params.get("grant_type"), Some("client_credentials"));
        let authorization = req.headers().get("authorization").unwrap().as_bytes();
        let (id, _secret) = tessera::oauth::client_auth::decode_basic(authorization).unwrap();
        assert_eq!(id, CLIENT_ID);
        HttpResponse::Ok()
            .insert_header(("cache-control", "no-store"))
            .insert_header(("pragma", "no-cache"))
            .content_type("application/json")
            .body(FIXED)
    }
    // The allocator as Tessera sets it up.
    tessera::return_freed_memory_at_once();
    actix_web::rt::System::new().block_on(async {
        let server = HttpServer::new(|| App::new().route("/oauth2/token", web::post().to(token)))
            .workers(1)
            .bind("127.0.0.1:0")
            .unwrap();
        println!("{}", server.addrs()[0].port());
        server.run().await.unwrap();
    });
}

/// The load bench's server (one worker) with `pool` minted, written one a line to the pool
/// file before the port is printed.
fn serve_pool(pool: fn(usize) -> local_server::Pool) {
    let size: usize = std::env::var(POOL_SIZE).unwrap().parse().unwrap();
    let (port, tokens, _dir) = local_server::serve_in_process("ES256", pool(size), Some(1));
    std::fs::write(std::env::var(POOL_FILE).unwrap(), tokens.join("\n")).unwrap();
    println!("{port}");
    // The server runs on its own thread, which SIGTERM stops but which does not end the
    // process: the closing of stdin does, so callgrind writes its counts.
    let _ = std::io::stdin().read_line(&mut String::new());
    std::process::exit(0);
}

/// The message length a crypto child was given (default: the signing input of the bench
/// client's ES256 access token, header and claims in base64url: the hash is over that many
/// bytes).
fn message() -> Vec<u8> {
    let len = std::env::var(MESSAGE_LEN)
        .ok()
        .and_then(|len| len.parse().ok())
        .unwrap_or(518);
    vec![b'x'; len]
}

/// Waits for the count on stdin, runs `work` that often, answers "done" and waits to be stopped.
fn repeat_as_told(work: impl Fn() -> usize) {
    work();
    println!("ready");
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).unwrap();
    let count: usize = line.trim().parse().unwrap();
    let mut total = 0;
    for _ in 0..count {
        total += work();
    }
    assert!(total > 0);
    println!("done");
    // Until told to stop, so every run ends the same way.
    loop {
        std::thread::park();
    }
}

/// Verifies the ES256 signature of a proof as often as told on stdin: the point as the proof's
/// `jwk` gives it, the signing input as long as a bench proof's.
fn verify_es256() {
    use aws_lc_rs::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_FIXED};
    use base64::Engine;
    let proof = dpop_proofs::proofs(1, "https://issuer.bench/oauth2/token", 1_800_000_000)
        .pop()
        .unwrap();
    let (input, signature) = proof.rsplit_once('.').unwrap();
    let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(signature)
        .unwrap();
    let point = dpop_proofs::public_point(&proof);
    repeat_as_told(|| {
        let key = UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point);
        usize::from(
            key.verify(std::hint::black_box(input.as_bytes()), &signature)
                .is_ok(),
        )
    })
}

/// Verifies an ES256 signature of the message with a parsed public key, as the verifier of
/// client assertions and the introspection of our own tokens do.
fn verify_parsed_es256() {
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair, ParsedPublicKey};
    let rng = SystemRandom::new();
    let message = message();
    let der =
        EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let pair = EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, der.as_ref())
        .unwrap();
    let signed = pair.sign(&rng, &message).unwrap();
    let public = ParsedPublicKey::new(
        &signature::ECDSA_P256_SHA256_FIXED,
        pair.public_key().as_ref(),
    )
    .unwrap();
    repeat_as_told(|| {
        usize::from(
            std::hint::black_box(&public)
                .verify_sig(&message, signed.as_ref())
                .is_ok(),
        )
    });
}

/// Signs a token-sized message as often as told on stdin.
fn sign(alg: &str) {
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair};
    let rng = SystemRandom::new();
    let message = message();
    let sign: Box<dyn Fn() -> usize> = match alg {
        "ES256" => {
            let der =
                EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                    .unwrap();
            let pair =
                EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, der.as_ref())
                    .unwrap();
            // black_box: the signature bytes are used, as a token uses them, so the
            // optimizer keeps the zeroing of aws-lc-rs's signature buffer that a token pays.
            Box::new(move || {
                std::hint::black_box(pair.sign(&rng, &message).unwrap())
                    .as_ref()
                    .len()
            })
        }
        _ => {
            let pair = Ed25519KeyPair::generate().unwrap();
            let _ = pair.public_key();
            Box::new(move || std::hint::black_box(pair.sign(&message)).as_ref().len())
        }
    };
    repeat_as_told(sign)
}

fn main() {
    use local_server::Pool;
    match std::env::var(MODE).as_deref() {
        Ok("tessera-ES256") => return serve_tessera("ES256", "", false),
        Ok("tessera-EdDSA") => return serve_tessera("EdDSA", "", false),
        Ok("tessera-ES256-encrypted") => return serve_tessera("ES256", "", true),
        // The proofs are made before the runs.
        Ok("tessera-dpop-ES256") => {
            return serve_tessera("ES256", "[dpop]\niat_window = \"1h\"", false)
        }
        Ok("verify-ES256") => return verify_es256(),
        Ok("verify-parsed-ES256") => return verify_parsed_es256(),
        Ok("floor") => return serve_floor(),
        Ok("sign-ES256") => return sign("ES256"),
        Ok("sign-EdDSA") => return sign("EdDSA"),
        Ok("private_key_jwt") => {
            return serve_pool(|count| Pool::Assertions {
                count,
                encrypted: false,
            })
        }
        Ok("refresh") => return serve_pool(Pool::RefreshTokens),
        Ok("introspect") => return serve_pool(|_| Pool::AccessTokens(1)),
        _ => {}
    }
    if Command::new("valgrind").arg("--version").output().is_err() {
        println!("callgrind: valgrind is not installed; nothing counted");
        return;
    }
    let requests = env_or("TESSERA_CALLGRIND_REQUESTS", 1000);
    let warmup = env_or("TESSERA_CALLGRIND_WARMUP", 200);
    let parts = std::env::var("TESSERA_CALLGRIND_PARTS")
        .unwrap_or("plain,dpop,encrypted,private_key_jwt,refresh,introspection".into());
    let parts: Vec<&str> = parts.split(',').map(str::trim).collect();
    let mut plain_es256 = None;
    let mut floor = None;
    let mut floor = || {
        *floor.get_or_insert_with(|| {
            let floor = per_request("floor", warmup, requests, &[]);
            println!(
                "callgrind: framework floor (actix-web, same parsing, fixed answer): {floor} instructions/request ({requests} requests after {warmup})"
            );
            floor
        })
    };
    if parts.contains(&"plain") {
        let floor = floor();
        for (alg, sign_mode) in [("ES256", "sign-ES256"), ("EdDSA", "sign-EdDSA")] {
            let total = per_request(&format!("tessera-{alg}"), warmup, requests, &[]);
            let signature = per_operation(sign_mode, 518, requests);
            println!(
                "callgrind: client_credentials basic {alg}: {total} instructions/request; {alg} signature {signature}; Tessera's own work {} ({requests} requests after {warmup})",
                total as i64 - floor as i64 - signature as i64
            );
            if alg == "ES256" {
                plain_es256 = Some(total);
            }
        }
    }
    if parts.contains(&"dpop") {
        let plain =
            *plain_es256.get_or_insert_with(|| per_request("tessera-ES256", warmup, requests, &[]));
        // One proof a request, none spent twice: every run is a fresh server.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let proofs = dpop_proofs::proofs(
            warmup + 2 * requests,
            "https://issuer.bench/oauth2/token",
            now,
        );
        let total = per_request("tessera-dpop-ES256", warmup, requests, &proofs);
        let verification = per_operation("verify-ES256", 0, requests);
        println!(
            "callgrind: client_credentials basic+DPoP ES256: {total} instructions/request; plain ES256 {plain}; ES256 verification {verification}; DPoP's own work {} ({requests} requests after {warmup})",
            total as i64 - plain as i64 - verification as i64
        );
    }
    if parts.contains(&"encrypted") {
        let plain =
            *plain_es256.get_or_insert_with(|| per_request("tessera-ES256", warmup, requests, &[]));
        let encrypted = per_request("tessera-ES256-encrypted", warmup, requests, &[]);
        println!(
            "callgrind: client_credentials basic ES256 encrypted-access (ECDH-ES+A256KW): {encrypted} instructions/request; the JWE adds {} ({requests} requests after {warmup})",
            encrypted as i64 - plain as i64
        );
    }
    // Each request a token not used before: the pool holds every request of the longer run.
    let pool_size = warmup + 2 * requests;
    if parts.contains(&"private_key_jwt") {
        let floor = floor();
        let counts = Run {
            mode: "private_key_jwt",
            path: Path::PrivateKeyJwt,
            pool_size,
            functions: &[],
            proofs: &[],
        }
        .per_request(warmup, requests);
        let verification = per_operation(
            "verify-parsed-ES256",
            signing_input_len(&counts.first),
            requests,
        );
        let signature = per_operation(
            "sign-ES256",
            signing_input_len(&access_token(&counts.answer)),
            requests,
        );
        println!(
            "callgrind: client_credentials private_key_jwt ES256: {} instructions/request; ES256 verification {verification} + ES256 signature {signature}; Tessera's own work {} ({requests} requests after {warmup})",
            counts.total,
            counts.total as i64 - floor as i64 - verification as i64 - signature as i64
        );
    }
    if parts.contains(&"refresh") {
        let floor = floor();
        let counts = Run {
            mode: "refresh",
            path: Path::Refresh,
            pool_size,
            functions: &JWE_FUNCTIONS,
            proofs: &[],
        }
        .per_request(warmup, requests);
        let answer: serde_json::Value = serde_json::from_slice(&counts.answer).unwrap();
        // The access token, and the ID token when the grant renews one.
        let signed: Vec<&str> = ["access_token", "id_token"]
            .iter()
            .filter_map(|name| answer[name].as_str())
            .collect();
        let signature: u64 = signed
            .iter()
            .map(|jws| per_operation("sign-ES256", signing_input_len(jws), requests))
            .sum();
        let jwe: u64 = counts.functions.iter().sum();
        println!(
            "callgrind: refresh_token ES256: {} instructions/request; JWE open+seal {jwe} (jose::jwe, in the run) + {} ES256 signature(s) {signature}; Tessera's own work {} ({requests} requests after {warmup})",
            counts.total,
            signed.len(),
            counts.total as i64 - floor as i64 - jwe as i64 - signature as i64
        );
    }
    if parts.contains(&"introspection") {
        let floor = floor();
        let counts = Run {
            mode: "introspect",
            path: Path::Introspect,
            pool_size: 1,
            functions: &[],
            proofs: &[],
        }
        .per_request(warmup, requests);
        let verification = per_operation(
            "verify-parsed-ES256",
            signing_input_len(&counts.first),
            requests,
        );
        println!(
            "callgrind: introspection ES256: {} instructions/request; ES256 verification {verification}; Tessera's own work {} ({requests} requests after {warmup})",
            counts.total,
            counts.total as i64 - floor as i64 - verification as i64
        );
    }
}
