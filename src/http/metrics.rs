//! `GET /metrics` in the Prometheus text format.

use crate::state::AppState;
use actix_web::{web, HttpResponse};

pub async fn serve(state: web::Data<AppState>) -> HttpResponse {
    if let Some(entries) = state.revocations.live_entries() {
        state.metrics.set_denylist_entries(entries);
    }
    if let Some(health) = state.revocations.redis_health() {
        state.metrics.set_redis(&health);
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render())
}
