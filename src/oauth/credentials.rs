//! Verifying shared secrets (client secrets and user passwords) against argon2id hashes
//! without paying argon2 on the hot path and without letting a flood of guesses burn the CPU.
//!
//! - A verified secret is remembered, keyed by a keyed hash (HMAC-SHA256 under a per-process
//!   random key) of who presented it, what, and the hash it was checked against (so a reload
//!   that changes the hash checks the secret again); the secret itself is never stored.
//! - A refused secret is remembered too, in its own cache, so failures cannot evict successes.
//! - An unknown subject is checked against a dummy hash of the same cost: same time as a wrong
//!   secret.
//! - Failures are counted per subject and per source address over a window; past the limit a new
//!   secret is refused with `Retry-After` and no argon2 at all. Secrets already verified still
//!   pass, so an attacker cannot lock a working client out.
//! - argon2 runs on the blocking pool, never on an HTTP worker.

use super::error::OAuthError;
use crate::clock::UnixTime;
use crate::registry::{SecretHash, User, UserRegistry};
use crate::settings::CredentialSettings;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use aws_lc_rs::hmac;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use moka::sync::Cache;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

type CacheKey = [u8; 32];

/// The outcome of presenting a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Valid,
    Invalid,
    /// Too many recent failures: try again in this many seconds.
    Throttled {
        retry_after: u64,
    },
}

/// How a verdict was reached (for metrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    Cached,
    Hashed,
    Throttled,
}

impl Path {
    pub fn as_str(self) -> &'static str {
        match self {
            Path::Cached => "cached",
            Path::Hashed => "argon2",
            Path::Throttled => "throttled",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum FailureKey {
    Subject(String),
    Address(IpAddr),
}

struct FailureWindow {
    started_at: UnixTime,
    count: AtomicU32,
}

pub struct CredentialVerifier {
    mac_key: hmac::Key,
    verified: Cache<CacheKey, ()>,
    refused: Cache<CacheKey, ()>,
    failures: Cache<FailureKey, Arc<FailureWindow>>,
    dummy_hash: String,
    window_secs: i64,
    max_per_subject: u32,
    max_per_address: u32,
}

/// A fresh argon2id PHC string for `secret` (OWASP parameters: 19 MiB, 2 passes, 1 lane).
pub fn hash_secret(secret: &str) -> String {
    let mut salt = [0u8; 16];
    SystemRandom::new()
        .fill(&mut salt)
        .expect("the system random source works");
    let salt = SaltString::encode_b64(&salt).expect("16 bytes is a valid salt");
    Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .expect("argon2 with default parameters hashes")
        .to_string()
}

fn argon2_matches(phc: &str, presented: &str) -> bool {
    PasswordHash::new(phc)
        .and_then(|hash| Argon2::default().verify_password(presented.as_bytes(), &hash))
        .is_ok()
}

impl CredentialVerifier {
    pub fn new(settings: &CredentialSettings) -> Self {
        let rng = SystemRandom::new();
        let mac_key =
            hmac::Key::generate(hmac::HMAC_SHA256, &rng).expect("the system random source works");
        let mut dummy = [0u8; 32];
        rng.fill(&mut dummy)
            .expect("the system random source works");
        let secret_cache = |capacity| {
            Cache::builder()
                .max_capacity(capacity)
                .time_to_live(settings.secret_cache_ttl)
                .build()
        };
        Self {
            mac_key,
            verified: secret_cache(settings.secret_cache_capacity),
            refused: secret_cache(settings.secret_cache_capacity),
            failures: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(settings.failure_window)
                .build(),
            dummy_hash: hash_secret(&base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                dummy,
            )),
            window_secs: settings.failure_window.as_secs() as i64,
            max_per_subject: settings.max_failures_per_subject,
            max_per_address: settings.max_failures_per_address,
        }
    }

    /// The cache entry of `presented` for `subject` checked against `phc`: a reloaded
    /// configuration that changes the hash never finds the old secret's verdict.
    fn cache_key(&self, subject: &str, phc: &str, presented: &str) -> CacheKey {
        let mut ctx = hmac::Context::with_key(&self.mac_key);
        // Length-prefixed, so no two (subject, hash, secret) triples share an input.
        for part in [subject, phc] {
            ctx.update(&(part.len() as u64).to_be_bytes());
            ctx.update(part.as_bytes());
        }
        ctx.update(presented.as_bytes());
        let tag = ctx.sign();
        let mut key = [0u8; 32];
        key.copy_from_slice(tag.as_ref());
        key
    }

    /// Checks `presented` for `subject` (a namespaced name such as `client:reports`) against
    /// `hash`; `None` means the subject does not exist, which is checked against a dummy hash.
    pub async fn verify(
        &self,
        subject: &str,
        hash: Option<&SecretHash>,
        presented: &str,
        peer: Option<IpAddr>,
        now: UnixTime,
    ) -> Result<(Verdict, Path), tokio::task::JoinError> {
        let phc = hash.map_or(self.dummy_hash.as_str(), SecretHash::as_phc);
        let key = self.cache_key(subject, phc, presented);
        if hash.is_some() && self.verified.contains_key(&key) {
            return Ok((Verdict::Valid, Path::Cached));
        }
        if let Some(retry_after) = self.throttled(subject, peer, now) {
            return Ok((Verdict::Throttled { retry_after }, Path::Throttled));
        }
        if self.refused.contains_key(&key) {
            self.record_failure(subject, peer, now);
            return Ok((Verdict::Invalid, Path::Cached));
        }
        let phc = phc.to_owned();
        let presented = presented.to_owned();
        let matches = tokio::task::spawn_blocking(move || argon2_matches(&phc, &presented)).await?;
        if matches && hash.is_some() {
            self.verified.insert(key, ());
            Ok((Verdict::Valid, Path::Hashed))
        } else {
            self.refused.insert(key, ());
            self.record_failure(subject, peer, now);
            Ok((Verdict::Invalid, Path::Hashed))
        }
    }

    fn window(&self, key: FailureKey, now: UnixTime) -> Arc<FailureWindow> {
        self.failures.get_with(key, || {
            Arc::new(FailureWindow {
                started_at: now,
                count: AtomicU32::new(0),
            })
        })
    }

    fn record_failure(&self, subject: &str, peer: Option<IpAddr>, now: UnixTime) {
        self.window(FailureKey::Subject(subject.to_owned()), now)
            .count
            .fetch_add(1, Ordering::Relaxed);
        if let Some(address) = peer {
            self.window(FailureKey::Address(address), now)
                .count
                .fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Seconds until the busiest exhausted window (subject or address) ends, if any is exhausted.
    fn throttled(&self, subject: &str, peer: Option<IpAddr>, now: UnixTime) -> Option<u64> {
        let exhausted = |key: FailureKey, limit: u32| {
            self.failures
                .get(&key)
                .filter(|window| window.count.load(Ordering::Relaxed) >= limit)
                .map(|window| (window.started_at + self.window_secs - now).max(1) as u64)
        };
        let by_subject = exhausted(
            FailureKey::Subject(subject.to_owned()),
            self.max_per_subject,
        );
        let by_address =
            peer.and_then(|address| exhausted(FailureKey::Address(address), self.max_per_address));
        by_subject.max(by_address)
    }
}

/// What checking a user's password found.
#[derive(Debug)]
pub enum PasswordCheck<'u> {
    Valid(&'u Arc<User>),
    /// A wrong password or an unknown user: the same answer, in the same time.
    Invalid,
    Throttled {
        retry_after: u64,
    },
}

/// A user's password, as the password grant and the login form both check it: throttled per
/// username and per address, an unknown user checked against the dummy hash.
pub async fn check_user_password<'u>(
    passwords: &CredentialVerifier,
    users: &'u UserRegistry,
    username: &str,
    password: &str,
    peer: Option<IpAddr>,
    now: UnixTime,
) -> Result<PasswordCheck<'u>, OAuthError> {
    let user = users.get(username);
    let (verdict, _) = passwords
        .verify(
            &format!("user:{username}"),
            user.map(|user| &user.password_hash),
            password,
            peer,
            now,
        )
        .await
        .map_err(|_| OAuthError::server_error("the server is shutting down"))?;
    Ok(match (verdict, user) {
        (Verdict::Valid, Some(user)) => PasswordCheck::Valid(user),
        (Verdict::Throttled { retry_after }, _) => PasswordCheck::Throttled { retry_after },
        _ => PasswordCheck::Invalid,
    })
}
