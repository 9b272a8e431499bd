use super::SecretHash;
use crate::jose::AssertionAlg;
use crate::oauth::types::{AuthMethod, GrantType, ScopeSet};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// The public keys a client, a trusted issuer or a provider signs with: a set from `jwks` or
/// `jwks_file` (parsed once at load), or its `jwks_uri` (fetched on first use, kept fresh);
/// `None` without keys.
pub type ClientKeys = Option<tessera_verifier::KeySource>;

/// A client's own shared secret, for `client_secret_jwt` (an HMAC needs the secret, not a hash).
#[derive(Clone)]
pub struct RawSecret(String);

impl RawSecret {
    pub fn new(secret: String) -> Self {
        Self(secret)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for RawSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RawSecret(..)")
    }
}

/// A registered client.
#[derive(Debug, Clone)]
pub struct Client {
    pub id: String,
    pub secret_hash: Option<SecretHash>,
    pub auth_methods: Vec<AuthMethod>,
    pub grant_types: Vec<GrantType>,
    /// Every scope the client may ask for.
    pub scopes: ScopeSet,
    /// What a request without `scope` gets.
    pub default_scopes: ScopeSet,
    /// The resource servers its access tokens may name in `aud`; all of them by default.
    pub audience: Vec<String>,
    /// Overrides `[tokens] access_token_ttl` for this client.
    pub access_token_ttl: Option<Duration>,
    /// A resource server allowed to call the introspection endpoint.
    pub may_introspect: bool,
    /// Exact redirect URIs for the authorization code flow.
    pub redirect_uris: Vec<String>,
    /// Exact URIs RP-initiated logout may send the browser back to.
    pub post_logout_redirect_uris: Vec<String>,
    /// Where back-channel logout tokens are posted when a session it joined ends.
    pub backchannel_logout_uri: Option<String>,
    /// The client wants `sid` in its logout tokens (Tessera always sends it).
    pub backchannel_logout_session_required: bool,
    /// PKCE `plain` is refused unless this is set.
    pub allow_plain_pkce: bool,
    /// Show a consent page after login instead of implying consent.
    pub consent: bool,
    /// Access tokens of this client are encrypted to this key.
    pub access_token_encryption: Option<crate::jose::RecipientKey>,
    /// Keys for `private_key_jwt`.
    pub keys: ClientKeys,
    /// The secret for `client_secret_jwt`, ready to check HMACs.
    pub assertion_secret: Option<tessera_verifier::KeySource>,
    /// Algorithms its assertions may use.
    pub assertion_algs: Vec<AssertionAlg>,
    /// Refuse assertions that are not encrypted to the issuer.
    pub require_encrypted_assertion: bool,
    /// `tls_client_auth`: the certificate subject DN, or a DNS SAN, that names this client.
    pub tls_subject_dn: Option<String>,
    pub tls_san_dns: Option<String>,
    /// RFC 9449 5.2: every token request of this client must carry a DPoP proof.
    pub dpop_bound_access_tokens: bool,
    /// The client must push its authorization requests (RFC 9126 6).
    pub require_pushed_authorization_requests: bool,
}

impl Client {
    /// A client known only by its id: no credentials, no scopes, no audience, only the
    /// client_credentials grant. A base to build one in code from (`Client { .., ..Client::new(id) }`).
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            secret_hash: None,
            auth_methods: Vec::new(),
            grant_types: vec![GrantType::ClientCredentials],
            scopes: ScopeSet::default(),
            default_scopes: ScopeSet::default(),
            audience: Vec::new(),
            access_token_ttl: None,
            may_introspect: false,
            redirect_uris: Vec::new(),
            post_logout_redirect_uris: Vec::new(),
            backchannel_logout_uri: None,
            backchannel_logout_session_required: false,
            allow_plain_pkce: false,
            consent: false,
            access_token_encryption: None,
            keys: None,
            assertion_secret: None,
            assertion_algs: Vec::new(),
            require_encrypted_assertion: false,
            tls_subject_dn: None,
            tls_san_dns: None,
            dpop_bound_access_tokens: false,
            require_pushed_authorization_requests: false,
        }
    }

    pub fn allows_grant(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    pub fn allows_method(&self, method: AuthMethod) -> bool {
        self.auth_methods.contains(&method)
    }

    /// A public client: it has no credentials (`none`).
    pub fn is_public(&self) -> bool {
        self.auth_methods.contains(&AuthMethod::None)
    }
}

/// Clients by id.
#[derive(Debug, Default, Clone)]
pub struct ClientRegistry {
    clients: HashMap<String, Arc<Client>>,
}

impl ClientRegistry {
    /// Builds the registry; ids were checked unique when the configuration was parsed.
    pub fn new(clients: &[Client]) -> Self {
        Self {
            clients: clients
                .iter()
                .map(|client| (client.id.clone(), Arc::new(client.clone())))
                .collect(),
        }
    }

    pub fn get(&self, id: &str) -> Option<&Arc<Client>> {
        self.clients.get(id)
    }

    /// Every client, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Client>> {
        self.clients.values()
    }

    pub fn len(&self) -> usize {
        self.clients.len()
    }

    pub fn is_empty(&self) -> bool {
        self.clients.is_empty()
    }
}
