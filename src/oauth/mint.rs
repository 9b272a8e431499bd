//! Minting an access token offline, with the configured keys, for tests and debugging: the
//! same rules as the token endpoint (a registered client, scopes and audiences it may have, the
//! user's claims for a user token), signed and, where configured, encrypted by the `Issuer`.

use super::client_auth::Binding;
use super::error::OAuthError;
use super::grants::{requested_audience, requested_scopes};
use super::issuer::{AccessToken, AccessTokenSpec, Issuer};
use super::params::Params;
use crate::revocation::Revocations;

/// What to mint.
pub struct MintRequest<'a> {
    pub client_id: &'a str,
    /// A user of the configuration for a user token (`sub`, `auth_time` now, the user's
    /// claims); the client itself when `None`.
    pub username: Option<&'a str>,
    /// Space-separated; the client's default scopes when `None`.
    pub scope: Option<&'a str>,
    /// The audiences the token names; all of the client's when empty.
    pub audience: &'a [String],
}

/// An access token as the token endpoint would issue it to `request.client_id`, at the issuer's
/// instant, its status-list entry taken from `revocations`.
pub async fn mint(
    issuer: &Issuer,
    revocations: &Revocations,
    request: &MintRequest<'_>,
) -> Result<AccessToken, OAuthError> {
    let settings = &issuer.settings;
    let client = settings.clients.get(request.client_id).ok_or_else(|| {
        OAuthError::invalid_client(format!(
            "no client {} in the configuration",
            request.client_id
        ))
    })?;
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    if let Some(scope) = request.scope {
        form.append_pair("scope", scope);
    }
    for audience in request.audience {
        form.append_pair("audience", audience);
    }
    let params = Params::from_form(form.finish().as_bytes())?;
    let scopes = requested_scopes(&params, &client.scopes, &client.default_scopes)?;
    let audience = requested_audience(&params, client)?;
    let user = match request.username {
        None => None,
        Some(name) => Some(settings.users.get(name).ok_or_else(|| {
            OAuthError::invalid_request(format!("no user {name} in the configuration"))
        })?),
    };
    let spec = AccessTokenSpec {
        client,
        subject: user.map_or(client.id.as_str(), |user| user.username.as_str()),
        scopes: &scopes,
        audience: &audience,
        user: user.map(|user| (user.as_ref(), issuer.now)),
        extra: None,
        cnf: &Binding::None,
        not_after: None,
        status: None,
    };
    issuer.access_token(revocations, spec).await
}
