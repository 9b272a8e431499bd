//! The status lists in Redis, shared by replicas: a bitmap per list (`SETBIT`), a version per
//! list that changes with each new revoked bit (so every replica re-renders the same list), an
//! index counter per window from which each replica takes blocks of indices atomically, and the
//! epoch that names the current generation of lists. A Redis that lost its data has no epoch:
//! the next replica to notice makes a new one, so indices already handed out are never handed
//! out again.

use super::redis_conn::Connection;
use super::redis_store::{unavailable, RedisStore};
use super::status_list::{random_epoch, Layout, ListId, Snapshot, StatusRef};
use super::RevocationError;
use crate::clock::UnixTime;
use moka::sync::Cache;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// Indices a replica takes from Redis at once.
const BLOCK: u64 = 1024;

/// KEYS: epoch, window counter. ARGV: the epoch the caller knows, block size, expiry.
/// Returns the counter after taking the block, or -1 when the epoch is not the caller's.
const TAKE_BLOCK: &str = r#"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local next = redis.call('INCRBY', KEYS[2], ARGV[2])
redis.call('EXPIREAT', KEYS[2], ARGV[3])
return next
"#;

/// KEYS: bitmap, version. ARGV: index, expiry. Sets the bit; a new bit moves the version.
const SET_BIT: &str = r#"
local before = redis.call('SETBIT', KEYS[1], ARGV[1], 1)
if before == 0 then redis.call('INCR', KEYS[2]) end
redis.call('EXPIREAT', KEYS[1], ARGV[2])
redis.call('EXPIREAT', KEYS[2], ARGV[2])
return before
"#;

#[derive(Debug, Clone, Copy)]
struct Block {
    epoch: u32,
    window: u64,
    next: u64,
    end: u64,
}

pub struct StatusState {
    layout: Layout,
    /// Keys in one hash slot (Redis Cluster): the epoch and the window counters.
    allocation_tag: String,
    prefix: String,
    /// 0 until read from Redis.
    epoch: AtomicU32,
    block: tokio::sync::Mutex<Option<Block>>,
    take_block: redis::Script,
    set_bit: redis::Script,
    known_revoked: Cache<(ListId, u32), ()>,
}

impl StatusState {
    pub fn new(prefix: &str, layout: Layout) -> Self {
        Self {
            layout,
            allocation_tag: format!("{{{prefix}:sl}}"),
            prefix: prefix.to_owned(),
            epoch: AtomicU32::new(0),
            block: tokio::sync::Mutex::new(None),
            take_block: redis::Script::new(TAKE_BLOCK),
            set_bit: redis::Script::new(SET_BIT),
            known_revoked: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(Duration::from_secs(3600))
                .build(),
        }
    }

    fn epoch_key(&self) -> String {
        format!("{}:epoch", self.allocation_tag)
    }

    fn counter_key(&self, epoch: u32, window: u64) -> String {
        format!("{}:next:{epoch:08x}:{window}", self.allocation_tag)
    }

    /// A list's bitmap and version share a hash slot.
    fn list_keys(&self, id: &ListId) -> (String, String) {
        list_keys(&self.prefix, id)
    }

    /// What re-writes the bits this replica knows are set, after Redis lost them.
    pub(super) fn rewriter(&self) -> BitRewriter {
        BitRewriter {
            prefix: self.prefix.clone(),
            layout: self.layout,
            set_bit: self.set_bit.clone(),
            known: self.known_revoked.clone(),
        }
    }
}

fn list_keys(prefix: &str, id: &ListId) -> (String, String) {
    let tag = format!("{{{prefix}:sl:{id}}}");
    (format!("{tag}:bits"), format!("{tag}:version"))
}

/// The revoked bits a replica has seen, to set again in a Redis that came back empty.
#[derive(Clone)]
pub(super) struct BitRewriter {
    prefix: String,
    layout: Layout,
    set_bit: redis::Script,
    known: Cache<(ListId, u32), ()>,
}

impl BitRewriter {
    /// Sets every known bit again (setting a set bit changes nothing); how many were sent.
    pub(super) async fn rewrite(&self, connection: &mut Connection) -> usize {
        let mut written = 0;
        for (entry, ()) in self.known.iter() {
            let (list, idx) = *entry;
            let (bits, version) = list_keys(&self.prefix, &list);
            let done: Result<i64, _> = self
                .set_bit
                .key(bits)
                .key(version)
                .arg(idx)
                .arg(self.layout.served_until(list.window))
                .invoke_async(connection)
                .await;
            written += usize::from(done.is_ok());
        }
        written
    }
}

impl RedisStore {
    /// The epoch of the lists, made when Redis has none (first start, or data lost).
    async fn current_epoch(&self, stale: Option<u32>) -> Result<u32, RevocationError> {
        let status = &self.status;
        let known = status.epoch.load(Ordering::Acquire);
        if known != 0 && Some(known) != stale {
            return Ok(known);
        }
        let mut connection = self.connection().await?;
        let key = status.epoch_key();
        let _: Option<String> = redis::cmd("SET")
            .arg(&key)
            .arg(format!("{:08x}", random_epoch()))
            .arg("NX")
            .query_async(&mut connection)
            .await
            .map_err(unavailable)?;
        let text: String = redis::cmd("GET")
            .arg(&key)
            .query_async(&mut connection)
            .await
            .map_err(unavailable)?;
        let epoch = u32::from_str_radix(&text, 16).map_err(|_| {
            RevocationError::Unavailable("the status list epoch is malformed".into())
        })?;
        if stale.is_some() {
            tracing::warn!(
                epoch = %format!("{epoch:08x}"),
                "Redis lost the status-list epoch (its data?): new lists begin"
            );
        }
        status.epoch.store(epoch, Ordering::Release);
        Ok(epoch)
    }

    /// Takes a block of indices of `window`, under the current epoch.
    async fn take_block(&self, window: u64) -> Result<Block, RevocationError> {
        let status = &self.status;
        let mut epoch = self.current_epoch(None).await?;
        let expires = status.layout.served_until(window);
        for _ in 0..2 {
            let mut connection = self.connection().await?;
            let next: i64 = status
                .take_block
                .key(status.epoch_key())
                .key(status.counter_key(epoch, window))
                .arg(format!("{epoch:08x}"))
                .arg(BLOCK)
                .arg(expires)
                .invoke_async(&mut connection)
                .await
                .map_err(unavailable)?;
            if next >= 0 {
                let end = next as u64;
                return Ok(Block {
                    epoch,
                    window,
                    next: end - BLOCK,
                    end,
                });
            }
            epoch = self.current_epoch(Some(epoch)).await?;
        }
        Err(RevocationError::Unavailable(
            "the status-list epoch keeps changing".into(),
        ))
    }

    pub async fn allocate_status(&self, now: UnixTime) -> Result<StatusRef, RevocationError> {
        let window = self.status.layout.window_of(now);
        let mut block = self.status.block.lock().await;
        let current = match *block {
            Some(taken) if taken.window == window && taken.next < taken.end => taken,
            _ => self.take_block(window).await?,
        };
        let status = self
            .status
            .layout
            .locate(current.epoch, window, current.next);
        *block = Some(Block {
            next: current.next + 1,
            ..current
        });
        Ok(status)
    }

    pub async fn revoke_status(&self, token: &StatusRef) -> Result<(), RevocationError> {
        let status = &self.status;
        let (bits, version) = status.list_keys(&token.list);
        let mut connection = self.connection().await?;
        let _: i64 = status
            .set_bit
            .key(bits)
            .key(version)
            .arg(token.idx)
            .arg(status.layout.served_until(token.list.window))
            .invoke_async(&mut connection)
            .await
            .map_err(unavailable)?;
        status.known_revoked.insert((token.list, token.idx), ());
        Ok(())
    }

    pub async fn is_status_revoked(&self, token: &StatusRef) -> Result<bool, RevocationError> {
        let status = &self.status;
        if status.known_revoked.contains_key(&(token.list, token.idx)) {
            return Ok(true);
        }
        let (bits, _) = status.list_keys(&token.list);
        let mut connection = self.connection().await?;
        let bit: u8 = redis::cmd("GETBIT")
            .arg(bits)
            .arg(token.idx)
            .query_async(&mut connection)
            .await
            .map_err(unavailable)?;
        if bit == 1 {
            status.known_revoked.insert((token.list, token.idx), ());
        }
        Ok(bit == 1)
    }

    /// The list's version, and its bits only when the version is not `known` already.
    pub async fn status_snapshot(
        &self,
        id: &ListId,
        known: Option<u64>,
    ) -> Result<Option<Snapshot>, RevocationError> {
        let status = &self.status;
        let (bits, version) = status.list_keys(id);
        let mut connection = self.connection().await?;
        let current: Option<u64> = redis::cmd("GET")
            .arg(&version)
            .query_async(&mut connection)
            .await
            .map_err(unavailable)?;
        let current = current.unwrap_or(0);
        if known == Some(current) {
            return Ok(None);
        }
        let stored: Vec<u8> = redis::cmd("GET")
            .arg(&bits)
            .query_async(&mut connection)
            .await
            .map_err(unavailable)?;
        // Redis numbers a byte's bits from its most significant one; the draft from its least.
        let mut bitstring = vec![0u8; status.layout.list_bytes()];
        for (out, byte) in bitstring.iter_mut().zip(stored) {
            *out = byte.reverse_bits();
        }
        Ok(Some(Snapshot {
            version: current,
            bitstring,
        }))
    }

    /// Every list holding a token still possibly valid at `now`.
    pub async fn served_lists(&self, now: UnixTime) -> Result<Vec<ListId>, RevocationError> {
        let status = &self.status;
        let layout = status.layout;
        let epoch = self.current_epoch(None).await?;
        let last = layout.window_of(now);
        let windows: Vec<u64> = (0..=last)
            .rev()
            .take_while(|window| now < layout.served_until(*window))
            .collect();
        let mut connection = self.connection().await?;
        let mut lists = Vec::new();
        for window in windows.into_iter().rev() {
            let next: Option<u64> = redis::cmd("GET")
                .arg(status.counter_key(epoch, window))
                .query_async(&mut connection)
                .await
                .map_err(unavailable)?;
            lists.extend(layout.parts(epoch, window, next.unwrap_or(0)));
        }
        Ok(lists)
    }
}
