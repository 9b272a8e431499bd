//! DPoP clients for the tests: keys and proofs made by josekit, with the RFC 7638 thumbprint
//! and the `ath` written out here, apart from the crate's.

use super::{b64, with, Signer, NOW};
use aws_lc_rs::digest;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};

/// Where the resource server is reached, and the path of the requests.
pub const API: &str = "https://api.example.com";
pub const PATH: &str = "/reports";
pub const URL: &str = "https://api.example.com/reports";

/// RFC 7638 written out here, apart from the crate's: the required members in lexicographic
/// order, no whitespace.
pub fn thumbprint(jwk: &Value) -> String {
    let members: &[&str] = match jwk["kty"].as_str().unwrap() {
        "EC" => &["crv", "kty", "x", "y"],
        "OKP" => &["crv", "kty", "x"],
        "RSA" => &["e", "kty", "n"],
        other => panic!("no thumbprint for {other}"),
    };
    let canonical = members
        .iter()
        .map(|member| format!("\"{member}\":\"{}\"", jwk[member].as_str().unwrap()))
        .collect::<Vec<_>>()
        .join(",");
    b64(digest::digest(
        &digest::SHA256,
        format!("{{{canonical}}}").as_bytes(),
    ))
}

/// RFC 9449 4.2 `ath`, written out here too.
pub fn ath(token: &str) -> String {
    b64(digest::digest(&digest::SHA256, token.as_bytes()))
}

pub fn unique_jti() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "jti-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A DPoP client: its key, and the thumbprint tokens bound to it carry.
pub struct Client {
    pub signer: Signer,
    pub jkt: String,
}

impl Client {
    pub fn new(alg: &'static str) -> Self {
        let signer = Signer::new(alg, "dpop");
        let jkt = thumbprint(&signer.bare_public_jwk());
        Self { signer, jkt }
    }

    pub fn header(&self) -> Value {
        json!({"typ": "dpop+jwt", "alg": self.signer.alg, "jwk": self.signer.bare_public_jwk()})
    }

    /// The claims of a good proof of `GET URL` for `token` at `iat`.
    pub fn claims(token: &str, iat: i64) -> Value {
        json!({"jti": unique_jti(), "htm": "GET", "htu": URL, "iat": iat, "ath": ath(token)})
    }

    pub fn proof(&self, token: &str) -> String {
        self.signer
            .sign_with_header(&self.header(), &Self::claims(token, NOW))
    }

    /// A proof of `token` whose claims are changed by `changes` (`null` removes one).
    pub fn proof_with(&self, token: &str, changes: Value) -> String {
        self.signer
            .sign_with_header(&self.header(), &with(Self::claims(token, NOW), changes))
    }
}
