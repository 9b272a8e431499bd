//! The optional mutual-TLS listener (RFC 8705). It asks every client for a certificate and
//! accepts any that proves possession of its key; whether a certificate authenticates a client
//! (`tls_client_auth`: a chain to the configured client CA and a matching subject or SAN;
//! `self_signed_tls_client_auth`: a key the client registered) is decided per request.

use crate::oauth::client_auth::PeerCertificates;
use crate::settings::TlsSettings;
use actix_web::dev::Extensions;
use anyhow::Context;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::ClientCertVerifier;
use rustls::server::WebPkiClientVerifier;
use rustls::RootCertStore;
use std::any::Any;
use std::sync::Arc;
use tessera_verifier::tls::OfferClientAuth;

/// Checks client certificate chains against the configured client CA.
pub struct ClientCa(Arc<dyn ClientCertVerifier>);

impl std::fmt::Debug for ClientCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientCa(..)")
    }
}

impl ClientCa {
    /// Whether `certs` chain to the client CA and are valid at `now` (the application's clock).
    pub fn verifies(&self, certs: &PeerCertificates, now: crate::clock::UnixTime) -> bool {
        let Some((end_entity, intermediates)) = certs.0.split_first() else {
            return false;
        };
        let Ok(seconds) = u64::try_from(now) else {
            return false;
        };
        let at = UnixTime::since_unix_epoch(std::time::Duration::from_secs(seconds));
        self.0
            .verify_client_cert(end_entity, intermediates, at)
            .is_ok()
    }
}

/// The server configuration of the TLS listener, and the client CA check when configured.
pub fn server_config(
    settings: &TlsSettings,
) -> anyhow::Result<(rustls::ServerConfig, Option<ClientCa>)> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&settings.cert_file)
        .with_context(|| format!("reading {}", settings.cert_file.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("parsing {}", settings.cert_file.display()))?;
    let key = PrivateKeyDer::from_pem_file(&settings.key_file)
        .with_context(|| format!("reading {}", settings.key_file.display()))?;
    let client_ca = match &settings.client_ca_file {
        None => None,
        Some(file) => {
            let mut roots = RootCertStore::empty();
            for cert in CertificateDer::pem_file_iter(file)
                .with_context(|| format!("reading {}", file.display()))?
            {
                roots
                    .add(cert.with_context(|| format!("parsing {}", file.display()))?)
                    .with_context(|| format!("a CA certificate in {}", file.display()))?;
            }
            let verifier =
                WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .allow_unauthenticated()
                    .build()
                    .context("building the client CA verifier")?;
            Some(ClientCa(verifier))
        }
    };
    let config = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(Arc::new(OfferClientAuth::new(provider)))
        .with_single_cert(certs, key)
        .context("the TLS certificate and key do not fit")?;
    Ok((config, client_ca))
}

/// Marks a connection that came in on the mutual-TLS listener: its requests were addressed to
/// `[tls] base_url` (what a DPoP proof's `htu` names).
#[derive(Debug, Clone, Copy)]
pub struct TlsConnection;

/// Records which connections are TLS ones, and the client certificate chain of each.
pub fn on_connect(connection: &dyn Any, data: &mut Extensions) {
    use actix_tls::accept::rustls_0_23::TlsStream;
    if let Some(stream) = connection.downcast_ref::<TlsStream<actix_web::rt::net::TcpStream>>() {
        data.insert(TlsConnection);
        let (_, session) = stream.get_ref();
        if let Some(certs) = session.peer_certificates() {
            data.insert(PeerCertificates(
                certs.iter().map(|c| c.clone().into_owned()).collect(),
            ));
        }
    }
}
