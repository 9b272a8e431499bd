//! The revocation feed, for resource servers that verify tokens offline: a signed JWT (same keys
//! as the JWKS) listing the revoked `jti`s still live, with their `exp`, revoked after the
//! cursor, and the next cursor. A resource server that polls every P seconds refuses a revoked
//! token within P.

use crate::oauth::error::OAuthError;
use crate::oauth::issuer::Issuer;
use crate::oauth::token_kind::TokenKind;
use crate::revocation::{FeedEntry, Revocations};
use serde::Serialize;

/// Most entries in one answer; `more: true` says to ask again from `next`.
pub const PAGE_SIZE: usize = 1000;
/// A feed document is valid this long: a stale copy cannot be replayed for long.
const FEED_TTL_SECS: i64 = 300;

#[derive(Serialize)]
struct FeedClaims<'a> {
    iss: &'a str,
    iat: i64,
    exp: i64,
    since: String,
    next: String,
    more: bool,
    revoked: &'a [FeedEntry],
}

/// The signed feed document after cursor `since` (from the start without one).
pub async fn feed(
    issuer: &Issuer,
    revocations: &Revocations,
    since: Option<&str>,
) -> Result<String, OAuthError> {
    let since = match since {
        None | Some("") => 0,
        Some(cursor) => cursor.parse::<u64>().map_err(|_| {
            OAuthError::invalid_request(
                "the parameter since must be a cursor this endpoint returned",
            )
        })?,
    };
    let now = issuer.now;
    let page = revocations.feed(since, PAGE_SIZE, now).await?;
    issuer.sign(
        TokenKind::RevocationFeed,
        &FeedClaims {
            iss: &issuer.settings.issuer,
            iat: now,
            exp: now + FEED_TTL_SECS,
            since: since.to_string(),
            next: page.next.to_string(),
            more: page.more,
            revoked: &page.entries,
        },
    )
}
