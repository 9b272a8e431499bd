//! OpenID Connect Discovery and RFC 8414 metadata: exactly what this server supports.

use super::{
    AUTHORIZE_PATH, INTROSPECT_PATH, JWKS_PATH, REVOCATIONS_PATH, REVOKE_PATH, TOKEN_PATH,
    USERINFO_PATH,
};
use crate::oauth::types::{AuthMethod, GrantType};
use crate::settings::Settings;
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use strum::IntoEnumIterator;

/// The metadata document.
pub fn metadata(settings: &Settings) -> Value {
    let scopes: BTreeSet<&str> = settings
        .clients
        .iter()
        .flat_map(|client| client.scopes.iter().map(|scope| scope.as_str()))
        .collect();
    let pkce: &[&str] = if settings
        .clients
        .iter()
        .any(|client| client.allow_plain_pkce)
    {
        &["S256", "plain"]
    } else {
        &["S256"]
    };
    let mut claims: BTreeSet<&str> = [
        "iss",
        "sub",
        "aud",
        "exp",
        "iat",
        "auth_time",
        "nonce",
        "at_hash",
        "azp",
    ]
    .into_iter()
    .collect();
    claims.extend(
        settings
            .users
            .iter()
            .flat_map(|user| user.claims.keys().map(String::as_str)),
    );
    // The TLS methods exist only with the TLS listener.
    let methods: Vec<&str> = AuthMethod::iter()
        .filter(|method| settings.tls.is_some() || !method.is_tls())
        .map(AuthMethod::as_str)
        .collect();
    let mut metadata = json!({
        "issuer": settings.issuer,
        "authorization_endpoint": settings.endpoint(AUTHORIZE_PATH),
        "token_endpoint": settings.endpoint(TOKEN_PATH),
        "userinfo_endpoint": settings.endpoint(USERINFO_PATH),
        "jwks_uri": settings.endpoint(JWKS_PATH),
        "revocation_endpoint": settings.endpoint(REVOKE_PATH),
        "revocation_endpoint_auth_methods_supported": methods,
        "introspection_endpoint": settings.endpoint(INTROSPECT_PATH),
        // Resource servers introspect: they must prove who they are.
        "introspection_endpoint_auth_methods_supported": methods
            .iter()
            .filter(|method| **method != AuthMethod::None.as_str())
            .collect::<Vec<_>>(),
        // Not a registered metadata name: where offline verifiers poll for revocations.
        "revocation_feed_endpoint": settings.endpoint(REVOCATIONS_PATH),
        "grant_types_supported": GrantType::iter()
            // The provider grant exists only with configured providers.
            .filter(|grant| *grant != GrantType::Provider || !settings.providers.is_empty())
            .filter(|grant| *grant != GrantType::UmaTicket || !settings.uma_resources.is_empty())
            .map(GrantType::as_str)
            .collect::<Vec<_>>(),
        "token_endpoint_auth_methods_supported": methods,
        "token_endpoint_auth_signing_alg_values_supported": [
            "ES256", "ES384", "RS256", "PS256", "EdDSA", "HS256", "HS384", "HS512",
        ],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "code_challenge_methods_supported": pkce,
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "authorization_response_iss_parameter_supported": true,
        "id_token_signing_alg_values_supported": [settings.tokens.signing_alg.as_str()],
        "claims_supported": claims,
        "scopes_supported": scopes,
        "subject_types_supported": ["public"],
    });
    if let Some(tls) = &settings.tls {
        let fields = metadata.as_object_mut().expect("metadata is an object");
        fields.insert(
            "mtls_endpoint_aliases".into(),
            json!({
                "token_endpoint": format!("{}{TOKEN_PATH}", tls.base_url),
                "revocation_endpoint": format!("{}{REVOKE_PATH}", tls.base_url),
                "introspection_endpoint": format!("{}{INTROSPECT_PATH}", tls.base_url),
            }),
        );
        fields.insert(
            "tls_client_certificate_bound_access_tokens".into(),
            Value::Bool(true),
        );
    }
    metadata
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
