//! Prometheus metrics, one registry per application (tests run several side by side).

use crate::oauth::credentials::Path;
use crate::oauth::ErrorCode;
use crate::revocation::{RedisHealth, RevocationError};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};
use std::sync::OnceLock;
use std::time::Duration;

pub struct Metrics {
    registry: Registry,
    tokens_issued: IntCounterVec,
    oauth_errors: IntCounterVec,
    request_duration: HistogramVec,
    client_auth: IntCounterVec,
    /// `client_auth`'s counter of each path, resolved on its first use: a label lookup (hashing,
    /// a lock) on every authenticated request otherwise.
    client_auth_paths: [OnceLock<IntCounter>; Path::COUNT],
    key_reloads: IntCounterVec,
    config_reloads: IntCounterVec,
    revocations: IntCounter,
    revocation_refusals: IntCounterVec,
    denylist_entries: IntGauge,
    redis_up: IntGauge,
    redis_failures: IntCounter,
    redis_recoveries: IntCounter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let counter = |name: &str, help: &str, labels: &[&str]| {
            let counter = IntCounterVec::new(Opts::new(name, help), labels)
                .expect("metric definitions are valid");
            registry
                .register(Box::new(counter.clone()))
                .expect("metric names are unique");
            counter
        };
        let tokens_issued = counter(
            "tessera_tokens_issued_total",
            "Access tokens issued, by grant type and client.",
            &["grant_type", "client_id"],
        );
        let oauth_errors = counter(
            "tessera_oauth_errors_total",
            "OAuth error responses, by error code.",
            &["error"],
        );
        let client_auth = counter(
            "tessera_client_secret_checks_total",
            "Client secret checks, by how they were answered (keyed, cached, argon2, unknown, throttled, shed).",
            &["path"],
        );
        let key_reloads = counter(
            "tessera_key_reloads_total",
            "Key folder reloads, by result.",
            &["result"],
        );
        let config_reloads = counter(
            "tessera_config_reloads_total",
            "Configuration reloads (SIGHUP), by result (ok, invalid, restart_required, keys_error).",
            &["result"],
        );
        let revocation_refusals = counter(
            "tessera_revocation_store_refusals_total",
            "Requests the revocation store could not serve, by reason (full, unavailable).",
            &["reason"],
        );
        let revocations = IntCounter::new(
            "tessera_revocations_total",
            "Tokens revoked through the revocation endpoint.",
        )
        .expect("metric definitions are valid");
        registry
            .register(Box::new(revocations.clone()))
            .expect("metric names are unique");
        let denylist_entries = IntGauge::new(
            "tessera_denylist_entries",
            "Live entries of the in-memory denylist.",
        )
        .expect("metric definitions are valid");
        registry
            .register(Box::new(denylist_entries.clone()))
            .expect("metric names are unique");
        let gauge = |name: &str, help: &str| {
            let gauge = IntGauge::new(name, help).expect("metric definitions are valid");
            registry
                .register(Box::new(gauge.clone()))
                .expect("metric names are unique");
            gauge
        };
        let plain_counter = |name: &str, help: &str| {
            let counter = IntCounter::new(name, help).expect("metric definitions are valid");
            registry
                .register(Box::new(counter.clone()))
                .expect("metric names are unique");
            counter
        };
        let redis_up = gauge(
            "tessera_redis_up",
            "1 when the configured Redis answered its last command, 0 while it cannot be reached.",
        );
        let redis_failures = plain_counter(
            "tessera_redis_failures_total",
            "Redis commands that failed (unreachable, timed out, or refused by Redis).",
        );
        let redis_recoveries = plain_counter(
            "tessera_redis_recoveries_total",
            "Times Redis answered again after being unreachable.",
        );
        let request_duration = HistogramVec::new(
            HistogramOpts::new(
                "tessera_http_request_duration_seconds",
                "HTTP request latency, by route.",
            )
            .buckets(vec![
                0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                1.0, 2.5,
            ]),
            &["route"],
        )
        .expect("metric definitions are valid");
        registry
            .register(Box::new(request_duration.clone()))
            .expect("metric names are unique");
        Self {
            registry,
            tokens_issued,
            oauth_errors,
            request_duration,
            client_auth,
            client_auth_paths: Default::default(),
            key_reloads,
            config_reloads,
            revocations,
            revocation_refusals,
            denylist_entries,
            redis_up,
            redis_failures,
            redis_recoveries,
        }
    }

    pub fn record_token(&self, grant_type: &str, client_id: &str) {
        self.tokens_issued
            .with_label_values(&[grant_type, client_id])
            .inc();
    }

    pub fn record_error(&self, code: ErrorCode) {
        self.oauth_errors.with_label_values(&[code.as_str()]).inc();
    }

    pub fn record_request(&self, route: &str, elapsed: Duration) {
        self.request_duration
            .with_label_values(&[route])
            .observe(elapsed.as_secs_f64());
    }

    pub fn record_client_auth(&self, path: Path) {
        self.client_auth_paths[path as usize]
            .get_or_init(|| self.client_auth.with_label_values(&[path.as_str()]))
            .inc();
    }

    pub fn record_key_reload(&self, ok: bool) {
        self.key_reloads
            .with_label_values(&[if ok { "ok" } else { "error" }])
            .inc();
    }

    pub fn record_config_reload(&self, result: &str) {
        self.config_reloads.with_label_values(&[result]).inc();
    }

    pub fn record_revocation(&self) {
        self.revocations.inc();
    }

    pub fn record_revocation_refusal(&self, err: &RevocationError) {
        let reason = match err {
            RevocationError::Full => "full",
            RevocationError::Unavailable(_) => "unavailable",
        };
        self.revocation_refusals.with_label_values(&[reason]).inc();
    }

    pub fn set_denylist_entries(&self, entries: u64) {
        self.denylist_entries.set(entries as i64);
    }

    /// The Redis connection's state, as it is now.
    pub fn set_redis(&self, health: &RedisHealth) {
        self.redis_up.set(i64::from(health.up));
        let catch_up = |counter: &IntCounter, total: u64| {
            counter.inc_by(total.saturating_sub(counter.get()));
        };
        catch_up(&self.redis_failures, health.failures);
        catch_up(&self.redis_recoveries, health.recoveries);
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut buffer)
            .expect("encoding to memory cannot fail");
        String::from_utf8(buffer).expect("the text format is UTF-8")
    }
}
