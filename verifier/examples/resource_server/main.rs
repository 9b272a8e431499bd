//! A reports API protected by tessera-verifier: the resource server's half of the trust chain.
//!
//! Start Tessera on its shipped configuration (`cargo run -- serve` at the repository's root),
//! then this API:
//!
//! ```sh
//! cargo run -p tessera-verifier --example resource_server --features actix
//! ```
//!
//! and call it with a token of Tessera's `demo` client:
//!
//! ```sh
//! TOKEN=$(curl -s -u demo:$SECRET -d grant_type=client_credentials \
//!   http://127.0.0.1:8080/oauth2/token | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
//! curl -i -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8081/reports
//! ```
//!
//! Configuration, by environment variable (see `api::ApiConfig`): `API_ISSUER`
//! (`http://127.0.0.1:8080`), `API_AUDIENCE` (`https://reports.internal`), `API_JWKS_URI`
//! (found by discovery), `API_LISTEN` (`127.0.0.1:8081`), `API_TLS_CERT` + `API_TLS_KEY` +
//! `API_TLS_LISTEN` (`127.0.0.1:8444`) for HTTPS with client certificates,
//! `API_KEYS_MAX_STALENESS_SECS` (3600), `API_STATUS_MAX_STALENESS_SECS` (600),
//! `API_PUBLIC_URL` (unset: DPoP-bound tokens refused; `http://127.0.0.1:8081` takes them with
//! their proofs) and `API_DPOP_NONCE_SECRET` (unset: no nonces). `RUST_LOG` filters the logs
//! (`info` by default).

mod api;

use std::sync::Arc;
use tessera_verifier::SystemClock;
use tracing_subscriber::EnvFilter;

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let config = api::ApiConfig::from_vars(|name| std::env::var(name).ok())?;
    // The keys are fetched now: an issuer that cannot be reached stops the start, loudly.
    let verifier = api::verifier(&config, Arc::new(SystemClock))
        .await
        .map_err(|err| format!("issuer {}: {err}", config.issuer))?;
    let running = api::serve(&config, verifier)?;
    tracing::info!(
        issuer = %config.issuer,
        audience = %config.audience,
        http = %format!("http://{}", running.http),
        https = %running.https.map(|address| format!("https://{address}")).unwrap_or_default(),
        "the reports API is listening"
    );
    running.server.await?;
    Ok(())
}
