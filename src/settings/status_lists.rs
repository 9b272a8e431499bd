//! `[status_lists]`: how the IETF Token Status Lists of access tokens are cut and served.

use super::problems::Problems;
use super::values::duration_or;
use serde::Deserialize;
use std::time::Duration;

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct RawStatusLists {
    window: Option<String>,
    list_size: Option<u32>,
    ttl: Option<String>,
    token_lifetime: Option<String>,
}

#[derive(Debug, Clone)]
pub struct StatusListSettings {
    /// Every access token issued in one window points into that window's lists.
    pub window: Duration,
    /// Indices (tokens) one list holds; a busier window gets more lists.
    pub list_size: u32,
    /// How long a resource server may cache a list before fetching it again (`ttl`, and the
    /// `Cache-Control` max-age).
    pub ttl: Duration,
    /// A status list token is valid this long after it is made (`exp`).
    pub token_lifetime: Duration,
}

/// The smallest list: anything smaller tells a resource server which few tokens it covers.
const MIN_LIST_SIZE: u32 = 1024;
/// The largest: 8 MiB of bits, a size every verifier can be expected to take.
const MAX_LIST_SIZE: u32 = 1 << 26;

impl RawStatusLists {
    pub(super) fn validate(&self, problems: &mut Problems) -> StatusListSettings {
        let settings = StatusListSettings {
            window: duration_or(
                problems,
                "window",
                self.window.as_ref(),
                Duration::from_secs(15 * 60),
            ),
            list_size: self.list_size.unwrap_or(1 << 22),
            ttl: duration_or(problems, "ttl", self.ttl.as_ref(), Duration::from_secs(60)),
            token_lifetime: duration_or(
                problems,
                "token_lifetime",
                self.token_lifetime.as_ref(),
                Duration::from_secs(3600),
            ),
        };
        if settings.window < Duration::from_secs(60) {
            problems.push("window", "must be at least 1 minute");
        }
        if !(MIN_LIST_SIZE..=MAX_LIST_SIZE).contains(&settings.list_size)
            || settings.list_size % 8 != 0
        {
            problems.push(
                "list_size",
                format!("must be a multiple of 8 from {MIN_LIST_SIZE} to {MAX_LIST_SIZE}"),
            );
        }
        if settings.ttl.is_zero() {
            problems.push("ttl", "must be at least 1 second");
        }
        if settings.token_lifetime < settings.ttl {
            problems.push("token_lifetime", "must be at least the ttl");
        }
        settings
    }
}
