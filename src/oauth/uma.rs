//! UMA 2.0 (grant for OAuth 2.0 authorization): permission tickets a resource server asks for,
//! signed and short-lived (no state), and the policies in the configuration that decide who gets
//! which scopes of a resource.

use super::error::OAuthError;
use super::issuer::Issuer;
use super::token_kind::TokenKind;
use super::tokens::OwnClaims;
use crate::registry::UmaResource;
use crate::registry::User;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How long a permission ticket is valid.
pub const TICKET_TTL_SECS: i64 = 300;

/// One requested or granted permission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permission {
    pub resource_id: String,
    #[serde(default)]
    pub resource_scopes: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct TicketClaims {
    pub iss: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    /// The resource server that asked for it.
    pub rs: String,
    pub permissions: Vec<Permission>,
}

impl OwnClaims for TicketClaims {
    const KIND: TokenKind = TokenKind::UmaTicket;

    fn iss(&self) -> Option<&str> {
        Some(&self.iss)
    }

    fn exp(&self) -> i64 {
        self.exp
    }
}

/// Signs a ticket for `permissions`, asked for by resource server `rs`.
pub fn issue_ticket(
    issuer: &Issuer,
    rs: &str,
    permissions: Vec<Permission>,
) -> Result<String, OAuthError> {
    issuer.sign(
        TokenKind::UmaTicket,
        &TicketClaims {
            iss: issuer.settings.issuer.clone(),
            iat: issuer.now,
            exp: issuer.now + TICKET_TTL_SECS,
            jti: super::issuer::random_id(),
            rs: rs.to_owned(),
            permissions,
        },
    )
}

/// The party asking: a user (from a claim token), or the client itself.
pub struct Party<'a> {
    pub client_id: &'a str,
    pub user: Option<&'a User>,
}

impl Party<'_> {
    fn groups(&self) -> Vec<&str> {
        self.user
            .and_then(|user| user.claims.get("groups"))
            .and_then(Value::as_array)
            .map(|groups| groups.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }
}

/// The scopes of `requested` that `resource`'s policies give `party`.
pub fn granted_scopes(
    resource: &UmaResource,
    requested: &[String],
    party: &Party<'_>,
) -> Vec<String> {
    let groups = party.groups();
    let mut granted: Vec<String> = Vec::new();
    for policy in &resource.policies {
        let matches = policy
            .clients
            .iter()
            .any(|client| client == party.client_id)
            || party
                .user
                .is_some_and(|user| policy.users.contains(&user.username))
            || policy
                .groups
                .iter()
                .any(|group| groups.contains(&group.as_str()));
        if !matches {
            continue;
        }
        let allowed = if policy.scopes.is_empty() {
            &resource.scopes
        } else {
            &policy.scopes
        };
        for scope in requested.iter().filter(|scope| allowed.contains(scope)) {
            if !granted.contains(scope) {
                granted.push(scope.clone());
            }
        }
    }
    granted
}

/// Whether knowing the user could change the answer: a policy names users or groups.
pub fn needs_a_user(resource: &UmaResource) -> bool {
    resource
        .policies
        .iter()
        .any(|policy| !policy.users.is_empty() || !policy.groups.is_empty())
}
