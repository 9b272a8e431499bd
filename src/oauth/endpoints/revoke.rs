//! RFC 7009 revocation: an authenticated client takes back a token issued to it. A token that
//! is garbage, expired, foreign or already revoked answers success as the RFC says; the denylist
//! keeps a revoked `jti` until the token's own `exp`, never longer. Revoking a refresh token
//! revokes its family. `token_type_hint` only speeds up a search, so a wrong or unknown hint
//! changes nothing.

use crate::metrics::Metrics;
use crate::oauth::client_auth::{ClientAuthenticator, ClientProof};
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::issuer::{Issuer, RefreshClaims};
use crate::oauth::params::Params;
use crate::oauth::tokens::AccessTokenClaims;
use crate::revocation::Revocations;

fn not_yours(client_id: &str) -> OAuthError {
    OAuthError::new(
        ErrorCode::UnauthorizedClient,
        format!("the token has not been issued for the given client id '{client_id}'"),
    )
}

/// Revokes the `token` parameter for the client `proof` authenticates.
pub async fn revoke(
    authenticator: &ClientAuthenticator<'_>,
    issuer: &Issuer,
    revocations: &Revocations,
    metrics: &Metrics,
    params: &Params,
    proof: ClientProof<'_>,
) -> Result<(), OAuthError> {
    let client = authenticator.authenticate(params, proof).await?;
    let token = params.require("token")?;
    let revoked = if let Some(claims) = issuer.open::<AccessTokenClaims>(token) {
        if claims.client_id != client.id {
            return Err(not_yours(&client.id));
        }
        issuer.revoke_access_token(revocations, &claims).await
    } else if let Some(claims) = issuer.open::<RefreshClaims>(token) {
        if claims.client_id != client.id {
            return Err(not_yours(&client.id));
        }
        issuer.revoke_refresh_token(revocations, &claims).await
    } else {
        return Ok(());
    };
    revoked.inspect_err(|err| metrics.record_revocation_refusal(err))?;
    metrics.record_revocation();
    Ok(())
}
