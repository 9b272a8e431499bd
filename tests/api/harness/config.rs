//! The configuration a test app starts on, as typed values: `TestConfig` and one struct per
//! section and per registered record, serialized with the `toml` crate into the file the real
//! loader reads. The tests thereby exercise the same parser an operator's file goes through.
//!
//! Every key of a section or record is a public field (unset options are left out of the file);
//! the builder methods cover what the tests set often. `TestConfig::raw` writes a value no typed
//! field can hold, for the tests of bad configurations.

use super::*;
use serde::{Serialize, Serializer};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex};
use std::time::Duration;
use tessera::jose::SigningAlg;
use tessera::settings::{ConfigError, Settings};

/// A whole configuration file.
#[derive(Serialize, Clone, Debug)]
pub struct TestConfig {
    pub issuer: String,
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

/// One `[[clients]]` entry. `None` and empty lists are left out, so the loader's defaults apply;
/// `Some(vec![])` writes an empty list, which is not the same as the default.
#[derive(Serialize, Clone, Debug, Default, PartialEq)]
pub struct ClientConfig {
    pub client_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret_hash: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret_env: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret_file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_methods: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_signing_algs: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant_types: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_scopes: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub audience: Vec<String>,
    #[serde(with = "duration", skip_serializing_if = "Option::is_none")]
    pub access_token_ttl: Option<Duration>,
    #[serde(skip_serializing_if = "is_default")]
    pub introspect: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub redirect_uris: Vec<String>,
    #[serde(skip_serializing_if = "is_default")]
    pub allow_plain_pkce: bool,
    #[serde(skip_serializing_if = "is_default")]
    pub consent: bool,
    #[serde(skip_serializing_if = "is_default")]
    pub require_encrypted_assertion: bool,
    /// A JWK set, `{"keys": [...]}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_client_auth_subject_dn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_client_auth_san_dns: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token_encryption: Option<EncryptionConfig>,
}

impl ClientConfig {
    pub fn new(client_id: &str) -> ClientConfig {
        ClientConfig {
            client_id: client_id.to_owned(),
            ..ClientConfig::default()
        }
    }

    /// Registers the argon2 hash of `secret`.
    pub fn secret(self, secret: &str) -> Self {
        self.client_secret_hash(&secret_hash(secret))
    }

    pub fn client_secret_hash(mut self, hash: &str) -> Self {
        self.client_secret_hash = Some(hash.to_owned());
        self
    }

    pub fn client_secret_file(mut self, path: &str) -> Self {
        self.client_secret_file = Some(path.to_owned());
        self
    }

    pub fn token_endpoint_auth_methods(mut self, methods: &[&str]) -> Self {
        self.token_endpoint_auth_methods = Some(strings(methods));
        self
    }

    pub fn token_endpoint_auth_signing_algs(mut self, algs: &[&str]) -> Self {
        self.token_endpoint_auth_signing_algs = Some(strings(algs));
        self
    }

    pub fn grant_types(mut self, grant_types: &[&str]) -> Self {
        self.grant_types = Some(strings(grant_types));
        self
    }

    pub fn scopes(mut self, scopes: &[&str]) -> Self {
        self.scopes = strings(scopes);
        self
    }

    pub fn default_scopes(mut self, scopes: &[&str]) -> Self {
        self.default_scopes = Some(strings(scopes));
        self
    }

    pub fn audience(mut self, audience: &[&str]) -> Self {
        self.audience = strings(audience);
        self
    }

    pub fn access_token_ttl(mut self, ttl: Duration) -> Self {
        self.access_token_ttl = Some(ttl);
        self
    }

    pub fn introspect(mut self) -> Self {
        self.introspect = true;
        self
    }

    pub fn redirect_uris(mut self, uris: &[&str]) -> Self {
        self.redirect_uris = strings(uris);
        self
    }

    pub fn allow_plain_pkce(mut self) -> Self {
        self.allow_plain_pkce = true;
        self
    }

    pub fn consent(mut self) -> Self {
        self.consent = true;
        self
    }

    pub fn require_encrypted_assertion(mut self) -> Self {
        self.require_encrypted_assertion = true;
        self
    }

    /// Registers a JWK set, such as `jwk_set` makes.
    pub fn jwks(mut self, jwks: Value) -> Self {
        self.jwks = Some(jwks);
        self
    }

    pub fn jwks_uri(mut self, uri: &str) -> Self {
        self.jwks_uri = Some(uri.to_owned());
        self
    }

    pub fn tls_client_auth_subject_dn(mut self, dn: &str) -> Self {
        self.tls_client_auth_subject_dn = Some(dn.to_owned());
        self
    }

    pub fn access_token_encryption(mut self, encryption: EncryptionConfig) -> Self {
        self.access_token_encryption = Some(encryption);
        self
    }
}

/// `access_token_encryption` of a client or resource: the recipient's public key, inline or in
/// a file, and the algorithms.
#[derive(Serialize, Clone, Debug, Default, PartialEq)]
pub struct EncryptionConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwk: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwk_file: Option<String>,
    pub alg: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enc: Option<String>,
}

impl EncryptionConfig {
    pub fn inline(jwk: Value, alg: &str) -> EncryptionConfig {
        EncryptionConfig {
            jwk: Some(jwk),
            alg: alg.to_owned(),
            ..EncryptionConfig::default()
        }
    }

    pub fn file(jwk_file: &str, alg: &str) -> EncryptionConfig {
        EncryptionConfig {
            jwk_file: Some(jwk_file.to_owned()),
            alg: alg.to_owned(),
            ..EncryptionConfig::default()
        }
    }

    pub fn enc(mut self, enc: &str) -> Self {
        self.enc = Some(enc.to_owned());
        self
    }
}

#[derive(Serialize, Clone, Debug, Default, PartialEq)]
pub struct UserConfig {
    pub username: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    /// Claims the user's tokens may carry, a JSON object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claims: Option<Value>,
}

impl UserConfig {
    pub fn new(username: &str) -> UserConfig {
        UserConfig {
            username: username.to_owned(),
            ..UserConfig::default()
        }
    }

    /// Registers the argon2 hash of `password`.
    pub fn password(self, password: &str) -> Self {
        self.password_hash(&secret_hash(password))
    }

    pub fn password_hash(mut self, hash: &str) -> Self {
        self.password_hash = Some(hash.to_owned());
        self
    }

    pub fn claims(mut self, claims: Value) -> Self {
        self.claims = Some(claims);
        self
    }
}

/// A `[[resources]]` entry: settings of one audience.
#[derive(Serialize, Clone, Debug, Default, PartialEq)]
pub struct ResourceConfig {
    pub audience: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token_encryption: Option<EncryptionConfig>,
}

impl ResourceConfig {
    pub fn new(audience: &str) -> ResourceConfig {
        ResourceConfig {
            audience: audience.to_owned(),
            ..ResourceConfig::default()
        }
    }

    pub fn access_token_encryption(mut self, encryption: EncryptionConfig) -> Self {
        self.access_token_encryption = Some(encryption);
        self
    }
}

/// A `[[trusted_issuers]]` entry: a foreign issuer whose JWTs are grants (RFC 7523) and subject
/// tokens (RFC 8693).
#[derive(Serialize, Clone, Debug, Default, PartialEq)]
pub struct TrustedIssuerConfig {
    pub issuer: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub algs: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject_prefix: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub audience: Vec<String>,
    #[serde(with = "duration", skip_serializing_if = "Option::is_none")]
    pub max_lifetime: Option<Duration>,
}

impl TrustedIssuerConfig {
    pub fn new(issuer: &str) -> TrustedIssuerConfig {
        TrustedIssuerConfig {
            issuer: issuer.to_owned(),
            ..TrustedIssuerConfig::default()
        }
    }

    pub fn jwks(mut self, jwks: Value) -> Self {
        self.jwks = Some(jwks);
        self
    }

    pub fn subject_prefix(mut self, prefix: &str) -> Self {
        self.subject_prefix = Some(prefix.to_owned());
        self
    }

    pub fn scopes(mut self, scopes: &[&str]) -> Self {
        self.scopes = strings(scopes);
        self
    }

    pub fn audience(mut self, audience: &[&str]) -> Self {
        self.audience = strings(audience);
        self
    }
}

/// A `[[providers]]` entry: an external identity provider of the `provider` grant.
#[derive(Serialize, Clone, Debug, Default, PartialEq)]
pub struct ProviderConfig {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_secret_env: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_secret_file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    #[serde(with = "duration", skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
}

impl ProviderConfig {
    /// Facebook's token-debug API at `base_url`, for the app `app_id` whose secret is in the
    /// file `app_secret_file`.
    pub fn facebook(
        name: &str,
        app_id: &str,
        app_secret_file: &str,
        base_url: &str,
    ) -> ProviderConfig {
        ProviderConfig {
            name: name.to_owned(),
            kind: "facebook".to_owned(),
            app_id: Some(app_id.to_owned()),
            app_secret_file: Some(app_secret_file.to_owned()),
            base_url: Some(base_url.to_owned()),
            ..ProviderConfig::default()
        }
    }

    /// An OpenID provider `issuer` whose ID tokens name `audience`, checked against `jwks`.
    pub fn oidc(name: &str, issuer: &str, jwks: Value, audience: &str) -> ProviderConfig {
        ProviderConfig {
            name: name.to_owned(),
            kind: "oidc".to_owned(),
            issuer: Some(issuer.to_owned()),
            jwks: Some(jwks),
            audience: Some(audience.to_owned()),
            ..ProviderConfig::default()
        }
    }

    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
}

/// A `[[routes]]` entry: a compatible route onto a core endpoint.
#[derive(Serialize, Clone, Debug, Default, PartialEq)]
pub struct RouteConfig {
    pub path: String,
    pub endpoint: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub envelope: Option<String>,
    #[serde(skip_serializing_if = "is_default")]
    pub query_parameters: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope_wildcard: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
}

impl RouteConfig {
    pub fn new(path: &str, endpoint: &str) -> RouteConfig {
        RouteConfig {
            path: path.to_owned(),
            endpoint: endpoint.to_owned(),
            ..RouteConfig::default()
        }
    }

    pub fn envelope(mut self, envelope: &str) -> Self {
        self.envelope = Some(envelope.to_owned());
        self
    }

    /// The route also reads its parameters from the query string.
    pub fn query_parameters(mut self) -> Self {
        self.query_parameters = true;
        self
    }

    pub fn scope_wildcard(mut self, wildcard: &str) -> Self {
        self.scope_wildcard = Some(wildcard.to_owned());
        self
    }
}

/// An `[[uma_resources]]` entry: a resource of a resource server, its scopes and who may have
/// which.
#[derive(Serialize, Clone, Debug, Default, PartialEq)]
pub struct UmaResourceConfig {
    pub id: String,
    pub resource_server: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<UmaPolicyConfig>,
}

impl UmaResourceConfig {
    pub fn new(id: &str, resource_server: &str) -> UmaResourceConfig {
        UmaResourceConfig {
            id: id.to_owned(),
            resource_server: resource_server.to_owned(),
            ..UmaResourceConfig::default()
        }
    }

    pub fn scopes(mut self, scopes: &[&str]) -> Self {
        self.scopes = strings(scopes);
        self
    }

    pub fn policy(mut self, policy: UmaPolicyConfig) -> Self {
        self.policies.push(policy);
        self
    }
}

/// A policy grants its scopes (all of the resource's when it lists none) to the clients, users
/// and groups it names.
#[derive(Serialize, Clone, Debug, Default, PartialEq)]
pub struct UmaPolicyConfig {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub clients: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
}

impl UmaPolicyConfig {
    pub fn clients(mut self, clients: &[&str]) -> Self {
        self.clients = strings(clients);
        self
    }

    pub fn users(mut self, users: &[&str]) -> Self {
        self.users = strings(users);
        self
    }

    pub fn groups(mut self, groups: &[&str]) -> Self {
        self.groups = strings(groups);
        self
    }

    pub fn scopes(mut self, scopes: &[&str]) -> Self {
        self.scopes = strings(scopes);
        self
    }
}

/// The clients every test app registers, in this order (config errors name clients by index).
pub fn standard_clients() -> Vec<ClientConfig> {
    vec![
        ClientConfig::new("reports")
            .secret(REPORTS_SECRET)
            .token_endpoint_auth_methods(&["client_secret_basic", "client_secret_post"])
            .scopes(&["reports:read", "reports:write", "reports:admin"])
            .default_scopes(&["reports:read"])
            .audience(&[
                "https://reports.internal",
                "https://audit.internal",
                "billing-api",
            ]),
        ClientConfig::new(SPECIAL_ID)
            .secret(SPECIAL_SECRET)
            .scopes(&["special"])
            .audience(&["https://special.internal"])
            .access_token_ttl(Duration::from_secs(120)),
        ClientConfig::new("post-only")
            .secret(OTHER_SECRET)
            .token_endpoint_auth_methods(&["client_secret_post"])
            .scopes(&["a"])
            .audience(&["https://a.internal"]),
        ClientConfig::new("bare")
            .secret(OTHER_SECRET)
            .audience(&["https://bare.internal"]),
        ClientConfig::new("resource-server")
            .secret(OTHER_SECRET)
            .grant_types(&[])
            .introspect()
            .audience(&["https://reports.internal"]),
        ClientConfig::new("webapp")
            .secret(OTHER_SECRET)
            .grant_types(&["authorization_code", "refresh_token"])
            .redirect_uris(&[CALLBACK, "http://127.0.0.1:9/other"])
            .scopes(&["openid", "profile", "email", "reports:read"])
            .default_scopes(&["openid"])
            .audience(&["https://reports.internal"]),
        ClientConfig::new("mobile")
            .token_endpoint_auth_methods(&["none"])
            .grant_types(&["password", "refresh_token", "authorization_code"])
            .redirect_uris(&[CALLBACK])
            .scopes(&[
                "openid",
                "profile",
                "email",
                "reports:read",
                "reports:write",
            ])
            .default_scopes(&["openid", "reports:read"])
            .audience(&["https://reports.internal"]),
        ClientConfig::new("consenting")
            .secret(OTHER_SECRET)
            .grant_types(&["authorization_code"])
            .redirect_uris(&[CALLBACK])
            .consent()
            .allow_plain_pkce()
            .scopes(&["openid"])
            .audience(&["https://reports.internal"]),
        ClientConfig::new("no-grants")
            .secret(OTHER_SECRET)
            .grant_types(&[])
            .scopes(&["a"])
            .audience(&["https://a.internal"]),
    ]
}

/// The users every test app registers: alice with claims, bob without.
pub fn standard_users() -> Vec<UserConfig> {
    vec![
        UserConfig::new("alice")
            .password(ALICE_PASSWORD)
            .claims(json!({
                "email": "alice@example.com",
                "email_verified": true,
                "name": "Alice Liddell",
                "groups": ["staff"],
            })),
        UserConfig::new("bob").password(OTHER_SECRET),
    ]
}

/// The argon2id PHC string of `secret`. argon2 is deliberately slow, so each secret is hashed
/// once per test process.
pub fn secret_hash(secret: &str) -> String {
    static HASHES: LazyLock<Mutex<HashMap<String, String>>> = LazyLock::new(Default::default);
    HASHES
        .lock()
        .unwrap()
        .entry(secret.to_owned())
        .or_insert_with(|| tessera::oauth::credentials::hash_secret(secret))
        .clone()
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|&value| value.to_owned()).collect()
}

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

fn signing_alg<S: Serializer>(alg: &Option<SigningAlg>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(alg.expect("skipped when unset").as_str())
}

/// Durations as the config file spells them: a whole number of the largest unit that divides
/// them exactly ("15m", "2m", "90s", "30d").
mod duration {
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
