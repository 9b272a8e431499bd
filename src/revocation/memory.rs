//! The single-process backend: moka caches whose entries expire with the tokens they name.
//! Capacity is counted exactly (an eviction listener gives entries back), and a full store
//! refuses: moka is never allowed to evict a live revocation. Access tokens are revoked in the
//! status lists (`status_list.rs`), not here.

use super::RevocationError;
use crate::clock::UnixTime;
use moka::notification::RemovalCause;
use moka::sync::Cache;
use moka::Expiry;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A cached id's expiry: `exp` decides (by the application's clock); `ttl` only tells moka when
/// to reclaim the memory.
#[derive(Debug, Clone, Copy)]
struct Expiring {
    exp: UnixTime,
    ttl: Duration,
}

struct UntilExp;

impl<K> Expiry<K, Expiring> for UntilExp {
    fn expire_after_create(&self, _: &K, value: &Expiring, _: Instant) -> Option<Duration> {
        Some(value.ttl)
    }
}

/// A bounded set of ids, each until its own expiry.
struct ExpiringSet {
    cache: Cache<String, Expiring>,
    live: Arc<AtomicU64>,
    capacity: u64,
    /// When the set last looked for entries expired by the application's clock (which moka,
    /// on its own clock, may not have reclaimed yet).
    last_sweep: Mutex<Option<UnixTime>>,
}

impl ExpiringSet {
    fn new(capacity: u64) -> Self {
        let live = Arc::new(AtomicU64::new(0));
        let released = live.clone();
        let cache = Cache::builder()
            .expire_after(UntilExp)
            .eviction_listener(move |_, _, cause| {
                if cause != RemovalCause::Replaced {
                    released.fetch_sub(1, Ordering::Relaxed);
                }
            })
            .build();
        Self {
            cache,
            live,
            capacity,
            last_sweep: Mutex::new(None),
        }
    }

    /// Makes room held by entries whose `exp` has passed; at most once per second, since it
    /// walks the whole set.
    fn sweep(&self, now: UnixTime) {
        {
            let mut last = self.last_sweep.lock().expect("never poisoned");
            if *last == Some(now) {
                return;
            }
            *last = Some(now);
        }
        for (id, entry) in self.cache.iter() {
            if entry.exp <= now {
                self.cache.invalidate(id.as_str());
            }
        }
        self.cache.run_pending_tasks();
    }

    /// Inserts `id`; `Ok(false)` when it was there already.
    fn insert(&self, id: String, exp: UnixTime, now: UnixTime) -> Result<bool, RevocationError> {
        if self.cache.get(&id).is_some_and(|entry| entry.exp > now) {
            return Ok(false);
        }
        if self.live.load(Ordering::Relaxed) >= self.capacity {
            // Expired entries give their room back only once moka runs its maintenance.
            self.cache.run_pending_tasks();
            if self.live.load(Ordering::Relaxed) >= self.capacity {
                self.sweep(now);
            }
            if self.live.load(Ordering::Relaxed) >= self.capacity {
                return Err(RevocationError::Full);
            }
        }
        let value = Expiring {
            exp,
            ttl: Duration::from_secs((exp - now).max(1) as u64),
        };
        let entry = self.cache.entry(id).or_insert(value);
        if entry.is_fresh() {
            self.live.fetch_add(1, Ordering::Relaxed);
            return Ok(true);
        }
        // Present but expired by the application's clock: it may be used again.
        if entry.value().exp <= now {
            self.cache.insert(entry.key().clone(), value);
            return Ok(true);
        }
        Ok(false)
    }

    fn contains(&self, id: &str, now: UnixTime) -> bool {
        self.cache.get(id).is_some_and(|entry| entry.exp > now)
    }
}

pub struct MemoryStore {
    denylist: ExpiringSet,
    used: ExpiringSet,
}

impl MemoryStore {
    pub fn new(capacity: u64, replay_capacity: u64) -> Self {
        Self {
            denylist: ExpiringSet::new(capacity),
            used: ExpiringSet::new(replay_capacity),
        }
    }

    pub fn revoke(&self, id: &str, exp: UnixTime, now: UnixTime) -> Result<(), RevocationError> {
        self.denylist.insert(id.to_owned(), exp, now).map(|_| ())
    }

    pub fn is_used(&self, key: &str, now: UnixTime) -> bool {
        self.used.contains(key, now)
    }

    pub fn is_revoked(&self, id: &str, now: UnixTime) -> bool {
        self.denylist.contains(id, now)
    }

    pub fn first_use(
        &self,
        key: String,
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
        assert!(store.first_use("code:x".into(), 100, 0).unwrap());
        assert!(!store.first_use("code:x".into(), 100, 50).unwrap());
        assert!(
            store.first_use("code:x".into(), 300, 150).unwrap(),
            "expired: usable"
        );
    }
}
