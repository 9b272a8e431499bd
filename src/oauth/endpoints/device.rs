//! The device verification page (RFC 8628 3.3): the user enters the code shown on the device
//! (or arrives with it filled in by `verification_uri_complete`), signs in, sees which client
//! asks for which scopes — with the code again, to compare with the device (3.3.1, 5.4) — and
//! approves or denies. The login page's machinery (`oauth::browser`): the same CSRF, session and
//! sign-in. Wrong codes are counted per address, shared by replicas; past the limit an address
//! may enter none.

use crate::oauth::authorize::{PageError, Session, FORM_TTL_SECS};
use crate::oauth::browser::{
    csrf_accepted, csrf_value, form_expired, form_not_accepted, same_secret, BrowserHandles,
    Outcome, SignInOutcome,
};
use crate::oauth::device::{display_user_code, normalize_user_code, DeviceForm};
use crate::oauth::error::{status, OAuthError};
use crate::oauth::issuer::random_id;
use crate::oauth::params::Params;
use crate::oauth::token_kind::{ReplayKind, TokenKind};
use crate::revocation::DeviceState;
use crate::settings::DeviceSettings;
use std::net::IpAddr;

/// A device form the browser is shown, with the values it carries.
#[derive(Debug)]
pub struct DeviceFormPage {
    pub form: DeviceForm,
    pub sealed: String,
}

/// What the browser gets.
#[derive(Debug)]
pub enum DeviceAnswer {
    /// The form to enter a user code (filled in with `user_code` when known).
    Entry {
        csrf: String,
        user_code: Option<String>,
        message: Option<String>,
        status: u16,
    },
    /// Sign in first.
    Login {
        page: DeviceFormPage,
        message: Option<String>,
        status: u16,
    },
    /// Approve or deny the device.
    Consent {
        page: DeviceFormPage,
    },
    /// The user answered.
    Done {
        approved: bool,
        client_id: String,
    },
    Page {
        error: PageError,
        status: u16,
    },
}

/// What the browser gets, and the session cookie it sets.
pub type DeviceOutcome = Outcome<DeviceAnswer>;

fn page((error, status): (PageError, u16)) -> DeviceAnswer {
    DeviceAnswer::Page { error, status }
}

fn expired() -> DeviceAnswer {
    page(form_expired("Device sign-in expired", "device sign-in"))
}

/// The handles the verification page uses.
pub struct DeviceHandles<'a> {
    pub browser: BrowserHandles<'a>,
    pub settings: &'a DeviceSettings,
}

impl DeviceHandles<'_> {
    /// `GET /oauth2/device`, maybe with `user_code` (from `verification_uri_complete`).
    pub fn show(&self, query: &str, csrf_cookie: Option<&str>) -> DeviceAnswer {
        let user_code = Params::from_form(query.as_bytes())
            .ok()
            .and_then(|params| params.get("user_code").and_then(normalize_user_code));
        DeviceAnswer::Entry {
            csrf: csrf_value(csrf_cookie),
            user_code: user_code.as_deref().map(display_user_code),
            message: None,
            status: 200,
        }
    }

    /// `POST /oauth2/device`: a code, a sign-in, or an answer.
    pub async fn submit(
        &self,
        params: &Params,
        csrf_cookie: Option<&str>,
        session_cookie: Option<&str>,
        peer: Option<IpAddr>,
    ) -> Result<DeviceOutcome, OAuthError> {
        if params.get("action") == Some("code") {
            // The entry form carries nothing sealed: its CSRF value is the cookie's.
            let field = params.get("csrf").unwrap_or_default();
            if !csrf_cookie.is_some_and(|cookie| same_secret(cookie, field)) {
                return Ok(page(form_not_accepted()).into());
            }
            return self.enter(params, field, session_cookie, peer).await;
        }
        let Some(form) = params
            .get("request")
            .and_then(|sealed| self.browser.issuer.open::<DeviceForm>(sealed))
        else {
            return Ok(expired().into());
        };
        if !csrf_accepted(csrf_cookie, params, &form.csrf) {
            return Ok(page(form_not_accepted()).into());
        }
        match params.get("action") {
            Some("login") => match self
                .browser
                .sign_in(params, peer, session_cookie, &form.client_id)
                .await?
            {
                SignInOutcome::SignedIn(session) => self.consent(form, session, true),
                SignInOutcome::Retry { message, status } => Ok(DeviceAnswer::Login {
                    page: self.seal(form)?,
                    message: Some(message),
                    status,
                }
                .into()),
            },
            Some(action @ ("allow" | "deny")) => {
                Ok(self.answer(form, action == "allow").await?.into())
            }
            _ => Ok(expired().into()),
        }
    }

    fn seal(&self, form: DeviceForm) -> Result<DeviceFormPage, OAuthError> {
        let sealed = self.browser.issuer.seal(TokenKind::DeviceForm, &form)?;
        Ok(DeviceFormPage { form, sealed })
    }

    fn entry_again(
        &self,
        csrf: &str,
        typed: Option<&str>,
        message: &str,
        code: u16,
    ) -> DeviceAnswer {
        DeviceAnswer::Entry {
            csrf: csrf.to_owned(),
            user_code: typed.map(display_user_code),
            message: Some(message.to_owned()),
            status: code,
        }
    }

    /// A user code was entered: find its pending authorization (throttled per address).
    async fn enter(
        &self,
        params: &Params,
        csrf: &str,
        session_cookie: Option<&str>,
        peer: Option<IpAddr>,
    ) -> Result<DeviceOutcome, OAuthError> {
        let Some(user_code) = params.get("user_code").and_then(normalize_user_code) else {
            // Not a code at all: a typo, not a guess.
            return Ok(self
                .entry_again(
                    csrf,
                    None,
                    "Enter the code shown on your device: 8 letters, such as BCDF-GHJK.",
                    status::BAD_REQUEST,
                )
                .into());
        };
        let issuer = self.browser.issuer;
        let revocations = self.browser.revocations;
        let now = issuer.now;
        let address = peer.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
        let window = self.settings.user_code_failure_window.as_secs();
        let limit = self.settings.max_user_code_failures_per_address;
        if revocations
            .user_code_failures(&address, window, now)
            .await?
            >= limit
        {
            return Ok(self
                .entry_again(
                    csrf,
                    None,
                    "Too many wrong codes from this network. Try again later.",
                    status::TOO_MANY_REQUESTS,
                )
                .into());
        }
        let Some(pending) = revocations.device_pending(&user_code, now).await? else {
            revocations
                .record_user_code_failure(&address, window, now)
                .await?;
            return Ok(self
                .entry_again(
                    csrf,
                    None,
                    "That code is not valid, or has expired. Check the code on your device.",
                    status::BAD_REQUEST,
                )
                .into());
        };
        let form = DeviceForm {
            user_code,
            device_id: pending.device_id,
            client_id: pending.client_id,
            scope: pending.scope,
            csrf: csrf.to_owned(),
            form_id: random_id(),
            signed_in: None,
            exp: (now + FORM_TTL_SECS).min(pending.exp),
        };
        let session = self
            .browser
            .session(session_cookie)
            .await?
            .filter(|session| session.can_join(&form.client_id));
        match session {
            Some(session) => self.consent(form, session, false),
            None => Ok(DeviceAnswer::Login {
                page: self.seal(form)?,
                message: None,
                status: 200,
            }
            .into()),
        }
    }

    /// The user of `session` is signed in: the device's client joins the session, and the user
    /// is asked.
    fn consent(
        &self,
        mut form: DeviceForm,
        mut session: Session,
        fresh: bool,
    ) -> Result<DeviceOutcome, OAuthError> {
        let (signed_in, joined) = session
            .sign_into(&form.client_id)
            .ok_or_else(|| OAuthError::server_error("the session has no room for the client"))?;
        let cookie = if fresh || joined {
            Some(self.browser.seal(&session)?)
        } else {
            None
        };
        form.signed_in = Some(signed_in);
        form.form_id = random_id();
        Ok(DeviceOutcome {
            answer: DeviceAnswer::Consent {
                page: self.seal(form)?,
            },
            session: cookie,
        })
    }

    async fn answer(&self, form: DeviceForm, approved: bool) -> Result<DeviceAnswer, OAuthError> {
        let Some(signed_in) = &form.signed_in else {
            return Ok(expired());
        };
        let issuer = self.browser.issuer;
        let revocations = self.browser.revocations;
        if !revocations
            .first_use(
                ReplayKind::Consent,
                &form.csrf_form_id(),
                form.exp,
                issuer.now,
            )
            .await?
        {
            return Ok(expired());
        }
        let decision = if approved {
            let approval = serde_json::to_string(signed_in)
                .map_err(|_| OAuthError::server_error("the approval could not be encoded"))?;
            DeviceState::Approved(approval)
        } else {
            DeviceState::Denied
        };
        if !revocations
            .device_decide(&form.user_code, &form.device_id, &decision, issuer.now)
            .await?
        {
            return Ok(DeviceAnswer::Page {
                error: PageError {
                    title: "Code already used",
                    description: "This code was answered already, or has expired. Start again on your device.".into(),
                },
                status: status::BAD_REQUEST,
            });
        }
        Ok(DeviceAnswer::Done {
            approved,
            client_id: form.client_id,
        })
    }
}
