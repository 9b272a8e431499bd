//! `[client_auth]` and `[user_auth]`: throttling of failed authentications and the cache of
//! verified secrets, for client secrets and user passwords alike.

use super::problems::Problems;
use super::values::duration_or;
use serde::Deserialize;
use std::time::Duration;

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct RawClientAuth {
    failure_window: Option<String>,
    max_failures_per_client: Option<u32>,
    max_failures_per_address: Option<u32>,
    secret_cache_ttl: Option<String>,
    secret_cache_capacity: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct RawUserAuth {
    failure_window: Option<String>,
    max_failures_per_user: Option<u32>,
    max_failures_per_address: Option<u32>,
    secret_cache_ttl: Option<String>,
    secret_cache_capacity: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CredentialSettings {
    /// Failed authentications are counted per subject (client or user) and per source address
    /// over this window.
    pub failure_window: Duration,
    pub max_failures_per_subject: u32,
    pub max_failures_per_address: u32,
    /// How long a verified (or refused) secret is remembered, sparing argon2.
    pub secret_cache_ttl: Duration,
    pub secret_cache_capacity: u64,
}

impl RawClientAuth {
    pub(super) fn validate(&self, problems: &mut Problems) -> CredentialSettings {
        Limits {
            failure_window: self.failure_window.as_ref(),
            max_per_subject: self.max_failures_per_client.unwrap_or(20),
            max_per_address: self.max_failures_per_address.unwrap_or(50),
            cache_ttl: self.secret_cache_ttl.as_ref(),
            cache_capacity: self.secret_cache_capacity,
        }
        .validate(problems)
    }
}

impl RawUserAuth {
    pub(super) fn validate(&self, problems: &mut Problems) -> CredentialSettings {
        Limits {
            failure_window: self.failure_window.as_ref(),
            max_per_subject: self.max_failures_per_user.unwrap_or(5),
            max_per_address: self.max_failures_per_address.unwrap_or(50),
            cache_ttl: self.secret_cache_ttl.as_ref(),
            cache_capacity: self.secret_cache_capacity,
        }
        .validate(problems)
    }
}

/// Either section's values, with the subject limit's default already chosen.
struct Limits<'a> {
    failure_window: Option<&'a String>,
    max_per_subject: u32,
    max_per_address: u32,
    cache_ttl: Option<&'a String>,
    cache_capacity: Option<u64>,
}

impl Limits<'_> {
    fn validate(self, problems: &mut Problems) -> CredentialSettings {
        let settings = CredentialSettings {
            failure_window: duration_or(
                problems,
                "failure_window",
                self.failure_window,
                Duration::from_secs(60),
            ),
            max_failures_per_subject: self.max_per_subject,
            max_failures_per_address: self.max_per_address,
            secret_cache_ttl: duration_or(
                problems,
                "secret_cache_ttl",
                self.cache_ttl,
                Duration::from_secs(3600),
            ),
            secret_cache_capacity: self.cache_capacity.unwrap_or(10_000),
        };
        if self.max_per_subject == 0 || self.max_per_address == 0 {
            problems.push("", "failure limits must be at least 1");
        }
        if settings.secret_cache_capacity == 0 {
            problems.push("secret_cache_capacity", "must be at least 1");
        }
        settings
    }
}
