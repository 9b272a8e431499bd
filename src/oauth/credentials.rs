//! Verifying shared secrets (client secrets and user passwords) without letting a flood of
//! guesses become a weapon, and without letting someone else's failures refuse a correct secret.
//!
//! - A keyed hash (the 256-bit secrets `tessera client secret` makes) is checked on every
//!   request: it costs one HMAC.
//! - An argon2 hash is checked on the bounded `HashPool`; a verified secret is remembered, keyed
//!   by a keyed hash (SipHash-2-4, 128 bits, a PRF under a per-process random key) of who
//!   presented it, what, and the hash it was checked against (so a reload that changes the hash
//!   checks the secret again), the secret itself never stored: without the key no one can find
//!   a wrong secret whose cache key is a right one's. A refused one is remembered in its own
//!   cache, so failures cannot evict successes.
//! - Failures are counted per subject and per source address over a window. For clients, the
//!   count only turns a refusal into 429 with `Retry-After`: a correct secret is always checked,
//!   so no one can lock a client out, even right after a restart. A client id that does not exist
//!   is answered at once (its error says so anyway) and counted against the address only. For
//!   users, whose passwords can be guessed, a subject or address past its limit gets no check at
//!   all, and an unknown username is checked against a dummy hash, as long as a wrong password.

use super::error::OAuthError;
use super::hash_pool::{dummy_hash, HashPool, Overloaded};
use crate::clock::UnixTime;
use crate::registry::{Argon2Hash, SecretHash, User, UserRegistry};
use crate::revocation::{FailureCounters, SharedCounters, ThrottleKey};
use crate::settings::CredentialSettings;
use moka::sync::Cache;
use rustc_hash::FxBuildHasher;
use siphasher::sip128::{Hasher128, SipHasher24};
use std::hash::Hasher;
use std::net::IpAddr;
use std::sync::Arc;

type CacheKey = u128;

/// Failure windows held per verifier (each a few dozen bytes).
const MAX_WINDOWS: u64 = 100_000;

/// The outcome of presenting a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Valid,
    Invalid,
    /// Too many recent failures: try again in this many seconds.
    Throttled {
        retry_after: u64,
    },
    /// The argon2 pool is full: try again in this many seconds.
    Overloaded {
        retry_after: u64,
    },
}

/// How a verdict was reached (for metrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    /// A keyed hash, checked at once.
    Keyed,
    /// A remembered argon2 verdict.
    Cached,
    Hashed,
    /// No such client: nothing to check.
    Unknown,
    /// Refused before any check (users past their limit).
    Throttled,
    /// Shed: the argon2 pool was full.
    Shed,
}

impl Path {
    /// How many paths there are (`Path as usize` indexes them; `Shed` is the last).
    pub const COUNT: usize = Path::Shed as usize + 1;

    pub fn as_str(self) -> &'static str {
        match self {
            Path::Keyed => "keyed",
            Path::Cached => "cached",
            Path::Hashed => "argon2",
            Path::Unknown => "unknown",
            Path::Throttled => "throttled",
            Path::Shed => "shed",
        }
    }
}

/// Whose secrets a verifier checks, which decides what throttling may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Policy {
    /// Client secrets: a correct one always passes; unknown clients are not hashed.
    Clients,
    /// User passwords: past a limit, no check; unknown users are hashed against the dummy.
    Users,
}

pub struct CredentialVerifier {
    policy: Policy,
    /// The SipHash key of the cache keys.
    mac_key: [u8; 16],
    verified: Cache<CacheKey, (), FxBuildHasher>,
    refused: Cache<CacheKey, (), FxBuildHasher>,
    failures: FailureCounters,
    pool: HashPool,
    dummy: Arc<Argon2Hash>,
    max_per_subject: u32,
    max_per_address: u32,
}

/// A fresh argon2id PHC string for `secret` (OWASP parameters: 19 MiB, 2 passes, 1 lane), for
/// user passwords and chosen client secrets.
pub fn hash_secret(secret: &str) -> String {
    super::hash_pool::argon2_phc(secret)
}

/// A fresh keyed-format PHC string for a generated 256-bit secret.
pub fn hash_generated_secret(secret: &str) -> String {
    SecretHash::keyed(secret)
}

impl CredentialVerifier {
    /// Client secrets, with `pool` for their argon2 checks, counting failures in `shared`
    /// (Redis) when given.
    pub fn for_clients(
        settings: &CredentialSettings,
        pool: HashPool,
        shared: Option<SharedCounters>,
    ) -> Self {
        Self::new(Policy::Clients, settings, pool, shared)
    }

    /// User passwords, the same way.
    pub fn for_users(
        settings: &CredentialSettings,
        pool: HashPool,
        shared: Option<SharedCounters>,
    ) -> Self {
        Self::new(Policy::Users, settings, pool, shared)
    }

    fn new(
        policy: Policy,
        settings: &CredentialSettings,
        pool: HashPool,
        shared: Option<SharedCounters>,
    ) -> Self {
        let mut mac_key = [0u8; 16];
        aws_lc_rs::rand::fill(&mut mac_key).expect("the system random source works");
        let secret_cache = |capacity| {
            Cache::builder()
                .max_capacity(capacity)
                .time_to_live(settings.secret_cache_ttl)
                // The keys are PRF outputs already: a multiply spreads them well enough.
                .build_with_hasher(FxBuildHasher)
        };
        Self {
            policy,
            mac_key,
            verified: secret_cache(settings.secret_cache_capacity),
            refused: secret_cache(settings.secret_cache_capacity),
            failures: FailureCounters::new(settings.failure_window, MAX_WINDOWS, shared),
            pool,
            dummy: dummy_hash(),
            max_per_subject: settings.max_failures_per_subject,
            max_per_address: settings.max_failures_per_address,
        }
    }

    /// The cache entry of `presented` for `subject` checked against the `stored` argon2 hash: a
    /// reloaded configuration that changes the hash never finds the old secret's verdict.
    fn cache_key(&self, subject: &str, stored: &[u8], presented: &str) -> CacheKey {
        let mut hasher = SipHasher24::new_with_key(&self.mac_key);
        // Length-prefixed, so no two (subject, hash, secret) triples share an input.
        for part in [subject.as_bytes(), stored] {
            hasher.write(&(part.len() as u64).to_be_bytes());
            hasher.write(part);
        }
        hasher.write(presented.as_bytes());
        hasher.finish128().as_u128()
    }

    /// Checks `presented` for `subject` (a namespaced name such as `client:reports`) against
    /// `hash`; `None` means the subject does not exist.
    pub async fn verify(
        &self,
        subject: &str,
        hash: Option<&SecretHash>,
        presented: &str,
        peer: Option<IpAddr>,
        now: UnixTime,
    ) -> (Verdict, Path) {
        // A digest, so made only when a counter is touched: not for a correct client secret.
        let keys = || Keys {
            subject: ThrottleKey::subject(subject),
            address: peer.map(ThrottleKey::address),
        };
        // Only argon2 verdicts are remembered: a keyed hash is cheap enough to check every time.
        let mut cache_key = None;
        if self.policy == Policy::Users {
            if let Some(SecretHash::Argon2(argon2)) = hash {
                let key = self.cache_key(subject, &argon2.hash, presented);
                if self.verified.contains_key(&key) {
                    return (Verdict::Valid, Path::Cached);
                }
                cache_key = Some(key);
            }
            if let Some(retry_after) = self.exhausted(keys(), now).await {
                return (Verdict::Throttled { retry_after }, Path::Throttled);
            }
        }
        let argon2 = match hash {
            None if self.policy == Policy::Clients => {
                // Only the address is counted: made-up ids would each hold a window.
                return (self.failed(keys(), false, now).await, Path::Unknown);
            }
            None => {
                let verdict = match self.pool.matches(self.dummy.clone(), presented).await {
                    Err(Overloaded { retry_after }) => Verdict::Overloaded { retry_after },
                    Ok(_) => self.failed(keys(), true, now).await,
                };
                return (verdict, Path::Hashed);
            }
            Some(SecretHash::Keyed { .. }) => {
                let verdict = match hash.and_then(|hash| hash.keyed_matches(presented)) {
                    Some(true) => Verdict::Valid,
                    _ => self.failed(keys(), true, now).await,
                };
                return (verdict, Path::Keyed);
            }
            Some(SecretHash::Argon2(argon2)) => argon2,
        };
        let cache_key =
            cache_key.unwrap_or_else(|| self.cache_key(subject, &argon2.hash, presented));
        if self.verified.contains_key(&cache_key) {
            return (Verdict::Valid, Path::Cached);
        }
        if self.refused.contains_key(&cache_key) {
            return (self.failed(keys(), true, now).await, Path::Cached);
        }
        match self.pool.matches(Arc::clone(argon2), presented).await {
            Err(Overloaded { retry_after }) => (Verdict::Overloaded { retry_after }, Path::Shed),
            Ok(true) => {
                self.verified.insert(cache_key, ());
                (Verdict::Valid, Path::Hashed)
            }
            Ok(false) => {
                self.refused.insert(cache_key, ());
                (self.failed(keys(), true, now).await, Path::Hashed)
            }
        }
    }

    /// Counts a failure (of the subject too when `subject_counts`); the answer it gets: 429 once
    /// either count is past its limit, else a plain refusal.
    async fn failed(&self, keys: Keys, subject_counts: bool, now: UnixTime) -> Verdict {
        let mut retry_after = None;
        if subject_counts {
            let count = self.failures.record(keys.subject, now).await;
            if count.failures > self.max_per_subject {
                retry_after = Some(count.retry_after);
            }
        }
        if let Some(address) = keys.address {
            let count = self.failures.record(address, now).await;
            if count.failures > self.max_per_address {
                retry_after = retry_after.max(Some(count.retry_after));
            }
        }
        match retry_after {
            Some(retry_after) => Verdict::Throttled { retry_after },
            None => Verdict::Invalid,
        }
    }

    /// Seconds until the later exhausted window (subject or address) ends, if one is exhausted.
    async fn exhausted(&self, keys: Keys, now: UnixTime) -> Option<u64> {
        let subject = self.failures.count(keys.subject, now).await;
        let by_subject = (subject.failures >= self.max_per_subject).then_some(subject.retry_after);
        let by_address = match keys.address {
            Some(key) => {
                let address = self.failures.count(key, now).await;
                (address.failures >= self.max_per_address).then_some(address.retry_after)
            }
            None => None,
        };
        by_subject.max(by_address)
    }
}

/// The counters one presentation touches.
#[derive(Clone, Copy)]
struct Keys {
    subject: ThrottleKey,
    address: Option<ThrottleKey>,
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
        .await;
    Ok(match (verdict, user) {
        (Verdict::Valid, Some(user)) => PasswordCheck::Valid(user),
        (Verdict::Throttled { retry_after }, _) => PasswordCheck::Throttled { retry_after },
        (Verdict::Overloaded { retry_after }, _) => return Err(overloaded(retry_after)),
        _ => PasswordCheck::Invalid,
    })
}

/// 503 for a check the argon2 pool had no room for: the server's load, not the caller's mistake.
pub fn overloaded(retry_after: u64) -> OAuthError {
    OAuthError::new(
        super::error::ErrorCode::TemporarilyUnavailable,
        "too many secret checks are in progress; retry later",
    )
    .with_status(super::error::status::SERVICE_UNAVAILABLE)
    .with_retry_after(retry_after)
}
