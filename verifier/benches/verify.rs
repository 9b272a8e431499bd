//! Verifications per second on one core, ES256 and EdDSA, in one run:
//! - `tessera-verifier`: `AccessTokenVerifier::verify` on an RFC 9068 token (split, header,
//!   key selection, signature, claims, every profile check) with a static key set;
//! - `bare aws-lc-rs`: `ParsedPublicKey::verify_sig` of the same signature over the same
//!   signing input, the floor any JWT verifier on aws-lc-rs stands on;
//! - `aws-lc-rs re-parsing the key`: `UnparsedPublicKey::verify`, which parses the public key
//!   on every call, as verifiers that keep raw key bytes do.
//!
//! - DPoP (RFC 9449): `verify_with_proof` of an ES256 token bound to an ES256 key with a fresh
//!   proof each time (every proof check, the thumbprint, the replay cache), beside the same
//!   token's plain verification: what a proof adds, against one bare ES256 verification.
//!
//! `cargo bench --bench verify`: criterion prints the time per verification of each; then a
//! paired summary alternates batches of the verifier and of bare aws-lc-rs in the same rounds,
//! so that load from other processes on a shared machine weighs on both alike, and prints
//! verifications per second and the ratio (median of the rounds); last, the DPoP replay cache
//! is filled to its capacity and its resident memory per proof measured.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, ParsedPublicKey, UnparsedPublicKey,
    ECDSA_P256_SHA256_FIXED_SIGNING as ECDSA_P256_SIGNING,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use criterion::{criterion_group, BatchSize, Criterion};
use serde_json::json;
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use tessera_verifier::{
    jwk_thumbprint, AccessTokenVerifier, DpopConfig, DpopError, DpopRequest, Error, KeySource,
    ManualClock, Proof,
};

const ISSUER: &str = "https://id.tessera.test";
const AUDIENCE: &str = "https://reports.internal";
const NOW: i64 = 1_800_000_000;

/// Polls a future that completes without waiting (static keys never wait): no runtime, so the
/// bench measures the verifier and not an executor.
fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("a static-key verification waited"),
    }
}

struct Case {
    name: &'static str,
    token: String,
    jwk: serde_json::Value,
    algorithm: &'static dyn signature::VerificationAlgorithm,
    public_key: Vec<u8>,
}

fn claims() -> serde_json::Value {
    json!({
        "iss": ISSUER, "sub": "alice", "aud": [AUDIENCE], "exp": NOW + 900, "iat": NOW,
        "nbf": NOW, "jti": "0f9c7a1e-7c1b-4d43-9a0e-1d3c1d2b9a11", "client_id": "reports",
        "scope": "reports:read reports:write",
    })
}

fn token(alg: &str, sign: impl Fn(&[u8]) -> Vec<u8>) -> String {
    let header = json!({"alg": alg, "kid": "k1", "typ": "at+jwt"});
    jws(&header, &claims(), sign)
}

fn jws(
    header: &serde_json::Value,
    claims: &serde_json::Value,
    sign: impl Fn(&[u8]) -> Vec<u8>,
) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

fn es256() -> Case {
    let rng = SystemRandom::new();
    let pkcs8 =
        EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let pair =
        EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
            .unwrap();
    let point = pair.public_key().as_ref().to_vec();
    let jwk = json!({
        "kty": "EC", "crv": "P-256", "kid": "k1", "use": "sig", "alg": "ES256",
        "x": URL_SAFE_NO_PAD.encode(&point[1..33]), "y": URL_SAFE_NO_PAD.encode(&point[33..]),
    });
    Case {
        name: "ES256",
        token: token("ES256", |input| {
            pair.sign(&rng, input).unwrap().as_ref().to_vec()
        }),
        jwk,
        algorithm: &signature::ECDSA_P256_SHA256_FIXED,
        public_key: point,
    }
}

fn eddsa() -> Case {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
    let public_key = pair.public_key().as_ref().to_vec();
    let jwk = json!({
        "kty": "OKP", "crv": "Ed25519", "kid": "k1", "use": "sig", "alg": "EdDSA",
        "x": URL_SAFE_NO_PAD.encode(&public_key),
    });
    Case {
        name: "EdDSA",
        token: token("EdDSA", |input| pair.sign(input).as_ref().to_vec()),
        jwk,
        algorithm: &signature::ED25519,
        public_key,
    }
}

const URL: &str = "https://api.example.com/reports";

/// An ES256 token bound to an ES256 client key, its verifier taking DPoP, and that client's
/// proofs.
struct DpopBench {
    verifier: AccessTokenVerifier,
    token: String,
    client: EcdsaKeyPair,
    client_jwk: serde_json::Value,
    ath: String,
    rng: SystemRandom,
}

fn ec_jwk(pair: &EcdsaKeyPair) -> serde_json::Value {
    let point = pair.public_key().as_ref();
    json!({
        "kty": "EC", "crv": "P-256",
        "x": URL_SAFE_NO_PAD.encode(&point[1..33]), "y": URL_SAFE_NO_PAD.encode(&point[33..]),
    })
}

impl DpopBench {
    fn new(replay_capacity: usize) -> Self {
        let rng = SystemRandom::new();
        let generate = || {
            let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SIGNING, &rng).unwrap();
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SIGNING, pkcs8.as_ref()).unwrap()
        };
        let (issuer, client) = (generate(), generate());
        let client_jwk = ec_jwk(&client);
        let jkt = jwk_thumbprint(client_jwk.as_object().unwrap()).unwrap();
        let mut claims = claims();
        claims["cnf"] = json!({ "jkt": jkt });
        let token = jws(
            &json!({"alg": "ES256", "kid": "k1", "typ": "at+jwt"}),
            &claims,
            |input| issuer.sign(&rng, input).unwrap().as_ref().to_vec(),
        );
        let mut issuer_jwk = ec_jwk(&issuer);
        issuer_jwk["kid"] = "k1".into();
        let dpop = DpopConfig::new("https://api.example.com")
            .unwrap()
            .replay_capacity(replay_capacity);
        let keys = KeySource::from_jwks_json(json!({"keys": [issuer_jwk]}).to_string().as_bytes())
            .unwrap();
        let verifier = AccessTokenVerifier::builder(ISSUER, AUDIENCE, keys)
            .clock(Arc::new(ManualClock::new(NOW)))
            .dpop(dpop)
            .build()
            .unwrap();
        let ath = tessera_verifier::access_token_hash(&token);
        Self {
            verifier,
            token,
            client,
            client_jwk,
            ath,
            rng,
        }
    }

    /// The `n`th proof of `GET URL` (its own `jti`).
    fn proof(&self, n: usize) -> String {
        jws(
            &json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": self.client_jwk}),
            &json!({"jti": format!("{n:016x}-bench"), "htm": "GET", "htu": URL, "iat": NOW, "ath": self.ath}),
            |input| {
                self.client
                    .sign(&self.rng, input)
                    .unwrap()
                    .as_ref()
                    .to_vec()
            },
        )
    }

    fn verify(&self, proof: &str) -> Result<tessera_verifier::AccessToken, Error> {
        let request = Proof::Dpop(DpopRequest::new(proof, "GET", "/reports"));
        ready(self.verifier.verify_with_proof(&self.token, request))
    }
}

fn bench(c: &mut Criterion) {
    for case in [es256(), eddsa()] {
        let keys =
            KeySource::from_jwks_json(json!({"keys": [case.jwk]}).to_string().as_bytes()).unwrap();
        let verifier = AccessTokenVerifier::builder(ISSUER, AUDIENCE, keys)
            .clock(Arc::new(ManualClock::new(NOW)))
            .build()
            .unwrap();
        assert!(ready(verifier.verify(&case.token)).is_ok());
        let (input, signature) = case.token.rsplit_once('.').unwrap();
        let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
        let parsed = ParsedPublicKey::new(case.algorithm, &case.public_key).unwrap();
        parsed.verify_sig(input.as_bytes(), &signature).unwrap();

        let mut group = c.benchmark_group(case.name);
        group.bench_function("tessera-verifier", |b| {
            b.iter(|| ready(verifier.verify(black_box(&case.token))).unwrap())
        });
        group.bench_function("bare aws-lc-rs", |b| {
            b.iter(|| {
                parsed
                    .verify_sig(black_box(input.as_bytes()), black_box(&signature))
                    .unwrap()
            })
        });
        group.bench_function("aws-lc-rs re-parsing the key", |b| {
            b.iter(|| {
                UnparsedPublicKey::new(case.algorithm, black_box(&case.public_key))
                    .verify(black_box(input.as_bytes()), black_box(&signature))
                    .unwrap()
            })
        });
        group.finish();
    }
    let dpop = DpopBench::new(CRITERION_REPLAY_CAPACITY);
    assert!(dpop.verify(&dpop.proof(usize::MAX)).is_ok());
    let mut group = c.benchmark_group("DPoP ES256");
    let mut next = 0;
    group.bench_function("tessera-verifier token + proof", |b| {
        // Each proof is single use: a fresh one, signed outside the measured time.
        b.iter_batched(
            || {
                next += 1;
                dpop.proof(next)
            },
            |proof| dpop.verify(black_box(&proof)).unwrap(),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

/// Room for every proof criterion's runs spend (it never lets one expire: the clock stands).
const CRITERION_REPLAY_CAPACITY: usize = 5_000_000;

/// Rounds of the paired summary, and verifications per batch.
const ROUNDS: usize = 41;
const BATCH: u32 = 300;

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn paired_summary() {
    println!("\npaired summary, one core, {ROUNDS} rounds of {BATCH} verifications each:");
    for case in [es256(), eddsa()] {
        let keys =
            KeySource::from_jwks_json(json!({"keys": [case.jwk]}).to_string().as_bytes()).unwrap();
        let verifier = AccessTokenVerifier::builder(ISSUER, AUDIENCE, keys)
            .clock(Arc::new(ManualClock::new(NOW)))
            .build()
            .unwrap();
        let (input, signature) = case.token.rsplit_once('.').unwrap();
        let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
        let parsed = ParsedPublicKey::new(case.algorithm, &case.public_key).unwrap();
        let time = |work: &dyn Fn()| {
            let started = std::time::Instant::now();
            for _ in 0..BATCH {
                work();
            }
            started.elapsed().as_secs_f64() / f64::from(BATCH)
        };
        let (mut ours, mut bare, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            let a = time(&|| {
                ready(verifier.verify(black_box(&case.token))).unwrap();
            });
            let b = time(&|| {
                parsed
                    .verify_sig(black_box(input.as_bytes()), black_box(&signature))
                    .unwrap();
            });
            ours.push(a);
            bare.push(b);
            ratios.push(a / b);
        }
        println!(
            "{:<6} tessera-verifier {:>7.0} verifications/s   bare aws-lc-rs {:>7.0} verifications/s   time ratio {:.3}",
            case.name,
            1.0 / median(ours),
            1.0 / median(bare),
            median(ratios),
        );
    }
}

criterion_group!(benches, bench);

/// DPoP in the same rounds: the token alone (the ES256 case's verifier), the token with its
/// proof, and one bare ES256 verification, so that the proof's added cost is read against a
/// signature check under the same load.
fn dpop_summary() {
    let case = es256();
    let keys =
        KeySource::from_jwks_json(json!({"keys": [case.jwk]}).to_string().as_bytes()).unwrap();
    let plain = AccessTokenVerifier::builder(ISSUER, AUDIENCE, keys)
        .clock(Arc::new(ManualClock::new(NOW)))
        .build()
        .unwrap();
    let (input, signature) = case.token.rsplit_once('.').unwrap();
    let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
    let parsed = ParsedPublicKey::new(case.algorithm, &case.public_key).unwrap();
    let dpop = DpopBench::new(ROUNDS * BATCH as usize);
    let mut proofs = (0..ROUNDS * BATCH as usize).map(|n| dpop.proof(n));
    let time = |work: &mut dyn FnMut()| {
        let started = std::time::Instant::now();
        for _ in 0..BATCH {
            work();
        }
        started.elapsed().as_secs_f64() / f64::from(BATCH)
    };
    let (mut with_proof, mut alone, mut bare, mut added) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let round: Vec<String> = proofs.by_ref().take(BATCH as usize).collect();
        let mut round = round.iter();
        let a = time(&mut || {
            ready(plain.verify(black_box(&case.token))).unwrap();
        });
        let d = time(&mut || {
            dpop.verify(black_box(round.next().unwrap())).unwrap();
        });
        let b = time(&mut || {
            parsed
                .verify_sig(black_box(input.as_bytes()), black_box(&signature))
                .unwrap();
        });
        alone.push(a);
        with_proof.push(d);
        bare.push(b);
        added.push(d - a);
    }
    let micros = |seconds: f64| seconds * 1e6;
    let (with_proof, alone, bare, added) = (
        median(with_proof),
        median(alone),
        median(bare),
        median(added),
    );
    println!(
        "DPoP   ES256 token + ES256 proof {:>7.0} verifications/s ({:.1} µs)   token alone {:.1} µs   added by the proof {:.1} µs = bare ES256 verification {:.1} µs + {:.1} µs",
        1.0 / with_proof,
        micros(with_proof),
        micros(alone),
        micros(added),
        micros(bare),
        micros(added - bare),
    );
}

/// Proofs the replay cache is filled with for its memory figure.
const FILLED_CAPACITY: usize = 200_000;

/// Resident memory of this process, from /proc (Linux).
fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = status
        .split_whitespace()
        .nth(1)
        .and_then(|pages| pages.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// The replay cache filled to its capacity through the public API: resident memory per proof,
/// and what the next proof gets.
fn replay_cache_memory() {
    let dpop = DpopBench::new(FILLED_CAPACITY);
    let proofs: Vec<String> = (0..=FILLED_CAPACITY).map(|n| dpop.proof(n)).collect();
    let before = rss_bytes();
    let started = std::time::Instant::now();
    for proof in &proofs[..FILLED_CAPACITY] {
        dpop.verify(proof).unwrap();
    }
    let elapsed = started.elapsed();
    let after = rss_bytes();
    let refused = dpop.verify(&proofs[FILLED_CAPACITY]).unwrap_err();
    assert_eq!(refused, Error::Dpop(DpopError::ReplayCacheFull));
    println!(
        "DPoP replay cache: {FILLED_CAPACITY} proofs spent ({:.0}/s): {:.1} MiB resident, {:.0} bytes per proof; the next proof: {} ({} {})",
        FILLED_CAPACITY as f64 / elapsed.as_secs_f64(),
        after.saturating_sub(before) as f64 / (1024.0 * 1024.0),
        after.saturating_sub(before) as f64 / FILLED_CAPACITY as f64,
        refused,
        refused.bearer_error_code().http_status(),
        refused.bearer_error_code().as_str(),
    );
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    paired_summary();
    dpop_summary();
    replay_cache_memory();
}
