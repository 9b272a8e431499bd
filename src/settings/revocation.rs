//! `[revocation]`: where the shared state lives (status lists, denylist, replay caches,
//! throttle counters): this process, or Redis (one server, TLS or not, or a Redis Cluster).

use super::problems::Problems;
use crate::names::not_one_of;
use serde::Deserialize;
use std::path::Path;
use strum::{EnumIter, EnumString, IntoStaticStr};

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct RawRevocation {
    backend: Option<String>,
    url: Option<String>,
    key_prefix: Option<String>,
    cluster_nodes: Option<Vec<String>>,
    tls_ca_file: Option<String>,
    capacity: Option<u64>,
    replay_capacity: Option<u64>,
}

/// The names `backend` takes.
#[derive(Clone, Copy, EnumIter, IntoStaticStr, EnumString)]
#[strum(serialize_all = "lowercase")]
enum BackendName {
    Memory,
    Redis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevocationBackend {
    /// In this process: fine for one node.
    Memory,
    /// Shared by every replica.
    Redis {
        target: RedisTarget,
        key_prefix: String,
        /// PEM CA certificates a `rediss://` server's certificate must chain to (else the
        /// system's roots).
        tls_ca: Option<Vec<u8>>,
    },
}

/// Where Redis is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedisTarget {
    /// One server: `redis://` or `rediss://` (TLS).
    Single(String),
    /// A Redis Cluster, by some of its nodes (the others are discovered).
    Cluster(Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct RevocationSettings {
    pub backend: RevocationBackend,
    /// Live denylist entries the memory backend holds; past it new revocations get 503.
    pub capacity: u64,
    /// Live single-use ids (assertions, codes, spent refresh tokens) the memory backend holds.
    pub replay_capacity: u64,
}

impl RawRevocation {
    pub(super) fn validate(&self, problems: &mut Problems, base_dir: &Path) -> RevocationSettings {
        let settings = RevocationSettings {
            backend: self.backend(problems, base_dir),
            capacity: self.capacity.unwrap_or(1_000_000),
            replay_capacity: self.replay_capacity.unwrap_or(1_000_000),
        };
        if settings.capacity == 0 || settings.replay_capacity == 0 {
            problems.push("", "capacities must be at least 1");
        }
        settings
    }

    fn backend(&self, problems: &mut Problems, base_dir: &Path) -> RevocationBackend {
        let name = match self.backend.as_deref() {
            None => BackendName::Memory,
            Some(text) => match text.parse() {
                Ok(name) => name,
                Err(_) => {
                    problems.push("backend", not_one_of::<BackendName>(&format!("'{text}'")));
                    return RevocationBackend::Memory;
                }
            },
        };
        match name {
            BackendName::Memory => {
                for (field, set) in [
                    ("url", self.url.is_some()),
                    ("cluster_nodes", self.cluster_nodes.is_some()),
                    ("tls_ca_file", self.tls_ca_file.is_some()),
                ] {
                    if set {
                        problems.push(field, "only used with backend = \"redis\"");
                    }
                }
                RevocationBackend::Memory
            }
            BackendName::Redis => {
                let target = match (&self.url, &self.cluster_nodes) {
                    (Some(url), None) => problems
                        .check("url", redis_url(url))
                        .map(|url| RedisTarget::Single(url.to_owned())),
                    (None, Some(nodes)) if !nodes.is_empty() => {
                        let mut checked = Vec::new();
                        for (index, node) in nodes.iter().enumerate() {
                            if let Some(url) =
                                problems.check(&format!("cluster_nodes[{index}]"), redis_url(node))
                            {
                                checked.push(url.to_owned());
                            }
                        }
                        (checked.len() == nodes.len()).then_some(RedisTarget::Cluster(checked))
                    }
                    (Some(_), Some(_)) => {
                        problems.push(
                            "",
                            "set url (one server) or cluster_nodes (a Redis Cluster), not both",
                        );
                        None
                    }
                    _ => {
                        problems.push(
                            "url",
                            "is required with backend = \"redis\" (or cluster_nodes)",
                        );
                        None
                    }
                };
                let tls_ca = self.tls_ca_file.as_ref().and_then(|file| {
                    let full = base_dir.join(file);
                    problems.check(
                        "tls_ca_file",
                        std::fs::read(&full)
                            .map_err(|err| format!("cannot read {}: {err}", full.display())),
                    )
                });
                match target {
                    Some(target) => RevocationBackend::Redis {
                        target,
                        key_prefix: self
                            .key_prefix
                            .clone()
                            .unwrap_or_else(|| "tessera".to_owned()),
                        tls_ca,
                    },
                    None => RevocationBackend::Memory,
                }
            }
        }
    }
}

/// A `redis://` or `rediss://` (TLS) URL.
fn redis_url(url: &str) -> Result<&str, String> {
    match url::Url::parse(url) {
        Ok(parsed) if ["redis", "rediss"].contains(&parsed.scheme()) && parsed.host().is_some() => {
            Ok(url)
        }
        _ => Err(format!(
            "'{}' is not a redis:// or rediss:// URL",
            crate::revocation::display_address(url)
        )),
    }
}
