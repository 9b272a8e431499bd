//! Client authentication by TLS certificate (RFC 8705 2): `tls_client_auth` (PKI: a chain to the
//! client CA and the client's registered subject DN or DNS SAN) and
//! `self_signed_tls_client_auth` (the certificate's key is one the client registered).

use super::{AuthenticatedClient, ClientAuthenticator};
use crate::oauth::error::OAuthError;
use crate::oauth::types::AuthMethod;
use crate::registry::{Client, ClientKeys};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rustls_pki_types::CertificateDer;
use serde_json::{Map, Value};
use std::sync::Arc;
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

/// Whether the certificate's public key is the key of `jwk`.
fn key_matches(cert: &X509Certificate<'_>, jwk: &Map<String, Value>) -> bool {
    let member = |name: &str| {
        jwk.get(name)
            .and_then(Value::as_str)
            .and_then(|value| URL_SAFE_NO_PAD.decode(value).ok())
    };
    let spki = cert.public_key();
    match (jwk.get("kty").and_then(Value::as_str), spki.parsed()) {
        (Some("EC"), Ok(PublicKey::EC(point))) => match (member("x"), member("y")) {
            (Some(x), Some(y)) => {
                let mut expected = vec![0x04];
                expected.extend_from_slice(&x);
                expected.extend_from_slice(&y);
                point.data() == expected.as_slice()
            }
            _ => false,
        },
        (Some("RSA"), Ok(PublicKey::RSA(rsa))) => match (member("n"), member("e")) {
            (Some(n), Some(e)) => {
                strip_zeros(rsa.modulus) == strip_zeros(&n)
                    && strip_zeros(rsa.exponent) == strip_zeros(&e)
            }
            _ => false,
        },
        (Some("OKP"), _) => {
            member("x").is_some_and(|x| spki.subject_public_key.data.as_ref() == x.as_slice())
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
        let self_signed = !pki
            && client.allows_method(AuthMethod::SelfSignedTlsClientAuth)
            && match &client.keys {
                ClientKeys::None => false,
                ClientKeys::Static(keys) => keys.iter().any(|jwk| key_matches(&cert, jwk)),
                ClientKeys::Uri(uri) => self
                    .fetcher
                    .keys(uri, false)
                    .await
                    .is_ok_and(|keys| keys.iter().any(|jwk| key_matches(&cert, jwk))),
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
            binding: Some(certificate_thumbprint(end_entity)),
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
