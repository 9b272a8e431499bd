//! OpenID Connect Back-Channel Logout 1.0: when a session ends, every client that signed in
//! with it and registered a `backchannel_logout_uri` gets a signed logout token (`typ`
//! logout+jwt, the session's `sid`, the back-channel logout event), posted server to server.
//! Delivery runs on its own tasks with a timeout: a client that is down or slow never delays or
//! fails the user's logout, and is only logged.

use super::authorize::Session;
use super::error::OAuthError;
use super::issuer::{random_id, Issuer};
use super::token_kind::TokenKind;
use super::tokens::OwnClaims;
use crate::clock::UnixTime;
use crate::registry::ClientRegistry;
use crate::settings::LOGOUT_TOKEN_TTL_SECS;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::time::Duration;

/// The event a logout token declares (Back-Channel Logout 1.0 2.4).
pub const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// The claims of a logout token. Never a `nonce` (2.4), so it cannot pass for an ID token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogoutTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub iat: UnixTime,
    pub exp: UnixTime,
    pub jti: String,
    pub sid: String,
    pub events: Map<String, Value>,
}

impl OwnClaims for LogoutTokenClaims {
    const KIND: TokenKind = TokenKind::Logout;

    fn iss(&self) -> Option<&str> {
        Some(&self.iss)
    }

    fn exp(&self) -> UnixTime {
        self.exp
    }
}

/// One logout token for one client.
#[derive(Debug, Clone)]
pub struct Notification {
    pub client_id: String,
    pub uri: String,
    pub logout_token: String,
}

/// The logout tokens for the clients of `session` that take back-channel logout.
pub fn notifications(
    issuer: &Issuer,
    clients: &ClientRegistry,
    session: &Session,
) -> Result<Vec<Notification>, OAuthError> {
    let mut notifications = Vec::new();
    for joined in &session.clients {
        let Some(client) = clients.get(&joined.client_id) else {
            continue;
        };
        let Some(uri) = &client.backchannel_logout_uri else {
            continue;
        };
        let mut events = Map::new();
        events.insert(
            BACKCHANNEL_LOGOUT_EVENT.to_owned(),
            Value::Object(Map::new()),
        );
        let claims = LogoutTokenClaims {
            iss: issuer.settings.issuer.clone(),
            sub: session.sub.clone(),
            aud: client.id.clone(),
            iat: issuer.now,
            exp: issuer.now + LOGOUT_TOKEN_TTL_SECS,
            jti: random_id(),
            sid: session.sid.clone(),
            events,
        };
        notifications.push(Notification {
            client_id: client.id.clone(),
            uri: uri.clone(),
            logout_token: issuer.sign(TokenKind::Logout, &claims)?,
        });
    }
    Ok(notifications)
}

/// Posts each notification on a task of its own (2.5: a form with `logout_token`), each bounded
/// by `timeout`; returns at once. 200 or 204 is success (2.8); anything else is logged.
pub fn deliver(http: &reqwest::Client, notifications: Vec<Notification>, timeout: Duration) {
    for notification in notifications {
        let http = http.clone();
        tokio::spawn(async move {
            let sent = http
                .post(&notification.uri)
                .timeout(timeout)
                .header(reqwest::header::CACHE_CONTROL, "no-store")
                .form(&[("logout_token", notification.logout_token.as_str())])
                .send()
                .await;
            match sent {
                Ok(answer) if matches!(answer.status().as_u16(), 200 | 204) => {
                    tracing::info!(client_id = %notification.client_id, "back-channel logout delivered");
                }
                Ok(answer) => tracing::warn!(
                    client_id = %notification.client_id,
                    status = answer.status().as_u16(),
                    "back-channel logout refused by the client"
                ),
                // The error names the URI and the cause, never the token.
                Err(err) => tracing::warn!(
                    client_id = %notification.client_id,
                    error = %err.without_url(),
                    "back-channel logout not delivered"
                ),
            }
        });
    }
}
