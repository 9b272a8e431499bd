//! The records a configuration registers, as typed values: clients, users, resources, trusted
//! issuers, providers, compatible routes, UMA resources; and the standard clients and users every
//! test app has.

use super::config::{duration, is_default, strings};
use super::*;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

/// One `[[clients]]` entry. `None` and empty lists are left out, so the loader's defaults apply;
/// `Some(vec![])` writes an empty list, which is not the same as the default.
#[derive(Serialize, Clone, Debug, Default, PartialEq)]
pub struct ClientConfig {
    pub client_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret_hash: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret_env: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret_file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_methods: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_signing_algs: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant_types: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_scopes: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub audience: Vec<String>,
    #[serde(with = "duration", skip_serializing_if = "Option::is_none")]
    pub access_token_ttl: Option<Duration>,
    #[serde(skip_serializing_if = "is_default")]
    pub introspect: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub redirect_uris: Vec<String>,
    #[serde(skip_serializing_if = "is_default")]
    pub allow_plain_pkce: bool,
    #[serde(skip_serializing_if = "is_default")]
    pub consent: bool,
    #[serde(skip_serializing_if = "is_default")]
    pub require_encrypted_assertion: bool,
    /// A JWK set, `{"keys": [...]}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_client_auth_subject_dn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_client_auth_san_dns: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token_encryption: Option<EncryptionConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub require_pushed_authorization_requests: Option<bool>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub post_logout_redirect_uris: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_uri: Option<String>,
    #[serde(skip_serializing_if = "is_default")]
    pub backchannel_logout_session_required: bool,
    #[serde(skip_serializing_if = "is_default")]
    pub dpop_bound_access_tokens: bool,
}

impl ClientConfig {
    pub fn dpop_bound_access_tokens(mut self) -> Self {
        self.dpop_bound_access_tokens = true;
        self
    }

    pub fn new(client_id: &str) -> ClientConfig {
        ClientConfig {
            client_id: client_id.to_owned(),
            ..ClientConfig::default()
        }
    }

    pub fn post_logout_redirect_uris(mut self, uris: &[&str]) -> Self {
        self.post_logout_redirect_uris = uris.iter().map(|uri| (*uri).to_owned()).collect();
        self
    }

    /// Back-channel logout at `uri`, with `sid` required.
    pub fn backchannel_logout(mut self, uri: &str) -> Self {
        self.backchannel_logout_uri = Some(uri.to_owned());
        self.backchannel_logout_session_required = true;
        self
    }

    /// Registers the argon2 hash of `secret`.
    pub fn secret(self, secret: &str) -> Self {
        self.client_secret_hash(&secret_hash(secret))
    }

    pub fn client_secret_hash(mut self, hash: &str) -> Self {
        self.client_secret_hash = Some(hash.to_owned());
        self
    }

    pub fn client_secret_file(mut self, path: &str) -> Self {
        self.client_secret_file = Some(path.to_owned());
        self
    }

    pub fn token_endpoint_auth_methods(mut self, methods: &[&str]) -> Self {
        self.token_endpoint_auth_methods = Some(strings(methods));
        self
    }

    pub fn token_endpoint_auth_signing_algs(mut self, algs: &[&str]) -> Self {
        self.token_endpoint_auth_signing_algs = Some(strings(algs));
        self
    }

    pub fn grant_types(mut self, grant_types: &[&str]) -> Self {
        self.grant_types = Some(strings(grant_types));
        self
    }

    pub fn scopes(mut self, scopes: &[&str]) -> Self {
        self.scopes = strings(scopes);
        self
    }

    pub fn default_scopes(mut self, scopes: &[&str]) -> Self {
        self.default_scopes = Some(strings(scopes));
        self
    }

    pub fn audience(mut self, audience: &[&str]) -> Self {
        self.audience = strings(audience);
        self
    }

    pub fn access_token_ttl(mut self, ttl: Duration) -> Self {
        self.access_token_ttl = Some(ttl);
        self
    }

    pub fn introspect(mut self) -> Self {
        self.introspect = true;
        self
    }

    pub fn redirect_uris(mut self, uris: &[&str]) -> Self {
        self.redirect_uris = strings(uris);
        self
    }

    pub fn allow_plain_pkce(mut self) -> Self {
        self.allow_plain_pkce = true;
        self
    }

    pub fn consent(mut self) -> Self {
        self.consent = true;
        self
    }

    pub fn require_encrypted_assertion(mut self) -> Self {
        self.require_encrypted_assertion = true;
        self
    }

    /// Registers a JWK set, such as `jwk_set` makes.
    pub fn jwks(mut self, jwks: Value) -> Self {
        self.jwks = Some(jwks);
        self
    }

    pub fn jwks_uri(mut self, uri: &str) -> Self {
        self.jwks_uri = Some(uri.to_owned());
        self
    }

    pub fn tls_client_auth_subject_dn(mut self, dn: &str) -> Self {
        self.tls_client_auth_subject_dn = Some(dn.to_owned());
        self
    }

    pub fn access_token_encryption(mut self, encryption: EncryptionConfig) -> Self {
        self.access_token_encryption = Some(encryption);
        self
    }

    pub fn require_pushed_authorization_requests(mut self, required: bool) -> Self {
        self.require_pushed_authorization_requests = Some(required);
        self
    }
}

/// `access_token_encryption` of a client or resource: the recipient's public key, inline or in
/// a file, and the algorithms.
#[derive(Serialize, Clone, Debug, Default, PartialEq)]
pub struct EncryptionConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwk: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwk_file: Option<String>,
    pub alg: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enc: Option<String>,
}

impl EncryptionConfig {
    pub fn inline(jwk: Value, alg: &str) -> EncryptionConfig {
        EncryptionConfig {
            jwk: Some(jwk),
            alg: alg.to_owned(),
            ..EncryptionConfig::default()
        }
    }

    pub fn file(jwk_file: &str, alg: &str) -> EncryptionConfig {
        EncryptionConfig {
            jwk_file: Some(jwk_file.to_owned()),
            alg: alg.to_owned(),
            ..EncryptionConfig::default()
        }
    }

    pub fn enc(mut self, enc: &str) -> Self {
        self.enc = Some(enc.to_owned());
        self
    }
}

#[derive(Serialize, Clone, Debug, Default, PartialEq)]
pub struct UserConfig {
    pub username: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    /// Claims the user's tokens may carry, a JSON object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claims: Option<Value>,
}

impl UserConfig {
    pub fn new(username: &str) -> UserConfig {
        UserConfig {
            username: username.to_owned(),
            ..UserConfig::default()
        }
    }

    /// Registers the argon2 hash of `password`.
    pub fn password(self, password: &str) -> Self {
        self.password_hash(&secret_hash(password))
    }

    pub fn password_hash(mut self, hash: &str) -> Self {
        self.password_hash = Some(hash.to_owned());
        self
    }

    pub fn claims(mut self, claims: Value) -> Self {
        self.claims = Some(claims);
        self
    }
}

/// A `[[resources]]` entry: settings of one audience.
#[derive(Serialize, Clone, Debug, Default, PartialEq)]
pub struct ResourceConfig {
    pub audience: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token_encryption: Option<EncryptionConfig>,
}

impl ResourceConfig {
    pub fn new(audience: &str) -> ResourceConfig {
        ResourceConfig {
            audience: audience.to_owned(),
            ..ResourceConfig::default()
        }
    }

    pub fn access_token_encryption(mut self, encryption: EncryptionConfig) -> Self {
        self.access_token_encryption = Some(encryption);
        self
    }
}

/// A `[[trusted_issuers]]` entry: a foreign issuer whose JWTs are grants (RFC 7523) and subject
/// tokens (RFC 8693).
#[derive(Serialize, Clone, Debug, Default, PartialEq)]
pub struct TrustedIssuerConfig {
    pub issuer: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub algs: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject_prefix: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub audience: Vec<String>,
    #[serde(with = "duration", skip_serializing_if = "Option::is_none")]
    pub max_lifetime: Option<Duration>,
}

impl TrustedIssuerConfig {
    pub fn new(issuer: &str) -> TrustedIssuerConfig {
        TrustedIssuerConfig {
            issuer: issuer.to_owned(),
            ..TrustedIssuerConfig::default()
        }
    }

    pub fn jwks(mut self, jwks: Value) -> Self {
        self.jwks = Some(jwks);
        self
    }

    pub fn subject_prefix(mut self, prefix: &str) -> Self {
        self.subject_prefix = Some(prefix.to_owned());
        self
    }

    pub fn scopes(mut self, scopes: &[&str]) -> Self {
        self.scopes = strings(scopes);
        self
    }

    pub fn audience(mut self, audience: &[&str]) -> Self {
        self.audience = strings(audience);
        self
    }
}

/// A `[[providers]]` entry: an external identity provider of the `provider` grant.
#[derive(Serialize, Clone, Debug, Default, PartialEq)]
pub struct ProviderConfig {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_secret_env: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_secret_file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    #[serde(with = "duration", skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
}

impl ProviderConfig {
    /// Facebook's token-debug API at `base_url`, for the app `app_id` whose secret is in the
    /// file `app_secret_file`.
    pub fn facebook(
        name: &str,
        app_id: &str,
        app_secret_file: &str,
        base_url: &str,
    ) -> ProviderConfig {
        ProviderConfig {
            name: name.to_owned(),
            kind: "facebook".to_owned(),
            app_id: Some(app_id.to_owned()),
            app_secret_file: Some(app_secret_file.to_owned()),
            base_url: Some(base_url.to_owned()),
            ..ProviderConfig::default()
        }
    }

    /// An OpenID provider `issuer` whose ID tokens name `audience`, checked against `jwks`.
    pub fn oidc(name: &str, issuer: &str, jwks: Value, audience: &str) -> ProviderConfig {
        ProviderConfig {
            name: name.to_owned(),
            kind: "oidc".to_owned(),
            issuer: Some(issuer.to_owned()),
            jwks: Some(jwks),
            audience: Some(audience.to_owned()),
            ..ProviderConfig::default()
        }
    }

    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
}

/// A `[[routes]]` entry: a compatible route onto a core endpoint.
#[derive(Serialize, Clone, Debug, Default, PartialEq)]
pub struct RouteConfig {
    pub path: String,
    pub endpoint: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub envelope: Option<String>,
    #[serde(skip_serializing_if = "is_default")]
    pub query_parameters: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope_wildcard: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
}

impl RouteConfig {
    pub fn new(path: &str, endpoint: &str) -> RouteConfig {
        RouteConfig {
            path: path.to_owned(),
            endpoint: endpoint.to_owned(),
            ..RouteConfig::default()
        }
    }

    pub fn envelope(mut self, envelope: &str) -> Self {
        self.envelope = Some(envelope.to_owned());
        self
    }

    /// The route also reads its parameters from the query string.
    pub fn query_parameters(mut self) -> Self {
        self.query_parameters = true;
        self
    }

    pub fn scope_wildcard(mut self, wildcard: &str) -> Self {
        self.scope_wildcard = Some(wildcard.to_owned());
        self
    }
}

/// An `[[uma_resources]]` entry: a resource of a resource server, its scopes and who may have
/// which.
#[derive(Serialize, Clone, Debug, Default, PartialEq)]
pub struct UmaResourceConfig {
    pub id: String,
    pub resource_server: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<UmaPolicyConfig>,
}

impl UmaResourceConfig {
    pub fn new(id: &str, resource_server: &str) -> UmaResourceConfig {
        UmaResourceConfig {
            id: id.to_owned(),
            resource_server: resource_server.to_owned(),
            ..UmaResourceConfig::default()
        }
    }

    pub fn scopes(mut self, scopes: &[&str]) -> Self {
        self.scopes = strings(scopes);
        self
    }

    pub fn policy(mut self, policy: UmaPolicyConfig) -> Self {
        self.policies.push(policy);
        self
    }
}

/// A policy grants its scopes (all of the resource's when it lists none) to the clients, users
/// and groups it names.
#[derive(Serialize, Clone, Debug, Default, PartialEq)]
pub struct UmaPolicyConfig {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub clients: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
}

impl UmaPolicyConfig {
    pub fn clients(mut self, clients: &[&str]) -> Self {
        self.clients = strings(clients);
        self
    }

    pub fn users(mut self, users: &[&str]) -> Self {
        self.users = strings(users);
        self
    }

    pub fn groups(mut self, groups: &[&str]) -> Self {
        self.groups = strings(groups);
        self
    }

    pub fn scopes(mut self, scopes: &[&str]) -> Self {
        self.scopes = strings(scopes);
        self
    }
}

/// The clients every test app registers, in this order (config errors name clients by index).
pub fn standard_clients() -> Vec<ClientConfig> {
    vec![
        ClientConfig::new("reports")
            .secret(REPORTS_SECRET)
            .token_endpoint_auth_methods(&["client_secret_basic", "client_secret_post"])
            .scopes(&["reports:read", "reports:write", "reports:admin"])
            .default_scopes(&["reports:read"])
            .audience(&[
                "https://reports.internal",
                "https://audit.internal",
                "billing-api",
            ]),
        ClientConfig::new(SPECIAL_ID)
            .secret(SPECIAL_SECRET)
            .scopes(&["special"])
            .audience(&["https://special.internal"])
            .access_token_ttl(Duration::from_secs(120)),
        ClientConfig::new("post-only")
            .secret(OTHER_SECRET)
            .token_endpoint_auth_methods(&["client_secret_post"])
            .scopes(&["a"])
            .audience(&["https://a.internal"]),
        ClientConfig::new("bare")
            .secret(OTHER_SECRET)
            .audience(&["https://bare.internal"]),
        ClientConfig::new("resource-server")
            .secret(OTHER_SECRET)
            .grant_types(&[])
            .introspect()
            .audience(&["https://reports.internal"]),
        ClientConfig::new("webapp")
            .secret(OTHER_SECRET)
            .grant_types(&["authorization_code", "refresh_token"])
            .redirect_uris(&[CALLBACK, "http://127.0.0.1:9/other"])
            .scopes(&["openid", "profile", "email", "reports:read"])
            .default_scopes(&["openid"])
            .audience(&["https://reports.internal"]),
        ClientConfig::new("mobile")
            .token_endpoint_auth_methods(&["none"])
            .grant_types(&["password", "refresh_token", "authorization_code"])
            .redirect_uris(&[CALLBACK])
            .scopes(&[
                "openid",
                "profile",
                "email",
                "reports:read",
                "reports:write",
            ])
            .default_scopes(&["openid", "reports:read"])
            .audience(&["https://reports.internal"]),
        ClientConfig::new("tv")
            .token_endpoint_auth_methods(&["none"])
            .grant_types(&[
                "urn:ietf:params:oauth:grant-type:device_code",
                "refresh_token",
            ])
            .scopes(&["openid", "profile", "reports:read"])
            .default_scopes(&["openid"])
            .audience(&["https://reports.internal"]),
        ClientConfig::new("device-cli")
            .secret(OTHER_SECRET)
            .grant_types(&["urn:ietf:params:oauth:grant-type:device_code"])
            .scopes(&["reports:read"])
            .audience(&["https://reports.internal"]),
        ClientConfig::new("consenting")
            .secret(OTHER_SECRET)
            .grant_types(&["authorization_code"])
            .redirect_uris(&[CALLBACK])
            .consent()
            .allow_plain_pkce()
            .scopes(&["openid"])
            .audience(&["https://reports.internal"]),
        ClientConfig::new("no-grants")
            .secret(OTHER_SECRET)
            .grant_types(&[])
            .scopes(&["a"])
            .audience(&["https://a.internal"]),
        ClientConfig::new("keyed")
            .client_secret_hash(&tessera::oauth::credentials::hash_generated_secret(
                KEYED_SECRET,
            ))
            .scopes(&["reports:read"])
            .audience(&["https://reports.internal"]),
    ]
}

/// The users every test app registers: alice with claims, bob without.
pub fn standard_users() -> Vec<UserConfig> {
    vec![
        UserConfig::new("alice")
            .password(ALICE_PASSWORD)
            .claims(json!({
                "email": "alice@example.com",
                "email_verified": true,
                "name": "Alice Liddell",
                "groups": ["staff"],
            })),
        UserConfig::new("bob").password(OTHER_SECRET),
    ]
}

/// The argon2id PHC string of `secret`. argon2 is deliberately slow, so each secret is hashed
/// once per test process.
pub fn secret_hash(secret: &str) -> String {
    static HASHES: LazyLock<Mutex<HashMap<String, String>>> = LazyLock::new(Default::default);
    HASHES
        .lock()
        .unwrap()
        .entry(secret.to_owned())
        .or_insert_with(|| tessera::oauth::credentials::hash_secret(secret))
        .clone()
}
