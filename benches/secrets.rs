//! What checking a client secret costs, by hash format and path: the keyed format
//! (`hmac-sha256`, what `tessera client secret` makes), argon2id on the bounded pool (chosen
//! secrets, passwords), a remembered argon2 verdict, and a client id that does not exist. The
//! figures decide the hash format of generated secrets (docs/client-authentication.md).

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use tessera::oauth::credentials::{hash_generated_secret, hash_secret, CredentialVerifier};
use tessera::oauth::hash_pool::HashPool;
use tessera::registry::SecretHash;
use tessera::settings::Settings;

const SECRET: &str = "q0tA8nX2m9wVh3LrZ7bYc1sE5fJ4kP6uD8gT0iN2oR4";

fn benches(c: &mut Criterion) {
    let settings = Settings::with_issuer("https://issuer.bench").unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let pool = HashPool::new(&settings.server);
    let verifier = CredentialVerifier::for_clients(&settings.client_auth, pool.clone(), None);
    let keyed = SecretHash::parse(&hash_generated_secret(SECRET), "bench").unwrap();
    let argon2 = SecretHash::parse(&hash_secret(SECRET), "bench").unwrap();
    let SecretHash::Argon2(argon2_hash) = argon2.clone() else {
        unreachable!("hash_secret makes argon2id")
    };
    let now = 1_800_000_000;
    let check = |hash: Option<&SecretHash>, presented: &str| {
        runtime.block_on(verifier.verify("client:bench", hash, presented, None, now))
    };

    c.bench_function("secret_check/keyed", |b| {
        b.iter(|| black_box(check(Some(&keyed), black_box(SECRET))))
    });
    c.bench_function("secret_check/keyed_wrong", |b| {
        b.iter(|| {
            black_box(check(
                Some(&keyed),
                black_box("q0tA8nX2m9wVh3LrZ7bYc1sE5fJ4kP6uD8gT0iN2oR5"),
            ))
        })
    });
    check(Some(&argon2), SECRET);
    c.bench_function("secret_check/argon2_cached", |b| {
        b.iter(|| black_box(check(Some(&argon2), black_box(SECRET))))
    });
    c.bench_function("secret_check/unknown_client", |b| {
        b.iter(|| black_box(check(None, black_box(SECRET))))
    });
    let mut group = c.benchmark_group("secret_check");
    group.sample_size(20);
    group.bench_function("argon2_m19456_t2_p1", |b| {
        b.iter(|| {
            black_box(
                runtime
                    .block_on(pool.matches(argon2_hash.clone(), black_box(SECRET)))
                    .unwrap(),
            )
        })
    });
    group.finish();
}

criterion_group!(secrets, benches);
criterion_main!(secrets);
