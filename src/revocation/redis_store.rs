//! The shared backend for replicas: Redis, through one multiplexed connection that reconnects
//! by itself. Entries expire in Redis with the tokens they name (`EXAT`). Known revocations are
//! also cached locally (a revocation never comes undone); "not revoked" is never cached, so
//! every replica sees a revocation made on any other at once.

use super::{FeedEntry, FeedPage, RevocationError};
use crate::clock::UnixTime;
use moka::sync::Cache;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::AsyncCommands;
use std::time::Duration;
use tokio::sync::OnceCell;

/// Atomically: the denylist entry (until the token's `exp`), then, if it is new, a feed entry
/// under the next sequence number, indexed by `exp` too so expired entries are pruned (a
/// hundred at a time, on each revocation).
/// KEYS: denylist key, sequence, feed by sequence, feed by expiry.
/// ARGV: exp, feed member ("exp jti"), now.
const REVOKE_SCRIPT: &str = r#"
local old = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', ARGV[3], 'LIMIT', 0, 100)
if #old > 0 then
  redis.call('ZREM', KEYS[3], unpack(old))
  redis.call('ZREM', KEYS[4], unpack(old))
end
if redis.call('SET', KEYS[1], ARGV[1], 'EXAT', ARGV[1], 'NX') then
  local seq = redis.call('INCR', KEYS[2])
  redis.call('ZADD', KEYS[3], seq, ARGV[2])
  redis.call('ZADD', KEYS[4], ARGV[1], ARGV[2])
  return seq
end
return 0
"#;

pub struct RedisStore {
    client: redis::Client,
    connection: OnceCell<ConnectionManager>,
    prefix: String,
    revoke: redis::Script,
    known_revoked: Cache<String, UnixTime>,
}

pub(super) fn unavailable(err: redis::RedisError) -> RevocationError {
    RevocationError::Unavailable(err.to_string())
}

impl RedisStore {
    pub fn new(url: &str, prefix: &str) -> Result<Self, String> {
        let client = redis::Client::open(url).map_err(|err| format!("bad Redis URL: {err}"))?;
        Ok(Self {
            client,
            connection: OnceCell::new(),
            prefix: prefix.to_owned(),
            revoke: redis::Script::new(REVOKE_SCRIPT),
            known_revoked: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(Duration::from_secs(3600))
                .build(),
        })
    }

    /// The shared connection, made on first use; if Redis is down, the next call tries again.
    pub(super) async fn connection(&self) -> Result<ConnectionManager, RevocationError> {
        self.connection
            .get_or_try_init(|| async {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(Duration::from_millis(500)))
                    .set_response_timeout(Some(Duration::from_millis(500)))
                    .set_number_of_retries(1);
                ConnectionManager::new_with_config(self.client.clone(), config).await
            })
            .await
            .cloned()
            .map_err(unavailable)
    }

    pub(super) fn key(&self, kind: &str, id: &str) -> String {
        format!("{}:{kind}:{id}", self.prefix)
    }

    pub async fn revoke(
        &self,
        jti: &str,
        exp: UnixTime,
        now: UnixTime,
    ) -> Result<(), RevocationError> {
        let mut connection = self.connection().await?;
        let _: i64 = self
            .revoke
            .key(self.key("revoked", jti))
            .key(self.key("feed", "seq"))
            .key(self.key("feed", "entries"))
            .key(self.key("feed", "expiry"))
            .arg(exp)
            .arg(format!("{exp} {jti}"))
            .arg(now)
            .invoke_async(&mut connection)
            .await
            .map_err(unavailable)?;
        self.known_revoked.insert(jti.to_owned(), exp);
        Ok(())
    }

    pub async fn revoke_unlisted(&self, id: &str, exp: UnixTime) -> Result<(), RevocationError> {
        let mut connection = self.connection().await?;
        let _: Option<String> = redis::cmd("SET")
            .arg(self.key("revoked", id))
            .arg(exp)
            .arg("EXAT")
            .arg(exp)
            .arg("NX")
            .query_async(&mut connection)
            .await
            .map_err(unavailable)?;
        self.known_revoked.insert(id.to_owned(), exp);
        Ok(())
    }

    pub async fn is_used(&self, key: &str) -> Result<bool, RevocationError> {
        let mut connection = self.connection().await?;
        connection
            .exists(self.key("used", key))
            .await
            .map_err(unavailable)
    }

    pub async fn is_revoked(&self, jti: &str, now: UnixTime) -> Result<bool, RevocationError> {
        if self.known_revoked.get(jti).is_some_and(|exp| exp > now) {
            return Ok(true);
        }
        let mut connection = self.connection().await?;
        let exp: Option<UnixTime> = connection
            .get(self.key("revoked", jti))
            .await
            .map_err(unavailable)?;
        match exp {
            Some(exp) if exp > now => {
                self.known_revoked.insert(jti.to_owned(), exp);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    pub async fn first_use(&self, key: &str, exp: UnixTime) -> Result<bool, RevocationError> {
        let mut connection = self.connection().await?;
        let set: Option<String> = redis::cmd("SET")
            .arg(self.key("used", key))
            .arg(1)
            .arg("EXAT")
            .arg(exp)
            .arg("NX")
            .query_async(&mut connection)
            .await
            .map_err(unavailable)?;
        Ok(set.is_some())
    }

    pub async fn feed(
        &self,
        since: u64,
        limit: usize,
        now: UnixTime,
    ) -> Result<FeedPage, RevocationError> {
        let mut connection = self.connection().await?;
        let entries_key = self.key("feed", "entries");
        let rows: Vec<(String, u64)> = redis::cmd("ZRANGEBYSCORE")
            .arg(&entries_key)
            .arg(format!("({since}"))
            .arg("+inf")
            .arg("WITHSCORES")
            .arg("LIMIT")
            .arg(0)
            .arg(limit + 1)
            .query_async(&mut connection)
            .await
            .map_err(unavailable)?;
        let more = rows.len() > limit;
        let mut page = FeedPage {
            entries: Vec::new(),
            next: since,
            more,
        };
        let mut expired = Vec::new();
        for (member, seq) in rows.into_iter().take(limit) {
            page.next = seq;
            let Some((exp, jti)) = member.split_once(' ') else {
                continue;
            };
            let exp: UnixTime = exp.parse().unwrap_or(0);
            if exp > now {
                page.entries.push(FeedEntry {
                    jti: jti.to_owned(),
                    exp,
                });
            } else {
                expired.push(member);
            }
        }
        if !expired.is_empty() {
            let _: Result<i64, _> = connection.zrem(&entries_key, &expired).await;
            let _: Result<i64, _> = connection.zrem(self.key("feed", "expiry"), &expired).await;
        }
        Ok(page)
    }
}
