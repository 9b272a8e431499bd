//! The one place argon2 runs: a pool of at most `workers` concurrent checks, each in a memory
//! arena that is reused while checks keep coming and handed back to the system when the pool
//! falls idle. A request that would wait past `queue` others, or longer than `wait`, is shed
//! (`Overloaded`) instead: a flood of guesses costs at most `workers` cores and `workers` arenas,
//! never a thread and 19 MiB per request.

use crate::registry::Argon2Hash;
use crate::settings::ServerSettings;
use argon2::{Algorithm, Argon2, Block};
use memmap2::MmapMut;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;

/// The pool is full: try again in this many seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overloaded {
    pub retry_after: u64,
}

const SHED: Overloaded = Overloaded { retry_after: 1 };

/// argon2's working memory, mapped on its own so that dropping it returns it to the system
/// (a heap allocation this large would stay in the allocator's arenas).
struct Arena {
    map: MmapMut,
}

impl Arena {
    fn new(blocks: usize) -> std::io::Result<Self> {
        Ok(Self {
            map: MmapMut::map_anon(blocks * Block::SIZE)?,
        })
    }

    fn capacity(&self) -> usize {
        self.map.len() / Block::SIZE
    }

    fn blocks(&mut self, count: usize) -> &mut [Block] {
        assert!(count <= self.capacity());
        // SAFETY: the mapping is page-aligned (Block asks for 64), at least `count` blocks long,
        // zero-filled or left by earlier runs, and a Block is plain `u64`s, valid for any bits.
        // The slice borrows `self` mutably, so nothing else reads or maps it meanwhile.
        unsafe { std::slice::from_raw_parts_mut(self.map.as_mut_ptr().cast::<Block>(), count) }
    }
}

struct Inner {
    permits: Arc<Semaphore>,
    arenas: Mutex<Vec<Arena>>,
    /// Checks waiting or running.
    pending: AtomicUsize,
    max_pending: usize,
    wait: Duration,
}

/// Counts a check as pending until dropped; the last one out frees the arenas.
struct Pending(Arc<Inner>);

impl Drop for Pending {
    fn drop(&mut self) {
        if self.0.pending.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0
                .arenas
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clear();
        }
    }
}

#[derive(Clone)]
pub struct HashPool {
    inner: Arc<Inner>,
}

impl HashPool {
    pub fn new(settings: &ServerSettings) -> Self {
        let workers = settings.argon2_workers.max(1);
        Self {
            inner: Arc::new(Inner {
                permits: Arc::new(Semaphore::new(workers)),
                arenas: Mutex::new(Vec::with_capacity(workers)),
                pending: AtomicUsize::new(0),
                max_pending: workers + settings.argon2_queue,
                wait: settings.argon2_wait,
            }),
        }
    }

    /// Whether `presented` is the secret `hash` was made from, checked on the pool.
    pub async fn matches(
        &self,
        hash: Arc<Argon2Hash>,
        presented: &str,
    ) -> Result<bool, Overloaded> {
        let inner = &self.inner;
        let pending = Pending(Arc::clone(inner));
        if inner.pending.fetch_add(1, Ordering::AcqRel) >= inner.max_pending {
            return Err(SHED);
        }
        let permit = tokio::time::timeout(inner.wait, Arc::clone(&inner.permits).acquire_owned())
            .await
            .map_err(|_| SHED)?
            .map_err(|_| SHED)?;
        let presented = presented.to_owned();
        let worker = Arc::clone(inner);
        // The permit and the pending count go with the work: a request given up mid-check
        // still holds its place until argon2 is done.
        tokio::task::spawn_blocking(move || {
            let _pending = pending;
            let _permit = permit;
            worker.check(&hash, presented.as_bytes())
        })
        .await
        .map_err(|_| SHED)?
    }

    /// Arenas kept for reuse now (for tests: none once the pool is idle).
    pub fn kept_arenas(&self) -> usize {
        self.inner
            .arenas
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }
}

impl Inner {
    fn check(&self, hash: &Argon2Hash, presented: &[u8]) -> Result<bool, Overloaded> {
        let count = hash.params.block_count();
        let reused = self
            .arenas
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()
            .filter(|arena| arena.capacity() >= count);
        let mut arena = match reused {
            Some(arena) => arena,
            None => Arena::new(count).map_err(|_| SHED)?,
        };
        let mut out = vec![0u8; hash.hash.len()];
        let computed = Argon2::new(Algorithm::Argon2id, hash.version, hash.params.clone())
            .hash_password_into_with_memory(presented, &hash.salt, &mut out, arena.blocks(count));
        self.arenas
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(arena);
        Ok(computed.is_ok() && bool::from(out.ct_eq(&hash.hash)))
    }
}

/// A fresh argon2id PHC string for `secret` (OWASP parameters: 19 MiB, 2 passes, 1 lane), for
/// user passwords and chosen client secrets.
pub fn argon2_phc(secret: &str) -> String {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let mut salt = [0u8; 16];
    aws_lc_rs::rand::fill(&mut salt).expect("the system random source works");
    let salt = SaltString::encode_b64(&salt).expect("16 bytes is a valid salt");
    Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .expect("argon2 with default parameters hashes")
        .to_string()
}

/// A hash with the default parameters that no secret matches, checked for subjects that do not
/// exist so that they take as long as a wrong secret. Made without hashing anything.
pub fn dummy_hash() -> Arc<Argon2Hash> {
    let mut salt = vec![0u8; 16];
    let mut hash = vec![0u8; 32];
    aws_lc_rs::rand::fill(&mut salt).expect("the system random source works");
    aws_lc_rs::rand::fill(&mut hash).expect("the system random source works");
    let params = argon2::Params::new(
        argon2::Params::DEFAULT_M_COST,
        argon2::Params::DEFAULT_T_COST,
        argon2::Params::DEFAULT_P_COST,
        Some(hash.len()),
    )
    .expect("the default parameters are valid");
    Arc::new(Argon2Hash {
        params,
        version: argon2::Version::V0x13,
        salt,
        hash,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::SecretHash;

    fn pool(workers: usize, queue: usize) -> HashPool {
        let mut settings = crate::settings::Settings::with_issuer("https://i.test")
            .unwrap()
            .server;
        settings.argon2_workers = workers;
        settings.argon2_queue = queue;
        HashPool::new(&settings)
    }

    fn argon2(secret: &str) -> Arc<Argon2Hash> {
        match SecretHash::parse(&argon2_phc(secret), "test").unwrap() {
            SecretHash::Argon2(hash) => hash,
            SecretHash::Keyed { .. } => unreachable!(),
        }
    }

    #[tokio::test]
    async fn checks_match_reuse_arenas_and_free_them_when_idle() {
        let pool = pool(2, 4);
        let hash = argon2("right");
        assert_eq!(pool.matches(hash.clone(), "right").await, Ok(true));
        assert_eq!(pool.matches(hash.clone(), "wrong").await, Ok(false));
        assert_eq!(pool.matches(dummy_hash(), "right").await, Ok(false));
        assert_eq!(pool.kept_arenas(), 0, "an idle pool keeps no memory");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn past_the_queue_checks_are_shed() {
        let pool = pool(1, 1);
        let hash = argon2("right");
        let checks: Vec<_> = (0..6)
            .map(|_| {
                let (pool, hash) = (pool.clone(), hash.clone());
                tokio::spawn(async move { pool.matches(hash, "right").await })
            })
            .collect();
        let mut matched = 0;
        let mut shed = 0;
        for check in checks {
            match check.await.unwrap() {
                Ok(true) => matched += 1,
                Err(Overloaded { retry_after: 1 }) => shed += 1,
                other => panic!("{other:?}"),
            }
        }
        assert!(matched >= 1 && shed >= 1, "{matched} matched, {shed} shed");
        assert_eq!(pool.kept_arenas(), 0);
    }
}
