//! The end-session endpoint (OpenID Connect RP-Initiated Logout 1.0). A client sends the browser
//! here with `id_token_hint`, `client_id`, `post_logout_redirect_uri` and `state`. A hint naming
//! the browser's current session logs it out at once; without one (or for another session) the
//! user is asked first (section 2). Ending a session refuses its cookie from then on, revokes the
//! refresh-token families of the clients that signed in with it, and notifies those that take
//! back-channel logout. A `post_logout_redirect_uri` must be registered for the client, exactly
//! (section 3); anything that does not validate is shown on a page, never redirected to
//! (section 4).

use crate::clock::UnixTime;
use crate::oauth::authorize::{PageError, Session, FORM_TTL_SECS};
use crate::oauth::backchannel::{notifications, Notification};
use crate::oauth::browser::{
    csrf_accepted, csrf_value, form_expired, form_not_accepted, BrowserHandles,
};
use crate::oauth::error::{status, OAuthError};
use crate::oauth::issuer::random_id;
use crate::oauth::params::Params;
use crate::oauth::token_kind::{ReplayKind, TokenKind};
use crate::oauth::tokens::OwnClaims;
use crate::registry::ClientRegistry;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// An ID token stays usable as a hint this long past its `exp` (section 2: the OP should accept
/// expired ID tokens of a current or recent session); whether it names the current session is
/// checked against the session itself.
const HINT_GRACE_SECS: i64 = 86_400;

/// What the logout endpoint reads of an `id_token_hint`.
#[derive(Debug, Clone, Deserialize)]
struct IdTokenHint {
    iss: String,
    sub: String,
    aud: Value,
    exp: UnixTime,
    #[serde(default)]
    sid: Option<String>,
}

impl OwnClaims for IdTokenHint {
    const KIND: TokenKind = TokenKind::Id;

    fn iss(&self) -> Option<&str> {
        Some(&self.iss)
    }

    fn exp(&self) -> UnixTime {
        self.exp + HINT_GRACE_SECS
    }
}

/// A validated logout request; what the confirmation form carries sealed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogoutRequest {
    pub client_id: Option<String>,
    /// Validated against the client's `post_logout_redirect_uris`.
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
    pub csrf: String,
    pub form_id: String,
    pub exp: UnixTime,
}

impl OwnClaims for LogoutRequest {
    const KIND: TokenKind = TokenKind::LogoutForm;

    fn exp(&self) -> UnixTime {
        self.exp
    }
}

impl LogoutRequest {
    /// Where the browser goes after logging out, `state` added; `None` without a redirect URI.
    fn redirect(&self) -> Option<String> {
        let mut url = url::Url::parse(self.post_logout_redirect_uri.as_deref()?).ok()?;
        if let Some(state) = &self.state {
            url.query_pairs_mut().append_pair("state", state);
        }
        Some(url.into())
    }
}

/// The confirmation form.
#[derive(Debug)]
pub struct LogoutForm {
    pub request: LogoutRequest,
    pub sealed: String,
}

/// What the browser gets.
#[derive(Debug)]
pub enum LogoutAnswer {
    /// Ask the user whether to sign out.
    Confirm {
        form: LogoutForm,
    },
    /// Back to the client after logging out.
    Redirect {
        location: String,
        status: u16,
    },
    /// Signed out, and no client to go back to.
    SignedOut,
    /// The user chose to stay signed in.
    StillSignedIn,
    Page {
        error: PageError,
        status: u16,
    },
}

/// What the browser gets; whether its session cookie goes; the back-channel notifications to
/// send (after answering, never waited for).
#[derive(Debug)]
pub struct LogoutOutcome {
    pub answer: LogoutAnswer,
    pub clear_session: bool,
    pub notifications: Vec<Notification>,
}

impl From<LogoutAnswer> for LogoutOutcome {
    fn from(answer: LogoutAnswer) -> Self {
        Self {
            answer,
            clear_session: false,
            notifications: Vec::new(),
        }
    }
}

/// Why a logout request does not validate (shown on the page).
fn invalid(description: impl Into<String>) -> String {
    description.into()
}

/// The handles the logout endpoint uses.
pub struct LogoutHandles<'a> {
    pub browser: BrowserHandles<'a>,
    pub clients: &'a ClientRegistry,
}

impl LogoutHandles<'_> {
    /// Checks the parameters; the hint's subject and session when it had a valid one.
    fn validate(
        &self,
        params: &Params,
        csrf: String,
    ) -> Result<(LogoutRequest, Option<IdTokenHint>), String> {
        let hint =
            match params.get("id_token_hint") {
                None => None,
                Some(token) => Some(self.browser.issuer.open::<IdTokenHint>(token).ok_or_else(
                    || invalid("the id_token_hint is not an ID token of this issuer"),
                )?),
            };
        let hinted_client = match &hint {
            Some(hint) => Some(
                hint.aud
                    .as_str()
                    .ok_or_else(|| invalid("the id_token_hint names no single client"))?
                    .to_owned(),
            ),
            None => None,
        };
        let client_id = match (params.get("client_id"), hinted_client) {
            (Some(given), Some(hinted)) if given != hinted => {
                return Err(invalid(
                    "the client_id is not the client the id_token_hint was issued to",
                ))
            }
            (given, hinted) => hinted.or(given.map(str::to_owned)),
        };
        let client = match &client_id {
            Some(id) => Some(
                self.clients
                    .get(id)
                    .ok_or_else(|| invalid("the client doesn't exist"))?,
            ),
            None => None,
        };
        let post_logout_redirect_uri = match params.get("post_logout_redirect_uri") {
            None => None,
            Some(uri) => {
                let client = client.ok_or_else(|| {
                    invalid("a post_logout_redirect_uri needs an id_token_hint or a client_id")
                })?;
                if !client
                    .post_logout_redirect_uris
                    .iter()
                    .any(|registered| registered == uri)
                {
                    return Err(invalid(format!(
                        "the post_logout_redirect_uri is not registered for the client {}",
                        client.id
                    )));
                }
                Some(uri.to_owned())
            }
        };
        let request = LogoutRequest {
            client_id,
            post_logout_redirect_uri,
            state: params.get("state").map(str::to_owned),
            csrf,
            form_id: random_id(),
            exp: self.browser.issuer.now + FORM_TTL_SECS,
        };
        Ok((request, hint))
    }

    /// `GET` or `POST /oauth2/logout` from a client, with the browser's cookies.
    pub async fn request(
        &self,
        params: &Params,
        csrf_cookie: Option<&str>,
        session_cookie: Option<&str>,
    ) -> Result<LogoutOutcome, OAuthError> {
        let (request, hint) = match self.validate(params, csrf_value(csrf_cookie)) {
            Ok(valid) => valid,
            Err(description) => {
                return Ok(LogoutAnswer::Page {
                    error: PageError {
                        title: "Invalid logout request",
                        description,
                    },
                    status: status::BAD_REQUEST,
                }
                .into())
            }
        };
        let session = self.browser.session(session_cookie).await?;
        match (session, hint) {
            // The hint names this very session: the client asks for what it may ask.
            (Some(session), Some(hint))
                if hint.sub == session.sub && hint.sid.as_deref() == Some(&session.sid) =>
            {
                self.end(&session, &request, 302).await
            }
            // Nobody to sign out, and the hint vouches for the client: back to it.
            (None, Some(_)) => Ok(self.done(&request, 302).into()),
            _ => {
                let sealed = self.browser.issuer.seal(TokenKind::LogoutForm, &request)?;
                Ok(LogoutAnswer::Confirm {
                    form: LogoutForm { request, sealed },
                }
                .into())
            }
        }
    }

    /// `POST /oauth2/logout` from the confirmation form.
    pub async fn confirm(
        &self,
        params: &Params,
        csrf_cookie: Option<&str>,
        session_cookie: Option<&str>,
    ) -> Result<LogoutOutcome, OAuthError> {
        let expired = || {
            let (error, status) = form_expired("Sign-out expired", "sign-out");
            LogoutAnswer::Page { error, status }.into()
        };
        let Some(request) = params
            .get("request")
            .and_then(|sealed| self.browser.issuer.open::<LogoutRequest>(sealed))
        else {
            return Ok(expired());
        };
        if !csrf_accepted(csrf_cookie, params, &request.csrf) {
            let (error, status) = form_not_accepted();
            return Ok(LogoutAnswer::Page { error, status }.into());
        }
        let issuer = self.browser.issuer;
        if !self
            .browser
            .revocations
            .first_use(
                ReplayKind::LogoutForm,
                &format!("{}:{}", request.csrf, request.form_id),
                request.exp,
                issuer.now,
            )
            .await?
        {
            return Ok(expired());
        }
        match params.get("action") {
            Some("logout") => match self.browser.session(session_cookie).await? {
                Some(session) => self.end(&session, &request, 303).await,
                None => Ok(self.done(&request, 303).into()),
            },
            Some("stay") => Ok(LogoutAnswer::StillSignedIn.into()),
            _ => Ok(expired()),
        }
    }

    fn done(&self, request: &LogoutRequest, status: u16) -> LogoutAnswer {
        match request.redirect() {
            Some(location) => LogoutAnswer::Redirect { location, status },
            None => LogoutAnswer::SignedOut,
        }
    }

    /// Ends `session`: its cookie is refused from now on (a copy included), the refresh-token
    /// families of its clients are revoked, and the clients are notified.
    async fn end(
        &self,
        session: &Session,
        request: &LogoutRequest,
        status: u16,
    ) -> Result<LogoutOutcome, OAuthError> {
        let issuer = self.browser.issuer;
        let revocations = self.browser.revocations;
        issuer
            .revoke_session(revocations, &session.sid, session.exp)
            .await?;
        for client in &session.clients {
            issuer.revoke_family(revocations, &client.fid).await?;
        }
        tracing::info!(clients = session.clients.len(), "a session was logged out");
        Ok(LogoutOutcome {
            answer: self.done(request, status),
            clear_session: true,
            notifications: notifications(issuer, self.clients, session)?,
        })
    }
}
