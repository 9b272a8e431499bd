//! The one connection to Redis every shared store uses (revocations, single uses, status lists,
//! throttle counters): a single server (`redis://`, or `rediss://` over TLS) through one
//! multiplexed connection that reconnects by itself, or a Redis Cluster through its seed nodes.
//!
//! It tells and recovers: every failed command is counted, the first one of an outage is
//! logged naming Redis by its address (never its credentials), and from then on a watcher pings
//! Redis until it answers, so the connection is whole again before the next request needs it;
//! the recovery is logged and counted too. `/readyz` and `/metrics` read the same state.

use super::RevocationError;
pub use crate::settings::RedisTarget;
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, RedisError, RedisFuture, Value};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::OnceCell;

const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
const RESPONSE_TIMEOUT: Duration = Duration::from_millis(500);
/// How often the watcher pings an unreachable Redis.
const WATCH_INTERVAL: Duration = Duration::from_millis(200);

/// `url` without its user name and password: how logs and errors name Redis.
pub fn display_address(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(parsed) => {
            let host = parsed.host_str().unwrap_or("?");
            let port = parsed.port().map(|p| format!(":{p}")).unwrap_or_default();
            let path = match parsed.path() {
                "" | "/" => String::new(),
                path => path.to_owned(),
            };
            format!("{}://{host}{port}{path}", parsed.scheme())
        }
        Err(_) => "(an unreadable Redis URL)".to_owned(),
    }
}

impl RedisTarget {
    /// How logs, `/readyz` and errors name it.
    pub fn describe(&self) -> String {
        match self {
            RedisTarget::Single(url) => display_address(url),
            RedisTarget::Cluster(nodes) => format!(
                "the Redis Cluster of {}",
                nodes
                    .iter()
                    .map(|node| display_address(node))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

// One per process: its size does not matter.
#[allow(clippy::large_enum_variant)]
enum Client {
    Single(redis::Client),
    Cluster(redis::cluster::ClusterClient),
}

/// A connection of either kind; cheap to clone (both are handles to one multiplexed link).
#[derive(Clone)]
pub struct Connection {
    inner: Inner,
    /// Weak: the owner holds this connection.
    owner: Weak<RedisConn>,
}

#[derive(Clone)]
enum Inner {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

/// What the connection has seen, for logs, `/readyz` and `/metrics`.
pub struct Health {
    address: String,
    up: AtomicBool,
    watching: AtomicBool,
    failures: AtomicU64,
    recoveries: AtomicU64,
}

/// A snapshot of `Health`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisHealth {
    pub address: String,
    pub up: bool,
    pub failures: u64,
    pub recoveries: u64,
}

impl Health {
    fn failed(&self, err: &RedisError) {
        self.failures.fetch_add(1, Ordering::Relaxed);
        if self.up.swap(false, Ordering::AcqRel) {
            tracing::error!(redis = %self.address, error = %err, "Redis is unreachable: shared state fails closed until it answers");
        }
    }

    fn answered(&self) {
        if !self.up.swap(true, Ordering::AcqRel) {
            self.recoveries.fetch_add(1, Ordering::Relaxed);
            tracing::info!(redis = %self.address, "Redis answers again");
        }
    }
}

/// Run when Redis answers again after an outage, with a connection to it.
pub type RecoveryHook = Box<
    dyn Fn(Connection) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>
        + Send
        + Sync,
>;

pub struct RedisConn {
    client: Client,
    on_recovery: std::sync::OnceLock<RecoveryHook>,
    connection: OnceCell<Connection>,
    health: Arc<Health>,
    target: RedisTarget,
}

fn unavailable(target: &RedisTarget, err: &RedisError) -> RevocationError {
    RevocationError::Unavailable(format!("{}: {err}", target.describe()))
}

impl RedisConn {
    /// Checks `target` (URLs, the TLS root `ca_pem`); connects on first use.
    pub fn new(target: RedisTarget, ca_pem: Option<Vec<u8>>) -> Result<Arc<Self>, String> {
        // The redis crate builds its rustls configuration with the process's default provider;
        // make it the aws-lc-rs one the rest of Tessera uses (a no-op when one is installed).
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let tls = |root_cert| redis::TlsCertificates {
            client_tls: None,
            root_cert,
        };
        let client = match &target {
            RedisTarget::Single(url) => Client::Single(
                match ca_pem {
                    Some(pem) => redis::Client::build_with_tls(url.as_str(), tls(Some(pem))),
                    None => redis::Client::open(url.as_str()),
                }
                .map_err(|err| format!("bad Redis URL {}: {err}", display_address(url)))?,
            ),
            RedisTarget::Cluster(nodes) => {
                let mut builder = redis::cluster::ClusterClientBuilder::new(nodes.clone())
                    .connection_timeout(CONNECT_TIMEOUT)
                    .response_timeout(RESPONSE_TIMEOUT)
                    .retries(1);
                if let Some(pem) = ca_pem {
                    builder = builder.certs(tls(Some(pem)));
                }
                Client::Cluster(
                    builder
                        .build()
                        .map_err(|err| format!("bad Redis Cluster nodes: {err}"))?,
                )
            }
        };
        Ok(Arc::new(Self {
            client,
            on_recovery: std::sync::OnceLock::new(),
            connection: OnceCell::new(),
            health: Arc::new(Health {
                address: target.describe(),
                up: AtomicBool::new(true),
                watching: AtomicBool::new(false),
                failures: AtomicU64::new(0),
                recoveries: AtomicU64::new(0),
            }),
            target,
        }))
    }

    /// Sets what to do each time Redis answers again (once per connection owner).
    pub fn on_recovery(&self, hook: RecoveryHook) {
        let _ = self.on_recovery.set(hook);
    }

    pub fn target(&self) -> &RedisTarget {
        &self.target
    }

    pub fn health(&self) -> RedisHealth {
        RedisHealth {
            address: self.health.address.clone(),
            up: self.health.up.load(Ordering::Acquire),
            failures: self.health.failures.load(Ordering::Relaxed),
            recoveries: self.health.recoveries.load(Ordering::Relaxed),
        }
    }

    async fn connect(&self) -> Result<Inner, RedisError> {
        match &self.client {
            Client::Single(client) => {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(CONNECT_TIMEOUT))
                    .set_response_timeout(Some(RESPONSE_TIMEOUT))
                    .set_number_of_retries(1);
                ConnectionManager::new_with_config(client.clone(), config)
                    .await
                    .map(Inner::Single)
            }
            Client::Cluster(client) => client.get_async_connection().await.map(Inner::Cluster),
        }
    }

    /// The shared connection, made on first use; while Redis cannot be reached, each call tries
    /// again (and the watcher keeps trying).
    pub async fn connection(self: &Arc<Self>) -> Result<Connection, RevocationError> {
        let made = self
            .connection
            .get_or_try_init(|| async {
                self.connect().await.map(|inner| Connection {
                    inner,
                    owner: Arc::downgrade(self),
                })
            })
            .await;
        match made {
            Ok(connection) => Ok(connection.clone()),
            Err(err) => {
                self.health.failed(&err);
                self.watch();
                Err(unavailable(&self.target, &err))
            }
        }
    }

    /// Whether Redis answers a PING now (for `/readyz`).
    pub async fn ping(self: &Arc<Self>) -> bool {
        let Ok(mut connection) = self.connection().await else {
            return false;
        };
        let answer: Result<String, _> = redis::cmd("PING").query_async(&mut connection).await;
        if answer.is_err() {
            self.watch();
        }
        answer.is_ok()
    }

    /// Starts the watcher when Redis is down and none runs: it pings until Redis answers, which
    /// also brings the multiplexed connection back before a request needs it.
    fn watch(self: &Arc<Self>) {
        if self.health.up.load(Ordering::Acquire)
            || self.health.watching.swap(true, Ordering::AcqRel)
        {
            return;
        }
        let conn = Arc::clone(self);
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            conn.health.watching.store(false, Ordering::Release);
            return;
        };
        runtime.spawn(async move {
            loop {
                tokio::time::sleep(WATCH_INTERVAL).await;
                let Ok(mut connection) = conn.connection().await else {
                    continue;
                };
                let pong: Result<String, _> = redis::cmd("PING").query_async(&mut connection).await;
                if pong.is_ok() {
                    if let Some(hook) = conn.on_recovery.get() {
                        hook(connection).await;
                    }
                    break;
                }
            }
            conn.health.watching.store(false, Ordering::Release);
        });
    }
}

fn is_outage(err: &RedisError) -> bool {
    err.is_io_error()
        || err.is_timeout()
        || err.is_connection_dropped()
        || err.is_connection_refusal()
        || err.is_cluster_error()
}

impl Connection {
    fn observe<T>(&self, result: Result<T, RedisError>) -> Result<T, RedisError> {
        let Some(owner) = self.owner.upgrade() else {
            return result;
        };
        let health = &owner.health;
        match &result {
            Ok(_) => health.answered(),
            Err(err) if is_outage(err) => {
                health.failed(err);
                owner.watch();
            }
            // An error Redis sent back (a script's, a full Redis) is an answer, but the command
            // failed: counted, and logged each time.
            Err(err) => {
                health.answered();
                health.failures.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(redis = %health.address, error = %err, "a Redis command failed");
            }
        }
        result
    }
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        Box::pin(async move {
            let result = match &mut self.inner {
                Inner::Single(connection) => connection.req_packed_command(cmd).await,
                Inner::Cluster(connection) => connection.req_packed_command(cmd).await,
            };
            self.observe(result)
        })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        Box::pin(async move {
            let result = match &mut self.inner {
                Inner::Single(connection) => {
                    connection
                        .req_packed_commands(pipeline, offset, count)
                        .await
                }
                Inner::Cluster(connection) => {
                    connection
                        .req_packed_commands(pipeline, offset, count)
                        .await
                }
            };
            self.observe(result)
        })
    }

    fn get_db(&self) -> i64 {
        match &self.inner {
            Inner::Single(connection) => connection.get_db(),
            Inner::Cluster(connection) => connection.get_db(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_never_show_credentials() {
        assert_eq!(
            display_address("redis://user:s3cret@10.0.0.5:6380/2"),
            "redis://10.0.0.5:6380/2"
        );
        assert_eq!(
            display_address("rediss://:p4ss@redis.internal"),
            "rediss://redis.internal"
        );
        let cluster = RedisTarget::Cluster(vec![
            "redis://:pw@127.0.0.1:7000".into(),
            "redis://127.0.0.1:7001".into(),
        ]);
        assert_eq!(
            cluster.describe(),
            "the Redis Cluster of redis://127.0.0.1:7000, redis://127.0.0.1:7001"
        );
    }
}
