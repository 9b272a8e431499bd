//! RFC 6750 on the resource server's side, framework-free: reading `Authorization: Bearer` and
//! building the `WWW-Authenticate` challenge and status code of a refusal. The actix and tower
//! glue both answer through this.

use crate::error::{BearerErrorCode, Error};

/// The token of an `Authorization` header value `Bearer <token>` (scheme case-insensitive,
/// RFC 9110 11.1). `Err` carries the `invalid_request` description.
///
/// ```
/// use tessera_verifier::bearer_token;
/// assert_eq!(bearer_token("Bearer abc.def.ghi"), Ok("abc.def.ghi"));
/// assert_eq!(bearer_token("bearer  abc"), Ok("abc"));
/// assert!(bearer_token("Basic dXNlcjpwYXNz").is_err());
/// assert!(bearer_token("Bearer a b").is_err());
/// ```
pub fn bearer_token(header_value: &str) -> Result<&str, &'static str> {
    let (scheme, rest) = header_value
        .split_once(' ')
        .ok_or("the Authorization header is not a Bearer token")?;
    if !scheme.eq_ignore_ascii_case("Bearer") {
        return Err("the Authorization header is not a Bearer token");
    }
    let token = rest.trim_start_matches(' ').trim_end_matches(' ');
    // RFC 6750 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
    let body = token.trim_end_matches('=');
    let well_formed = !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b));
    if well_formed {
        Ok(token)
    } else {
        Err("the Bearer token is malformed")
    }
}

/// A refusal as RFC 6750 3 answers it: status, `WWW-Authenticate` challenge, JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BearerChallenge {
    realm: String,
    error: Option<BearerErrorCode>,
    description: Option<String>,
    scope: Option<String>,
}

impl BearerChallenge {
    /// The request carried no token: 401 with a challenge and no error code (RFC 6750 3.1).
    pub fn missing_token(realm: &str) -> Self {
        Self {
            realm: realm.to_owned(),
            error: None,
            description: None,
            scope: None,
        }
    }

    /// The request is malformed (several tokens, a broken header): 400 `invalid_request`.
    pub fn invalid_request(realm: &str, description: &str) -> Self {
        Self {
            realm: realm.to_owned(),
            error: Some(BearerErrorCode::InvalidRequest),
            description: Some(description.to_owned()),
            scope: None,
        }
    }

    /// The answer to a failed verification.
    pub fn for_error(realm: &str, error: &Error) -> Self {
        let scope = match error {
            Error::InsufficientScope { required } => Some(required.join(" ")),
            _ => None,
        };
        Self {
            realm: realm.to_owned(),
            error: Some(error.bearer_error_code()),
            description: Some(error.to_string()),
            scope,
        }
    }

    pub fn error(&self) -> Option<BearerErrorCode> {
        self.error
    }

    /// 401 without an error code, otherwise the code's status.
    pub fn status(&self) -> u16 {
        self.error.map_or(401, BearerErrorCode::http_status)
    }

    /// The `WWW-Authenticate` value; none for 503, which is not an authentication failure.
    pub fn www_authenticate(&self) -> Option<String> {
        if self.error == Some(BearerErrorCode::TemporarilyUnavailable) {
            return None;
        }
        let mut value = format!("Bearer realm=\"{}\"", quoted(&self.realm));
        if let Some(error) = self.error {
            value.push_str(&format!(", error=\"{}\"", error.as_str()));
        }
        if let Some(description) = &self.description {
            value.push_str(&format!(", error_description=\"{}\"", quoted(description)));
        }
        if let Some(scope) = &self.scope {
            value.push_str(&format!(", scope=\"{}\"", quoted(scope)));
        }
        Some(value)
    }

    /// `Retry-After` seconds, for 503.
    pub fn retry_after(&self) -> Option<u64> {
        (self.error == Some(BearerErrorCode::TemporarilyUnavailable)).then_some(5)
    }

    /// The JSON body `{"error": ..., "error_description": ...}` (empty object without a code).
    pub fn body(&self) -> String {
        let mut body = serde_json::Map::new();
        if let Some(error) = self.error {
            body.insert("error".into(), error.as_str().into());
        }
        if let Some(description) = &self.description {
            body.insert("error_description".into(), description.as_str().into());
        }
        serde_json::Value::Object(body).to_string()
    }
}

/// Keeps only the characters RFC 6750 3 allows in quoted attribute values
/// (%x20-21 / %x23-5B / %x5D-7E): no quote, no backslash, no control character.
fn quoted(value: &str) -> String {
    value
        .chars()
        .filter(|c| matches!(*c as u32, 0x20..=0x21 | 0x23..=0x5B | 0x5D..=0x7E))
        .collect()
}

/// The DER bytes of the client certificate of the request's mutual-TLS connection, for tokens
/// bound with `cnf.x5t#S256`. The glue looks for it in the request's extensions (and, with
/// actix-web, in its connection data), where the server's TLS setup puts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerCertificate(pub Vec<u8>);

/// What the actix and tower glue share: the verifier, the realm and the scopes every request
/// needs.
#[cfg(any(feature = "actix", feature = "tower"))]
#[derive(Clone)]
pub(crate) struct Guard {
    pub verifier: std::sync::Arc<crate::AccessTokenVerifier>,
    pub realm: std::sync::Arc<str>,
    pub scopes: std::sync::Arc<[String]>,
}

#[cfg(any(feature = "actix", feature = "tower"))]
impl Guard {
    pub fn new(verifier: std::sync::Arc<crate::AccessTokenVerifier>) -> Self {
        Self {
            verifier,
            realm: std::sync::Arc::from("api"),
            scopes: std::sync::Arc::from(Vec::new()),
        }
    }

    /// The one bearer token of the request's `Authorization` headers.
    pub fn token_of<'a>(
        &self,
        mut authorization: impl Iterator<Item = &'a [u8]>,
    ) -> Result<&'a str, BearerChallenge> {
        let Some(first) = authorization.next() else {
            return Err(BearerChallenge::missing_token(&self.realm));
        };
        if authorization.next().is_some() {
            return Err(BearerChallenge::invalid_request(
                &self.realm,
                "the request has more than one Authorization header",
            ));
        }
        let value = std::str::from_utf8(first).map_err(|_| {
            BearerChallenge::invalid_request(&self.realm, "the Authorization header is not text")
        })?;
        bearer_token(value)
            .map_err(|description| BearerChallenge::invalid_request(&self.realm, description))
    }

    /// Verifies `token` (with the connection's certificate, if any) and checks the scopes.
    pub async fn authorize(
        &self,
        token: &str,
        certificate: Option<&[u8]>,
    ) -> Result<crate::AccessToken, BearerChallenge> {
        let proof = certificate.map_or(crate::Proof::None, crate::Proof::ClientCertificate);
        let refused = |error: Error| BearerChallenge::for_error(&self.realm, &error);
        let token = self
            .verifier
            .verify_with_proof(token, proof)
            .await
            .map_err(refused)?;
        let required: Vec<&str> = self.scopes.iter().map(String::as_str).collect();
        token.require_scopes(&required).map_err(refused)?;
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_follow_rfc_6750() {
        let missing = BearerChallenge::missing_token("api");
        assert_eq!(missing.status(), 401);
        assert_eq!(missing.www_authenticate().unwrap(), "Bearer realm=\"api\"");

        let expired = BearerChallenge::for_error("api", &Error::Expired);
        assert_eq!(expired.status(), 401);
        assert_eq!(
            expired.www_authenticate().unwrap(),
            "Bearer realm=\"api\", error=\"invalid_token\", error_description=\"the token has expired\""
        );

        let scope = BearerChallenge::for_error(
            "api",
            &Error::InsufficientScope {
                required: vec!["a".into(), "b".into()],
            },
        );
        assert_eq!(scope.status(), 403);
        assert!(scope
            .www_authenticate()
            .unwrap()
            .ends_with(", scope=\"a b\""));

        let down = BearerChallenge::for_error("api", &Error::KeysUnavailable("x".into()));
        assert_eq!(
            (down.status(), down.www_authenticate(), down.retry_after()),
            (503, None, Some(5))
        );
    }

    #[test]
    fn quoted_values_cannot_break_the_header() {
        let challenge = BearerChallenge::invalid_request("a\"b\\c\r\n", "bad \"value\"");
        assert_eq!(
            challenge.www_authenticate().unwrap(),
            "Bearer realm=\"abc\", error=\"invalid_request\", error_description=\"bad value\""
        );
    }
}
