//! The `provider` grant of older token APIs: an external identity provider's credentials
//! (`provider`, `details`) exchanged for a token once the provider confirms them. `facebook`
//! providers check the access token with the token-debug API using the app's own credentials;
//! `oidc` providers verify an ID token against the provider's keys, issuer and audience. The
//! subject is `provider:account`. Every provider failure is `invalid_grant`.

use super::{requested_audience, requested_scopes};
use crate::clock::UnixTime;
use crate::jose::{SigningAlg, MAX_JWS_LEN};
use crate::oauth::client_auth::AuthenticatedClient;
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::foreign_jwt::{
    asymmetric_policy, audience_matches, parse, verify, ForeignJwtError,
};
use crate::oauth::issuer::{AccessTokenSpec, Issuer, TokenResponse};
use crate::oauth::params::Params;
use crate::registry::ClientKeys;
use crate::registry::{Provider, ProviderKind};
use crate::revocation::Revocations;
use serde_json::{Map, Value};
use strum::IntoEnumIterator;

fn invalid(description: impl Into<std::borrow::Cow<'static, str>>) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidGrant, description)
}

/// A string member of `details` (a number is read as its decimal text).
fn detail(details: &Map<String, Value>, name: &str) -> Result<String, OAuthError> {
    match details.get(name) {
        Some(Value::String(text)) if !text.is_empty() => Ok(text.clone()),
        Some(Value::Number(number)) => Ok(number.to_string()),
        _ => Err(OAuthError::invalid_request(format!(
            "the parameter details.{name} is missing"
        ))),
    }
}

/// Facebook: the token-debug API must say the access token is valid, for this app, for this
/// account. Returns the account id.
async fn facebook(
    http: &reqwest::Client,
    now: UnixTime,
    provider: &Provider,
    app_id: &str,
    app_secret: &str,
    base_url: &str,
    details: &Map<String, Value>,
) -> Result<String, OAuthError> {
    let account_id = detail(details, "account_id")?;
    let access_token = detail(details, "access_token")?;
    let response = http
        .get(format!("{base_url}/debug_token"))
        .query(&[
            ("input_token", access_token.as_str()),
            ("access_token", &format!("{app_id}|{app_secret}")),
        ])
        .timeout(provider.timeout)
        .send()
        .await
        .map_err(|_| invalid("the provider could not be reached"))?;
    if !response.status().is_success() {
        return Err(invalid("the provider refused the credentials"));
    }
    let body: Value = response
        .json()
        .await
        .map_err(|_| invalid("the provider's answer could not be read"))?;
    let data = &body["data"];
    if data["is_valid"] != Value::Bool(true) {
        return Err(invalid("the provider says the access token is not valid"));
    }
    if data["app_id"].as_str() != Some(app_id) {
        return Err(invalid("the access token was issued for another app"));
    }
    if data["user_id"].as_str() != Some(account_id.as_str()) {
        return Err(invalid("the access token belongs to another account"));
    }
    if data["expires_at"]
        .as_i64()
        .is_some_and(|at| at != 0 && at <= now)
    {
        return Err(invalid("the provider says the access token has expired"));
    }
    Ok(account_id)
}

/// OIDC: an ID token signed by the provider, for the configured audience, current. Returns `sub`.
async fn oidc(
    own: &Issuer,
    issuer: &str,
    keys: &ClientKeys,
    audience: &str,
    details: &Map<String, Value>,
) -> Result<String, OAuthError> {
    let id_token = detail(details, "id_token")?;
    let not_valid = || invalid("the ID token is not valid");
    let every_alg: Vec<SigningAlg> = SigningAlg::iter()
        .filter(|alg| own.settings.allows_jwt_alg(*alg))
        .collect();
    let jws =
        parse(&id_token, &asymmetric_policy(&every_alg, MAX_JWS_LEN)).map_err(|_| not_valid())?;
    let verified = match verify(jws, keys.as_ref()).await {
        Ok(verified) => verified,
        Err(ForeignJwtError::KeysUnavailable) => {
            return Err(invalid("the provider's keys could not be fetched"))
        }
        Err(_) => return Err(not_valid()),
    };
    let claims: Map<String, Value> = verified.claims().map_err(|_| not_valid())?;
    if claims.get("iss").and_then(Value::as_str) != Some(issuer) {
        return Err(invalid("the ID token comes from another issuer"));
    }
    if !audience_matches(
        claims.get("aud").unwrap_or(&Value::Null),
        &[audience.to_owned()],
    ) {
        return Err(invalid("the ID token was issued for another app"));
    }
    let skew = own.settings.client_assertions.clock_skew.as_secs() as i64;
    if claims
        .get("exp")
        .and_then(Value::as_i64)
        .is_none_or(|exp| exp + skew <= own.now)
    {
        return Err(invalid("the ID token has expired"));
    }
    claims
        .get("sub")
        .and_then(Value::as_str)
        .filter(|sub| !sub.is_empty())
        .map(str::to_owned)
        .ok_or_else(not_valid)
}

pub async fn grant(
    issuer: &Issuer,
    http: &reqwest::Client,
    revocations: &Revocations,
    client: &AuthenticatedClient,
    params: &Params,
) -> Result<TokenResponse, OAuthError> {
    let name = params.require("provider")?;
    let provider = issuer
        .settings
        .providers
        .get(name)
        .ok_or_else(|| OAuthError::invalid_request("the provider is not configured"))?;
    let details = params
        .object("details")
        .and_then(Value::as_object)
        .ok_or_else(|| OAuthError::missing_parameter("details"))?;
    let account = match &provider.kind {
        ProviderKind::Facebook {
            app_id,
            app_secret,
            base_url,
        } => {
            facebook(
                http,
                issuer.now,
                provider,
                app_id,
                app_secret.expose(),
                base_url,
                details,
            )
            .await?
        }
        ProviderKind::Oidc {
            issuer: provider_issuer,
            keys,
            audience,
        } => oidc(issuer, provider_issuer, keys, audience, details).await?,
    };
    let subject = format!("{}:{account}", provider.name);
    let scopes = requested_scopes(params, &client.scopes, &client.default_scopes)?;
    let audience = requested_audience(params, client)?;
    // Which provider vouched for the subject: userinfo answers for it.
    let mut extra = Map::new();
    extra.insert("idp".into(), Value::from(provider.name.as_str()));
    let access_token = issuer
        .access_token(
            revocations,
            AccessTokenSpec {
                client,
                subject: &subject,
                scopes: &scopes,
                audience: &audience,
                user: None,
                extra: Some(&extra),
                cnf: &client.binding,
                not_after: None,
                status: None,
            },
        )
        .await?;
    let mut response = TokenResponse::issued(access_token, &scopes);
    response.profile_subject = Some(subject);
    Ok(response)
}
