//! `[tokens]`: lifetimes and the signing algorithm.

use super::problems::Problems;
use super::values::duration_or;
use crate::jose::SigningAlg;
use serde::Deserialize;
use std::time::Duration;

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct RawTokens {
    access_token_ttl: Option<String>,
    refresh_token_ttl: Option<String>,
    id_token_ttl: Option<String>,
    device_code_ttl: Option<String>,
    signing_alg: Option<String>,
}

#[derive(Debug, Clone)]
pub struct TokenSettings {
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub id_token_ttl: Duration,
    /// RFC 8628: how long a device code (and the user code behind it) can be approved and polled.
    pub device_code_ttl: Duration,
    pub signing_alg: SigningAlg,
}

impl RawTokens {
    pub(super) fn validate(&self, problems: &mut Problems) -> TokenSettings {
        let settings = TokenSettings {
            access_token_ttl: duration_or(
                problems,
                "access_token_ttl",
                self.access_token_ttl.as_ref(),
                Duration::from_secs(15 * 60),
            ),
            refresh_token_ttl: duration_or(
                problems,
                "refresh_token_ttl",
                self.refresh_token_ttl.as_ref(),
                Duration::from_secs(30 * 86400),
            ),
            id_token_ttl: duration_or(
                problems,
                "id_token_ttl",
                self.id_token_ttl.as_ref(),
                Duration::from_secs(15 * 60),
            ),
            device_code_ttl: duration_or(
                problems,
                "device_code_ttl",
                self.device_code_ttl.as_ref(),
                Duration::from_secs(10 * 60),
            ),
            signing_alg: match &self.signing_alg {
                None => SigningAlg::ES256,
                Some(text) => problems
                    .check("signing_alg", text.parse())
                    .unwrap_or(SigningAlg::ES256),
            },
        };
        // A person types the user code on another device: minutes, not days, or guessing
        // pays off over the code's lifetime.
        if settings.device_code_ttl > Duration::from_secs(3600) {
            problems.push("device_code_ttl", "must be at most 1h");
        }
        settings
    }
}
