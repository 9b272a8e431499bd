//! `[authorize]`: the login session, authorization codes and pushed authorization requests.

use super::problems::Problems;
use super::values::duration_or;
use serde::Deserialize;
use std::time::Duration;

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct RawAuthorize {
    session_ttl: Option<String>,
    code_ttl: Option<String>,
    pub(super) require_pushed_authorization_requests: Option<bool>,
    request_uri_ttl: Option<String>,
}

#[derive(Debug, Clone)]
pub struct AuthorizeSettings {
    /// Lifetime of the login session cookie.
    pub session_ttl: Duration,
    /// Lifetime of an authorization code.
    pub code_ttl: Duration,
    /// Every client must push its authorization requests (RFC 9126 5).
    pub require_pushed_authorization_requests: bool,
    /// Lifetime of a pushed request's `request_uri`.
    pub request_uri_ttl: Duration,
}

impl RawAuthorize {
    pub(super) fn validate(&self, problems: &mut Problems) -> AuthorizeSettings {
        let settings = AuthorizeSettings {
            session_ttl: duration_or(
                problems,
                "session_ttl",
                self.session_ttl.as_ref(),
                Duration::from_secs(8 * 3600),
            ),
            code_ttl: duration_or(
                problems,
                "code_ttl",
                self.code_ttl.as_ref(),
                Duration::from_secs(60),
            ),
            require_pushed_authorization_requests: self
                .require_pushed_authorization_requests
                .unwrap_or(false),
            request_uri_ttl: duration_or(
                problems,
                "request_uri_ttl",
                self.request_uri_ttl.as_ref(),
                Duration::from_secs(60),
            ),
        };
        if settings.code_ttl > Duration::from_secs(600) {
            problems.push("code_ttl", "must be at most 10 minutes (RFC 6749 4.1.2)");
        }
        if settings.request_uri_ttl > Duration::from_secs(600) {
            problems.push(
                "request_uri_ttl",
                "must be at most 10 minutes (RFC 9126 2.2: a request_uri is short-lived)",
            );
        }
        settings
    }
}
