//! How a request presents an access token to an endpoint that takes one (RFC 6750 2): in the
//! `Authorization: Bearer` header, or as the `access_token` field of a form body — never both.
//! Failures carry the Bearer challenge (RFC 6750 3).

use super::error::{Challenge, ErrorCode, OAuthError};
use super::params::Params;

/// A bearer-token error with its challenge.
pub fn bearer_error(
    code: ErrorCode,
    description: &'static str,
    scope: Option<&'static str>,
) -> OAuthError {
    OAuthError::new(code, description).with_challenge(Challenge::Bearer { scope })
}

/// The request carried no access token at all: a bare challenge naming no error (RFC 6750 3.1).
pub fn missing_token() -> OAuthError {
    OAuthError::new(ErrorCode::InvalidToken, "the request has no access token")
        .with_challenge(Challenge::BearerMissing)
}

/// An access token that is not (or no longer) good for anything.
pub fn invalid_token() -> OAuthError {
    bearer_error(
        ErrorCode::InvalidToken,
        "the access token is not valid, expired or revoked",
        None,
    )
}

/// The token of a request: from the `Authorization` header's bytes and, where the endpoint takes
/// form bodies, the body's `access_token`. `None` when it presented none.
pub fn presented_token(
    authorization: Option<&[u8]>,
    form: Option<&Params>,
) -> Result<Option<String>, OAuthError> {
    let from_header = match authorization {
        None => None,
        Some(value) => {
            let value = std::str::from_utf8(value).unwrap_or_default();
            match value.split_once(' ') {
                Some((scheme, token))
                    if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
                {
                    Some(token.trim().to_owned())
                }
                _ => {
                    return Err(bearer_error(
                        ErrorCode::InvalidRequest,
                        "the Authorization header must be a Bearer token",
                        None,
                    ))
                }
            }
        }
    };
    let from_form = form.and_then(|form| form.get("access_token"));
    match (from_header, from_form) {
        (Some(_), Some(_)) => Err(bearer_error(
            ErrorCode::InvalidRequest,
            "the access token was sent more than one way",
            None,
        )),
        (Some(token), None) => Ok(Some(token)),
        (None, from_form) => Ok(from_form.map(str::to_owned)),
    }
}
