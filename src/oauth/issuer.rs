//! Claims to tokens to the token response. Access tokens are RFC 9068 JWTs signed by the key
//! ring's active key (then encrypted when the client or the resource asks for it); ID tokens
//! follow OpenID Connect Core; refresh tokens are JWEs the issuer encrypts to itself.

use super::client_auth::Binding;
use super::error::OAuthError;
use super::json::JsonObject;
use super::paths;
use super::token_kind::{Protection, TokenKind};
use super::tokens::{OwnClaims, RevocationId};
use super::types::ScopeSet;
use crate::clock::UnixTime;
use crate::jose::{encrypt_to_self, JwsSigner, RecipientKey, SigningAlg};
use crate::keys::KeyRing;
use crate::registry::{Client, User};
use crate::revocation::status_list::{ListId, StatusRef};
use crate::revocation::Revocations;
use crate::settings::Settings;
use aws_lc_rs::digest;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// What an access token is about.
pub struct AccessTokenSpec<'a> {
    pub client: &'a Client,
    pub subject: &'a str,
    pub scopes: &'a ScopeSet,
    pub audience: &'a [String],
    /// For user grants: when the user authenticated, and the user's configured claims.
    pub user: Option<(&'a User, UnixTime)>,
    /// Other claims (`act` for delegation).
    pub extra: Option<&'a Map<String, Value>>,
    /// What the token is bound to: a mutual-TLS client's certificate, a DPoP key, or nothing.
    pub cnf: &'a Binding,
    /// The token may not outlive this (a token exchange's subject token).
    pub not_after: Option<UnixTime>,
    /// Its status-list entry, when one was set aside for it (a code's); else a new one.
    pub status: Option<StatusRef>,
}

/// The `cnf` claim's member: RFC 8705 3.1 (a certificate) or RFC 9449 6.1 (a DPoP key).
fn confirmation(binding: &Binding) -> Option<(&'static str, &str)> {
    match binding {
        Binding::None => None,
        Binding::Certificate(x5t) => Some(("x5t#S256", x5t)),
        Binding::Dpop(jkt) => Some(("jkt", jkt)),
    }
}

/// A signed (maybe encrypted) access token and what the response says of it.
#[derive(Debug)]
pub struct AccessToken {
    pub token: String,
    pub jti: String,
    pub expires_in: u64,
    /// Its status-list entry (refresh tokens carry it, to revoke it with them).
    pub status: StatusRef,
    /// `Bearer`, or `DPoP` for a token bound to a DPoP key (RFC 9449 5).
    pub token_type: &'static str,
}

/// RFC 9068 section 2.2 claims, written as JSON in this order: the registered claims, `scope`
/// (when there is one), `auth_time`, `cnf`, `status` (Token Status List), then the user's
/// configured claims and the extra ones (`act`). Written directly rather than through serde's
/// derive: this is the hot path of every token.
struct AccessTokenClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a [String],
    exp: UnixTime,
    iat: UnixTime,
    nbf: UnixTime,
    jti: &'a str,
    client_id: &'a str,
    scopes: &'a ScopeSet,
    auth_time: Option<UnixTime>,
    cnf: &'a Binding,
    status: &'a StatusRef,
    user_claims: Option<&'a Map<String, Value>>,
    extra: Option<&'a Map<String, Value>>,
}

impl AccessTokenClaims<'_> {
    fn to_json(&self) -> Vec<u8> {
        let mut json = JsonObject::with_capacity(512);
        json.str("iss", self.iss).str("sub", self.sub);
        // A string when there is one audience, an array otherwise (RFC 7519 4.1.3).
        match self.aud {
            [one] => json.str("aud", one),
            many => json.value("aud", &many),
        };
        json.int("exp", self.exp)
            .int("iat", self.iat)
            .int("nbf", self.nbf)
            .str("jti", self.jti)
            .str("client_id", self.client_id);
        if !self.scopes.is_empty() {
            json.joined("scope", self.scopes.iter().map(|scope| scope.as_str()), " ");
        }
        if let Some(auth_time) = self.auth_time {
            json.int("auth_time", auth_time);
        }
        if let Some((member, value)) = confirmation(self.cnf) {
            json.object("cnf", |cnf| {
                cnf.str(member, value);
            });
        }
        let status = self.status;
        let list_id = status.list.text();
        json.object("status", |claim| {
            claim.object("status_list", |list| {
                list.uint("idx", u64::from(status.idx));
                list.joined(
                    "uri",
                    [self.iss, paths::STATUS_LISTS, "/", list_id.as_str()],
                    "",
                );
            });
        });
        for claims in [self.user_claims, self.extra].into_iter().flatten() {
            for (name, value) in claims {
                json.member(name, value);
            }
        }
        json.finish()
    }
}

/// The claims of a refresh token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefreshClaims {
    pub iss: String,
    pub client_id: String,
    pub sub: String,
    pub scope: String,
    pub aud: Vec<String>,
    pub auth_time: UnixTime,
    pub iat: UnixTime,
    pub exp: UnixTime,
    pub jti: String,
    /// The family: every refresh token descended from one grant shares it.
    pub fid: String,
    /// The browser session the grant came from, carried into refreshed ID tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// The status of the access token issued with this refresh token: revoking this refresh
    /// token revokes that access token too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_status: Option<StatusRef>,
    /// RFC 9449 5: a public client's refresh token is bound to the DPoP key it was issued
    /// with; using it needs a proof by that key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jkt: Option<String>,
}

impl OwnClaims for RefreshClaims {
    const KIND: TokenKind = TokenKind::Refresh;

    fn iss(&self) -> Option<&str> {
        Some(&self.iss)
    }

    fn exp(&self) -> UnixTime {
        self.exp
    }

    fn revocation_id(&self) -> Option<RevocationId<'_>> {
        Some(RevocationId::Family(&self.fid))
    }
}

/// OpenID Connect standard claims released by each scope (OIDC Core 5.4).
pub const PROFILE_CLAIMS: [&str; 14] = [
    "name",
    "family_name",
    "given_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "profile",
    "picture",
    "website",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "updated_at",
];
pub const EMAIL_CLAIMS: [&str; 2] = ["email", "email_verified"];
pub const PHONE_CLAIMS: [&str; 2] = ["phone_number", "phone_number_verified"];

/// The user's claims that `scopes` release in ID tokens and userinfo.
pub fn scoped_claims(user: &User, scopes: &ScopeSet) -> Map<String, Value> {
    let released = released_names(scopes);
    user.claims
        .iter()
        .filter(|(name, _)| released.contains(&name.as_str()))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect()
}

/// The names of the user claims `scopes` release.
fn released_names(scopes: &ScopeSet) -> Vec<&'static str> {
    let has = |name: &str| scopes.iter().any(|scope| scope.as_str() == name);
    let mut released: Vec<&str> = Vec::new();
    if has("profile") {
        released.extend(PROFILE_CLAIMS);
    }
    if has("email") {
        released.extend(EMAIL_CLAIMS);
    }
    if has("phone") {
        released.extend(PHONE_CLAIMS);
    }
    if has("address") {
        released.push("address");
    }
    released
}

/// The claims of an ID token, written straight to JSON as an access token's are.
struct IdTokenClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    exp: UnixTime,
    iat: UnixTime,
    auth_time: UnixTime,
    at_hash: &'a str,
    nonce: Option<&'a str>,
    sid: Option<&'a str>,
    /// The user's claims, of which those `scopes` release are written.
    user_claims: &'a Map<String, Value>,
    scopes: &'a ScopeSet,
}

impl IdTokenClaims<'_> {
    fn to_json(&self) -> Vec<u8> {
        const OURS: [&str; 8] = [
            "iss",
            "sub",
            "aud",
            "azp",
            "exp",
            "iat",
            "auth_time",
            "at_hash",
        ];
        // A user claim of one of our names gives way to ours.
        let ours = |name: &str| {
            OURS.contains(&name)
                || (name == "nonce" && self.nonce.is_some())
                || (name == "sid" && self.sid.is_some())
        };
        let released = released_names(self.scopes);
        let mut json = JsonObject::with_capacity(384);
        for (name, value) in self.user_claims {
            if released.contains(&name.as_str()) && !ours(name) {
                json.member(name, value);
            }
        }
        json.str("iss", self.iss)
            .str("sub", self.sub)
            .str("aud", self.aud)
            .str("azp", self.aud)
            .int("exp", self.exp)
            .int("iat", self.iat)
            .int("auth_time", self.auth_time)
            .str("at_hash", self.at_hash);
        if let Some(nonce) = self.nonce {
            json.str("nonce", nonce);
        }
        if let Some(sid) = self.sid {
            json.str("sid", sid);
        }
        json.finish()
    }
}

/// Random bytes drawn from the system generator 1 KiB at a time, per thread: each call to it
/// has a fixed cost (its DRBG's update, a new AES key schedule) several times that of the
/// 16 bytes of one id. Each byte is handed out once.
struct RandomPool {
    bytes: [u8; 1024],
    used: usize,
}

thread_local! {
    static RANDOM_POOL: std::cell::RefCell<RandomPool> = const {
        std::cell::RefCell::new(RandomPool { bytes: [0; 1024], used: 1024 })
    };
}

/// 128 random bits, base64url: unguessable and unique token ids.
pub fn random_id() -> String {
    let mut id = [0u8; 16];
    RANDOM_POOL.with_borrow_mut(|pool| {
        if pool.used + id.len() > pool.bytes.len() {
            SystemRandom::new()
                .fill(&mut pool.bytes)
                .expect("the system random source works");
            pool.used = 0;
        }
        let taken = &mut pool.bytes[pool.used..pool.used + id.len()];
        id.copy_from_slice(taken);
        // Not kept once handed out.
        taken.fill(0);
        pool.used += id.len();
    });
    URL_SAFE_NO_PAD.encode(id)
}

/// OIDC `at_hash`: the left half of the hash of the access token, with the hash of the ID token's
/// signature algorithm (SHA-512 for Ed25519).
fn at_hash(alg: SigningAlg, access_token: &str) -> String {
    let algorithm = match alg {
        SigningAlg::ES256 | SigningAlg::RS256 | SigningAlg::PS256 => &digest::SHA256,
        SigningAlg::ES384 => &digest::SHA384,
        SigningAlg::EdDSA => &digest::SHA512,
    };
    let hash = digest::digest(algorithm, access_token.as_bytes());
    let bytes = hash.as_ref();
    URL_SAFE_NO_PAD.encode(&bytes[..bytes.len() / 2])
}

/// Signs tokens with the key ring as it is at one instant.
pub struct Issuer {
    pub settings: arc_swap::Guard<std::sync::Arc<Settings>>,
    pub keys: arc_swap::Guard<std::sync::Arc<KeyRing>>,
    pub now: UnixTime,
}

impl Issuer {
    /// The issuer with `settings` and `keys` at `now`, outside any request (tests, tools).
    pub fn new(
        settings: std::sync::Arc<Settings>,
        keys: std::sync::Arc<KeyRing>,
        now: UnixTime,
    ) -> Self {
        Self {
            settings: arc_swap::Guard::from_inner(settings),
            keys: arc_swap::Guard::from_inner(keys),
            now,
        }
    }

    /// The key that signs now.
    pub fn signer(&self) -> Result<&JwsSigner, OAuthError> {
        self.keys
            .signer(self.settings.tokens.signing_alg, self.now)
            .ok_or_else(OAuthError::no_active_key)
    }

    /// Signs `claims` as a token of the signed `kind`.
    pub fn sign(&self, kind: TokenKind, claims: &impl Serialize) -> Result<String, OAuthError> {
        self.signer()?
            .sign(kind, claims)
            .map_err(|err| OAuthError::server_error(format!("a token could not be signed: {err}")))
    }

    /// Seals `value` as a token of the sealed `kind`, for the issuer itself.
    pub fn seal(&self, kind: TokenKind, value: &impl Serialize) -> Result<String, OAuthError> {
        debug_assert_eq!(kind.protection(), Protection::Sealed);
        let payload = serde_json::to_vec(value)
            .map_err(|_| OAuthError::server_error("a value could not be encoded"))?;
        encrypt_to_self(&self.keys.secret().jwk, kind.typ(), &payload)
            .map_err(|err| OAuthError::server_error(format!("a value could not be sealed: {err}")))
    }

    /// The key an access token for `client` and `audience` is encrypted to, if any: the
    /// client's own, else that of the one resource it is for.
    fn encryption_for<'c>(
        &'c self,
        client: &'c Client,
        audience: &[String],
    ) -> Option<&'c RecipientKey> {
        client
            .access_token_encryption
            .as_ref()
            .or_else(|| match audience {
                [one] => self
                    .settings
                    .resources
                    .get(one)
                    .and_then(|resource| resource.access_token_encryption.as_ref()),
                _ => None,
            })
    }

    /// An access token as `spec` says, with its status-list entry taken from `revocations`.
    pub async fn access_token(
        &self,
        revocations: &Revocations,
        spec: AccessTokenSpec<'_>,
    ) -> Result<AccessToken, OAuthError> {
        let signer = self.signer()?;
        let status = match spec.status {
            Some(status) => status,
            None => revocations.allocate_status(self.now).await?,
        };
        let mut ttl = spec
            .client
            .access_token_ttl
            .unwrap_or(self.settings.tokens.access_token_ttl)
            .as_secs();
        if let Some(limit) = spec.not_after {
            ttl = ttl.min((limit - self.now).max(1) as u64);
        }
        let jti = random_id();
        let claims = AccessTokenClaims {
            iss: &self.settings.issuer,
            sub: spec.subject,
            aud: spec.audience,
            exp: self.now + ttl as i64,
            iat: self.now,
            nbf: self.now,
            jti: &jti,
            client_id: &spec.client.id,
            scopes: spec.scopes,
            auth_time: spec.user.map(|(_, auth_time)| auth_time),
            user_claims: spec
                .user
                .map(|(user, _)| &user.claims)
                .filter(|claims| !claims.is_empty()),
            extra: spec.extra,
            cnf: spec.cnf,
            status: &status,
        };
        let signed = signer
            .sign_payload(TokenKind::Access, &claims.to_json())
            .map_err(|err| {
                OAuthError::server_error(format!("the token could not be signed: {err}"))
            })?;
        let token = match self.encryption_for(spec.client, spec.audience) {
            None => signed,
            Some(recipient) => recipient.encrypt_jwt(&signed).map_err(|err| {
                OAuthError::server_error(format!("the token could not be encrypted: {err}"))
            })?,
        };
        Ok(AccessToken {
            token,
            jti,
            expires_in: ttl,
            status,
            token_type: match spec.cnf {
                Binding::Dpop(_) => "DPoP",
                _ => "Bearer",
            },
        })
    }

    /// The URI of status list `list` (the `uri` of a token's `status_list` claim).
    pub fn status_list_uri(&self, list: &ListId) -> String {
        format!("{}{}/{list}", self.settings.issuer, paths::STATUS_LISTS)
    }

    /// The status list a `uri` of ours names.
    pub fn status_list_of(&self, uri: &str) -> Option<ListId> {
        uri.strip_prefix(self.settings.issuer.as_str())?
            .strip_prefix(paths::STATUS_LISTS)?
            .strip_prefix('/')?
            .parse()
            .ok()
    }

    /// An OpenID Connect ID token for `client` about `user`, naming the browser session `sid`
    /// it came from (Back-Channel Logout 1.0 2.1).
    #[allow(clippy::too_many_arguments)]
    pub fn id_token(
        &self,
        client: &Client,
        user: &User,
        scopes: &ScopeSet,
        auth_time: UnixTime,
        nonce: Option<&str>,
        sid: Option<&str>,
        access_token: &str,
    ) -> Result<String, OAuthError> {
        let signer = self.signer()?;
        let ttl = self.settings.tokens.id_token_ttl.as_secs() as i64;
        let at_hash = at_hash(signer.alg(), access_token);
        let claims = IdTokenClaims {
            iss: &self.settings.issuer,
            sub: &user.username,
            aud: &client.id,
            exp: self.now + ttl,
            iat: self.now,
            auth_time,
            at_hash: &at_hash,
            nonce,
            sid,
            user_claims: &user.claims,
            scopes,
        };
        signer
            .sign_payload(TokenKind::Id, &claims.to_json())
            .map_err(|err| {
                OAuthError::server_error(format!("the ID token could not be signed: {err}"))
            })
    }

    /// A refresh token: encrypted to the issuer, opaque to everyone else.
    pub fn refresh_token(&self, claims: &RefreshClaims) -> Result<String, OAuthError> {
        self.seal(TokenKind::Refresh, claims)
    }
}

/// RFC 6749 5.1 successful response.
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// RFC 8693: what the token endpoint issued.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued_token_type: Option<&'static str>,
    /// The subject whose profile the answer points at (the provider grant): the HTTP layer
    /// names its userinfo URL in `Location`.
    #[serde(skip)]
    pub profile_subject: Option<String>,
    /// RFC 9449 8.2: the DPoP nonce for the client's next proof (`DPoP-Nonce`).
    #[serde(skip)]
    pub dpop_nonce: Option<String>,
}

impl TokenResponse {
    /// The response body: what serde would write for it, written directly (the hot path).
    pub fn to_json(&self) -> Vec<u8> {
        let tokens = self.access_token.len()
            + self.refresh_token.as_ref().map_or(0, String::len)
            + self.id_token.as_ref().map_or(0, String::len);
        let mut json = JsonObject::with_capacity(tokens + self.scope.len() + 160);
        json.compact_token("access_token", &self.access_token)
            .str("token_type", self.token_type)
            .uint("expires_in", self.expires_in);
        if !self.scope.is_empty() {
            json.str("scope", &self.scope);
        }
        if let Some(refresh_token) = &self.refresh_token {
            json.compact_token("refresh_token", refresh_token);
        }
        if let Some(id_token) = &self.id_token {
            json.compact_token("id_token", id_token);
        }
        if let Some(issued_token_type) = self.issued_token_type {
            json.str("issued_token_type", issued_token_type);
        }
        json.finish()
    }

    /// The answer for `access_token` granted `scopes`; its `token_type` is the token's.
    pub fn issued(access_token: AccessToken, scopes: &ScopeSet) -> Self {
        Self {
            access_token: access_token.token,
            token_type: access_token.token_type,
            expires_in: access_token.expires_in,
            scope: scopes.joined(),
            refresh_token: None,
            id_token: None,
            issued_token_type: None,
            profile_subject: None,
            dpop_nonce: None,
        }
    }
}

#[cfg(test)]
#[path = "issuer_tests.rs"]
mod tests;
