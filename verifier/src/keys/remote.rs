//! A JWK Set fetched from an issuer and kept fresh.
//!
//! - Loaded when built (discovery first when configured with an issuer URL).
//! - Refreshed in the background once three quarters of its `Cache-Control` max-age have
//!   passed: a verification never waits for a refresh it does not need.
//! - A token with an unknown `kid` triggers one refetch, at most once per
//!   `unknown_kid_refetch_interval` for the whole set, so made-up kids cannot cause a storm.
//! - While the issuer is unreachable the last good set keeps working until `max_staleness`
//!   past its max-age; after that verifications fail closed with [`Error::KeysUnavailable`].
//!
//! Every time decision reads the configured [`Clock`]; fetches are single-flight.

use crate::alg::Algorithm;
use crate::clock::{Clock, SystemClock, UnixTime};
use crate::http::{parse_url, Fetcher, HttpConfig};
use crate::jwk::{KeySet, Selection};
use crate::Error;
use arc_swap::ArcSwapOption;
use serde::Deserialize;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::{Mutex, Notify};
use url::Url;

const JWKS_MEDIA_TYPES: &str = "application/jwk-set+json, application/json";
const NEVER: UnixTime = i64::MIN / 2;

/// Where the set is and how it is kept fresh.
#[derive(Clone)]
pub struct RemoteKeysConfig {
    source: Source,
    /// Lower bound of a set's lifetime, whatever `Cache-Control` says (`no-store` included).
    pub min_max_age: Duration,
    /// Upper bound of a set's lifetime.
    pub max_max_age: Duration,
    /// The lifetime of a set served without `Cache-Control: max-age`.
    pub default_max_age: Duration,
    /// How long past its max-age the last good set stays usable while refreshes fail.
    pub max_staleness: Duration,
    /// Least time between two refetches caused by unknown kids.
    pub unknown_kid_refetch_interval: Duration,
    /// Least time between a failed fetch and the next attempt.
    pub retry_interval: Duration,
    /// How often the background task looks at the clock.
    pub background_tick: Duration,
    pub http: HttpConfig,
    pub clock: Arc<dyn Clock>,
}

#[derive(Clone, Debug)]
enum Source {
    /// Discovery under this issuer, whose metadata must name it exactly.
    Issuer(String),
    JwksUri(String),
}

impl std::fmt::Debug for RemoteKeysConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteKeysConfig")
            .field("source", &self.source)
            .field("max_staleness", &self.max_staleness)
            .finish_non_exhaustive()
    }
}

impl RemoteKeysConfig {
    /// Keys found by discovery: `{issuer}/.well-known/openid-configuration`, else the RFC 8414
    /// `/.well-known/oauth-authorization-server` document; its `issuer` must equal `issuer`.
    pub fn issuer(issuer: impl Into<String>) -> Self {
        Self::with_source(Source::Issuer(issuer.into()))
    }

    /// Keys at an explicit JWK Set URL.
    pub fn jwks_uri(uri: impl Into<String>) -> Self {
        Self::with_source(Source::JwksUri(uri.into()))
    }

    /// Defaults: max-age between 1 minute and 1 day (5 minutes when unsaid), 1 hour of
    /// staleness, unknown-kid refetches at most every 30 s, retries after 5 s.
    fn with_source(source: Source) -> Self {
        Self {
            source,
            min_max_age: Duration::from_secs(60),
            max_max_age: Duration::from_secs(24 * 3600),
            default_max_age: Duration::from_secs(300),
            max_staleness: Duration::from_secs(3600),
            unknown_kid_refetch_interval: Duration::from_secs(30),
            retry_interval: Duration::from_secs(5),
            background_tick: Duration::from_secs(1),
            http: HttpConfig::default(),
            clock: Arc::new(SystemClock),
        }
    }

    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub fn max_staleness(mut self, staleness: Duration) -> Self {
        self.max_staleness = staleness;
        self
    }

    pub fn unknown_kid_refetch_interval(mut self, interval: Duration) -> Self {
        self.unknown_kid_refetch_interval = interval;
        self
    }

    pub fn max_age_bounds(mut self, min: Duration, max: Duration) -> Self {
        self.min_max_age = min;
        self.max_max_age = max.max(min);
        self
    }

    pub fn retry_interval(mut self, interval: Duration) -> Self {
        self.retry_interval = interval;
        self
    }

    pub fn background_tick(mut self, tick: Duration) -> Self {
        self.background_tick = tick;
        self
    }

    pub fn http(mut self, http: HttpConfig) -> Self {
        self.http = http;
        self
    }
}

/// A set and the times that govern it, all by the configured clock.
struct Snapshot {
    keys: Arc<KeySet>,
    /// When a background refresh is due.
    refresh_at: UnixTime,
    /// Max-age plus staleness: past this the set is not used.
    usable_until: UnixTime,
}

struct Inner {
    config: RemoteKeysConfig,
    fetcher: Fetcher,
    jwks_uri: Url,
    current: ArcSwapOption<Snapshot>,
    /// Held by the one fetch in flight.
    fetch_lock: Mutex<()>,
    /// Counts finished fetch attempts, so a waiter can tell someone fetched while it waited.
    attempts: AtomicU64,
    last_failure: AtomicI64,
    last_failure_reason: std::sync::Mutex<String>,
    last_unknown_kid_refetch: AtomicI64,
    wake_background: Arc<Notify>,
    background_started: AtomicBool,
}

/// A remote JWK Set (see the module documentation). Cheap to clone; the background refresher
/// stops when the last clone is dropped.
#[derive(Clone)]
pub struct RemoteKeySet {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for RemoteKeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteKeySet")
            .field("jwks_uri", &self.inner.jwks_uri.as_str())
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Metadata {
    issuer: String,
    jwks_uri: String,
}

impl RemoteKeySet {
    /// Discovers (when configured with an issuer), loads the set, and starts the background
    /// refresher on the current tokio runtime.
    pub async fn load(config: RemoteKeysConfig) -> Result<Self, Error> {
        let fetcher = Fetcher::new(&config.http)?;
        let jwks_uri = match &config.source {
            Source::JwksUri(uri) => parse_url(uri).map_err(Error::KeysUnavailable)?,
            Source::Issuer(issuer) => discover(&fetcher, issuer).await?,
        };
        let remote = Self::unloaded(config, fetcher, jwks_uri);
        remote.inner.fetch().await?;
        remote.start_background_refresh();
        Ok(remote)
    }

    /// A set at an explicit JWK Set URL that is fetched by the first verification that needs
    /// it, not now: for callers holding many sets of which few are used (clients' `jwks_uri`),
    /// or that must start while the URL is unreachable. The background refresher starts with
    /// that first fetch. Discovery needs a fetch, so only [`RemoteKeysConfig::jwks_uri`]
    /// configurations are accepted.
    pub fn lazy(config: RemoteKeysConfig) -> Result<Self, Error> {
        let Source::JwksUri(uri) = &config.source else {
            return Err(Error::KeysUnavailable(
                "a lazily loaded key set needs an explicit JWK Set URL".into(),
            ));
        };
        let jwks_uri = parse_url(uri).map_err(Error::KeysUnavailable)?;
        let fetcher = Fetcher::new(&config.http)?;
        Ok(Self::unloaded(config, fetcher, jwks_uri))
    }

    fn unloaded(config: RemoteKeysConfig, fetcher: Fetcher, jwks_uri: Url) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                fetcher,
                jwks_uri,
                current: ArcSwapOption::empty(),
                fetch_lock: Mutex::new(()),
                attempts: AtomicU64::new(0),
                last_failure: AtomicI64::new(NEVER),
                last_failure_reason: std::sync::Mutex::new(String::new()),
                last_unknown_kid_refetch: AtomicI64::new(NEVER),
                wake_background: Arc::new(Notify::new()),
                background_started: AtomicBool::new(false),
            }),
        }
    }

    /// Starts the background refresher once, on the current tokio runtime.
    fn start_background_refresh(&self) {
        if self.inner.background_started.swap(true, Ordering::AcqRel) {
            return;
        }
        tokio::spawn(refresh_in_background(
            Arc::downgrade(&self.inner),
            self.inner.wake_background.clone(),
        ));
    }

    /// The JWK Set URL in use (the discovered one, with an issuer).
    pub fn jwks_uri(&self) -> &Url {
        &self.inner.jwks_uri
    }

    /// Whether the current set holds a key with this kid (no fetch).
    pub fn contains_kid(&self, kid: &str) -> bool {
        self.inner
            .current
            .load()
            .as_ref()
            .is_some_and(|snapshot| snapshot.keys.contains_kid(kid))
    }

    /// The set as it is now, fetched first when it is not loaded or too old to use.
    async fn usable_snapshot(&self, now: UnixTime) -> Result<Arc<Snapshot>, Error> {
        let inner = &self.inner;
        let snapshot = match inner.current.load_full() {
            Some(current) if now <= current.usable_until => current,
            _ => {
                // Too old to use: this caller needs a fetch, and waits for it.
                let fetched = inner.fetch_unless_failed_recently(now).await?;
                self.start_background_refresh();
                fetched
            }
        };
        if now >= snapshot.refresh_at {
            inner.wake_background.notify_one();
        }
        Ok(snapshot)
    }

    /// The keys as they are now (fetched first when not loaded yet or too old to use).
    pub async fn current_keys(&self) -> Result<Arc<KeySet>, Error> {
        let now = self.inner.config.clock.now();
        Ok(self.usable_snapshot(now).await?.keys.clone())
    }

    pub(crate) async fn verify_signature(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), Error> {
        let inner = &self.inner;
        let now = inner.config.clock.now();
        let mut snapshot = self.usable_snapshot(now).await?;
        if matches!(snapshot.keys.select(kid, alg), Selection::Absent) {
            if inner.may_refetch_for_unknown_kid(now) {
                snapshot = inner
                    .fetch_unless_failed_recently(now)
                    .await
                    .unwrap_or(snapshot);
            } else if let Some(after) = inner.after_fetch_in_flight().await {
                // A rotation seen by many requests at once: they all wait for the one fetch.
                snapshot = after;
            }
        }
        match snapshot.keys.select(kid, alg) {
            Selection::Found(key) => key
                .verify_sig(message, signature)
                .map_err(|_| Error::BadSignature),
            Selection::Absent | Selection::Unusable => Err(Error::NoMatchingKey),
        }
    }
}

impl Inner {
    /// Claims the unknown-kid refetch slot if the interval since the last one has passed.
    fn may_refetch_for_unknown_kid(&self, now: UnixTime) -> bool {
        let interval = self.config.unknown_kid_refetch_interval.as_secs() as i64;
        let last = self.last_unknown_kid_refetch.load(Ordering::Acquire);
        now.saturating_sub(last) >= interval
            && self
                .last_unknown_kid_refetch
                .compare_exchange(last, now, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
    }

    /// The set after the fetch in flight, if there is one.
    async fn after_fetch_in_flight(&self) -> Option<Arc<Snapshot>> {
        if self.fetch_lock.try_lock().is_ok() {
            return None;
        }
        drop(self.fetch_lock.lock().await);
        self.current.load_full()
    }

    /// A fetch, unless the last attempt failed less than `retry_interval` ago (then that
    /// failure again, so an unreachable issuer is not asked on every request).
    async fn fetch_unless_failed_recently(&self, now: UnixTime) -> Result<Arc<Snapshot>, Error> {
        let retry = self.config.retry_interval.as_secs() as i64;
        if now.saturating_sub(self.last_failure.load(Ordering::Acquire)) < retry {
            return self.usable_or_unavailable(now);
        }
        self.fetch().await
    }

    /// The current set if still within its staleness bound, else the reason it is not.
    fn usable_or_unavailable(&self, now: UnixTime) -> Result<Arc<Snapshot>, Error> {
        match self.current.load_full() {
            Some(snapshot) if now <= snapshot.usable_until => Ok(snapshot),
            _ => Err(Error::KeysUnavailable(format!(
                "the key set from {} is past its staleness bound and could not be refreshed: {}",
                self.jwks_uri,
                self.last_failure_reason.lock().expect("not poisoned")
            ))),
        }
    }

    /// Fetches the set, single-flight: a caller that waited while another fetched takes that
    /// outcome instead of fetching again.
    async fn fetch(&self) -> Result<Arc<Snapshot>, Error> {
        let seen = self.attempts.load(Ordering::Acquire);
        let _flight = self.fetch_lock.lock().await;
        let now = self.config.clock.now();
        if self.attempts.load(Ordering::Acquire) != seen {
            return self.usable_or_unavailable(now);
        }
        let outcome = self.fetch_once(now).await;
        self.attempts.fetch_add(1, Ordering::AcqRel);
        match outcome {
            Ok(snapshot) => {
                let snapshot = Arc::new(snapshot);
                self.current.store(Some(snapshot.clone()));
                self.last_failure.store(NEVER, Ordering::Release);
                Ok(snapshot)
            }
            Err(reason) => {
                tracing::warn!(jwks_uri = %self.jwks_uri, "the key set could not be refreshed: {reason}");
                *self.last_failure_reason.lock().expect("not poisoned") = reason;
                self.last_failure.store(now, Ordering::Release);
                self.usable_or_unavailable(now)
            }
        }
    }

    async fn fetch_once(&self, now: UnixTime) -> Result<Snapshot, String> {
        let fetched = self.fetcher.get(&self.jwks_uri, JWKS_MEDIA_TYPES).await?;
        let keys =
            KeySet::from_json(&fetched.body).map_err(|err| format!("{}: {err}", self.jwks_uri))?;
        if keys.is_empty() {
            return Err(format!(
                "{} holds no signature verification key",
                self.jwks_uri
            ));
        }
        let config = &self.config;
        let max_age = fetched
            .max_age
            .unwrap_or(config.default_max_age)
            .clamp(config.min_max_age, config.max_max_age)
            .as_secs() as i64;
        Ok(Snapshot {
            keys: Arc::new(keys),
            refresh_at: now + max_age * 3 / 4,
            usable_until: now + max_age + config.max_staleness.as_secs() as i64,
        })
    }
}

/// Refreshes the set when due. Holds only a weak reference between rounds, so dropping the
/// last [`RemoteKeySet`] ends it.
async fn refresh_in_background(inner: Weak<Inner>, wake: Arc<Notify>) {
    loop {
        let tick = {
            let Some(inner) = inner.upgrade() else { return };
            let now = inner.config.clock.now();
            let due = inner
                .current
                .load()
                .as_ref()
                .is_none_or(|snapshot| now >= snapshot.refresh_at);
            if due {
                // Failures are logged and retried after retry_interval; the set stays in use.
                let _ = inner.fetch_unless_failed_recently(now).await;
            }
            inner.config.background_tick
        };
        tokio::select! {
            _ = tokio::time::sleep(tick) => {}
            _ = wake.notified() => {}
        }
    }
}

/// The `jwks_uri` of `issuer`'s metadata, which must name `issuer` exactly.
async fn discover(fetcher: &Fetcher, issuer: &str) -> Result<Url, Error> {
    let unavailable = Error::KeysUnavailable;
    let base = parse_url(issuer).map_err(unavailable)?;
    let trimmed = issuer.trim_end_matches('/');
    // OpenID Connect Discovery appends to the issuer; RFC 8414 inserts before its path.
    let openid =
        parse_url(&format!("{trimmed}/.well-known/openid-configuration")).map_err(unavailable)?;
    let mut oauth = base.clone();
    let path = base.path().trim_end_matches('/');
    oauth.set_path(&format!("/.well-known/oauth-authorization-server{path}"));
    let mut reasons = Vec::new();
    for url in [openid, oauth] {
        match fetcher.get(&url, "application/json").await {
            Ok(fetched) => {
                let metadata: Metadata = serde_json::from_slice(&fetched.body).map_err(|_| {
                    Error::KeysUnavailable(format!("{url} is not authorization server metadata"))
                })?;
                if metadata.issuer != issuer {
                    return Err(Error::KeysUnavailable(format!(
                        "{url} names another issuer than the configured one"
                    )));
                }
                return parse_url(&metadata.jwks_uri).map_err(unavailable);
            }
            Err(reason) => reasons.push(reason),
        }
    }
    Err(Error::KeysUnavailable(format!(
        "discovery failed: {}",
        reasons.join("; ")
    )))
}
