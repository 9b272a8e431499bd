//! `GET/POST /oauth2/logout` (OpenID Connect RP-Initiated Logout 1.0): the request from a client
//! (query string, or a form body), and the confirmation form; then the back-channel logout
//! notifications, sent after the answer is written and never waited for.

use super::pages::{self, escape};
use crate::oauth::backchannel::deliver;
use crate::oauth::endpoints::logout::{LogoutAnswer, LogoutForm, LogoutOutcome};
use crate::oauth::params::Params;
use crate::oauth::{paths, OAuthError};
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};

fn confirm_page(state: &AppState, form: &LogoutForm) -> Result<HttpResponse, OAuthError> {
    let client = form
        .request
        .client_id
        .as_deref()
        .map(|id| {
            format!(
                "<p><strong>{}</strong> asks to sign you out.</p>",
                escape(id)
            )
        })
        .unwrap_or_default();
    let body = format!(
        "<h1>Sign out?</h1>{client}<p>Signing out ends your session here, for every application you signed in to with it.</p>\
         <form method=\"post\" action=\"{action}\">{hidden}\
         <button type=\"submit\" name=\"action\" value=\"logout\" id=\"logout\">Sign out</button> \
         <button type=\"submit\" name=\"action\" value=\"stay\" id=\"stay\">Stay signed in</button></form>",
        action = paths::LOGOUT,
        hidden = pages::hidden_fields(&form.sealed, &form.request.csrf),
    );
    let target = form
        .request
        .post_logout_redirect_uri
        .as_deref()
        .and_then(pages::origin_of);
    pages::form_page(
        state,
        &form.request.csrf,
        200,
        "Sign out",
        &body,
        target.as_deref(),
    )
}

fn render(state: &AppState, outcome: LogoutOutcome) -> Result<HttpResponse, OAuthError> {
    let mut response = match &outcome.answer {
        LogoutAnswer::Confirm { form } => confirm_page(state, form)?,
        LogoutAnswer::Redirect { location, status } => pages::redirect(location, *status),
        LogoutAnswer::SignedOut => pages::message_page(
            200,
            "Signed out",
            "You are signed out. You can close this page.",
        ),
        LogoutAnswer::StillSignedIn => {
            pages::message_page(200, "Still signed in", "You are still signed in.")
        }
        LogoutAnswer::Page { error, status } => pages::error_page(error, *status),
    };
    if outcome.clear_session {
        pages::clear_session(state, &mut response)?;
    }
    deliver(
        &state.http,
        outcome.notifications,
        state.settings().logout.backchannel_timeout,
    );
    Ok(response)
}

pub async fn get(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, OAuthError> {
    let params = Params::from_form(req.query_string().as_bytes())?;
    let issuer = state.issuer();
    let (csrf, session) = pages::browser_cookies(&req);
    let outcome = state
        .logout_handles(&issuer)
        .request(&params, csrf.as_deref(), session.as_deref())
        .await?;
    render(&state, outcome)
}

/// A client's logout request as a form (section 2: GET and POST), or the confirmation form.
pub async fn post(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, OAuthError> {
    let form = pages::BrowserPost::read(&req, payload, &state).await?;
    let issuer = state.issuer();
    let handles = state.logout_handles(&issuer);
    let (csrf, session) = (form.csrf.as_deref(), form.session.as_deref());
    let outcome = if form.params.contains("action") {
        handles.confirm(&form.params, csrf, session).await?
    } else {
        handles.request(&form.params, csrf, session).await?
    };
    render(&state, outcome)
}
