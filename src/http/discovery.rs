//! OpenID Connect Discovery and RFC 8414 metadata: exactly what this server supports.

use super::{INTROSPECT_PATH, JWKS_PATH, REVOCATIONS_PATH, REVOKE_PATH, TOKEN_PATH};
use crate::oauth::types::{AuthMethod, GrantType};
use crate::settings::Settings;
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// The metadata document.
pub fn metadata(settings: &Settings) -> Value {
    let scopes: BTreeSet<&str> = settings
        .clients
        .iter()
        .flat_map(|client| client.scopes.iter().map(|scope| scope.as_str()))
        .collect();
    json!({
        "issuer": settings.issuer,
        "token_endpoint": settings.endpoint(TOKEN_PATH),
        "jwks_uri": settings.endpoint(JWKS_PATH),
        "revocation_endpoint": settings.endpoint(REVOKE_PATH),
        "revocation_endpoint_auth_methods_supported": AuthMethod::ALL.map(AuthMethod::as_str),
        "introspection_endpoint": settings.endpoint(INTROSPECT_PATH),
        "introspection_endpoint_auth_methods_supported": AuthMethod::ALL.map(AuthMethod::as_str),
        // Not a registered metadata name: where offline verifiers poll for revocations.
        "revocation_feed_endpoint": settings.endpoint(REVOCATIONS_PATH),
        "grant_types_supported": GrantType::ALL.map(GrantType::as_str),
        "token_endpoint_auth_methods_supported": AuthMethod::ALL.map(AuthMethod::as_str),
        // No authorization endpoint yet: no response type is supported.
        "response_types_supported": [],
        "scopes_supported": scopes,
        "subject_types_supported": ["public"],
    })
}

pub async fn discovery(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((
            header::CACHE_CONTROL,
            format!(
                "public, max-age={}",
                state.settings.keys.jwks_max_age.as_secs()
            ),
        ))
        .json(metadata(&state.settings))
}
