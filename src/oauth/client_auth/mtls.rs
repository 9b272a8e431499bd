//! Client authentication by TLS certificate (RFC 8705 2): `tls_client_auth` (PKI: a chain to the
//! client CA and the client's registered subject DN or DNS SAN) and
//! `self_signed_tls_client_auth` (the certificate's key is one the client registered).

use super::{AuthenticatedClient, Binding, ClientAuthenticator};
use crate::oauth::error::OAuthError;
use crate::oauth::types::AuthMethod;
use crate::registry::Client;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rustls_pki_types::CertificateDer;
use std::sync::Arc;
use tessera_verifier::PublicKeyMaterial;
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};
use x509_parser::public_key::PublicKey;
use x509_parser::time::ASN1Time;

/// The client certificate chain of a TLS connection, end entity first, as the listener saw it.
#[derive(Debug, Clone)]
pub struct PeerCertificates(pub Vec<CertificateDer<'static>>);

impl PeerCertificates {
    pub fn end_entity(&self) -> Option<&CertificateDer<'static>> {
        self.0.first()
    }
}

/// RFC 8705 3.1: the SHA-256 thumbprint of a certificate, base64url, for `cnf`.
pub fn certificate_thumbprint(cert: &CertificateDer<'_>) -> String {
    URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        cert.as_ref(),
    ))
}

pub(super) fn refused() -> OAuthError {
    OAuthError::invalid_client("the client cannot be authenticated with TLS")
}

/// A subject DN as a sorted list of `TYPE=value` pairs, so that RFC 4514 order (most specific
/// first) and certificate order compare equal, and spaces around `,` and `=` do not matter.
fn normalize_dn(dn: &str) -> Vec<String> {
    let mut pairs: Vec<String> = dn
        .split(',')
        .filter_map(|pair| {
            let (kind, value) = pair.split_once('=')?;
            Some(format!(
                "{}={}",
                kind.trim().to_ascii_uppercase(),
                value.trim()
            ))
        })
        .collect();
    pairs.sort();
    pairs
}

fn strip_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

/// Whether the certificate's public key is `key`.
fn key_matches(cert: &X509Certificate<'_>, key: &PublicKeyMaterial) -> bool {
    let spki = cert.public_key();
    match (key, spki.parsed()) {
        (PublicKeyMaterial::Ec { point }, Ok(PublicKey::EC(cert_point))) => {
            cert_point.data() == point.as_slice()
        }
        (PublicKeyMaterial::Rsa { n, e }, Ok(PublicKey::RSA(rsa))) => {
            strip_zeros(rsa.modulus) == n.as_slice() && strip_zeros(rsa.exponent) == e.as_slice()
        }
        (PublicKeyMaterial::Ed25519 { x }, _) => {
            spki.algorithm.algorithm == x509_parser::oid_registry::OID_SIG_ED25519
                && spki.subject_public_key.data.as_ref() == x.as_slice()
        }
        _ => false,
    }
}

impl ClientAuthenticator<'_> {
    /// Authenticates `client` by the connection's certificate chain, with whichever TLS method it is
    /// registered for; its tokens are bound to the certificate's thumbprint.
    pub(super) async fn by_certificate(
        &self,
        client: &Arc<Client>,
        certs: &PeerCertificates,
    ) -> Result<AuthenticatedClient, OAuthError> {
        let end_entity = certs.end_entity().ok_or_else(refused)?;
        let (_, cert) = X509Certificate::from_der(end_entity.as_ref()).map_err(|_| refused())?;
        let now = ASN1Time::from_timestamp(self.now).map_err(|_| refused())?;
        if !cert.validity().is_valid_at(now) {
            return Err(refused());
        }
        let pki = client.allows_method(AuthMethod::TlsClientAuth)
            && self
                .client_ca
                .is_some_and(|ca| ca.verifies(certs, self.now))
            && {
                let subject_ok = client.tls_subject_dn.as_deref().is_some_and(|dn| {
                    normalize_dn(dn) == normalize_dn(&cert.subject().to_string())
                });
                let san_ok = client.tls_san_dns.as_deref().is_some_and(|wanted| {
                cert.subject_alternative_name()
                    .ok()
                    .flatten()
                    .is_some_and(|san| {
                        san.value
                            .general_names
                            .iter()
                            .any(|name| matches!(name, GeneralName::DNSName(dns) if dns.eq_ignore_ascii_case(wanted)))
                    })
            });
                subject_ok || san_ok
            };
        let self_signed =
            !pki && client.allows_method(AuthMethod::SelfSignedTlsClientAuth)
                && match &client.keys {
                    None => false,
                    Some(keys) => keys.key_set().await.is_ok_and(|set| {
                        set.keys().any(|key| key_matches(&cert, key.public_key()))
                    }),
                };
        if !(pki || self_signed) {
            return Err(refused());
        }
        let method = if pki {
            AuthMethod::TlsClientAuth
        } else {
            AuthMethod::SelfSignedTlsClientAuth
        };
        Ok(AuthenticatedClient {
            client: Arc::clone(client),
            method,
            binding: Binding::Certificate(certificate_thumbprint(end_entity)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::normalize_dn;

    #[test]
    fn subject_dns_compare_in_either_order_and_spacing() {
        assert_eq!(
            normalize_dn("CN=svc,O=Example Corp,C=DE"),
            normalize_dn("C=DE, O=Example Corp, CN=svc")
        );
        assert_eq!(normalize_dn("cn = svc"), normalize_dn("CN=svc"));
        assert_ne!(
            normalize_dn("CN=svc,O=Other"),
            normalize_dn("CN=svc,O=Example Corp")
        );
    }
}
