//! The authorization endpoint (RFC 6749 4.1, OIDC Core 3.1.2) and the login and consent forms it
//! shows: what to do with a request, a session and a submitted form. The answer says what the
//! browser gets — a page, or a redirect — and the HTTP layer renders it (HTML, cookies, headers).
//! CSRF is stateless: the cookie, the form field and the sealed request must agree.

use crate::clock::UnixTime;
use crate::oauth::authorize::{
    client_and_redirect, validate, AuthorizationRequest, PageError, RedirectError, Session,
    FORM_TTL_SECS,
};
use crate::oauth::credentials::{check_user_password, CredentialVerifier, PasswordCheck};
use crate::oauth::error::{status, OAuthError};
use crate::oauth::issuer::{random_id, Issuer};
use crate::oauth::params::Params;
use crate::oauth::token_kind::{ReplayKind, TokenKind};
use crate::registry::{ClientRegistry, UserRegistry};
use crate::revocation::Revocations;
use std::net::IpAddr;

/// A form the browser is shown, with the checked request it carries.
#[derive(Debug)]
pub struct Form {
    pub request: AuthorizationRequest,
    /// The request sealed for the form's hidden field.
    pub sealed: String,
}

/// What the browser gets, and the session it starts when the user just signed in.
#[derive(Debug)]
pub struct Outcome {
    pub answer: Answer,
    pub session: Option<NewSession>,
}

impl From<Answer> for Outcome {
    fn from(answer: Answer) -> Self {
        Self {
            answer,
            session: None,
        }
    }
}

/// A session the answer starts (a new sign-in).
#[derive(Debug)]
pub struct NewSession {
    pub sealed: String,
    pub max_age: i64,
}

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

pub const FOUND: u16 = 302;
pub const SEE_OTHER: u16 = 303;

/// The handles the authorization endpoint uses.
pub struct AuthorizeHandles<'a> {
    pub issuer: &'a Issuer,
    pub clients: &'a ClientRegistry,
    pub users: &'a UserRegistry,
    /// User passwords (throttled per username and per address).
    pub passwords: &'a CredentialVerifier,
    /// Consent forms answer once; codes take their token's status-list entry.
    pub revocations: &'a Revocations,
    /// Length of a session (`[authorize] session_ttl`).
    pub session_ttl_secs: i64,
}

/// A well-formed CSRF value: 128 random bits, base64url.
fn csrf_value(cookie: Option<&str>) -> String {
    cookie
        .filter(|value| value.len() == 22)
        .map(str::to_owned)
        .unwrap_or_else(random_id)
}

fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(subtle::ConstantTimeEq::ct_eq(a.as_bytes(), b.as_bytes()))
}

fn expired() -> Answer {
    Answer::Page {
        error: PageError {
            title: "Sign-in expired",
            description:
                "This sign-in form has expired or is not valid. Start again from the application."
                    .into(),
        },
        status: status::BAD_REQUEST,
    }
}

impl AuthorizeHandles<'_> {
    fn now(&self) -> UnixTime {
        self.issuer.now
    }

    fn form(&self, request: AuthorizationRequest) -> Result<Form, OAuthError> {
        let sealed = self.issuer.seal(TokenKind::AuthorizationForm, &request)?;
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

    fn error_redirect(
        &self,
        request: &AuthorizationRequest,
        error: &'static str,
        description: &str,
        status: u16,
    ) -> Answer {
        let error = RedirectError {
            error,
            description: description.to_owned(),
        };
        Answer::Redirect {
            location: request.error_redirect(&self.issuer.settings.issuer, &error),
            status,
        }
    }

    async fn code_redirect(
        &self,
        request: &AuthorizationRequest,
        sub: &str,
        auth_time: UnixTime,
        status: u16,
    ) -> Result<Answer, OAuthError> {
        let code = request
            .code(self.issuer, self.revocations, sub, auth_time)
            .await?;
        Ok(Answer::Redirect {
            location: request.redirect_with(&self.issuer.settings.issuer, &[("code", &code)]),
            status,
        })
    }

    /// The user `sub` is signed in (since `auth_time`): consent when the client or the request
    /// wants it, else the code goes back to the client.
    async fn signed_in(
        &self,
        mut request: AuthorizationRequest,
        sub: &str,
        auth_time: UnixTime,
        status: u16,
    ) -> Result<Answer, OAuthError> {
        let client = self
            .clients
            .get(&request.client_id)
            .ok_or_else(|| OAuthError::invalid_request("the client doesn't exist"))?;
        if client.consent || request.prompt.consent {
            if request.prompt.none {
                return Ok(self.error_redirect(
                    &request,
                    "consent_required",
                    "the client needs the user's consent",
                    status,
                ));
            }
            request.sub = Some(sub.to_owned());
            request.auth_time = Some(auth_time);
            request.exp = self.now() + FORM_TTL_SECS;
            request.form_id = random_id();
            return Ok(Answer::Consent {
                form: self.form(request)?,
            });
        }
        self.code_redirect(&request, sub, auth_time, status).await
    }

    /// The session of a session cookie, if it is ours, current and its user still exists.
    fn session(&self, cookie: Option<&str>) -> Option<Session> {
        let session: Session = self.issuer.open(cookie?)?;
        self.users.get(&session.sub).is_some().then_some(session)
    }

    /// `GET /oauth2/authorize` with `query`, the browser's CSRF and session cookies.
    pub async fn authorize(
        &self,
        query: &str,
        csrf_cookie: Option<&str>,
        session_cookie: Option<&str>,
    ) -> Result<Answer, OAuthError> {
        let params = match Params::from_form(query.as_bytes()) {
            Ok(params) => params,
            Err(err) => {
                return Ok(Answer::Page {
                    error: PageError {
                        title: "Invalid request",
                        description: err.description.into_owned(),
                    },
                    status: status::BAD_REQUEST,
                })
            }
        };
        let (client, redirect_uri) = match client_and_redirect(self.clients, &params) {
            Ok(found) => found,
            Err(error) => {
                return Ok(Answer::Page {
                    error,
                    status: status::BAD_REQUEST,
                })
            }
        };
        let now = self.now();
        let request = match validate(
            &client,
            redirect_uri.clone(),
            &params,
            csrf_value(csrf_cookie),
            now,
        ) {
            Ok(request) => request,
            Err(error) => {
                let bare = AuthorizationRequest::bare(
                    &client.id,
                    redirect_uri,
                    params.get("state").map(str::to_owned),
                    now,
                );
                return Ok(Answer::Redirect {
                    location: bare.error_redirect(&self.issuer.settings.issuer, &error),
                    status: FOUND,
                });
            }
        };
        let session = self.session(session_cookie).filter(|session| {
            !request.prompt.login && request.accepts_auth_time(session.auth_time, now)
        });
        match session {
            Some(session) => {
                self.signed_in(request, &session.sub, session.auth_time, FOUND)
                    .await
            }
            None if request.prompt.none => Ok(self.error_redirect(
                &request,
                "login_required",
                "the user is not signed in",
                FOUND,
            )),
            None => self.login(request, None, 200),
        }
    }

    /// `POST /oauth2/authorize`: a login or consent form, with the browser's CSRF cookie.
    pub async fn submit(
        &self,
        params: &Params,
        csrf_cookie: Option<&str>,
        peer: Option<IpAddr>,
    ) -> Result<Outcome, OAuthError> {
        let Some(request) = params
            .get("request")
            .and_then(|sealed| self.issuer.open::<AuthorizationRequest>(sealed))
        else {
            return Ok(expired().into());
        };
        let form_csrf = params.get("csrf").unwrap_or_default();
        if !(csrf_cookie.is_some_and(|cookie| same_secret(cookie, form_csrf))
            && same_secret(form_csrf, &request.csrf))
        {
            return Ok(Answer::Page {
                error: PageError {
                    title: "Form not accepted",
                    description:
                        "The form could not be verified. Start again from the application.".into(),
                },
                status: status::FORBIDDEN,
            }
            .into());
        }
        match params.get("action") {
            Some("login") => self.sign_in(request, params, peer).await,
            Some(action @ ("allow" | "deny")) => {
                Ok(self.consent(request, action == "allow").await?.into())
            }
            _ => Ok(expired().into()),
        }
    }

    async fn sign_in(
        &self,
        request: AuthorizationRequest,
        params: &Params,
        peer: Option<IpAddr>,
    ) -> Result<Outcome, OAuthError> {
        let (Some(username), Some(password)) = (params.get("username"), params.get("password"))
        else {
            return Ok(self
                .login(
                    request,
                    Some("Enter your username and password.".into()),
                    200,
                )?
                .into());
        };
        let now = self.now();
        match check_user_password(self.passwords, self.users, username, password, peer, now).await?
        {
            PasswordCheck::Valid(user) => {
                let session = Session {
                    sub: user.username.clone(),
                    auth_time: now,
                    exp: now + self.session_ttl_secs,
                };
                let sealed = self.issuer.seal(TokenKind::Session, &session)?;
                // The session starts with whatever comes next: the code, or the consent page.
                Ok(Outcome {
                    answer: self
                        .signed_in(request, &user.username, now, SEE_OTHER)
                        .await?,
                    session: Some(NewSession {
                        sealed,
                        max_age: self.session_ttl_secs,
                    }),
                })
            }
            PasswordCheck::Throttled { retry_after } => Ok(self
                .login(
                    request,
                    Some(format!(
                        "Too many failed sign-in attempts. Try again in {retry_after} seconds."
                    )),
                    status::TOO_MANY_REQUESTS,
                )?
                .into()),
            PasswordCheck::Invalid => Ok(self
                .login(
                    request,
                    Some("The username or password is incorrect.".into()),
                    status::UNAUTHORIZED,
                )?
                .into()),
        }
    }

    async fn consent(
        &self,
        request: AuthorizationRequest,
        allowed: bool,
    ) -> Result<Answer, OAuthError> {
        let (Some(sub), Some(auth_time)) = (request.sub.clone(), request.auth_time) else {
            return Ok(expired());
        };
        // A consent form answers once.
        if !self
            .revocations
            .first_use(
                ReplayKind::Consent,
                &request.csrf_form_id(),
                request.exp,
                self.now(),
            )
            .await?
        {
            return Ok(expired());
        }
        if !allowed {
            return Ok(self.error_redirect(
                &request,
                "access_denied",
                "the user denied access",
                SEE_OTHER,
            ));
        }
        self.code_redirect(&request, &sub, auth_time, SEE_OTHER)
            .await
    }
}
