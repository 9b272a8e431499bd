//! `[device]`: the device authorization grant's polling interval and the throttle on user-code
//! guessing (RFC 8628 3.5, 5.1). The device code's lifetime is `[tokens] device_code_ttl`.

use super::problems::Problems;
use super::values::duration_or;
use serde::Deserialize;
use std::time::Duration;

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct RawDevice {
    interval: Option<String>,
    user_code_failure_window: Option<String>,
    max_user_code_failures_per_address: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct DeviceSettings {
    /// The least time between two polls of one device code; a faster poll is `slow_down` and
    /// adds 5 seconds to that device code's interval.
    pub interval: Duration,
    /// Wrong user codes are counted per source address over this window.
    pub user_code_failure_window: Duration,
    /// Past this many wrong user codes in the window, an address may enter no code at all.
    pub max_user_code_failures_per_address: u32,
}

impl RawDevice {
    pub(super) fn validate(&self, problems: &mut Problems) -> DeviceSettings {
        let settings = DeviceSettings {
            interval: duration_or(
                problems,
                "interval",
                self.interval.as_ref(),
                Duration::from_secs(5),
            ),
            user_code_failure_window: duration_or(
                problems,
                "user_code_failure_window",
                self.user_code_failure_window.as_ref(),
                Duration::from_secs(15 * 60),
            ),
            max_user_code_failures_per_address: self
                .max_user_code_failures_per_address
                .unwrap_or(10),
        };
        if settings.interval > Duration::from_secs(60) {
            problems.push("interval", "must be at most 60s");
        }
        if settings.max_user_code_failures_per_address == 0 {
            problems.push("max_user_code_failures_per_address", "must be at least 1");
        }
        settings
    }
}
