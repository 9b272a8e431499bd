//! `GET/POST /oauth2/userinfo` (OIDC Core 5.3) with a Bearer (RFC 6750) or DPoP (RFC 9449 7)
//! access token: from the header, or for POST from a form body too.

use super::extract::{authorization, possession, read_body};
use super::no_store;
use crate::oauth::bearer::{AccessTokenReader, PresentedToken};
use crate::oauth::endpoints::userinfo::userinfo;
use crate::oauth::issuer::Issuer;
use crate::oauth::params::Params;
use crate::oauth::OAuthError;
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};

async fn answer(
    req: &HttpRequest,
    state: &AppState,
    issuer: &Issuer,
    presented: Option<PresentedToken>,
) -> Result<HttpResponse, OAuthError> {
    let reader = AccessTokenReader::new(issuer, &state.revocations);
    let claims = userinfo(&reader, &issuer.settings.users, presented, possession(req)).await?;
    Ok(no_store(HttpResponse::Ok()).json(claims))
}

pub async fn get(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, OAuthError> {
    let issuer = state.issuer();
    let presented =
        AccessTokenReader::new(&issuer, &state.revocations).presented(authorization(&req), None)?;
    answer(&req, &state, &issuer, presented).await
}

/// POST may carry the token in a form body instead (RFC 6750 2.2), never both.
pub async fn post(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, OAuthError> {
    let issuer = state.issuer();
    let reader = AccessTokenReader::new(&issuer, &state.revocations);
    // A bad Authorization header is refused before the body is read.
    reader.presented(authorization(&req), None)?;
    let body = read_body(&req, payload, state.settings().server.max_body_bytes).await?;
    let form = if body.is_empty() {
        Params::default()
    } else {
        Params::from_form(&body)?
    };
    let presented = reader.presented(authorization(&req), Some(&form))?;
    answer(&req, &state, &issuer, presented).await
}
