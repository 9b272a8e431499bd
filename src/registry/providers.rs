use super::{first_by_key, ClientKeys, RawSecret};
use std::collections::HashMap;
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

/// Providers by name (names were checked unique when the configuration was parsed).
#[derive(Debug, Default, Clone)]
pub struct ProviderRegistry {
    by_name: HashMap<String, Provider>,
}

impl ProviderRegistry {
    pub fn new(providers: Vec<Provider>) -> Self {
        Self {
            by_name: first_by_key(providers, |provider| provider.name.clone()),
        }
    }

    pub fn get(&self, name: &str) -> Option<&Provider> {
        self.by_name.get(name)
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    pub fn len(&self) -> usize {
        self.by_name.len()
    }
}
