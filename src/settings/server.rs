//! `[server]`: request limits, worker threads, the argon2 pool, and which peers may say where a
//! request came from.

use super::problems::Problems;
use super::values::duration_or;
use ipnet::IpNet;
use serde::Deserialize;
use std::time::Duration;

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct RawServer {
    max_body_bytes: Option<u64>,
    workers: Option<u64>,
    argon2_workers: Option<u64>,
    argon2_queue: Option<u64>,
    argon2_wait: Option<String>,
    trusted_proxies: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServerSettings {
    /// Largest request body accepted; larger ones get 413.
    pub max_body_bytes: usize,
    /// HTTP worker threads; one per core when not set.
    pub workers: Option<usize>,
    /// argon2 checks run at once (one per core by default), each with its own reused memory.
    pub argon2_workers: usize,
    /// Checks that may wait for a worker; past them a check is shed with 503.
    pub argon2_queue: usize,
    /// How long a check waits for a worker before it is shed with 503.
    pub argon2_wait: Duration,
    /// Peers whose `Forwarded` / `X-Forwarded-For` headers name the client's address.
    pub trusted_proxies: Vec<IpNet>,
}

/// An address (`10.0.0.7`, `::1`) or a CIDR block (`10.0.0.0/8`, `fd00::/8`).
fn parse_proxy(text: &str) -> Result<IpNet, String> {
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(IpNet::from))
        .map(|net| net.trunc())
        .map_err(|_| format!("'{text}' is not an address or a CIDR block such as 10.0.0.0/8"))
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
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let argon2_workers = self.argon2_workers.map_or(cores, |n| n as usize);
        if !(1..=64).contains(&argon2_workers) {
            problems.push("argon2_workers", "must be between 1 and 64");
        }
        let argon2_queue = self.argon2_queue.unwrap_or(64) as usize;
        if argon2_queue > 100_000 {
            problems.push("argon2_queue", "must be at most 100000");
        }
        let mut trusted_proxies = Vec::new();
        for (index, text) in self.trusted_proxies.iter().flatten().enumerate() {
            if let Some(net) =
                problems.check(&format!("trusted_proxies[{index}]"), parse_proxy(text))
            {
                trusted_proxies.push(net);
            }
        }
        ServerSettings {
            max_body_bytes: max_body_bytes as usize,
            workers: self.workers.map(|n| n as usize),
            argon2_workers,
            argon2_queue,
            argon2_wait: duration_or(
                problems,
                "argon2_wait",
                self.argon2_wait.as_ref(),
                Duration::from_secs(2),
            ),
            trusted_proxies,
        }
    }
}
