//! `[revocation]`: where the denylist and the replay caches live.

use super::problems::Problems;
use crate::names::not_one_of;
use serde::Deserialize;
use strum::{EnumIter, EnumString, IntoStaticStr};

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct RawRevocation {
    backend: Option<String>,
    url: Option<String>,
    key_prefix: Option<String>,
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
    Redis { url: String, key_prefix: String },
}

impl RevocationBackend {
    /// What the startup log says: the backend, and for Redis where it is (never its password).
    pub fn describe(&self) -> String {
        match self {
            RevocationBackend::Memory => "memory".to_owned(),
            RevocationBackend::Redis { url, key_prefix } => {
                let place = url::Url::parse(url)
                    .ok()
                    .and_then(|url| {
                        let host = url.host_str()?.to_owned();
                        Some(format!(
                            "{host}:{}{}",
                            url.port().unwrap_or(6379),
                            url.path()
                        ))
                    })
                    .unwrap_or_default();
                format!("redis {place} (prefix {key_prefix})")
            }
        }
    }
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
    pub(super) fn validate(&self, problems: &mut Problems) -> RevocationSettings {
        let settings = RevocationSettings {
            backend: self.backend(problems),
            capacity: self.capacity.unwrap_or(1_000_000),
            replay_capacity: self.replay_capacity.unwrap_or(1_000_000),
        };
        if settings.capacity == 0 || settings.replay_capacity == 0 {
            problems.push("", "capacities must be at least 1");
        }
        settings
    }

    fn backend(&self, problems: &mut Problems) -> RevocationBackend {
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
                if self.url.is_some() {
                    problems.push("url", "only used with backend = \"redis\"");
                }
                RevocationBackend::Memory
            }
            BackendName::Redis => match &self.url {
                Some(url) if url.starts_with("redis://") => RevocationBackend::Redis {
                    url: url.clone(),
                    key_prefix: self
                        .key_prefix
                        .clone()
                        .unwrap_or_else(|| "tessera".to_owned()),
                },
                Some(_) => {
                    problems.push(
                        "url",
                        "must be a redis:// URL (TLS to Redis is not built in)",
                    );
                    RevocationBackend::Memory
                }
                None => {
                    problems.push("url", "is required with backend = \"redis\"");
                    RevocationBackend::Memory
                }
            },
        }
    }
}
