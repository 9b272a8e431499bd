//! Encrypted access tokens (nested JWT in a JWE, made with josekit) and sender-constrained
//! tokens (`cnf.x5t#S256` with a real certificate from rcgen; `cnf.jkt` refused).

mod support;

use serde_json::json;
use std::sync::Arc;
use support::{access_claims, jwks, with, Signer, AUDIENCE, ISSUER, NOW};
use tessera_verifier::{
    certificate_thumbprint, AccessTokenVerifier, BindingError, Error, KeySource, ManualClock, Proof,
};

fn verifier(signer: &Signer) -> tessera_verifier::AccessTokenVerifierBuilder {
    let keys = KeySource::from_jwks_json(jwks(&[signer]).to_string().as_bytes()).unwrap();
    AccessTokenVerifier::builder(ISSUER, AUDIENCE, keys).clock(Arc::new(ManualClock::new(NOW)))
}

fn certificate_der(name: &str) -> Vec<u8> {
    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(vec![name.to_owned()]).unwrap();
    params.self_signed(&key).unwrap().der().to_vec()
}

#[tokio::test]
async fn certificate_bound_tokens_need_the_matching_certificate() {
    let signer = Signer::es256("k1");
    let verifier = verifier(&signer).build().unwrap();
    let mine = certificate_der("client.example");
    let theirs = certificate_der("other.example");
    let cnf = json!({"x5t#S256": certificate_thumbprint(&mine)});
    let token = signer.sign(&with(access_claims(NOW), json!({ "cnf": cnf })));

    let verified = verifier
        .verify_with_proof(&token, Proof::ClientCertificate(&mine))
        .await
        .unwrap();
    assert!(verified.confirmation.unwrap().x5t_s256.is_some());
    assert_eq!(
        verifier
            .verify_with_proof(&token, Proof::ClientCertificate(&theirs))
            .await
            .unwrap_err(),
        Error::Binding(BindingError::CertificateMismatch)
    );
    assert_eq!(
        verifier.verify(&token).await.unwrap_err(),
        Error::Binding(BindingError::CertificateMissing)
    );
    // A bearer token may come over mutual TLS too.
    let bearer = signer.sign(&access_claims(NOW));
    assert!(verifier
        .verify_with_proof(&bearer, Proof::ClientCertificate(&mine))
        .await
        .is_ok());
}

#[tokio::test]
async fn dpop_bound_and_unknown_bindings_are_refused() {
    let signer = Signer::es256("k1");
    let verifier = verifier(&signer).build().unwrap();
    let dpop = signer.sign(&with(
        access_claims(NOW),
        json!({"cnf": {"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}, "token_type": "DPoP"}),
    ));
    assert_eq!(
        verifier.verify(&dpop).await.unwrap_err(),
        Error::Binding(BindingError::DpopNotSupported)
    );
    let unknown = signer.sign(&with(access_claims(NOW), json!({"cnf": {"kid": "k"}})));
    assert_eq!(
        verifier.verify(&unknown).await.unwrap_err(),
        Error::Binding(BindingError::UnknownConfirmation)
    );
}

#[cfg(feature = "jwe")]
mod encrypted {
    use super::*;
    use josekit::jwe::{JweEncrypter, JweHeader};
    use josekit::jwk::Jwk;
    use tessera_verifier::{DecryptionKey, KeyManagementAlg};

    struct Recipient {
        private: Jwk,
        alg: KeyManagementAlg,
    }

    impl Recipient {
        fn new(alg: KeyManagementAlg, kid: &str) -> Self {
            let mut private = match alg {
                KeyManagementAlg::RsaOaep256 => Jwk::generate_rsa_key(2048),
                KeyManagementAlg::EcdhEsA256Kw => {
                    Jwk::generate_ec_key(josekit::jwk::alg::ec::EcCurve::P256)
                }
            }
            .unwrap();
            private.set_key_id(kid);
            Self { private, alg }
        }

        fn key(&self) -> DecryptionKey {
            DecryptionKey::from_jwk_json(self.private.to_string().as_bytes(), self.alg).unwrap()
        }

        fn encrypt(&self, inner: &str, header: impl FnOnce(&mut JweHeader)) -> String {
            let mut public = self.private.to_public_key().unwrap();
            public.set_key_id(self.private.key_id().unwrap());
            let encrypter: Box<dyn JweEncrypter> = match self.alg {
                KeyManagementAlg::RsaOaep256 => Box::new(
                    josekit::jwe::RSA_OAEP_256
                        .encrypter_from_jwk(&public)
                        .unwrap(),
                ),
                KeyManagementAlg::EcdhEsA256Kw => Box::new(
                    josekit::jwe::ECDH_ES_A256KW
                        .encrypter_from_jwk(&public)
                        .unwrap(),
                ),
            };
            let mut jwe_header = JweHeader::new();
            jwe_header.set_content_encryption("A256GCM");
            jwe_header.set_content_type("JWT");
            jwe_header.set_key_id(self.private.key_id().unwrap());
            header(&mut jwe_header);
            josekit::jwe::serialize_compact(inner.as_bytes(), &jwe_header, encrypter.as_ref())
                .unwrap()
        }
    }

    #[tokio::test]
    async fn nested_jwts_open_with_the_resource_servers_key() {
        let signer = Signer::es256("k1");
        for alg in [KeyManagementAlg::RsaOaep256, KeyManagementAlg::EcdhEsA256Kw] {
            let recipient = Recipient::new(alg, "rs-enc-1");
            let verifier = verifier(&signer)
                .decryption_key(recipient.key())
                .build()
                .unwrap();
            let inner = signer.sign(&access_claims(NOW));
            let encrypted = recipient.encrypt(&inner, |_| {});
            assert_eq!(encrypted.split('.').count(), 5);
            let token = verifier
                .verify(&encrypted)
                .await
                .unwrap_or_else(|e| panic!("{alg:?}: {e}"));
            assert_eq!(token.subject, "alice");

            // Another resource server's key cannot open it.
            let stranger = Recipient::new(alg, "rs-enc-1");
            let other = verifier_with(&signer, stranger.key());
            assert_eq!(
                other.verify(&encrypted).await.unwrap_err(),
                Error::Decryption
            );
            // The inner token is still verified: a forged signature fails after decryption.
            let forged = format!("{}x", &inner[..inner.len() - 1]);
            let encrypted = recipient.encrypt(&forged, |_| {});
            assert!(matches!(
                verifier.verify(&encrypted).await,
                Err(Error::BadSignature | Error::Malformed(_))
            ));
        }
    }

    fn verifier_with(signer: &Signer, key: DecryptionKey) -> AccessTokenVerifier {
        verifier(signer).decryption_key(key).build().unwrap()
    }

    #[tokio::test]
    async fn encryption_headers_are_checked() {
        let signer = Signer::es256("k1");
        let recipient = Recipient::new(KeyManagementAlg::EcdhEsA256Kw, "rs-enc-1");
        let verifier = verifier_with(&signer, recipient.key());
        let inner = signer.sign(&access_claims(NOW));
        let no_cty = recipient.encrypt(&inner, |header| {
            header.set_content_type("text/plain");
        });
        assert!(matches!(
            verifier.verify(&no_cty).await,
            Err(Error::Malformed(_))
        ));
        let a128 = recipient.encrypt(&inner, |header| header.set_content_encryption("A128GCM"));
        assert_eq!(
            verifier.verify(&a128).await.unwrap_err(),
            Error::AlgorithmNotAllowed
        );
        let crit = recipient.encrypt(&inner, |header| {
            header.set_critical(&vec!["exp"]);
            header.set_claim("exp", Some(json!(1))).unwrap();
        });
        assert_eq!(
            verifier.verify(&crit).await.unwrap_err(),
            Error::CriticalHeader
        );
        // Without a decryption key, encrypted tokens are refused.
        let plain = super::verifier(&signer).build().unwrap();
        let good = recipient.encrypt(&inner, |_| {});
        assert_eq!(plain.verify(&good).await.unwrap_err(), Error::Decryption);
    }
}
