//! rustls glue: the client-certificate side of a TLS listener that serves
//! certificate-bound tokens (RFC 8705 3).
//!
//! A bound token names its certificate by SHA-256 (`cnf.x5t#S256`), and the TLS handshake
//! proves the client holds that certificate's private key: that is the whole binding, so the
//! listener asks for a certificate, requires none, and trusts no CA. Put the end-entity
//! certificate of the connection in a [`PeerCertificate`](crate::PeerCertificate) for the
//! framework glue, or pass it as [`Proof::ClientCertificate`](crate::Proof).
//!
//! ```
//! use std::sync::Arc;
//! use tessera_verifier::tls::OfferClientAuth;
//! # fn config(provider: Arc<rustls::crypto::CryptoProvider>) -> Result<(), rustls::Error> {
//! let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
//!     .with_safe_default_protocol_versions()?
//!     .with_client_cert_verifier(Arc::new(OfferClientAuth::new(provider)));
//! // ... .with_single_cert(certificate_chain, private_key)
//! # let _ = builder; Ok(()) }
//! ```

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};
use std::sync::Arc;

/// Asks every client for a certificate, requires none, accepts any whose private key the client
/// proves it holds (the handshake signature is verified with the provider's algorithms).
#[derive(Debug)]
pub struct OfferClientAuth {
    provider: Arc<CryptoProvider>,
}

impl OfferClientAuth {
    pub fn new(provider: Arc<CryptoProvider>) -> Self {
        Self { provider }
    }
}

impl ClientCertVerifier for OfferClientAuth {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
