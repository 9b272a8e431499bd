//! The discovery documents (OpenID Connect Discovery, RFC 8414), cacheable like the JWKS.

use crate::oauth::endpoints::discovery::metadata;
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{web, HttpResponse};

pub async fn serve(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((
            header::CACHE_CONTROL,
            format!(
                "public, max-age={}",
                state.settings().keys.jwks_max_age.as_secs()
            ),
        ))
        .json(metadata(&state.settings()))
}
