//! The authorization endpoint (RFC 6749 4.1, OIDC Core 3.1.2) and the login and consent forms it
//! shows: what to do with a request (its own parameters, or a pushed request's by `request_uri`,
//! RFC 9126 4), a session and a submitted form. The answer says what the browser gets — a page, or a redirect — and the HTTP layer renders it (HTML, cookies, headers).
//! CSRF, sessions and signing in are the browser pages' shared machinery (`oauth::browser`).

use crate::oauth::authorize::{
    client_and_redirect, validate, AuthorizationRequest, PageError, PushedUse, RedirectError,
    Session, SignedIn, FORM_TTL_SECS,
};
use crate::oauth::browser::{
    self, csrf_accepted, csrf_value, form_expired, form_not_accepted, BrowserHandles, SignInOutcome,
};
use crate::oauth::endpoints::par::PushedRequest;
use crate::oauth::error::{status, ErrorCode, OAuthError};
use crate::oauth::issuer::random_id;
use crate::oauth::params::Params;
use crate::oauth::token_kind::{ReplayKind, TokenKind};
use crate::registry::ClientRegistry;
use std::net::IpAddr;

/// A form the browser is shown, with the checked request it carries.
#[derive(Debug)]
pub struct Form {
    pub request: AuthorizationRequest,
    /// The request sealed for the form's hidden field.
    pub sealed: String,
}

/// What the browser gets, and the session cookie it sets (a new sign-in, or a client joining
/// the session).
pub type Outcome = browser::Outcome<Answer>;

/// What the browser gets.
#[derive(Debug)]
pub enum Answer {
    /// The login form, with a message for the user when the last try failed.
    Login {
        form: Form,
        message: Option<String>,
        status: u16,
    },
    /// The consent form of a signed-in user.
    Consent { form: Form },
    /// Back to the client (a code or an error).
    Redirect {
        location: String,
        /// 302 for the authorization request itself, 303 after a form.
        status: u16,
    },
    /// An error shown on a page: nothing redirects.
    Page { error: PageError, status: u16 },
}

impl Answer {
    fn page((error, status): (PageError, u16)) -> Self {
        Answer::Page { error, status }
    }
}

pub const FOUND: u16 = 302;
pub const SEE_OTHER: u16 = 303;

/// The handles the authorization endpoint uses.
pub struct AuthorizeHandles<'a> {
    pub browser: BrowserHandles<'a>,
    pub clients: &'a ClientRegistry,
}

fn expired() -> Answer {
    Answer::page(form_expired("Sign-in expired", "sign-in"))
}

impl AuthorizeHandles<'_> {
    fn form(&self, request: AuthorizationRequest) -> Result<Form, OAuthError> {
        let sealed = self
            .browser
            .issuer
            .seal(TokenKind::AuthorizationForm, &request)?;
        Ok(Form { request, sealed })
    }

    fn login(
        &self,
        request: AuthorizationRequest,
        message: Option<String>,
        status: u16,
    ) -> Result<Answer, OAuthError> {
        Ok(Answer::Login {
            form: self.form(request)?,
            message,
            status,
        })
    }

    fn issuer_id(&self) -> &str {
        &self.browser.issuer.settings.issuer
    }

    fn error_redirect(
        &self,
        request: &AuthorizationRequest,
        error: ErrorCode,
        description: &str,
        status: u16,
    ) -> Answer {
        let error = RedirectError {
            error,
            description: description.to_owned(),
        };
        Answer::Redirect {
            location: request.error_redirect(self.issuer_id(), &error),
            status,
        }
    }

    /// The code for `request`, back to the client.
    async fn code_redirect(
        &self,
        request: &AuthorizationRequest,
        signed_in: &SignedIn,
        status: u16,
    ) -> Result<Answer, OAuthError> {
        let (issuer, revocations) = (self.browser.issuer, self.browser.revocations);
        // A pushed request gets one code (RFC 9126 4). It is used up here, when the user is
        // authorized, not when its page loads, so a reload or a link preview does not spend it
        // (FAPI 2.0 5.3.2.2 note 3). Its id is kept while any form made from it can be answered:
        // a login form made before it expired, then the consent form that login leads to.
        if let Some(pushed) = &request.pushed {
            let kept_until = pushed.exp + 2 * FORM_TTL_SECS;
            if !revocations
                .first_use(ReplayKind::RequestUri, &pushed.jti, kept_until, issuer.now)
                .await?
            {
                return Ok(self.error_redirect(
                    request,
                    ErrorCode::InvalidRequest,
                    "the request_uri was used already",
                    status,
                ));
            }
        }
        let code = request.code(issuer, revocations, signed_in).await?;
        Ok(Answer::Redirect {
            location: request.redirect_with(self.issuer_id(), &[("code", &code)]),
            status,
        })
    }

    /// The parameters an authorization request stands for: its own, or those of the pushed
    /// request its `request_uri` names (RFC 9126 4: every other parameter is then ignored), once
    /// that request_uri is ours, current, not used up, and pushed by the client the request names.
    async fn request_params(
        &self,
        params: Params,
    ) -> Result<Result<(Params, Option<PushedUse>), PageError>, OAuthError> {
        let Some(request_uri) = params.get("request_uri") else {
            return Ok(Ok((params, None)));
        };
        let refused = |description: &str| {
            Err(PageError {
                title: "Invalid request_uri",
                description: description.to_owned(),
            })
        };
        let issuer = self.browser.issuer;
        let Some(pushed) = PushedRequest::open(issuer, request_uri) else {
            return Ok(refused(
                "the request_uri was not issued by this server, or it has expired",
            ));
        };
        match params.get("client_id") {
            None => return Ok(refused("the parameter client_id is missing")),
            Some(id) if id != pushed.client_id => {
                return Ok(refused(
                    "the client_id is not the client that pushed the request",
                ))
            }
            Some(_) => {}
        }
        if self
            .browser
            .revocations
            .is_used(ReplayKind::RequestUri, &pushed.jti, issuer.now)
            .await?
        {
            return Ok(refused("the request_uri was used already"));
        }
        let used = PushedUse {
            jti: pushed.jti.clone(),
            exp: pushed.exp,
        };
        Ok(Ok((pushed.params(), Some(used))))
    }

    /// The user of `session` is signed in: the client joins the session, then consent when the
    /// client or the request wants it, else the code goes back to the client. The session
    /// cookie is set again when `fresh` (a sign-in) or when the client was new to it.
    async fn signed_in(
        &self,
        mut request: AuthorizationRequest,
        mut session: Session,
        fresh: bool,
        status: u16,
    ) -> Result<Outcome, OAuthError> {
        let client = self
            .clients
            .get(&request.client_id)
            .ok_or_else(|| OAuthError::invalid_request("the client doesn't exist"))?;
        let needs_consent = client.consent || request.prompt.consent;
        if needs_consent && request.prompt.none {
            return Ok(self
                .error_redirect(
                    &request,
                    ErrorCode::ConsentRequired,
                    "the client needs the user's consent",
                    status,
                )
                .into());
        }
        // Callers only bring sessions with room for the client (or a fresh one).
        let (signed_in, joined) = session
            .sign_into(&client.id)
            .ok_or_else(|| OAuthError::server_error("the session has no room for the client"))?;
        let cookie = if fresh || joined {
            Some(self.browser.seal(&session)?)
        } else {
            None
        };
        let answer = if needs_consent {
            request.signed_in = Some(signed_in);
            request.exp = self.browser.issuer.now + FORM_TTL_SECS;
            request.form_id = random_id();
            Answer::Consent {
                form: self.form(request)?,
            }
        } else {
            self.code_redirect(&request, &signed_in, status).await?
        };
        Ok(Outcome {
            answer,
            session: cookie,
        })
    }

    /// `GET /oauth2/authorize` with `query`, the browser's CSRF and session cookies.
    pub async fn authorize(
        &self,
        query: &str,
        csrf_cookie: Option<&str>,
        session_cookie: Option<&str>,
    ) -> Result<Outcome, OAuthError> {
        let params = match Params::from_form(query.as_bytes()) {
            Ok(params) => params,
            Err(err) => {
                return Ok(Answer::Page {
                    error: PageError {
                        title: "Invalid request",
                        description: err.description.into_owned(),
                    },
                    status: status::BAD_REQUEST,
                }
                .into())
            }
        };
        let refused = |error| Ok(Answer::page((error, status::BAD_REQUEST)).into());
        let (params, pushed) = match self.request_params(params).await? {
            Ok(found) => found,
            Err(error) => return refused(error),
        };
        let settings = &self.browser.issuer.settings;
        let (client, redirect_uri) =
            match client_and_redirect(self.clients, &params, settings.profile) {
                Ok(found) => found,
                Err(error) => return refused(error),
            };
        let now = self.browser.issuer.now;
        let checked = if pushed.is_none()
            && (settings.requires_pushed_requests() || client.require_pushed_authorization_requests)
        {
            // RFC 9126 4: refused with invalid_request.
            Err(RedirectError {
                error: ErrorCode::InvalidRequest,
                description: format!(
                    "the client {} must push its authorization requests (RFC 9126) and send only client_id and request_uri here",
                    client.id
                ),
            })
        } else {
            validate(
                &client,
                redirect_uri.clone(),
                &params,
                csrf_value(csrf_cookie),
                now,
                settings.profile,
            )
        };
        let mut request = match checked {
            Ok(request) => request,
            Err(error) => {
                let bare = AuthorizationRequest::bare(
                    &client.id,
                    redirect_uri,
                    params.get("state").map(str::to_owned),
                    now,
                );
                return Ok(Answer::Redirect {
                    location: bare.error_redirect(self.issuer_id(), &error),
                    status: FOUND,
                }
                .into());
            }
        };
        request.pushed = pushed;
        // A session full of other clients does not take this one: the user signs in again.
        let session = self
            .browser
            .session(session_cookie)
            .await?
            .filter(|session| {
                !request.prompt.login
                    && request.accepts_auth_time(session.auth_time, now)
                    && session.can_join(&client.id)
            });
        match session {
            Some(session) => self.signed_in(request, session, false, FOUND).await,
            None if request.prompt.none => Ok(self
                .error_redirect(
                    &request,
                    ErrorCode::LoginRequired,
                    "the user is not signed in",
                    FOUND,
                )
                .into()),
            None => Ok(self.login(request, None, 200)?.into()),
        }
    }

    /// `POST /oauth2/authorize`: a login or consent form, with the browser's CSRF and session
    /// cookies.
    pub async fn submit(
        &self,
        params: &Params,
        csrf_cookie: Option<&str>,
        session_cookie: Option<&str>,
        peer: Option<IpAddr>,
    ) -> Result<Outcome, OAuthError> {
        let Some(request) = params
            .get("request")
            .and_then(|sealed| self.browser.issuer.open::<AuthorizationRequest>(sealed))
        else {
            return Ok(expired().into());
        };
        if !csrf_accepted(csrf_cookie, params, &request.csrf) {
            return Ok(Answer::page(form_not_accepted()).into());
        }
        match params.get("action") {
            Some("login") => match self
                .browser
                .sign_in(params, peer, session_cookie, &request.client_id)
                .await?
            {
                SignInOutcome::SignedIn(session) => {
                    self.signed_in(request, session, true, SEE_OTHER).await
                }
                SignInOutcome::Retry { message, status } => {
                    Ok(self.login(request, Some(message), status)?.into())
                }
            },
            Some(action @ ("allow" | "deny")) => {
                Ok(self.consent(request, action == "allow").await?.into())
            }
            _ => Ok(expired().into()),
        }
    }

    async fn consent(
        &self,
        request: AuthorizationRequest,
        allowed: bool,
    ) -> Result<Answer, OAuthError> {
        let Some(signed_in) = request.signed_in.clone() else {
            return Ok(expired());
        };
        // A consent form answers once.
        let issuer = self.browser.issuer;
        if !self
            .browser
            .revocations
            .first_use(
                ReplayKind::Consent,
                &request.csrf_form_id(),
                request.exp,
                issuer.now,
            )
            .await?
        {
            return Ok(expired());
        }
        if !allowed {
            return Ok(self.error_redirect(
                &request,
                ErrorCode::AccessDenied,
                "the user denied access",
                SEE_OTHER,
            ));
        }
        self.code_redirect(&request, &signed_in, SEE_OTHER).await
    }
}
