//! What a resource server does with the issuer's tokens: verify them offline against the JWKS
//! fetched over HTTP (jsonwebtoken, RustCrypto backend), or ask the issuer (introspection,
//! userinfo, the Token Status List).

use super::*;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

/// The resource server the standard configuration lets introspect.
pub const RESOURCE_SERVER: (&str, &str) = ("resource-server", OTHER_SECRET);

impl TestApp {
    pub async fn jwks(&self) -> Value {
        let answer = self.get("/.well-known/jwks.json").await;
        assert_eq!(answer.status, 200);
        answer.json
    }

    /// The published key named `kid`, as jsonwebtoken reads it; fails the test if there is none.
    pub async fn decoding_key(&self, kid: &str) -> DecodingKey {
        let jwk = find_key(&self.jwks().await, kid)
            .unwrap_or_else(|| panic!("kid {kid} not in the JWKS"));
        let jwk: Jwk = serde_json::from_value(jwk).unwrap();
        DecodingKey::from_jwk(&jwk).unwrap()
    }

    /// Verifies `token` as a resource server would: the key named by its `kid` from the JWKS
    /// fetched over HTTP, the algorithm pinned to `alg`, issuer and audience checked.
    pub async fn verify(
        &self,
        token: &str,
        alg: Algorithm,
        audience: &str,
    ) -> (jsonwebtoken::Header, Value) {
        let header = jsonwebtoken::decode_header(token).unwrap();
        let key = self
            .decoding_key(header.kid.as_deref().expect("a kid"))
            .await;
        let mut validation = Validation::new(alg);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 0;
        let data = jsonwebtoken::decode::<Value>(token, &key, &validation)
            .unwrap_or_else(|err| panic!("the token does not verify: {err}"));
        (data.header, data.claims)
    }

    /// The claims of a successful token response's access token (ES256), verified as a resource
    /// server would; fails the test on any other answer.
    pub async fn token_claims(&self, answer: &Answer, audience: &str) -> Value {
        assert_eq!(answer.status, 200, "{}", answer.json);
        let token = answer.str("access_token");
        self.verify(token, Algorithm::ES256, audience).await.1
    }

    /// Verifies an ID token for `client_id` against the JWKS with jsonwebtoken.
    pub async fn verify_id_token(&self, token: &str, client_id: &str) -> Value {
        let header = jsonwebtoken::decode_header(token).unwrap();
        assert_eq!(header.typ.as_deref(), Some("JWT"));
        let key = self.decoding_key(header.kid.as_deref().unwrap()).await;
        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[client_id]);
        jsonwebtoken::decode::<Value>(token, &key, &validation)
            .expect("the ID token verifies")
            .claims
    }

    /// RFC 7662 introspection of `token` by `RESOURCE_SERVER`.
    pub async fn introspect(&self, token: &str) -> Answer {
        self.post_form(
            "/oauth2/introspect",
            Some(RESOURCE_SERVER),
            &[("token", token)],
        )
        .await
    }

    /// OIDC userinfo with `token` as the bearer.
    pub async fn userinfo(&self, token: &str) -> Answer {
        Answer::from(
            self.client
                .get(self.url("/oauth2/userinfo"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// The status list token at `uri` (fetched as a resource server does, with
    /// `Accept: application/statuslist+jwt`), its signature verified against the JWKS by an
    /// independent library, and its list inflated.
    pub async fn status_list(&self, uri: &str) -> StatusListView {
        let path = uri
            .strip_prefix(&self.issuer)
            .expect("a status list of this issuer");
        let response = self
            .client
            .get(self.url(path))
            .header("accept", "application/statuslist+jwt")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{uri}");
        assert_eq!(
            response.headers()["content-type"],
            "application/statuslist+jwt"
        );
        let cache_control = response.headers()["cache-control"]
            .to_str()
            .unwrap()
            .to_owned();
        let token = response.text().await.unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.typ.as_deref(), Some("statuslist+jwt"));
        let key = self.decoding_key(header.kid.as_deref().unwrap()).await;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.sub = Some(uri.to_owned());
        validation.validate_aud = false;
        let claims = jsonwebtoken::decode::<Value>(&token, &key, &validation)
            .expect("the status list token verifies against the JWKS")
            .claims;
        assert_eq!(claims["status_list"]["bits"], 1);
        let compressed = base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            claims["status_list"]["lst"].as_str().unwrap(),
        )
        .unwrap();
        let mut bits = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::ZlibDecoder::new(compressed.as_slice()),
            &mut bits,
        )
        .unwrap();
        StatusListView {
            claims,
            bits,
            cache_control,
        }
    }

    /// Two fresh tokens of `reports` that point into the same status list: one to revoke, one
    /// to keep.
    pub async fn two_tokens_in_one_list(&self) -> (String, String) {
        let (first, second) = (self.new_token().await, self.new_token().await);
        assert_eq!(
            status_of(&first).0,
            status_of(&second).0,
            "one list for both"
        );
        (first, second)
    }

    /// Whether the status list says `token` (one of ours) is revoked.
    pub async fn status_revoked(&self, token: &str) -> bool {
        let (uri, idx) = status_of(token);
        self.status_list(&uri).await.bit(idx)
    }
}

/// A fetched status list: its token's claims and its bitstring.
pub struct StatusListView {
    pub claims: Value,
    pub bits: Vec<u8>,
    pub cache_control: String,
}

impl StatusListView {
    /// Bit `idx`, least significant first in each byte (the draft's order).
    pub fn bit(&self, idx: u64) -> bool {
        self.bits[(idx / 8) as usize] >> (idx % 8) & 1 == 1
    }
}

/// The `uri` and `idx` of an access token's `status_list` claim.
pub fn status_of(token: &str) -> (String, u64) {
    let claims = unverified_claims(token);
    let list = &claims["status"]["status_list"];
    (
        list["uri"].as_str().expect("a status list uri").to_owned(),
        list["idx"].as_u64().expect("a status list index"),
    )
}

pub fn find_key(jwks: &Value, kid: &str) -> Option<Value> {
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|key| key["kid"] == kid)
        .cloned()
}

pub fn signing_kids(jwks: &Value) -> Vec<String> {
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|key| key["use"] == "sig")
        .map(|key| key["kid"].as_str().unwrap().to_owned())
        .collect()
}

/// The payload of a compact JWS, read without checking anything: for looking at what a token
/// says, never for trusting it.
pub fn unverified_claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).expect("a compact JWS");
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}
