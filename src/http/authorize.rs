//! `GET /oauth2/authorize` and the forms it renders (`POST /oauth2/authorize`), on the pages'
//! shared machinery (`http::pages`). What to show or where to redirect is the protocol core's
//! decision.

use super::pages::{self, escape};
use crate::oauth::endpoints::authorize::{Answer, Form, Outcome};
use crate::oauth::{paths, OAuthError};
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};

fn form_page(
    state: &AppState,
    form: &Form,
    code: u16,
    title: &str,
    body: &str,
) -> Result<HttpResponse, OAuthError> {
    pages::form_page(
        state,
        &form.request.csrf,
        code,
        title,
        body,
        pages::origin_of(&form.request.redirect_uri).as_deref(),
    )
}

fn login_page(
    state: &AppState,
    form: &Form,
    message: Option<&str>,
    code: u16,
) -> Result<HttpResponse, OAuthError> {
    let body = format!(
        "<h1>Sign in</h1><p>to continue to <strong>{client}</strong></p>{message}{form}",
        client = escape(&form.request.client_id),
        message = pages::alert(message),
        form = pages::sign_in_form(
            paths::AUTHORIZE,
            &pages::hidden_fields(&form.sealed, &form.request.csrf)
        ),
    );
    form_page(state, form, code, "Sign in", &body)
}

fn consent_page(state: &AppState, form: &Form) -> Result<HttpResponse, OAuthError> {
    let scopes = form.request.scopes();
    let user = form
        .request
        .signed_in
        .as_ref()
        .map(|signed_in| signed_in.sub.as_str())
        .unwrap_or_default();
    let body = format!(
        "<h1>Allow access?</h1><p><strong>{client}</strong> asks to act for <strong>{user}</strong> with:</p>\
         {scopes}{form}",
        client = escape(&form.request.client_id),
        user = escape(user),
        scopes = pages::scope_list(scopes.iter().map(|scope| scope.as_str())),
        form = pages::allow_deny_form(
            paths::AUTHORIZE,
            &pages::hidden_fields(&form.sealed, &form.request.csrf)
        ),
    );
    form_page(state, form, 200, "Allow access", &body)
}

/// Writes the core's answer, setting the session cookie when it changed.
fn render(state: &AppState, outcome: &Outcome) -> Result<HttpResponse, OAuthError> {
    let mut response = match &outcome.answer {
        Answer::Login {
            form,
            message,
            status: code,
        } => login_page(state, form, message.as_deref(), *code)?,
        Answer::Consent { form } => consent_page(state, form)?,
        Answer::Redirect {
            location,
            status: code,
        } => pages::redirect(location, *code),
        Answer::Page {
            error,
            status: code,
        } => pages::error_page(error, *code),
    };
    if let Some(session) = &outcome.session {
        pages::set_session(state, &mut response, session)?;
    }
    Ok(response)
}

pub async fn get(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, OAuthError> {
    let issuer = state.issuer();
    let (csrf, session) = pages::browser_cookies(&req);
    let outcome = state
        .authorize_handles(&issuer)
        .authorize(req.query_string(), csrf.as_deref(), session.as_deref())
        .await?;
    render(&state, &outcome)
}

/// The login and consent forms post here.
pub async fn post(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, OAuthError> {
    let form = pages::BrowserPost::read(&req, payload, &state).await?;
    let issuer = state.issuer();
    let outcome = state
        .authorize_handles(&issuer)
        .submit(
            &form.params,
            form.csrf.as_deref(),
            form.session.as_deref(),
            form.peer,
        )
        .await?;
    render(&state, &outcome)
}
