//! OpenID Connect Discovery and RFC 8414 metadata, and UMA 2.0's configuration: exactly what
//! this server supports with its configuration.

use crate::jose::{AssertionAlg, HmacAlg, SigningAlg};
use crate::oauth::paths;
use crate::oauth::types::{AuthMethod, GrantType};
use crate::settings::Settings;
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
        "sid",
    ]
    .into_iter()
    .collect();
    claims.extend(
        settings
            .users
            .iter()
            .flat_map(|user| user.claims.keys().map(String::as_str)),
    );
    // The TLS methods exist only with the TLS listener; the profile may allow fewer.
    let methods: Vec<&str> = AuthMethod::iter()
        .filter(|method| settings.tls.is_some() || !method.is_tls())
        .filter(|method| settings.allows_auth_method(*method))
        .map(AuthMethod::as_str)
        .collect();
    // Every algorithm a client assertion may use: the asymmetric ones, and HMAC for
    // client_secret_jwt.
    let assertion_algs: Vec<&str> = SigningAlg::iter()
        .map(AssertionAlg::Asymmetric)
        .chain(HmacAlg::iter().map(AssertionAlg::Hmac))
        .filter(|alg| settings.allows_assertion_alg(*alg))
        .map(AssertionAlg::as_str)
        .collect();
    let mut metadata = json!({
        "issuer": settings.issuer,
        "authorization_endpoint": settings.endpoint(paths::AUTHORIZE),
        "pushed_authorization_request_endpoint": settings.endpoint(paths::PAR),
        "require_pushed_authorization_requests": settings.requires_pushed_requests(),
        "token_endpoint": settings.endpoint(paths::TOKEN),
        "userinfo_endpoint": settings.endpoint(paths::USERINFO),
        "jwks_uri": settings.endpoint(paths::JWKS),
        "revocation_endpoint": settings.endpoint(paths::REVOKE),
        "revocation_endpoint_auth_methods_supported": methods,
        "introspection_endpoint": settings.endpoint(paths::INTROSPECT),
        // Resource servers introspect: they must prove who they are.
        "introspection_endpoint_auth_methods_supported": methods
            .iter()
            .filter(|method| **method != AuthMethod::None.as_str())
            .collect::<Vec<_>>(),
        // Token Status List: every list served, for verifiers that prefetch them.
        "status_list_aggregation_endpoint": settings.endpoint(paths::STATUS_LISTS),
        // RFC 8628 4.
        "device_authorization_endpoint": settings.endpoint(paths::DEVICE_AUTHORIZATION),
        // RP-Initiated Logout 1.0 2.1; Back-Channel Logout 1.0 2.1 (`sid` in ID tokens and
        // logout tokens). Front-channel logout is not offered.
        "end_session_endpoint": settings.endpoint(paths::LOGOUT),
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
        "frontchannel_logout_supported": false,
        "frontchannel_logout_session_supported": false,
        "grant_types_supported": GrantType::iter()
            // The provider grant exists only with configured providers.
            .filter(|grant| *grant != GrantType::Provider || !settings.providers.is_empty())
            .filter(|grant| *grant != GrantType::UmaTicket || !settings.uma_resources.is_empty())
            .filter(|grant| settings.allows_grant_type(*grant))
            .map(GrantType::as_str)
            .collect::<Vec<_>>(),
        "token_endpoint_auth_methods_supported": methods,
        "token_endpoint_auth_signing_alg_values_supported": assertion_algs,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "code_challenge_methods_supported": pkce,
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "authorization_response_iss_parameter_supported": true,
        "id_token_signing_alg_values_supported": [settings.tokens.signing_alg.as_str()],
        "claims_supported": claims,
        // RFC 9449 5.1: the algorithms a DPoP proof may use.
        "dpop_signing_alg_values_supported": settings
            .dpop
            .signing_algs
            .iter()
            .map(|alg| alg.as_str())
            .collect::<Vec<_>>(),
        "scopes_supported": scopes,
        "subject_types_supported": ["public"],
    });
    if let Some(tls) = &settings.tls {
        let fields = metadata.as_object_mut().expect("metadata is an object");
        fields.insert(
            "mtls_endpoint_aliases".into(),
            json!({
                "token_endpoint": format!("{}{}", tls.base_url, paths::TOKEN),
                "pushed_authorization_request_endpoint": format!("{}{}", tls.base_url, paths::PAR),
                "revocation_endpoint": format!("{}{}", tls.base_url, paths::REVOKE),
                "introspection_endpoint": format!("{}{}", tls.base_url, paths::INTROSPECT),
            }),
        );
        fields.insert(
            "tls_client_certificate_bound_access_tokens".into(),
            Value::Bool(true),
        );
    }
    metadata
}

/// UMA 2.0's `/.well-known/uma2-configuration`.
pub fn uma_configuration(settings: &Settings) -> Value {
    json!({
        "issuer": settings.issuer,
        "token_endpoint": settings.endpoint(paths::TOKEN),
        "jwks_uri": settings.endpoint(paths::JWKS),
        "permission_endpoint": settings.endpoint(paths::UMA_PERMISSION),
        "grant_types_supported": [GrantType::UmaTicket.as_str()],
        "uma_profiles_supported": [],
    })
}
