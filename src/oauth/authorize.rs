//! The authorization code flow's protocol side (RFC 6749 4.1, RFC 7636, OIDC Core 3.1): the
//! validated authorization request, the sealed values the flow carries (request, session,
//! code), and how errors reach the client.

use super::error::{ErrorCode, OAuthError};
use super::issuer::Issuer;
use super::params::Params;
use super::token_kind::TokenKind;
use super::tokens::{OwnClaims, RevocationId};
use super::types::{GrantType, ScopeSet};
use crate::clock::UnixTime;
use crate::registry::{Client, ClientRegistry};
use crate::revocation::status_list::StatusRef;
use crate::revocation::Revocations;
use crate::settings::Profile;
use aws_lc_rs::digest;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// How long a login form stays usable.
pub const FORM_TTL_SECS: i64 = 600;

/// An error that cannot go back to the client (unknown client, bad redirect URI): shown on a
/// page, never redirected.
#[derive(Debug, Clone)]
pub struct PageError {
    pub title: &'static str,
    pub description: String,
}

/// An error that goes back to the redirect URI (RFC 6749 4.1.2.1).
#[derive(Debug, Clone)]
pub struct RedirectError {
    pub error: ErrorCode,
    pub description: String,
}

fn redirect_error(error: ErrorCode, description: impl Into<String>) -> RedirectError {
    RedirectError {
        error,
        description: description.into(),
    }
}

/// The same error answered directly, as the pushed authorization request endpoint does (RFC 9126
/// 2.3).
impl From<RedirectError> for OAuthError {
    fn from(error: RedirectError) -> Self {
        OAuthError::new(error.error, error.description)
    }
}

/// PKCE code challenge methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChallengeMethod {
    S256,
    #[serde(rename = "plain")]
    Plain,
}

/// `prompt` (OIDC Core 3.1.2.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
}

/// A checked authorization request; what the login form carries sealed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthorizationRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<ChallengeMethod>,
    pub prompt: Prompt,
    pub max_age: Option<i64>,
    /// RFC 9449 10: the thumbprint of the DPoP key the code will be bound to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_jkt: Option<String>,
    /// Binds the form to the browser's CSRF cookie.
    pub csrf: String,
    /// Tells one rendered form from another (consent forms answer once).
    #[serde(default)]
    pub form_id: String,
    /// Set once the user has signed in (the consent step carries it).
    #[serde(default)]
    pub signed_in: Option<SignedIn>,
    pub exp: UnixTime,
    /// The pushed request (RFC 9126) this one came from, used up when its code is issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pushed: Option<PushedUse>,
}

/// Which pushed request an authorization request came from: its id in the replay store, and when
/// its `request_uri` expires.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PushedUse {
    pub jti: String,
    pub exp: UnixTime,
}

/// How many clients one session remembers; a further client asks the user to sign in again
/// (starting a new session), so the session cookie stays well under the 4 KiB browsers keep.
pub const MAX_SESSION_CLIENTS: usize = 16;
/// The most bytes of client ids one session remembers (ids may be up to 255 bytes).
const MAX_SESSION_CLIENT_ID_BYTES: usize = 1024;

/// A signed-in browser: the encrypted session cookie's content. It remembers the clients the
/// user signed into with it, so that logging out reaches them (no server state).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    pub sub: String,
    pub auth_time: UnixTime,
    pub exp: UnixTime,
    /// OpenID Connect `sid`: names the session in ID tokens and logout tokens.
    #[serde(default)]
    pub sid: String,
    #[serde(default)]
    pub clients: Vec<SessionClient>,
}

/// A client signed into with a session, and the refresh-token family its grants from this
/// session belong to (revoked when the session is logged out).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionClient {
    pub client_id: String,
    pub fid: String,
}

impl Session {
    /// A new session for `sub`, signed in at `now`.
    pub fn new(sub: &str, now: UnixTime, ttl_secs: i64) -> Self {
        Self {
            sub: sub.to_owned(),
            auth_time: now,
            exp: now + ttl_secs,
            sid: super::issuer::random_id(),
            clients: Vec::new(),
        }
    }

    /// The family of `client_id`'s grants from this session, if it joined.
    pub fn family(&self, client_id: &str) -> Option<&str> {
        self.clients
            .iter()
            .find(|client| client.client_id == client_id)
            .map(|client| client.fid.as_str())
    }

    /// Whether `client_id` has joined, or there is room for it to.
    pub fn can_join(&self, client_id: &str) -> bool {
        let used: usize = self.clients.iter().map(|c| c.client_id.len()).sum();
        self.family(client_id).is_some()
            || (self.clients.len() < MAX_SESSION_CLIENTS
                && used + client_id.len() <= MAX_SESSION_CLIENT_ID_BYTES)
    }

    /// Records that `client_id` signed in with this session; its family, and whether the
    /// session changed. `None` when the session has no room (see [`Session::can_join`]).
    pub fn join(&mut self, client_id: &str) -> Option<(String, bool)> {
        if let Some(fid) = self.family(client_id) {
            return Some((fid.to_owned(), false));
        }
        if !self.can_join(client_id) {
            return None;
        }
        let fid = super::issuer::random_id();
        self.clients.push(SessionClient {
            client_id: client_id.to_owned(),
            fid: fid.clone(),
        });
        Some((fid, true))
    }

    /// Joins `client_id` (see [`Session::join`]) and says who its grants are for.
    pub fn sign_into(&mut self, client_id: &str) -> Option<(SignedIn, bool)> {
        let (fid, changed) = self.join(client_id)?;
        let signed_in = SignedIn {
            sub: self.sub.clone(),
            auth_time: self.auth_time,
            sid: self.sid.clone(),
            fid,
        };
        Some((signed_in, changed))
    }
}

/// The content of an authorization code.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CodeClaims {
    pub iss: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub sub: String,
    pub auth_time: UnixTime,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<ChallengeMethod>,
    pub exp: UnixTime,
    pub jti: String,
    /// The status-list entry of the access token the code will be exchanged for, set aside
    /// now: if the code is used twice, that token is revoked with it.
    #[serde(default)]
    pub status: Option<StatusRef>,
    /// The session the code came from.
    #[serde(default)]
    pub sid: Option<String>,
    /// The refresh-token family of the client in that session (else the code's `jti`).
    #[serde(default)]
    pub fid: Option<String>,
    /// RFC 9449 10: the code is exchanged only with a DPoP proof by this key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_jkt: Option<String>,
}

impl CodeClaims {
    /// The refresh-token family of what this code is exchanged for.
    pub fn family(&self) -> &str {
        self.fid.as_deref().unwrap_or(&self.jti)
    }
}

impl OwnClaims for AuthorizationRequest {
    const KIND: TokenKind = TokenKind::AuthorizationForm;

    fn exp(&self) -> UnixTime {
        self.exp
    }
}

impl OwnClaims for Session {
    const KIND: TokenKind = TokenKind::Session;

    fn exp(&self) -> UnixTime {
        self.exp
    }

    /// A logged-out session stays refused until it would have expired, even where a copy of
    /// its cookie survives.
    fn revocation_id(&self) -> Option<RevocationId<'_>> {
        Some(RevocationId::Session(&self.sid))
    }
}

impl OwnClaims for CodeClaims {
    const KIND: TokenKind = TokenKind::Code;

    fn iss(&self) -> Option<&str> {
        Some(&self.iss)
    }

    fn exp(&self) -> UnixTime {
        self.exp
    }
}

/// A base64url SHA-256 digest: what an RFC 7638 thumbprint (`dpop_jkt`) looks like.
fn is_sha256_thumbprint(value: &str) -> bool {
    value.len() == 43
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `code_verifier` / `code_challenge` syntax (RFC 7636 4.1): 43 to 128 unreserved characters.
pub fn is_pkce_value(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// Whether `verifier` matches `challenge` under `method` (compared in constant time).
pub fn pkce_matches(method: ChallengeMethod, challenge: &str, verifier: &str) -> bool {
    let computed = match method {
        ChallengeMethod::S256 => {
            URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, verifier.as_bytes()))
        }
        ChallengeMethod::Plain => verifier.to_owned(),
    };
    computed.len() == challenge.len()
        && subtle::ConstantTimeEq::ct_eq(computed.as_bytes(), challenge.as_bytes()).into()
}

/// A redirect URI as RFC 3986 wants it: absolute, no fragment.
pub fn is_well_formed_redirect(uri: &str) -> bool {
    url::Url::parse(uri).is_ok_and(|url| url.fragment().is_none() && !url.cannot_be_a_base())
}

/// Checks the client and the redirect URI, under the security `profile` the server follows:
/// until both are known good, errors are shown, not redirected.
pub fn client_and_redirect(
    clients: &ClientRegistry,
    params: &Params,
    profile: Option<Profile>,
) -> Result<(Arc<Client>, String), PageError> {
    let client_id = params.get("client_id").ok_or_else(|| PageError {
        title: "Invalid request",
        description: "the parameter client_id is missing".into(),
    })?;
    let client = clients.get(client_id).cloned().ok_or_else(|| PageError {
        title: "Unknown client",
        description: "the client doesn't exist".into(),
    })?;
    let redirect_uri = match params.get("redirect_uri") {
        Some(uri) => {
            if !is_well_formed_redirect(uri) {
                return Err(PageError {
                    title: "Invalid redirect URI",
                    description: "Based on the RFC-3986 the redirection-uri is not well formed"
                        .into(),
                });
            }
            if !client
                .redirect_uris
                .iter()
                .any(|registered| registered == uri)
            {
                return Err(PageError {
                    title: "Invalid redirect URI",
                    description: format!(
                        "the redirect URI is not registered for the client {}",
                        client.id
                    ),
                });
            }
            uri.to_owned()
        }
        None => match client.redirect_uris.as_slice() {
            [only] => only.clone(),
            _ => {
                return Err(PageError {
                    title: "Invalid request",
                    description: "the parameter redirect_uri is missing".into(),
                })
            }
        },
    };
    // FAPI 2.0 5.3.2.2: config check refuses other registered URIs; this holds for settings
    // made in code too.
    if profile == Some(Profile::Fapi2) && !redirect_uri.starts_with("https://") {
        return Err(PageError {
            title: "Invalid redirect URI",
            description: "the FAPI 2.0 profile redirects to https URIs only".into(),
        });
    }
    Ok((client, redirect_uri))
}

/// Checks the rest of the request for a known client and redirect URI, under the security
/// `profile` the server follows. The authorization endpoint and the pushed authorization request
/// endpoint both check with this.
pub fn validate(
    client: &Client,
    redirect_uri: String,
    params: &Params,
    csrf: String,
    now: UnixTime,
    profile: Option<Profile>,
) -> Result<AuthorizationRequest, RedirectError> {
    let response_type = params.get("response_type").ok_or_else(|| {
        redirect_error(
            ErrorCode::InvalidRequest,
            "the parameter response_type is missing",
        )
    })?;
    if response_type != "code" {
        let shown: String = response_type
            .chars()
            .filter(|c| c.is_ascii_graphic() || *c == ' ')
            .take(64)
            .collect();
        return Err(redirect_error(
            ErrorCode::UnsupportedResponseType,
            format!(
                "the client '{}' doesn't support the response type: '{shown}'",
                client.id
            ),
        ));
    }
    if !client.allows_grant(GrantType::AuthorizationCode) {
        return Err(redirect_error(
            ErrorCode::UnauthorizedClient,
            format!(
                "the client {} doesn't support the grant type authorization_code",
                client.id
            ),
        ));
    }
    let scopes = super::grants::requested_scopes(params, &client.scopes, &client.default_scopes)
        .map_err(|err| redirect_error(ErrorCode::InvalidScope, err.description.into_owned()))?;
    let code_challenge = params.get("code_challenge");
    let code_challenge_method = match (code_challenge, params.get("code_challenge_method")) {
        (None, None) => None,
        (None, Some(_)) => {
            return Err(redirect_error(
                ErrorCode::InvalidRequest,
                "the parameter code_challenge is missing",
            ))
        }
        (Some(_), Some("S256")) => Some(ChallengeMethod::S256),
        // RFC 7636 4.3: no method means plain.
        (Some(_), Some("plain") | None) => Some(ChallengeMethod::Plain),
        (Some(_), Some(_)) => {
            return Err(redirect_error(
                ErrorCode::InvalidRequest,
                "the code challenge method is not supported (S256)",
            ))
        }
    };
    if let Some(challenge) = code_challenge {
        if !is_pkce_value(challenge) {
            return Err(redirect_error(
                ErrorCode::InvalidRequest,
                "the code challenge must be 43 to 128 characters of [A-Za-z0-9-._~]",
            ));
        }
    }
    if code_challenge_method == Some(ChallengeMethod::Plain) && !client.allow_plain_pkce {
        return Err(redirect_error(
            ErrorCode::InvalidRequest,
            "the code challenge method plain is not allowed; use S256",
        ));
    }
    if code_challenge.is_none() && client.is_public() {
        return Err(redirect_error(
            ErrorCode::InvalidRequest,
            "a public client must send a PKCE code_challenge (S256)",
        ));
    }
    // FAPI 2.0 5.3.2.2: PKCE with S256 for every client.
    if profile == Some(Profile::Fapi2) && code_challenge_method != Some(ChallengeMethod::S256) {
        return Err(redirect_error(
            ErrorCode::InvalidRequest,
            "the FAPI 2.0 profile requires a PKCE code_challenge with code_challenge_method S256",
        ));
    }
    let mut prompt = Prompt::default();
    if let Some(values) = params.get("prompt") {
        for value in values.split(' ').filter(|v| !v.is_empty()) {
            match value {
                "none" => prompt.none = true,
                "login" => prompt.login = true,
                "consent" => prompt.consent = true,
                "select_account" => {}
                _ => {
                    return Err(redirect_error(
                        ErrorCode::InvalidRequest,
                        "the prompt parameter has an unknown value",
                    ))
                }
            }
        }
        if prompt.none && (prompt.login || prompt.consent) {
            return Err(redirect_error(
                ErrorCode::InvalidRequest,
                "prompt=none cannot be combined with other values",
            ));
        }
    }
    let dpop_jkt = params.get("dpop_jkt");
    if dpop_jkt.is_some_and(|jkt| !is_sha256_thumbprint(jkt)) {
        return Err(redirect_error(
            ErrorCode::InvalidRequest,
            "the dpop_jkt parameter must be a JWK SHA-256 thumbprint (43 base64url characters)",
        ));
    }
    let max_age = match params.get("max_age") {
        None => None,
        Some(text) => Some(
            text.parse::<i64>()
                .ok()
                .filter(|age| *age >= 0)
                .ok_or_else(|| {
                    redirect_error(
                        ErrorCode::InvalidRequest,
                        "max_age must be a number of seconds",
                    )
                })?,
        ),
    };
    Ok(AuthorizationRequest {
        client_id: client.id.clone(),
        redirect_uri,
        scope: scopes.to_string(),
        state: params.get("state").map(str::to_owned),
        nonce: params.get("nonce").map(str::to_owned),
        code_challenge: code_challenge.map(str::to_owned),
        code_challenge_method,
        prompt,
        max_age,
        dpop_jkt: dpop_jkt.map(str::to_owned),
        csrf,
        form_id: super::issuer::random_id(),
        signed_in: None,
        exp: now + FORM_TTL_SECS,
        pushed: None,
    })
}

impl AuthorizationRequest {
    /// A request known only by its client and redirect URI (and `state`): enough to send an
    /// error back to the client.
    pub fn bare(
        client_id: &str,
        redirect_uri: String,
        state: Option<String>,
        now: UnixTime,
    ) -> Self {
        Self {
            client_id: client_id.to_owned(),
            redirect_uri,
            scope: String::new(),
            state,
            nonce: None,
            code_challenge: None,
            code_challenge_method: None,
            prompt: Prompt::default(),
            max_age: None,
            dpop_jkt: None,
            csrf: String::new(),
            form_id: String::new(),
            signed_in: None,
            exp: now,
            pushed: None,
        }
    }

    /// The id under which this rendered form is used once.
    pub fn csrf_form_id(&self) -> String {
        format!("{}:{}", self.csrf, self.form_id)
    }

    pub fn scopes(&self) -> ScopeSet {
        ScopeSet::parse(&self.scope).unwrap_or_default()
    }

    /// Whether a session that began at `auth_time` is recent enough for `max_age`. Times are
    /// whole seconds, so a session made this very second is 0 seconds old: `max_age=0` must
    /// still ask for the password (OIDC Core 3.1.2.1: it means the same as `prompt=login`).
    pub fn accepts_auth_time(&self, auth_time: UnixTime, now: UnixTime) -> bool {
        self.max_age
            .is_none_or(|max_age| max_age > 0 && now - auth_time <= max_age)
    }

    /// The redirect carrying `pairs`, plus `state` and `iss` (RFC 9207).
    pub fn redirect_with(&self, issuer: &str, pairs: &[(&str, &str)]) -> String {
        let mut url = url::Url::parse(&self.redirect_uri).expect("redirect URIs were checked");
        {
            let mut query = url.query_pairs_mut();
            for (name, value) in pairs {
                query.append_pair(name, value);
            }
            if let Some(state) = &self.state {
                query.append_pair("state", state);
            }
            query.append_pair("iss", issuer);
        }
        url.into()
    }

    pub fn error_redirect(&self, issuer: &str, error: &RedirectError) -> String {
        self.redirect_with(
            issuer,
            &[
                ("error", error.error.as_str()),
                ("error_description", &error.description),
            ],
        )
    }

    /// Issues the code for the user of `session`, in which the client has the family `fid`.
    pub async fn code(
        &self,
        issuer: &Issuer,
        revocations: &Revocations,
        session: &SignedIn,
    ) -> Result<String, OAuthError> {
        let now = issuer.now;
        let status = revocations.allocate_status(now).await?;
        issuer.seal(
            TokenKind::Code,
            &CodeClaims {
                iss: issuer.settings.issuer.clone(),
                client_id: self.client_id.clone(),
                redirect_uri: self.redirect_uri.clone(),
                scope: self.scope.clone(),
                sub: session.sub.clone(),
                auth_time: session.auth_time,
                nonce: self.nonce.clone(),
                code_challenge: self.code_challenge.clone(),
                code_challenge_method: self.code_challenge_method,
                exp: now + issuer.settings.code_ttl().as_secs() as i64,
                jti: super::issuer::random_id(),
                status: Some(status),
                sid: Some(session.sid.clone()),
                fid: Some(session.fid.clone()),
                dpop_jkt: self.dpop_jkt.clone(),
            },
        )
    }
}

/// Who a grant from a browser session is for: the user, when they signed in, the session, and
/// the client's refresh-token family in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedIn {
    pub sub: String,
    pub auth_time: UnixTime,
    pub sid: String,
    pub fid: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_follows_rfc_7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(is_pkce_value(verifier));
        assert!(pkce_matches(ChallengeMethod::S256, challenge, verifier));
        assert!(!pkce_matches(
            ChallengeMethod::S256,
            challenge,
            &verifier.replace('d', "e")
        ));
        assert!(pkce_matches(ChallengeMethod::Plain, verifier, verifier));
        assert!(!is_pkce_value("short"));
    }
}
