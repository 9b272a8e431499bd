//! Typed protocol values: parsed once at the edge, trusted everywhere after.

use crate::names;
use std::fmt;
use strum::{Display, EnumIter, EnumString, IntoStaticStr};

/// A scope token (RFC 6749 3.3: `1*NQCHAR`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope(String);

impl Scope {
    pub fn parse(token: &str) -> Option<Scope> {
        let valid = !token.is_empty()
            && token
                .bytes()
                .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b));
        valid.then(|| Scope(token.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An ordered set of scopes, without repeats.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeSet(Vec<Scope>);

impl ScopeSet {
    /// Parses a space-delimited scope parameter; on failure returns the tokens that are not valid
    /// scope syntax.
    pub fn parse(value: &str) -> Result<ScopeSet, Vec<String>> {
        let mut scopes = ScopeSet::default();
        let mut invalid = Vec::new();
        for token in value.split(' ').filter(|token| !token.is_empty()) {
            match Scope::parse(token) {
                Some(scope) => scopes.insert(scope),
                None => invalid.push(token.to_owned()),
            }
        }
        if invalid.is_empty() {
            Ok(scopes)
        } else {
            Err(invalid)
        }
    }

    pub fn insert(&mut self, scope: Scope) {
        if !self.0.contains(&scope) {
            self.0.push(scope);
        }
    }

    pub fn contains(&self, scope: &Scope) -> bool {
        self.0.contains(scope)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Scope> {
        self.0.iter()
    }

    /// The space-delimited value (what `Display` writes), without the formatting machinery.
    pub fn joined(&self) -> String {
        let len = self
            .0
            .iter()
            .map(|scope| scope.as_str().len() + 1)
            .sum::<usize>();
        let mut text = String::with_capacity(len);
        for (i, scope) in self.0.iter().enumerate() {
            if i > 0 {
                text.push(' ');
            }
            text.push_str(scope.as_str());
        }
        text
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The scopes of `self` that `allowed` does not hold.
    pub fn not_in(&self, allowed: &ScopeSet) -> Vec<&Scope> {
        self.0
            .iter()
            .filter(|scope| !allowed.contains(scope))
            .collect()
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, scope) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(scope.as_str())?;
        }
        Ok(())
    }
}

impl FromIterator<Scope> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        let mut set = ScopeSet::default();
        for scope in iter {
            set.insert(scope);
        }
        set
    }
}

/// The grant types this server implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, IntoStaticStr, Display, EnumString)]
#[strum(
    serialize_all = "snake_case",
    parse_err_ty = String,
    parse_err_fn = unsupported_grant_type
)]
pub enum GrantType {
    AuthorizationCode,
    ClientCredentials,
    Password,
    RefreshToken,
    /// RFC 7523 2.1.
    #[strum(serialize = "urn:ietf:params:oauth:grant-type:jwt-bearer")]
    JwtBearer,
    /// RFC 8693.
    #[strum(serialize = "urn:ietf:params:oauth:grant-type:token-exchange")]
    TokenExchange,
    /// RFC 8628 3.4: a device code, polled for until the user approves.
    #[strum(serialize = "urn:ietf:params:oauth:grant-type:device_code")]
    DeviceCode,
    /// An external identity provider's credentials (older token APIs' `provider` grant).
    Provider,
    /// UMA 2.0: a permission ticket for a requesting party token. An older token API calls it
    /// `uma_ticket`.
    #[strum(
        to_string = "urn:ietf:params:oauth:grant-type:uma-ticket",
        serialize = "uma_ticket"
    )]
    UmaTicket,
}

impl GrantType {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

fn unsupported_grant_type(value: &str) -> String {
    names::unsupported::<GrantType>("unsupported grant type", value)
}

/// Client authentication methods at the token endpoint (RFC 8414 names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, IntoStaticStr, Display, EnumString)]
#[strum(
    serialize_all = "snake_case",
    parse_err_ty = String,
    parse_err_fn = unsupported_auth_method
)]
pub enum AuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    /// RFC 7523 assertion signed with the client's private key.
    PrivateKeyJwt,
    /// RFC 7523 assertion with an HMAC keyed by the client's secret.
    ClientSecretJwt,
    /// RFC 8705 2.1: a certificate from the client CA with the client's subject.
    TlsClientAuth,
    /// RFC 8705 2.2: a certificate whose key the client registered.
    SelfSignedTlsClientAuth,
    /// A public client: it identifies itself by `client_id` and proves nothing.
    None,
}

impl AuthMethod {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Whether the method needs the mutual-TLS listener.
    pub fn is_tls(self) -> bool {
        matches!(
            self,
            AuthMethod::TlsClientAuth | AuthMethod::SelfSignedTlsClientAuth
        )
    }

    /// Whether the method proves a shared secret, so the client needs `client_secret_hash`.
    pub fn uses_secret(self) -> bool {
        matches!(
            self,
            AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost
        )
    }
}

fn unsupported_auth_method(value: &str) -> String {
    names::unsupported::<AuthMethod>("unsupported authentication method", value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joined_scopes_are_what_display_writes() {
        for value in ["", "one", "openid reports:read  reports:write"] {
            let scopes = ScopeSet::parse(value).unwrap();
            assert_eq!(scopes.joined(), scopes.to_string());
        }
    }

    #[test]
    fn scope_syntax_follows_nqchar() {
        assert!(Scope::parse("reports:read").is_some());
        assert!(Scope::parse("a\"b").is_none());
        assert!(Scope::parse("a\\b").is_none());
        assert!(Scope::parse("é").is_none());
        assert!(Scope::parse("").is_none());
    }

    #[test]
    fn grant_types_keep_their_spellings_and_refusal() {
        assert_eq!("uma_ticket".parse::<GrantType>(), Ok(GrantType::UmaTicket));
        assert_eq!(
            GrantType::UmaTicket.to_string(),
            "urn:ietf:params:oauth:grant-type:uma-ticket"
        );
        assert_eq!(
            "implicit".parse::<GrantType>().unwrap_err(),
            "unsupported grant type 'implicit' (supported: authorization_code, client_credentials, password, refresh_token, urn:ietf:params:oauth:grant-type:jwt-bearer, urn:ietf:params:oauth:grant-type:token-exchange, urn:ietf:params:oauth:grant-type:device_code, provider, urn:ietf:params:oauth:grant-type:uma-ticket)"
        );
        assert_eq!(
            AuthMethod::SelfSignedTlsClientAuth.as_str(),
            "self_signed_tls_client_auth"
        );
    }

    #[test]
    fn scope_sets_drop_repeats_and_keep_order() {
        let set = ScopeSet::parse("b a  b").unwrap();
        assert_eq!(set.to_string(), "b a");
        assert_eq!(
            ScopeSet::parse("ok bad\"one").unwrap_err(),
            vec!["bad\"one"]
        );
    }
}
