//! `GET /oauth2/authorize` and the forms it renders (`POST /oauth2/authorize`): server-side HTML
//! that works without JavaScript, a strict Content-Security-Policy, no framing, the CSRF and
//! session cookies. What to show or where to redirect is the protocol core's decision.

use super::extract::{cookie, read_body};
use crate::oauth::authorize::PageError;
use crate::oauth::endpoints::authorize::{Answer, Form, NewSession};
use crate::oauth::params::Params;
use crate::oauth::{paths, OAuthError};
use crate::state::AppState;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use aws_lc_rs::digest;
use base64::Engine;
use std::sync::LazyLock;

const SESSION_COOKIE: &str = "tessera_session";
const CSRF_COOKIE: &str = "tessera_csrf";
/// How long the CSRF cookie of a rendered form lives (as long as the form).
const CSRF_MAX_AGE: i64 = crate::oauth::authorize::FORM_TTL_SECS;

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

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
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

fn error_page(error: &PageError, code: u16) -> HttpResponse {
    page(
        status(code),
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

fn cookie_of<'c>(
    state: &AppState,
    name: &'c str,
    value: String,
    max_age: i64,
    same_site: SameSite,
) -> Cookie<'c> {
    Cookie::build(name, value)
        .path(paths::COOKIE_SCOPE)
        .http_only(true)
        .secure(state.settings().issuer.starts_with("https://"))
        .same_site(same_site)
        .max_age(actix_web::cookie::time::Duration::seconds(max_age))
        .finish()
}

/// A page with a form on it: the page, plus the CSRF cookie the form must come back with.
fn form_page(
    state: &AppState,
    form: &Form,
    code: u16,
    title: &str,
    body: &str,
) -> Result<HttpResponse, OAuthError> {
    let mut response = page(
        status(code),
        title,
        body,
        origin_of(&form.request.redirect_uri).as_deref(),
    );
    response
        .add_cookie(&cookie_of(
            state,
            CSRF_COOKIE,
            form.request.csrf.clone(),
            CSRF_MAX_AGE,
            SameSite::Strict,
        ))
        .map_err(|_| OAuthError::server_error("a cookie could not be set"))?;
    Ok(response)
}

fn login_page(
    state: &AppState,
    form: &Form,
    message: Option<&str>,
    code: u16,
) -> Result<HttpResponse, OAuthError> {
    let message = message
        .map(|message| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(message)))
        .unwrap_or_default();
    let body = format!(
        "<h1>Sign in</h1><p>to continue to <strong>{client}</strong></p>{message}\
         <form method=\"post\" action=\"{action}\">\
         <input type=\"hidden\" name=\"request\" value=\"{sealed}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <input type=\"hidden\" name=\"action\" value=\"login\">\
         <label for=\"username\">Username</label>\
         <input id=\"username\" name=\"username\" autocomplete=\"username\" required autofocus>\
         <label for=\"password\">Password</label>\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
         <button type=\"submit\" id=\"sign-in\">Sign in</button></form>",
        client = escape(&form.request.client_id),
        action = paths::AUTHORIZE,
        sealed = escape(&form.sealed),
        csrf = escape(&form.request.csrf),
    );
    form_page(state, form, code, "Sign in", &body)
}

fn consent_page(state: &AppState, form: &Form) -> Result<HttpResponse, OAuthError> {
    let scopes: String = form
        .request
        .scopes()
        .iter()
        .map(|scope| format!("<li>{}</li>", escape(scope.as_str())))
        .collect();
    let body = format!(
        "<h1>Allow access?</h1><p><strong>{client}</strong> asks to act for <strong>{user}</strong> with:</p>\
         <ul>{scopes}</ul>\
         <form method=\"post\" action=\"{action}\">\
         <input type=\"hidden\" name=\"request\" value=\"{sealed}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <button type=\"submit\" name=\"action\" value=\"allow\" id=\"allow\">Allow</button> \
         <button type=\"submit\" name=\"action\" value=\"deny\" id=\"deny\">Deny</button></form>",
        client = escape(&form.request.client_id),
        user = escape(form.request.sub.as_deref().unwrap_or_default()),
        action = paths::AUTHORIZE,
        sealed = escape(&form.sealed),
        csrf = escape(&form.request.csrf),
    );
    form_page(state, form, 200, "Allow access", &body)
}

/// Writes the core's answer, starting `session` when there is one.
fn render(
    state: &AppState,
    answer: &Answer,
    session: Option<&NewSession>,
) -> Result<HttpResponse, OAuthError> {
    let mut response = match answer {
        Answer::Login {
            form,
            message,
            status: code,
        } => login_page(state, form, message.as_deref(), *code)?,
        Answer::Consent { form } => consent_page(state, form)?,
        Answer::Redirect {
            location,
            status: code,
        } => HttpResponse::build(status(*code))
            .insert_header((header::LOCATION, location.as_str()))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish(),
        Answer::Page {
            error,
            status: code,
        } => error_page(error, *code),
    };
    if let Some(session) = session {
        response
            .add_cookie(&cookie_of(
                state,
                SESSION_COOKIE,
                session.sealed.clone(),
                session.max_age,
                SameSite::Lax,
            ))
            .map_err(|_| OAuthError::server_error("a cookie could not be set"))?;
    }
    Ok(response)
}

pub async fn get(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, OAuthError> {
    let issuer = state.issuer();
    let answer = state
        .authorize_handles(&issuer)
        .authorize(
            req.query_string(),
            cookie(&req, CSRF_COOKIE).as_deref(),
            cookie(&req, SESSION_COOKIE).as_deref(),
        )
        .await?;
    render(&state, &answer, None)
}

/// The login and consent forms post here.
pub async fn post(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, OAuthError> {
    let body = read_body(&req, payload, state.settings().server.max_body_bytes).await?;
    let params = Params::from_form(&body)?;
    let issuer = state.issuer();
    let outcome = state
        .authorize_handles(&issuer)
        .submit(
            &params,
            cookie(&req, CSRF_COOKIE).as_deref(),
            req.peer_addr().map(|addr| addr.ip()),
        )
        .await?;
    render(&state, &outcome.answer, outcome.session.as_ref())
}
