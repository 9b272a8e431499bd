//! The reports API of the `resource_server` example: its configuration (environment variables),
//! the verifier that protects it, its routes and the scope each needs, and its listeners: plain
//! HTTP, and optionally HTTPS asking for client certificates, where tokens bound to a
//! certificate (RFC 8705 `cnf.x5t#S256`) are accepted from their certificate's holder. With its
//! public URL configured, it also takes DPoP-bound tokens (RFC 9449 `cnf.jkt`) with their
//! proofs.
//!
//! `main.rs` runs it; Tessera's own tests (tests/api/resource_server.rs at the repository's root)
//! build and drive this same module against a real Tessera.

use actix_tls::accept::rustls_0_23::TlsStream;
use actix_web::dev::{Extensions, Server};
use actix_web::rt::net::TcpStream;
use actix_web::{web, App, HttpResponse, HttpServer};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::any::Any;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tessera_verifier::actix::{Bearer, BearerAuth};
use tessera_verifier::tls::OfferClientAuth;
use tessera_verifier::{
    AccessTokenVerifier, Clock, DpopConfig, DpopNonces, KeySource, PeerCertificate,
    RemoteKeysConfig, StatusListConfig,
};

/// The `realm` of this API's `WWW-Authenticate` challenges.
pub const REALM: &str = "reports";

/// What the API is configured with, read from `API_*` environment variables.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// `API_ISSUER`: the `iss` of accepted tokens; keys are found by discovery under it.
    pub issuer: String,
    /// `API_AUDIENCE`: this API's name, which a token's `aud` must contain.
    pub audience: String,
    /// `API_JWKS_URI`: the JWK Set's URL, when discovery under the issuer is not wanted.
    pub jwks_uri: Option<String>,
    /// `API_LISTEN`: the plain HTTP listener.
    pub listen: SocketAddr,
    /// `API_TLS_CERT`, `API_TLS_KEY` (PEM files) and `API_TLS_LISTEN`: the HTTPS listener.
    pub tls: Option<TlsConfig>,
    /// `API_KEYS_MAX_STALENESS_SECS`: how long past its max-age the last JWK Set fetched keeps
    /// verifying while the issuer cannot be reached.
    pub keys_max_staleness: Duration,
    /// `API_STATUS_MAX_STALENESS_SECS`: the same for status lists; past it, tokens are refused
    /// with 503 (revocation fails closed).
    pub status_max_staleness: Duration,
    /// `API_PUBLIC_URL`: the URL clients address this API at (behind a proxy, the outside
    /// one). With it, DPoP-bound tokens are taken with proofs whose `htu` is this URL and the
    /// request's path; without it, they are refused.
    pub public_url: Option<String>,
    /// `API_DPOP_NONCE_SECRET`: with it (32 bytes or more, the same on every instance), DPoP
    /// proofs must carry the API's nonce (`use_dpop_nonce`, `DPoP-Nonce`).
    pub dpop_nonce_secret: Option<String>,
}

#[derive(Debug, Clone)]
pub struct TlsConfig {
    pub listen: SocketAddr,
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
}

impl ApiConfig {
    /// Reads the configuration through `var` (`std::env::var` in `main`). The defaults fit
    /// `tessera serve` on its shipped configuration: issuer `http://127.0.0.1:8080`, whose `demo`
    /// client gets tokens for `https://reports.internal`.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<ApiConfig, String> {
        let address = |name: &str, default: &str| -> Result<SocketAddr, String> {
            let value = var(name).unwrap_or_else(|| default.to_owned());
            value
                .parse()
                .map_err(|_| format!("{name} is not an address like 127.0.0.1:8081: {value}"))
        };
        let seconds = |name: &str, default: u64| -> Result<Duration, String> {
            match var(name) {
                None => Ok(Duration::from_secs(default)),
                Some(value) => value
                    .parse()
                    .map(Duration::from_secs)
                    .map_err(|_| format!("{name} is not a number of seconds: {value}")),
            }
        };
        let tls = match (var("API_TLS_CERT"), var("API_TLS_KEY")) {
            (None, None) => None,
            (Some(cert_file), Some(key_file)) => Some(TlsConfig {
                listen: address("API_TLS_LISTEN", "127.0.0.1:8444")?,
                cert_file: cert_file.into(),
                key_file: key_file.into(),
            }),
            _ => return Err("API_TLS_CERT and API_TLS_KEY are set together or not at all".into()),
        };
        Ok(ApiConfig {
            issuer: var("API_ISSUER").unwrap_or_else(|| "http://127.0.0.1:8080".to_owned()),
            audience: var("API_AUDIENCE").unwrap_or_else(|| "https://reports.internal".to_owned()),
            jwks_uri: var("API_JWKS_URI"),
            listen: address("API_LISTEN", "127.0.0.1:8081")?,
            tls,
            keys_max_staleness: seconds("API_KEYS_MAX_STALENESS_SECS", 3600)?,
            status_max_staleness: seconds("API_STATUS_MAX_STALENESS_SECS", 600)?,
            public_url: var("API_PUBLIC_URL"),
            dpop_nonce_secret: var("API_DPOP_NONCE_SECRET"),
        })
    }
}

/// The verifier: the issuer's keys fetched now (an error if they cannot be) and kept fresh in
/// the background, RFC 9068 checks, revocation through the tokens' status lists, and DPoP when
/// the public URL is known. Every time decision reads `clock` (the wall clock in `main`; tests
/// move a manual one).
pub async fn verifier(
    config: &ApiConfig,
    clock: Arc<dyn Clock>,
) -> Result<Arc<AccessTokenVerifier>, tessera_verifier::Error> {
    let keys = match &config.jwks_uri {
        Some(uri) => RemoteKeysConfig::jwks_uri(uri),
        None => RemoteKeysConfig::issuer(&config.issuer),
    }
    .max_staleness(config.keys_max_staleness)
    .clock(clock.clone());
    let keys = KeySource::remote(keys).await?;
    let mut verifier = AccessTokenVerifier::builder(&config.issuer, &config.audience, keys)
        .clock(clock)
        .status_lists(StatusListConfig::default().max_staleness(config.status_max_staleness));
    if let Some(public_url) = &config.public_url {
        let mut dpop = DpopConfig::new(public_url)?;
        if let Some(secret) = &config.dpop_nonce_secret {
            dpop = dpop.require_nonce(DpopNonces::new(secret)?);
        }
        verifier = verifier.dpop(dpop);
    }
    Ok(Arc::new(verifier.build()?))
}

/// The routes and what each needs: `/healthz` nothing; `GET /reports` a token with
/// `reports:read`; `POST /reports` one with `reports:write`; `/whoami` any good token.
pub fn routes(verifier: Arc<AccessTokenVerifier>) -> impl Fn(&mut web::ServiceConfig) + Clone {
    move |cfg| {
        let bearer = BearerAuth::new(verifier.clone()).realm(REALM);
        cfg.route("/healthz", web::get().to(health))
            .service(
                web::resource("/reports")
                    .route(
                        web::get()
                            .to(list_reports)
                            .wrap(bearer.clone().require_scopes(&["reports:read"])),
                    )
                    .route(
                        web::post()
                            .to(create_report)
                            .wrap(bearer.clone().require_scopes(&["reports:write"])),
                    ),
            )
            .service(
                web::resource("/whoami")
                    .wrap(bearer)
                    .route(web::get().to(whoami)),
            );
    }
}

/// The API's listeners, bound, and the server that runs them.
pub struct RunningApi {
    pub server: Server,
    pub http: SocketAddr,
    pub https: Option<SocketAddr>,
}

/// Binds the listeners of `config` and builds the server (run it by awaiting `server`).
pub fn serve(
    config: &ApiConfig,
    verifier: Arc<AccessTokenVerifier>,
) -> std::io::Result<RunningApi> {
    let reports = web::Data::new(Reports::default());
    let routes = routes(verifier);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(reports.clone())
            .configure(routes.clone())
    })
    .on_connect(record_client_certificate);
    let listener = TcpListener::bind(config.listen)?;
    let http = listener.local_addr()?;
    let mut server = server.listen(listener)?;
    let mut https = None;
    if let Some(tls) = &config.tls {
        let listener = TcpListener::bind(tls.listen)?;
        https = Some(listener.local_addr()?);
        server = server.listen_rustls_0_23(listener, tls_server_config(tls)?)?;
    }
    Ok(RunningApi {
        server: server.run(),
        http,
        https,
    })
}

async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

#[derive(Clone, Serialize)]
struct Report {
    id: usize,
    title: String,
    created_by: String,
}

#[derive(Deserialize)]
struct NewReport {
    title: String,
}

/// The reports written so far, in memory: enough for an example.
#[derive(Default)]
struct Reports(Mutex<Vec<Report>>);

/// Bounds on what writers may store.
const MAX_REPORTS: usize = 1000;
const MAX_TITLE_CHARS: usize = 200;

async fn list_reports(Bearer(token): Bearer, reports: web::Data<Reports>) -> HttpResponse {
    let reports = reports.0.lock().expect("never poisoned").clone();
    HttpResponse::Ok().json(json!({ "reports": reports, "read_by": token.subject }))
}

async fn create_report(
    Bearer(token): Bearer,
    reports: web::Data<Reports>,
    report: web::Json<NewReport>,
) -> HttpResponse {
    let title = report.into_inner().title;
    if title.is_empty() || title.chars().count() > MAX_TITLE_CHARS {
        return HttpResponse::BadRequest().json(json!({
            "error": "invalid_request",
            "error_description": format!("a title has 1 to {MAX_TITLE_CHARS} characters"),
        }));
    }
    let mut reports = reports.0.lock().expect("never poisoned");
    if reports.len() >= MAX_REPORTS {
        return HttpResponse::InsufficientStorage().json(json!({
            "error": "storage_full",
            "error_description": format!("this example keeps at most {MAX_REPORTS} reports"),
        }));
    }
    let report = Report {
        id: reports.len() + 1,
        title,
        created_by: token.subject,
    };
    reports.push(report.clone());
    HttpResponse::Created().json(report)
}

async fn whoami(Bearer(token): Bearer) -> HttpResponse {
    let certificate_bound = token
        .confirmation
        .as_ref()
        .is_some_and(|cnf| cnf.x5t_s256.is_some());
    let dpop_bound = token
        .confirmation
        .as_ref()
        .is_some_and(|cnf| cnf.jkt.is_some());
    HttpResponse::Ok().json(json!({
        "sub": token.subject,
        "client_id": token.client_id,
        "scope": token.scopes,
        "aud": token.audience,
        "exp": token.expires_at,
        "certificate_bound": certificate_bound,
        "dpop_bound": dpop_bound,
    }))
}

/// Keeps the client certificate of an HTTPS connection (its end-entity certificate, DER) in the
/// connection's data, where `BearerAuth` looks for it: a token bound to a certificate is then
/// checked against the one this connection proved it holds.
fn record_client_certificate(connection: &dyn Any, data: &mut Extensions) {
    if let Some(stream) = connection.downcast_ref::<TlsStream<TcpStream>>() {
        let (_, session) = stream.get_ref();
        if let Some(certificate) = session.peer_certificates().and_then(|chain| chain.first()) {
            data.insert(PeerCertificate(certificate.to_vec()));
        }
    }
}

fn tls_server_config(tls: &TlsConfig) -> std::io::Result<rustls::ServerConfig> {
    let invalid = |what: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, what);
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let certs = CertificateDer::pem_file_iter(&tls.cert_file)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|err| invalid(format!("{}: {err}", tls.cert_file.display())))?;
    let key = PrivateKeyDer::from_pem_file(&tls.key_file)
        .map_err(|err| invalid(format!("{}: {err}", tls.key_file.display())))?;
    rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .and_then(|builder| {
            builder
                .with_client_cert_verifier(Arc::new(OfferClientAuth::new(provider)))
                .with_single_cert(certs, key)
        })
        .map_err(|err| invalid(format!("the TLS configuration: {err}")))
}
