//! DPoP (RFC 9449) at the resource server: DPoP-bound tokens (`cnf.jkt`) with proofs made by
//! josekit (OpenSSL) for every allowed algorithm, and by Python's jwcrypto with its own RFC 7638
//! thumbprints; each check of RFC 9449 4.3 refuses with its own error; single use of `jti` in
//! the bounded replay cache; stateless nonces shared by instances; the schemes a token may come
//! with (7.2).

mod support;

use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use support::dpop::{ath, Client, API, PATH, URL};
use support::{access_claims, b64, jwks, with, Signer, AUDIENCE, ISSUER, NOW};
use tessera_verifier::{
    jwk_thumbprint, AccessTokenVerifier, BindingError, DpopConfig, DpopError, DpopNonces,
    DpopRequest, Error, KeySource, ManualClock, Proof,
};

struct Setup {
    issuer: Signer,
    clock: Arc<ManualClock>,
}

impl Setup {
    fn new() -> Self {
        Self {
            issuer: Signer::es256("k1"),
            clock: Arc::new(ManualClock::new(NOW)),
        }
    }

    fn verifier(&self, dpop: Option<DpopConfig>) -> AccessTokenVerifier {
        let keys = KeySource::from_jwks_json(jwks(&[&self.issuer]).to_string().as_bytes()).unwrap();
        let builder =
            AccessTokenVerifier::builder(ISSUER, AUDIENCE, keys).clock(self.clock.clone());
        match dpop {
            Some(dpop) => builder.dpop(dpop),
            None => builder,
        }
        .build()
        .unwrap()
    }

    fn dpop_verifier(&self) -> AccessTokenVerifier {
        self.verifier(Some(DpopConfig::new(API).unwrap()))
    }

    /// An access token bound to `jkt`.
    fn bound_token(&self, jkt: &str) -> String {
        self.issuer.sign(&with(
            access_claims(NOW),
            json!({"cnf": {"jkt": jkt}, "token_type": "DPoP"}),
        ))
    }
}

fn request(proof: &str) -> Proof<'_> {
    Proof::Dpop(DpopRequest::new(proof, "GET", PATH))
}

#[tokio::test]
async fn bound_tokens_are_taken_with_a_proof_by_their_key_for_every_algorithm() {
    let setup = Setup::new();
    let verifier = setup.dpop_verifier();
    for alg in ["ES256", "ES384", "EdDSA", "RS256", "PS256"] {
        let client = Client::new(alg);
        let token = setup.bound_token(&client.jkt);
        let proof = client.proof(&token);
        let verified = verifier
            .verify_with_proof(&token, request(&proof))
            .await
            .unwrap_or_else(|err| panic!("{alg}: {err}"));
        assert_eq!(verified.confirmation.unwrap().jkt.unwrap(), client.jkt);
        // The crate's thumbprint is the one written out here.
        let jwk = client.signer.bare_public_jwk();
        assert_eq!(
            jwk_thumbprint(jwk.as_object().unwrap()).unwrap(),
            client.jkt
        );
    }
}

#[tokio::test]
async fn proofs_and_thumbprints_of_jwcrypto_are_taken() {
    // jwcrypto makes the keys and computes their RFC 7638 thumbprints, which the tokens are
    // bound to; then it signs each proof, its ath computed in Python too.
    let setup = Setup::new();
    let verifier = setup.dpop_verifier();
    let keys = python(
        r#"
import json
from jwcrypto import jwk
out = []
for kty, params, alg in [("EC", {"crv": "P-256"}, "ES256"), ("EC", {"crv": "P-384"}, "ES384"),
                         ("OKP", {"crv": "Ed25519"}, "EdDSA"), ("RSA", {"size": 2048}, "PS256")]:
    key = jwk.JWK.generate(kty=kty, **params)
    out.append({"alg": alg, "thumbprint": key.thumbprint(),
                "jwk": key.export_public(as_dict=True), "key": key.export_private()})
print(json.dumps(out))
"#,
        &[],
    );
    for key in keys.as_array().unwrap() {
        let alg = key["alg"].as_str().unwrap();
        let thumbprint = key["thumbprint"].as_str().unwrap();
        assert_eq!(
            jwk_thumbprint(key["jwk"].as_object().unwrap()).unwrap(),
            thumbprint,
            "{alg}"
        );
        let token = setup.bound_token(thumbprint);
        let proof = python(
            r#"
import base64, hashlib, json, sys, uuid
from jwcrypto import jwk, jwt
key = jwk.JWK.from_json(sys.argv[1])
alg, url, iat, token = sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
ath = base64.urlsafe_b64encode(hashlib.sha256(token.encode("ascii")).digest()).rstrip(b"=")
proof = jwt.JWT(header={"typ": "dpop+jwt", "alg": alg, "jwk": key.export_public(as_dict=True)},
                claims={"jti": str(uuid.uuid4()), "htm": "GET", "htu": url, "iat": iat,
                        "ath": ath.decode()})
proof.make_signed_token(key)
print(json.dumps(proof.serialize()))
"#,
            &[
                key["key"].as_str().unwrap(),
                alg,
                // The client addressed the URL with a query, which htu may carry or not.
                &format!("{URL}?page=2"),
                &NOW.to_string(),
                &token,
            ],
        );
        let proof = proof.as_str().unwrap();
        let verified = verifier
            .verify_with_proof(&token, request(proof))
            .await
            .unwrap_or_else(|err| panic!("{alg}: {err}"));
        assert_eq!(verified.confirmation.unwrap().jkt.unwrap(), thumbprint);
        assert_eq!(
            verifier
                .verify_with_proof(&token, request(proof))
                .await
                .unwrap_err(),
            Error::Dpop(DpopError::Replayed),
            "{alg}"
        );
    }
}

/// Runs a Python script with `args`, its standard output parsed as JSON.
fn python(script: &str, args: &[&str]) -> Value {
    let output = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 runs (jwcrypto is installed by .ci/run)");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[tokio::test]
async fn each_proof_check_refuses_with_its_own_error() {
    let setup = Setup::new();
    let verifier = setup.dpop_verifier();
    let client = Client::new("ES256");
    let stranger = Client::new("ES256");
    let token = setup.bound_token(&client.jkt);
    let claims = Client::claims(&token, NOW);
    let header = client.header();
    let with_header = |changes: Value| {
        let mut header = header.clone();
        for (name, value) in changes.as_object().unwrap() {
            if value.is_null() {
                header.as_object_mut().unwrap().remove(name);
            } else {
                header[name] = value.clone();
            }
        }
        client.signer.sign_with_header(&header, &claims)
    };
    let private_jwk = Value::Object(client.signer.private.as_ref().clone());
    let hs256 = {
        let input = format!(
            "{}.{}",
            b64(
                json!({"typ": "dpop+jwt", "alg": "HS256", "jwk": client.signer.bare_public_jwk()})
                    .to_string()
            ),
            b64(claims.to_string())
        );
        format!("{input}.{}", b64([0u8; 32]))
    };
    let unsigned = format!(
        "{}.{}.",
        b64(
            json!({"typ": "dpop+jwt", "alg": "none", "jwk": client.signer.bare_public_jwk()})
                .to_string()
        ),
        b64(claims.to_string())
    );
    let (signing_input, _) = client
        .proof(&token)
        .rsplit_once('.')
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .unwrap();
    let foreign_signature = stranger
        .proof(&token)
        .rsplit_once('.')
        .unwrap()
        .1
        .to_owned();
    let huge = client.proof_with(&token, json!({"pad": "x".repeat(9000)}));
    let cases: Vec<(&str, String, DpopError)> = vec![
        ("not a JWT", "abc".into(), DpopError::Malformed),
        ("too large", huge, DpopError::TooLarge),
        ("alg none", unsigned, DpopError::AlgorithmNotAllowed),
        ("alg HS256", hs256, DpopError::AlgorithmNotAllowed),
        (
            "crit",
            with_header(json!({"crit": ["exp"]})),
            DpopError::CriticalHeader,
        ),
        (
            "no typ",
            with_header(json!({"typ": null})),
            DpopError::WrongType,
        ),
        (
            "typ JWT",
            with_header(json!({"typ": "JWT"})),
            DpopError::WrongType,
        ),
        (
            "typ at+jwt",
            with_header(json!({"typ": "at+jwt"})),
            DpopError::WrongType,
        ),
        (
            "no jwk",
            with_header(json!({"jwk": null})),
            DpopError::MissingKey,
        ),
        (
            "jwk a string",
            with_header(json!({"jwk": "k"})),
            DpopError::MissingKey,
        ),
        (
            "private jwk",
            with_header(json!({"jwk": private_jwk})),
            DpopError::PrivateKey,
        ),
        (
            "jwk for encryption",
            with_header(
                json!({"jwk": with(client.signer.bare_public_jwk(), json!({"use": "enc"}))}),
            ),
            DpopError::UnusableKey,
        ),
        (
            "jwk of another alg",
            with_header(json!({"jwk": Signer::new("EdDSA", "x").bare_public_jwk()})),
            DpopError::UnusableKey,
        ),
        (
            "signed by another key",
            format!("{signing_input}.{foreign_signature}"),
            DpopError::BadSignature,
        ),
        (
            "no jti",
            client.proof_with(&token, json!({"jti": null})),
            DpopError::MissingClaim("jti"),
        ),
        (
            "empty jti",
            client.proof_with(&token, json!({"jti": ""})),
            DpopError::InvalidClaim("jti"),
        ),
        (
            "no htm",
            client.proof_with(&token, json!({"htm": null})),
            DpopError::MissingClaim("htm"),
        ),
        (
            "htm POST",
            client.proof_with(&token, json!({"htm": "POST"})),
            DpopError::WrongMethod,
        ),
        (
            "htm get",
            client.proof_with(&token, json!({"htm": "get"})),
            DpopError::WrongMethod,
        ),
        (
            "no htu",
            client.proof_with(&token, json!({"htu": null})),
            DpopError::MissingClaim("htu"),
        ),
        (
            "htu a number",
            client.proof_with(&token, json!({"htu": 7})),
            DpopError::InvalidClaim("htu"),
        ),
        (
            "htu another path",
            client.proof_with(&token, json!({"htu": format!("{API}/admin")})),
            DpopError::WrongUrl,
        ),
        (
            "htu another host",
            client.proof_with(&token, json!({"htu": "https://evil.example.com/reports"})),
            DpopError::WrongUrl,
        ),
        (
            "htu http",
            client.proof_with(&token, json!({"htu": "http://api.example.com/reports"})),
            DpopError::WrongUrl,
        ),
        (
            "no iat",
            client.proof_with(&token, json!({"iat": null})),
            DpopError::MissingClaim("iat"),
        ),
        (
            "iat text",
            client.proof_with(&token, json!({"iat": "now"})),
            DpopError::InvalidClaim("iat"),
        ),
        // The window (60 s) plus the leeway (30 s).
        (
            "iat too old",
            client.proof_with(&token, json!({"iat": NOW - 91})),
            DpopError::TooOld,
        ),
        (
            "iat in the future",
            client.proof_with(&token, json!({"iat": NOW + 31})),
            DpopError::IssuedInFuture,
        ),
        (
            "no ath",
            client.proof_with(&token, json!({"ath": null})),
            DpopError::MissingClaim("ath"),
        ),
        (
            "ath of another token",
            client.proof_with(&token, json!({"ath": ath("another")})),
            DpopError::WrongAccessTokenHash,
        ),
    ];
    for (name, proof, expected) in cases {
        assert_eq!(
            verifier
                .verify_with_proof(&token, request(&proof))
                .await
                .unwrap_err(),
            Error::Dpop(expected),
            "{name}"
        );
    }
    // The edges of the window are inside it, and htu is compared after normalisation.
    for (name, changes) in [
        ("iat at the oldest", json!({"iat": NOW - 90})),
        ("iat at the latest", json!({"iat": NOW + 30})),
        (
            "htu with query and fragment",
            json!({"htu": format!("{URL}?x=1#top")}),
        ),
        (
            "htu normalised",
            json!({"htu": "HTTPS://API.example.com:443/./reports"}),
        ),
    ] {
        let proof = client.proof_with(&token, changes);
        assert!(
            verifier
                .verify_with_proof(&token, request(&proof))
                .await
                .is_ok(),
            "{name}"
        );
    }
    // A good proof by another key than the token's.
    let theirs = stranger.proof(&token);
    assert_eq!(
        verifier
            .verify_with_proof(&token, request(&theirs))
            .await
            .unwrap_err(),
        Error::Binding(BindingError::DpopKeyMismatch)
    );
}

#[tokio::test]
async fn a_proof_is_single_use_and_a_refused_request_leaves_it_unspent() {
    let setup = Setup::new();
    let verifier = setup.dpop_verifier();
    let client = Client::new("EdDSA");
    let token = setup.bound_token(&client.jkt);
    let proof = client.proof(&token);
    // Presented for another request first: refused, and not spent.
    assert_eq!(
        verifier
            .verify_with_proof(
                &token,
                Proof::Dpop(DpopRequest::new(&proof, "GET", "/admin"))
            )
            .await
            .unwrap_err(),
        Error::Dpop(DpopError::WrongUrl)
    );
    // The request's query is no part of htu.
    let addressed = Proof::Dpop(DpopRequest::new(&proof, "GET", "/reports?page=2"));
    assert!(verifier.verify_with_proof(&token, addressed).await.is_ok());
    assert_eq!(
        verifier
            .verify_with_proof(&token, request(&proof))
            .await
            .unwrap_err(),
        Error::Dpop(DpopError::Replayed)
    );
    // Another instance has its own cache (replicas need nonces or short windows; see the docs).
    assert!(setup
        .dpop_verifier()
        .verify_with_proof(&token, request(&proof))
        .await
        .is_ok());
}

#[tokio::test]
async fn a_full_replay_cache_refuses_and_makes_room_as_proofs_expire() {
    let setup = Setup::new();
    let verifier = setup.verifier(Some(DpopConfig::new(API).unwrap().replay_capacity(2)));
    let client = Client::new("ES256");
    let token = setup.bound_token(&client.jkt);
    for _ in 0..2 {
        assert!(verifier
            .verify_with_proof(&token, request(&client.proof(&token)))
            .await
            .is_ok());
    }
    let third = client.proof(&token);
    assert_eq!(
        verifier
            .verify_with_proof(&token, request(&third))
            .await
            .unwrap_err(),
        Error::Dpop(DpopError::ReplayCacheFull)
    );
    assert_eq!(
        Error::Dpop(DpopError::ReplayCacheFull)
            .bearer_error_code()
            .http_status(),
        503
    );
    // The first two are kept until their iat + window + leeway (NOW + 90) has passed.
    setup.clock.set(NOW + 91);
    let token = setup.issuer.sign(&with(
        access_claims(NOW + 91),
        json!({"cnf": {"jkt": client.jkt}}),
    ));
    let proof = client
        .signer
        .sign_with_header(&client.header(), &Client::claims(&token, NOW + 91));
    assert!(verifier
        .verify_with_proof(&token, request(&proof))
        .await
        .is_ok());
}

#[tokio::test]
async fn required_nonces_are_handed_out_and_agreed_on_by_instances() {
    let setup = Setup::new();
    let secret = [9u8; 32];
    let config = || {
        DpopConfig::new(API).unwrap().require_nonce(
            DpopNonces::new(secret)
                .unwrap()
                .slot(Duration::from_secs(60))
                .unwrap(),
        )
    };
    let one = setup.verifier(Some(config()));
    let other = setup.verifier(Some(config()));
    let client = Client::new("ES256");
    let token = setup.bound_token(&client.jkt);
    assert_eq!(
        one.verify_with_proof(&token, request(&client.proof(&token)))
            .await
            .unwrap_err(),
        Error::Dpop(DpopError::NonceMissing)
    );
    let nonce = one.dpop_nonce().unwrap();
    assert_eq!(other.dpop_nonce().as_deref(), Some(nonce.as_str()));
    let with_nonce = client.proof_with(&token, json!({"nonce": nonce}));
    assert!(other
        .verify_with_proof(&token, request(&with_nonce))
        .await
        .is_ok());
    let made_up = client.proof_with(&token, json!({"nonce": "x".repeat(43)}));
    assert_eq!(
        one.verify_with_proof(&token, request(&made_up))
            .await
            .unwrap_err(),
        Error::Dpop(DpopError::NonceStale)
    );
    // Two slots later the nonce is stale, and a fresh one is handed out.
    setup.clock.set(NOW + 120);
    let token = setup.issuer.sign(&with(
        access_claims(NOW + 120),
        json!({"cnf": {"jkt": client.jkt}}),
    ));
    let old = client.signer.sign_with_header(
        &client.header(),
        &with(Client::claims(&token, NOW + 120), json!({"nonce": nonce})),
    );
    assert_eq!(
        one.verify_with_proof(&token, request(&old))
            .await
            .unwrap_err(),
        Error::Dpop(DpopError::NonceStale)
    );
    assert_ne!(one.dpop_nonce().unwrap(), nonce);
    // Another secret's instance does not take this one's nonces.
    let stranger = setup.verifier(Some(
        DpopConfig::new(API)
            .unwrap()
            .require_nonce(DpopNonces::new([1u8; 32]).unwrap()),
    ));
    let fresh = client.signer.sign_with_header(
        &client.header(),
        &with(
            Client::claims(&token, NOW + 120),
            json!({"nonce": one.dpop_nonce()}),
        ),
    );
    assert_eq!(
        stranger
            .verify_with_proof(&token, request(&fresh))
            .await
            .unwrap_err(),
        Error::Dpop(DpopError::NonceStale)
    );
    assert!(one.verify_with_proof(&token, request(&fresh)).await.is_ok());
}

#[tokio::test]
async fn a_token_comes_only_with_the_scheme_its_binding_allows() {
    let setup = Setup::new();
    let verifier = setup.dpop_verifier();
    let client = Client::new("ES256");
    let bound = setup.bound_token(&client.jkt);
    let plain = setup.issuer.sign(&access_claims(NOW));
    // RFC 9449 7.2: a DPoP-bound token presented as a bearer token.
    let refused = verifier.verify(&bound).await.unwrap_err();
    assert_eq!(refused, Error::Binding(BindingError::DpopProofMissing));
    assert!(refused.concerns_dpop());
    // A plain bearer token is taken as one, and refused with the DPoP scheme.
    assert!(verifier.verify(&plain).await.is_ok());
    assert_eq!(
        verifier
            .verify_with_proof(&plain, request(&client.proof(&plain)))
            .await
            .unwrap_err(),
        Error::Binding(BindingError::NotDpopBound)
    );
    // A resource server that takes only DPoP-bound tokens.
    let strict = setup.verifier(Some(DpopConfig::new(API).unwrap().bearer_tokens(false)));
    assert_eq!(
        strict.verify(&plain).await.unwrap_err(),
        Error::Binding(BindingError::BearerNotAccepted)
    );
    assert!(strict
        .verify_with_proof(&bound, request(&client.proof(&bound)))
        .await
        .is_ok());
    // Without DPoP configured, a bound token is refused whatever comes with it.
    let without = setup.verifier(None);
    assert_eq!(
        without
            .verify_with_proof(&bound, request(&client.proof(&bound)))
            .await
            .unwrap_err(),
        Error::Binding(BindingError::DpopNotSupported)
    );
    assert_eq!(without.dpop_algorithms(), None);
    assert_eq!(
        verifier.dpop_algorithms(),
        Some("ES256 ES384 RS256 PS256 EdDSA")
    );
}

#[tokio::test]
async fn a_resource_server_behind_a_gateway_names_its_public_urls() {
    let setup = Setup::new();
    // Clients address https://gw.example.com/reports-api/...; the gateway strips the prefix.
    let verifier = setup.verifier(Some(
        DpopConfig::new("https://gw.example.com/reports-api")
            .unwrap()
            .also_at("https://reports.internal:8443")
            .unwrap(),
    ));
    let client = Client::new("ES256");
    let token = setup.bound_token(&client.jkt);
    for (htu, accepted) in [
        ("https://gw.example.com/reports-api/reports", true),
        ("https://reports.internal:8443/reports", true),
        ("https://gw.example.com/reports", false),
        (URL, false),
    ] {
        let proof = client.proof_with(&token, json!({ "htu": htu }));
        let result = verifier.verify_with_proof(&token, request(&proof)).await;
        assert_eq!(result.is_ok(), accepted, "{htu}: {result:?}");
    }
}
