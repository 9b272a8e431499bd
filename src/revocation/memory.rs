//! The single-process backend: ids that expire with the tokens they name, counted exactly, and a
//! full store refuses rather than forget a live entry. Access tokens are revoked in the status
//! lists (`status_list.rs`), not here.
//!
//! An id is kept as a 64-bit keyed hash (SipHash under a per-process random key) with its
//! expiry: 8 + 8 bytes and a bucket of an expiry index, whatever the id's length. Two ids that
//! hash alike only ever make the store answer "revoked" or "used" for the second: a refusal,
//! never an acceptance, and a random key means no one can aim for it.

use super::RevocationError;
use crate::clock::UnixTime;
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Shards, so workers rarely wait for each other.
const SHARDS: usize = 16;

/// The keyed hashes are already uniform: the maps use them as they are.
#[derive(Default)]
struct Identity(u64);

impl Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, _: &[u8]) {
        unreachable!("only u64 keys are hashed")
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

#[derive(Default)]
struct Shard {
    expiries: HashMap<u64, UnixTime, BuildHasherDefault<Identity>>,
    /// The ids that expire at each second, to give their room back.
    by_expiry: BTreeMap<UnixTime, Vec<u64>>,
    swept_at: UnixTime,
}

impl Shard {
    /// Forgets what expired by `now` (once per second).
    fn sweep(&mut self, now: UnixTime, live: &AtomicU64) {
        if self.swept_at == now {
            return;
        }
        self.swept_at = now;
        while let Some(entry) = self.by_expiry.first_entry() {
            if *entry.key() > now {
                break;
            }
            let (exp, ids) = entry.remove_entry();
            for id in ids {
                // Unless it was used again since, with a later expiry.
                if self.expiries.get(&id) == Some(&exp) {
                    self.expiries.remove(&id);
                    live.fetch_sub(1, Ordering::Relaxed);
                }
            }
        }
    }
}

/// A bounded set of ids, each until its own expiry.
struct ExpiringSet {
    keys: RandomState,
    shards: Box<[Mutex<Shard>]>,
    live: AtomicU64,
    capacity: u64,
}

impl ExpiringSet {
    fn new(capacity: u64) -> Self {
        Self {
            keys: RandomState::new(),
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            live: AtomicU64::new(0),
            capacity,
        }
    }

    fn locate(&self, id: &str) -> (u64, std::sync::MutexGuard<'_, Shard>) {
        let hash = self.keys.hash_one(id);
        let shard = self.shards[hash as usize % SHARDS]
            .lock()
            .expect("never poisoned");
        (hash, shard)
    }

    /// Inserts `id` until `exp`; `Ok(false)` when it was there already.
    fn insert(&self, id: &str, exp: UnixTime, now: UnixTime) -> Result<bool, RevocationError> {
        let (hash, mut shard) = self.locate(id);
        shard.sweep(now, &self.live);
        if shard.expiries.get(&hash).is_some_and(|known| *known > now) {
            return Ok(false);
        }
        if self.live.load(Ordering::Relaxed) >= self.capacity {
            // Other shards may hold expired entries not swept yet.
            drop(shard);
            for other in self.shards.iter() {
                other.lock().expect("never poisoned").sweep(now, &self.live);
            }
            if self.live.load(Ordering::Relaxed) >= self.capacity {
                return Err(RevocationError::Full);
            }
            shard = self.locate(id).1;
        }
        if shard.expiries.insert(hash, exp).is_none() {
            self.live.fetch_add(1, Ordering::Relaxed);
        }
        shard.by_expiry.entry(exp).or_default().push(hash);
        Ok(true)
    }

    fn contains(&self, id: &str, now: UnixTime) -> bool {
        let (hash, shard) = self.locate(id);
        shard.expiries.get(&hash).is_some_and(|exp| *exp > now)
    }
}

pub struct MemoryStore {
    /// The device flow's pending authorizations (`device_memory.rs`).
    pub(super) devices: super::device_memory::DeviceTable,
    denylist: ExpiringSet,
    used: ExpiringSet,
}

impl MemoryStore {
    pub fn new(capacity: u64, replay_capacity: u64) -> Self {
        Self {
            devices: super::device_memory::DeviceTable::new(replay_capacity),
            denylist: ExpiringSet::new(capacity),
            used: ExpiringSet::new(replay_capacity),
        }
    }

    pub fn revoke(&self, id: &str, exp: UnixTime, now: UnixTime) -> Result<(), RevocationError> {
        self.denylist.insert(id, exp, now).map(|_| ())
    }

    pub fn is_used(&self, key: &str, now: UnixTime) -> bool {
        self.used.contains(key, now)
    }

    pub fn is_revoked(&self, id: &str, now: UnixTime) -> bool {
        self.denylist.contains(id, now)
    }

    pub fn first_use(
        &self,
        key: &str,
        exp: UnixTime,
        now: UnixTime,
    ) -> Result<bool, RevocationError> {
        self.used.insert(key, exp.max(now + 1), now)
    }

    pub fn live_entries(&self) -> u64 {
        self.denylist.live.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_store_refuses_instead_of_forgetting() {
        let store = MemoryStore::new(2, 2);
        store.revoke("a", 1000, 0).unwrap();
        store.revoke("b", 1000, 0).unwrap();
        store.revoke("a", 1000, 0).unwrap(); // again: no new room needed
        assert_eq!(store.revoke("c", 1000, 0), Err(RevocationError::Full));
        assert!(store.is_revoked("a", 10) && store.is_revoked("b", 10));
        assert!(!store.is_revoked("c", 10));
    }

    #[test]
    fn entries_end_with_their_tokens() {
        let store = MemoryStore::new(10, 10);
        store.revoke("a", 100, 0).unwrap();
        assert!(store.is_revoked("a", 99));
        assert!(!store.is_revoked("a", 100));
        assert!(store.first_use("code:x", 100, 0).unwrap());
        assert!(!store.first_use("code:x", 100, 50).unwrap());
        assert!(
            store.first_use("code:x", 300, 150).unwrap(),
            "expired: usable"
        );
    }
}
