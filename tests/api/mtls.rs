//! Mutual TLS (RFC 8705): certificates made here with rcgen, a real TLS connection from
//! reqwest, tokens bound to the certificate (`cnf.x5t#S256`).

use crate::harness::*;
use base64::Engine;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
};
use serde_json::json;
use std::sync::Arc;

struct Pki {
    dir: Arc<tempfile::TempDir>,
    server_pem: String,
    ca_issuer: Issuer<'static, KeyPair>,
}

fn dn(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn
}

impl Pki {
    fn new() -> Pki {
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

    /// A client certificate with `common_name`, from the client CA or self-signed; its PEM
    /// identity (certificate and key), DER, and key pair.
    fn client(&self, common_name: &str, from_ca: bool) -> (String, Vec<u8>, KeyPair) {
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

    fn http(&self, identity: Option<&str>) -> reqwest::Client {
        let mut builder = reqwest::Client::builder()
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
fn public_jwk(key: &KeyPair) -> serde_json::Value {
    let raw = key.public_key_raw();
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    json!({
        "kty": "EC",
        "crv": "P-256",
        "x": engine.encode(&raw[1..33]),
        "y": engine.encode(&raw[33..65]),
    })
}

fn thumbprint(der: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, der))
}

#[tokio::test]
async fn clients_authenticate_with_certificates_and_get_bound_tokens() {
    let pki = Pki::new();
    let (pki_identity, pki_der, _) = pki.client("mtls-client", true);
    let (self_identity, self_der, self_key) = pki.client("anything", false);
    let config = TestConfig::new()
        .tls(TlsConfig {
            listen: "127.0.0.1:0".to_owned(),
            cert_file: "server.pem".to_owned(),
            key_file: "server-key.pem".to_owned(),
            client_ca_file: Some("client-ca.pem".to_owned()),
            base_url: "https://localhost:8443".to_owned(),
        })
        .client(
            ClientConfig::new("pki-client")
                .token_endpoint_auth_methods(&["tls_client_auth"])
                .grant_types(&[
                    "client_credentials",
                    "urn:ietf:params:oauth:grant-type:token-exchange",
                ])
                .tls_client_auth_subject_dn("CN=mtls-client")
                .audience(&["https://m.internal"]),
        )
        .client(
            ClientConfig::new("self-client")
                .token_endpoint_auth_methods(&["self_signed_tls_client_auth"])
                .grant_types(&[
                    "client_credentials",
                    "urn:ietf:params:oauth:grant-type:token-exchange",
                ])
                .jwks(json!({ "keys": [public_jwk(&self_key)] }))
                .audience(&["https://m.internal"]),
        );
    let app = spawn_in(pki.dir.clone(), &config).await;
    let tls_url = format!(
        "https://localhost:{}/oauth2/token",
        app.tls_port.expect("a TLS listener")
    );
    let token = |client: reqwest::Client, client_id: &'static str| {
        let url = tls_url.clone();
        async move {
            let form = [
                ("grant_type", "client_credentials"),
                ("client_id", client_id),
            ];
            post_form(&client, &url, None, &form).await
        }
    };

    for (identity, der, client_id) in [
        (&pki_identity, &pki_der, "pki-client"),
        (&self_identity, &self_der, "self-client"),
    ] {
        let answer = token(pki.http(Some(identity)), client_id).await;
        assert_eq!(answer.status, 200, "{client_id}: {}", answer.json);
        let claims = app.token_claims(&answer, "https://m.internal").await;
        assert_eq!(
            claims["cnf"],
            json!({"x5t#S256": thumbprint(der)}),
            "{client_id}"
        );
    }

    // A bound token can be exchanged by its certificate's holder only.
    let bound = token(pki.http(Some(&pki_identity)), "pki-client")
        .await
        .json["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let exchange = |identity: &str, client_id: &'static str| {
        let client = pki.http(Some(identity));
        let url = tls_url.clone();
        let bound = bound.clone();
        async move {
            let form = [
                (
                    "grant_type",
                    "urn:ietf:params:oauth:grant-type:token-exchange",
                ),
                ("client_id", client_id),
                ("subject_token", bound.as_str()),
                (
                    "subject_token_type",
                    "urn:ietf:params:oauth:token-type:access_token",
                ),
            ];
            post_form(&client, &url, None, &form).await
        }
    };
    exchange(&self_identity, "self-client").await.assert_error(
        400,
        "invalid_grant",
        "the subject token is bound to a certificate this request did not present",
    );
    assert_eq!(exchange(&pki_identity, "pki-client").await.status, 200);

    // A certificate that is not from the client CA, though its subject matches.
    let (forged, _, _) = pki.client("mtls-client", false);
    token(pki.http(Some(&forged)), "pki-client")
        .await
        .assert_error(
            401,
            "invalid_client",
            "the client cannot be authenticated with TLS",
        );
    // From the CA but for someone else.
    let (other, _, _) = pki.client("someone-else", true);
    token(pki.http(Some(&other)), "pki-client")
        .await
        .assert_error(
            401,
            "invalid_client",
            "the client cannot be authenticated with TLS",
        );
    // A self-signed certificate with a key the client never registered.
    token(pki.http(Some(&forged)), "self-client")
        .await
        .assert_error(
            401,
            "invalid_client",
            "the client cannot be authenticated with TLS",
        );
    // No certificate at all, over TLS or plain HTTP.
    token(pki.http(None), "pki-client").await.assert_error(
        401,
        "invalid_client",
        "the client cannot be authenticated with TLS",
    );
    app.token_form(
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "pki-client"),
        ],
    )
    .await
    .assert_error(
        401,
        "invalid_client",
        "the client cannot be authenticated with TLS",
    );

    // Discovery names the mutual-TLS endpoints.
    let metadata = app.get("/.well-known/openid-configuration").await.json;
    assert_eq!(
        metadata["mtls_endpoint_aliases"]["token_endpoint"],
        "https://localhost:8443/oauth2/token"
    );
    assert_eq!(metadata["tls_client_certificate_bound_access_tokens"], true);
    assert!(metadata["token_endpoint_auth_methods_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("self_signed_tls_client_auth")));
}
