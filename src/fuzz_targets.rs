//! The bodies of the fuzz targets (`fuzz/`, cargo-fuzz on nightly), here so that the same code
//! replays each target's committed corpus as an ordinary test on stable. Each takes arbitrary
//! bytes, must never panic, and asserts what must hold of any answer: a malformed input is a
//! client's mistake (a 4xx error), never a 5xx.

use crate::jose::{decrypt_assertion, decrypt_from_self, CompactJws, SigningAlg};
use crate::keys::KeyRing;
use crate::metrics::Metrics;
use crate::oauth::client_auth::{
    decode_basic, AuthenticatedClient, ClientAuthenticator, ClientProof,
    JWT_BEARER_CLIENT_ASSERTION,
};
use crate::oauth::credentials::CredentialVerifier;
use crate::oauth::dpop::{access_token_hash, DpopChecker, DpopProof, DpopRequest, Endpoint};
use crate::oauth::error::ErrorCode;
use crate::oauth::issuer::Issuer;
use crate::oauth::params::{form_decode, parse_body, route_params, Params};
use crate::oauth::token_kind::DPOP_PROOF_TYP;
use crate::oauth::types::AuthMethod;
use crate::oauth::{OAuthError, TokenKind};
use crate::registry::{Client, ClientRegistry};
use crate::revocation::Revocations;
use crate::settings::Settings;
use aws_lc_rs::digest;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::Value;
use std::path::Path;
use std::sync::{Arc, LazyLock};

/// A target's body: arbitrary bytes in, a panic on any failed expectation.
pub type Target = fn(&[u8]);

/// Every target, by the name its `fuzz/fuzz_targets/<name>.rs` and `fuzz/corpus/<name>/` have.
pub const TARGETS: &[(&str, Target)] = &[
    ("form", form),
    ("json", json),
    ("query", query),
    ("basic", basic),
    ("jws", jws),
    ("jwe", jwe),
    ("client_assertion", client_assertion),
    ("config", config),
    ("dpop_proof", dpop_proof),
];

/// The instant every target's fixture lives at.
pub const NOW: i64 = 1_800_000_000;
/// The `client_secret_jwt` secret of the assertion target's `hs` client.
pub const ASSERTION_SECRET: &str = "fuzz-assertion-secret-0123456789abcdef";
pub const ISSUER: &str = "https://issuer.test";

fn client_mistake(err: &OAuthError) {
    assert!(
        (400..500).contains(&err.status),
        "a malformed input answered {} {:?}: {}",
        err.status,
        err.code,
        err.description
    );
}

/// A form body (`application/x-www-form-urlencoded`).
pub fn form(data: &[u8]) {
    match Params::from_form(data) {
        // Every pair with a value is there (one without a value counts as omitted).
        Ok(params) => {
            for pair in data.split(|&b| b == b'&').filter(|pair| !pair.is_empty()) {
                let eq = pair
                    .iter()
                    .position(|&b| b == b'=')
                    .expect("a pair has '='");
                let name = form_decode(&pair[..eq]).expect("a name decodes");
                let value = form_decode(&pair[eq + 1..]).expect("a value decodes");
                assert!(value.is_empty() || params.all(&name).any(|v| v == value));
            }
        }
        Err(err) => client_mistake(&err),
    }
}

/// A JSON body.
pub fn json(data: &[u8]) {
    if let Err(err) = Params::from_json(data) {
        client_mistake(&err);
    }
}

/// A compatible route's query string and body: the first line is the query, the second the
/// content type, the rest the body.
pub fn query(data: &[u8]) {
    let mut parts = data.splitn(3, |&b| b == b'\n');
    let query = std::str::from_utf8(parts.next().unwrap_or_default()).unwrap_or_default();
    let content_type = parts.next().and_then(|ct| std::str::from_utf8(ct).ok());
    let body = parts.next().unwrap_or_default();
    for result in [
        route_params(query, content_type, body, true),
        parse_body(content_type, body),
    ] {
        if let Err(err) = result {
            client_mistake(&err);
        }
    }
}

/// An `Authorization` header; what decodes must encode back to the same id and secret.
pub fn basic(data: &[u8]) {
    match decode_basic(data) {
        Ok((client_id, secret)) => {
            assert!(!client_id.is_empty());
            let encode = |text: &str| {
                url::form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>()
            };
            let header = format!(
                "Basic {}",
                STANDARD.encode(format!("{}:{}", encode(&client_id), encode(&secret)))
            );
            assert_eq!(
                decode_basic(header.as_bytes()).ok(),
                Some((client_id, secret))
            );
        }
        Err(err) => {
            assert_eq!(err.code, ErrorCode::InvalidClient);
            client_mistake(&err);
        }
    }
}

/// A compact JWS; what parses was split at its dots.
pub fn jws(data: &[u8]) {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(parsed) = CompactJws::parse(token) {
        assert!(token.starts_with(parsed.signing_input));
        assert_eq!(parsed.signing_input.matches('.').count(), 1);
    }
}

struct Fixture {
    settings: Arc<Settings>,
    keys: Arc<KeyRing>,
    secrets: CredentialVerifier,
    metrics: Metrics,
    runtime: tokio::runtime::Runtime,
}

/// One issuer for every run: a key ring in memory, an `hs` client (`client_secret_jwt`, HS256)
/// and a `pk` client (`private_key_jwt`, ES256, an ES256 key of its own).
static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let mut settings = Settings::with_issuer(ISSUER).expect("the fixture's issuer is valid");
    let client_key =
        crate::jose::generate_signing_key(SigningAlg::ES256).expect("EC keys generate");
    let public = crate::jose::public_jwk(&client_key).expect("an EC key has a public part");
    settings.clients = ClientRegistry::new(&[
        Client {
            auth_methods: vec![AuthMethod::ClientSecretJwt],
            assertion_secret: Some(
                tessera_verifier::KeySource::shared_secret(ASSERTION_SECRET)
                    .expect("the secret is long enough"),
            ),
            assertion_algs: vec!["HS256".parse().expect("HS256 is an assertion algorithm")],
            ..Client::new("hs")
        },
        Client {
            auth_methods: vec![AuthMethod::PrivateKeyJwt],
            keys: Some(
                tessera_verifier::KeySource::from_jwks_json(
                    serde_json::json!({ "keys": [public] })
                        .to_string()
                        .as_bytes(),
                )
                .expect("a public EC key is a JWK Set member"),
            ),
            assertion_algs: vec!["ES256".parse().expect("ES256 is an assertion algorithm")],
            ..Client::new("pk")
        },
    ]);
    Fixture {
        keys: Arc::new(
            KeyRing::in_memory(SigningAlg::ES256, NOW).expect("an in-memory ring builds"),
        ),
        secrets: CredentialVerifier::for_clients(
            &settings.client_auth,
            crate::oauth::hash_pool::HashPool::new(&settings.server),
            None,
        ),
        metrics: Metrics::new(),
        settings: Arc::new(settings),
        runtime: tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime builds"),
    }
});

/// A compact JWE: as a client assertion encrypted to the issuer, and as one of the issuer's own
/// sealed tokens. Neither may open what the fixture's keys did not seal.
pub fn jwe(data: &[u8]) {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    let keys = &FIXTURE.keys;
    let opened = decrypt_assertion(
        keys.encryption_keys().iter().map(|key| &key.decrypter),
        token,
    );
    assert!(opened.is_none(), "a JWE nobody sealed was opened");
    for kind in [TokenKind::Refresh, TokenKind::Code, TokenKind::Session] {
        assert!(decrypt_from_self(keys.secret_jwks(), kind.typ(), token).is_none());
    }
}

/// A client assertion, at the token endpoint's client authentication. Input starting with a
/// zero byte is the assertion as sent; any other is `header JSON \n claims JSON`, signed here
/// with the `hs` client's secret, so that every claim check is reached.
pub fn client_assertion(data: &[u8]) {
    match authenticate_assertion(data) {
        Ok(client) => {
            assert_eq!(client.id, "hs", "only the hs client's secret is known here");
            assert_eq!(client.method, AuthMethod::ClientSecretJwt);
        }
        Err(err) => {
            assert!(matches!(
                err.code,
                ErrorCode::InvalidClient | ErrorCode::InvalidRequest
            ));
            client_mistake(&err);
        }
    }
}

/// What client authentication answers to the assertion `data` makes (see `client_assertion`).
pub fn authenticate_assertion(data: &[u8]) -> Result<AuthenticatedClient, OAuthError> {
    let assertion = match data.split_first() {
        Some((0, raw)) => String::from_utf8_lossy(raw).into_owned(),
        _ => {
            let mut parts = data.splitn(2, |&b| b == b'\n');
            let header = parts.next().unwrap_or_default();
            let claims = parts.next().unwrap_or_default();
            hs256(header, claims)
        }
    };
    let fixture = &*FIXTURE;
    let revocations = fresh_revocations(&fixture.settings);
    let authenticator = ClientAuthenticator {
        settings: &fixture.settings,
        clients: &fixture.settings.clients,
        secrets: &fixture.secrets,
        keys: &fixture.keys,
        revocations: &revocations,
        client_ca: None,
        metrics: &fixture.metrics,
        now: NOW,
    };
    let mut params = Params::default();
    params.set(
        "client_assertion_type",
        JWT_BEARER_CLIENT_ASSERTION.to_owned(),
    );
    if !assertion.is_empty() {
        params.set("client_assertion", assertion);
    }
    fixture
        .runtime
        .block_on(authenticator.authenticate(&params, ClientProof::default()))
}

/// An empty replay store: every run starts with no `jti` spent.
fn fresh_revocations(settings: &Settings) -> Revocations {
    Revocations::new(&settings.revocation, settings.status_list_layout()).expect("memory store")
}

/// `header.claims.HMAC` under the `hs` client's secret.
pub fn hs256(header: &[u8], claims: &[u8]) -> String {
    use aws_lc_rs::hmac;
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let key = hmac::Key::new(hmac::HMAC_SHA256, ASSERTION_SECRET.as_bytes());
    let tag = hmac::sign(&key, signing_input.as_bytes());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(tag))
}

/// A configuration file, relative paths resolved in a folder that holds nothing.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Paths outside the configuration's folder would read the machine's devices and processes,
    // which no configuration text under test should reach.
    if ["/dev", "/proc", "/sys"]
        .iter()
        .any(|root| text.contains(root))
    {
        return;
    }
    if let Err(err) = Settings::parse(text, Path::new("/nonexistent-fuzz-config"), Vec::new()) {
        assert!(
            !err.problems.is_empty(),
            "a refused configuration names its problems"
        );
    }
}

/// The access token the DPoP target's resource endpoint is presented with.
pub const DPOP_ACCESS_TOKEN: &str = "fuzz-access-token";
/// Written in a structured input's claims, this string becomes the server's current nonce.
pub const NONCE_PLACEHOLDER: &str = "\"@nonce\"";

/// The key the DPoP target signs structured proofs with: an ES256 pair of its own, made with
/// aws-lc-rs directly, its public JWK and its RFC 7638 thumbprint computed here by hand.
struct ProofKey {
    pair: EcdsaKeyPair,
    jwk: Value,
    jkt: String,
}

static PROOF_KEY: LazyLock<ProofKey> = LazyLock::new(|| {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
        .expect("P-256 keys generate");
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
        .expect("a fresh key parses");
    // The uncompressed point: 0x04, then x and y.
    let point = pair.public_key().as_ref().to_vec();
    let x = URL_SAFE_NO_PAD.encode(&point[1..33]);
    let y = URL_SAFE_NO_PAD.encode(&point[33..65]);
    let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
    ProofKey {
        pair,
        jwk: serde_json::json!({ "kty": "EC", "crv": "P-256", "x": x, "y": y }),
        jkt: URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, canonical.as_bytes())),
    }
});

/// The fixture's issuer with server nonces required, for the resource endpoint.
static NONCE_SETTINGS: LazyLock<Arc<Settings>> = LazyLock::new(|| {
    let mut settings = Settings::clone(&FIXTURE.settings);
    settings.dpop.require_nonce = true;
    Arc::new(settings)
});

/// Where the DPoP target presents a proof.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProofAt {
    /// `POST /oauth2/token`, no nonce required, no access token.
    Token,
    /// `GET /oauth2/userinfo` with `DPOP_ACCESS_TOKEN`, nonces required.
    Resource,
}

impl ProofAt {
    fn method(self) -> &'static str {
        match self {
            ProofAt::Token => "POST",
            ProofAt::Resource => "GET",
        }
    }

    fn issuer(self) -> Issuer {
        let settings = match self {
            ProofAt::Token => &FIXTURE.settings,
            ProofAt::Resource => &*NONCE_SETTINGS,
        };
        Issuer::new(Arc::clone(settings), Arc::clone(&FIXTURE.keys), NOW)
    }

    fn endpoint(self) -> Endpoint {
        match self {
            ProofAt::Token => Endpoint::Token,
            ProofAt::Resource => Endpoint::Resource { bearer: true },
        }
    }
}

/// A DPoP proof (RFC 9449), at the token endpoint and at an endpoint taking an access token.
/// Input starting with a zero byte is the `DPoP` header's value as sent; any other is
/// `header JSON \n claims JSON`, signed here with the target's own key (put in the header as
/// `jwk` unless the header names one), so that every claim check is reached.
pub fn dpop_proof(data: &[u8]) {
    let proof = match data.split_first() {
        Some((0, raw)) => raw.to_vec(),
        _ => signed_proof(data),
    };
    for at in [ProofAt::Token, ProofAt::Resource] {
        match check_proof(&proof, at) {
            Ok(Some(proven)) => accepted_proof_holds(&proof, at, &proven.jkt),
            Ok(None) => panic!("a proof was sent, yet none was checked"),
            Err(err) => {
                client_mistake(&err);
                match at {
                    ProofAt::Token => {
                        assert_eq!(err.code, ErrorCode::InvalidDpopProof, "{err:?}");
                        assert_eq!(err.status, 400);
                    }
                    ProofAt::Resource => {
                        assert_eq!(err.status, 401);
                        assert!(err.challenge.is_some(), "a 401 names its scheme");
                        match err.code {
                            ErrorCode::InvalidDpopProof => {}
                            ErrorCode::UseDpopNonce => assert!(err.dpop_nonce.is_some()),
                            other => panic!("{other:?}: {}", err.description),
                        }
                    }
                }
            }
        }
    }
}

/// What checking `proof` at `at` answers, with no `jti` spent before.
pub fn check_proof(proof: &[u8], at: ProofAt) -> Result<Option<DpopProof>, OAuthError> {
    let issuer = at.issuer();
    let revocations = fresh_revocations(&issuer.settings);
    let request = DpopRequest {
        proof: Some(proof),
        repeated: false,
        method: at.method(),
        path: match at {
            ProofAt::Token => crate::oauth::paths::TOKEN,
            ProofAt::Resource => crate::oauth::paths::USERINFO,
        },
        via_tls: false,
    };
    let access_token = (at == ProofAt::Resource).then_some(DPOP_ACCESS_TOKEN);
    let checker = DpopChecker::new(&issuer, &revocations, at.endpoint());
    FIXTURE
        .runtime
        .block_on(checker.check(&request, access_token))
}

/// An accepted proof, read again here: its `jkt` is the thumbprint of the public `jwk` in its
/// header, it has the right `typ` and `alg`, it is for this method, at this time, with a `jti`,
/// and at the resource endpoint it names the access token and carries a nonce.
fn accepted_proof_holds(proof: &[u8], at: ProofAt, jkt: &str) {
    let text = std::str::from_utf8(proof).expect("an accepted proof is text");
    let mut parts = text.trim().split('.');
    let mut part = || -> Value {
        let bytes = URL_SAFE_NO_PAD
            .decode(parts.next().expect("an accepted proof has three parts"))
            .expect("an accepted proof's parts are base64url");
        serde_json::from_slice(&bytes).expect("an accepted proof's parts are JSON")
    };
    let (header, claims) = (part(), part());
    let jwk = header["jwk"]
        .as_object()
        .expect("an accepted proof has a jwk");
    assert!(!jwk.contains_key("d"), "a private key was accepted");
    assert_eq!(jkt, rfc7638_thumbprint(jwk));
    if header["jwk"] == PROOF_KEY.jwk {
        assert_eq!(jkt, PROOF_KEY.jkt, "the thumbprint of the target's own key");
    }
    assert_eq!(header["typ"], DPOP_PROOF_TYP);
    let allowed = &FIXTURE.settings.dpop.signing_algs;
    assert!(
        allowed.iter().any(|alg| header["alg"] == alg.as_str()),
        "alg {}",
        header["alg"]
    );
    assert_eq!(claims["htm"], at.method());
    let iat = claims["iat"].as_i64().expect("iat is a number");
    let window = FIXTURE.settings.dpop.iat_window.as_secs() as i64;
    assert!((iat - NOW).abs() <= window, "iat {iat}");
    let jti = claims["jti"].as_str().expect("jti is a string");
    assert!(!jti.is_empty() && jti.len() <= 256);
    if at == ProofAt::Resource {
        assert_eq!(claims["ath"], access_token_hash(DPOP_ACCESS_TOKEN));
        assert!(claims["nonce"].is_string());
    }
}

/// RFC 7638: SHA-256 of the key type's required members, in order, as compact JSON.
fn rfc7638_thumbprint(jwk: &serde_json::Map<String, Value>) -> String {
    let required: &[&str] = match jwk["kty"].as_str() {
        Some("EC") => &["crv", "kty", "x", "y"],
        Some("OKP") => &["crv", "kty", "x"],
        Some("RSA") => &["e", "kty", "n"],
        other => panic!("an accepted proof's jwk has kty {other:?}"),
    };
    let members: Vec<String> = required
        .iter()
        .map(|name| format!("{}:{}", Value::from(*name), jwk[*name]))
        .collect();
    let canonical = format!("{{{}}}", members.join(","));
    URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, canonical.as_bytes()))
}

/// `header.claims.signature`, ES256 under the target's key; `"@nonce"` in the claims becomes
/// the resource endpoint's current nonce.
pub fn signed_proof(data: &[u8]) -> Vec<u8> {
    let mut parts = data.splitn(2, |&b| b == b'\n');
    let header = parts.next().unwrap_or_default();
    let claims = parts.next().unwrap_or_default();
    let header = match serde_json::from_slice::<serde_json::Map<String, Value>>(header) {
        Ok(mut members) if !members.contains_key("jwk") => {
            members.insert("jwk".into(), PROOF_KEY.jwk.clone());
            serde_json::to_vec(&members).expect("a JSON object encodes")
        }
        _ => header.to_vec(),
    };
    let claims = String::from_utf8_lossy(claims);
    let claims = if claims.contains(NONCE_PLACEHOLDER) {
        let issuer = ProofAt::Resource.issuer();
        let revocations = fresh_revocations(&issuer.settings);
        let nonce = DpopChecker::new(&issuer, &revocations, ProofAt::Resource.endpoint())
            .current_nonce()
            .expect("the resource endpoint requires nonces");
        claims.replace(NONCE_PLACEHOLDER, &format!("\"{nonce}\""))
    } else {
        claims.into_owned()
    };
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let signature = PROOF_KEY
        .pair
        .sign(&SystemRandom::new(), signing_input.as_bytes())
        .expect("ES256 signs");
    format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature.as_ref())
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each target's committed corpus (`fuzz/corpus/<target>/`), through the target's own code.
    #[test]
    fn every_fuzz_corpus_replays_cleanly() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
        for (name, target) in TARGETS {
            let dir = root.join(name);
            let entries =
                std::fs::read_dir(&dir).unwrap_or_else(|err| panic!("{}: {err}", dir.display()));
            let mut replayed = 0;
            for entry in entries {
                let path = entry.unwrap().path();
                let data = std::fs::read(&path).unwrap();
                let outcome = std::panic::catch_unwind(|| target(&data));
                assert!(outcome.is_ok(), "{name}: {} fails", path.display());
                replayed += 1;
            }
            assert!(replayed > 0, "{name} has no corpus");
        }
    }

    #[test]
    fn a_signed_assertion_of_the_hs_client_authenticates() {
        let claims = format!(
            r#"{{"iss":"hs","sub":"hs","aud":"{ISSUER}","exp":{},"jti":"j1"}}"#,
            NOW + 60
        );
        let structured = format!("{{\"alg\":\"HS256\"}}\n{claims}");
        let client = authenticate_assertion(structured.as_bytes()).unwrap();
        assert_eq!(client.id, "hs");
        let raw = hs256(br#"{"alg":"HS256"}"#, claims.as_bytes());
        let mut sent = vec![0];
        sent.extend_from_slice(raw.as_bytes());
        assert_eq!(authenticate_assertion(&sent).unwrap().id, "hs");
        let err = authenticate_assertion(b"\0not.a.jws").unwrap_err();
        assert_eq!(err.description, "the client assertion is not a JWS token");
    }

    #[test]
    fn a_signed_proof_is_accepted_where_it_is_meant_for_and_refused_elsewhere() {
        let for_token = format!(
            "{{\"typ\":\"{DPOP_PROOF_TYP}\",\"alg\":\"ES256\"}}\n\
             {{\"jti\":\"j1\",\"htm\":\"POST\",\"htu\":\"{ISSUER}/oauth2/token\",\"iat\":{NOW}}}"
        );
        let proof = signed_proof(for_token.as_bytes());
        let proven = check_proof(&proof, ProofAt::Token).unwrap().unwrap();
        assert_eq!(proven.jkt, PROOF_KEY.jkt);
        let err = check_proof(&proof, ProofAt::Resource).unwrap_err();
        assert_eq!(
            err.description,
            "the DPoP proof's htm is not the method of this request"
        );
        let mut sent = vec![0];
        sent.extend_from_slice(&proof);
        dpop_proof(&sent);

        let for_userinfo = format!(
            "{{\"typ\":\"{DPOP_PROOF_TYP}\",\"alg\":\"ES256\"}}\n\
             {{\"jti\":\"j2\",\"htm\":\"GET\",\"htu\":\"{ISSUER}/oauth2/userinfo\",\"iat\":{NOW},\
             \"ath\":\"{}\",\"nonce\":{NONCE_PLACEHOLDER}}}",
            access_token_hash(DPOP_ACCESS_TOKEN)
        );
        let proof = signed_proof(for_userinfo.as_bytes());
        assert!(check_proof(&proof, ProofAt::Resource).unwrap().is_some());
        let without_nonce = for_userinfo.replace(NONCE_PLACEHOLDER, "\"stale\"");
        let err =
            check_proof(&signed_proof(without_nonce.as_bytes()), ProofAt::Resource).unwrap_err();
        assert_eq!(err.code, ErrorCode::UseDpopNonce);
        assert!(err.dpop_nonce.is_some());
    }
}
