//! The configuration a test app starts on, as typed values: `TestConfig` and one struct per
//! section (the registered records are in `records`), serialized with the `toml` crate into the
//! file the real loader reads. The tests thereby exercise the same parser an operator's file goes
//! through.
//!
//! Every key of a section or record is a public field (unset options are left out of the file);
//! the builder methods cover what the tests set. `TestConfig::raw` writes a value no typed field
//! can hold, for the tests of bad configurations.

use super::*;
use serde::{Serialize, Serializer};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tessera::jose::SigningAlg;
use tessera::settings::{ConfigError, Settings};

/// A whole configuration file.
#[derive(Serialize, Clone, Debug)]
pub struct TestConfig {
    pub issuer: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    pub listen: String,
    pub keys_dir: String,
    #[serde(skip_serializing_if = "is_default")]
    pub server: ServerConfig,
    #[serde(skip_serializing_if = "is_default")]
    pub tokens: TokensConfig,
    #[serde(skip_serializing_if = "is_default")]
    pub keys: KeysConfig,
    #[serde(skip_serializing_if = "is_default")]
    pub client_auth: ClientAuthConfig,
    #[serde(skip_serializing_if = "is_default")]
    pub user_auth: UserAuthConfig,
    #[serde(skip_serializing_if = "is_default")]
    pub log: LogConfig,
    #[serde(skip_serializing_if = "is_default")]
    pub revocation: RevocationConfig,
    #[serde(skip_serializing_if = "is_default")]
    pub authorize: AuthorizeConfig,
    #[serde(skip_serializing_if = "is_default")]
    pub client_assertions: ClientAssertionsConfig,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub clients: Vec<ClientConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<UserConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<ResourceConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub trusted_issuers: Vec<TrustedIssuerConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub providers: Vec<ProviderConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<RouteConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub uma_resources: Vec<UmaResourceConfig>,
    /// Values written over the serialized file by dotted path, see `raw`.
    #[serde(skip)]
    raw: Vec<(String, toml::Value)>,
}

impl Default for TestConfig {
    fn default() -> Self {
        TestConfig::new()
    }
}

impl TestConfig {
    /// The configuration every test starts from: issuer `ISSUER` on an ephemeral port, keys in
    /// `keys/` next to the file, ES256, 15-minute access tokens, quiet logs, and the standard
    /// clients and users.
    pub fn new() -> TestConfig {
        TestConfig {
            issuer: ISSUER.to_owned(),
            profile: None,
            listen: "127.0.0.1:0".to_owned(),
            keys_dir: "keys".to_owned(),
            server: ServerConfig::default(),
            tokens: TokensConfig {
                signing_alg: Some(SigningAlg::ES256),
                access_token_ttl: Some(Duration::from_secs(15 * 60)),
                ..TokensConfig::default()
            },
            keys: KeysConfig::default(),
            client_auth: ClientAuthConfig::default(),
            user_auth: UserAuthConfig::default(),
            log: LogConfig {
                level: Some("warn".to_owned()),
                ..LogConfig::default()
            },
            revocation: RevocationConfig::default(),
            authorize: AuthorizeConfig::default(),
            client_assertions: ClientAssertionsConfig::default(),
            tls: None,
            clients: standard_clients(),
            users: standard_users(),
            resources: Vec::new(),
            trusted_issuers: Vec::new(),
            providers: Vec::new(),
            routes: Vec::new(),
            uma_resources: Vec::new(),
            raw: Vec::new(),
        }
    }

    pub fn issuer(mut self, issuer: &str) -> Self {
        issuer.clone_into(&mut self.issuer);
        self
    }

    /// The security profile (`"fapi2"`).
    pub fn profile(mut self, profile: &str) -> Self {
        self.profile = Some(profile.to_owned());
        self
    }

    pub fn signing_alg(mut self, alg: SigningAlg) -> Self {
        self.tokens.signing_alg = Some(alg);
        self
    }

    pub fn server(mut self, section: ServerConfig) -> Self {
        self.server = section;
        self
    }

    pub fn client_auth(mut self, section: ClientAuthConfig) -> Self {
        self.client_auth = section;
        self
    }

    pub fn user_auth(mut self, section: UserAuthConfig) -> Self {
        self.user_auth = section;
        self
    }

    pub fn log(mut self, section: LogConfig) -> Self {
        self.log = section;
        self
    }

    pub fn revocation(mut self, section: RevocationConfig) -> Self {
        self.revocation = section;
        self
    }

    pub fn authorize(mut self, section: AuthorizeConfig) -> Self {
        self.authorize = section;
        self
    }

    pub fn client_assertions(mut self, section: ClientAssertionsConfig) -> Self {
        self.client_assertions = section;
        self
    }

    pub fn tls(mut self, section: TlsConfig) -> Self {
        self.tls = Some(section);
        self
    }

    /// Registers one more client, after the standard ones.
    pub fn client(mut self, client: ClientConfig) -> Self {
        self.clients.push(client);
        self
    }

    pub fn user(mut self, user: UserConfig) -> Self {
        self.users.push(user);
        self
    }

    pub fn resource(mut self, resource: ResourceConfig) -> Self {
        self.resources.push(resource);
        self
    }

    pub fn trusted_issuer(mut self, issuer: TrustedIssuerConfig) -> Self {
        self.trusted_issuers.push(issuer);
        self
    }

    pub fn provider(mut self, provider: ProviderConfig) -> Self {
        self.providers.push(provider);
        self
    }

    pub fn route(mut self, route: RouteConfig) -> Self {
        self.routes.push(route);
        self
    }

    pub fn uma_resource(mut self, resource: UmaResourceConfig) -> Self {
        self.uma_resources.push(resource);
        self
    }

    /// Writes `value` at the dotted `path` of the file (`"tokens.signing_alg"`), over whatever
    /// the typed fields put there: the escape hatch for keys and values the loader must refuse.
    pub fn raw(mut self, path: &str, value: impl Into<toml::Value>) -> Self {
        self.raw.push((path.to_owned(), value.into()));
        self
    }

    /// The file's text.
    pub fn to_toml(&self) -> String {
        let mut table = toml::Table::try_from(self).expect("the test config serializes");
        for (path, value) in &self.raw {
            let mut keys: Vec<&str> = path.split('.').collect();
            let last = keys.pop().unwrap();
            let mut section = &mut table;
            for key in keys {
                section = section
                    .entry(key)
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()))
                    .as_table_mut()
                    .unwrap_or_else(|| panic!("{key} in {path} is not a table"));
            }
            section.insert(last.to_owned(), value.clone());
        }
        toml::to_string(&table).unwrap()
    }

    /// Writes the file as `dir/tessera.toml` and returns its path.
    pub fn write_in(&self, dir: &Path) -> PathBuf {
        let path = dir.join("tessera.toml");
        std::fs::write(&path, self.to_toml()).unwrap();
        path
    }

    /// The loader's verdict on the file, its relative paths taken from `base_dir`.
    pub fn parse_in(&self, base_dir: &Path) -> Result<Settings, ConfigError> {
        Settings::parse(&self.to_toml(), base_dir, Vec::new())
    }
}

#[derive(Serialize, Clone, Debug, Default, PartialEq)]
pub struct ServerConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_body_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workers: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub argon2_workers: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub argon2_queue: Option<u64>,
    #[serde(with = "duration", skip_serializing_if = "Option::is_none")]
    pub argon2_wait: Option<Duration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trusted_proxies: Option<Vec<String>>,
}

#[derive(Serialize, Clone, Debug, Default, PartialEq)]
pub struct TokensConfig {
    #[serde(with = "duration", skip_serializing_if = "Option::is_none")]
    pub access_token_ttl: Option<Duration>,
    #[serde(with = "duration", skip_serializing_if = "Option::is_none")]
    pub refresh_token_ttl: Option<Duration>,
    #[serde(with = "duration", skip_serializing_if = "Option::is_none")]
    pub id_token_ttl: Option<Duration>,
    #[serde(
        serialize_with = "signing_alg",
        skip_serializing_if = "Option::is_none"
    )]
    pub signing_alg: Option<SigningAlg>,
}

#[derive(Serialize, Clone, Debug, Default, PartialEq)]
pub struct KeysConfig {
    #[serde(with = "duration", skip_serializing_if = "Option::is_none")]
    pub publish_ahead: Option<Duration>,
    #[serde(with = "duration", skip_serializing_if = "Option::is_none")]
    pub jwks_max_age: Option<Duration>,
}

/// `[client_auth]`: failure throttling and the verified-secret cache.
#[derive(Serialize, Clone, Debug, Default, PartialEq)]
pub struct ClientAuthConfig {
    #[serde(with = "duration", skip_serializing_if = "Option::is_none")]
    pub failure_window: Option<Duration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_failures_per_client: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_failures_per_address: Option<u32>,
    #[serde(with = "duration", skip_serializing_if = "Option::is_none")]
    pub secret_cache_ttl: Option<Duration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_cache_capacity: Option<u64>,
}

/// `[user_auth]`: the same for users' passwords.
#[derive(Serialize, Clone, Debug, Default, PartialEq)]
pub struct UserAuthConfig {
    #[serde(with = "duration", skip_serializing_if = "Option::is_none")]
    pub failure_window: Option<Duration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_failures_per_user: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_failures_per_address: Option<u32>,
    #[serde(with = "duration", skip_serializing_if = "Option::is_none")]
    pub secret_cache_ttl: Option<Duration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_cache_capacity: Option<u64>,
}

#[derive(Serialize, Clone, Debug, Default, PartialEq)]
pub struct LogConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
}

#[derive(Serialize, Clone, Debug, Default, PartialEq)]
pub struct RevocationConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_prefix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_nodes: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_ca_file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replay_capacity: Option<u64>,
}

impl RevocationConfig {
    /// The shared Redis backend at `url`, its keys under `key_prefix`.
    pub fn redis(url: &str, key_prefix: &str) -> RevocationConfig {
        RevocationConfig {
            backend: Some("redis".to_owned()),
            url: Some(url.to_owned()),
            key_prefix: Some(key_prefix.to_owned()),
            ..RevocationConfig::default()
        }
    }
}

#[derive(Serialize, Clone, Debug, Default, PartialEq)]
pub struct AuthorizeConfig {
    #[serde(with = "duration", skip_serializing_if = "Option::is_none")]
    pub session_ttl: Option<Duration>,
    #[serde(with = "duration", skip_serializing_if = "Option::is_none")]
    pub code_ttl: Option<Duration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub require_pushed_authorization_requests: Option<bool>,
    #[serde(with = "duration", skip_serializing_if = "Option::is_none")]
    pub request_uri_ttl: Option<Duration>,
}

#[derive(Serialize, Clone, Debug, Default, PartialEq)]
pub struct ClientAssertionsConfig {
    #[serde(with = "duration", skip_serializing_if = "Option::is_none")]
    pub max_lifetime: Option<Duration>,
    #[serde(with = "duration", skip_serializing_if = "Option::is_none")]
    pub clock_skew: Option<Duration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_size: Option<u64>,
    #[serde(with = "duration", skip_serializing_if = "Option::is_none")]
    pub jwks_cache_ttl: Option<Duration>,
    #[serde(with = "duration", skip_serializing_if = "Option::is_none")]
    pub jwks_refetch_interval: Option<Duration>,
    #[serde(with = "duration", skip_serializing_if = "Option::is_none")]
    pub jwks_fetch_timeout: Option<Duration>,
}

/// `[tls]`: the mutual-TLS listener; file paths are relative to the config file.
#[derive(Serialize, Clone, Debug, Default, PartialEq)]
pub struct TlsConfig {
    pub listen: String,
    pub cert_file: String,
    pub key_file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_ca_file: Option<String>,
    pub base_url: String,
}

pub(super) fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|&value| value.to_owned()).collect()
}

pub(super) fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

fn signing_alg<S: Serializer>(alg: &Option<SigningAlg>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(alg.expect("skipped when unset").as_str())
}

/// Durations as the config file spells them: a whole number of the largest unit that divides
/// them exactly ("15m", "2m", "90s", "30d").
pub(super) mod duration {
    use serde::Serializer;
    use std::time::Duration;

    pub fn serialize<S: Serializer>(
        value: &Option<Duration>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let seconds = value.expect("skipped when unset").as_secs();
        let text = [(86_400, "d"), (3_600, "h"), (60, "m")]
            .into_iter()
            .find(|(unit, _)| seconds > 0 && seconds % unit == 0)
            .map(|(unit, suffix)| format!("{}{suffix}", seconds / unit))
            .unwrap_or_else(|| format!("{seconds}s"));
        serializer.serialize_str(&text)
    }
}
