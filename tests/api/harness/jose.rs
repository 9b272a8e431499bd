//! JOSE on the other parties' side, by libraries independent of the issuer's: keys of clients and
//! foreign issuers (josekit makes them, jsonwebtoken signs with them), and JWE by Python's
//! jwcrypto.

use super::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use tessera::jose::SigningAlg;

pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A client's (or a foreign issuer's) signing key: private for jsonwebtoken, public as a JWK for
/// the issuer.
pub struct TestKey {
    pub alg: Algorithm,
    pub kid: String,
    pub encoding: EncodingKey,
    pub public_jwk: Value,
}

impl TestKey {
    pub fn new(alg: SigningAlg, kid: &str) -> TestKey {
        use josekit::jwk::alg::{ec::EcKeyPair, ed::EdKeyPair, rsa::RsaKeyPair};
        use josekit::jwk::KeyPair;
        let jwk = tessera::jose::generate_signing_key(alg).unwrap();
        let jwk = josekit::jwk::Jwk::from_bytes(jwk.to_string()).unwrap();
        let (pem, jws_alg) = match alg {
            SigningAlg::ES256 => (
                EcKeyPair::from_jwk(&jwk).unwrap().to_pem_private_key(),
                Algorithm::ES256,
            ),
            SigningAlg::ES384 => (
                EcKeyPair::from_jwk(&jwk).unwrap().to_pem_private_key(),
                Algorithm::ES384,
            ),
            SigningAlg::EdDSA => (
                EdKeyPair::from_jwk(&jwk).unwrap().to_pem_private_key(),
                Algorithm::EdDSA,
            ),
            SigningAlg::RS256 => (
                RsaKeyPair::from_jwk(&jwk).unwrap().to_pem_private_key(),
                Algorithm::RS256,
            ),
            SigningAlg::PS256 => (
                RsaKeyPair::from_jwk(&jwk).unwrap().to_pem_private_key(),
                Algorithm::PS256,
            ),
        };
        let encoding = match alg {
            SigningAlg::ES256 | SigningAlg::ES384 => EncodingKey::from_ec_pem(&pem).unwrap(),
            SigningAlg::EdDSA => EncodingKey::from_ed_pem(&pem).unwrap(),
            SigningAlg::RS256 | SigningAlg::PS256 => EncodingKey::from_rsa_pem(&pem).unwrap(),
        };
        let mut public: Value =
            serde_json::from_str(&jwk.to_public_key().unwrap().to_string()).unwrap();
        public["kid"] = json!(kid);
        public.as_object_mut().unwrap().remove("use");
        TestKey {
            alg: jws_alg,
            kid: kid.to_owned(),
            encoding,
            public_jwk: public,
        }
    }

    pub fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(self.alg);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).unwrap()
    }
}

/// Standard client assertion claims (RFC 7523) for `client` at `now`.
pub fn assertion_claims(client: &str, now: i64) -> Value {
    json!({
        "iss": client,
        "sub": client,
        "aud": format!("{ISSUER}/oauth2/token"),
        "iat": now,
        "exp": now + 60,
        "jti": tessera::oauth::issuer::random_id(),
    })
}

/// A JWK set of the public keys of `keys`, as a client registers it or an issuer publishes it.
pub fn jwk_set(keys: &[&TestKey]) -> Value {
    json!({ "keys": keys.iter().map(|key| key.public_jwk.clone()).collect::<Vec<_>>() })
}

/// Runs a Python `script` with `args`, `stdin` on its standard input.
pub(super) fn python(script: &str, args: &[&std::ffi::OsStr], stdin: &str) -> Output {
    let mut child = Command::new("python3")
        .args(["-c", script])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs (.ci/run installs jwcrypto)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Encrypts `jws` to the public JWK `jwk` (the issuer's encryption key) with jwcrypto.
pub fn jwcrypto_encrypt(jwk: &Value, alg: &str, enc: &str, jws: &str) -> String {
    let script = r#"
import json, sys
from jwcrypto import jwe, jwk
key = jwk.JWK.from_json(sys.argv[1])
token = jwe.JWE(sys.stdin.read().encode(), json.dumps({"alg": sys.argv[2], "enc": sys.argv[3], "cty": "JWT", "kid": key.get("kid")}))
token.add_recipient(key)
print(token.serialize(compact=True))
"#;
    let jwk = jwk.to_string();
    let output = python(script, &[jwk.as_ref(), alg.as_ref(), enc.as_ref()], jws);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// Decrypts `token` with jwcrypto and the private JWK in `key_file`: the protected header and
/// the payload, or jwcrypto's complaint when it cannot.
pub fn jwcrypto_decrypt(key_file: &Path, token: &str) -> Result<(Value, String), String> {
    let script = r#"
import json, sys
from jwcrypto import jwe, jwk
key = jwk.JWK.from_json(open(sys.argv[1]).read())
token = jwe.JWE()
token.deserialize(sys.stdin.read().strip(), key=key)
print(json.dumps({"header": json.loads(token.objects["protected"]), "payload": token.payload.decode()}))
"#;
    let output = python(script, &[key_file.as_os_str()], token);
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    let answer: Value = serde_json::from_slice(&output.stdout).unwrap();
    Ok((
        answer["header"].clone(),
        answer["payload"].as_str().unwrap().to_owned(),
    ))
}

/// Reads a status list token with none of Tessera's code: jwcrypto verifies its signature with
/// the JWK Set and checks `typ`, Python's zlib inflates the list, and the bit of `idx` is read
/// as the draft says (bit `idx % 8` of byte `idx / 8`, least significant first).
pub fn python_status_bit(jwks: &Value, token: &str, idx: u64) -> bool {
    let script = r#"
import base64, json, sys, zlib
from jwcrypto import jwk, jws
keys = jwk.JWKSet.from_json(sys.argv[1])
token = jws.JWS()
token.deserialize(sys.stdin.read().strip())
header = token.jose_header
assert header["typ"] == "statuslist+jwt", header
token.verify(keys.get_key(header["kid"]))
claims = json.loads(token.payload)
lst = claims["status_list"]["lst"]
bits = zlib.decompress(base64.urlsafe_b64decode(lst + "=" * (-len(lst) % 4)))
idx = int(sys.argv[2])
print((bits[idx // 8] >> (idx % 8)) & 1)
"#;
    let jwks = jwks.to_string();
    let idx = idx.to_string();
    let output = python(script, &[jwks.as_ref(), idx.as_ref()], token);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    match String::from_utf8_lossy(&output.stdout).trim() {
        "1" => true,
        "0" => false,
        other => panic!("not a bit: {other}"),
    }
}
