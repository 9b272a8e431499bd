//! Verifications per second on one core, ES256 and EdDSA, in one run:
//! - `tessera-verifier`: `AccessTokenVerifier::verify` on an RFC 9068 token (split, header,
//!   key selection, signature, claims, every profile check) with a static key set;
//! - `bare aws-lc-rs`: `ParsedPublicKey::verify_sig` of the same signature over the same
//!   signing input, the floor any JWT verifier on aws-lc-rs stands on;
//! - `aws-lc-rs re-parsing the key`: `UnparsedPublicKey::verify`, which parses the public key
//!   on every call, as verifiers that keep raw key bytes do.
//!
//! `cargo bench --bench verify`: criterion prints the time per verification of each; then a
//! paired summary alternates batches of the verifier and of bare aws-lc-rs in the same rounds,
//! so that load from other processes on a shared machine weighs on both alike, and prints
//! verifications per second and the ratio (median of the rounds).

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, ParsedPublicKey, UnparsedPublicKey,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use criterion::{criterion_group, Criterion};
use serde_json::json;
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use tessera_verifier::{AccessTokenVerifier, KeySource, ManualClock};

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
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims().to_string())
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
}

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

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    paired_summary();
}
