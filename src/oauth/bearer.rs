//! The one reader of an access token presented to an endpoint that takes one (userinfo, the UMA
//! permission endpoint): how it was presented — `Authorization: Bearer` or the `access_token`
//! form field (RFC 6750 2), or `Authorization: DPoP` with a proof naming it (RFC 9449 7) — then
//! whether it is a current token of ours, and whether the request holds what it is bound to:
//! a DPoP-bound token only with the DPoP scheme and a proof by its key (never as Bearer), a
//! certificate-bound one only over the mutual-TLS connection of its certificate (RFC 8705 3).
//!
//! Failures carry both challenges (RFC 9449 7.2): `Bearer`, and `DPoP` with the proof
//! algorithms; the error is named in the challenge of the scheme the request used.

use super::client_auth::{certificate_thumbprint, Binding, PeerCertificates};
use super::dpop::{DpopChecker, DpopRequest, Endpoint};
use super::error::{Challenge, ErrorCode, OAuthError, Scheme};
use super::issuer::Issuer;
use super::params::Params;
use super::tokens::{AccessTokenClaims, Reading};
use crate::revocation::Revocations;
use subtle::ConstantTimeEq;

/// Whether an `Authorization` header presents an access token (Bearer or DPoP) rather than
/// client credentials.
pub fn presents_token(authorization: Option<&[u8]>) -> bool {
    let scheme = authorization
        .and_then(|value| value.split(|b| *b == b' ').next())
        .unwrap_or_default();
    scheme.eq_ignore_ascii_case(b"bearer") || scheme.eq_ignore_ascii_case(b"dpop")
}

/// An access token as a request presented it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresentedToken {
    pub token: String,
    pub scheme: Scheme,
}

/// What besides the token a request carried that a bound token may need.
#[derive(Debug, Clone, Copy, Default)]
pub struct Possession<'a> {
    /// The DPoP proof, and what the request was (method, URL).
    pub dpop: DpopRequest<'a>,
    /// The client certificate chain of a mutual-TLS connection.
    pub certificates: Option<&'a PeerCertificates>,
}

/// Reads the access tokens of one request to an endpoint that accepts Bearer and DPoP tokens.
pub struct AccessTokenReader<'a> {
    issuer: &'a Issuer,
    revocations: &'a Revocations,
    dpop: DpopChecker<'a>,
}

impl<'a> AccessTokenReader<'a> {
    pub fn new(issuer: &'a Issuer, revocations: &'a Revocations) -> Self {
        Self {
            issuer,
            revocations,
            dpop: DpopChecker::new(issuer, revocations, Endpoint::Resource { bearer: true }),
        }
    }

    /// An error of this endpoint with its challenges (its status is the code's: 400, 401, or
    /// 403 for insufficient_scope); `error_in`: the scheme whose challenge names it, `None` for
    /// a bare challenge (no credentials at all).
    pub fn error(
        &self,
        code: ErrorCode,
        description: &'static str,
        scope: Option<&'static str>,
        error_in: Option<Scheme>,
    ) -> OAuthError {
        OAuthError::new(code, description).with_challenge(Challenge::Dpop {
            algs: self.issuer.settings.dpop.algs_text.clone(),
            bearer: true,
            error_in,
            scope,
        })
    }

    /// The request carried no access token at all.
    pub fn missing(&self) -> OAuthError {
        self.error(
            ErrorCode::InvalidToken,
            "the request has no access token",
            None,
            None,
        )
    }

    fn invalid_token(&self, description: &'static str, scheme: Scheme) -> OAuthError {
        self.error(ErrorCode::InvalidToken, description, None, Some(scheme))
    }

    /// The token of a request: from the `Authorization` header's bytes and, where the endpoint
    /// takes form bodies, the body's `access_token` (a bearer token) — never both. `None` when it
    /// presented none.
    pub fn presented(
        &self,
        authorization: Option<&[u8]>,
        form: Option<&Params>,
    ) -> Result<Option<PresentedToken>, OAuthError> {
        let malformed = |description| {
            self.error(
                ErrorCode::InvalidRequest,
                description,
                None,
                Some(Scheme::Bearer),
            )
        };
        let from_header = match authorization {
            None => None,
            Some(value) => {
                let value = std::str::from_utf8(value).unwrap_or_default();
                let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
                let token = token.trim();
                let scheme = if scheme.eq_ignore_ascii_case("bearer") {
                    Scheme::Bearer
                } else if scheme.eq_ignore_ascii_case("dpop") {
                    Scheme::Dpop
                } else {
                    return Err(malformed(
                        "the Authorization header must be a Bearer or a DPoP token",
                    ));
                };
                if token.is_empty() {
                    return Err(malformed("the Authorization header carries no token"));
                }
                Some(PresentedToken {
                    token: token.to_owned(),
                    scheme,
                })
            }
        };
        let from_form = form.and_then(|form| form.get("access_token"));
        match (from_header, from_form) {
            (Some(_), Some(_)) => Err(malformed("the access token was sent more than one way")),
            (Some(token), None) => Ok(Some(token)),
            (None, from_form) => Ok(from_form.map(|token| PresentedToken {
                token: token.to_owned(),
                scheme: Scheme::Bearer,
            })),
        }
    }

    /// The claims of `presented` if it is a current, unrevoked access token of ours and the
    /// request holds what it is bound to.
    pub async fn read(
        &self,
        presented: &PresentedToken,
        possession: Possession<'_>,
    ) -> Result<AccessTokenClaims, OAuthError> {
        let scheme = presented.scheme;
        // RFC 9449 7.1: the DPoP scheme needs a proof naming this token (`ath`).
        let proof = match scheme {
            Scheme::Dpop => Some(
                self.dpop
                    .check(&possession.dpop, Some(&presented.token))
                    .await?
                    .ok_or_else(|| self.dpop.invalid("the DPoP scheme needs a DPoP proof"))?,
            ),
            Scheme::Bearer => None,
        };
        let Reading::Valid(claims) = self
            .issuer
            .read::<AccessTokenClaims>(self.revocations, &presented.token)
            .await?
        else {
            return Err(
                self.invalid_token("the access token is not valid, expired or revoked", scheme)
            );
        };
        match (claims.binding(), proof) {
            (Binding::Dpop(jkt), Some(proof)) => {
                if !bool::from(jkt.as_bytes().ct_eq(proof.jkt.as_bytes())) {
                    return Err(self.invalid_token(
                        "the access token is not bound to the DPoP proof's key",
                        Scheme::Dpop,
                    ));
                }
            }
            (Binding::Dpop(_), None) => {
                // RFC 9449 7.2: never accepted as a bearer token.
                return Err(self.invalid_token(
                    "the access token is DPoP-bound: present it with the DPoP scheme and a proof",
                    Scheme::Dpop,
                ));
            }
            (_, Some(_)) => {
                return Err(self.invalid_token(
                    "the access token is not DPoP-bound: present it as a Bearer token",
                    Scheme::Dpop,
                ));
            }
            (Binding::Certificate(x5t), None) => {
                let presented = possession
                    .certificates
                    .and_then(PeerCertificates::end_entity)
                    .map(certificate_thumbprint);
                if !presented
                    .is_some_and(|presented| bool::from(presented.as_bytes().ct_eq(x5t.as_bytes())))
                {
                    return Err(self.invalid_token(
                        "the access token is bound to a client certificate this request did not present",
                        Scheme::Bearer,
                    ));
                }
            }
            (Binding::None, None) => {}
        }
        Ok(claims)
    }
}
