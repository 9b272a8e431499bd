//! The claims of an RFC 9068 access token, read in one pass into typed fields (no intermediate
//! JSON tree for the registered claims), noting the first claim of the wrong type so the error
//! can name it.

use crate::clock::UnixTime;
use crate::Error;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::fmt;

/// RFC 7800 / RFC 8705 / RFC 9449 confirmation (`cnf`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Confirmation {
    /// RFC 8705 3.1: base64url SHA-256 thumbprint of the client certificate.
    #[serde(rename = "x5t#S256", default, skip_serializing_if = "Option::is_none")]
    pub x5t_s256: Option<String>,
    /// RFC 9449 6.1: JWK SHA-256 thumbprint of the DPoP key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jkt: Option<String>,
    /// Other confirmation members (`jwk`, `kid`, ...), which no check here understands.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// One UMA 2.0 permission granted by a requesting party token (`authorization.permissions`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permission {
    pub resource_id: String,
    #[serde(default)]
    pub resource_scopes: Vec<String>,
}

/// The Token Status List reference of a token (`status.status_list`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusReference {
    pub idx: u64,
    pub uri: String,
}

/// Claims as read from the payload; checked by the profile afterwards.
#[derive(Default)]
pub(crate) struct RawClaims {
    pub iss: Option<String>,
    pub sub: Option<String>,
    pub aud: Vec<String>,
    pub exp: Option<UnixTime>,
    pub nbf: Option<UnixTime>,
    pub iat: Option<UnixTime>,
    pub jti: Option<String>,
    pub client_id: Option<String>,
    pub scope: Option<String>,
    pub auth_time: Option<UnixTime>,
    pub act: Option<Map<String, Value>>,
    pub cnf: Option<Confirmation>,
    pub permissions: Option<Vec<Permission>>,
    /// `status` present: its `status_list` member, or `None` when it has none.
    pub status: Option<Option<StatusReference>>,
    pub other: Map<String, Value>,
    /// The first claim that had the wrong type.
    pub invalid: Option<&'static str>,
}

impl RawClaims {
    pub fn parse(payload: &[u8]) -> Result<Self, Error> {
        let claims: RawClaims = serde_json::from_slice(payload)
            .map_err(|_| Error::Malformed("the payload is not a JSON claims set"))?;
        match claims.invalid {
            Some(name) => Err(Error::InvalidClaim(name)),
            None => Ok(claims),
        }
    }
}

/// A JSON NumericDate: seconds, integer or not (RFC 7519 2).
pub(crate) fn numeric_date(value: &Value) -> Option<UnixTime> {
    match value {
        Value::Number(number) => number.as_i64().or_else(|| {
            number
                .as_f64()
                .filter(|f| f.is_finite())
                .map(|f| f.floor() as i64)
        }),
        _ => None,
    }
}

fn string(value: Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text),
        _ => None,
    }
}

fn audience(value: Value) -> Option<Vec<String>> {
    match value {
        Value::String(one) => Some(vec![one]),
        Value::Array(many) => many.into_iter().map(string).collect(),
        _ => None,
    }
}

fn status(value: Value) -> Option<Option<StatusReference>> {
    let Value::Object(mut members) = value else {
        return None;
    };
    match members.remove("status_list") {
        None => Some(None),
        Some(reference) => serde_json::from_value(reference).ok().map(Some),
    }
}

fn permissions(value: Value) -> Option<Option<Vec<Permission>>> {
    let Value::Object(mut members) = value else {
        return None;
    };
    match members.remove("permissions") {
        None => Some(None),
        Some(list) => serde_json::from_value(list).ok().map(Some),
    }
}

impl<'de> Deserialize<'de> for RawClaims {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ClaimsVisitor)
    }
}

struct ClaimsVisitor;

impl<'de> Visitor<'de> for ClaimsVisitor {
    type Value = RawClaims;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JWT claims set")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawClaims, A::Error> {
        let mut claims = RawClaims::default();
        while let Some(name) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let value: Value = map.next_value()?;
            // Each arm: the typed value, or the claim's name as the first invalid one.
            let ok = match name.as_ref() {
                "iss" => string(value).map(|v| claims.iss = Some(v)).ok_or("iss"),
                "sub" => string(value).map(|v| claims.sub = Some(v)).ok_or("sub"),
                "aud" => audience(value).map(|v| claims.aud = v).ok_or("aud"),
                "exp" => numeric_date(&value)
                    .map(|v| claims.exp = Some(v))
                    .ok_or("exp"),
                "nbf" => numeric_date(&value)
                    .map(|v| claims.nbf = Some(v))
                    .ok_or("nbf"),
                "iat" => numeric_date(&value)
                    .map(|v| claims.iat = Some(v))
                    .ok_or("iat"),
                "auth_time" => numeric_date(&value)
                    .map(|v| claims.auth_time = Some(v))
                    .ok_or("auth_time"),
                "jti" => string(value).map(|v| claims.jti = Some(v)).ok_or("jti"),
                "client_id" => string(value)
                    .map(|v| claims.client_id = Some(v))
                    .ok_or("client_id"),
                "scope" => string(value).map(|v| claims.scope = Some(v)).ok_or("scope"),
                "act" => match value {
                    Value::Object(act) => {
                        claims.act = Some(act);
                        Ok(())
                    }
                    _ => Err("act"),
                },
                "cnf" => serde_json::from_value(value)
                    .ok()
                    .map(|v| claims.cnf = Some(v))
                    .ok_or("cnf"),
                "status" => status(value)
                    .map(|v| claims.status = Some(v))
                    .ok_or("status"),
                "authorization" => permissions(value)
                    .map(|v| claims.permissions = v)
                    .ok_or("authorization"),
                _ => {
                    claims.other.insert(name.into_owned(), value);
                    Ok(())
                }
            };
            if let Err(name) = ok {
                claims.invalid.get_or_insert(name);
            }
        }
        Ok(claims)
    }
}

/// A verified access token's claims.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessToken {
    pub issuer: String,
    pub subject: String,
    pub client_id: String,
    /// Every `aud` value (one of them is the verifier's audience).
    pub audience: Vec<String>,
    pub expires_at: UnixTime,
    pub issued_at: UnixTime,
    pub not_before: Option<UnixTime>,
    pub jwt_id: String,
    /// The space-separated `scope` claim as a set.
    pub scopes: BTreeSet<String>,
    /// When the user authenticated (user grants).
    pub auth_time: Option<UnixTime>,
    /// RFC 8693 delegation: the acting party (`act`), nesting earlier actors.
    pub actor: Option<Map<String, Value>>,
    /// Sender constraint (`cnf`), already checked against the presented proof.
    pub confirmation: Option<Confirmation>,
    /// UMA 2.0 `authorization.permissions`.
    pub permissions: Vec<Permission>,
    /// The Token Status List reference, already checked when revocation checking is on.
    pub status: Option<StatusReference>,
    /// Every other claim (user claims such as `email`, `idp`, ...).
    pub claims: Map<String, Value>,
    /// The header's `kid`.
    pub key_id: Option<String>,
}

impl AccessToken {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.contains(scope)
    }

    /// `Ok` when the token holds every scope in `required`, else
    /// [`Error::InsufficientScope`] naming all of `required` (for the RFC 6750 `scope`
    /// challenge attribute).
    ///
    /// ```
    /// # use tessera_verifier::{AccessToken, Error};
    /// # fn check(token: &AccessToken) -> Result<(), Error> {
    /// token.require_scopes(&["reports:read"])?;
    /// # Ok(()) }
    /// ```
    pub fn require_scopes(&self, required: &[&str]) -> Result<(), Error> {
        if required.iter().all(|scope| self.scopes.contains(*scope)) {
            Ok(())
        } else {
            Err(Error::InsufficientScope {
                required: required.iter().map(|scope| (*scope).to_owned()).collect(),
            })
        }
    }

    /// A user claim other than the registered ones.
    pub fn claim(&self, name: &str) -> Option<&Value> {
        self.claims.get(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_of_the_wrong_type_are_named() {
        let err = RawClaims::parse(br#"{"iss": 7, "sub": "x"}"#)
            .err()
            .unwrap();
        assert_eq!(err, Error::InvalidClaim("iss"));
        let err = RawClaims::parse(br#"{"aud": ["a", 1]}"#).err().unwrap();
        assert_eq!(err, Error::InvalidClaim("aud"));
        let err = RawClaims::parse(br#"{"status": {"status_list": {"idx": -1, "uri": "u"}}}"#)
            .err()
            .unwrap();
        assert_eq!(err, Error::InvalidClaim("status"));
        assert!(RawClaims::parse(b"[1]").is_err());
    }

    #[test]
    fn registered_claims_are_typed_and_others_kept() {
        let claims = RawClaims::parse(
            br#"{"aud": "one", "exp": 10.7, "email": "a@b", "cnf": {"x5t#S256": "t"},
                 "authorization": {"permissions": [{"resource_id": "r1", "resource_scopes": ["view"]}]}}"#,
        )
        .unwrap();
        assert_eq!(claims.aud, ["one"]);
        assert_eq!(claims.exp, Some(10));
        assert_eq!(claims.other["email"], "a@b");
        assert_eq!(claims.cnf.unwrap().x5t_s256.as_deref(), Some("t"));
        assert_eq!(claims.permissions.unwrap()[0].resource_scopes, ["view"]);
    }
}
