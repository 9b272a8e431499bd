//! Liveness and readiness.

use crate::state::AppState;
use actix_web::{web, HttpResponse};
use serde_json::json;

/// The process answers.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// The issuer can do its work: a signing key for the configured algorithm is active now, and
/// the configured Redis answers.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let alg = state.settings().tokens.signing_alg;
    let not_ready = |reason: String| {
        HttpResponse::ServiceUnavailable().json(json!({
            "status": "not ready",
            "reason": reason,
        }))
    };
    if state.keys().signer(alg, state.now()).is_none() {
        return not_ready(format!("no {alg} signing key is active"));
    }
    if !state.revocations.reachable().await {
        let address = state
            .revocations
            .redis_health()
            .map(|health| health.address)
            .unwrap_or_default();
        return not_ready(format!("Redis at {address} cannot be reached"));
    }
    HttpResponse::Ok().json(json!({ "status": "ready" }))
}
