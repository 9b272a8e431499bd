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
use crate::oauth::error::ErrorCode;
use crate::oauth::params::{form_decode, parse_body, route_params, Params};
use crate::oauth::types::AuthMethod;
use crate::oauth::{OAuthError, TokenKind};
use crate::registry::{Client, ClientRegistry};
use crate::revocation::Revocations;
use crate::settings::Settings;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use std::path::Path;
use std::sync::{Arc, LazyLock};

/// A target's body: arbitrary bytes in, a panic on any failed expectation.
pub type Target = fn(&[u8]);

/// Every target, by the name its `fuzz/fuzz_targets/<name>.rs` and `fuzz/corpus/<name>/` have.
/// DPoP proof validation (RFC 9449) gets its target here, `dpop_proof`, when it exists.
pub const TARGETS: &[(&str, Target)] = &[
    ("form", form),
    ("json", json),
    ("query", query),
    ("basic", basic),
    ("jws", jws),
    ("jwe", jwe),
    ("client_assertion", client_assertion),
    ("config", config),
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
    keys: KeyRing,
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
        keys: KeyRing::in_memory(SigningAlg::ES256, NOW).expect("an in-memory ring builds"),
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
    let revocations = Revocations::new(
        &fixture.settings.revocation,
        fixture.settings.status_list_layout(),
    )
    .expect("memory store");
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
}
