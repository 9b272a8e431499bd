//! `[client_assertions]`: rules for client assertions (RFC 7523) and for fetching the keys of
//! clients' `jwks_uri`.

use super::problems::Problems;
use super::values::duration_or;
use serde::Deserialize;
use std::time::Duration;

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct RawClientAssertions {
    max_lifetime: Option<String>,
    clock_skew: Option<String>,
    max_size: Option<u64>,
    jwks_cache_ttl: Option<String>,
    jwks_refetch_interval: Option<String>,
    jwks_fetch_timeout: Option<String>,
}

/// Rules for client assertions (RFC 7523).
#[derive(Debug, Clone)]
pub struct ClientAssertionSettings {
    /// The longest an assertion may live (`exp` - `iat`, or `exp` - now).
    pub max_lifetime: Duration,
    /// Tolerated clock difference on `exp`, `nbf`, `iat`.
    pub clock_skew: Duration,
    /// The largest assertion accepted, in bytes.
    pub max_size: usize,
    /// How long keys fetched from a client's `jwks_uri` are used.
    pub jwks_cache_ttl: Duration,
    /// A client's `jwks_uri` is fetched again for an unknown `kid` at most this often.
    pub jwks_refetch_interval: Duration,
    pub jwks_fetch_timeout: Duration,
}

impl ClientAssertionSettings {
    /// How the keys at `uri` (a client's, a trusted issuer's, a provider's `jwks_uri`) are
    /// fetched: on first use, kept `jwks_cache_ttl`, fetched again for an unknown kid at most
    /// every `jwks_refetch_interval`, each fetch bounded by `jwks_fetch_timeout`.
    pub fn remote_keys(&self, uri: &str) -> tessera_verifier::RemoteKeysConfig {
        let mut config = tessera_verifier::RemoteKeysConfig::jwks_uri(uri)
            .max_age_bounds(self.jwks_cache_ttl, self.jwks_cache_ttl)
            .unknown_kid_refetch_interval(self.jwks_refetch_interval)
            .http(tessera_verifier::HttpConfig {
                timeout: self.jwks_fetch_timeout,
                connect_timeout: self.jwks_fetch_timeout,
                ..tessera_verifier::HttpConfig::default()
            });
        config.default_max_age = self.jwks_cache_ttl;
        config
    }
}

impl RawClientAssertions {
    pub(super) fn validate(&self, problems: &mut Problems) -> ClientAssertionSettings {
        let settings = ClientAssertionSettings {
            // An hour: what authlib makes by default (exp = iat + 3600), and more than
            // openid-client (60 s), Spring Security (60 s) or MSAL.NET (10 min) make; still
            // bounded, so a stolen assertion cannot be kept for later.
            max_lifetime: duration_or(
                problems,
                "max_lifetime",
                self.max_lifetime.as_ref(),
                Duration::from_secs(3600),
            ),
            clock_skew: duration_or(
                problems,
                "clock_skew",
                self.clock_skew.as_ref(),
                Duration::from_secs(60),
            ),
            max_size: self.max_size.unwrap_or(8192) as usize,
            jwks_cache_ttl: duration_or(
                problems,
                "jwks_cache_ttl",
                self.jwks_cache_ttl.as_ref(),
                Duration::from_secs(300),
            ),
            jwks_refetch_interval: duration_or(
                problems,
                "jwks_refetch_interval",
                self.jwks_refetch_interval.as_ref(),
                Duration::from_secs(60),
            ),
            jwks_fetch_timeout: duration_or(
                problems,
                "jwks_fetch_timeout",
                self.jwks_fetch_timeout.as_ref(),
                Duration::from_secs(3),
            ),
        };
        if !(512..=16384).contains(&settings.max_size) {
            problems.push("max_size", "must be between 512 and 16384");
        }
        settings
    }
}
