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
use serde_json::{json, Value};

/// What the `token` parameter is, for the resource server `proof` authenticates.
pub async fn introspect(
    authenticator: &ClientAuthenticator<'_>,
    issuer: &Issuer,
    revocations: &Revocations,
    params: &Params,
    proof: ClientProof<'_>,
) -> Result<Value, OAuthError> {
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
    let inactive = json!({ "active": false });
    match issuer.read::<AccessTokenClaims>(revocations, token).await? {
        Reading::Valid(claims) => {
            // RFC 9449 6.2: a DPoP-bound token says so, beside its `cnf`.
            let token_type = match claims.binding() {
                Binding::Dpop(_) => "DPoP",
                _ => "Bearer",
            };
            let mut answer = serde_json::to_value(&claims)
                .map_err(|_| OAuthError::server_error("the claims could not be encoded"))?;
            let fields = answer.as_object_mut().expect("claims are an object");
            fields.insert("active".into(), Value::Bool(true));
            fields.insert("token_type".into(), Value::from(token_type));
            return Ok(answer);
        }
        Reading::Revoked(_) => return Ok(inactive),
        Reading::Invalid => {}
    }
    match issuer.read::<RefreshClaims>(revocations, token).await? {
        Reading::Valid(claims)
            if !revocations
                .is_used(ReplayKind::Refresh, &claims.jti, issuer.now)
                .await? =>
        {
            Ok(json!({
                "active": true,
                "token_type": "refresh_token",
                "iss": claims.iss,
                "sub": claims.sub,
                "client_id": claims.client_id,
                "scope": claims.scope,
                "exp": claims.exp,
                "iat": claims.iat,
                "jti": claims.jti,
            }))
        }
        _ => Ok(inactive),
    }
}
