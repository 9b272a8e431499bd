//! Liveness and readiness.

use crate::state::AppState;
use actix_web::{web, HttpResponse};
use serde_json::json;

/// The process answers.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// The issuer can issue: a signing key for the configured algorithm is active now. A configured
/// Redis that does not answer is reported (`degraded`) but keeps the replica ready: all
/// replicas share it, and failing them all at once would turn its outage into a full one.
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
        return HttpResponse::Ok().json(json!({
            "status": "degraded",
            "redis": "unreachable",
            "reason": format!("Redis at {address} cannot be reached"),
        }));
    }
    HttpResponse::Ok().json(json!({ "status": "ready" }))
}
