//! `[server]`: request limits and worker threads.

use super::problems::Problems;
use serde::Deserialize;

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct RawServer {
    max_body_bytes: Option<u64>,
    workers: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServerSettings {
    /// Largest request body accepted; larger ones get 413.
    pub max_body_bytes: usize,
    /// HTTP worker threads; one per core when not set.
    pub workers: Option<usize>,
}

impl RawServer {
    pub(super) fn validate(&self, problems: &mut Problems) -> ServerSettings {
        let max_body_bytes = self.max_body_bytes.unwrap_or(64 * 1024);
        if !(1024..=16 * 1024 * 1024).contains(&max_body_bytes) {
            problems.push("max_body_bytes", "must be between 1024 and 16777216");
        }
        if self.workers == Some(0) {
            problems.push(
                "workers",
                "must be at least 1 (leave it out for one per core)",
            );
        }
        ServerSettings {
            max_body_bytes: max_body_bytes as usize,
            workers: self.workers.map(|n| n as usize),
        }
    }
}
