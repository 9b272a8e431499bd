//! Typed configuration: one TOML file plus `TESSERA_*` environment overrides, parsed once into
//! validated values. Every problem is reported with its path, all of them at once where possible.
//!
//! Each section has its own file with its raw struct (the file as written: strings where the
//! typed value needs parsing), its typed struct and the validation between them. Registered
//! records (clients, users, providers...) are typed in `crate::registry`.

mod authorize;
mod client_assertions;
mod clients;
mod credentials;
mod device;
mod dpop;
mod encryption;
mod env;
mod keys;
mod log;
mod logout;
mod problems;
mod profile;
mod providers;
mod resources;
mod restart;
mod revocation;
mod routes;
mod server;
mod sources;
mod status_lists;
mod tls;
mod tokens;
mod trusted_issuers;
mod uma_resources;
mod users;
mod values;

pub use authorize::AuthorizeSettings;
pub use client_assertions::ClientAssertionSettings;
pub use credentials::CredentialSettings;
pub use device::DeviceSettings;
pub use dpop::DpopSettings;
pub use env::ENV_PREFIX;
pub use keys::KeySettings;
pub use log::{LogFormat, LogSettings};
pub use logout::{LogoutSettings, LOGOUT_TOKEN_TTL_SECS};
pub use problems::{ConfigError, ConfigProblem};
pub use profile::Profile;
pub use revocation::{RedisTarget, RevocationBackend, RevocationSettings};
pub use server::ServerSettings;
pub use status_lists::StatusListSettings;
pub use tls::TlsSettings;
pub use tokens::TokenSettings;

use crate::registry::{
    ClientRegistry, CompatRoute, ProviderRegistry, ResourceRegistry, TrustedIssuerRegistry,
    UmaResourceRegistry, UserRegistry,
};
use problems::{ignored_key_path, ProblemList, Problems};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Default location of the configuration file, relative to the working directory.
pub const DEFAULT_CONFIG_PATH: &str = "config/tessera.toml";

/// The whole parsed configuration: one self-contained value.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `iss` of every token, without a trailing slash.
    pub issuer: String,
    /// The security profile the server follows (`profile = "fapi2"`), if any.
    pub profile: Option<Profile>,
    pub listen: SocketAddr,
    pub keys_dir: PathBuf,
    pub server: ServerSettings,
    pub tokens: TokenSettings,
    pub keys: KeySettings,
    pub client_auth: CredentialSettings,
    pub user_auth: CredentialSettings,
    pub log: LogSettings,
    pub revocation: RevocationSettings,
    pub status_lists: StatusListSettings,
    /// DPoP proofs (RFC 9449).
    pub dpop: DpopSettings,
    pub clients: ClientRegistry,
    pub users: UserRegistry,
    pub resources: ResourceRegistry,
    pub authorize: AuthorizeSettings,
    pub device: DeviceSettings,
    pub logout: LogoutSettings,
    pub client_assertions: ClientAssertionSettings,
    pub trusted_issuers: TrustedIssuerRegistry,
    pub tls: Option<TlsSettings>,
    /// Mounted in file order.
    pub routes: Vec<CompatRoute>,
    pub providers: ProviderRegistry,
    pub uma_resources: UmaResourceRegistry,
    /// How long a signed token can be valid: the longest token lifetime (status list tokens
    /// included), plus a minute for verifiers' clock skew. A retired signing key stays
    /// published this long.
    pub token_retention: Duration,
    /// How long an access or ID token can be valid, plus the minute of skew: what a status
    /// list must outlive its window by.
    pub access_retention: Duration,
    /// What an assertion's `aud` may name: the issuer, the token and pushed authorization request
    /// endpoints (RFC 9126 2) and their mutual-TLS aliases; the issuer alone under FAPI 2.0.
    pub assertion_audiences: Vec<String>,
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
        self.access_retention = self
            .tokens
            .access_token_ttl
            .max(self.tokens.id_token_ttl)
            .max(longest_client)
            .max(Duration::from_secs(LOGOUT_TOKEN_TTL_SECS as u64))
            + Duration::from_secs(60);
        self.token_retention = self
            .access_retention
            .max(self.status_lists.token_lifetime + Duration::from_secs(60));
        self.assertion_audiences = vec![self.issuer.clone()];
        // FAPI 2.0 5.3.2.1: the issuer identifier only.
        if !self.is_fapi2() {
            for path in [crate::oauth::paths::TOKEN, crate::oauth::paths::PAR] {
                self.assertion_audiences.push(self.endpoint(path));
                if let Some(tls) = &self.tls {
                    self.assertion_audiences
                        .push(format!("{}{path}", tls.base_url));
                }
            }
        }
        self
    }

    /// How status lists are cut: a list is served until every access token in it (or made from
    /// a code issued in its window) has expired.
    pub fn status_list_layout(&self) -> crate::revocation::status_list::Layout {
        crate::revocation::status_list::Layout {
            window_secs: self.status_lists.window.as_secs(),
            list_size: self.status_lists.list_size,
            retention_secs: (self.access_retention + self.authorize.code_ttl).as_secs(),
        }
    }

    /// The token endpoint URL (an accepted assertion audience, and in discovery).
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    /// The URL of `path` as a client addresses it: on the issuer's base, or on the mutual-TLS
    /// listener's (`[tls] base_url`) for a request that came in there.
    pub fn addressed_url(&self, via_tls: bool, path: &str) -> String {
        format!("{}{path}", self.addressed_base(via_tls))
    }

    /// The base URL a client addresses: the issuer's, or `[tls] base_url` on the mutual-TLS
    /// listener.
    pub fn addressed_base(&self, via_tls: bool) -> &String {
        match (&self.tls, via_tls) {
            (Some(tls), true) => &tls.base_url,
            _ => &self.issuer,
        }
    }

    /// The configuration of an issuer at `issuer` with every default and nothing registered,
    /// built in code (unit tests fill in the registries they need).
    pub fn with_issuer(issuer: &str) -> Result<Settings, ConfigError> {
        let raw = RawSettings {
            issuer: Some(issuer.to_owned()),
            ..RawSettings::default()
        };
        let mut list = ProblemList::default();
        let settings = raw.validate(Path::new("."), &mut list.root());
        match settings {
            Some(settings) if list.is_empty() => Ok(settings),
            _ => Err(list.into_error()),
        }
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
        let mut found = ProblemList::default();
        let mut problems = found.root();
        let from_env = env::apply_env(&mut table, env, &mut problems);

        let mut unknown = Vec::new();
        let mut record_unknown =
            |path: serde_ignored::Path<'_>| unknown.push(ignored_key_path(&path));
        let deserializer =
            serde_ignored::Deserializer::new(toml::Value::Table(table), &mut record_unknown);
        let raw: Result<RawSettings, _> = serde_path_to_error::deserialize(deserializer);
        for path in unknown {
            let origin = if from_env.contains(&path) {
                " (from the environment)"
            } else {
                ""
            };
            problems.push(&path, format!("unknown key{origin}"));
        }
        let settings = match raw {
            Ok(raw) => raw.validate(base_dir, &mut problems),
            Err(err) => {
                problems.push(&err.path().to_string(), err.into_inner().to_string());
                None
            }
        };
        match settings {
            Some(settings) if found.is_empty() => Ok(settings),
            _ => Err(found.into_error()),
        }
    }
}

/// The file as written.
#[derive(Deserialize, Default)]
#[serde(default)]
struct RawSettings {
    issuer: Option<String>,
    profile: Option<String>,
    listen: Option<String>,
    keys_dir: Option<String>,
    server: server::RawServer,
    tokens: tokens::RawTokens,
    keys: keys::RawKeys,
    client_auth: credentials::RawClientAuth,
    log: log::RawLog,
    revocation: revocation::RawRevocation,
    status_lists: status_lists::RawStatusLists,
    dpop: dpop::RawDpop,
    user_auth: credentials::RawUserAuth,
    authorize: authorize::RawAuthorize,
    device: device::RawDevice,
    logout: logout::RawLogout,
    client_assertions: client_assertions::RawClientAssertions,
    trusted_issuers: Vec<trusted_issuers::RawTrustedIssuer>,
    tls: Option<tls::RawTls>,
    routes: Vec<routes::RawRoute>,
    providers: Vec<providers::RawProvider>,
    uma_resources: Vec<uma_resources::RawUmaResource>,
    clients: Vec<clients::RawClient>,
    users: Vec<users::RawUser>,
    resources: Vec<resources::RawResource>,
}

impl RawSettings {
    fn validate(self, base_dir: &Path, problems: &mut Problems) -> Option<Settings> {
        let issuer = self.issuer(problems);
        let profile = self.profile(problems);
        let listen = problems.check(
            "listen",
            values::parse_address(
                self.listen.as_deref().unwrap_or("127.0.0.1:8080"),
                "127.0.0.1:8080",
            ),
        );
        let keys_dir = base_dir.join(self.keys_dir.as_deref().unwrap_or("keys"));
        let server = self.server.validate(&mut problems.at("server"));
        let tokens = self.tokens.validate(&mut problems.at("tokens"));
        let keys = self.keys.validate(&mut problems.at("keys"));
        let client_auth = self.client_auth.validate(&mut problems.at("client_auth"));
        let user_auth = self.user_auth.validate(&mut problems.at("user_auth"));
        let client_assertions = self
            .client_assertions
            .validate(&mut problems.at("client_assertions"));
        let authorize = self.authorize.validate(&mut problems.at("authorize"));
        let device = self.device.validate(&mut problems.at("device"));
        let logout = self.logout.validate(&mut problems.at("logout"));
        let log = self.log.validate(&mut problems.at("log"));
        let revocation = self
            .revocation
            .validate(&mut problems.at("revocation"), base_dir);
        let status_lists = self.status_lists.validate(&mut problems.at("status_lists"));
        let dpop = self.dpop.validate(&mut problems.at("dpop"));
        let tls = self
            .tls
            .as_ref()
            .and_then(|raw| raw.validate(&mut problems.at("tls"), base_dir));
        let userinfo = format!(
            "{}{}",
            issuer.as_deref().unwrap_or_default(),
            crate::oauth::paths::USERINFO
        );
        let clients = clients::validate_clients(
            &self.clients,
            problems,
            base_dir,
            self.tls.is_some(),
            tls.as_ref(),
            &client_assertions,
            &userinfo,
        );
        let users = users::validate_users(&self.users, problems);
        let resources = resources::validate_resources(&self.resources, problems, base_dir);
        let trusted_issuers = trusted_issuers::validate_trusted_issuers(
            &self.trusted_issuers,
            problems,
            base_dir,
            &client_assertions,
        );
        let routes = routes::validate_routes(&self.routes, problems);
        let providers =
            providers::validate_providers(&self.providers, problems, base_dir, &client_assertions);
        let uma_resources = uma_resources::validate_uma_resources(&self.uma_resources, problems);
        // Only now, so that one pass names every problem of the file.
        let (issuer, listen) = (issuer?, listen?);
        let mut settings = Settings {
            issuer,
            profile,
            listen,
            keys_dir,
            server,
            tokens,
            keys,
            client_auth,
            user_auth,
            log,
            revocation,
            status_lists,
            dpop,
            clients,
            users,
            resources,
            authorize,
            device,
            logout,
            client_assertions,
            trusted_issuers,
            tls,
            routes,
            providers,
            uma_resources,
            token_retention: Duration::ZERO,
            access_retention: Duration::ZERO,
            assertion_audiences: Vec::new(),
        }
        .derive();
        if settings.is_fapi2() {
            profile::apply_fapi2(&self, &mut settings, problems);
        }
        Some(settings)
    }

    fn issuer(&self, problems: &mut Problems) -> Option<String> {
        let Some(text) = &self.issuer else {
            problems.push(
                "issuer",
                "is required (the URL that names this issuer in every token)",
            );
            return None;
        };
        problems.check("issuer", values::parse_issuer(text))
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod reference;
