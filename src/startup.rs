//! Builds the application: keys (development keys on a fresh checkout), state, routes,
//! middleware and the listener.

use crate::clock::Clock;
use crate::http::{observe::observe, routes};
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
        let state = web::Data::new(
            AppState::new(settings, keys, clock).map_err(|err| anyhow::anyhow!(err))?,
        );
        let app_state = state.clone();
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(app_state.clone())
                .wrap(from_fn(observe))
                .configure(routes)
        });
        if let Some(workers) = workers {
            server = server.workers(workers);
        }
        let server = server.listen(listener)?.run();
        tracing::info!(
            address = %format!("http://{}:{port}", state.settings.listen.ip()),
            issuer = %state.settings.issuer,
            clients = state.clients.len(),
            "listening"
        );
        Ok(Application {
            port,
            server,
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
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
