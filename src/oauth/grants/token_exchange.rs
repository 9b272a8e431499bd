//! RFC 8693 token exchange: a subject token (an access token of ours, or a trusted issuer's JWT),
//! optionally an actor token, for a new access token for this client. With an actor the result
//! carries `act` (delegation, nesting any earlier `act`). Scopes never widen beyond the subject
//! token's.

use super::jwt_bearer::{limited, limited_audience};
use super::{requested_audience, requested_scopes};
use crate::oauth::client_auth::{AuthenticatedClient, Binding};
use crate::oauth::error::OAuthError;
use crate::oauth::issuer::{AccessTokenSpec, Issuer, TokenResponse};
use crate::oauth::params::Params;
use crate::oauth::tokens::{AccessTokenClaims, Reading};
use crate::oauth::trusted;
use crate::oauth::types::ScopeSet;
use crate::registry::TrustedIssuer;
use crate::revocation::Revocations;
use serde_json::{Map, Value};

pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
pub const JWT_TYPE: &str = "urn:ietf:params:oauth:token-type:jwt";

/// Who a presented token speaks for, and what it allows.
struct Party {
    sub: String,
    /// The scopes of an access token of ours.
    scopes: Option<ScopeSet>,
    /// A trusted issuer's token: its limits apply.
    issuer: Option<TrustedIssuer>,
    act: Option<Value>,
    /// What the token is bound to: a certificate (RFC 8705 3), a DPoP key (RFC 9449 6).
    binding: Binding,
    /// When the presented token expires.
    exp: i64,
}

/// The handles reading a presented token needs.
struct Readers<'a> {
    issuer: &'a Issuer,
    revocations: &'a Revocations,
}

async fn read(
    readers: &Readers<'_>,
    token: &str,
    token_type: &str,
    what: &'static str,
) -> Result<Party, OAuthError> {
    if token_type != ACCESS_TOKEN_TYPE && token_type != JWT_TYPE {
        return Err(OAuthError::invalid_request(format!(
            "the token type {} is not supported",
            token_type.chars().take(80).collect::<String>()
        )));
    }
    let claims = match readers
        .issuer
        .read::<AccessTokenClaims>(readers.revocations, token)
        .await?
    {
        Reading::Valid(claims) => claims,
        Reading::Revoked(_) => return Err(OAuthError::invalid_grant(what)),
        Reading::Invalid if token_type == ACCESS_TOKEN_TYPE => {
            return Err(OAuthError::invalid_grant(what))
        }
        Reading::Invalid => {
            let jwt = trusted::verify(readers.issuer, token, what).await?;
            return Ok(Party {
                sub: jwt.subject,
                scopes: None,
                act: jwt.claims.get("act").cloned(),
                binding: Binding::None,
                exp: jwt.exp,
                issuer: Some(jwt.issuer),
            });
        }
    };
    Ok(Party {
        scopes: Some(
            ScopeSet::parse(claims.scope.as_deref().unwrap_or_default()).unwrap_or_default(),
        ),
        issuer: None,
        exp: claims.exp,
        act: claims.other.get("act").cloned(),
        binding: claims.binding(),
        sub: claims.sub,
    })
}

pub async fn grant(
    issuer: &Issuer,
    revocations: &Revocations,
    client: &AuthenticatedClient,
    params: &Params,
) -> Result<TokenResponse, OAuthError> {
    let readers = Readers {
        issuer,
        revocations,
    };
    let binding = &client.binding;
    let subject_token = params.require("subject_token")?;
    let subject_type = params.require("subject_token_type")?;
    if let Some(requested) = params.get("requested_token_type") {
        if requested != ACCESS_TOKEN_TYPE && requested != JWT_TYPE {
            return Err(OAuthError::invalid_request(
                "the requested_token_type is not supported (access_token, jwt)",
            ));
        }
    }
    let subject = read(
        &readers,
        subject_token,
        subject_type,
        "the subject token is not valid",
    )
    .await?;
    // A sender-constrained subject token can only be exchanged by its holder: with its
    // certificate, or with a DPoP proof by its key.
    match &subject.binding {
        Binding::Certificate(_) if subject.binding != *binding => {
            return Err(OAuthError::invalid_grant(
                "the subject token is bound to a certificate this request did not present",
            ))
        }
        Binding::Dpop(_) if subject.binding != *binding => {
            return Err(OAuthError::invalid_grant(
                "the subject token is bound to a DPoP key this request did not prove",
            ))
        }
        _ => {}
    }
    let actor = match (params.get("actor_token"), params.get("actor_token_type")) {
        (Some(token), Some(token_type)) => {
            Some(read(&readers, token, token_type, "the actor token is not valid").await?)
        }
        (Some(_), None) => return Err(OAuthError::missing_parameter("actor_token_type")),
        (None, Some(_)) => return Err(OAuthError::missing_parameter("actor_token")),
        (None, None) => None,
    };

    // Never wider than the subject token, the client, or the subject's issuer allow.
    let mut allowed: ScopeSet = match &subject.scopes {
        Some(scopes) => scopes
            .iter()
            .filter(|scope| client.scopes.contains(scope))
            .cloned()
            .collect(),
        None => client.scopes.clone(),
    };
    if let Some(issuer) = &subject.issuer {
        allowed = limited(&allowed, issuer);
    }
    let scopes = requested_scopes(params, &allowed, &allowed)?;
    let audience = match &subject.issuer {
        Some(issuer) => limited_audience(params, client, issuer)?,
        None => requested_audience(params, client)?.into_owned(),
    };

    let mut extra = Map::new();
    match (actor, subject.act) {
        (Some(actor), earlier) => {
            let mut act = Map::new();
            act.insert("sub".into(), Value::from(actor.sub));
            if let Some(earlier) = earlier {
                act.insert("act".into(), earlier);
            }
            extra.insert("act".into(), Value::Object(act));
        }
        (None, Some(earlier)) => {
            extra.insert("act".into(), earlier);
        }
        (None, None) => {}
    }
    let access_token = issuer
        .access_token(
            revocations,
            AccessTokenSpec {
                client,
                subject: &subject.sub,
                scopes: &scopes,
                audience: &audience,
                user: None,
                extra: (!extra.is_empty()).then_some(&extra),
                cnf: binding,
                // The exchanged token never outlives the subject token.
                not_after: Some(subject.exp),
                status: None,
            },
        )
        .await?;
    let mut response = TokenResponse::issued(access_token, &scopes);
    response.issued_token_type = Some(ACCESS_TOKEN_TYPE);
    Ok(response)
}
