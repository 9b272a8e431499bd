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
//! - `client_credentials basic+DPoP ES256`: the ES256 scenario with a fresh ES256 DPoP proof
//!   (made before the run, `support/dpop_proofs.rs`) in each request's `DPoP` header.
//! - `ES256 verification`: one aws-lc-rs verification of a proof-sized signing input with the
//!   proof's public point, what checking a proof cannot do without.
//!
//! Tessera's own work is the first minus the other two; DPoP's own work is the DPoP scenario
//! minus the plain ES256 one minus one ES256 verification.
//!
//! Settings (environment): TESSERA_CALLGRIND_REQUESTS (1000), TESSERA_CALLGRIND_WARMUP (200),
//! TESSERA_CALLGRIND_PARTS (comma-separated: `plain`, `dpop`, `encrypted`; default all),
//! TESSERA_CALLGRIND_KEEP (a folder: each child's callgrind output is copied there, named after
//! its mode and request count, for `callgrind_annotate`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

#[path = "support/dpop_proofs.rs"]
mod dpop_proofs;

const MODE: &str = "TESSERA_CALLGRIND_MODE";
const CLIENT_ID: &str = "bench";
const CLIENT_SECRET: &str = "bench-secret-3a1f9c2e7b5d4f6a8c0e1b2d3f4a5b6c";
const BODY: &str = "grant_type=client_credentials";

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
    fn start(mode: &str) -> (Counted, String) {
        let dir = tempfile::TempDir::new().unwrap();
        let out_file = dir.path().join("callgrind.out");
        let mut child = Command::new("valgrind")
            .arg("--tool=callgrind")
            .arg("--dump-instr=no")
            .arg(format!("--callgrind-out-file={}", out_file.display()))
            .arg(std::env::current_exe().unwrap())
            .env(MODE, mode)
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
    fn total(mut self, name: &str) -> u64 {
        // SAFETY: kill has no memory-safety preconditions; the pid is our child's.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let _ = self.child.wait();
        if let Ok(keep) = std::env::var("TESSERA_CALLGRIND_KEEP") {
            let kept = std::path::Path::new(&keep).join(format!("callgrind.{name}.out"));
            std::fs::copy(&self.out_file, kept).expect("the kept output is written");
        }
        let text = std::fs::read_to_string(&self.out_file).expect("callgrind wrote its counts");
        text.lines()
            .filter_map(|line| {
                line.strip_prefix("totals:")
                    .or(line.strip_prefix("summary:"))
            })
            .filter_map(|rest| rest.split_whitespace().next()?.parse::<u64>().ok())
            .next()
            .expect("a totals line")
    }
}

/// One keep-alive HTTP/1.1 connection, one request at a time.
struct Connection {
    stream: BufReader<TcpStream>,
    request: Vec<u8>,
    /// One proof for each request, in order, when the scenario is DPoP's.
    proofs: std::vec::IntoIter<String>,
}

impl Connection {
    fn open(port: &str, proofs: Vec<String>) -> Self {
        use base64::Engine;
        let stream = TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
        stream.set_nodelay(true).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(120)))
            .unwrap();
        let basic = base64::engine::general_purpose::STANDARD
            .encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"));
        // The headers but the last line: a DPoP header may follow.
        let request = format!(
            "POST /oauth2/token HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Basic {basic}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            BODY.len()
        )
        .into_bytes();
        Self {
            stream: BufReader::new(stream),
            request,
            proofs: proofs.into_iter(),
        }
    }

    /// Sends the request and reads the answer, which must be a token.
    fn token(&mut self) {
        let mut request = self.request.clone();
        if let Some(proof) = self.proofs.next() {
            request.extend_from_slice(format!("DPoP: {proof}\r\n").as_bytes());
        }
        request.extend_from_slice(format!("\r\n{BODY}").as_bytes());
        self.stream.get_mut().write_all(&request).unwrap();
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
        let mut body = vec![0; length];
        self.stream.read_exact(&mut body).unwrap();
        assert!(body.starts_with(b"{\"access_token\""));
    }
}

/// The whole run of server `mode` answering `warmup` then `requests` token requests (each with
/// the next of `proofs`, when there are any).
fn serve_and_count(mode: &str, warmup: usize, requests: usize, proofs: &[String]) -> u64 {
    let (counted, port) = Counted::start(mode);
    let proofs = proofs.iter().take(warmup + requests).cloned().collect();
    let mut connection = Connection::open(&port, proofs);
    for _ in 0..warmup + requests {
        connection.token();
    }
    drop(connection);
    counted.total(&format!("{mode}.{requests}"))
}

fn per_request(mode: &str, warmup: usize, requests: usize, proofs: &[String]) -> u64 {
    let once = serve_and_count(mode, warmup, requests, proofs);
    let twice = serve_and_count(mode, warmup, 2 * requests, proofs);
    twice.saturating_sub(once) / requests as u64
}

/// The whole run of signer `mode` making `count` signatures.
fn sign_and_count(mode: &str, count: usize) -> u64 {
    let (mut counted, ready) = Counted::start(mode);
    assert_eq!(ready, "ready");
    writeln!(counted.child.stdin.as_mut().unwrap(), "{count}").unwrap();
    let mut done = String::new();
    BufReader::new(counted.child.stdout.as_mut().unwrap())
        .read_line(&mut done)
        .unwrap();
    assert_eq!(done.trim(), "done");
    counted.total(&format!("{mode}.{count}"))
}

fn per_signature(mode: &str, requests: usize) -> u64 {
    let once = sign_and_count(mode, requests);
    let twice = sign_and_count(mode, 2 * requests);
    twice.saturating_sub(once) / requests as u64
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
    actix_web::rt::System::new().block_on(async {
        let server = HttpServer::new(|| App::new().route("/oauth2/token", web::post().to(token)))
            .workers(1)
            .bind("127.0.0.1:0")
            .unwrap();
        println!("{}", server.addrs()[0].port());
        server.run().await.unwrap();
    });
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

/// Signs a token-sized message as often as told on stdin.
fn sign(alg: &str) {
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair};
    let rng = SystemRandom::new();
    // As long as the signing input of the bench client's ES256 access token (header and
    // claims, base64url): the hash is over that many bytes.
    let message = vec![b'x'; 518];
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
    match std::env::var(MODE).as_deref() {
        Ok("tessera-ES256") => return serve_tessera("ES256", "", false),
        Ok("tessera-EdDSA") => return serve_tessera("EdDSA", "", false),
        Ok("tessera-ES256-encrypted") => return serve_tessera("ES256", "", true),
        // The proofs are made before the runs.
        Ok("tessera-dpop-ES256") => {
            return serve_tessera("ES256", "[dpop]\niat_window = \"1h\"", false)
        }
        Ok("verify-ES256") => return verify_es256(),
        Ok("floor") => return serve_floor(),
        Ok("sign-ES256") => return sign("ES256"),
        Ok("sign-EdDSA") => return sign("EdDSA"),
        _ => {}
    }
    if Command::new("valgrind").arg("--version").output().is_err() {
        println!("callgrind: valgrind is not installed; nothing counted");
        return;
    }
    let requests = env_or("TESSERA_CALLGRIND_REQUESTS", 1000);
    let warmup = env_or("TESSERA_CALLGRIND_WARMUP", 200);
    let parts = std::env::var("TESSERA_CALLGRIND_PARTS").unwrap_or("plain,dpop,encrypted".into());
    let parts: Vec<&str> = parts.split(',').map(str::trim).collect();
    let mut plain_es256 = None;
    if parts.contains(&"plain") {
        let floor = per_request("floor", warmup, requests, &[]);
        println!(
            "callgrind: framework floor (actix-web, same parsing, fixed answer): {floor} instructions/request ({requests} requests after {warmup})"
        );
        for (alg, sign_mode) in [("ES256", "sign-ES256"), ("EdDSA", "sign-EdDSA")] {
            let total = per_request(&format!("tessera-{alg}"), warmup, requests, &[]);
            let signature = per_signature(sign_mode, requests);
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
        let verification = per_signature("verify-ES256", requests);
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
}
