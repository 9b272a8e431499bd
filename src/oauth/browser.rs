//! What the issuer's browser pages share — the login and consent forms of the authorization
//! endpoint, the device verification page, the logout confirmation: stateless CSRF (the cookie,
//! the form field and the sealed form must agree), the session cookie (read through the
//! denylist, so a logged-out session stays out even where a copy of its cookie survives), and
//! signing in with a password.

use super::authorize::{PageError, Session};
use super::credentials::{check_user_password, CredentialVerifier, PasswordCheck};
use super::error::{status, OAuthError};
use super::issuer::{random_id, Issuer};
use super::params::Params;
use super::token_kind::TokenKind;
use super::tokens::Reading;
use crate::registry::UserRegistry;
use crate::revocation::Revocations;
use std::net::IpAddr;

/// A session cookie the answer sets: a new sign-in, or a session that a client just joined.
#[derive(Debug)]
pub struct NewSession {
    pub sealed: String,
    pub max_age: i64,
}

/// What a browser page's answer is, and the session cookie it sets.
#[derive(Debug)]
pub struct Outcome<A> {
    pub answer: A,
    pub session: Option<NewSession>,
}

impl<A> From<A> for Outcome<A> {
    fn from(answer: A) -> Self {
        Self {
            answer,
            session: None,
        }
    }
}

/// The handles every browser page uses.
pub struct BrowserHandles<'a> {
    pub issuer: &'a Issuer,
    pub users: &'a UserRegistry,
    /// User passwords (throttled per username and per address).
    pub passwords: &'a CredentialVerifier,
    /// Logged-out sessions, and forms that answer once.
    pub revocations: &'a Revocations,
    /// Length of a session (`[authorize] session_ttl`).
    pub session_ttl_secs: i64,
}

/// What a submitted sign-in form came to.
#[derive(Debug)]
pub enum SignInOutcome {
    SignedIn(Session),
    /// Show the form again with this message.
    Retry {
        message: String,
        status: u16,
    },
}

/// A well-formed CSRF value: the browser's cookie when it holds 128 random bits (base64url),
/// else a new one.
pub fn csrf_value(cookie: Option<&str>) -> String {
    cookie
        .filter(|value| value.len() == 22)
        .map(str::to_owned)
        .unwrap_or_else(random_id)
}

pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(subtle::ConstantTimeEq::ct_eq(a.as_bytes(), b.as_bytes()))
}

/// Whether a posted form is the browser's own: its CSRF cookie, the form's `csrf` field and the
/// value sealed into the form are one value.
pub fn csrf_accepted(cookie: Option<&str>, params: &Params, sealed_csrf: &str) -> bool {
    let field = params.get("csrf").unwrap_or_default();
    cookie.is_some_and(|cookie| same_secret(cookie, field)) && same_secret(field, sealed_csrf)
}

/// The page for a form that fails its CSRF check.
pub fn form_not_accepted() -> (PageError, u16) {
    (
        PageError {
            title: "Form not accepted",
            description: "The form could not be verified. Start again from the application.".into(),
        },
        status::FORBIDDEN,
    )
}

/// The page for a form that expired, was answered already, or is not ours.
pub fn form_expired(title: &'static str, what: &str) -> (PageError, u16) {
    (
        PageError {
            title,
            description: format!(
                "This {what} form has expired or is not valid. Start again from the application."
            ),
        },
        status::BAD_REQUEST,
    )
}

impl BrowserHandles<'_> {
    /// The session of a session cookie, if it is ours, current, not logged out, and its user
    /// still exists.
    pub async fn session(&self, cookie: Option<&str>) -> Result<Option<Session>, OAuthError> {
        let Some(cookie) = cookie else {
            return Ok(None);
        };
        Ok(
            match self
                .issuer
                .read::<Session>(self.revocations, cookie)
                .await?
            {
                Reading::Valid(session)
                    if !session.sid.is_empty() && self.users.get(&session.sub).is_some() =>
                {
                    Some(session)
                }
                _ => None,
            },
        )
    }

    /// `session` sealed for its cookie, which lives as long as the session.
    pub fn seal(&self, session: &Session) -> Result<NewSession, OAuthError> {
        Ok(NewSession {
            sealed: self.issuer.seal(TokenKind::Session, session)?,
            max_age: (session.exp - self.issuer.now).max(0),
        })
    }

    /// Checks a sign-in form's `username` and `password` for `client_id`. Signing in again as
    /// the user of the browser's current session keeps that session (its `sid` and clients)
    /// while it has room for the client; otherwise a new session starts.
    pub async fn sign_in(
        &self,
        params: &Params,
        peer: Option<IpAddr>,
        session_cookie: Option<&str>,
        client_id: &str,
    ) -> Result<SignInOutcome, OAuthError> {
        let current = self
            .session(session_cookie)
            .await?
            .filter(|session| session.can_join(client_id));
        let (Some(username), Some(password)) = (params.get("username"), params.get("password"))
        else {
            return Ok(SignInOutcome::Retry {
                message: "Enter your username and password.".into(),
                status: 200,
            });
        };
        let now = self.issuer.now;
        Ok(
            match check_user_password(self.passwords, self.users, username, password, peer, now)
                .await?
            {
                PasswordCheck::Valid(user) => {
                    let session = match current {
                        Some(mut session) if session.sub == user.username => {
                            session.auth_time = now;
                            session.exp = now + self.session_ttl_secs;
                            session
                        }
                        _ => Session::new(&user.username, now, self.session_ttl_secs),
                    };
                    SignInOutcome::SignedIn(session)
                }
                PasswordCheck::Throttled { retry_after } => SignInOutcome::Retry {
                    message: format!(
                        "Too many failed sign-in attempts. Try again in {retry_after} seconds."
                    ),
                    status: status::TOO_MANY_REQUESTS,
                },
                PasswordCheck::Invalid => SignInOutcome::Retry {
                    message: "The username or password is incorrect.".into(),
                    status: status::UNAUTHORIZED,
                },
            },
        )
    }
}
