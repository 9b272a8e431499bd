//! `GET /oauth2/revocations?since=CURSOR`: the signed revocation feed.

use crate::oauth::endpoints::revocation_feed::feed;
use crate::oauth::params::Params;
use crate::oauth::OAuthError;
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

pub async fn serve(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, OAuthError> {
    let query = Params::from_form(req.query_string().as_bytes())?;
    let issuer = state.issuer();
    let document = feed(&issuer, &state.revocations, query.get("since")).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type("application/jwt")
        .body(document))
}
