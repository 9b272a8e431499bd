//! Per-request observation: a request id (kept from `X-Request-Id` when sane, else made), the
//! latency histogram by route, error counts by OAuth code, and a log line. Never a body, a
//! header value other than the request id, a secret or a token.

use crate::oauth::ErrorCode;
use crate::state::AppState;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, Error};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::LazyLock;
use std::time::Instant;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

static PROCESS_TAG: LazyLock<u32> = LazyLock::new(|| {
    use aws_lc_rs::rand::SecureRandom;
    let mut bytes = [0u8; 4];
    let _ = aws_lc_rs::rand::SystemRandom::new().fill(&mut bytes);
    u32::from_be_bytes(bytes)
});
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn request_id(req: &ServiceRequest) -> String {
    let incoming = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .filter(|id| {
            !id.is_empty()
                && id.len() <= 64
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        });
    match incoming {
        Some(id) => id.to_owned(),
        None => made_id(NEXT_ID.fetch_add(1, Ordering::Relaxed)),
    }
}

/// `{process tag:08x}-{sequence:x}`, written by hand: `format!` cost as much as the rest of
/// the observation.
fn made_id(sequence: u64) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digits = (sequence.checked_ilog2().unwrap_or(0) / 4 + 1) as usize;
    // Exactly as long as the id: its bytes become the header's without a copy, and a spare
    // capacity would cost the header an allocation of its own.
    let mut id = String::with_capacity(8 + 1 + digits);
    let tag = *PROCESS_TAG;
    id.extend((0..8).map(|i| HEX[(tag >> (28 - 4 * i)) as usize & 0xf] as char));
    id.push('-');
    id.extend(
        (0..digits)
            .rev()
            .map(|i| HEX[(sequence >> (4 * i)) as usize & 0xf] as char),
    );
    id
}

/// The route a response answered, when no resource pattern names it (a compatible route of
/// the configuration): its configured path, so the label set stays the configuration's.
pub struct RouteLabel(pub String);

pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let id = request_id(&req);
    let method = req.method().clone();
    let state = req.app_data::<web::Data<AppState>>().cloned();

    let mut res = next.call(req).await?;
    // The resource's pattern is its name (`http::named`): borrowed, where `match_pattern`
    // would copy it. A compatible route is served by the default service, which names it.
    let extensions = res.response().extensions();
    let route = res
        .request()
        .match_name()
        .or_else(|| extensions.get::<RouteLabel>().map(|label| label.0.as_str()))
        .unwrap_or("unmatched");

    let elapsed = started.elapsed();
    let status = res.status();
    let code = res.response().extensions().get::<ErrorCode>().copied();
    if let Some(state) = &state {
        state.metrics.record_request(route, elapsed);
        if let Some(code) = code {
            state.metrics.record_error(code);
        }
    }
    let micros = elapsed.as_micros() as u64;
    if status.is_server_error() {
        tracing::error!(request_id = %id, %method, route, status = status.as_u16(), error = code.map(ErrorCode::as_str), micros, "request failed");
    } else if let Some(code) = code {
        tracing::info!(request_id = %id, %method, route, status = status.as_u16(), error = code.as_str(), micros, "request refused");
    } else {
        tracing::debug!(request_id = %id, %method, route, status = status.as_u16(), micros, "request served");
    }
    drop(extensions);
    // The id's own bytes become the header's: no copy.
    if let Ok(value) = HeaderValue::try_from(id) {
        res.headers_mut().insert(REQUEST_ID, value);
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_ids_are_the_tag_and_the_sequence_in_hex() {
        for sequence in [0, 1, 0xf, 0x10, 0xabc, u64::MAX] {
            assert_eq!(
                made_id(sequence),
                format!("{:08x}-{sequence:x}", *PROCESS_TAG)
            );
        }
    }
}
