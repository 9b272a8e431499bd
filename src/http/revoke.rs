//! `POST /oauth2/revoke` (RFC 7009): an authenticated client takes back a token issued to it.
//! A token that is garbage, expired, foreign or already revoked answers 200 as the RFC says; the
//! denylist keeps a revoked `jti` until the token's own `exp`, never longer. Revoking a refresh
//! token revokes its family.

use crate::oauth::grants::family_key;
use crate::oauth::tokens::{read_refresh_token, verify_access_token};
use crate::oauth::{ErrorCode, OAuthError};
use crate::registry::CompatRoute;
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

pub async fn revoke(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, OAuthError> {
    serve(req, payload, state, None).await
}

/// The endpoint's work; `route` when it is mounted as a compatible route.
pub(super) async fn serve(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    route: Option<&CompatRoute>,
) -> Result<HttpResponse, OAuthError> {
    let (params, client) = super::authenticated_params(&req, payload, &state, route).await?;
    let token = params.require("token")?;
    // `token_type_hint` only speeds up a search; a wrong or unknown hint changes nothing.
    if let Some(claims) = verify_access_token(&state, token) {
        if claims.client_id != client.id {
            return Err(OAuthError::new(
                ErrorCode::UnauthorizedClient,
                format!(
                    "the token has not been issued for the given client id '{}'",
                    client.id
                ),
            ));
        }
        state
            .revocations
            .revoke(&claims.jti, claims.exp, state.now())
            .await
            .inspect_err(|err| state.metrics.record_revocation_refusal(err))?;
        state.metrics.record_revocation();
    } else if let Some(claims) = read_refresh_token(&state, token) {
        if claims.client_id != client.id {
            return Err(OAuthError::new(
                ErrorCode::UnauthorizedClient,
                format!(
                    "the token has not been issued for the given client id '{}'",
                    client.id
                ),
            ));
        }
        // A refresh token takes its whole family with it, for as long as any member could live.
        let now = state.now();
        let family_end = now + state.settings.tokens.refresh_token_ttl.as_secs() as i64;
        state
            .revocations
            .revoke_unlisted(&family_key(&claims.fid), family_end, now)
            .await
            .inspect_err(|err| state.metrics.record_revocation_refusal(err))?;
        state.metrics.record_revocation();
    }
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .finish())
}
