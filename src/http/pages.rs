//! What the issuer's HTML pages share (the login and consent forms, the device verification
//! page, the logout confirmation): server-side HTML that works without JavaScript, a strict
//! Content-Security-Policy, no framing, no caching, the CSRF cookie a form comes back with, and
//! the session cookie.

use crate::oauth::authorize::PageError;
use crate::oauth::browser::NewSession;
use crate::oauth::{paths, OAuthError};
use crate::state::AppState;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse};
use aws_lc_rs::digest;
use base64::Engine;
use std::sync::LazyLock;

pub const SESSION_COOKIE: &str = "tessera_session";
pub const CSRF_COOKIE: &str = "tessera_csrf";
/// How long the CSRF cookie of a rendered form lives (as long as the form).
const CSRF_MAX_AGE: i64 = crate::oauth::authorize::FORM_TTL_SECS;

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:26rem;margin:4rem auto;padding:0 1rem;color:#1b1b1b}\
h1{font-size:1.4rem}label{display:block;margin-top:1rem}input{width:100%;padding:.5rem;margin-top:.25rem;box-sizing:border-box}\
button{margin-top:1.25rem;padding:.6rem 1.2rem}.error{color:#a00000;background:#fdecec;padding:.6rem;border-radius:4px}\
ul{padding-left:1.2rem}.code{font-family:ui-monospace,monospace;font-size:1.5rem;letter-spacing:.15em}";

/// The CSP source for the one inline style block: its hash.
static STYLE_HASH: LazyLock<String> = LazyLock::new(|| {
    base64::engine::general_purpose::STANDARD
        .encode(digest::digest(&digest::SHA256, STYLE.as_bytes()))
});

pub fn escape(text: &str) -> String {
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

pub fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// An HTML page with the security headers every page carries. `form_target` is the origin a
/// form on it may end up redirecting to.
pub fn page(
    status: StatusCode,
    title: &str,
    body: &str,
    form_target: Option<&str>,
) -> HttpResponse {
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

/// A page that says one thing: a heading and a paragraph.
pub fn message_page(code: u16, title: &str, message: &str) -> HttpResponse {
    page(
        status(code),
        title,
        &format!("<h1>{}</h1><p>{}</p>", escape(title), escape(message)),
        None,
    )
}

pub fn error_page(error: &PageError, code: u16) -> HttpResponse {
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

/// `<p class="error">` for a message, or nothing.
pub fn alert(message: Option<&str>) -> String {
    message
        .map(|message| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(message)))
        .unwrap_or_default()
}

pub fn origin_of(uri: &str) -> Option<String> {
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

fn add_cookie(response: &mut HttpResponse, cookie: &Cookie<'_>) -> Result<(), OAuthError> {
    response
        .add_cookie(cookie)
        .map_err(|_| OAuthError::server_error("a cookie could not be set"))
}

/// A page with a form on it: the page, plus the CSRF cookie `csrf` the form must come back with.
pub fn form_page(
    state: &AppState,
    csrf: &str,
    code: u16,
    title: &str,
    body: &str,
    form_target: Option<&str>,
) -> Result<HttpResponse, OAuthError> {
    let mut response = page(status(code), title, body, form_target);
    add_cookie(
        &mut response,
        &cookie_of(
            state,
            CSRF_COOKIE,
            csrf.to_owned(),
            CSRF_MAX_AGE,
            SameSite::Strict,
        ),
    )?;
    Ok(response)
}

/// The hidden fields every form posts back: the sealed form and the CSRF value.
pub fn hidden_fields(sealed: &str, csrf: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"request\" value=\"{}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        escape(sealed),
        escape(csrf)
    )
}

/// The sign-in form (username and password), posting `hidden` fields to `action`.
pub fn sign_in_form(action: &str, hidden: &str) -> String {
    format!(
        "<form method=\"post\" action=\"{action}\">{hidden}\
         <input type=\"hidden\" name=\"action\" value=\"login\">\
         <label for=\"username\">Username</label>\
         <input id=\"username\" name=\"username\" autocomplete=\"username\" required autofocus>\
         <label for=\"password\">Password</label>\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
         <button type=\"submit\" id=\"sign-in\">Sign in</button></form>"
    )
}

/// The list of scopes a consent page asks for.
pub fn scope_list<'s>(scopes: impl Iterator<Item = &'s str>) -> String {
    let items: String = scopes
        .map(|scope| format!("<li>{}</li>", escape(scope)))
        .collect();
    format!("<ul>{items}</ul>")
}

/// Allow and Deny buttons, posting `hidden` fields to `action`.
pub fn allow_deny_form(action: &str, hidden: &str) -> String {
    format!(
        "<form method=\"post\" action=\"{action}\">{hidden}\
         <button type=\"submit\" name=\"action\" value=\"allow\" id=\"allow\">Allow</button> \
         <button type=\"submit\" name=\"action\" value=\"deny\" id=\"deny\">Deny</button></form>"
    )
}

/// Sets the session cookie of `session` on `response`.
pub fn set_session(
    state: &AppState,
    response: &mut HttpResponse,
    session: &NewSession,
) -> Result<(), OAuthError> {
    add_cookie(
        response,
        &cookie_of(
            state,
            SESSION_COOKIE,
            session.sealed.clone(),
            session.max_age,
            SameSite::Lax,
        ),
    )
}

/// Removes the session cookie (logout).
pub fn clear_session(state: &AppState, response: &mut HttpResponse) -> Result<(), OAuthError> {
    add_cookie(
        response,
        &cookie_of(state, SESSION_COOKIE, String::new(), 0, SameSite::Lax),
    )
}

/// A redirect no cache keeps.
pub fn redirect(location: &str, code: u16) -> HttpResponse {
    HttpResponse::build(status(code))
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// A form a browser posted: its parameters, the browser's cookies, and its address.
pub struct BrowserPost {
    pub params: crate::oauth::params::Params,
    pub csrf: Option<String>,
    pub session: Option<String>,
    pub peer: Option<std::net::IpAddr>,
}

impl BrowserPost {
    /// Reads the form body (bounded) and the cookies of `req`.
    pub async fn read(
        req: &HttpRequest,
        payload: actix_web::web::Payload,
        state: &AppState,
    ) -> Result<Self, OAuthError> {
        let body =
            super::extract::read_body(req, payload, state.settings().server.max_body_bytes).await?;
        let (csrf, session) = browser_cookies(req);
        Ok(Self {
            params: crate::oauth::params::Params::from_form(&body)?,
            csrf,
            session,
            peer: super::forwarded::client_address(req, &state.settings().server.trusted_proxies),
        })
    }
}

/// The browser's CSRF and session cookies.
pub fn browser_cookies(req: &HttpRequest) -> (Option<String>, Option<String>) {
    (
        super::extract::cookie(req, CSRF_COOKIE),
        super::extract::cookie(req, SESSION_COOKIE),
    )
}
