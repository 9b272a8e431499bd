//! The only mutable state of the issuer, small and bounded by token lifetimes:
//! - the denylist: revoked token ids, each kept until the token it names expires;
//! - the revocation feed: the same entries in revocation order, for resource servers that verify
//!   offline and poll `GET /oauth2/revocations`;
//! - the replay cache: ids that may be used once (assertion `jti`s, authorization codes, spent
//!   refresh tokens), each kept until it expires.
//!
//! Two backends: memory (one process) and Redis (replicas share it). A revocation is never
//! forgotten while live: a full store refuses new entries instead of evicting old ones, and an
//! unreachable Redis makes every question that needs it fail closed.

mod memory;
mod redis_store;
mod throttle;

use crate::clock::UnixTime;
use crate::oauth::ReplayKind;
use crate::settings::{RevocationBackend, RevocationSettings};
pub use memory::MemoryStore;
pub use redis_store::RedisStore;
pub use throttle::{FailureCount, FailureCounters, ThrottleKey};

/// Why the revocation state could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RevocationError {
    /// The store holds its configured number of live entries.
    #[error("the revocation store is full")]
    Full,
    /// The shared store could not be reached; the answer is unknown.
    #[error("the revocation store is unavailable: {0}")]
    Unavailable(String),
}

/// One revoked token in the feed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FeedEntry {
    pub jti: String,
    pub exp: UnixTime,
}

/// A page of the revocation feed after a cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedPage {
    pub entries: Vec<FeedEntry>,
    /// The cursor to ask from next time.
    pub next: u64,
    pub more: bool,
}

pub enum Revocations {
    Memory(MemoryStore),
    Redis(RedisStore),
}

impl Revocations {
    pub fn new(settings: &RevocationSettings) -> Result<Self, String> {
        Ok(match &settings.backend {
            RevocationBackend::Memory => Revocations::Memory(MemoryStore::new(
                settings.capacity,
                settings.replay_capacity,
            )),
            RevocationBackend::Redis { url, key_prefix } => {
                Revocations::Redis(RedisStore::new(url, key_prefix)?)
            }
        })
    }

    /// Puts `jti` on the denylist until `exp`. Revoking twice is fine; an expired token needs
    /// nothing.
    pub async fn revoke(
        &self,
        jti: &str,
        exp: UnixTime,
        now: UnixTime,
    ) -> Result<(), RevocationError> {
        if exp <= now {
            return Ok(());
        }
        match self {
            Revocations::Memory(store) => store.revoke(jti, exp, now),
            Revocations::Redis(store) => store.revoke(jti, exp, now).await,
        }
    }

    /// Puts `id` on the denylist until `exp` without listing it in the feed: for ids that only
    /// the issuer checks (refresh token families).
    pub async fn revoke_unlisted(
        &self,
        id: &str,
        exp: UnixTime,
        now: UnixTime,
    ) -> Result<(), RevocationError> {
        if exp <= now {
            return Ok(());
        }
        match self {
            Revocations::Memory(store) => store.revoke_unlisted(id, exp, now),
            Revocations::Redis(store) => store.revoke_unlisted(id, exp).await,
        }
    }

    /// Whether `jti` is on the denylist.
    pub async fn is_revoked(&self, jti: &str, now: UnixTime) -> Result<bool, RevocationError> {
        match self {
            Revocations::Memory(store) => Ok(store.is_revoked(jti, now)),
            Revocations::Redis(store) => store.is_revoked(jti, now).await,
        }
    }

    /// Records the single use of `id` (of `kind`) until `exp`; `false` when it was used before.
    pub async fn first_use(
        &self,
        kind: ReplayKind,
        id: &str,
        exp: UnixTime,
        now: UnixTime,
    ) -> Result<bool, RevocationError> {
        let key = format!("{}:{id}", kind.namespace());
        match self {
            Revocations::Memory(store) => store.first_use(key, exp, now),
            Revocations::Redis(store) => store.first_use(&key, exp.max(now + 1)).await,
        }
    }

    /// Whether `id` (of `kind`) was used already, without using it.
    pub async fn is_used(
        &self,
        kind: ReplayKind,
        id: &str,
        now: UnixTime,
    ) -> Result<bool, RevocationError> {
        let key = format!("{}:{id}", kind.namespace());
        match self {
            Revocations::Memory(store) => Ok(store.is_used(&key, now)),
            Revocations::Redis(store) => store.is_used(&key).await,
        }
    }

    /// Revocations after `since`, at most `limit`, expired ones left out.
    pub async fn feed(
        &self,
        since: u64,
        limit: usize,
        now: UnixTime,
    ) -> Result<FeedPage, RevocationError> {
        match self {
            Revocations::Memory(store) => Ok(store.feed(since, limit, now)),
            Revocations::Redis(store) => store.feed(since, limit, now).await,
        }
    }

    /// Live denylist entries (memory backend) for metrics and capacity checks.
    pub fn live_entries(&self) -> Option<u64> {
        match self {
            Revocations::Memory(store) => Some(store.live_entries()),
            Revocations::Redis(_) => None,
        }
    }
}
