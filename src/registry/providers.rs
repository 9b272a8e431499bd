use super::{ClientKeys, RawSecret};
use std::time::Duration;

/// An external identity provider whose credentials the `provider` grant exchanges.
#[derive(Debug, Clone)]
pub struct Provider {
    pub name: String,
    pub kind: ProviderKind,
    pub timeout: Duration,
}

#[derive(Debug, Clone)]
pub enum ProviderKind {
    /// Checks an access token with the provider's token-debug API using the app's credentials.
    Facebook {
        app_id: String,
        app_secret: RawSecret,
        base_url: String,
    },
    /// Verifies an ID token against the provider's keys, issuer and audience.
    Oidc {
        issuer: String,
        keys: ClientKeys,
        audience: String,
    },
}
