//! The Token Status List endpoints: each list as a signed status list token
//! (`typ: statuslist+jwt`, `sub` its URI, `ttl`, `status_list: {bits, lst}`), and the
//! aggregation of every list served. A list is re-rendered (compressed and signed) when its bits
//! changed, at most once a second, and when its token grows old — never per request.

use crate::clock::UnixTime;
use crate::oauth::error::{status, ErrorCode, OAuthError};
use crate::oauth::issuer::Issuer;
use crate::oauth::token_kind::TokenKind;
use crate::revocation::status_list::{encode, ListId, BITS};
use crate::revocation::Revocations;
use moka::sync::Cache;
use serde::Serialize;
use std::sync::Arc;

/// A list re-renders at most this often however often it changes: resource servers cache it for
/// its `ttl` anyway.
const MIN_RENDER_INTERVAL_SECS: i64 = 1;

struct Rendered {
    version: u64,
    token: String,
    /// The key that signed it: a rotation re-signs the list with the new key.
    kid: String,
    /// The token's `iat`.
    signed_at: UnixTime,
    /// When its version was last compared with the store's.
    checked_at: UnixTime,
}

/// The rendered lists, per list; bounded (lists past their retention are never asked for again).
pub struct RenderedLists {
    lists: Cache<ListId, Arc<Rendered>>,
    /// One rendering at a time: a burst of requests for a changed list renders it once.
    rendering: tokio::sync::Mutex<()>,
}

impl Default for RenderedLists {
    fn default() -> Self {
        Self {
            lists: Cache::builder().max_capacity(4096).build(),
            rendering: tokio::sync::Mutex::new(()),
        }
    }
}

#[derive(Serialize)]
struct StatusListClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    iat: UnixTime,
    exp: UnixTime,
    ttl: u64,
    status_list: EncodedList,
}

#[derive(Serialize)]
struct EncodedList {
    bits: u8,
    lst: String,
}

fn not_found() -> OAuthError {
    OAuthError::new(ErrorCode::InvalidRequest, "no such status list").with_status(status::NOT_FOUND)
}

impl RenderedLists {
    /// The cached rendering, when it was checked within the last second.
    fn fresh(&self, id: &ListId, issuer: &Issuer) -> Option<Arc<Rendered>> {
        let cached = self.lists.get(id)?;
        (issuer.now - cached.checked_at < MIN_RENDER_INTERVAL_SECS).then_some(cached)
    }

    /// Whether a rendering is too old to serve as it is: past half its lifetime, or signed by
    /// a key that no longer signs.
    fn stale(cached: &Rendered, issuer: &Issuer) -> bool {
        let half_life = issuer.settings.status_lists.token_lifetime.as_secs() as i64 / 2;
        issuer.now - cached.signed_at >= half_life
            || issuer
                .signer()
                .is_ok_and(|signer| signer.kid() != cached.kid)
    }

    /// The status list token of list `id` (as it appears in a token's `uri`).
    pub async fn token(
        &self,
        issuer: &Issuer,
        revocations: &Revocations,
        id: &str,
    ) -> Result<String, OAuthError> {
        let id: ListId = id.parse().map_err(|_| not_found())?;
        if !issuer
            .settings
            .status_list_layout()
            .is_served(&id, issuer.now)
        {
            return Err(not_found());
        }
        if let Some(rendered) = self.fresh(&id, issuer) {
            return Ok(rendered.token.clone());
        }
        let _one_at_a_time = self.rendering.lock().await;
        if let Some(rendered) = self.fresh(&id, issuer) {
            return Ok(rendered.token.clone());
        }
        let cached = self.lists.get(&id);
        // Re-signed at half its lifetime, so a copy fetched now stays usable for a while.
        let too_old = cached
            .as_ref()
            .is_some_and(|cached| Self::stale(cached, issuer));
        let known = cached.as_ref().filter(|_| !too_old).map(|c| c.version);
        let rendered = match revocations.status_snapshot(&id, known).await? {
            // Unchanged and young enough: serve it, and look again in a second.
            None => {
                let cached = cached.expect("a known version comes from the cache");
                Arc::new(Rendered {
                    version: cached.version,
                    token: cached.token.clone(),
                    kid: cached.kid.clone(),
                    signed_at: cached.signed_at,
                    checked_at: issuer.now,
                })
            }
            Some(snapshot) => {
                let uri = issuer.status_list_uri(&id);
                let kid = issuer.signer()?.kid().to_owned();
                let lists = &issuer.settings.status_lists;
                let token = issuer.sign(
                    TokenKind::StatusList,
                    &StatusListClaims {
                        iss: &issuer.settings.issuer,
                        sub: &uri,
                        iat: issuer.now,
                        exp: issuer.now + lists.token_lifetime.as_secs() as i64,
                        ttl: lists.ttl.as_secs(),
                        status_list: EncodedList {
                            bits: BITS,
                            lst: encode(&snapshot.bitstring),
                        },
                    },
                )?;
                Arc::new(Rendered {
                    version: snapshot.version,
                    token,
                    kid,
                    signed_at: issuer.now,
                    checked_at: issuer.now,
                })
            }
        };
        self.lists.insert(id, rendered.clone());
        Ok(rendered.token.clone())
    }
}

/// The URIs of every list served now (the status list aggregation).
pub async fn aggregation(
    issuer: &Issuer,
    revocations: &Revocations,
) -> Result<Vec<String>, OAuthError> {
    Ok(revocations
        .served_lists(issuer.now)
        .await?
        .iter()
        .map(|id| issuer.status_list_uri(id))
        .collect())
}
