//! Fetching clients' `jwks_uri`: with a timeout, cached for a TTL, and fetched again for an
//! unknown `kid` at most once per interval per URI, so a flood of made-up kids cannot hammer the
//! client's server.

use crate::settings::ClientAssertionSettings;
use moka::future::Cache;
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub type Keys = Arc<Vec<Map<String, Value>>>;

pub struct JwksFetcher {
    http: reqwest::Client,
    keys: Cache<String, Keys>,
    /// When each URI was last fetched again for an unknown kid.
    last_refetch: moka::sync::Cache<String, Instant>,
    refetch_interval: Duration,
}

/// Largest JWK Set accepted from a client.
const MAX_JWKS_BYTES: usize = 64 * 1024;

impl JwksFetcher {
    pub fn new(settings: &ClientAssertionSettings) -> Self {
        Self {
            http: reqwest::Client::builder()
                .timeout(settings.jwks_fetch_timeout)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("an HTTP client builds"),
            keys: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(settings.jwks_cache_ttl)
                .build(),
            last_refetch: moka::sync::Cache::builder().max_capacity(10_000).build(),
            refetch_interval: settings.jwks_refetch_interval,
        }
    }

    async fn fetch(&self, uri: &str) -> Result<Keys, String> {
        let response = self
            .http
            .get(uri)
            .send()
            .await
            .map_err(|err| err.to_string())?;
        if !response.status().is_success() {
            return Err(format!("status {}", response.status()));
        }
        let body = response.bytes().await.map_err(|err| err.to_string())?;
        if body.len() > MAX_JWKS_BYTES {
            return Err("the JWK Set is too large".into());
        }
        let set: Value = serde_json::from_slice(&body).map_err(|err| err.to_string())?;
        let keys = set
            .get("keys")
            .and_then(Value::as_array)
            .ok_or("not a JWK Set")?
            .iter()
            .filter_map(|key| key.as_object().cloned())
            // Only public keys are ever used.
            .filter(|key| !crate::jose::has_private_members(key))
            .collect();
        Ok(Arc::new(keys))
    }

    /// The keys at `uri`: cached, or fetched. With `refetch` (an unknown kid arrived), fetched
    /// again unless the last such refetch was less than the refetch interval ago.
    pub async fn keys(&self, uri: &str, refetch: bool) -> Result<Keys, String> {
        if refetch {
            let recent = self
                .last_refetch
                .get(uri)
                .is_some_and(|at| at.elapsed() < self.refetch_interval);
            if !recent {
                self.last_refetch.insert(uri.to_owned(), Instant::now());
                let keys = self.fetch(uri).await?;
                self.keys.insert(uri.to_owned(), keys.clone()).await;
                return Ok(keys);
            }
        }
        self.keys
            .try_get_with(uri.to_owned(), self.fetch(uri))
            .await
            .map_err(|err| err.to_string())
    }
}
