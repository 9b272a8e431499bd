//! `GET /oauth2/authorize` and the login form it renders (`POST /oauth2/authorize`): server-side
//! HTML that works without JavaScript, a stateless CSRF check (a cookie, the form field and the
//! sealed request must agree), a strict Content-Security-Policy, no framing. Errors go back to
//! the client's redirect URI, except when the client or the redirect URI itself is bad: then a
//! page says so and nothing redirects.

use crate::oauth::authorize::{
    client_and_redirect, seal, unseal, validate, AuthorizationRequest, PageError, RedirectError,
    Session, REQUEST_TYP, SESSION_TYP,
};
use crate::oauth::credentials::Verdict;
use crate::oauth::issuer::random_id;
use crate::oauth::request::{read_body, Params};
use crate::oauth::OAuthError;
use crate::state::AppState;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use aws_lc_rs::digest;
use base64::Engine;
use std::sync::LazyLock;

const SESSION_COOKIE: &str = "tessera_session";
const CSRF_COOKIE: &str = "tessera_csrf";
const COOKIE_PATH: &str = "/oauth2";

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:26rem;margin:4rem auto;padding:0 1rem;color:#1b1b1b}\
h1{font-size:1.4rem}label{display:block;margin-top:1rem}input{width:100%;padding:.5rem;margin-top:.25rem;box-sizing:border-box}\
button{margin-top:1.25rem;padding:.6rem 1.2rem}.error{color:#a00000;background:#fdecec;padding:.6rem;border-radius:4px}\
ul{padding-left:1.2rem}";

/// The CSP source for the one inline style block: its hash.
static STYLE_HASH: LazyLock<String> = LazyLock::new(|| {
    base64::engine::general_purpose::STANDARD
        .encode(digest::digest(&digest::SHA256, STYLE.as_bytes()))
});

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An HTML page with the security headers every page of the flow carries. `form_target` is the
/// origin a form on it may end up redirecting to.
fn page(status: StatusCode, title: &str, body: &str, form_target: Option<&str>) -> HttpResponse {
    let form_action = match form_target {
        Some(origin) => format!("'self' {origin}"),
        None => "'self'".to_owned(),
    };
    let csp = format!(
        "default-src 'none'; style-src 'sha256-{}'; form-action {form_action}; frame-ancestors 'none'; base-uri 'none'",
        *STYLE_HASH
    );
    HttpResponse::build(status)
        .insert_header((header::CONTENT_SECURITY_POLICY, csp))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .content_type("text/html; charset=utf-8")
        .body(format!(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{}</title><style>{STYLE}</style></head><body>{body}</body></html>",
            escape(title)
        ))
}

fn error_page(error: &PageError) -> HttpResponse {
    page(
        StatusCode::BAD_REQUEST,
        error.title,
        &format!(
            "<h1>{}</h1><p class=\"error\" role=\"alert\">{}</p>\
             <p>Go back to the application and start again.</p>",
            escape(error.title),
            escape(&error.description)
        ),
        None,
    )
}

fn origin_of(uri: &str) -> Option<String> {
    url::Url::parse(uri)
        .ok()
        .map(|url| url.origin().ascii_serialization())
}

fn redirect(status: StatusCode, location: &str) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

fn cookie<'c>(
    state: &AppState,
    name: &'c str,
    value: String,
    max_age: i64,
    same_site: SameSite,
) -> Cookie<'c> {
    Cookie::build(name, value)
        .path(COOKIE_PATH)
        .http_only(true)
        .secure(state.settings.issuer.starts_with("https://"))
        .same_site(same_site)
        .max_age(actix_web::cookie::time::Duration::seconds(max_age))
        .finish()
}

fn login_page(
    state: &AppState,
    request: &AuthorizationRequest,
    error: Option<&str>,
    status: StatusCode,
) -> Result<HttpResponse, OAuthError> {
    let sealed = seal(state, REQUEST_TYP, request)?;
    let error = error
        .map(|message| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(message)))
        .unwrap_or_default();
    let body = format!(
        "<h1>Sign in</h1><p>to continue to <strong>{client}</strong></p>{error}\
         <form method=\"post\" action=\"/oauth2/authorize\">\
         <input type=\"hidden\" name=\"request\" value=\"{sealed}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <input type=\"hidden\" name=\"action\" value=\"login\">\
         <label for=\"username\">Username</label>\
         <input id=\"username\" name=\"username\" autocomplete=\"username\" required autofocus>\
         <label for=\"password\">Password</label>\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
         <button type=\"submit\" id=\"sign-in\">Sign in</button></form>",
        client = escape(&request.client_id),
        sealed = escape(&sealed),
        csrf = escape(&request.csrf),
    );
    let mut response = page(
        status,
        "Sign in",
        &body,
        origin_of(&request.redirect_uri).as_deref(),
    );
    response
        .add_cookie(&cookie(
            state,
            CSRF_COOKIE,
            request.csrf.clone(),
            600,
            SameSite::Strict,
        ))
        .map_err(|_| OAuthError::server_error("a cookie could not be set"))?;
    Ok(response)
}

fn consent_page(
    state: &AppState,
    request: &AuthorizationRequest,
) -> Result<HttpResponse, OAuthError> {
    let sealed = seal(state, REQUEST_TYP, request)?;
    let scopes: String = request
        .scopes()
        .iter()
        .map(|scope| format!("<li>{}</li>", escape(scope.as_str())))
        .collect();
    let body = format!(
        "<h1>Allow access?</h1><p><strong>{client}</strong> asks to act for <strong>{user}</strong> with:</p>\
         <ul>{scopes}</ul>\
         <form method=\"post\" action=\"/oauth2/authorize\">\
         <input type=\"hidden\" name=\"request\" value=\"{sealed}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <button type=\"submit\" name=\"action\" value=\"allow\" id=\"allow\">Allow</button> \
         <button type=\"submit\" name=\"action\" value=\"deny\" id=\"deny\">Deny</button></form>",
        client = escape(&request.client_id),
        user = escape(request.sub.as_deref().unwrap_or_default()),
        sealed = escape(&sealed),
        csrf = escape(&request.csrf),
    );
    let mut response = page(
        StatusCode::OK,
        "Allow access",
        &body,
        origin_of(&request.redirect_uri).as_deref(),
    );
    response
        .add_cookie(&cookie(
            state,
            CSRF_COOKIE,
            request.csrf.clone(),
            600,
            SameSite::Strict,
        ))
        .map_err(|_| OAuthError::server_error("a cookie could not be set"))?;
    Ok(response)
}

fn error_redirect(
    state: &AppState,
    request: &AuthorizationRequest,
    error: &str,
    description: &str,
    status: StatusCode,
) -> HttpResponse {
    let error = RedirectError {
        error: match error {
            "login_required" => "login_required",
            "consent_required" => "consent_required",
            "access_denied" => "access_denied",
            _ => "server_error",
        },
        description: description.to_owned(),
    };
    redirect(
        status,
        &request.error_redirect(&state.settings.issuer, &error),
    )
}

/// The user `sub` is signed in (since `auth_time`): consent if the client wants it, else the
/// code goes back to the client.
fn signed_in(
    state: &AppState,
    mut request: AuthorizationRequest,
    sub: &str,
    auth_time: i64,
    status: StatusCode,
) -> Result<HttpResponse, OAuthError> {
    let client = state
        .clients
        .get(&request.client_id)
        .ok_or_else(|| OAuthError::invalid_request("the client doesn't exist"))?;
    if client.consent {
        if request.prompt.none {
            return Ok(error_redirect(
                state,
                &request,
                "consent_required",
                "the client needs the user's consent",
                status,
            ));
        }
        request.sub = Some(sub.to_owned());
        request.auth_time = Some(auth_time);
        request.exp = state.now() + crate::oauth::authorize::FORM_TTL_SECS;
        request.form_id = random_id();
        return consent_page(state, &request);
    }
    let code = request.code(state, sub, auth_time)?;
    Ok(redirect(
        status,
        &request.redirect_with(&state.settings.issuer, &[("code", &code)]),
    ))
}

fn session_of(state: &AppState, req: &HttpRequest) -> Option<Session> {
    let cookie = req.cookie(SESSION_COOKIE)?;
    let session: Session = unseal(state, SESSION_TYP, cookie.value())?;
    (session.exp > state.now() && state.users.get(&session.sub).is_some()).then_some(session)
}

pub async fn authorize(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, OAuthError> {
    let params = match Params::from_form(req.query_string().as_bytes()) {
        Ok(params) => params,
        Err(err) => {
            return Ok(error_page(&PageError {
                title: "Invalid request",
                description: err.description.into_owned(),
            }))
        }
    };
    let (client, redirect_uri) = match client_and_redirect(&state, &params) {
        Ok(found) => found,
        Err(error) => return Ok(error_page(&error)),
    };
    let now = state.now();
    let csrf = req
        .cookie(CSRF_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|value| value.len() == 22)
        .unwrap_or_else(random_id);
    let request = match validate(&client, redirect_uri.clone(), &params, csrf, now) {
        Ok(request) => request,
        Err(error) => {
            let bare = AuthorizationRequest {
                client_id: client.id.clone(),
                redirect_uri,
                scope: String::new(),
                state: params.get("state").map(str::to_owned),
                nonce: None,
                code_challenge: None,
                code_challenge_method: None,
                prompt: Default::default(),
                max_age: None,
                csrf: String::new(),
                form_id: String::new(),
                sub: None,
                auth_time: None,
                exp: now,
            };
            return Ok(redirect(
                StatusCode::FOUND,
                &bare.error_redirect(&state.settings.issuer, &error),
            ));
        }
    };
    let session = session_of(&state, &req).filter(|session| {
        !request.prompt.login && request.accepts_auth_time(session.auth_time, now)
    });
    match session {
        Some(session) => signed_in(
            &state,
            request,
            &session.sub,
            session.auth_time,
            StatusCode::FOUND,
        ),
        None if request.prompt.none => Ok(error_redirect(
            &state,
            &request,
            "login_required",
            "the user is not signed in",
            StatusCode::FOUND,
        )),
        None => login_page(&state, &request, None, StatusCode::OK),
    }
}

/// The login and consent forms post here.
pub async fn authorize_form(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, OAuthError> {
    let body = read_body(&req, payload, state.settings.server.max_body_bytes).await?;
    let params = Params::from_form(&body)?;
    let expired = || {
        error_page(&PageError {
            title: "Sign-in expired",
            description:
                "This sign-in form has expired or is not valid. Start again from the application."
                    .into(),
        })
    };
    let now = state.now();
    let Some(request) = params
        .get("request")
        .and_then(|sealed| unseal::<AuthorizationRequest>(&state, REQUEST_TYP, sealed))
        .filter(|request| request.exp > now)
    else {
        return Ok(expired());
    };
    let csrf_cookie = req.cookie(CSRF_COOKIE).map(|c| c.value().to_owned());
    let form_csrf = params.get("csrf").unwrap_or_default();
    let same = |a: &str, b: &str| {
        a.len() == b.len() && bool::from(subtle::ConstantTimeEq::ct_eq(a.as_bytes(), b.as_bytes()))
    };
    if !(csrf_cookie.as_deref().is_some_and(|c| same(c, form_csrf))
        && same(form_csrf, &request.csrf))
    {
        let mut response = error_page(&PageError {
            title: "Form not accepted",
            description: "The form could not be verified. Start again from the application.".into(),
        });
        *response.status_mut() = StatusCode::FORBIDDEN;
        return Ok(response);
    }
    match params.get("action") {
        Some("login") => {
            let (Some(username), Some(password)) = (params.get("username"), params.get("password"))
            else {
                return login_page(
                    &state,
                    &request,
                    Some("Enter your username and password."),
                    StatusCode::OK,
                );
            };
            let user = state.users.get(username);
            let peer = req.peer_addr().map(|addr| addr.ip());
            let (verdict, _) = state
                .user_credentials
                .verify(
                    &format!("user:{username}"),
                    user.map(|u| &u.password_hash),
                    password,
                    peer,
                    now,
                )
                .await
                .map_err(|_| OAuthError::server_error("the server is shutting down"))?;
            match (verdict, user) {
                (Verdict::Valid, Some(user)) => {
                    let session = Session {
                        sub: user.username.clone(),
                        auth_time: now,
                        exp: now + state.settings.authorize.session_ttl.as_secs() as i64,
                    };
                    let sealed = seal(&state, SESSION_TYP, &session)?;
                    let mut response =
                        signed_in(&state, request, &user.username, now, StatusCode::SEE_OTHER)?;
                    let max_age = state.settings.authorize.session_ttl.as_secs() as i64;
                    response
                        .add_cookie(&cookie(
                            &state,
                            SESSION_COOKIE,
                            sealed,
                            max_age,
                            SameSite::Lax,
                        ))
                        .map_err(|_| OAuthError::server_error("a cookie could not be set"))?;
                    Ok(response)
                }
                (Verdict::Throttled { retry_after }, _) => login_page(
                    &state,
                    &request,
                    Some(&format!(
                        "Too many failed sign-in attempts. Try again in {retry_after} seconds."
                    )),
                    StatusCode::TOO_MANY_REQUESTS,
                ),
                _ => login_page(
                    &state,
                    &request,
                    Some("The username or password is incorrect."),
                    StatusCode::UNAUTHORIZED,
                ),
            }
        }
        Some(action @ ("allow" | "deny")) => {
            let (Some(sub), Some(auth_time)) = (request.sub.clone(), request.auth_time) else {
                return Ok(expired());
            };
            // A consent form answers once.
            if !state
                .revocations
                .first_use("consent", &request.csrf_form_id(), request.exp, now)
                .await?
            {
                return Ok(expired());
            }
            if action == "deny" {
                return Ok(error_redirect(
                    &state,
                    &request,
                    "access_denied",
                    "the user denied access",
                    StatusCode::SEE_OTHER,
                ));
            }
            let code = request.code(&state, &sub, auth_time)?;
            Ok(redirect(
                StatusCode::SEE_OTHER,
                &request.redirect_with(&state.settings.issuer, &[("code", &code)]),
            ))
        }
        _ => Ok(expired()),
    }
}
