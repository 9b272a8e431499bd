//! Compatible routes: a core endpoint (token, revoke, introspect) mounted at another path, as an
//! older token API's clients call it. A route may take parameters from the query string too, may
//! read `scope` = `*` as every scope the client may have, and may wrap every answer, errors
//! included, in a `{"meta": {...}, "data": {...}}` envelope.

use crate::oauth::OAuthError;
use crate::registry::{CompatRoute, Envelope};
use crate::state::AppState;
use actix_web::body::to_bytes;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde_json::{json, Value};

/// A response as the route's envelope wants it.
pub async fn wrap(
    state: &AppState,
    route: &CompatRoute,
    result: Result<HttpResponse, OAuthError>,
) -> HttpResponse {
    let response = result.unwrap_or_else(|err| err.error_response());
    match route.envelope {
        Envelope::Plain => response,
        Envelope::MetaData => meta_data(state, route, response).await,
    }
}

/// `{"meta": {date, function, responseCode, responseID, success}, "data": ...}`.
async fn meta_data(state: &AppState, route: &CompatRoute, response: HttpResponse) -> HttpResponse {
    let status = response.status();
    let mut headers = response.headers().clone();
    let code = response
        .extensions()
        .get::<crate::oauth::ErrorCode>()
        .copied();
    let body = to_bytes(response.into_body()).await.unwrap_or_default();
    let data: Value = if body.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(&body).unwrap_or(Value::Null)
    };
    let date = chrono::DateTime::from_timestamp(state.now(), 0)
        .map(|time| time.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default();
    let enveloped = json!({
        "meta": {
            "date": date,
            "function": route.function,
            "responseCode": status.as_u16(),
            "responseID": response_id(),
            "success": status.is_success(),
        },
        "data": data,
    });
    let mut wrapped = HttpResponse::build(status).json(enveloped);
    headers.remove(header::CONTENT_LENGTH);
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    for (name, value) in headers.iter() {
        wrapped.headers_mut().insert(name.clone(), value.clone());
    }
    if let Some(code) = code {
        wrapped.extensions_mut().insert(code);
    }
    wrapped
}

/// A random UUID (version 4) to identify a response.
fn response_id() -> String {
    use aws_lc_rs::rand::SecureRandom;
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::SystemRandom::new()
        .fill(&mut bytes)
        .expect("the system random source works");
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}
