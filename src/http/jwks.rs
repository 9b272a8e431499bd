//! `GET /.well-known/jwks.json`: every published key, cacheable for less than the publish-ahead
//! delay so verifiers always hold a key before it signs.

use crate::state::AppState;
use actix_web::http::header;
use actix_web::{web, HttpResponse};

pub async fn serve(state: web::Data<AppState>) -> HttpResponse {
    let settings = state.settings();
    let set = state.keys().jwks(
        settings.tokens.signing_alg,
        state.now(),
        settings.token_retention,
    );
    HttpResponse::Ok()
        .insert_header((
            header::CACHE_CONTROL,
            format!("public, max-age={}", settings.keys.jwks_max_age.as_secs()),
        ))
        .content_type("application/jwk-set+json")
        .json(set)
}
