//! `GET /oauth2/revocations?since=CURSOR`: the revocation feed for resource servers that verify
//! tokens offline. A signed JWT (same keys as the JWKS, `typ: revocations+jwt`) listing the
//! revoked `jti`s still live, with their `exp`, revoked after the cursor, and the next cursor.
//! A resource server that polls every P seconds refuses a revoked token within P.

use crate::jose::TokenType;
use crate::oauth::OAuthError;
use crate::revocation::FeedEntry;
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

/// Most entries in one answer; `more: true` says to ask again from `next`.
pub const PAGE_SIZE: usize = 1000;
/// A feed document is valid this long: a stale copy cannot be replayed for long.
const FEED_TTL_SECS: i64 = 300;

#[derive(Deserialize)]
pub struct Query {
    since: Option<String>,
}

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

pub async fn revocations(
    query: web::Query<Query>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, OAuthError> {
    let since = match query.since.as_deref() {
        None | Some("") => 0,
        Some(cursor) => cursor.parse::<u64>().map_err(|_| {
            OAuthError::invalid_request(
                "the parameter since must be a cursor this endpoint returned",
            )
        })?,
    };
    let now = state.now();
    let page = state.revocations.feed(since, PAGE_SIZE, now).await?;
    let settings = &state.settings;
    let keys = state.keys();
    let signer = keys
        .signer(settings.tokens.signing_alg, now)
        .ok_or_else(|| {
            OAuthError::new(
                crate::oauth::ErrorCode::TemporarilyUnavailable,
                "no signing key is active",
            )
        })?;
    let document = signer
        .sign(
            TokenType::RevocationList,
            &FeedClaims {
                iss: &settings.issuer,
                iat: now,
                exp: now + FEED_TTL_SECS,
                since: since.to_string(),
                next: page.next.to_string(),
                more: page.more,
                revoked: &page.entries,
            },
        )
        .map_err(|err| OAuthError::server_error(format!("the feed could not be signed: {err}")))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type("application/jwt")
        .body(document))
}
