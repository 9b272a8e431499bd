//! `[[clients]]`: the registered clients, and the rules that tie a client to other sections
//! (the TLS methods need the `[tls]` listener).

use super::client_assertions::ClientAssertionSettings;
use super::encryption::RawEncryption;
use super::problems::Problems;
use super::sources::{KeySource, SecretSource};
use super::tls::TlsSettings;
use super::values::{optional_duration, parse_list, parse_scopes};
use crate::jose::{AssertionAlg, HmacAlg, SigningAlg};
use crate::oauth::types::{AuthMethod, GrantType, ScopeSet};
use crate::registry::{Client, ClientKeys, ClientRegistry, RawSecret, SecretHash};
use serde::Deserialize;
use std::collections::HashSet;
use std::path::Path;
use strum::IntoEnumIterator;

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct RawClient {
    client_id: Option<String>,
    client_secret_hash: Option<String>,
    pub(super) token_endpoint_auth_methods: Option<Vec<String>>,
    pub(super) grant_types: Option<Vec<String>>,
    scopes: Vec<String>,
    default_scopes: Option<Vec<String>>,
    audience: Vec<String>,
    access_token_ttl: Option<String>,
    introspect: bool,
    pub(super) redirect_uris: Vec<String>,
    post_logout_redirect_uris: Vec<String>,
    backchannel_logout_uri: Option<String>,
    backchannel_logout_session_required: bool,
    pub(super) allow_plain_pkce: bool,
    consent: bool,
    access_token_encryption: Option<RawEncryption>,
    jwks: Option<toml::Table>,
    jwks_file: Option<String>,
    pub(super) jwks_uri: Option<String>,
    pub(super) token_endpoint_auth_signing_algs: Option<Vec<String>>,
    client_secret_env: Option<String>,
    client_secret_file: Option<String>,
    require_encrypted_assertion: bool,
    tls_client_auth_subject_dn: Option<String>,
    tls_client_auth_san_dns: Option<String>,
    dpop_bound_access_tokens: bool,
    pub(super) require_pushed_authorization_requests: Option<bool>,
}

/// Every client, ids unique; `tls` is the `[tls]` section when the file has one, `tls_settings`
/// what it validated to. `userinfo` is the issuer's userinfo endpoint: the audience of a
/// sign-in client that names none.
pub(super) fn validate_clients(
    raws: &[RawClient],
    problems: &mut Problems,
    base_dir: &Path,
    has_tls: bool,
    tls_settings: Option<&TlsSettings>,
    fetching: &ClientAssertionSettings,
    userinfo: &str,
) -> ClientRegistry {
    let mut seen = HashSet::new();
    let mut listed = problems.at("clients");
    // With their index in the file, which names their problems.
    let clients: Vec<(usize, Client)> = raws
        .iter()
        .enumerate()
        .filter_map(|(i, raw)| {
            let mut problems = listed.item(i);
            let client = raw.validate(&mut problems, base_dir, fetching, userinfo)?;
            if !seen.insert(client.id.clone()) {
                problems.push("client_id", format!("duplicate client id '{}'", client.id));
            }
            Some((i, client))
        })
        .collect();
    for (i, client) in &clients {
        let mut problems = listed.item(*i);
        let uses_tls = client.auth_methods.iter().any(|method| method.is_tls());
        if uses_tls && !has_tls {
            problems.push(
                "token_endpoint_auth_methods",
                "the TLS methods need the [tls] listener",
            );
        }
        if client.allows_method(AuthMethod::TlsClientAuth)
            && tls_settings.is_some_and(|tls| tls.client_ca_file.is_none())
        {
            problems.push(
                "token_endpoint_auth_methods",
                "tls_client_auth needs [tls] client_ca_file",
            );
        }
    }
    let clients: Vec<Client> = clients.into_iter().map(|(_, client)| client).collect();
    ClientRegistry::new(&clients)
}

impl RawClient {
    fn validate(
        &self,
        problems: &mut Problems,
        base_dir: &Path,
        fetching: &ClientAssertionSettings,
        userinfo: &str,
    ) -> Option<Client> {
        let id = self.client_id(problems);
        let auth_methods = self.auth_methods(problems);
        let secret_hash = self.secret_hash(problems, &auth_methods);
        let grant_types = parse_list(
            problems,
            "grant_types",
            self.grant_types.as_ref(),
            vec![GrantType::ClientCredentials],
            str::parse,
        );
        let (scopes, default_scopes) = self.scopes(problems);
        let audience = self.audience(problems, &scopes, userinfo);
        let keys = KeySource::of(&self.jwks, &self.jwks_file, &self.jwks_uri).validate(
            problems,
            base_dir,
            auth_methods
                .contains(&AuthMethod::PrivateKeyJwt)
                .then_some("private_key_jwt needs the client's public keys"),
            fetching,
        );
        let assertion_secret = SecretSource {
            env_field: "client_secret_env",
            file_field: "client_secret_file",
            env: self.client_secret_env.as_deref(),
            file: self.client_secret_file.as_deref(),
        }
        .validate(
            problems,
            base_dir,
            auth_methods.contains(&AuthMethod::ClientSecretJwt).then_some(
                "client_secret_jwt needs the secret itself (an HMAC cannot be checked against a hash)",
            ),
            // RFC 7518 3.2: an HMAC key at least as long as the hash.
            32,
        );
        let assertion_algs = self.assertion_algs(problems);
        let (assertion_secret, assertion_algs) =
            self.hmac_keys(problems, assertion_secret, assertion_algs);
        self.check_method_rules(problems, &auth_methods, &grant_types, &keys);
        let redirect_uris = self.redirect_uris(problems, &grant_types);
        let post_logout_redirect_uris = absolute_uris(
            &mut problems.at("post_logout_redirect_uris"),
            &self.post_logout_redirect_uris,
        );
        let backchannel_logout_uri = self.backchannel_logout_uri(problems);
        let access_token_ttl =
            optional_duration(problems, "access_token_ttl", self.access_token_ttl.as_ref());
        let access_token_encryption = self
            .access_token_encryption
            .as_ref()
            .and_then(|raw| raw.validate(&mut problems.at("access_token_encryption"), base_dir));
        Some(Client {
            id: id?,
            secret_hash,
            auth_methods,
            grant_types,
            scopes,
            default_scopes,
            audience,
            access_token_ttl,
            may_introspect: self.introspect,
            redirect_uris,
            post_logout_redirect_uris,
            backchannel_logout_uri,
            backchannel_logout_session_required: self.backchannel_logout_session_required,
            allow_plain_pkce: self.allow_plain_pkce,
            consent: self.consent,
            access_token_encryption,
            keys,
            assertion_secret,
            assertion_algs,
            require_encrypted_assertion: self.require_encrypted_assertion,
            tls_subject_dn: self.tls_client_auth_subject_dn.clone(),
            tls_san_dns: self.tls_client_auth_san_dns.clone(),
            dpop_bound_access_tokens: self.dpop_bound_access_tokens,
            require_pushed_authorization_requests: self
                .require_pushed_authorization_requests
                .unwrap_or(false),
        })
    }

    fn client_id(&self, problems: &mut Problems) -> Option<String> {
        match self.client_id.as_deref() {
            None | Some("") => {
                problems.push("client_id", "is required");
                None
            }
            Some(id) if id.len() > 255 || id.chars().any(char::is_control) => {
                problems.push("client_id", "must be at most 255 printable characters");
                None
            }
            Some(id) => Some(id.to_owned()),
        }
    }

    fn auth_methods(&self, problems: &mut Problems) -> Vec<AuthMethod> {
        let methods = parse_list(
            problems,
            "token_endpoint_auth_methods",
            self.token_endpoint_auth_methods.as_ref(),
            vec![AuthMethod::ClientSecretBasic],
            str::parse,
        );
        if methods.is_empty()
            && self
                .token_endpoint_auth_methods
                .as_ref()
                .is_some_and(Vec::is_empty)
        {
            problems.push(
                "token_endpoint_auth_methods",
                "must name at least one method",
            );
        }
        methods
    }

    fn secret_hash(&self, problems: &mut Problems, methods: &[AuthMethod]) -> Option<SecretHash> {
        match &self.client_secret_hash {
            None => {
                if methods.iter().any(|m| m.uses_secret()) {
                    problems.push(
                        "client_secret_hash",
                        "is required for client_secret_basic and client_secret_post",
                    );
                }
                None
            }
            Some(phc) => problems.check(
                "client_secret_hash",
                SecretHash::parse(phc, "tessera client secret"),
            ),
        }
    }

    /// Every scope the client may have, and what a request without `scope` gets.
    fn scopes(&self, problems: &mut Problems) -> (ScopeSet, ScopeSet) {
        let scopes = parse_scopes(problems, "scopes", &self.scopes);
        let Some(values) = &self.default_scopes else {
            return (scopes.clone(), scopes);
        };
        let defaults = parse_scopes(problems, "default_scopes", values);
        let extra = defaults.not_in(&scopes);
        if !extra.is_empty() {
            let names: Vec<&str> = extra.iter().map(|s| s.as_str()).collect();
            problems.push(
                "default_scopes",
                format!("{} not in scopes", names.join(" ")),
            );
        }
        (scopes, defaults)
    }

    /// The resource servers its tokens may name. A client that may ask for `openid` and names
    /// none signs users in: its tokens are for the userinfo endpoint (RFC 9068 needs an `aud`).
    fn audience(&self, problems: &mut Problems, scopes: &ScopeSet, userinfo: &str) -> Vec<String> {
        if self.audience.is_empty() {
            if scopes.iter().any(|scope| scope.as_str() == "openid") {
                return vec![userinfo.to_owned()];
            }
            problems.push(
                "audience",
                "name at least one resource server (RFC 9068 access tokens carry aud); only a client with the openid scope defaults to the userinfo endpoint",
            );
        }
        let mut listed = problems.at("audience");
        for (i, aud) in self.audience.iter().enumerate() {
            if aud.is_empty() || aud.chars().any(char::is_whitespace) {
                listed
                    .item(i)
                    .push("", "must be a non-empty identifier without spaces");
            }
        }
        self.audience.clone()
    }

    /// Algorithms its assertions may use: every one Tessera verifies unless listed, never none.
    fn assertion_algs(&self, problems: &mut Problems) -> Vec<AssertionAlg> {
        let default_algs: Vec<AssertionAlg> = SigningAlg::iter()
            .map(AssertionAlg::Asymmetric)
            .chain(HmacAlg::iter().map(AssertionAlg::Hmac))
            .collect();
        parse_list(
            problems,
            "token_endpoint_auth_signing_algs",
            self.token_endpoint_auth_signing_algs.as_ref(),
            default_algs,
            |text| {
                if text == "none" {
                    Err("none is never allowed".to_owned())
                } else {
                    text.parse()
                }
            },
        )
    }

    /// The `client_secret_jwt` secret ready to check HMACs, and the algorithms it may: RFC 7518
    /// 3.2 wants a key at least as long as the hash, so a 32-byte secret does HS256 only. An
    /// HMAC algorithm the secret is too short for is a problem when the file names it, and left
    /// out of the defaults otherwise.
    fn hmac_keys(
        &self,
        problems: &mut Problems,
        secret: Option<RawSecret>,
        algs: Vec<AssertionAlg>,
    ) -> (Option<tessera_verifier::KeySource>, Vec<AssertionAlg>) {
        let Some(secret) = secret else {
            return (None, algs);
        };
        let len = secret.expose().len();
        let explicit = self.token_endpoint_auth_signing_algs.is_some();
        let mut fitting = Vec::with_capacity(algs.len());
        for alg in algs {
            let needed = match alg {
                AssertionAlg::Hmac(HmacAlg::HS384) => 48,
                AssertionAlg::Hmac(HmacAlg::HS512) => 64,
                _ => 0,
            };
            if len >= needed {
                fitting.push(alg);
            } else if explicit {
                problems.push(
                    "token_endpoint_auth_signing_algs",
                    format!(
                        "{alg} needs a client secret of at least {needed} bytes (RFC 7518 3.2)"
                    ),
                );
            }
        }
        match tessera_verifier::KeySource::shared_secret(secret.expose().as_bytes().to_vec()) {
            Ok(key) => (Some(key), fitting),
            Err(err) => {
                problems.push("client_secret_env", err.to_string());
                (None, fitting)
            }
        }
    }

    /// What the chosen methods demand of the rest of the client.
    fn check_method_rules(
        &self,
        problems: &mut Problems,
        methods: &[AuthMethod],
        grant_types: &[GrantType],
        keys: &ClientKeys,
    ) {
        let public = methods.contains(&AuthMethod::None);
        if public && grant_types.contains(&GrantType::ClientCredentials) {
            problems.push(
                "grant_types",
                "a public client (none) cannot use client_credentials: anyone knowing its id would get tokens",
            );
        }
        if methods.contains(&AuthMethod::TlsClientAuth)
            && self.tls_client_auth_subject_dn.is_none()
            && self.tls_client_auth_san_dns.is_none()
        {
            problems.push(
                "tls_client_auth_subject_dn",
                "tls_client_auth needs tls_client_auth_subject_dn or tls_client_auth_san_dns",
            );
        }
        if methods.contains(&AuthMethod::SelfSignedTlsClientAuth) && keys.is_none() {
            problems.push("jwks", "self_signed_tls_client_auth needs the client's public keys: jwks, jwks_file or jwks_uri");
        }
        if public && self.introspect {
            problems.push(
                "introspect",
                "a public client (none) cannot introspect tokens",
            );
        }
        if public && methods.len() > 1 {
            problems.push(
                "token_endpoint_auth_methods",
                "none (a public client) cannot be combined with other methods",
            );
        }
    }

    fn redirect_uris(&self, problems: &mut Problems, grant_types: &[GrantType]) -> Vec<String> {
        let redirect_uris = absolute_uris(&mut problems.at("redirect_uris"), &self.redirect_uris);
        if grant_types.contains(&GrantType::AuthorizationCode) && redirect_uris.is_empty() {
            problems.push(
                "redirect_uris",
                "the authorization_code grant needs at least one redirect URI",
            );
        }
        redirect_uris
    }

    /// Back-Channel Logout 1.0 2.2: an absolute http(s) URL without a fragment.
    fn backchannel_logout_uri(&self, problems: &mut Problems) -> Option<String> {
        let uri = self.backchannel_logout_uri.as_ref()?;
        match url::Url::parse(uri) {
            Ok(url) if matches!(url.scheme(), "https" | "http") && url.fragment().is_none() => {
                Some(uri.clone())
            }
            _ => {
                problems.push(
                    "backchannel_logout_uri",
                    "must be an absolute http(s) URL without a fragment",
                );
                None
            }
        }
    }
}

/// The absolute URIs without a fragment of a list (redirect URIs), each problem at its index.
fn absolute_uris(listed: &mut Problems, uris: &[String]) -> Vec<String> {
    let mut valid = Vec::new();
    for (i, uri) in uris.iter().enumerate() {
        match url::Url::parse(uri) {
            Ok(url) if url.fragment().is_none() && !url.cannot_be_a_base() => {
                valid.push(uri.clone())
            }
            _ => listed
                .item(i)
                .push("", "must be an absolute URI without a fragment"),
        }
    }
    valid
}
