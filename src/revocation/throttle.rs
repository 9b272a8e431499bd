//! Failed-authentication counters: how many times a subject (a client or a username) or a
//! source address failed within the current window. Keys are fixed-size digests, so names an
//! attacker makes up cost the same few bytes however long they are; the number of windows held
//! is bounded and the oldest go first.
//!
//! With Redis configured the counters are shared by every replica (one key per window, expiring
//! with it); while Redis cannot be reached each replica counts on its own rather than refuse
//! anyone.

use super::redis_conn::RedisConn;
use crate::clock::UnixTime;
use moka::sync::Cache;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// What is counted: a digest of the subject's name, or an address (IPv6 by its /64, the block
/// one host usually holds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ThrottleKey {
    Subject([u8; 32]),
    Address(IpAddr),
}

impl ThrottleKey {
    /// `subject`, namespaced (`client:reports`, `user:alice`), as a digest.
    pub fn subject(subject: &str) -> Self {
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, subject.as_bytes());
        let mut key = [0u8; 32];
        key.copy_from_slice(digest.as_ref());
        ThrottleKey::Subject(key)
    }

    pub fn address(address: IpAddr) -> Self {
        ThrottleKey::Address(match address {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => {
                    let bits = u128::from(v6) & !((1u128 << 64) - 1);
                    IpAddr::V6(bits.into())
                }
            },
            v4 => v4,
        })
    }
}

/// Failures of one key in one window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureCount {
    pub failures: u32,
    /// Seconds until the window ends (at least 1).
    pub retry_after: u64,
}

struct Window {
    started_at: UnixTime,
    failures: AtomicU32,
}

/// KEYS: the window's counter. ARGV: the window in seconds. Counts one failure.
const RECORD: &str = r#"
local failures = redis.call('INCR', KEYS[1])
if failures == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return {failures, redis.call('TTL', KEYS[1])}
"#;

/// KEYS: the window's counter. The failures so far and the seconds left.
const COUNT: &str = r#"
local failures = redis.call('GET', KEYS[1])
if not failures then return {0, 1} end
return {tonumber(failures), redis.call('TTL', KEYS[1])}
"#;

/// Counters in Redis, under `prefix`.
#[derive(Clone)]
pub struct SharedCounters {
    conn: Arc<RedisConn>,
    prefix: String,
}

impl SharedCounters {
    pub fn new(conn: Arc<RedisConn>, prefix: String) -> Self {
        Self { conn, prefix }
    }

    fn key(&self, key: ThrottleKey) -> String {
        match key {
            ThrottleKey::Subject(digest) => {
                let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
                format!("{}:s:{hex}", self.prefix)
            }
            ThrottleKey::Address(address) => format!("{}:a:{address}", self.prefix),
        }
    }

    async fn run(&self, script: &str, key: ThrottleKey, window_secs: i64) -> Option<FailureCount> {
        let mut connection = self.conn.connection().await.ok()?;
        let (failures, ttl): (u32, i64) = redis::Script::new(script)
            .key(self.key(key))
            .arg(window_secs)
            .invoke_async(&mut connection)
            .await
            .ok()?;
        Some(FailureCount {
            failures,
            retry_after: ttl.max(1) as u64,
        })
    }
}

/// The counters of one kind of subject (clients or users).
pub struct FailureCounters {
    windows: Cache<ThrottleKey, Arc<Window>>,
    window_secs: i64,
    shared: Option<SharedCounters>,
}

impl FailureCounters {
    /// Counters of this process, at most `capacity` windows; in Redis too when `shared`.
    pub fn new(window: Duration, capacity: u64, shared: Option<SharedCounters>) -> Self {
        Self {
            windows: Cache::builder()
                .max_capacity(capacity)
                .time_to_live(window)
                .build(),
            window_secs: window.as_secs() as i64,
            shared,
        }
    }

    /// Counts one more failure of `key`; the count after it.
    pub async fn record(&self, key: ThrottleKey, now: UnixTime) -> FailureCount {
        if let Some(shared) = &self.shared {
            if let Some(count) = shared.run(RECORD, key, self.window_secs).await {
                return count;
            }
        }
        self.record_here(key, now)
    }

    /// The failures of `key` in its current window.
    pub async fn count(&self, key: ThrottleKey, now: UnixTime) -> FailureCount {
        if let Some(shared) = &self.shared {
            if let Some(count) = shared.run(COUNT, key, self.window_secs).await {
                return count;
            }
        }
        self.count_here(key, now)
    }

    fn count_of(&self, window: &Window, now: UnixTime) -> FailureCount {
        FailureCount {
            failures: window.failures.load(Ordering::Relaxed),
            retry_after: (window.started_at + self.window_secs - now).max(1) as u64,
        }
    }

    fn record_here(&self, key: ThrottleKey, now: UnixTime) -> FailureCount {
        let window = self.windows.get_with(key, || {
            Arc::new(Window {
                started_at: now,
                failures: AtomicU32::new(0),
            })
        });
        window.failures.fetch_add(1, Ordering::Relaxed);
        self.count_of(&window, now)
    }

    fn count_here(&self, key: ThrottleKey, now: UnixTime) -> FailureCount {
        match self.windows.get(&key) {
            Some(window) => self.count_of(&window, now),
            None => FailureCount {
                failures: 0,
                retry_after: 1,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn failures_count_per_key_and_ipv6_by_its_64() {
        let counters = FailureCounters::new(Duration::from_secs(60), 100, None);
        let a: IpAddr = "2001:db8::1".parse().unwrap();
        let b: IpAddr = "2001:db8::ffff:2".parse().unwrap();
        counters.record(ThrottleKey::address(a), 100).await;
        let count = counters.record(ThrottleKey::address(b), 130).await;
        assert_eq!(
            count,
            FailureCount {
                failures: 2,
                retry_after: 30
            }
        );
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(
            ThrottleKey::address(mapped),
            ThrottleKey::address("10.0.0.1".parse().unwrap())
        );
        let x = ThrottleKey::subject("client:x");
        assert_eq!(counters.count(x, 100).await.failures, 0);
        counters.record(x, 100).await;
        assert_eq!(counters.count(x, 100).await.failures, 1);
        let y = ThrottleKey::subject("client:y");
        assert_eq!(counters.count(y, 100).await.failures, 0);
    }
}
