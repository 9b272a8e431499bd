//! The only mutable state of the issuer, small and bounded by token lifetimes:
//! - the status lists (IETF Token Status List): a bit per access token, set when it is revoked,
//!   served to resource servers that verify offline (`status_list.rs`);
//! - the denylist: ids that revoke many tokens at once (refresh-token families), each kept until
//!   the last token it names expires;
//! - the replay cache: ids that may be used once (assertion `jti`s, authorization codes, spent
//!   refresh tokens), each kept until it expires.
//!
//! Two backends: memory (one process) and Redis (replicas share it). A revocation is never
//! forgotten while live: a full store refuses new entries instead of evicting old ones, and an
//! unreachable Redis makes every question that needs it fail closed.

mod device;
mod device_memory;
mod device_redis;
mod memory;
mod redis_conn;
mod redis_status;
mod redis_store;
pub mod status_list;
mod throttle;

use crate::clock::UnixTime;
use crate::oauth::ReplayKind;
use crate::settings::{RevocationBackend, RevocationSettings};
pub use device::{DeviceState, PendingDevice, Poll};
pub use memory::MemoryStore;
pub use redis_conn::{display_address, RedisConn, RedisHealth};
pub use redis_store::RedisStore;
use status_list::{Layout, ListId, MemoryStatusLists, Snapshot, StatusRef};
pub use throttle::{FailureCount, FailureCounters, SharedCounters, ThrottleKey};

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

// One per process: its size does not matter, a pointer chase on every call would.
#[allow(clippy::large_enum_variant)]
pub enum Revocations {
    Memory(MemoryStore, MemoryStatusLists),
    Redis(RedisStore),
}

impl Revocations {
    /// The backend of `settings`, with status lists cut as `layout` says.
    pub fn new(settings: &RevocationSettings, layout: Layout) -> Result<Self, String> {
        Ok(match &settings.backend {
            RevocationBackend::Memory => Revocations::Memory(
                MemoryStore::new(settings.capacity, settings.replay_capacity),
                // The memory backend's lists are this process's own: a fresh epoch per start.
                MemoryStatusLists::new(layout, status_list::random_epoch()),
            ),
            RevocationBackend::Redis {
                target,
                key_prefix,
                tls_ca,
            } => Revocations::Redis(RedisStore::new(target, tls_ca.clone(), key_prefix, layout)?),
        })
    }

    /// Puts `id` on the denylist until `exp`. Revoking twice is fine; an expired id needs nothing.
    pub async fn revoke(
        &self,
        id: &str,
        exp: UnixTime,
        now: UnixTime,
    ) -> Result<(), RevocationError> {
        if exp <= now {
            return Ok(());
        }
        match self {
            Revocations::Memory(store, _) => store.revoke(id, exp, now),
            Revocations::Redis(store) => store.revoke(id, exp).await,
        }
    }

    /// Whether `id` is on the denylist.
    pub async fn is_revoked(&self, id: &str, now: UnixTime) -> Result<bool, RevocationError> {
        match self {
            Revocations::Memory(store, _) => Ok(store.is_revoked(id, now)),
            Revocations::Redis(store) => store.is_revoked(id, now).await,
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
            Revocations::Memory(store, _) => store.first_use(&key, exp, now),
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
            Revocations::Memory(store, _) => Ok(store.is_used(&key, now)),
            Revocations::Redis(store) => store.is_used(&key).await,
        }
    }

    /// The status-list entry of a new access token.
    pub async fn allocate_status(&self, now: UnixTime) -> Result<StatusRef, RevocationError> {
        match self {
            Revocations::Memory(_, lists) => Ok(lists.allocate(now)),
            Revocations::Redis(store) => store.allocate_status(now).await,
        }
    }

    /// Sets the token's bit in its status list.
    pub async fn revoke_status(
        &self,
        status: &StatusRef,
        now: UnixTime,
    ) -> Result<(), RevocationError> {
        match self {
            Revocations::Memory(_, lists) => {
                lists.revoke(status, now);
                Ok(())
            }
            Revocations::Redis(store) => store.revoke_status(status).await,
        }
    }

    /// Whether the token's bit is set.
    pub async fn is_status_revoked(&self, status: &StatusRef) -> Result<bool, RevocationError> {
        match self {
            Revocations::Memory(_, lists) => Ok(lists.is_revoked(status)),
            Revocations::Redis(store) => store.is_status_revoked(status).await,
        }
    }

    /// A list's bits, unless its version is `known` (then `None`: nothing changed).
    pub async fn status_snapshot(
        &self,
        id: &ListId,
        known: Option<u64>,
    ) -> Result<Option<Snapshot>, RevocationError> {
        match self {
            Revocations::Memory(_, lists) => {
                let snapshot = lists.snapshot(id);
                Ok((known != Some(snapshot.version)).then_some(snapshot))
            }
            Revocations::Redis(store) => store.status_snapshot(id, known).await,
        }
    }

    /// The status lists served at `now` (the aggregation endpoint).
    pub async fn served_lists(&self, now: UnixTime) -> Result<Vec<ListId>, RevocationError> {
        match self {
            Revocations::Memory(_, lists) => Ok(lists.served_lists(now)),
            Revocations::Redis(store) => store.served_lists(now).await,
        }
    }

    /// Throttle counters of `kind` (`client`, `user`) shared through Redis, with that backend.
    pub fn shared_counters(&self, kind: &str) -> Option<SharedCounters> {
        match self {
            Revocations::Memory(..) => None,
            Revocations::Redis(store) => Some(SharedCounters::new(
                store.conn().clone(),
                format!("{}:throttle:{kind}", store.prefix()),
            )),
        }
    }

    /// What the state lives in, for the startup log.
    pub fn describe(&self) -> String {
        match self {
            Revocations::Memory(..) => "memory (this process only)".to_owned(),
            Revocations::Redis(store) => format!("Redis at {}", store.conn().target().describe()),
        }
    }

    /// The Redis connection's health, with the Redis backend.
    pub fn redis_health(&self) -> Option<RedisHealth> {
        match self {
            Revocations::Memory(..) => None,
            Revocations::Redis(store) => Some(store.conn().health()),
        }
    }

    /// Whether the shared store answers now: always with memory, a PING with Redis.
    pub async fn reachable(&self) -> bool {
        match self {
            Revocations::Memory(..) => true,
            Revocations::Redis(store) => store.conn().ping().await,
        }
    }

    /// Live denylist entries (memory backend) for metrics and capacity checks.
    pub fn live_entries(&self) -> Option<u64> {
        match self {
            Revocations::Memory(store, _) => Some(store.live_entries()),
            Revocations::Redis(_) => None,
        }
    }
}
