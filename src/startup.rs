//! Builds the application: keys (development keys on a fresh checkout), state, routes,
//! middleware and the listener.

use crate::clock::Clock;
use crate::http::{compat_routes, observe::observe, routes};
use crate::keys::{ensure_development_keys, KeyRing};
use crate::settings::Settings;
use crate::state::AppState;
use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use anyhow::Context;
use std::net::TcpListener;
use std::sync::Arc;

pub struct Application {
    port: u16,
    tls_port: Option<u16>,
    server: Server,
    state: web::Data<AppState>,
}

/// Loads the key ring, first creating development keys when the keys folder holds none.
pub fn load_keys(settings: &Settings, clock: &dyn Clock) -> anyhow::Result<KeyRing> {
    let dir = &settings.keys_dir;
    let alg = settings.tokens.signing_alg;
    if ensure_development_keys(dir, alg, clock.now())? {
        tracing::warn!(
            keys_dir = %dir.display(),
            %alg,
            "no keys found: created DEVELOPMENT keys (a signing key, an encryption key and a secret key); \
             for production, provision and protect keys yourself (`tessera keys generate`)"
        );
    }
    KeyRing::load(dir, alg).with_context(|| format!("loading keys from {}", dir.display()))
}

impl Application {
    /// Binds `settings.listen` (port 0 picks a free port) and prepares the server.
    pub fn build(settings: Settings, clock: Arc<dyn Clock>) -> anyhow::Result<Application> {
        let keys = load_keys(&settings, clock.as_ref())?;
        let listener = TcpListener::bind(settings.listen)
            .with_context(|| format!("binding {}", settings.listen))?;
        let port = listener.local_addr()?.port();
        let workers = settings.server.workers;
        let tls = match &settings.tls {
            None => None,
            Some(tls) => {
                let (config, client_ca) = crate::tls::server_config(tls)?;
                let listener = TcpListener::bind(tls.listen)
                    .with_context(|| format!("binding {}", tls.listen))?;
                Some((config, client_ca, listener))
            }
        };
        let mut app_state =
            AppState::new(settings, keys, clock).map_err(|err| anyhow::anyhow!(err))?;
        let (tls_config, tls_listener) = match tls {
            None => (None, None),
            Some((config, client_ca, listener)) => {
                app_state.client_ca = client_ca;
                (Some(config), Some(listener))
            }
        };
        let tls_port = match &tls_listener {
            Some(listener) => Some(listener.local_addr()?.port()),
            None => None,
        };
        let state = web::Data::new(app_state);
        let app_state = state.clone();
        let compat = std::sync::Arc::new(state.settings().routes.clone());
        let mut server = HttpServer::new(move || {
            let compat = compat.clone();
            App::new()
                .app_data(app_state.clone())
                .wrap(from_fn(observe))
                .configure(routes)
                .configure(move |cfg| compat_routes(cfg, &compat))
        });
        if let Some(workers) = workers {
            server = server.workers(workers);
        }
        let mut server = server.on_connect(crate::tls::on_connect).listen(listener)?;
        if let (Some(config), Some(listener)) = (tls_config, tls_listener) {
            server = server.listen_rustls_0_23(listener, config)?;
            tracing::info!(address = %format!("https://{}:{}", state.settings().listen.ip(), tls_port.unwrap_or_default()), "listening for mutual TLS");
        }
        let server = server.run();
        tracing::info!(
            address = %format!("http://{}:{port}", state.settings().listen.ip()),
            issuer = %state.settings().issuer,
            clients = state.settings().clients.len(),
            revocation = %state.revocations.describe(),
            "listening"
        );
        Ok(Application {
            port,
            tls_port,
            server,
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of the mutual-TLS listener, when configured.
    pub fn tls_port(&self) -> Option<u16> {
        self.tls_port
    }

    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// Stops the server gracefully when asked.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
