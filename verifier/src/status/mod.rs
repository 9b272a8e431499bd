//! Revocation through the IETF Token Status List (draft-ietf-oauth-status-list): a token's
//! `status.status_list = {idx, uri}` points at a status list token, fetched with
//! `Accept: application/statuslist+jwt`, signed by the issuer's keys (`typ: statuslist+jwt`,
//! `sub` equal to the uri, `iat`, optional `exp` and `ttl`).
//!
//! Lists are cached per uri for their `ttl` (bounded, and never past `exp`), a bounded number
//! of them, fetched single-flight. When a list cannot be had (unreachable, invalid), the last
//! good copy is used up to `max_staleness` past its freshness; beyond that the token is refused
//! with [`Error::StatusUnavailable`]: never silently accepted.

mod list;

pub use list::{StatusList, INVALID, SUSPENDED, VALID};

use crate::claims::StatusReference;
use crate::clock::{Clock, UnixTime};
use crate::http::{parse_url, Fetcher, HttpConfig};
use crate::jws::{verify_jws, JwsPolicy};
use crate::keys::KeySource;
use crate::Error;
use arc_swap::ArcSwapOption;
use serde::Deserialize;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

const STATUS_LIST_MEDIA_TYPE: &str = "application/statuslist+jwt";
const NEVER: UnixTime = i64::MIN / 2;

/// How status lists are checked and cached.
#[derive(Debug, Clone)]
pub struct StatusListConfig {
    /// Refuse tokens without a `status` claim ([`Error::StatusMissing`]). On by default: a
    /// verifier that checks revocation should not let an unrevocable token through unnoticed.
    pub require_status: bool,
    /// Caching time of a list without `ttl`.
    pub default_ttl: Duration,
    /// A list's `ttl` is clamped into these bounds (the draft asks clients to check both
    /// `ttl` and `exp` are within reasonable ranges).
    pub min_ttl: Duration,
    pub max_ttl: Duration,
    /// How long past its freshness the last good list is used while refetching fails.
    pub max_staleness: Duration,
    /// Least time between a failed fetch of a list and the next attempt.
    pub retry_interval: Duration,
    /// Most lists kept.
    pub max_lists: u64,
    /// Largest decompressed list, in bytes.
    pub max_list_len: usize,
    pub http: HttpConfig,
}

impl Default for StatusListConfig {
    /// Status required; 5 minutes without `ttl`, `ttl` within 10 s..1 day; 10 minutes of
    /// staleness; retry after 5 s; 1,000 lists of at most 16 MiB (128 million 1-bit statuses);
    /// status list tokens of at most 4 MiB.
    fn default() -> Self {
        Self {
            require_status: true,
            default_ttl: Duration::from_secs(300),
            min_ttl: Duration::from_secs(10),
            max_ttl: Duration::from_secs(24 * 3600),
            max_staleness: Duration::from_secs(600),
            retry_interval: Duration::from_secs(5),
            max_lists: 1_000,
            max_list_len: 16 << 20,
            http: HttpConfig {
                max_document_len: 4 << 20,
                ..HttpConfig::default()
            },
        }
    }
}

impl StatusListConfig {
    pub fn require_status(mut self, required: bool) -> Self {
        self.require_status = required;
        self
    }

    pub fn max_staleness(mut self, staleness: Duration) -> Self {
        self.max_staleness = staleness;
        self
    }

    pub fn retry_interval(mut self, interval: Duration) -> Self {
        self.retry_interval = interval;
        self
    }
}

struct LoadedList {
    list: StatusList,
    /// `resolved + ttl`, capped by `exp`: past this a fresh copy is fetched.
    fresh_until: UnixTime,
    /// Freshness plus staleness, capped by `exp`: past this the copy is never used.
    usable_until: UnixTime,
}

struct ListEntry {
    current: ArcSwapOption<LoadedList>,
    fetch_lock: Mutex<()>,
    /// Counts finished fetch attempts, so a waiter can tell someone fetched while it waited.
    attempts: AtomicU64,
    last_failure: AtomicI64,
    last_failure_reason: std::sync::Mutex<String>,
}

impl ListEntry {
    fn new() -> Self {
        Self {
            current: ArcSwapOption::empty(),
            fetch_lock: Mutex::new(()),
            attempts: AtomicU64::new(0),
            last_failure: AtomicI64::new(NEVER),
            last_failure_reason: std::sync::Mutex::new(String::new()),
        }
    }
}

/// The status-list side of a verifier.
pub(crate) struct StatusLists {
    config: StatusListConfig,
    fetcher: Fetcher,
    lists: moka::sync::Cache<String, Arc<ListEntry>>,
}

#[derive(Deserialize)]
struct StatusListClaims {
    iss: Option<String>,
    sub: Option<String>,
    iat: Option<serde_json::Number>,
    exp: Option<serde_json::Number>,
    ttl: Option<serde_json::Number>,
    status_list: Option<EncodedList>,
}

#[derive(Deserialize)]
struct EncodedList {
    bits: u8,
    lst: String,
}

/// What the access-token verifier shares with the status check.
pub(crate) struct Context<'a> {
    pub keys: &'a KeySource,
    pub issuer: &'a str,
    pub clock: &'a dyn Clock,
    pub leeway: i64,
}

fn seconds(number: &serde_json::Number) -> Option<i64> {
    number.as_i64().or_else(|| {
        number
            .as_f64()
            .filter(|f| f.is_finite())
            .map(|f| f.floor() as i64)
    })
}

impl StatusLists {
    pub fn new(config: StatusListConfig) -> Result<Self, Error> {
        let fetcher = Fetcher::following_redirects(&config.http)?;
        let lists = moka::sync::Cache::builder()
            .max_capacity(config.max_lists)
            .build();
        Ok(Self {
            config,
            fetcher,
            lists,
        })
    }

    pub fn require_status(&self) -> bool {
        self.config.require_status
    }

    /// `Ok` when the referenced status is VALID; the precise refusal otherwise.
    pub async fn check(
        &self,
        reference: &StatusReference,
        context: &Context<'_>,
    ) -> Result<(), Error> {
        let status = self.status_of(reference, context).await?;
        match status {
            VALID => Ok(()),
            INVALID => Err(Error::Revoked),
            SUSPENDED => Err(Error::Suspended),
            other => Err(Error::UnknownStatus(other)),
        }
    }

    async fn status_of(
        &self,
        reference: &StatusReference,
        context: &Context<'_>,
    ) -> Result<u8, Error> {
        let entry = self
            .lists
            .get_with_by_ref(reference.uri.as_str(), || Arc::new(ListEntry::new()));
        let now = context.clock.now();
        let loaded = match entry.current.load_full() {
            Some(loaded) if now < loaded.fresh_until => loaded,
            _ => self.refresh(&entry, reference, context, now).await?,
        };
        loaded
            .list
            .get(reference.idx)
            .ok_or(Error::InvalidClaim("status"))
    }

    /// Fetches the list again (single-flight, not sooner than `retry_interval` after a
    /// failure), falling back to the last good copy while it is within its staleness bound.
    async fn refresh(
        &self,
        entry: &ListEntry,
        reference: &StatusReference,
        context: &Context<'_>,
        now: UnixTime,
    ) -> Result<Arc<LoadedList>, Error> {
        let usable_or_unavailable = |now: UnixTime| match entry.current.load_full() {
            Some(loaded) if now <= loaded.usable_until => Ok(loaded),
            _ => Err(Error::StatusUnavailable(format!(
                "the status list {} could not be had: {}",
                reference.uri,
                entry.last_failure_reason.lock().expect("not poisoned")
            ))),
        };
        let retry = self.config.retry_interval.as_secs() as i64;
        if now.saturating_sub(entry.last_failure.load(Ordering::Acquire)) < retry {
            return usable_or_unavailable(now);
        }
        let seen = entry.attempts.load(Ordering::Acquire);
        let _flight = entry.fetch_lock.lock().await;
        let now = context.clock.now();
        if entry.attempts.load(Ordering::Acquire) != seen {
            if let Some(loaded) = entry
                .current
                .load_full()
                .filter(|loaded| now < loaded.fresh_until)
            {
                return Ok(loaded);
            }
            return usable_or_unavailable(now);
        }
        let outcome = self.fetch(&reference.uri, context, now).await;
        entry.attempts.fetch_add(1, Ordering::AcqRel);
        match outcome {
            Ok(loaded) => {
                let loaded = Arc::new(loaded);
                entry.current.store(Some(loaded.clone()));
                entry.last_failure.store(NEVER, Ordering::Release);
                Ok(loaded)
            }
            Err(reason) => {
                tracing::warn!(uri = %reference.uri, "the status list could not be refreshed: {reason}");
                *entry.last_failure_reason.lock().expect("not poisoned") = reason;
                entry.last_failure.store(now, Ordering::Release);
                usable_or_unavailable(now)
            }
        }
    }

    /// Fetches and validates the status list token at `uri` (draft section 8.3).
    async fn fetch(
        &self,
        uri: &str,
        context: &Context<'_>,
        now: UnixTime,
    ) -> Result<LoadedList, String> {
        let url = parse_url(uri)?;
        let fetched = self.fetcher.get(&url, STATUS_LIST_MEDIA_TYPE).await?;
        let token = std::str::from_utf8(&fetched.body)
            .map_err(|_| "the status list token is not text".to_owned())?
            .trim();
        let policy = JwsPolicy {
            max_token_len: self.config.http.max_document_len,
            ..JwsPolicy::default()
        };
        let jws = verify_jws(token, context.keys, &policy)
            .await
            .map_err(|err| format!("the status list token: {err}"))?;
        let typ_ok = jws.header.typ.as_deref().is_some_and(|typ| {
            typ.eq_ignore_ascii_case("statuslist+jwt")
                || typ.eq_ignore_ascii_case("application/statuslist+jwt")
        });
        if !typ_ok {
            return Err("the status list token's typ is not statuslist+jwt".into());
        }
        let claims: StatusListClaims = jws
            .deserialize()
            .map_err(|_| "the status list token's claims are not valid".to_owned())?;
        if claims.sub.as_deref() != Some(uri) {
            return Err("the status list token's sub is not its uri".into());
        }
        if claims
            .iss
            .as_deref()
            .is_some_and(|iss| iss != context.issuer)
        {
            return Err("the status list token was issued by another issuer".into());
        }
        let iat = claims
            .iat
            .as_ref()
            .and_then(seconds)
            .ok_or("the status list token has no iat")?;
        if iat > now + context.leeway {
            return Err("the status list token is issued in the future".into());
        }
        let exp = match &claims.exp {
            None => None,
            Some(exp) => Some(seconds(exp).ok_or("the status list token's exp is not a number")?),
        };
        if exp.is_some_and(|exp| now >= exp + context.leeway) {
            return Err("the status list token has expired".into());
        }
        let ttl = match &claims.ttl {
            None => self.config.default_ttl,
            Some(ttl) => match seconds(ttl) {
                Some(ttl) if ttl > 0 => Duration::from_secs(ttl as u64),
                _ => return Err("the status list token's ttl is not a positive number".into()),
            },
        };
        let ttl = ttl
            .clamp(self.config.min_ttl, self.config.max_ttl)
            .as_secs() as i64;
        let encoded = claims
            .status_list
            .ok_or("the status list token has no status_list")?;
        let list = StatusList::decode(encoded.bits, &encoded.lst, self.config.max_list_len)
            .map_err(|err| format!("the status list: {err}"))?;
        let cap = exp.map_or(i64::MAX, |exp| exp + context.leeway);
        let fresh_until = (now + ttl).min(cap);
        Ok(LoadedList {
            list,
            fresh_until,
            usable_until: (fresh_until + self.config.max_staleness.as_secs() as i64).min(cap),
        })
    }
}
