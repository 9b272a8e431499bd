//! The shared backend for replicas: Redis, through the one connection `redis_conn.rs` owns
//! (which reconnects by itself, and logs and counts failures and recoveries). Entries expire in Redis with the tokens they name (`EXAT`). Known revocations are
//! also cached locally (a revocation never comes undone); "not revoked" is never cached, so
//! every replica sees a revocation made on any other at once. The status lists' part of this
//! store is in `redis_status.rs`.

use super::redis_conn::{Connection, RedisConn};
use super::redis_status::StatusState;
use super::status_list::Layout;
use super::RevocationError;
use crate::clock::UnixTime;
use crate::settings::RedisTarget;
use moka::sync::Cache;
use redis::AsyncCommands;
use std::sync::Arc;
use std::time::Duration;

pub struct RedisStore {
    conn: Arc<RedisConn>,
    prefix: String,
    known_revoked: Cache<String, UnixTime>,
    pub(super) status: StatusState,
}

pub(super) fn unavailable(err: redis::RedisError) -> RevocationError {
    RevocationError::Unavailable(err.to_string())
}

impl RedisStore {
    pub fn new(
        target: &RedisTarget,
        tls_ca: Option<Vec<u8>>,
        prefix: &str,
        layout: Layout,
    ) -> Result<Self, String> {
        let store = Self {
            conn: RedisConn::new(target.clone(), tls_ca)?,
            prefix: prefix.to_owned(),
            status: StatusState::new(prefix, layout),
            known_revoked: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(Duration::from_secs(3600))
                .build(),
        };
        store.rewrite_on_recovery();
        Ok(store)
    }

    /// A Redis that comes back may have lost its data (a restart without persistence): each
    /// replica then sets again every revocation it knows of, its own and those it has seen, so
    /// none comes undone while a replica that knew it is running.
    fn rewrite_on_recovery(&self) {
        let denylist = self.known_revoked.clone();
        let bits = self.status.rewriter();
        let prefix = self.prefix.clone();
        let address = self.conn.target().describe();
        self.conn.on_recovery(Box::new(move |mut connection| {
            let (denylist, bits, prefix, address) = (
                denylist.clone(),
                bits.clone(),
                prefix.clone(),
                address.clone(),
            );
            Box::pin(async move {
                let mut written = 0;
                for (id, exp) in denylist.iter() {
                    let done: Result<Option<String>, _> = redis::cmd("SET")
                        .arg(format!("{prefix}:revoked:{id}"))
                        .arg(exp)
                        .arg("EXAT")
                        .arg(exp)
                        .arg("NX")
                        .query_async(&mut connection)
                        .await;
                    written += usize::from(done.is_ok());
                }
                written += bits.rewrite(&mut connection).await;
                tracing::info!(
                    redis = %address,
                    revocations = written,
                    "set again the revocations this replica knows, in case Redis lost them"
                );
            })
        }));
    }

    /// The shared connection, made on first use; if Redis is down, the next call tries again.
    pub(super) async fn connection(&self) -> Result<Connection, RevocationError> {
        self.conn.connection().await
    }

    /// The connection itself: its health, and for the throttle counters.
    pub fn conn(&self) -> &Arc<RedisConn> {
        &self.conn
    }

    pub(super) fn prefix(&self) -> &str {
        &self.prefix
    }

    pub(super) fn key(&self, kind: &str, id: &str) -> String {
        format!("{}:{kind}:{id}", self.prefix)
    }

    pub async fn revoke(&self, id: &str, exp: UnixTime) -> Result<(), RevocationError> {
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

    pub async fn is_revoked(&self, id: &str, now: UnixTime) -> Result<bool, RevocationError> {
        if self.known_revoked.get(id).is_some_and(|exp| exp > now) {
            return Ok(true);
        }
        let mut connection = self.connection().await?;
        let exp: Option<UnixTime> = connection
            .get(self.key("revoked", id))
            .await
            .map_err(unavailable)?;
        match exp {
            Some(exp) if exp > now => {
                self.known_revoked.insert(id.to_owned(), exp);
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
}
