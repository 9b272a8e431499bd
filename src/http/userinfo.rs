//! `GET/POST /oauth2/userinfo` (OIDC Core 5.3) with a bearer token (RFC 6750): the user's claims
//! that the token's scopes release. Errors are RFC 6750's, with `WWW-Authenticate: Bearer`.

use crate::oauth::issuer::scoped_claims;
use crate::oauth::request::{read_body, Params};
use crate::oauth::tokens::verify_access_token;
use crate::oauth::types::ScopeSet;
use crate::oauth::OAuthError;
use crate::state::AppState;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

const REALM: &str = "tessera";

fn bearer_error(
    status: StatusCode,
    error: &str,
    description: &str,
    scope: Option<&str>,
) -> HttpResponse {
    let mut challenge =
        format!("Bearer realm=\"{REALM}\", error=\"{error}\", error_description=\"{description}\"");
    if let Some(scope) = scope {
        challenge.push_str(&format!(", scope=\"{scope}\""));
    }
    HttpResponse::build(status)
        .insert_header((header::WWW_AUTHENTICATE, challenge))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({ "error": error, "error_description": description }))
}

/// The bearer token of the Authorization header, if the header is a Bearer one.
fn header_token(req: &HttpRequest) -> Result<Option<String>, Box<HttpResponse>> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().unwrap_or_default();
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(Some(token.trim().to_owned()))
        }
        _ => Err(Box::new(bearer_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the Authorization header must be a Bearer token",
            None,
        ))),
    }
}

async fn answer(state: &AppState, token: Option<String>) -> Result<HttpResponse, OAuthError> {
    let Some(token) = token else {
        // No credentials at all: a bare challenge (RFC 6750 3.1).
        return Ok(HttpResponse::Unauthorized()
            .insert_header((
                header::WWW_AUTHENTICATE,
                format!("Bearer realm=\"{REALM}\""),
            ))
            .finish());
    };
    let invalid = || {
        bearer_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "the access token is not valid, expired or revoked",
            None,
        )
    };
    let Some(claims) = verify_access_token(state, &token) else {
        return Ok(invalid());
    };
    if state
        .revocations
        .is_revoked(&claims.jti, state.now())
        .await?
    {
        return Ok(invalid());
    }
    // A provider grant's subject: its profile is who it is and who vouched for it.
    if let Some(idp) = claims.other.get("idp").and_then(Value::as_str) {
        return Ok(HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(json!({ "sub": claims.sub, "idp": idp })));
    }
    // Only tokens of a user grant (they carry auth_time) speak for a user.
    let user_token = claims.other.contains_key("auth_time");
    let Some(user) = state.users.get(&claims.sub).filter(|_| user_token) else {
        return Ok(invalid());
    };
    let scopes = ScopeSet::parse(claims.scope.as_deref().unwrap_or_default()).unwrap_or_default();
    if !scopes.iter().any(|scope| scope.as_str() == "openid") {
        return Ok(bearer_error(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            "the access token was not granted the openid scope",
            Some("openid"),
        ));
    }
    let mut body = scoped_claims(user, &scopes);
    body.insert("sub".into(), Value::from(user.username.as_str()));
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body))
}

pub async fn userinfo(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, OAuthError> {
    match header_token(&req) {
        Ok(token) => answer(&state, token).await,
        Err(response) => Ok(*response),
    }
}

/// POST may carry the token in a form body instead (RFC 6750 2.2), never both.
pub async fn userinfo_post(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, OAuthError> {
    let from_header = match header_token(&req) {
        Ok(token) => token,
        Err(response) => return Ok(*response),
    };
    let body = read_body(&req, payload, state.settings.server.max_body_bytes).await?;
    let form = if body.is_empty() {
        Params::default()
    } else {
        Params::from_form(&body)?
    };
    let token = match (from_header, form.get("access_token")) {
        (Some(_), Some(_)) => {
            return Ok(bearer_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "the access token was sent more than one way",
                None,
            ))
        }
        (Some(token), None) => Some(token),
        (None, Some(token)) => Some(token.to_owned()),
        (None, None) => None,
    };
    answer(&state, token).await
}
