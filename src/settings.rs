//! Typed configuration: one TOML file plus `TESSERA_*` environment overrides, parsed once into
//! validated values. Every problem is reported with its path, all of them at once where possible.

use crate::jose::{AssertionAlg, HmacAlg, Jwk, KeyManagementAlg, RecipientKey, SigningAlg};
use crate::oauth::types::{AuthMethod, GrantType, Scope, ScopeSet};
use crate::registry::{Client, ClientKeys, RawSecret, SecretHash, User, RESERVED_CLAIMS};
use serde::Deserialize;
use std::collections::HashSet;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Default location of the configuration file, relative to the working directory.
pub const DEFAULT_CONFIG_PATH: &str = "config/tessera.toml";
/// The prefix of environment overrides: `TESSERA_LISTEN`, `TESSERA_TOKENS__SIGNING_ALG`...
pub const ENV_PREFIX: &str = "TESSERA_";
/// `TESSERA_*` variables that are not configuration values: the config path, and the benches'.
fn is_setting_variable(name: &str) -> bool {
    name != "TESSERA_CONFIG" && !name.starts_with("TESSERA_BENCH_")
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// `iss` of every token, without a trailing slash.
    pub issuer: String,
    pub listen: SocketAddr,
    pub keys_dir: PathBuf,
    pub server: ServerSettings,
    pub tokens: TokenSettings,
    pub keys: KeySettings,
    pub client_auth: CredentialSettings,
    pub user_auth: CredentialSettings,
    pub log: LogSettings,
    pub revocation: RevocationSettings,
    pub clients: Vec<Client>,
    pub users: Vec<User>,
    pub resources: Vec<Resource>,
    pub authorize: AuthorizeSettings,
    pub client_assertions: ClientAssertionSettings,
    pub trusted_issuers: Vec<TrustedIssuer>,
    pub tls: Option<TlsSettings>,
    pub routes: Vec<CompatRoute>,
    pub providers: Vec<Provider>,
    pub uma_resources: Vec<UmaResource>,
    /// How long a signed token can be valid: the longest token lifetime, plus a minute for
    /// verifiers' clock skew. A retired signing key stays published this long.
    pub token_retention: Duration,
    /// What an assertion's `aud` may name: the issuer, the token endpoint, and the token
    /// endpoint's mutual-TLS alias.
    pub assertion_audiences: Vec<String>,
}

/// A resource protected by UMA 2.0 policies.
#[derive(Debug, Clone)]
pub struct UmaResource {
    pub id: String,
    /// The client (resource server) that may ask for permission tickets for it.
    pub resource_server: String,
    pub scopes: Vec<String>,
    pub policies: Vec<UmaPolicy>,
}

/// Who may get which scopes of a resource: any listed client, user or group (an empty list
/// matches no one), for `scopes` (all the resource's when empty).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UmaPolicy {
    pub clients: Vec<String>,
    pub users: Vec<String>,
    pub groups: Vec<String>,
    pub scopes: Vec<String>,
}

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

/// Which core endpoint a compatible route serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteEndpoint {
    Token,
    Revoke,
    Introspect,
}

/// How a compatible route wraps its answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Envelope {
    /// The standard response.
    Plain,
    /// `{"meta": {date, function, responseCode, responseID, success}, "data": {...}}`.
    MetaData,
}

/// A core endpoint at another path, as an older token API's clients call it.
#[derive(Debug, Clone)]
pub struct CompatRoute {
    pub path: String,
    pub endpoint: RouteEndpoint,
    pub envelope: Envelope,
    /// Parameters may also come in the query string (never the same one in both).
    pub query_parameters: bool,
    /// A `scope` equal to this means every scope the client may have.
    pub scope_wildcard: Option<String>,
    /// `meta.function` of the envelope.
    pub function: String,
}

/// The optional mutual-TLS listener.
#[derive(Debug, Clone)]
pub struct TlsSettings {
    pub listen: SocketAddr,
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    /// CA of `tls_client_auth` client certificates.
    pub client_ca_file: Option<PathBuf>,
    /// Where clients reach the TLS listener: the base of the `mtls_endpoint_aliases`.
    pub base_url: String,
}

/// Another issuer whose JWTs Tessera accepts for the JWT bearer grant (RFC 7523 2.1) and as
/// token exchange subjects (RFC 8693).
#[derive(Debug, Clone)]
pub struct TrustedIssuer {
    pub issuer: String,
    pub keys: ClientKeys,
    pub algs: Vec<SigningAlg>,
    /// Subjects become `subject_prefix` + the JWT's `sub`.
    pub subject_prefix: String,
    /// Scopes tokens from this issuer's assertions may carry (all the client's when empty).
    pub scopes: Vec<Scope>,
    /// Audiences tokens from this issuer's assertions may name (all the client's when empty).
    pub audience: Vec<String>,
    pub max_lifetime: Duration,
}

/// Rules for client assertions (RFC 7523).
#[derive(Debug, Clone)]
pub struct ClientAssertionSettings {
    /// The longest an assertion may live (`exp` - `iat`, or `exp` - now).
    pub max_lifetime: Duration,
    /// Tolerated clock difference on `exp`, `nbf`, `iat`.
    pub clock_skew: Duration,
    /// The largest assertion accepted, in bytes.
    pub max_size: usize,
    /// How long keys fetched from a client's `jwks_uri` are used.
    pub jwks_cache_ttl: Duration,
    /// A client's `jwks_uri` is fetched again for an unknown `kid` at most this often.
    pub jwks_refetch_interval: Duration,
    pub jwks_fetch_timeout: Duration,
}

/// A resource server known by its audience, for settings that follow the audience.
#[derive(Debug, Clone)]
pub struct Resource {
    pub audience: String,
    /// Access tokens for this audience alone are encrypted to this key.
    pub access_token_encryption: Option<RecipientKey>,
}

#[derive(Debug, Clone)]
pub struct AuthorizeSettings {
    /// Lifetime of the login session cookie.
    pub session_ttl: Duration,
    /// Lifetime of an authorization code.
    pub code_ttl: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevocationBackend {
    /// In this process: fine for one node.
    Memory,
    /// Shared by every replica.
    Redis { url: String, key_prefix: String },
}

#[derive(Debug, Clone)]
pub struct RevocationSettings {
    pub backend: RevocationBackend,
    /// Live denylist entries the memory backend holds; past it new revocations get 503.
    pub capacity: u64,
    /// Live single-use ids (assertions, codes, spent refresh tokens) the memory backend holds.
    pub replay_capacity: u64,
}

#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// Largest request body accepted; larger ones get 413.
    pub max_body_bytes: usize,
    /// HTTP worker threads; one per core when not set.
    pub workers: Option<usize>,
}

#[derive(Debug, Clone)]
pub struct TokenSettings {
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub id_token_ttl: Duration,
    pub signing_alg: SigningAlg,
}

#[derive(Debug, Clone)]
pub struct KeySettings {
    /// How long a rotated-in signing key is published before it signs.
    pub publish_ahead: Duration,
    /// `Cache-Control: max-age` of the JWKS; shorter than `publish_ahead`.
    pub jwks_max_age: Duration,
}

#[derive(Debug, Clone)]
pub struct CredentialSettings {
    /// Failed authentications are counted per subject (client or user) and per source address
    /// over this window.
    pub failure_window: Duration,
    pub max_failures_per_subject: u32,
    pub max_failures_per_address: u32,
    /// How long a verified (or refused) secret is remembered, sparing argon2.
    pub secret_cache_ttl: Duration,
    pub secret_cache_capacity: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct LogSettings {
    /// A tracing filter directive: `info`, `tessera=debug,actix_web=warn`...
    pub level: String,
    pub format: LogFormat,
}

impl Settings {
    /// Fills the values derived from the others, once.
    fn derive(mut self) -> Self {
        let longest_client = self
            .clients
            .iter()
            .filter_map(|client| client.access_token_ttl)
            .max()
            .unwrap_or_default();
        self.token_retention = self
            .tokens
            .access_token_ttl
            .max(self.tokens.id_token_ttl)
            .max(longest_client)
            + Duration::from_secs(60);
        self.assertion_audiences = vec![self.issuer.clone(), self.endpoint("/oauth2/token")];
        if let Some(tls) = &self.tls {
            self.assertion_audiences
                .push(format!("{}/oauth2/token", tls.base_url));
        }
        self
    }

    /// The token endpoint URL (an accepted assertion audience, and in discovery).
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    /// Reads `path` with the process environment's overrides.
    pub fn load(path: &Path) -> Result<Settings, ConfigError> {
        Self::load_with_env(path, std::env::vars())
    }

    pub fn load_with_env(
        path: &Path,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|err| {
            ConfigError::single(path.display().to_string(), format!("cannot read: {err}"))
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Self::parse(&text, base, env)
    }

    /// Parses configuration text whose relative paths are relative to `base_dir`.
    pub fn parse(
        text: &str,
        base_dir: &Path,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings, ConfigError> {
        let mut table: toml::Table = text.parse().map_err(|err: toml::de::Error| {
            ConfigError::single("(syntax)", err.to_string().trim_end().to_owned())
        })?;
        let mut problems = Problems::default();
        let from_env = apply_env(&mut table, env, &mut problems);

        let mut unknown = Vec::new();
        let mut record_unknown =
            |path: serde_ignored::Path<'_>| unknown.push(format_ignored_path(&path));
        let deserializer =
            serde_ignored::Deserializer::new(toml::Value::Table(table), &mut record_unknown);
        let raw: Result<RawSettings, _> = serde_path_to_error::deserialize(deserializer);
        for path in unknown {
            let origin = if from_env.contains(&path) {
                " (from the environment)"
            } else {
                ""
            };
            problems.push(path, format!("unknown key{origin}"));
        }
        let raw = match raw {
            Ok(raw) => raw,
            Err(err) => {
                let path = err.path().to_string();
                problems.push(path, err.into_inner().to_string());
                return Err(problems.into_error());
            }
        };
        let settings = raw.validate(base_dir, &mut problems);
        match settings {
            Some(settings) if problems.is_empty() => Ok(settings),
            _ => Err(problems.into_error()),
        }
    }
}

/// Every problem found in a configuration, each with its path.
#[derive(Debug, Clone)]
pub struct ConfigError {
    pub problems: Vec<ConfigProblem>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    pub path: String,
    pub message: String,
}

impl ConfigError {
    fn single(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            problems: vec![ConfigProblem {
                path: path.into(),
                message: message.into(),
            }],
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}: {}", problem.path, problem.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

#[derive(Default)]
struct Problems(Vec<ConfigProblem>);

impl Problems {
    fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(ConfigProblem {
            path: path.into(),
            message: message.into(),
        });
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn into_error(self) -> ConfigError {
        ConfigError { problems: self.0 }
    }

    /// Parses `value` with `parse`, recording a problem at `path` on failure.
    fn check<T>(&mut self, path: &str, value: Result<T, String>) -> Option<T> {
        value.map_err(|message| self.push(path, message)).ok()
    }
}

/// Applies `TESSERA_A__B=value` as `a.b = value`. Returns the paths set this way.
fn apply_env(
    table: &mut toml::Table,
    env: impl IntoIterator<Item = (String, String)>,
    problems: &mut Problems,
) -> HashSet<String> {
    let mut applied = HashSet::new();
    for (name, value) in env {
        let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        if !is_setting_variable(&name) || rest.is_empty() {
            continue;
        }
        let segments: Vec<String> = rest.split("__").map(str::to_lowercase).collect();
        let (leaf, parents) = segments.split_last().expect("split yields one segment");
        let Some(current) = table_at(table, parents) else {
            problems.push(&name, "names a value that is not a table");
            continue;
        };
        // Keep the type the file gave the value; otherwise guess from the text.
        let typed = match current.get(leaf.as_str()) {
            Some(toml::Value::Integer(_)) => value.parse().map(toml::Value::Integer).ok(),
            Some(toml::Value::Boolean(_)) => value.parse().map(toml::Value::Boolean).ok(),
            Some(toml::Value::String(_)) => Some(toml::Value::String(value.clone())),
            Some(_) => None,
            None => Some(
                value
                    .parse()
                    .map(toml::Value::Integer)
                    .or_else(|_| value.parse().map(toml::Value::Boolean))
                    .unwrap_or_else(|_| toml::Value::String(value.clone())),
            ),
        };
        match typed {
            Some(typed) => {
                current.insert(leaf.clone(), typed);
                applied.insert(segments.join("."));
            }
            None => problems.push(
                &name,
                "cannot override a value of this type from the environment",
            ),
        }
    }
    applied
}

/// The table at `path` below `table`, created when missing; `None` if a value is in the way.
fn table_at<'a>(table: &'a mut toml::Table, path: &[String]) -> Option<&'a mut toml::Table> {
    let Some((first, rest)) = path.split_first() else {
        return Some(table);
    };
    match table
        .entry(first.clone())
        .or_insert_with(|| toml::Value::Table(toml::Table::new()))
    {
        toml::Value::Table(inner) => table_at(inner, rest),
        _ => None,
    }
}

fn format_ignored_path(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", format_ignored_path(parent)),
        Path::Map { parent, key } => {
            let parent = format_ignored_path(parent);
            if parent.is_empty() {
                key.clone()
            } else {
                format!("{parent}.{key}")
            }
        }
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => format_ignored_path(parent),
    }
}

// ---- The file as written: strings where the typed value needs parsing. ----

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawSettings {
    issuer: Option<String>,
    listen: Option<String>,
    keys_dir: Option<String>,
    server: RawServer,
    tokens: RawTokens,
    keys: RawKeys,
    client_auth: RawClientAuth,
    log: RawLog,
    revocation: RawRevocation,
    user_auth: RawUserAuth,
    authorize: RawAuthorize,
    client_assertions: RawClientAssertions,
    trusted_issuers: Vec<RawTrustedIssuer>,
    tls: Option<RawTls>,
    routes: Vec<RawRoute>,
    providers: Vec<RawProvider>,
    uma_resources: Vec<RawUmaResource>,
    clients: Vec<RawClient>,
    users: Vec<RawUser>,
    resources: Vec<RawResource>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawUserAuth {
    failure_window: Option<String>,
    max_failures_per_user: Option<u32>,
    max_failures_per_address: Option<u32>,
    secret_cache_ttl: Option<String>,
    secret_cache_capacity: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawUmaResource {
    id: Option<String>,
    resource_server: Option<String>,
    scopes: Vec<String>,
    policies: Vec<UmaPolicy>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawProvider {
    name: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    app_id: Option<String>,
    app_secret_env: Option<String>,
    app_secret_file: Option<String>,
    base_url: Option<String>,
    issuer: Option<String>,
    jwks: Option<toml::Table>,
    jwks_file: Option<String>,
    jwks_uri: Option<String>,
    audience: Option<String>,
    timeout: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawRoute {
    path: Option<String>,
    endpoint: Option<String>,
    envelope: Option<String>,
    query_parameters: bool,
    scope_wildcard: Option<String>,
    function: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawTls {
    listen: Option<String>,
    cert_file: Option<String>,
    key_file: Option<String>,
    client_ca_file: Option<String>,
    base_url: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawTrustedIssuer {
    issuer: Option<String>,
    jwks: Option<toml::Table>,
    jwks_file: Option<String>,
    jwks_uri: Option<String>,
    algs: Option<Vec<String>>,
    subject_prefix: Option<String>,
    scopes: Vec<String>,
    audience: Vec<String>,
    max_lifetime: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawClientAssertions {
    max_lifetime: Option<String>,
    clock_skew: Option<String>,
    max_size: Option<u64>,
    jwks_cache_ttl: Option<String>,
    jwks_refetch_interval: Option<String>,
    jwks_fetch_timeout: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawAuthorize {
    session_ttl: Option<String>,
    code_ttl: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawUser {
    username: Option<String>,
    password_hash: Option<String>,
    claims: toml::Table,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawResource {
    audience: Option<String>,
    access_token_encryption: Option<RawEncryption>,
}

/// `{ jwk_file = "...", alg = "RSA-OAEP-256", enc = "A256GCM" }` or `{ jwk = {...}, ... }`.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct RawEncryption {
    jwk_file: Option<String>,
    jwk: Option<toml::Table>,
    alg: Option<String>,
    enc: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawRevocation {
    backend: Option<String>,
    url: Option<String>,
    key_prefix: Option<String>,
    capacity: Option<u64>,
    replay_capacity: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawServer {
    max_body_bytes: Option<u64>,
    workers: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawTokens {
    access_token_ttl: Option<String>,
    refresh_token_ttl: Option<String>,
    id_token_ttl: Option<String>,
    signing_alg: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawKeys {
    publish_ahead: Option<String>,
    jwks_max_age: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawClientAuth {
    failure_window: Option<String>,
    max_failures_per_client: Option<u32>,
    max_failures_per_address: Option<u32>,
    secret_cache_ttl: Option<String>,
    secret_cache_capacity: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawLog {
    level: Option<String>,
    format: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawClient {
    client_id: Option<String>,
    client_secret_hash: Option<String>,
    token_endpoint_auth_methods: Option<Vec<String>>,
    grant_types: Option<Vec<String>>,
    scopes: Vec<String>,
    default_scopes: Option<Vec<String>>,
    audience: Vec<String>,
    access_token_ttl: Option<String>,
    introspect: bool,
    redirect_uris: Vec<String>,
    allow_plain_pkce: bool,
    consent: bool,
    access_token_encryption: Option<RawEncryption>,
    jwks: Option<toml::Table>,
    jwks_file: Option<String>,
    jwks_uri: Option<String>,
    token_endpoint_auth_signing_algs: Option<Vec<String>>,
    client_secret_env: Option<String>,
    client_secret_file: Option<String>,
    require_encrypted_assertion: bool,
    tls_client_auth_subject_dn: Option<String>,
    tls_client_auth_san_dns: Option<String>,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(text).map_err(|err| {
        format!("'{text}' is not a duration such as \"90s\", \"15m\", \"30d\" ({err})")
    })?;
    if duration.is_zero() {
        return Err("must be longer than zero".to_owned());
    }
    if duration.subsec_nanos() != 0 {
        return Err("must be a whole number of seconds".to_owned());
    }
    Ok(duration)
}

fn duration_or(
    problems: &mut Problems,
    path: &str,
    value: Option<&String>,
    default: Duration,
) -> Duration {
    match value {
        None => default,
        Some(text) => problems
            .check(path, parse_duration(text))
            .unwrap_or(default),
    }
}

fn parse_issuer(text: &str) -> Result<String, String> {
    let url = url::Url::parse(text).map_err(|err| format!("'{text}' is not a URL ({err})"))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err("the issuer must be an https (or, for development, http) URL".to_owned());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("the issuer URL must have no query or fragment (RFC 8414)".to_owned());
    }
    Ok(text.trim_end_matches('/').to_owned())
}

impl RawSettings {
    fn validate(self, base_dir: &Path, problems: &mut Problems) -> Option<Settings> {
        let issuer = match &self.issuer {
            None => {
                problems.push(
                    "issuer",
                    "is required (the URL that names this issuer in every token)",
                );
                None
            }
            Some(text) => problems.check("issuer", parse_issuer(text)),
        };
        let listen = problems.check(
            "listen",
            self.listen
                .as_deref()
                .unwrap_or("127.0.0.1:8080")
                .parse()
                .map_err(|err| format!("not an address such as 127.0.0.1:8080 ({err})")),
        );
        let keys_dir = base_dir.join(self.keys_dir.as_deref().unwrap_or("keys"));

        let max_body_bytes = self.server.max_body_bytes.unwrap_or(64 * 1024);
        if !(1024..=16 * 1024 * 1024).contains(&max_body_bytes) {
            problems.push("server.max_body_bytes", "must be between 1024 and 16777216");
        }
        if self.server.workers == Some(0) {
            problems.push(
                "server.workers",
                "must be at least 1 (leave it out for one per core)",
            );
        }
        let server = ServerSettings {
            max_body_bytes: max_body_bytes as usize,
            workers: self.server.workers.map(|n| n as usize),
        };

        let t = &self.tokens;
        let tokens = TokenSettings {
            access_token_ttl: duration_or(
                problems,
                "tokens.access_token_ttl",
                t.access_token_ttl.as_ref(),
                Duration::from_secs(15 * 60),
            ),
            refresh_token_ttl: duration_or(
                problems,
                "tokens.refresh_token_ttl",
                t.refresh_token_ttl.as_ref(),
                Duration::from_secs(30 * 86400),
            ),
            id_token_ttl: duration_or(
                problems,
                "tokens.id_token_ttl",
                t.id_token_ttl.as_ref(),
                Duration::from_secs(15 * 60),
            ),
            signing_alg: match &t.signing_alg {
                None => SigningAlg::ES256,
                Some(text) => problems
                    .check("tokens.signing_alg", text.parse())
                    .unwrap_or(SigningAlg::ES256),
            },
        };

        let keys = KeySettings {
            publish_ahead: duration_or(
                problems,
                "keys.publish_ahead",
                self.keys.publish_ahead.as_ref(),
                Duration::from_secs(15 * 60),
            ),
            jwks_max_age: duration_or(
                problems,
                "keys.jwks_max_age",
                self.keys.jwks_max_age.as_ref(),
                Duration::from_secs(5 * 60),
            ),
        };
        if keys.jwks_max_age >= keys.publish_ahead {
            problems.push(
                "keys.jwks_max_age",
                "must be shorter than keys.publish_ahead, or verifiers could miss a new key",
            );
        }

        let a = &self.client_auth;
        let client_auth = credential_settings(
            problems,
            "client_auth",
            a.failure_window.as_ref(),
            a.max_failures_per_client.unwrap_or(20),
            a.max_failures_per_address.unwrap_or(50),
            a.secret_cache_ttl.as_ref(),
            a.secret_cache_capacity,
        );
        let u = &self.user_auth;
        let user_auth = credential_settings(
            problems,
            "user_auth",
            u.failure_window.as_ref(),
            u.max_failures_per_user.unwrap_or(5),
            u.max_failures_per_address.unwrap_or(50),
            u.secret_cache_ttl.as_ref(),
            u.secret_cache_capacity,
        );
        let c = &self.client_assertions;
        let client_assertions = ClientAssertionSettings {
            max_lifetime: duration_or(
                problems,
                "client_assertions.max_lifetime",
                c.max_lifetime.as_ref(),
                Duration::from_secs(300),
            ),
            clock_skew: duration_or(
                problems,
                "client_assertions.clock_skew",
                c.clock_skew.as_ref(),
                Duration::from_secs(60),
            ),
            max_size: c.max_size.unwrap_or(8192) as usize,
            jwks_cache_ttl: duration_or(
                problems,
                "client_assertions.jwks_cache_ttl",
                c.jwks_cache_ttl.as_ref(),
                Duration::from_secs(300),
            ),
            jwks_refetch_interval: duration_or(
                problems,
                "client_assertions.jwks_refetch_interval",
                c.jwks_refetch_interval.as_ref(),
                Duration::from_secs(60),
            ),
            jwks_fetch_timeout: duration_or(
                problems,
                "client_assertions.jwks_fetch_timeout",
                c.jwks_fetch_timeout.as_ref(),
                Duration::from_secs(3),
            ),
        };
        if !(512..=16384).contains(&client_assertions.max_size) {
            problems.push(
                "client_assertions.max_size",
                "must be between 512 and 16384",
            );
        }
        let authorize = AuthorizeSettings {
            session_ttl: duration_or(
                problems,
                "authorize.session_ttl",
                self.authorize.session_ttl.as_ref(),
                Duration::from_secs(8 * 3600),
            ),
            code_ttl: duration_or(
                problems,
                "authorize.code_ttl",
                self.authorize.code_ttl.as_ref(),
                Duration::from_secs(60),
            ),
        };
        if authorize.code_ttl > Duration::from_secs(600) {
            problems.push(
                "authorize.code_ttl",
                "must be at most 10 minutes (RFC 6749 4.1.2)",
            );
        }

        let level = self.log.level.clone().unwrap_or_else(|| "info".to_owned());
        if let Err(err) = tracing_subscriber::EnvFilter::try_new(&level) {
            problems.push(
                "log.level",
                format!("not a log filter such as \"info\" or \"tessera=debug\" ({err})"),
            );
        }
        let format = match self.log.format.as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                problems.push("log.format", format!("'{other}' is not text or json"));
                LogFormat::Text
            }
        };

        let r = &self.revocation;
        let backend = match r.backend.as_deref() {
            None | Some("memory") => {
                if r.url.is_some() {
                    problems.push("revocation.url", "only used with backend = \"redis\"");
                }
                RevocationBackend::Memory
            }
            Some("redis") => match &r.url {
                Some(url) if url.starts_with("redis://") => RevocationBackend::Redis {
                    url: url.clone(),
                    key_prefix: r.key_prefix.clone().unwrap_or_else(|| "tessera".to_owned()),
                },
                Some(_) => {
                    problems.push(
                        "revocation.url",
                        "must be a redis:// URL (TLS to Redis is not built in)",
                    );
                    RevocationBackend::Memory
                }
                None => {
                    problems.push("revocation.url", "is required with backend = \"redis\"");
                    RevocationBackend::Memory
                }
            },
            Some(other) => {
                problems.push(
                    "revocation.backend",
                    format!("'{other}' is not memory or redis"),
                );
                RevocationBackend::Memory
            }
        };
        let revocation = RevocationSettings {
            backend,
            capacity: r.capacity.unwrap_or(1_000_000),
            replay_capacity: r.replay_capacity.unwrap_or(1_000_000),
        };
        if revocation.capacity == 0 || revocation.replay_capacity == 0 {
            problems.push("revocation", "capacities must be at least 1");
        }

        let tls_settings = self
            .tls
            .as_ref()
            .and_then(|raw| raw.validate(base_dir, problems));
        let mut seen = HashSet::new();
        let clients: Vec<Client> = self
            .clients
            .iter()
            .enumerate()
            .filter_map(|(i, raw)| {
                let client = raw.validate(&format!("clients[{i}]"), base_dir, problems)?;
                if !seen.insert(client.id.clone()) {
                    problems.push(
                        format!("clients[{i}].client_id"),
                        format!("duplicate client id '{}'", client.id),
                    );
                }
                Some(client)
            })
            .collect();

        for (i, client) in clients.iter().enumerate() {
            let uses_tls = client.auth_methods.iter().any(|method| method.is_tls());
            if uses_tls && self.tls.is_none() {
                problems.push(
                    format!("clients[{i}].token_endpoint_auth_methods"),
                    "the TLS methods need the [tls] listener",
                );
            }
            if client.allows_method(AuthMethod::TlsClientAuth)
                && tls_settings
                    .as_ref()
                    .is_some_and(|tls| tls.client_ca_file.is_none())
            {
                problems.push(
                    format!("clients[{i}].token_endpoint_auth_methods"),
                    "tls_client_auth needs [tls] client_ca_file",
                );
            }
        }
        Some(
            Settings {
                issuer: issuer?,
                listen: listen?,
                keys_dir,
                server,
                tokens,
                keys,
                client_auth,
                log: LogSettings { level, format },
                revocation,
                users: self.validate_users(problems),
                resources: self
                    .resources
                    .iter()
                    .enumerate()
                    .filter_map(|(i, raw)| {
                        raw.validate(&format!("resources[{i}]"), base_dir, problems)
                    })
                    .collect(),
                authorize,
                client_assertions,
                trusted_issuers: self.validate_trusted_issuers(base_dir, problems),
                tls: tls_settings,
                routes: self.validate_routes(problems),
                providers: self.validate_providers(base_dir, problems),
                uma_resources: self
                    .uma_resources
                    .iter()
                    .enumerate()
                    .filter_map(|(i, raw)| {
                        let (Some(id), Some(resource_server)) =
                            (raw.id.clone(), raw.resource_server.clone())
                        else {
                            problems.push(
                                format!("uma_resources[{i}]"),
                                "id and resource_server are required",
                            );
                            return None;
                        };
                        Some(UmaResource {
                            id,
                            resource_server,
                            scopes: raw.scopes.clone(),
                            policies: raw.policies.clone(),
                        })
                    })
                    .collect(),
                user_auth,
                clients,
                token_retention: Duration::ZERO,
                assertion_audiences: Vec::new(),
            }
            .derive(),
        )
    }
}

fn parse_list<T>(
    problems: &mut Problems,
    path: &str,
    values: Option<&Vec<String>>,
    default: Vec<T>,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Vec<T> {
    let Some(values) = values else {
        return default;
    };
    values
        .iter()
        .enumerate()
        .filter_map(|(i, value)| problems.check(&format!("{path}[{i}]"), parse(value)))
        .collect()
}

fn parse_scopes(problems: &mut Problems, path: &str, values: &[String]) -> ScopeSet {
    values
        .iter()
        .enumerate()
        .filter_map(|(i, value)| {
            problems.check(
                &format!("{path}[{i}]"),
                Scope::parse(value)
                    .ok_or_else(|| format!("'{value}' is not a scope token (RFC 6749 3.3)")),
            )
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn credential_settings(
    problems: &mut Problems,
    section: &str,
    failure_window: Option<&String>,
    max_per_subject: u32,
    max_per_address: u32,
    cache_ttl: Option<&String>,
    cache_capacity: Option<u64>,
) -> CredentialSettings {
    let settings = CredentialSettings {
        failure_window: duration_or(
            problems,
            &format!("{section}.failure_window"),
            failure_window,
            Duration::from_secs(60),
        ),
        max_failures_per_subject: max_per_subject,
        max_failures_per_address: max_per_address,
        secret_cache_ttl: duration_or(
            problems,
            &format!("{section}.secret_cache_ttl"),
            cache_ttl,
            Duration::from_secs(3600),
        ),
        secret_cache_capacity: cache_capacity.unwrap_or(10_000),
    };
    if max_per_subject == 0 || max_per_address == 0 {
        problems.push(section, "failure limits must be at least 1");
    }
    if settings.secret_cache_capacity == 0 {
        problems.push(
            format!("{section}.secret_cache_capacity"),
            "must be at least 1",
        );
    }
    settings
}

impl RawSettings {
    fn validate_providers(&self, base_dir: &Path, problems: &mut Problems) -> Vec<Provider> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        for (i, raw) in self.providers.iter().enumerate() {
            let path = format!("providers[{i}]");
            let at = |field: &str| format!("{path}.{field}");
            let Some(name) = raw.name.clone().filter(|name| !name.is_empty()) else {
                problems.push(at("name"), "is required");
                continue;
            };
            if !seen.insert(name.clone()) {
                problems.push(at("name"), format!("duplicate provider '{name}'"));
                continue;
            }
            let timeout = duration_or(
                problems,
                &at("timeout"),
                raw.timeout.as_ref(),
                Duration::from_secs(3),
            );
            let kind = match raw.kind.as_deref() {
                Some("facebook") => {
                    let Some(app_id) = raw.app_id.clone() else {
                        problems.push(at("app_id"), "is required for a facebook provider");
                        continue;
                    };
                    // The app secret reads like a client's own secret.
                    let as_client = RawClient {
                        client_secret_env: raw.app_secret_env.clone(),
                        client_secret_file: raw.app_secret_file.clone(),
                        ..RawClient::default()
                    };
                    let at_secret = |field: &str| {
                        format!("{path}.{}", field.replace("client_secret", "app_secret"))
                    };
                    let Some(app_secret) = as_client.raw_secret(
                        &at_secret,
                        base_dir,
                        Some("a facebook provider needs its app secret"),
                        1,
                        problems,
                    ) else {
                        continue;
                    };
                    let base_url = raw
                        .base_url
                        .clone()
                        .unwrap_or_else(|| "https://graph.facebook.com".to_owned())
                        .trim_end_matches('/')
                        .to_owned();
                    // The app secret travels to it: https, or http on loopback only.
                    let safe = url::Url::parse(&base_url).is_ok_and(|url| {
                        url.scheme() == "https"
                            || (url.scheme() == "http"
                                && matches!(
                                    url.host_str(),
                                    Some("127.0.0.1" | "localhost" | "[::1]")
                                ))
                    });
                    if !safe {
                        problems.push(
                            at("base_url"),
                            "must be an https URL (http only on loopback)",
                        );
                        continue;
                    }
                    ProviderKind::Facebook {
                        app_id,
                        app_secret,
                        base_url,
                    }
                }
                Some("oidc") => {
                    let (Some(issuer), Some(audience)) = (raw.issuer.clone(), raw.audience.clone())
                    else {
                        problems.push(&path, "an oidc provider needs issuer and audience");
                        continue;
                    };
                    let as_client = RawClient {
                        jwks: raw.jwks.clone(),
                        jwks_file: raw.jwks_file.clone(),
                        jwks_uri: raw.jwks_uri.clone(),
                        ..RawClient::default()
                    };
                    let keys = as_client.client_keys(
                        &at,
                        base_dir,
                        Some("an oidc provider needs its public keys"),
                        problems,
                    );
                    ProviderKind::Oidc {
                        issuer,
                        keys,
                        audience,
                    }
                }
                other => {
                    problems.push(at("type"), format!("{other:?} is not facebook or oidc"));
                    continue;
                }
            };
            out.push(Provider {
                name,
                kind,
                timeout,
            });
        }
        out
    }

    fn validate_routes(&self, problems: &mut Problems) -> Vec<CompatRoute> {
        const CORE_PATHS: [&str; 9] = [
            "/oauth2/token",
            "/oauth2/revoke",
            "/oauth2/introspect",
            "/oauth2/revocations",
            "/oauth2/authorize",
            "/oauth2/userinfo",
            "/.well-known/jwks.json",
            "/.well-known/openid-configuration",
            "/.well-known/oauth-authorization-server",
        ];
        let mut seen = HashSet::new();
        let mut routes = Vec::new();
        for (i, raw) in self.routes.iter().enumerate() {
            let at = |field: &str| format!("routes[{i}].{field}");
            let path = match raw.path.as_deref() {
                Some(path) if path.starts_with('/') && !path.contains(['?', '#', '{', '}']) => {
                    path.to_owned()
                }
                _ => {
                    problems.push(at("path"), "must be a path such as /api/v1/token");
                    continue;
                }
            };
            if CORE_PATHS.contains(&path.as_str()) && raw.endpoint.is_some() {
                // The core JSON-capable token endpoint already serves it: allowed only as plain.
                if raw.envelope.as_deref().unwrap_or("plain") != "plain" || raw.query_parameters {
                    problems.push(
                        at("path"),
                        "a core endpoint's path cannot take an envelope or query parameters",
                    );
                    continue;
                }
                continue;
            }
            if !seen.insert(path.clone()) {
                problems.push(at("path"), format!("{path} is mounted twice"));
                continue;
            }
            let endpoint = match raw.endpoint.as_deref() {
                Some("token") => RouteEndpoint::Token,
                Some("revoke") => RouteEndpoint::Revoke,
                Some("introspect") => RouteEndpoint::Introspect,
                other => {
                    problems.push(
                        at("endpoint"),
                        format!("{other:?} is not token, revoke or introspect"),
                    );
                    continue;
                }
            };
            let envelope = match raw.envelope.as_deref() {
                None | Some("plain") => Envelope::Plain,
                Some("meta-data") => Envelope::MetaData,
                Some(other) => {
                    problems.push(
                        at("envelope"),
                        format!("'{other}' is not plain or meta-data"),
                    );
                    continue;
                }
            };
            routes.push(CompatRoute {
                path,
                endpoint,
                envelope,
                query_parameters: raw.query_parameters,
                scope_wildcard: raw.scope_wildcard.clone(),
                function: raw.function.clone().unwrap_or_else(|| "oauth".to_owned()),
            });
        }
        routes
    }

    fn validate_trusted_issuers(
        &self,
        base_dir: &Path,
        problems: &mut Problems,
    ) -> Vec<TrustedIssuer> {
        let mut out = Vec::new();
        for (i, raw) in self.trusted_issuers.iter().enumerate() {
            let path = format!("trusted_issuers[{i}]");
            let at = |field: &str| format!("{path}.{field}");
            let Some(issuer) = raw.issuer.clone().filter(|iss| !iss.is_empty()) else {
                problems.push(at("issuer"), "is required");
                continue;
            };
            // The key sources read exactly like a client's.
            let as_client = RawClient {
                jwks: raw.jwks.clone(),
                jwks_file: raw.jwks_file.clone(),
                jwks_uri: raw.jwks_uri.clone(),
                ..RawClient::default()
            };
            let keys = as_client.client_keys(
                &at,
                base_dir,
                Some("a trusted issuer needs its public keys"),
                problems,
            );
            let algs = parse_list(
                problems,
                &at("algs"),
                raw.algs.as_ref(),
                SigningAlg::ALL.to_vec(),
                str::parse,
            );
            let scopes = parse_scopes(problems, &at("scopes"), &raw.scopes)
                .iter()
                .cloned()
                .collect();
            out.push(TrustedIssuer {
                issuer,
                keys,
                algs,
                subject_prefix: raw.subject_prefix.clone().unwrap_or_default(),
                scopes,
                audience: raw.audience.clone(),
                max_lifetime: duration_or(
                    problems,
                    &at("max_lifetime"),
                    raw.max_lifetime.as_ref(),
                    Duration::from_secs(3600),
                ),
            });
        }
        out
    }

    fn validate_users(&self, problems: &mut Problems) -> Vec<User> {
        let mut seen = HashSet::new();
        let mut users = Vec::new();
        for (i, raw) in self.users.iter().enumerate() {
            let at = |field: &str| format!("users[{i}].{field}");
            let username = match raw.username.as_deref() {
                Some(name)
                    if !name.is_empty()
                        && name.len() <= 255
                        && !name.chars().any(char::is_control) =>
                {
                    name.to_owned()
                }
                _ => {
                    problems.push(
                        at("username"),
                        "is required: at most 255 printable characters",
                    );
                    continue;
                }
            };
            if !seen.insert(username.clone()) {
                problems.push(at("username"), format!("duplicate username '{username}'"));
            }
            let Some(hash) = raw.password_hash.as_deref() else {
                problems.push(
                    at("password_hash"),
                    "is required (make one with `tessera user password-hash`)",
                );
                continue;
            };
            let Some(password_hash) = problems.check(&at("password_hash"), SecretHash::parse(hash))
            else {
                continue;
            };
            let claims = match serde_json::to_value(&raw.claims) {
                Ok(serde_json::Value::Object(claims)) => claims,
                _ => {
                    problems.push(at("claims"), "must be a table of JSON-compatible values");
                    continue;
                }
            };
            for name in claims.keys() {
                if RESERVED_CLAIMS.contains(&name.as_str()) {
                    problems.push(
                        format!("users[{i}].claims.{name}"),
                        "is set by Tessera and cannot be configured",
                    );
                }
            }
            users.push(User {
                username,
                password_hash,
                claims,
            });
        }
        users
    }
}

impl RawEncryption {
    fn validate(
        &self,
        path: &str,
        base_dir: &Path,
        problems: &mut Problems,
    ) -> Option<RecipientKey> {
        let alg: KeyManagementAlg = match self.alg.as_deref() {
            None => {
                problems.push(
                    format!("{path}.alg"),
                    "is required (RSA-OAEP-256 or ECDH-ES+A256KW)",
                );
                return None;
            }
            Some(text) => problems.check(&format!("{path}.alg"), text.parse())?,
        };
        if let Some(enc) = self.enc.as_deref() {
            if enc != "A256GCM" {
                problems.push(
                    format!("{path}.enc"),
                    format!("'{enc}' is not supported (A256GCM)"),
                );
            }
        }
        let jwk = match (&self.jwk_file, &self.jwk) {
            (Some(file), None) => {
                let full = base_dir.join(file);
                let bytes = problems.check(
                    &format!("{path}.jwk_file"),
                    std::fs::read(&full)
                        .map_err(|err| format!("cannot read {}: {err}", full.display())),
                )?;
                problems.check(
                    &format!("{path}.jwk_file"),
                    Jwk::from_bytes(&bytes).map_err(|err| format!("not a JWK: {err}")),
                )?
            }
            (None, Some(table)) => {
                let map = match serde_json::to_value(table) {
                    Ok(serde_json::Value::Object(map)) => map,
                    _ => {
                        problems.push(format!("{path}.jwk"), "must be a JWK");
                        return None;
                    }
                };
                problems.check(
                    &format!("{path}.jwk"),
                    Jwk::from_map(map).map_err(|err| format!("not a JWK: {err}")),
                )?
            }
            _ => {
                problems.push(path, "give exactly one of jwk_file or jwk");
                return None;
            }
        };
        if ["d", "p", "q", "k"]
            .iter()
            .any(|member| jwk.parameter(member).is_some())
        {
            problems.push(path, "the key must be public: Tessera only encrypts to it");
            return None;
        }
        problems.check(
            path,
            RecipientKey::new(jwk, alg).map_err(|err| err.to_string()),
        )
    }
}

impl RawTls {
    fn validate(&self, base_dir: &Path, problems: &mut Problems) -> Option<TlsSettings> {
        let listen: SocketAddr = problems.check(
            "tls.listen",
            self.listen
                .as_deref()
                .unwrap_or("127.0.0.1:8443")
                .parse()
                .map_err(|err| format!("not an address such as 127.0.0.1:8443 ({err})")),
        )?;
        let file =
            |name: &str, value: &Option<String>, problems: &mut Problems| -> Option<PathBuf> {
                let path = base_dir.join(value.as_deref()?);
                if !path.is_file() {
                    problems.push(
                        format!("tls.{name}"),
                        format!("{} does not exist", path.display()),
                    );
                    return None;
                }
                Some(path)
            };
        if self.cert_file.is_none() || self.key_file.is_none() {
            problems.push("tls", "cert_file and key_file are required");
            return None;
        }
        let cert_file = file("cert_file", &self.cert_file, problems)?;
        let key_file = file("key_file", &self.key_file, problems)?;
        let client_ca_file = match &self.client_ca_file {
            None => None,
            Some(_) => Some(file("client_ca_file", &self.client_ca_file, problems)?),
        };
        Some(TlsSettings {
            base_url: self
                .base_url
                .clone()
                .unwrap_or_else(|| format!("https://{listen}"))
                .trim_end_matches('/')
                .to_owned(),
            listen,
            cert_file,
            key_file,
            client_ca_file,
        })
    }
}

impl RawResource {
    fn validate(&self, path: &str, base_dir: &Path, problems: &mut Problems) -> Option<Resource> {
        let Some(audience) = self.audience.clone().filter(|aud| !aud.is_empty()) else {
            problems.push(format!("{path}.audience"), "is required");
            return None;
        };
        Some(Resource {
            audience,
            access_token_encryption: self.access_token_encryption.as_ref().and_then(|raw| {
                raw.validate(
                    &format!("{path}.access_token_encryption"),
                    base_dir,
                    problems,
                )
            }),
        })
    }
}

/// A JWK Set's keys, each checked public and of a known type.
fn public_keys(
    path: &str,
    set: serde_json::Value,
    problems: &mut Problems,
) -> Option<Vec<serde_json::Map<String, serde_json::Value>>> {
    let Some(keys) = set.get("keys").and_then(|keys| keys.as_array()) else {
        problems.push(path, "must be a JWK Set: { keys = [ ... ] }");
        return None;
    };
    let mut out = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let Some(key) = key.as_object() else {
            problems.push(format!("{path}.keys[{i}]"), "must be a JWK");
            continue;
        };
        if ["d", "p", "q", "k"]
            .iter()
            .any(|member| key.contains_key(*member))
        {
            problems.push(
                format!("{path}.keys[{i}]"),
                "must be a public key (it has private members)",
            );
            continue;
        }
        if !matches!(
            key.get("kty").and_then(|kty| kty.as_str()),
            Some("EC" | "RSA" | "OKP")
        ) {
            problems.push(format!("{path}.keys[{i}]"), "kty must be EC, RSA or OKP");
            continue;
        }
        out.push(key.clone());
    }
    Some(out)
}

impl RawClient {
    /// Public keys from `jwks`, `jwks_file` or `jwks_uri`; `required` says why some are needed
    /// when they are.
    fn client_keys(
        &self,
        at: &dyn Fn(&str) -> String,
        base_dir: &Path,
        required: Option<&str>,
        problems: &mut Problems,
    ) -> ClientKeys {
        let keys = match (&self.jwks, &self.jwks_file, &self.jwks_uri) {
            (None, None, None) => ClientKeys::None,
            (Some(table), None, None) => match serde_json::to_value(table) {
                Ok(set) => public_keys(&at("jwks"), set, problems)
                    .map_or(ClientKeys::None, |keys| ClientKeys::Static(Arc::new(keys))),
                Err(_) => ClientKeys::None,
            },
            (None, Some(file), None) => {
                let full = base_dir.join(file);
                let set = std::fs::read(&full)
                    .map_err(|err| format!("cannot read {}: {err}", full.display()))
                    .and_then(|bytes| {
                        serde_json::from_slice(&bytes).map_err(|err| format!("not JSON: {err}"))
                    });
                match problems.check(&at("jwks_file"), set) {
                    Some(set) => public_keys(&at("jwks_file"), set, problems)
                        .map_or(ClientKeys::None, |keys| ClientKeys::Static(Arc::new(keys))),
                    None => ClientKeys::None,
                }
            }
            (None, None, Some(uri)) => match url::Url::parse(uri) {
                Ok(url)
                    if url.scheme() == "https"
                        || (url.scheme() == "http"
                            && matches!(
                                url.host_str(),
                                Some("127.0.0.1" | "localhost" | "[::1]")
                            )) =>
                {
                    ClientKeys::Uri(uri.clone())
                }
                _ => {
                    problems.push(
                        at("jwks_uri"),
                        "must be an https URL (http only on loopback)",
                    );
                    ClientKeys::None
                }
            },
            _ => {
                problems.push(at("jwks"), "give only one of jwks, jwks_file or jwks_uri");
                ClientKeys::None
            }
        };
        if let Some(reason) = required {
            if matches!(keys, ClientKeys::None)
                && !problems.0.iter().any(|p| p.path.starts_with(&at("jwks")))
            {
                problems.push(
                    at("jwks"),
                    format!("{reason}: give jwks, jwks_file or jwks_uri"),
                );
            }
        }
        keys
    }

    /// A secret itself (not a hash), from `client_secret_env` or `client_secret_file`:
    /// `required` says why one is needed when it is, `min_len` the shortest accepted.
    fn raw_secret(
        &self,
        at: &dyn Fn(&str) -> String,
        base_dir: &Path,
        required: Option<&str>,
        min_len: usize,
        problems: &mut Problems,
    ) -> Option<RawSecret> {
        let secret = match (&self.client_secret_env, &self.client_secret_file) {
            (None, None) => None,
            (Some(name), None) => problems.check(
                &at("client_secret_env"),
                std::env::var(name)
                    .ok()
                    .filter(|value| !value.is_empty())
                    .ok_or_else(|| format!("the environment variable {name} is not set")),
            ),
            (None, Some(file)) => {
                let full = base_dir.join(file);
                problems.check(
                    &at("client_secret_file"),
                    std::fs::read_to_string(&full)
                        .map(|text| text.trim_end_matches(['\r', '\n']).to_owned())
                        .map_err(|err| format!("cannot read {}: {err}", full.display()))
                        .and_then(|text| {
                            if text.is_empty() {
                                Err("the file is empty".to_owned())
                            } else {
                                Ok(text)
                            }
                        }),
                )
            }
            (Some(_), Some(_)) => {
                // Named as the section spells them (a provider's are app_secret_*).
                let field = |name: &str| at(name).rsplit('.').next().unwrap_or_default().to_owned();
                problems.push(
                    at("client_secret_env"),
                    format!(
                        "give only one of {} or {}",
                        field("client_secret_env"),
                        field("client_secret_file")
                    ),
                );
                None
            }
        };
        if let Some(secret) = &secret {
            if secret.len() < min_len {
                problems.push(
                    at("client_secret_env"),
                    format!("the secret must be at least {min_len} bytes"),
                );
            }
        }
        if let Some(reason) = required {
            if secret.is_none()
                && self.client_secret_env.is_none()
                && self.client_secret_file.is_none()
            {
                problems.push(
                    at("client_secret_env"),
                    format!(
                        "{reason}: give {} or {}",
                        at("client_secret_env"),
                        at("client_secret_file")
                    ),
                );
            }
        }
        secret.map(RawSecret::new)
    }

    fn validate(&self, path: &str, base_dir: &Path, problems: &mut Problems) -> Option<Client> {
        let at = |field: &str| format!("{path}.{field}");
        let id = match self.client_id.as_deref() {
            None | Some("") => {
                problems.push(at("client_id"), "is required");
                None
            }
            Some(id) if id.len() > 255 || id.chars().any(char::is_control) => {
                problems.push(at("client_id"), "must be at most 255 printable characters");
                None
            }
            Some(id) => Some(id.to_owned()),
        };
        let auth_methods = parse_list(
            problems,
            &at("token_endpoint_auth_methods"),
            self.token_endpoint_auth_methods.as_ref(),
            vec![AuthMethod::ClientSecretBasic],
            str::parse,
        );
        if auth_methods.is_empty()
            && self
                .token_endpoint_auth_methods
                .as_ref()
                .is_some_and(Vec::is_empty)
        {
            problems.push(
                at("token_endpoint_auth_methods"),
                "must name at least one method",
            );
        }
        let secret_hash = match &self.client_secret_hash {
            None => {
                if auth_methods.iter().any(|m| m.uses_secret()) {
                    problems.push(
                        at("client_secret_hash"),
                        "is required for client_secret_basic and client_secret_post",
                    );
                }
                None
            }
            Some(phc) => problems.check(&at("client_secret_hash"), SecretHash::parse(phc)),
        };
        let grant_types = parse_list(
            problems,
            &at("grant_types"),
            self.grant_types.as_ref(),
            vec![GrantType::ClientCredentials],
            str::parse,
        );
        let scopes = parse_scopes(problems, &at("scopes"), &self.scopes);
        let default_scopes = match &self.default_scopes {
            None => scopes.clone(),
            Some(values) => {
                let defaults = parse_scopes(problems, &at("default_scopes"), values);
                let extra = defaults.not_in(&scopes);
                if !extra.is_empty() {
                    let names: Vec<&str> = extra.iter().map(|s| s.as_str()).collect();
                    problems.push(
                        at("default_scopes"),
                        format!("{} not in scopes", names.join(" ")),
                    );
                }
                defaults
            }
        };
        if self.audience.is_empty() {
            problems.push(
                at("audience"),
                "name at least one resource server (RFC 9068 access tokens carry aud)",
            );
        }
        for (i, aud) in self.audience.iter().enumerate() {
            if aud.is_empty() || aud.chars().any(char::is_whitespace) {
                problems.push(
                    format!("{}[{i}]", at("audience")),
                    "must be a non-empty identifier without spaces",
                );
            }
        }
        let keys = self.client_keys(
            &at,
            base_dir,
            auth_methods
                .contains(&AuthMethod::PrivateKeyJwt)
                .then_some("private_key_jwt needs the client's public keys"),
            problems,
        );
        let assertion_secret = self.raw_secret(
            &at,
            base_dir,
            auth_methods.contains(&AuthMethod::ClientSecretJwt).then_some(
                "client_secret_jwt needs the secret itself (an HMAC cannot be checked against a hash)",
            ),
            // RFC 7518 3.2: an HMAC key at least as long as the hash.
            32,
            problems,
        );
        let default_algs: Vec<AssertionAlg> = SigningAlg::ALL
            .into_iter()
            .map(AssertionAlg::Asymmetric)
            .chain(HmacAlg::ALL.into_iter().map(AssertionAlg::Hmac))
            .collect();
        let assertion_algs = parse_list(
            problems,
            &at("token_endpoint_auth_signing_algs"),
            self.token_endpoint_auth_signing_algs.as_ref(),
            default_algs,
            |text| {
                if text == "none" {
                    Err("none is never allowed".to_owned())
                } else {
                    text.parse()
                }
            },
        );
        if auth_methods.contains(&AuthMethod::None)
            && grant_types.contains(&GrantType::ClientCredentials)
        {
            problems.push(
                at("grant_types"),
                "a public client (none) cannot use client_credentials: anyone knowing its id would get tokens",
            );
        }
        if auth_methods.contains(&AuthMethod::TlsClientAuth)
            && self.tls_client_auth_subject_dn.is_none()
            && self.tls_client_auth_san_dns.is_none()
        {
            problems.push(
                at("tls_client_auth_subject_dn"),
                "tls_client_auth needs tls_client_auth_subject_dn or tls_client_auth_san_dns",
            );
        }
        if auth_methods.contains(&AuthMethod::SelfSignedTlsClientAuth)
            && matches!(keys, ClientKeys::None)
        {
            problems.push(at("jwks"), "self_signed_tls_client_auth needs the client's public keys: jwks, jwks_file or jwks_uri");
        }
        if auth_methods.contains(&AuthMethod::None) && self.introspect {
            problems.push(
                at("introspect"),
                "a public client (none) cannot introspect tokens",
            );
        }
        if auth_methods.contains(&AuthMethod::None) && auth_methods.len() > 1 {
            problems.push(
                at("token_endpoint_auth_methods"),
                "none (a public client) cannot be combined with other methods",
            );
        }
        let mut redirect_uris = Vec::new();
        for (i, uri) in self.redirect_uris.iter().enumerate() {
            match url::Url::parse(uri) {
                Ok(url) if url.fragment().is_none() => redirect_uris.push(uri.clone()),
                _ => problems.push(
                    format!("{}[{i}]", at("redirect_uris")),
                    "must be an absolute URI without a fragment",
                ),
            }
        }
        if grant_types.contains(&GrantType::AuthorizationCode) && redirect_uris.is_empty() {
            problems.push(
                at("redirect_uris"),
                "the authorization_code grant needs at least one redirect URI",
            );
        }
        let access_token_ttl = self
            .access_token_ttl
            .as_ref()
            .and_then(|text| problems.check(&at("access_token_ttl"), parse_duration(text)));
        Some(Client {
            id: id?,
            secret_hash,
            auth_methods,
            grant_types,
            scopes,
            default_scopes,
            audience: self.audience.clone(),
            access_token_ttl,
            may_introspect: self.introspect,
            redirect_uris,
            allow_plain_pkce: self.allow_plain_pkce,
            consent: self.consent,
            access_token_encryption: self
                .access_token_encryption
                .as_ref()
                .and_then(|raw| raw.validate(&at("access_token_encryption"), base_dir, problems)),
            keys,
            assertion_secret,
            assertion_algs,
            require_encrypted_assertion: self.require_encrypted_assertion,
            tls_subject_dn: self.tls_client_auth_subject_dn.clone(),
            tls_san_dns: self.tls_client_auth_san_dns.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$Hf0CjJ1i2ZVJkM6AAh4l2xOKnUVbfO5zWNnD0MY3cAk";

    fn parse(text: &str) -> Result<Settings, ConfigError> {
        Settings::parse(text, Path::new("/etc/tessera"), Vec::new())
    }

    fn paths(err: ConfigError) -> Vec<String> {
        err.problems.into_iter().map(|p| p.path).collect()
    }

    #[test]
    fn a_minimal_file_gets_the_documented_defaults() {
        let settings = parse("issuer = \"https://id.example/\"").unwrap();
        assert_eq!(settings.issuer, "https://id.example");
        assert_eq!(settings.keys_dir, Path::new("/etc/tessera/keys"));
        assert_eq!(settings.tokens.signing_alg, SigningAlg::ES256);
        assert_eq!(settings.tokens.access_token_ttl, Duration::from_secs(900));
        assert_eq!(settings.listen.to_string(), "127.0.0.1:8080");
    }

    #[test]
    fn every_problem_is_named_with_its_path() {
        let text = format!(
            r#"
issuer = "https://id.example"
colour = "blue"
[tokens]
access_token_ttl = "soon"
signing_alg = "HS256"
[[clients]]
client_id = "a"
client_secret_hash = "{HASH}"
audience = ["x"]
scops = ["typo"]
[[clients]]
client_id = "a"
client_secret_hash = "{HASH}"
grant_types = ["implicit"]
audience = ["x"]
"#
        );
        let found = paths(parse(&text).unwrap_err());
        for expected in [
            "colour",
            "clients[0].scops",
            "tokens.access_token_ttl",
            "tokens.signing_alg",
            "clients[1].client_id",
            "clients[1].grant_types[0]",
        ] {
            assert!(
                found.contains(&expected.to_owned()),
                "{expected} not in {found:?}"
            );
        }
    }

    #[test]
    fn environment_overrides_scalars_and_unknown_names_are_reported() {
        let env = vec![
            ("TESSERA_LISTEN".to_owned(), "0.0.0.0:9999".to_owned()),
            ("TESSERA_TOKENS__SIGNING_ALG".to_owned(), "EdDSA".to_owned()),
            (
                "TESSERA_SERVER__MAX_BODY_BYTES".to_owned(),
                "2048".to_owned(),
            ),
            ("TESSERA_CONFIG".to_owned(), "ignored".to_owned()),
            ("TESSERA_BENCH_SECONDS".to_owned(), "5".to_owned()),
            ("PATH".to_owned(), "/bin".to_owned()),
        ];
        let settings =
            Settings::parse("issuer = \"https://id.example\"", Path::new("."), env).unwrap();
        assert_eq!(settings.listen.to_string(), "0.0.0.0:9999");
        assert_eq!(settings.tokens.signing_alg, SigningAlg::EdDSA);
        assert_eq!(settings.server.max_body_bytes, 2048);

        let env = vec![("TESSERA_COLOUR".to_owned(), "blue".to_owned())];
        let err =
            Settings::parse("issuer = \"https://id.example\"", Path::new("."), env).unwrap_err();
        assert_eq!(err.problems[0].path, "colour");
        assert!(err.problems[0].message.contains("environment"));
    }

    #[test]
    fn a_wrong_type_names_its_path() {
        let err = parse("issuer = \"https://id.example\"\n[server]\nmax_body_bytes = \"big\"")
            .unwrap_err();
        assert_eq!(err.problems[0].path, "server.max_body_bytes");
    }

    #[test]
    fn two_secret_sources_are_named_as_the_section_spells_them() {
        let text = r#"
issuer = "https://id.example"
[[clients]]
client_id = "a"
client_secret_env = "A"
client_secret_file = "a.txt"
audience = ["x"]
[[providers]]
name = "fb"
type = "facebook"
app_id = "1"
app_secret_env = "B"
app_secret_file = "b.txt"
"#;
        let err = parse(text).unwrap_err();
        let found: Vec<String> = err
            .problems
            .iter()
            .map(|p| format!("{}: {}", p.path, p.message))
            .collect();
        for expected in [
            "clients[0].client_secret_env: give only one of client_secret_env or client_secret_file",
            "providers[0].app_secret_env: give only one of app_secret_env or app_secret_file",
        ] {
            assert!(found.contains(&expected.to_owned()), "{expected} not in {found:?}");
        }
    }

    #[test]
    fn client_rules() {
        let text = r#"
issuer = "https://id.example"
[[clients]]
client_id = "a"
client_secret_hash = "plain-text-secret"
scopes = ["a", "b c"]
default_scopes = ["z"]
audience = []
"#;
        let found = paths(parse(text).unwrap_err());
        for expected in [
            "clients[0].client_secret_hash",
            "clients[0].scopes[1]",
            "clients[0].default_scopes",
            "clients[0].audience",
        ] {
            assert!(
                found.contains(&expected.to_owned()),
                "{expected} not in {found:?}"
            );
        }
    }
}
