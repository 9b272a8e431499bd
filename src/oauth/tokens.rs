//! Reading back the tokens this issuer made — one way for every kind: the signature (by a key of
//! the ring still published) or the seal (by one of our secret keys), the kind's `typ`, our
//! `iss`, and the validity window by the application's clock; then, where the kind can be
//! revoked, what the revocation state says (an access token's bit in its status list, a refresh
//! token's family on the denylist). Revoking is here too, so every path that revokes (reuse of a
//! spent token, reuse of a code, RFC 7009) does it the same way.

use super::client_auth::Binding;
use super::issuer::{Issuer, RefreshClaims};
use super::token_kind::{Protection, TokenKind};
use crate::clock::UnixTime;
use crate::jose::decrypt_from_self;
use crate::revocation::status_list::StatusRef;
use crate::revocation::{RevocationError, Revocations};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Clock skew tolerated on `nbf` between replicas.
const NBF_SKEW_SECS: i64 = 60;

/// How a token is revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevocationId<'a> {
    /// An access token, by its bit in a status list (the `uri` and `idx` of its `status`).
    Status { uri: &'a str, idx: u32 },
    /// Every refresh token of a family (and the code it came from), on the denylist; only the
    /// issuer checks it.
    Family(&'a str),
    /// A browser session (`sid`) that was logged out; only the issuer checks it.
    Session(&'a str),
}

/// The denylist key of a refresh-token family.
fn family_key(fid: &str) -> String {
    format!("family:{fid}")
}

/// The denylist key of a logged-out browser session.
fn session_key(sid: &str) -> String {
    format!("session:{sid}")
}

/// The claims of a kind of token of ours, as the reader checks them.
pub trait OwnClaims: DeserializeOwned {
    const KIND: TokenKind;

    /// `iss`, for kinds that carry it (sealed browser values do not: the seal says who made them).
    fn iss(&self) -> Option<&str> {
        None
    }

    fn exp(&self) -> UnixTime;

    /// The start of validity, for kinds that have one (`nbf`, else `iat`).
    fn not_before(&self) -> Option<UnixTime> {
        None
    }

    /// How the denylist names this token, for kinds that can be revoked.
    fn revocation_id(&self) -> Option<RevocationId<'_>> {
        None
    }
}

/// What reading a token found.
#[derive(Debug)]
pub enum Reading<T> {
    /// Ours, current and not revoked.
    Valid(T),
    /// Ours and current, but on the denylist.
    Revoked(T),
    /// Anything else: garbage, foreign, tampered, another kind, expired, not yet valid.
    Invalid,
}

impl<T> Reading<T> {
    /// The claims of a valid token.
    pub fn valid(self) -> Option<T> {
        match self {
            Reading::Valid(claims) => Some(claims),
            _ => None,
        }
    }
}

impl Issuer {
    /// The claims of `token` if it is a current token of ours of kind `T::KIND`. Revocation is
    /// not asked: see [`Issuer::read`].
    pub fn open<T: OwnClaims>(&self, token: &str) -> Option<T> {
        let kind = T::KIND;
        let payload = match kind.protection() {
            Protection::Signed => {
                let settings = &self.settings;
                let (header, payload) = self.keys.verify(
                    token,
                    settings.tokens.signing_alg,
                    self.now,
                    settings.token_retention,
                )?;
                if header.typ.as_deref() != Some(kind.typ()) {
                    return None;
                }
                payload
            }
            Protection::Sealed => decrypt_from_self(self.keys.secret_jwks(), kind.typ(), token)?,
        };
        let claims: T = serde_json::from_slice(&payload).ok()?;
        let current = claims.iss().is_none_or(|iss| iss == self.settings.issuer)
            && claims.exp() > self.now
            && claims
                .not_before()
                .is_none_or(|start| start <= self.now + NBF_SKEW_SECS);
        current.then_some(claims)
    }

    /// Opens `token` as [`Issuer::open`] does and, for kinds that can be revoked, asks the
    /// denylist. An unreachable shared store is an error, never a "not revoked".
    pub async fn read<T: OwnClaims>(
        &self,
        revocations: &Revocations,
        token: &str,
    ) -> Result<Reading<T>, RevocationError> {
        let Some(claims) = self.open::<T>(token) else {
            return Ok(Reading::Invalid);
        };
        Ok(if self.is_revoked(revocations, &claims).await? {
            Reading::Revoked(claims)
        } else {
            Reading::Valid(claims)
        })
    }

    /// What the revocation state says of an opened token (never revoked for kinds that cannot
    /// be).
    pub async fn is_revoked<T: OwnClaims>(
        &self,
        revocations: &Revocations,
        claims: &T,
    ) -> Result<bool, RevocationError> {
        match claims.revocation_id() {
            None => Ok(false),
            Some(RevocationId::Family(fid)) => {
                revocations.is_revoked(&family_key(fid), self.now).await
            }
            Some(RevocationId::Session(sid)) => {
                revocations.is_revoked(&session_key(sid), self.now).await
            }
            Some(RevocationId::Status { uri, idx }) => match self.status_list_of(uri) {
                Some(list) => {
                    revocations
                        .is_status_revoked(&StatusRef { list, idx })
                        .await
                }
                // We signed it, so this cannot be; if it were, nothing could vouch for it.
                None => Ok(true),
            },
        }
    }

    /// An access token's status-list entry, when it names one of our lists.
    pub fn status_of(&self, claims: &AccessTokenClaims) -> Option<StatusRef> {
        let status = claims.status.as_ref()?;
        Some(StatusRef {
            list: self.status_list_of(&status.status_list.uri)?,
            idx: status.status_list.idx,
        })
    }

    /// Revokes an access token: its bit in its status list.
    pub async fn revoke_access_token(
        &self,
        revocations: &Revocations,
        claims: &AccessTokenClaims,
    ) -> Result<(), RevocationError> {
        match self.status_of(claims) {
            Some(status) => revocations.revoke_status(&status, self.now).await,
            None => Ok(()),
        }
    }

    /// Revokes a refresh token: its whole family, and the access token issued with it.
    pub async fn revoke_refresh_token(
        &self,
        revocations: &Revocations,
        claims: &RefreshClaims,
    ) -> Result<(), RevocationError> {
        self.revoke_family(revocations, &claims.fid).await?;
        match &claims.at_status {
            Some(status) => revocations.revoke_status(status, self.now).await,
            None => Ok(()),
        }
    }

    /// Refuses the browser session `sid` from now until `exp`, when it would have ended.
    pub async fn revoke_session(
        &self,
        revocations: &Revocations,
        sid: &str,
        exp: UnixTime,
    ) -> Result<(), RevocationError> {
        revocations.revoke(&session_key(sid), exp, self.now).await
    }

    /// Revokes every refresh token of family `fid`, for as long as its newest member could live.
    pub async fn revoke_family(
        &self,
        revocations: &Revocations,
        fid: &str,
    ) -> Result<(), RevocationError> {
        let family_end = self.now + self.settings.tokens.refresh_token_ttl.as_secs() as i64;
        revocations
            .revoke(&family_key(fid), family_end, self.now)
            .await
    }
}

/// The claims of one of our access tokens.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct AccessTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: Value,
    pub exp: i64,
    pub iat: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    pub jti: String,
    pub client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<StatusClaim>,
    /// Any other claim (user claims, `cnf`, `act`...).
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// The `status` claim of an access token, as read back.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct StatusClaim {
    pub status_list: StatusListClaim,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct StatusListClaim {
    pub idx: u32,
    pub uri: String,
}

impl AccessTokenClaims {
    /// What the token is bound to: a certificate (RFC 8705 3.1), a DPoP key (RFC 9449 6.1), or
    /// nothing.
    pub fn binding(&self) -> Binding {
        let member = |name: &str| {
            self.other
                .get("cnf")
                .and_then(|cnf| cnf.get(name))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        match (member("jkt"), member("x5t#S256")) {
            (Some(jkt), _) => Binding::Dpop(jkt),
            (None, Some(x5t)) => Binding::Certificate(x5t),
            (None, None) => Binding::None,
        }
    }
}

impl OwnClaims for AccessTokenClaims {
    const KIND: TokenKind = TokenKind::Access;

    fn iss(&self) -> Option<&str> {
        Some(&self.iss)
    }

    fn exp(&self) -> UnixTime {
        self.exp
    }

    fn not_before(&self) -> Option<UnixTime> {
        Some(self.nbf.unwrap_or(self.iat))
    }

    fn revocation_id(&self) -> Option<RevocationId<'_>> {
        self.status.as_ref().map(|status| RevocationId::Status {
            uri: &status.status_list.uri,
            idx: status.status_list.idx,
        })
    }
}

/// The claims of one of our ID tokens that the issuer reads back (UMA claim tokens).
#[derive(Debug, Clone, Deserialize)]
pub struct IdTokenClaims {
    pub iss: String,
    pub sub: String,
    /// Our ID tokens have one audience: the client.
    pub aud: Value,
    pub exp: i64,
}

impl OwnClaims for IdTokenClaims {
    const KIND: TokenKind = TokenKind::Id;

    fn iss(&self) -> Option<&str> {
        Some(&self.iss)
    }

    fn exp(&self) -> UnixTime {
        self.exp
    }
}
