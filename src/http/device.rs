//! `POST /oauth2/device_authorization` (RFC 8628 3.1) and the verification page
//! `GET/POST /oauth2/device` (3.3), on the pages' shared machinery (`http::pages`).

use super::extract::{client_proof, params, read_body};
use super::no_store;
use super::pages::{self, escape};
use crate::oauth::device::display_user_code;
use crate::oauth::endpoints::device::{DeviceAnswer, DeviceFormPage, DeviceOutcome};
use crate::oauth::endpoints::device_authorization::device_authorization;

use crate::oauth::types::ScopeSet;
use crate::oauth::{paths, OAuthError};
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};

/// The device's request for a device code and a user code.
pub async fn authorization(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, OAuthError> {
    let body = read_body(&req, payload, state.settings().server.max_body_bytes).await?;
    let params = params(&req, &body, None)?;
    let issuer = state.issuer();
    let response = device_authorization(
        &state.client_authenticator(&issuer),
        &issuer,
        &state.revocations,
        &params,
        client_proof(&req, &issuer.settings.server.trusted_proxies),
    )
    .await?;
    Ok(no_store(HttpResponse::Ok()).json(response))
}

fn entry_page(
    state: &AppState,
    csrf: &str,
    user_code: Option<&str>,
    message: Option<&str>,
    code: u16,
) -> Result<HttpResponse, OAuthError> {
    let body = format!(
        "<h1>Connect a device</h1><p>Enter the code shown on your device.</p>{message}\
         <form method=\"post\" action=\"{action}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <input type=\"hidden\" name=\"action\" value=\"code\">\
         <label for=\"user_code\">Code</label>\
         <input id=\"user_code\" name=\"user_code\" class=\"code\" value=\"{value}\" \
         autocomplete=\"off\" autocapitalize=\"characters\" spellcheck=\"false\" maxlength=\"16\" required autofocus>\
         <button type=\"submit\" id=\"continue\">Continue</button></form>",
        message = pages::alert(message),
        action = paths::DEVICE,
        csrf = escape(csrf),
        value = escape(user_code.unwrap_or_default()),
    );
    pages::form_page(state, csrf, code, "Connect a device", &body, None)
}

fn login_page(
    state: &AppState,
    page: &DeviceFormPage,
    message: Option<&str>,
    code: u16,
) -> Result<HttpResponse, OAuthError> {
    let body = format!(
        "<h1>Sign in</h1><p>to connect <strong>{client}</strong> (code <span class=\"code\">{user_code}</span>)</p>{message}{form}",
        client = escape(&page.form.client_id),
        user_code = escape(&display_user_code(&page.form.user_code)),
        message = pages::alert(message),
        form = pages::sign_in_form(
            paths::DEVICE,
            &pages::hidden_fields(&page.sealed, &page.form.csrf)
        ),
    );
    pages::form_page(state, &page.form.csrf, code, "Sign in", &body, None)
}

fn consent_page(state: &AppState, page: &DeviceFormPage) -> Result<HttpResponse, OAuthError> {
    let scopes = ScopeSet::parse(&page.form.scope).unwrap_or_default();
    let user = page
        .form
        .signed_in
        .as_ref()
        .map(|signed_in| signed_in.sub.as_str())
        .unwrap_or_default();
    // RFC 8628 5.4: the code again, so the user can tell their own device from someone else's.
    let body = format!(
        "<h1>Connect this device?</h1>\
         <p>Check that your device shows this code:</p><p class=\"code\" id=\"user-code\">{user_code}</p>\
         <p><strong>{client}</strong> asks to act for <strong>{user}</strong> with:</p>{scopes}\
         <p>Allow only if you started this on a device of your own.</p>{form}",
        user_code = escape(&display_user_code(&page.form.user_code)),
        client = escape(&page.form.client_id),
        user = escape(user),
        scopes = pages::scope_list(scopes.iter().map(|scope| scope.as_str())),
        form = pages::allow_deny_form(
            paths::DEVICE,
            &pages::hidden_fields(&page.sealed, &page.form.csrf)
        ),
    );
    pages::form_page(state, &page.form.csrf, 200, "Connect a device", &body, None)
}

fn render(state: &AppState, outcome: &DeviceOutcome) -> Result<HttpResponse, OAuthError> {
    let mut response = match &outcome.answer {
        DeviceAnswer::Entry {
            csrf,
            user_code,
            message,
            status,
        } => entry_page(
            state,
            csrf,
            user_code.as_deref(),
            message.as_deref(),
            *status,
        )?,
        DeviceAnswer::Login {
            page,
            message,
            status,
        } => login_page(state, page, message.as_deref(), *status)?,
        DeviceAnswer::Consent { page } => consent_page(state, page)?,
        DeviceAnswer::Done {
            approved: true,
            client_id,
        } => pages::message_page(
            200,
            "Device connected",
            &format!(
                "{client_id} is connected. You can close this page and return to your device."
            ),
        ),
        DeviceAnswer::Done {
            approved: false,
            client_id,
        } => pages::message_page(
            200,
            "Access denied",
            &format!("{client_id} was not given access. You can close this page."),
        ),
        DeviceAnswer::Page { error, status } => pages::error_page(error, *status),
    };
    if let Some(session) = &outcome.session {
        pages::set_session(state, &mut response, session)?;
    }
    Ok(response)
}

pub async fn page(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, OAuthError> {
    let issuer = state.issuer();
    let (csrf, _) = pages::browser_cookies(&req);
    let answer = state
        .device_handles(&issuer)
        .show(req.query_string(), csrf.as_deref());
    render(&state, &answer.into())
}

/// The code, sign-in and consent forms post here.
pub async fn submit(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, OAuthError> {
    let form = pages::BrowserPost::read(&req, payload, &state).await?;
    let issuer = state.issuer();
    let outcome = state
        .device_handles(&issuer)
        .submit(
            &form.params,
            form.csrf.as_deref(),
            form.session.as_deref(),
            form.peer,
        )
        .await?;
    render(&state, &outcome)
}
