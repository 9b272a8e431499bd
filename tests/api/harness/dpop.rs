//! A DPoP client's keys and proofs (RFC 9449), made by Python's jwcrypto — an implementation
//! independent of the issuer's — which also computes each key's RFC 7638 thumbprint.

use super::jose::python;
use super::*;
use serde_json::{json, Value};

/// Generates a key (`alg` picks its type) or takes `key`, then signs every proof of `proofs`
/// (each `{"claims": {...}, "header": {...}}`, header members overriding the standard `typ`,
/// `alg` and public `jwk`; a member set to null is left out).
const SCRIPT: &str = r#"
import json, sys
from jwcrypto import jwk, jws
from jwcrypto.common import json_encode
request = json.loads(sys.stdin.read())
alg = request["alg"]
if request.get("key"):
    key = jwk.JWK.from_json(json.dumps(request["key"]))
elif alg.startswith("ES"):
    key = jwk.JWK.generate(kty="EC", crv={"ES256": "P-256", "ES384": "P-384"}[alg])
elif alg == "EdDSA":
    key = jwk.JWK.generate(kty="OKP", crv="Ed25519")
else:
    key = jwk.JWK.generate(kty="RSA", size=2048)
public = key.export_public(as_dict=True)
proofs = []
for proof in request["proofs"]:
    header = {"typ": "dpop+jwt", "alg": alg, "jwk": public}
    header.update(proof.get("header", {}))
    header = {k: v for k, v in header.items() if v is not None}
    token = jws.JWS(json_encode(proof["claims"]))
    token.add_signature(key, alg=None, protected=json_encode(header))
    proofs.append(token.serialize(compact=True))
print(json.dumps({
    "key": json.loads(key.export_private()),
    "public": public,
    "jkt": key.thumbprint(),
    "proofs": proofs,
}))
"#;

/// A client's DPoP key pair, held by jwcrypto.
#[derive(Clone, Debug)]
pub struct DpopKey {
    pub alg: String,
    /// The private JWK (jwcrypto's export).
    pub private: Value,
    pub public: Value,
    /// jwcrypto's own RFC 7638 SHA-256 thumbprint of the key.
    pub jkt: String,
}

fn run(alg: &str, key: Option<&Value>, proofs: &[Value]) -> Value {
    let request = json!({ "alg": alg, "key": key, "proofs": proofs });
    let output = python(SCRIPT, &[], &request.to_string());
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The standard claims of a proof of `htm` `htu` at `iat`, with a fresh `jti`.
pub fn proof_claims(htm: &str, htu: &str, iat: i64) -> Value {
    json!({
        "jti": tessera::oauth::issuer::random_id(),
        "htm": htm,
        "htu": htu,
        "iat": iat,
    })
}

/// RFC 9449 `ath`: base64url SHA-256 of the access token, computed here independently.
pub fn ath(token: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        token.as_bytes(),
    ))
}

impl DpopKey {
    /// A fresh key for `alg` (ES256, ES384, EdDSA, RS256, PS256).
    pub fn new(alg: &str) -> DpopKey {
        let answer = run(alg, None, &[]);
        DpopKey {
            alg: alg.to_owned(),
            private: answer["key"].clone(),
            public: answer["public"].clone(),
            jkt: answer["jkt"].as_str().unwrap().to_owned(),
        }
    }

    /// Signs each `{"claims", "header"}` of `proofs` with this key, in one Python run.
    pub fn sign_all(&self, proofs: &[Value]) -> Vec<String> {
        let answer = run(&self.alg, Some(&self.private), proofs);
        answer["proofs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|proof| proof.as_str().unwrap().to_owned())
            .collect()
    }

    /// One proof with `claims` and the standard header.
    pub fn sign(&self, claims: Value) -> String {
        self.sign_all(&[json!({ "claims": claims })]).remove(0)
    }

    /// A standard proof for `htm` at `path` of `app`'s issuer, at `app`'s clock, plus `extra`
    /// claims (`ath`, `nonce`).
    pub fn proof(&self, app: &TestApp, htm: &str, path: &str, extra: Value) -> String {
        let mut claims = proof_claims(htm, &format!("{}{path}", app.issuer), app.clock_now());
        if let (Some(claims), Some(extra)) = (claims.as_object_mut(), extra.as_object()) {
            claims.extend(extra.clone());
        }
        self.sign(claims)
    }
}

impl TestApp {
    /// POST a form to the token endpoint with a `DPoP` header (and Basic credentials when given).
    pub async fn token_dpop(
        &self,
        basic: Option<(&str, &str)>,
        proof: &str,
        form: &[(&str, &str)],
    ) -> Answer {
        self.post_dpop("/oauth2/token", basic, proof, form).await
    }

    /// POST a form to `path` with a `DPoP` header (and Basic credentials when given).
    pub async fn post_dpop(
        &self,
        path: &str,
        basic: Option<(&str, &str)>,
        proof: &str,
        form: &[(&str, &str)],
    ) -> Answer {
        let mut request = self
            .client
            .post(self.url(path))
            .header("DPoP", proof)
            .form(form);
        if let Some((id, secret)) = basic {
            request = request.header("Authorization", basic_header(id, secret));
        }
        Answer::from(request.send().await.unwrap()).await
    }

    /// GET userinfo with `Authorization: <scheme> <token>` and, when given, a `DPoP` proof.
    pub async fn userinfo_with(&self, scheme: &str, token: &str, proof: Option<&str>) -> Answer {
        let mut request = self
            .client
            .get(self.url("/oauth2/userinfo"))
            .header("Authorization", format!("{scheme} {token}"));
        if let Some(proof) = proof {
            request = request.header("DPoP", proof);
        }
        Answer::from(request.send().await.unwrap()).await
    }
}

impl Answer {
    /// Every `WWW-Authenticate` value of the answer.
    pub fn challenges(&self) -> Vec<String> {
        self.headers
            .get_all("www-authenticate")
            .iter()
            .map(|value| value.to_str().unwrap().to_owned())
            .collect()
    }
}
