//! The shared backend for replicas: Redis, through one multiplexed connection that reconnects
//! by itself. Entries expire in Redis with the tokens they name (`EXAT`). Known revocations are
//! also cached locally (a revocation never comes undone); "not revoked" is never cached, so
//! every replica sees a revocation made on any other at once. The status lists' part of this
//! store is in `redis_status.rs`.

use super::redis_status::StatusState;
use super::status_list::Layout;
use super::RevocationError;
use crate::clock::UnixTime;
use moka::sync::Cache;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::AsyncCommands;
use std::time::Duration;
use tokio::sync::OnceCell;

pub struct RedisStore {
    client: redis::Client,
    connection: OnceCell<ConnectionManager>,
    prefix: String,
    known_revoked: Cache<String, UnixTime>,
    pub(super) status: StatusState,
}

pub(super) fn unavailable(err: redis::RedisError) -> RevocationError {
    RevocationError::Unavailable(err.to_string())
}

impl RedisStore {
    pub fn new(url: &str, prefix: &str, layout: Layout) -> Result<Self, String> {
        let client = redis::Client::open(url).map_err(|err| format!("bad Redis URL: {err}"))?;
        Ok(Self {
            client,
            connection: OnceCell::new(),
            prefix: prefix.to_owned(),
            status: StatusState::new(prefix, layout),
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
