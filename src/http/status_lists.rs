//! `GET /oauth2/status-lists/{id}`: a status list token (`application/statuslist+jwt`),
//! cacheable for its `ttl`; `GET /oauth2/status-lists`: the aggregation of every list served.

use crate::oauth::endpoints::status_list::aggregation;
use crate::oauth::error::status;
use crate::oauth::OAuthError;
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

const STATUS_LIST_JWT: &str = "application/statuslist+jwt";

/// Whether an `Accept` header (absent: anything) takes a status list token.
fn accepts_jwt(req: &HttpRequest) -> bool {
    let Some(accept) = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
    else {
        return true;
    };
    accept.split(',').any(|range| {
        let media = range.split(';').next().unwrap_or_default().trim();
        let refused = range
            .split(';')
            .skip(1)
            .any(|param| param.trim().replace(' ', "") == "q=0");
        !refused
            && (media.eq_ignore_ascii_case(STATUS_LIST_JWT)
                || media == "*/*"
                || media.eq_ignore_ascii_case("application/*"))
    })
}

pub async fn list(
    req: HttpRequest,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, OAuthError> {
    if !accepts_jwt(&req) {
        return Err(OAuthError::invalid_request(
            "status lists are served as application/statuslist+jwt",
        )
        .with_status(status::NOT_ACCEPTABLE));
    }
    let issuer = state.issuer();
    let token = state
        .status_lists
        .token(&issuer, &state.revocations, &id)
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((
            header::CACHE_CONTROL,
            format!(
                "public, max-age={}",
                issuer.settings.status_lists.ttl.as_secs()
            ),
        ))
        .content_type(STATUS_LIST_JWT)
        .body(token))
}

pub async fn aggregate(state: web::Data<AppState>) -> Result<HttpResponse, OAuthError> {
    let issuer = state.issuer();
    let lists = aggregation(&issuer, &state.revocations).await?;
    Ok(HttpResponse::Ok()
        .insert_header((
            header::CACHE_CONTROL,
            format!(
                "public, max-age={}",
                issuer.settings.status_lists.ttl.as_secs()
            ),
        ))
        .json(json!({ "status_lists": lists })))
}
