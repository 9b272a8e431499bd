//! The `jti` replay cache of DPoP proofs (RFC 9449 11.1): each accepted proof's key and `jti`,
//! remembered until the proof's `iat` window has passed, in bounded memory.
//!
//! A full cache refuses the proof instead of evicting an entry: forgetting a live entry would
//! let that proof be replayed. Entries are fixed-size (a 128-bit hash of the key's thumbprint and
//! the `jti`, and an expiry, kept in a map and an expiry heap), so memory is bounded by the
//! capacity whatever the proofs carry. Only proofs that came with a valid token and passed every
//! other check are recorded, so filling the cache takes valid tokens of the issuer.

use super::{CheckedDpopProof, DpopReplayStore};
use crate::clock::UnixTime;
use crate::error::DpopError;
use aws_lc_rs::digest;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

/// What identifies one proof: a hash of the key's thumbprint and the `jti`, so that a `jti` is
/// spent for one key only and never for another client's.
pub(crate) type ReplayKey = [u8; 16];

pub(crate) fn replay_key(jkt: &str, jti: &str) -> ReplayKey {
    let mut context = digest::Context::new(&digest::SHA256);
    context.update(jkt.as_bytes());
    context.update(b"\0");
    context.update(jti.as_bytes());
    let mut key = [0u8; 16];
    key.copy_from_slice(&context.finish().as_ref()[..16]);
    key
}

/// What recording a proof found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Spend {
    First,
    Replayed,
    Full,
}

/// Shards of the cache, each behind its own lock, so that concurrent requests seldom wait on
/// one another; a key's shard is its first byte's low bits.
const SHARDS: usize = 16;

pub(crate) struct ReplayCache {
    capacity: usize,
    /// Entries in all shards together, compared with `capacity`.
    len: AtomicUsize,
    shards: [Mutex<Shard>; SHARDS],
}

#[derive(Default)]
struct Shard {
    /// Key → the last second at which its proof could still be accepted.
    seen: HashMap<ReplayKey, UnixTime>,
    /// The same entries, soonest expiry first, to drop them when they pass.
    by_expiry: BinaryHeap<Reverse<(UnixTime, ReplayKey)>>,
}

impl Shard {
    /// Drops the entries that expired before `now`; how many.
    fn purge(&mut self, now: UnixTime) -> usize {
        let mut dropped = 0;
        while let Some(Reverse((expiry, old))) = self.by_expiry.peek().copied() {
            if expiry >= now {
                break;
            }
            self.by_expiry.pop();
            self.seen.remove(&old);
            dropped += 1;
        }
        dropped
    }
}

impl ReplayCache {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            len: AtomicUsize::new(0),
            shards: std::array::from_fn(|_| Mutex::new(Shard::default())),
        }
    }

    fn shard(&self, index: usize) -> MutexGuard<'_, Shard> {
        // Nothing below can panic while a lock is held, but a poisoned lock would still hold
        // consistent entries: go on with them.
        self.shards[index]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records `key` as used until `expires_at` (inclusive), if it was not already.
    pub fn spend_key(&self, key: ReplayKey, expires_at: UnixTime, now: UnixTime) -> Spend {
        let index = usize::from(key[0]) % SHARDS;
        let mut shard = self.shard(index);
        let dropped = shard.purge(now);
        self.len.fetch_sub(dropped, Ordering::Relaxed);
        if shard.seen.contains_key(&key) {
            return Spend::Replayed;
        }
        if !self.reserve() {
            // Expired entries of other shards may still be counted: drop them all, then
            // decide. Only a full cache comes here, so the sweep costs nothing otherwise.
            drop(shard);
            for other in (0..SHARDS).filter(|other| *other != index) {
                let dropped = self.shard(other).purge(now);
                self.len.fetch_sub(dropped, Ordering::Relaxed);
            }
            shard = self.shard(index);
            if shard.seen.contains_key(&key) {
                return Spend::Replayed;
            }
            if !self.reserve() {
                return Spend::Full;
            }
        }
        shard.seen.insert(key, expires_at);
        shard.by_expiry.push(Reverse((expires_at, key)));
        Spend::First
    }

    /// Takes one place if the cache has one.
    fn reserve(&self) -> bool {
        self.len
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |len| {
                (len < self.capacity).then_some(len + 1)
            })
            .is_ok()
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        let counted = (0..SHARDS).map(|index| self.shard(index).seen.len()).sum();
        assert_eq!(counted, self.len.load(Ordering::Relaxed));
        counted
    }
}

/// The resource server's own store: a full cache refuses the proof (503) rather than forget.
impl DpopReplayStore for ReplayCache {
    type Error = DpopError;

    async fn spend(&self, proof: &CheckedDpopProof, now: UnixTime) -> Result<bool, DpopError> {
        match self.spend_key(replay_key(&proof.jkt, &proof.jti), proof.expires_at, now) {
            Spend::First => Ok(true),
            Spend::Replayed => Ok(false),
            Spend::Full => Err(DpopError::ReplayCacheFull),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_spent_once_until_it_expires() {
        let cache = ReplayCache::new(10);
        let key = replay_key("thumb", "jti-1");
        assert_eq!(cache.spend_key(key, 100, 50), Spend::First);
        assert_eq!(cache.spend_key(key, 100, 100), Spend::Replayed);
        // Another key's jti of the same value is another proof.
        assert_eq!(
            cache.spend_key(replay_key("other", "jti-1"), 100, 50),
            Spend::First
        );
        // Past its expiry it is dropped (and could not be accepted anyway: its iat is too old).
        assert_eq!(cache.spend_key(key, 200, 101), Spend::First);
    }

    #[test]
    fn one_of_many_concurrent_spends_of_a_proof_wins() {
        let cache = ReplayCache::new(1000);
        let outcomes: Vec<Spend> = std::thread::scope(|scope| {
            let spenders: Vec<_> = (0..8)
                .map(|_| scope.spawn(|| cache.spend_key(replay_key("k", "same"), 100, 0)))
                .collect();
            spenders.into_iter().map(|s| s.join().unwrap()).collect()
        });
        let first = outcomes.iter().filter(|o| **o == Spend::First).count();
        let replayed = outcomes.iter().filter(|o| **o == Spend::Replayed).count();
        assert_eq!((first, replayed), (1, 7));
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn a_full_cache_refuses_and_frees_room_as_entries_expire() {
        let cache = ReplayCache::new(2);
        assert_eq!(cache.spend_key(replay_key("k", "1"), 10, 0), Spend::First);
        assert_eq!(cache.spend_key(replay_key("k", "2"), 20, 0), Spend::First);
        assert_eq!(cache.spend_key(replay_key("k", "3"), 20, 0), Spend::Full);
        // A replay is still told apart from a full cache.
        assert_eq!(
            cache.spend_key(replay_key("k", "1"), 10, 5),
            Spend::Replayed
        );
        assert_eq!(cache.spend_key(replay_key("k", "3"), 30, 11), Spend::First);
        assert_eq!(cache.spend_key(replay_key("k", "4"), 30, 11), Spend::Full);
        // The count stays exact through the sweeps (len checks it against the shards).
        assert_eq!(cache.len(), 2);
    }
}
