//! The RFC 9068 profile and the JWS layer under it, with static keys: tokens signed by josekit
//! (OpenSSL), verified by this crate (aws-lc-rs).

mod support;

use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use support::{access_claims, b64, jwks, with, Signer, AUDIENCE, ISSUER, NOW};
use tessera_verifier::{
    verify_jws, AccessTokenVerifier, Algorithm, Error, JwsPolicy, KeySource, Limit, ManualClock,
};

fn verifier_for(signers: &[&Signer], clock: Arc<ManualClock>) -> AccessTokenVerifier {
    let keys = KeySource::from_jwks_json(jwks(signers).to_string().as_bytes()).unwrap();
    AccessTokenVerifier::builder(ISSUER, AUDIENCE, keys)
        .clock(clock)
        .leeway(Duration::from_secs(30))
        .build()
        .unwrap()
}

fn setup() -> (Signer, AccessTokenVerifier, Arc<ManualClock>) {
    let signer = Signer::es256("k1");
    let clock = Arc::new(ManualClock::new(NOW));
    let verifier = verifier_for(&[&signer], clock.clone());
    (signer, verifier, clock)
}

#[tokio::test]
async fn a_good_token_of_each_algorithm_verifies_with_typed_claims() {
    let signers: Vec<Signer> = ["ES256", "ES384", "EdDSA", "RS256", "PS256"]
        .iter()
        .map(|alg| Signer::new(alg, &format!("key-{alg}")))
        .collect();
    let clock = Arc::new(ManualClock::new(NOW));
    let verifier = verifier_for(&signers.iter().collect::<Vec<_>>(), clock);
    for signer in &signers {
        let token = verifier.verify(&signer.sign(&access_claims(NOW))).await;
        let token = token.unwrap_or_else(|err| panic!("{}: {err}", signer.alg));
        assert_eq!(token.subject, "alice");
        assert_eq!(token.client_id, "reports");
        assert_eq!(token.issuer, ISSUER);
        assert_eq!(token.expires_at, NOW + 900);
        assert_eq!(token.key_id.as_deref(), Some(signer.kid.as_str()));
        assert!(token.has_scope("reports:read") && token.has_scope("reports:write"));
        assert_eq!(token.scopes.len(), 2);
    }
}

#[tokio::test]
async fn user_claims_act_cnf_and_permissions_come_out_typed() {
    let (signer, verifier, _) = setup();
    let claims = with(
        access_claims(NOW),
        json!({
            "auth_time": NOW - 60,
            "email": "alice@example.com",
            "act": {"sub": "batch-service", "act": {"sub": "earlier"}},
            "authorization": {"permissions": [{"resource_id": "invoice-7", "resource_scopes": ["view"]}]},
        }),
    );
    let token = verifier.verify(&signer.sign(&claims)).await.unwrap();
    assert_eq!(token.auth_time, Some(NOW - 60));
    assert_eq!(token.claim("email"), Some(&json!("alice@example.com")));
    assert_eq!(token.actor.as_ref().unwrap()["sub"], "batch-service");
    assert_eq!(token.permissions[0].resource_id, "invoice-7");
    assert_eq!(token.permissions[0].resource_scopes, ["view"]);
    assert!(token.confirmation.is_none());
}

#[tokio::test]
async fn required_scopes_yield_insufficient_scope() {
    let (signer, verifier, _) = setup();
    let token = verifier
        .verify(&signer.sign(&access_claims(NOW)))
        .await
        .unwrap();
    assert!(token.require_scopes(&["reports:read"]).is_ok());
    let err = token
        .require_scopes(&["reports:read", "admin"])
        .unwrap_err();
    assert_eq!(
        err,
        Error::InsufficientScope {
            required: vec!["reports:read".into(), "admin".into()]
        }
    );
    assert_eq!(err.bearer_error_code().http_status(), 403);
}

#[tokio::test]
async fn wrong_issuer_audience_and_type_are_refused() {
    let (signer, verifier, _) = setup();
    let wrong_iss = signer.sign(&with(
        access_claims(NOW),
        json!({"iss": "https://id.tessera.test/"}),
    ));
    assert_eq!(
        verifier.verify(&wrong_iss).await.unwrap_err(),
        Error::WrongIssuer
    );
    let wrong_aud = signer.sign(&with(
        access_claims(NOW),
        json!({"aud": "https://billing.internal"}),
    ));
    assert_eq!(
        verifier.verify(&wrong_aud).await.unwrap_err(),
        Error::WrongAudience
    );
    let no_aud = signer.sign(&with(access_claims(NOW), json!({"aud": null})));
    assert_eq!(
        verifier.verify(&no_aud).await.unwrap_err(),
        Error::MissingClaim("aud")
    );
    for typ in [json!("JWT"), json!("id_token+jwt"), Value::Null] {
        let header = json!({"alg": "ES256", "kid": "k1", "typ": typ});
        let token = signer.sign_with_header(&header, &access_claims(NOW));
        assert_eq!(
            verifier.verify(&token).await.unwrap_err(),
            Error::WrongType,
            "{typ}"
        );
    }
    for typ in ["application/at+JWT", "AT+JWT"] {
        let header = json!({"alg": "ES256", "kid": "k1", "typ": typ});
        let token = signer.sign_with_header(&header, &access_claims(NOW));
        assert!(verifier.verify(&token).await.is_ok(), "{typ}");
    }
}

#[tokio::test]
async fn expiry_and_not_before_respect_the_leeway_of_an_injected_clock() {
    let (signer, verifier, clock) = setup();
    let token = signer.sign(&access_claims(NOW));
    clock.set(NOW + 900 + 29);
    assert!(
        verifier.verify(&token).await.is_ok(),
        "within the 30 s leeway"
    );
    clock.set(NOW + 900 + 30);
    assert_eq!(verifier.verify(&token).await.unwrap_err(), Error::Expired);

    clock.set(NOW);
    let later = signer.sign(&with(access_claims(NOW), json!({"nbf": NOW + 31})));
    assert_eq!(
        verifier.verify(&later).await.unwrap_err(),
        Error::NotYetValid
    );
    let soon = signer.sign(&with(access_claims(NOW), json!({"nbf": NOW + 30})));
    assert!(verifier.verify(&soon).await.is_ok());
    let future_iat = signer.sign(&with(access_claims(NOW), json!({"iat": NOW + 120})));
    assert_eq!(
        verifier.verify(&future_iat).await.unwrap_err(),
        Error::NotYetValid
    );
}

#[tokio::test]
async fn every_required_claim_is_required() {
    let (signer, verifier, _) = setup();
    for claim in ["iss", "exp", "iat", "sub", "client_id", "jti"] {
        let token = signer.sign(&with(access_claims(NOW), json!({ claim: null })));
        assert_eq!(
            verifier.verify(&token).await.unwrap_err(),
            Error::MissingClaim(claim)
        );
    }
    let empty_jti = signer.sign(&with(access_claims(NOW), json!({"jti": ""})));
    assert_eq!(
        verifier.verify(&empty_jti).await.unwrap_err(),
        Error::MissingClaim("jti")
    );
    let bad_exp = signer.sign(&with(access_claims(NOW), json!({"exp": "tomorrow"})));
    assert_eq!(
        verifier.verify(&bad_exp).await.unwrap_err(),
        Error::InvalidClaim("exp")
    );
}

#[tokio::test]
async fn a_tampered_payload_or_signature_fails() {
    let (signer, verifier, _) = setup();
    let token = signer.sign(&access_claims(NOW));
    let parts: Vec<&str> = token.split('.').collect();
    let forged = b64(with(access_claims(NOW), json!({"scope": "admin"})).to_string());
    let tampered = format!("{}.{forged}.{}", parts[0], parts[2]);
    assert_eq!(
        verifier.verify(&tampered).await.unwrap_err(),
        Error::BadSignature
    );
    let mut signature = parts[2].as_bytes().to_vec();
    signature[10] = if signature[10] == b'A' { b'B' } else { b'A' };
    let bad_signature = format!(
        "{}.{}.{}",
        parts[0],
        parts[1],
        String::from_utf8(signature).unwrap()
    );
    assert_eq!(
        verifier.verify(&bad_signature).await.unwrap_err(),
        Error::BadSignature
    );
    // Someone else's key with the same kid.
    let impostor = Signer::es256("k1");
    assert_eq!(
        verifier
            .verify(&impostor.sign(&access_claims(NOW)))
            .await
            .unwrap_err(),
        Error::BadSignature
    );
}

#[tokio::test]
async fn alg_none_and_hmac_keyed_with_the_public_key_are_refused() {
    let (signer, verifier, _) = setup();
    let claims = b64(access_claims(NOW).to_string());
    let unsigned = format!(
        "{}.{claims}.",
        b64(json!({"alg": "none", "typ": "at+jwt"}).to_string())
    );
    assert_eq!(
        verifier.verify(&unsigned).await.unwrap_err(),
        Error::AlgorithmNotAllowed
    );

    // HS256 over the header and payload, keyed with the public JWK as the classic confusion
    // attack does (both the JWK text and its raw coordinates).
    let public = signer.public_jwk();
    for secret in [
        public.to_string().into_bytes(),
        b64(public["x"].as_str().unwrap()).into_bytes(),
    ] {
        let hmac = josekit::jws::HS256.signer_from_bytes(&secret).unwrap();
        let header = b64(json!({"alg": "HS256", "kid": "k1", "typ": "at+jwt"}).to_string());
        let input = format!("{header}.{claims}");
        let tag = josekit::jws::JwsSigner::sign(&hmac, input.as_bytes()).unwrap();
        let forged = format!("{input}.{}", b64(tag));
        assert_eq!(
            verifier.verify(&forged).await.unwrap_err(),
            Error::AlgorithmNotAllowed
        );
        // Even a policy that lists HS256 cannot verify it against public keys.
        let keys = KeySource::from_jwks_json(jwks(&[&signer]).to_string().as_bytes()).unwrap();
        let policy = JwsPolicy::with_algorithms(&[Algorithm::ES256, Algorithm::HS256]);
        assert_eq!(
            verify_jws(&forged, &keys, &policy).await.unwrap_err(),
            Error::AlgorithmNotAllowed
        );
    }
}

#[tokio::test]
async fn the_allow_list_and_crit_are_enforced() {
    let (signer, _, clock) = setup();
    let keys = KeySource::from_jwks_json(jwks(&[&signer]).to_string().as_bytes()).unwrap();
    let only_eddsa = AccessTokenVerifier::builder(ISSUER, AUDIENCE, keys)
        .algorithms(&[Algorithm::EdDSA])
        .clock(clock.clone())
        .build()
        .unwrap();
    assert_eq!(
        only_eddsa
            .verify(&signer.sign(&access_claims(NOW)))
            .await
            .unwrap_err(),
        Error::AlgorithmNotAllowed
    );
    let verifier = verifier_for(&[&signer], clock);
    let header = json!({"alg": "ES256", "kid": "k1", "typ": "at+jwt", "crit": ["exp"], "exp": 1});
    let critical = signer.sign_with_header(&header, &access_claims(NOW));
    assert_eq!(
        verifier.verify(&critical).await.unwrap_err(),
        Error::CriticalHeader
    );
}

#[tokio::test]
async fn sizes_and_shapes_are_bounded() {
    let (signer, verifier, _) = setup();
    let huge = with(access_claims(NOW), json!({"padding": "x".repeat(20_000)}));
    assert_eq!(
        verifier.verify(&signer.sign(&huge)).await.unwrap_err(),
        Error::TooLarge(Limit::Token)
    );
    let big_header = json!({"alg": "ES256", "kid": "k".repeat(3_000), "typ": "at+jwt"});
    let token = signer.sign_with_header(&big_header, &access_claims(NOW));
    assert_eq!(
        verifier.verify(&token).await.unwrap_err(),
        Error::TooLarge(Limit::Header)
    );
    for malformed in ["", "abc", "a.b", "a.b.c.d", "a.b.c.d.e.f", "!!.??.**"] {
        assert!(
            matches!(
                verifier.verify(malformed).await,
                Err(Error::Malformed(_) | Error::Decryption)
            ),
            "{malformed}"
        );
    }
}

#[tokio::test]
async fn keys_are_chosen_by_kid_or_as_the_only_fitting_one() {
    let clock = Arc::new(ManualClock::new(NOW));
    let signer = Signer::es256("k1");
    let other = Signer::es256("k2");
    let verifier = verifier_for(&[&signer, &other], clock.clone());
    let unknown = Signer::es256("k3");
    assert_eq!(
        verifier
            .verify(&unknown.sign(&access_claims(NOW)))
            .await
            .unwrap_err(),
        Error::NoMatchingKey
    );
    // No kid: ambiguous among two ES256 keys, fine with one.
    let header = json!({"alg": "ES256", "typ": "at+jwt"});
    let no_kid = signer.sign_with_header(&header, &access_claims(NOW));
    assert_eq!(
        verifier.verify(&no_kid).await.unwrap_err(),
        Error::NoMatchingKey
    );
    let keys = format!(r#"{{"keys": [{}]}}"#, signer.bare_public_jwk());
    let single = AccessTokenVerifier::builder(
        ISSUER,
        AUDIENCE,
        KeySource::from_jwks_json(keys.as_bytes()).unwrap(),
    )
    .clock(clock)
    .build()
    .unwrap();
    assert!(single.verify(&no_kid).await.is_ok());
}

#[tokio::test]
async fn a_key_is_only_used_for_what_it_says() {
    let clock = Arc::new(ManualClock::new(NOW));
    let signer = Signer::es256("k1");
    for (member, value) in [("use", "enc"), ("alg", "ES384"), ("alg", "ECDH-ES+A256KW")] {
        let mut jwk = signer.public_jwk();
        // An EC P-256 key claiming ES384 is broken and left out of the set.
        jwk[member] = json!(value);
        let keys =
            KeySource::from_jwks_json(json!({"keys": [jwk]}).to_string().as_bytes()).unwrap();
        let verifier = AccessTokenVerifier::builder(ISSUER, AUDIENCE, keys)
            .clock(clock.clone())
            .build()
            .unwrap();
        assert_eq!(
            verifier
                .verify(&signer.sign(&access_claims(NOW)))
                .await
                .unwrap_err(),
            Error::NoMatchingKey,
            "{member}: {value}"
        );
    }
    let mut ops = signer.public_jwk();
    ops["key_ops"] = json!(["encrypt"]);
    let keys = KeySource::from_jwks_json(json!({"keys": [ops]}).to_string().as_bytes()).unwrap();
    let verifier = AccessTokenVerifier::builder(ISSUER, AUDIENCE, keys)
        .clock(clock)
        .build()
        .unwrap();
    assert_eq!(
        verifier
            .verify(&signer.sign(&access_claims(NOW)))
            .await
            .unwrap_err(),
        Error::NoMatchingKey
    );
}

#[tokio::test]
async fn shared_secrets_verify_hmac_jwts_and_nothing_else() {
    let secret = b"a client secret of thirty-two by".to_vec();
    let keys = KeySource::shared_secret(secret.clone()).unwrap();
    let policy = JwsPolicy::with_algorithms(&Algorithm::HMAC);
    let hmac = josekit::jws::HS256.signer_from_bytes(&secret).unwrap();
    let input = format!(
        "{}.{}",
        b64(json!({"alg": "HS256"}).to_string()),
        b64(json!({"iss": "reports", "sub": "reports"}).to_string())
    );
    let tag = josekit::jws::JwsSigner::sign(&hmac, input.as_bytes()).unwrap();
    let assertion = format!("{input}.{}", b64(&tag));
    let verified = verify_jws(&assertion, &keys, &policy).await.unwrap();
    assert_eq!(verified.header.alg, Algorithm::HS256);
    assert_eq!(verified.claims().unwrap()["iss"], "reports");

    let wrong = KeySource::shared_secret(b"another secret, also 32 bytes ok".to_vec()).unwrap();
    assert_eq!(
        verify_jws(&assertion, &wrong, &policy).await.unwrap_err(),
        Error::BadSignature
    );
    // The secret is too short for HS512.
    let header = b64(json!({"alg": "HS512"}).to_string());
    let hs512 = format!("{header}.{}.{}", b64("{}"), b64([0u8; 64]));
    assert_eq!(
        verify_jws(&hs512, &keys, &policy).await.unwrap_err(),
        Error::NoMatchingKey
    );
    // An asymmetric token cannot be verified with a secret.
    let signer = Signer::es256("k1");
    let all = JwsPolicy::with_algorithms(&[Algorithm::ES256, Algorithm::HS256]);
    assert_eq!(
        verify_jws(&signer.sign(&json!({})), &keys, &all)
            .await
            .unwrap_err(),
        Error::AlgorithmNotAllowed
    );
}

#[tokio::test]
async fn the_generic_jws_layer_gives_header_and_claims_of_any_jwt() {
    let signer = Signer::new("EdDSA", "idp-1");
    let keys = KeySource::from_jwks_json(jwks(&[&signer]).to_string().as_bytes()).unwrap();
    let id_token = signer.sign_with_header(
        &json!({"alg": "EdDSA", "kid": "idp-1", "typ": "JWT"}),
        &json!({"iss": "https://idp.example", "nonce": "n-0S6_WzA2Mj"}),
    );
    let verified = verify_jws(&id_token, &keys, &JwsPolicy::default())
        .await
        .unwrap();
    assert_eq!(verified.header.typ.as_deref(), Some("JWT"));
    assert_eq!(verified.header.kid.as_deref(), Some("idp-1"));
    assert_eq!(verified.claims().unwrap()["nonce"], "n-0S6_WzA2Mj");
}
