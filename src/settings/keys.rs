//! `[keys]`: how signing keys are published around a rotation.

use super::problems::Problems;
use super::values::duration_or;
use serde::Deserialize;
use std::time::Duration;

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct RawKeys {
    publish_ahead: Option<String>,
    jwks_max_age: Option<String>,
}

#[derive(Debug, Clone)]
pub struct KeySettings {
    /// How long a rotated-in signing key is published before it signs.
    pub publish_ahead: Duration,
    /// `Cache-Control: max-age` of the JWKS; shorter than `publish_ahead`.
    pub jwks_max_age: Duration,
}

impl RawKeys {
    pub(super) fn validate(&self, problems: &mut Problems) -> KeySettings {
        let keys = KeySettings {
            publish_ahead: duration_or(
                problems,
                "publish_ahead",
                self.publish_ahead.as_ref(),
                Duration::from_secs(15 * 60),
            ),
            jwks_max_age: duration_or(
                problems,
                "jwks_max_age",
                self.jwks_max_age.as_ref(),
                Duration::from_secs(5 * 60),
            ),
        };
        if keys.jwks_max_age >= keys.publish_ahead {
            problems.push(
                "jwks_max_age",
                "must be shorter than keys.publish_ahead, or verifiers could miss a new key",
            );
        }
        keys
    }
}
