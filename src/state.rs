//! The application state every handler shares: the configuration (settings and registries, one
//! value) and the key ring, each swapped whole on reload (SIGHUP) and read without locks; the clock,
//! caches, stores and metrics. It knows no web framework; its methods hand each endpoint the
//! narrow handles it works with, all taken from one `Issuer` (the configuration and keys as they
//! are for the whole request).

use crate::clock::{Clock, UnixTime};
use crate::jose::KeyError;
use crate::keys::KeyRing;
use crate::metrics::Metrics;
use crate::oauth::browser::BrowserHandles;
use crate::oauth::client_auth::ClientAuthenticator;
use crate::oauth::credentials::CredentialVerifier;
use crate::oauth::endpoints::authorize::AuthorizeHandles;
use crate::oauth::endpoints::device::DeviceHandles;
use crate::oauth::endpoints::logout::LogoutHandles;
use crate::oauth::endpoints::status_list::RenderedLists;
use crate::oauth::grants::GrantHandles;
use crate::oauth::hash_pool::HashPool;
use crate::oauth::issuer::Issuer;
use crate::revocation::Revocations;
use crate::settings::{ConfigError, Settings};
use arc_swap::ArcSwap;
use std::net::IpAddr;
use std::sync::Arc;

pub struct AppState {
    settings: ArcSwap<Settings>,
    keys: ArcSwap<KeyRing>,
    pub clock: Arc<dyn Clock>,
    /// Client secrets.
    pub credentials: CredentialVerifier,
    /// User passwords (throttled per username and per address).
    pub user_credentials: CredentialVerifier,
    pub revocations: Revocations,
    /// Status list tokens as last rendered.
    pub status_lists: RenderedLists,
    /// Outbound HTTP (identity providers); each call sets its own timeout.
    pub http: reqwest::Client,
    /// The client CA of `tls_client_auth`, when the TLS listener has one.
    pub client_ca: Option<crate::tls::ClientCa>,
    pub metrics: Metrics,
}

impl AppState {
    pub fn new(settings: Settings, keys: KeyRing, clock: Arc<dyn Clock>) -> Result<Self, String> {
        // One argon2 pool for client secrets and user passwords: one bound on its memory.
        let hashes = HashPool::new(&settings.server);
        let revocations = Revocations::new(&settings.revocation, settings.status_list_layout())?;
        Ok(Self {
            credentials: CredentialVerifier::for_clients(
                &settings.client_auth,
                hashes.clone(),
                revocations.shared_counters("client"),
            ),
            user_credentials: CredentialVerifier::for_users(
                &settings.user_auth,
                hashes,
                revocations.shared_counters("user"),
            ),
            revocations,
            status_lists: RenderedLists::default(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|err| format!("the HTTP client: {err}"))?,
            client_ca: None,
            keys: ArcSwap::from_pointee(keys),
            metrics: Metrics::new(),
            settings: ArcSwap::from_pointee(settings),
            clock,
        })
    }

    pub fn now(&self) -> UnixTime {
        self.clock.now()
    }

    /// The configuration as it is now; hold it only for the request.
    pub fn settings(&self) -> arc_swap::Guard<Arc<Settings>> {
        self.settings.load()
    }

    /// The key ring as it is now; hold it only for the request.
    pub fn keys(&self) -> arc_swap::Guard<Arc<KeyRing>> {
        self.keys.load()
    }

    /// The configuration, keys and time one request works with.
    pub fn issuer(&self) -> Issuer {
        Issuer {
            settings: self.settings(),
            keys: self.keys(),
            now: self.now(),
        }
    }

    /// Client authentication with the configuration and keys `issuer` holds.
    pub fn client_authenticator<'a>(&'a self, issuer: &'a Issuer) -> ClientAuthenticator<'a> {
        ClientAuthenticator {
            settings: &issuer.settings,
            clients: &issuer.settings.clients,
            secrets: &self.credentials,
            keys: &issuer.keys,
            revocations: &self.revocations,
            client_ca: self.client_ca.as_ref(),
            metrics: &self.metrics,
            now: issuer.now,
        }
    }

    /// What the grants of a request from `peer` use.
    pub fn grant_handles<'a>(
        &'a self,
        issuer: &'a Issuer,
        peer: Option<IpAddr>,
    ) -> GrantHandles<'a> {
        GrantHandles {
            issuer,
            users: &issuer.settings.users,
            passwords: &self.user_credentials,
            revocations: &self.revocations,
            http: &self.http,
            peer,
        }
    }

    /// What every browser page (login, device verification, logout) uses.
    pub fn browser_handles<'a>(&'a self, issuer: &'a Issuer) -> BrowserHandles<'a> {
        BrowserHandles {
            issuer,
            users: &issuer.settings.users,
            passwords: &self.user_credentials,
            revocations: &self.revocations,
            session_ttl_secs: issuer.settings.authorize.session_ttl.as_secs() as i64,
        }
    }

    /// What the authorization endpoint and its forms use.
    pub fn authorize_handles<'a>(&'a self, issuer: &'a Issuer) -> AuthorizeHandles<'a> {
        AuthorizeHandles {
            browser: self.browser_handles(issuer),
            clients: &issuer.settings.clients,
        }
    }

    /// What the device verification page uses.
    pub fn device_handles<'a>(&'a self, issuer: &'a Issuer) -> DeviceHandles<'a> {
        DeviceHandles {
            browser: self.browser_handles(issuer),
            settings: &issuer.settings.device,
        }
    }

    /// What the end-session endpoint uses.
    pub fn logout_handles<'a>(&'a self, issuer: &'a Issuer) -> LogoutHandles<'a> {
        LogoutHandles {
            browser: self.browser_handles(issuer),
            clients: &issuer.settings.clients,
        }
    }

    /// Re-reads the keys folder and swaps the ring in whole. In-flight requests finish with the
    /// ring they started with; on error the current ring stays.
    pub fn reload_keys(&self) -> Result<(), KeyError> {
        let settings = self.settings();
        let result = KeyRing::load(&settings.keys_dir, settings.tokens.signing_alg);
        self.metrics.record_key_reload(result.is_ok());
        self.keys.store(Arc::new(result?));
        Ok(())
    }

    /// Takes `next` (a configuration file just parsed, or its problems) with the keys folder it
    /// names, whole or not at all: refused when it is invalid, when it changes what only a
    /// restart can change, or when its keys do not load; the running configuration then stays.
    /// In-flight requests finish with the configuration they started with.
    pub fn reload(&self, next: Result<Settings, ConfigError>) -> Result<(), ReloadError> {
        let result = self.swap_in(next);
        self.metrics.record_config_reload(match &result {
            Ok(()) => "ok",
            Err(ReloadError::Invalid(_)) => "invalid",
            Err(ReloadError::NeedsRestart(_)) => "restart_required",
            Err(ReloadError::Keys(_)) => "keys_error",
        });
        result
    }

    fn swap_in(&self, next: Result<Settings, ConfigError>) -> Result<(), ReloadError> {
        let next = next.map_err(ReloadError::Invalid)?;
        let restart = self.settings().needs_restart_for(&next);
        if !restart.is_empty() {
            return Err(ReloadError::NeedsRestart(restart));
        }
        let keys = KeyRing::load(&next.keys_dir, next.tokens.signing_alg);
        self.metrics.record_key_reload(keys.is_ok());
        // The ring first: it holds the running algorithm's keys as well as the new one's.
        self.keys.store(Arc::new(keys.map_err(ReloadError::Keys)?));
        self.settings.store(Arc::new(next));
        Ok(())
    }
}

/// Why a reloaded configuration was not taken.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    #[error("the configuration is invalid: {}", problems(.0))]
    Invalid(ConfigError),
    #[error("these settings changed and need a restart: {}", .0.join(", "))]
    NeedsRestart(Vec<&'static str>),
    #[error("the keys folder does not load: {0}")]
    Keys(KeyError),
}

fn problems(err: &ConfigError) -> String {
    let list: Vec<String> = err
        .problems
        .iter()
        .map(|problem| format!("{}: {}", problem.path, problem.message))
        .collect();
    list.join("; ")
}
