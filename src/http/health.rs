//! Liveness and readiness.

use crate::state::AppState;
use actix_web::{web, HttpResponse};
use serde_json::json;

/// The process answers.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// The issuer can issue: a signing key for the configured algorithm is active now.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let alg = state.settings().tokens.signing_alg;
    if state.keys().signer(alg, state.now()).is_some() {
        HttpResponse::Ok().json(json!({ "status": "ready" }))
    } else {
        HttpResponse::ServiceUnavailable().json(json!({
            "status": "not ready",
            "reason": format!("no {alg} signing key is active"),
        }))
    }
}
