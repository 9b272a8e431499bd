//! Shared by the integration tests: signers built on josekit (OpenSSL), a different JOSE
//! implementation from the aws-lc-rs one under test, and a stub HTTP server on an ephemeral
//! loopback port that serves discovery documents, JWK Sets and status lists and counts fetches.
#![allow(dead_code)]

pub mod dpop;
pub mod server;

#[allow(unused_imports)]
pub use server::StubServer;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use josekit::jwk::alg::ec::EcCurve;
use josekit::jwk::alg::ed::EdCurve;
use josekit::jwk::Jwk;
use josekit::jws::JwsSigner;
use serde_json::{json, Value};
use std::io::Write;

pub const ISSUER: &str = "https://id.tessera.test";
pub const AUDIENCE: &str = "https://reports.internal";
/// A fixed "now" for tests that inject a clock.
pub const NOW: i64 = 1_800_000_000;

/// A private signing key and its josekit signer.
pub struct Signer {
    pub private: Jwk,
    pub alg: &'static str,
    pub kid: String,
    signer: Box<dyn JwsSigner>,
}

impl Signer {
    pub fn new(alg: &'static str, kid: &str) -> Self {
        let mut private = match alg {
            "ES256" => Jwk::generate_ec_key(EcCurve::P256),
            "ES384" => Jwk::generate_ec_key(EcCurve::P384),
            "EdDSA" => Jwk::generate_ed_key(EdCurve::Ed25519),
            "RS256" | "PS256" => Jwk::generate_rsa_key(2048),
            other => panic!("no test signer for {other}"),
        }
        .expect("josekit generates the key");
        private.set_key_id(kid);
        let signer: Box<dyn JwsSigner> = match alg {
            "ES256" => Box::new(josekit::jws::ES256.signer_from_jwk(&private).unwrap()),
            "ES384" => Box::new(josekit::jws::ES384.signer_from_jwk(&private).unwrap()),
            "EdDSA" => Box::new(josekit::jws::EdDSA.signer_from_jwk(&private).unwrap()),
            "RS256" => Box::new(josekit::jws::RS256.signer_from_jwk(&private).unwrap()),
            "PS256" => Box::new(josekit::jws::PS256.signer_from_jwk(&private).unwrap()),
            _ => unreachable!(),
        };
        Self {
            private,
            alg,
            kid: kid.to_owned(),
            signer,
        }
    }

    pub fn es256(kid: &str) -> Self {
        Self::new("ES256", kid)
    }

    /// The public JWK, with `kid`, `use: sig` and `alg`.
    pub fn public_jwk(&self) -> Value {
        let mut public = self.private.to_public_key().unwrap();
        public.set_key_id(&self.kid);
        public.set_key_use("sig");
        public.set_algorithm(self.alg);
        Value::Object(public.as_ref().clone())
    }

    /// The public JWK without `kid`, `use` or `alg`.
    pub fn bare_public_jwk(&self) -> Value {
        let mut jwk = self.public_jwk();
        for member in ["kid", "use", "alg"] {
            jwk.as_object_mut().unwrap().remove(member);
        }
        jwk
    }

    /// A compact JWS of `claims` under exactly `header`.
    pub fn sign_with_header(&self, header: &Value, claims: &Value) -> String {
        let signing_input = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
        let signature = self.signer.sign(signing_input.as_bytes()).unwrap();
        format!("{signing_input}.{}", b64(signature))
    }

    /// An access token: `{alg, kid, typ: at+jwt}`.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_with_header(
            &json!({"alg": self.alg, "kid": self.kid, "typ": "at+jwt"}),
            claims,
        )
    }

    /// A status list token for `uri` (`typ: statuslist+jwt`).
    pub fn sign_status_list(&self, claims: &Value) -> String {
        self.sign_with_header(
            &json!({"alg": self.alg, "kid": self.kid, "typ": "statuslist+jwt"}),
            claims,
        )
    }
}

pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A JWK Set document of the signers' public keys.
pub fn jwks(signers: &[&Signer]) -> Value {
    json!({"keys": signers.iter().map(|signer| signer.public_jwk()).collect::<Vec<_>>()})
}

/// The claims of a good RFC 9068 access token issued at `now`.
pub fn access_claims(now: i64) -> Value {
    json!({
        "iss": ISSUER,
        "sub": "alice",
        "aud": [AUDIENCE, "https://other.internal"],
        "exp": now + 900,
        "iat": now,
        "nbf": now,
        "jti": "0f9c7a1e-7c1b-4d43-9a0e-1d3c1d2b9a11",
        "client_id": "reports",
        "scope": "reports:read reports:write",
    })
}

/// Merges `changes` into `claims`; a `null` change removes the claim.
pub fn with(mut claims: Value, changes: Value) -> Value {
    for (name, value) in changes.as_object().unwrap() {
        if value.is_null() {
            claims.as_object_mut().unwrap().remove(name);
        } else {
            claims[name] = value.clone();
        }
    }
    claims
}

/// ZLIB-compresses a status list's bytes and base64url-encodes them (`lst`).
pub fn encode_list(bytes: &[u8]) -> String {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).unwrap();
    b64(encoder.finish().unwrap())
}

/// The claims of a status list token for `uri` holding `bytes` at `bits` per token.
pub fn status_list_claims(uri: &str, bits: u8, bytes: &[u8], now: i64) -> Value {
    json!({
        "sub": uri,
        "iat": now,
        "exp": now + 86_400,
        "ttl": 300,
        "status_list": {"bits": bits, "lst": encode_list(bytes)},
    })
}
