//! What a running server cannot take from a reloaded file: the parts of the configuration that
//! were turned into listeners, threads, connections and caches when it started.

use super::Settings;

impl Settings {
    /// The keys of `next` that differ from these settings and need a restart. Empty when `next`
    /// can replace these settings in a running server.
    pub fn needs_restart_for(&self, next: &Settings) -> Vec<&'static str> {
        let (now, then) = (&self.client_assertions, &next.client_assertions);
        let checks = [
            ("listen", self.listen != next.listen),
            ("server.workers", self.server.workers != next.server.workers),
            // The TLS listener, its certificate and its client CA were loaded when it was bound.
            ("tls", self.tls != next.tls),
            // The store and its connection are made once.
            ("revocation", self.revocation != next.revocation),
            // The subscriber is installed once per process.
            ("log", self.log != next.log),
            // Their caches and failure counters live across reloads.
            ("client_auth", self.client_auth != next.client_auth),
            ("user_auth", self.user_auth != next.user_auth),
            // The jwks_uri fetcher's cache and HTTP client.
            (
                "client_assertions.jwks_cache_ttl",
                now.jwks_cache_ttl != then.jwks_cache_ttl,
            ),
            (
                "client_assertions.jwks_refetch_interval",
                now.jwks_refetch_interval != then.jwks_refetch_interval,
            ),
            (
                "client_assertions.jwks_fetch_timeout",
                now.jwks_fetch_timeout != then.jwks_fetch_timeout,
            ),
        ];
        checks
            .into_iter()
            .filter_map(|(key, changed)| changed.then_some(key))
            .collect()
    }
}
