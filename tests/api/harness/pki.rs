//! Certificates made with rcgen for the mutual-TLS tests: a server certificate for `localhost`,
//! a client CA, client certificates (from the CA or self-signed), and reqwest clients that
//! present them over a real TLS connection.

use super::TlsConfig;
use base64::Engine;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
};
use serde_json::json;
use std::sync::Arc;

/// A folder holding `server.pem`, `server-key.pem` and `client-ca.pem`, and the CA's key.
pub struct Pki {
    pub dir: Arc<tempfile::TempDir>,
    pub server_pem: String,
    ca_issuer: Issuer<'static, KeyPair>,
}

fn dn(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn
}

impl Pki {
    pub fn new() -> Pki {
        let dir = Arc::new(tempfile::TempDir::new().unwrap());
        let server = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        std::fs::write(dir.path().join("server.pem"), server.cert.pem()).unwrap();
        std::fs::write(
            dir.path().join("server-key.pem"),
            server.signing_key.serialize_pem(),
        )
        .unwrap();
        let ca_key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name = dn("Tessera test client CA");
        let ca_cert = params.self_signed(&ca_key).unwrap();
        std::fs::write(dir.path().join("client-ca.pem"), ca_cert.pem()).unwrap();
        Pki {
            dir,
            server_pem: server.cert.pem(),
            ca_issuer: Issuer::new(params, ca_key),
        }
    }

    /// Tessera's `[tls]` section on these files (the config is written into `dir`): a listener
    /// on an ephemeral port with the client CA.
    pub fn tls_listener() -> TlsConfig {
        TlsConfig {
            listen: "127.0.0.1:0".to_owned(),
            cert_file: "server.pem".to_owned(),
            key_file: "server-key.pem".to_owned(),
            client_ca_file: Some("client-ca.pem".to_owned()),
            base_url: "https://localhost:8443".to_owned(),
        }
    }

    /// A client certificate with `common_name`, from the client CA or self-signed; its PEM
    /// identity (certificate and key), DER, and key pair.
    pub fn client(&self, common_name: &str, from_ca: bool) -> (String, Vec<u8>, KeyPair) {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name = dn(common_name);
        let cert = if from_ca {
            params.signed_by(&key, &self.ca_issuer).unwrap()
        } else {
            params.self_signed(&key).unwrap()
        };
        (
            format!("{}{}", cert.pem(), key.serialize_pem()),
            cert.der().to_vec(),
            key,
        )
    }

    /// A client trusting only the server certificate, presenting `identity` when given.
    pub fn http(&self, identity: Option<&str>) -> reqwest::Client {
        // Idle connections dropped before the server's keep-alive closes them (see app.rs).
        let mut builder = reqwest::Client::builder()
            .pool_idle_timeout(std::time::Duration::from_secs(2))
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .add_root_certificate(
                reqwest::Certificate::from_pem(self.server_pem.as_bytes()).unwrap(),
            );
        if let Some(identity) = identity {
            builder = builder.identity(reqwest::Identity::from_pem(identity.as_bytes()).unwrap());
        }
        builder.build().unwrap()
    }
}

/// The public JWK of an rcgen P-256 key pair.
pub fn public_jwk(key: &KeyPair) -> serde_json::Value {
    let raw = key.public_key_raw();
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    json!({
        "kty": "EC",
        "crv": "P-256",
        "x": engine.encode(&raw[1..33]),
        "y": engine.encode(&raw[33..65]),
    })
}

/// RFC 8705 3.1: the `x5t#S256` of a certificate, computed here independently of Tessera.
pub fn thumbprint(der: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, der))
}
