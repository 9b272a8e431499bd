//! `GET/POST /oauth2/userinfo` (OIDC Core 5.3) with a bearer token (RFC 6750): from the header,
//! or for POST from a form body too.

use super::extract::{authorization, read_body};
use super::no_store;
use crate::oauth::bearer::presented_token;
use crate::oauth::endpoints::userinfo::userinfo;
use crate::oauth::params::Params;
use crate::oauth::OAuthError;
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};

async fn answer(state: &AppState, token: Option<String>) -> Result<HttpResponse, OAuthError> {
    let issuer = state.issuer();
    let claims = userinfo(
        &issuer,
        &state.revocations,
        &issuer.settings.users,
        token.as_deref(),
    )
    .await?;
    Ok(no_store(HttpResponse::Ok()).json(claims))
}

pub async fn get(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, OAuthError> {
    let token = presented_token(authorization(&req), None)?;
    answer(&state, token).await
}

/// POST may carry the token in a form body instead (RFC 6750 2.2), never both.
pub async fn post(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, OAuthError> {
    // A bad Authorization header is refused before the body is read.
    presented_token(authorization(&req), None)?;
    let body = read_body(&req, payload, state.settings().server.max_body_bytes).await?;
    let form = if body.is_empty() {
        Params::default()
    } else {
        Params::from_form(&body)?
    };
    let token = presented_token(authorization(&req), Some(&form))?;
    answer(&state, token).await
}
