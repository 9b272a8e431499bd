//! Mutual TLS (RFC 8705): certificates made with rcgen (harness/pki.rs), a real TLS connection from
//! reqwest, tokens bound to the certificate (`cnf.x5t#S256`).

use crate::harness::*;
use serde_json::json;

#[tokio::test]
async fn clients_authenticate_with_certificates_and_get_bound_tokens() {
    let pki = Pki::new();
    let (pki_identity, pki_der, _) = pki.client("mtls-client", true);
    let (self_identity, self_der, self_key) = pki.client("anything", false);
    let config = TestConfig::new()
        .tls(Pki::tls_listener())
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

#[tokio::test]
async fn dpop_proofs_on_the_tls_listener_name_its_base_url() {
    let pki = Pki::new();
    let (identity, _, _) = pki.client("mtls-client", true);
    let config = TestConfig::new()
        .tls(TlsConfig {
            listen: "127.0.0.1:0".to_owned(),
            cert_file: "server.pem".to_owned(),
            key_file: "server-key.pem".to_owned(),
            client_ca_file: Some("client-ca.pem".to_owned()),
            base_url: "https://mtls.issuer.test".to_owned(),
        })
        .client(
            ClientConfig::new("pki-client")
                .token_endpoint_auth_methods(&["tls_client_auth"])
                .tls_client_auth_subject_dn("CN=mtls-client")
                .audience(&["https://m.internal"]),
        );
    let app = spawn_in(pki.dir.clone(), &config).await;
    let url = format!(
        "https://localhost:{}/oauth2/token",
        app.tls_port.expect("a TLS listener")
    );
    let key = DpopKey::new("ES256");
    let send = |proof: String| {
        let client = pki.http(Some(&identity));
        let url = url.clone();
        async move {
            let request = client.post(url).header("DPoP", proof).form(&[
                ("grant_type", "client_credentials"),
                ("client_id", "pki-client"),
            ]);
            Answer::from(request.send().await.unwrap()).await
        }
    };
    let now = app.clock_now();
    // The alias the client was told of, not the issuer's URL.
    let at_issuer = key.sign(proof_claims("POST", &format!("{ISSUER}/oauth2/token"), now));
    send(at_issuer).await.assert_error(
        400,
        "invalid_dpop_proof",
        "the DPoP proof's htu is not the URL of this request",
    );
    let at_alias = key.sign(proof_claims(
        "POST",
        "https://mtls.issuer.test/oauth2/token",
        now,
    ));
    let answer = send(at_alias).await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    // The explicit proof wins over the certificate: the token is bound to the key only.
    assert_eq!(answer.str("token_type"), "DPoP");
    let claims = app.token_claims(&answer, "https://m.internal").await;
    assert_eq!(claims["cnf"], json!({ "jkt": key.jkt }));
}
