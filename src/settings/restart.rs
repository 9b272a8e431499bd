//! What a running server cannot take from a reloaded file: the parts of the configuration that
//! were turned into listeners, threads, connections and caches when it started.

use super::Settings;

impl Settings {
    /// The keys of `next` that differ from these settings and need a restart. Empty when `next`
    /// can replace these settings in a running server.
    pub fn needs_restart_for(&self, next: &Settings) -> Vec<&'static str> {
        let checks = [
            ("listen", self.listen != next.listen),
            ("server.workers", self.server.workers != next.server.workers),
            // The argon2 pool's workers, queue and wait are fixed when it is made.
            (
                "server.argon2_workers",
                self.server.argon2_workers != next.server.argon2_workers,
            ),
            (
                "server.argon2_queue",
                self.server.argon2_queue != next.server.argon2_queue,
            ),
            (
                "server.argon2_wait",
                self.server.argon2_wait != next.server.argon2_wait,
            ),
            // The TLS listener, its certificate and its client CA were loaded when it was bound.
            ("tls", self.tls != next.tls),
            // The store and its connection are made once.
            ("revocation", self.revocation != next.revocation),
            // The store cuts its lists by this layout, and keeps them as long as it says (which
            // the longest token lifetime and the code lifetime decide).
            (
                "status_lists (window, list_size), or a token or code lifetime that sets how long lists are kept",
                self.status_list_layout() != next.status_list_layout(),
            ),
            // The subscriber is installed once per process.
            ("log", self.log != next.log),
            // Their caches and failure counters live across reloads.
            ("client_auth", self.client_auth != next.client_auth),
            ("user_auth", self.user_auth != next.user_auth),
        ];
        checks
            .into_iter()
            .filter_map(|(key, changed)| changed.then_some(key))
            .collect()
    }
}
