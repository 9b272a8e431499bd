//! Builds the application: keys (development keys on a fresh checkout), state, routes,
//! middleware and the listener.

use crate::clock::Clock;
use crate::http::{compat_or_not_found, observe::observe, routes};
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
        crate::return_freed_memory_at_once();
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
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(app_state.clone())
                .wrap(from_fn(observe))
                .configure(routes)
                .default_service(web::to(compat_or_not_found))
        });
        if let Some(workers) = workers {
            server = server.workers(workers);
        }
        let mut server = server.on_connect(crate::tls::on_connect).listen(listener)?;
        let settings = state.settings();
        let tls_address = match (tls_config, tls_listener, tls_port) {
            (Some(config), Some(listener), Some(tls_port)) => {
                server = server.listen_rustls_0_23(listener, config)?;
                let address = format!("https://{}:{tls_port}", settings.listen.ip());
                tracing::info!(address = %address, "listening for mutual TLS");
                address
            }
            _ => "off".to_owned(),
        };
        let server = server.run();
        let keys = state.keys();
        let signer = keys.signer(settings.tokens.signing_alg, state.now());
        let routes: Vec<&str> = settings.routes.iter().map(|r| r.path.as_str()).collect();
        tracing::info!(
            address = %format!("http://{}:{port}", settings.listen.ip()),
            issuer = %settings.issuer,
            tls = %tls_address,
            revocation = %state.revocations.describe(),
            routes = %routes.join(" "),
            clients = settings.clients.len(),
            users = settings.users.len(),
            providers = settings.providers.len(),
            signing_alg = %settings.tokens.signing_alg,
            signing_kid = signer.map_or("none", |signer| signer.kid()),
            "listening"
        );
        drop((settings, keys));
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
