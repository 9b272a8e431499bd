//! `[logout]`: how back-channel logout notifications are delivered (OpenID Connect Back-Channel
//! Logout 1.0).

use super::problems::Problems;
use super::values::duration_or;
use serde::Deserialize;
use std::time::Duration;

/// How long a logout token lives (Back-Channel Logout 1.0 section 4: short, so that a captured
/// token is not replayable for long). Its signing key stays published at least this long.
pub const LOGOUT_TOKEN_TTL_SECS: i64 = 120;

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct RawLogout {
    backchannel_timeout: Option<String>,
}

#[derive(Debug, Clone)]
pub struct LogoutSettings {
    /// How long one client's `backchannel_logout_uri` may take to answer.
    pub backchannel_timeout: Duration,
}

impl RawLogout {
    pub(super) fn validate(&self, problems: &mut Problems) -> LogoutSettings {
        let settings = LogoutSettings {
            backchannel_timeout: duration_or(
                problems,
                "backchannel_timeout",
                self.backchannel_timeout.as_ref(),
                Duration::from_secs(5),
            ),
        };
        if settings.backchannel_timeout > Duration::from_secs(60) {
            problems.push("backchannel_timeout", "must be at most 60s");
        }
        settings
    }
}
