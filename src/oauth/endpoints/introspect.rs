//! RFC 7662 introspection, for resource servers registered with `introspect = true`. An active
//! token answers its claims; anything else answers only `{"active": false}`. Revocation is
//! checked, and an unreachable shared store fails closed.

use crate::oauth::client_auth::{Binding, ClientAuthenticator, ClientProof};
use crate::oauth::error::{status, ErrorCode, OAuthError};
use crate::oauth::issuer::{Issuer, RefreshClaims};
use crate::oauth::params::Params;
use crate::oauth::token_kind::ReplayKind;
use crate::oauth::tokens::{AccessTokenClaims, Reading};
use crate::revocation::Revocations;
use serde::{Serialize, Serializer};
use serde_json::{json, Value};

/// An introspection answer.
#[derive(Debug)]
pub enum Introspection {
    /// An active access token: `active`, its `token_type`, then its claims, written straight
    /// from them (a `Value` tree of the claims cost an allocation per member).
    Access {
        token_type: &'static str,
        claims: Box<AccessTokenClaims>,
    },
    /// Anything else, as it is.
    Other(Value),
}

impl Introspection {
    /// The answer for an active access token: its own `active` and `token_type`, whatever
    /// claims of those names it carries.
    fn access(token_type: &'static str, mut claims: AccessTokenClaims) -> Self {
        claims.other.remove("active");
        claims.other.remove("token_type");
        Introspection::Access {
            token_type,
            claims: Box::new(claims),
        }
    }
}

impl Serialize for Introspection {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Active<'a> {
            active: bool,
            token_type: &'a str,
            #[serde(flatten)]
            claims: &'a AccessTokenClaims,
        }
        match self {
            Introspection::Access { token_type, claims } => Active {
                active: true,
                token_type,
                claims,
            }
            .serialize(serializer),
            Introspection::Other(value) => value.serialize(serializer),
        }
    }
}

/// What the `token` parameter is, for the resource server `proof` authenticates.
pub async fn introspect(
    authenticator: &ClientAuthenticator<'_>,
    issuer: &Issuer,
    revocations: &Revocations,
    params: &Params,
    proof: ClientProof<'_>,
) -> Result<Introspection, OAuthError> {
    let client = authenticator.authenticate(params, proof).await?;
    if !client.may_introspect {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            format!(
                "the client {} is not allowed to introspect tokens",
                client.id
            ),
        )
        .with_status(status::UNAUTHORIZED));
    }
    let token = params.require("token")?;
    let inactive = || Introspection::Other(json!({ "active": false }));
    match issuer.read::<AccessTokenClaims>(revocations, token).await? {
        Reading::Valid(claims) => {
            // RFC 9449 6.2: a DPoP-bound token says so, beside its `cnf`.
            let token_type = match claims.binding() {
                Binding::Dpop(_) => "DPoP",
                _ => "Bearer",
            };
            return Ok(Introspection::access(token_type, claims));
        }
        Reading::Revoked(_) => return Ok(inactive()),
        Reading::Invalid => {}
    }
    match issuer.read::<RefreshClaims>(revocations, token).await? {
        Reading::Valid(claims)
            if !revocations
                .is_used(ReplayKind::Refresh, &claims.jti, issuer.now)
                .await? =>
        {
            Ok(Introspection::Other(json!({
                "active": true,
                "token_type": "refresh_token",
                "iss": claims.iss,
                "sub": claims.sub,
                "client_id": claims.client_id,
                "scope": claims.scope,
                "exp": claims.exp,
                "iat": claims.iat,
                "jti": claims.jti,
            })))
        }
        _ => Ok(inactive()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_active_token_answers_what_its_claims_as_a_value_answered() {
        let claims: AccessTokenClaims = serde_json::from_value(json!({
            "iss": "https://issuer.example", "sub": "alice", "aud": ["https://a", "https://b"],
            "exp": 1900, "iat": 1000, "nbf": 1000, "jti": "id-1", "client_id": "app",
            "scope": "openid reports:read",
            "status": {"status_list": {"idx": 41, "uri": "https://issuer.example/l/1"}},
            "cnf": {"jkt": "thumb"}, "email": "a@example.com",
            "active": false, "token_type": "forged",
        }))
        .unwrap();
        // What the answer was when built as a Value: the claims, `active` and `token_type` ours.
        let mut expected = serde_json::to_value(&claims).unwrap();
        let fields = expected.as_object_mut().unwrap();
        fields.insert("active".into(), Value::Bool(true));
        fields.insert("token_type".into(), Value::from("DPoP"));
        let written = serde_json::to_vec(&Introspection::access("DPoP", claims)).unwrap();
        assert_eq!(serde_json::from_slice::<Value>(&written).unwrap(), expected);
        // Each member once: no `active` or `token_type` of the claims beside ours.
        let text = String::from_utf8(written).unwrap();
        assert_eq!(text.matches("\"active\"").count(), 1, "{text}");
        assert_eq!(text.matches("\"token_type\"").count(), 1, "{text}");
        assert!(
            text.starts_with(r#"{"active":true,"token_type":"DPoP","#),
            "{text}"
        );
    }
}
