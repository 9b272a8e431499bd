//! Client authentication by JWT assertion (RFC 7523 2.2, OIDC Core 9): `private_key_jwt` and
//! `client_secret_jwt`, optionally wrapped in a JWE encrypted to the issuer's published
//! encryption key. Every rule is checked, and the signature before any claim is trusted, so an
//! unauthenticated request cannot fill the replay cache.

use super::{AuthenticatedClient, ClientAuthenticator};
use crate::jose::{decrypt_assertion, AssertionAlg, HmacAlg, SigningAlg};
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::foreign_jwt::{
    audience_matches, header_alg, parse, policy, verify, ForeignJwtError,
};
use crate::oauth::token_kind::ReplayKind;
use crate::oauth::types::AuthMethod;
use serde::Deserialize;
use serde_json::Value;
use strum::IntoEnumIterator;

pub const JWT_BEARER_CLIENT_ASSERTION: &str =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

fn refused(description: impl Into<std::borrow::Cow<'static, str>>) -> OAuthError {
    OAuthError::invalid_client(description)
}

#[derive(Deserialize)]
struct AssertionClaims {
    iss: Option<String>,
    sub: Option<String>,
    #[serde(default)]
    aud: Value,
    exp: Option<i64>,
    iat: Option<i64>,
    nbf: Option<i64>,
    jti: Option<String>,
}

impl ClientAuthenticator<'_> {
    /// Authenticates the client of a request carrying `client_assertion`. `client_id`, when the
    /// request also sends it, must name the same client.
    pub(super) async fn by_assertion(
        &self,
        assertion: &str,
        client_id: Option<&str>,
    ) -> Result<AuthenticatedClient, OAuthError> {
        let rules = &self.settings.client_assertions;
        if assertion.len() > rules.max_size {
            return Err(refused("the client assertion is too large"));
        }
        let (jws, encrypted) = match assertion.split('.').count() {
            5 => {
                let inner = decrypt_assertion(
                    self.keys.encryption_keys().iter().map(|key| &key.decrypter),
                    assertion,
                )
                .ok_or_else(|| refused("the jwe token cannot be decrypted"))?;
                (inner, true)
            }
            3 => (assertion.to_owned(), false),
            _ => return Err(refused("the client assertion is not a JWS token")),
        };
        // Every algorithm some client may use (under the server's profile); the client's own
        // list is checked once it is known.
        let policy = policy(
            SigningAlg::iter()
                .map(AssertionAlg::Asymmetric)
                .chain(HmacAlg::iter().map(AssertionAlg::Hmac))
                .filter(|alg| self.settings.allows_assertion_alg(*alg)),
            rules.max_size,
        );
        let parsed = parse(&jws, &policy).map_err(|err| match err {
            ForeignJwtError::TooLarge => refused("the client assertion header is too large"),
            ForeignJwtError::CriticalHeader => {
                refused("the assertion has critical headers this server does not understand")
            }
            ForeignJwtError::AlgorithmNotAllowed => {
                refused("the assertion's algorithm is not allowed")
            }
            _ => refused("the client assertion is not a JWS token"),
        })?;
        let alg = header_alg(&parsed);
        let payload = parsed
            .unverified_payload()
            .map_err(|_| refused("the JWS payload cannot be extracted"))?;
        let claims: AssertionClaims = serde_json::from_slice(&payload)
            .map_err(|_| refused("the JWS payload cannot be extracted"))?;
        let (Some(iss), Some(sub)) = (&claims.iss, &claims.sub) else {
            return Err(refused("the client id passed in JWT is not correct"));
        };
        if iss != sub || client_id.is_some_and(|id| id != iss) {
            return Err(refused("the client id passed in JWT is not correct"));
        }
        let client = self
            .clients
            .get(iss)
            .cloned()
            .ok_or_else(|| refused("the client doesn't exist"))?;
        if client.require_encrypted_assertion && !encrypted {
            return Err(refused("the client assertion is not a JWE token"));
        }
        let method = match alg {
            AssertionAlg::Asymmetric(_) => AuthMethod::PrivateKeyJwt,
            AssertionAlg::Hmac(_) => AuthMethod::ClientSecretJwt,
        };
        if !client.allows_method(method) {
            return Err(refused(format!(
                "the client {} is not allowed to authenticate with {method}",
                client.id
            )));
        }
        if !client.assertion_algs.contains(&alg) {
            return Err(refused(format!(
                "the algorithm {alg} is not allowed for the client {}",
                client.id
            )));
        }
        let keys = match alg {
            AssertionAlg::Hmac(_) => client.assertion_secret.as_ref(),
            AssertionAlg::Asymmetric(_) => client.keys.as_ref(),
        };
        match verify(parsed, keys).await {
            Ok(_) => {}
            // No secret to check an HMAC with: nothing it could be signed with is registered.
            Err(ForeignJwtError::NoMatchingKey) if matches!(alg, AssertionAlg::Hmac(_)) => {
                return Err(refused("the assertion signature is not valid"))
            }
            Err(ForeignJwtError::NoMatchingKey) => {
                return Err(refused(
                    "no registered key of the client matches the assertion",
                ))
            }
            Err(ForeignJwtError::KeysUnavailable) => {
                return Err(refused("the signer's keys could not be fetched"))
            }
            Err(_) => return Err(refused("the assertion signature is not valid")),
        }

        let now = self.now;
        let skew = rules.clock_skew.as_secs() as i64;
        // FAPI 2.0 5.3.2.1: the issuer identifier, and nothing else.
        let fapi2_issuer = std::slice::from_ref(&self.settings.issuer);
        let accepted = match self.settings.is_fapi2() {
            true => fapi2_issuer,
            false => &self.settings.assertion_audiences,
        };
        if !audience_matches(&claims.aud, accepted) {
            return Err(refused("the audience passed in JWT is not correct"));
        }
        // FAPI 2.0 5.3.2.1: as a string, not an item of an array.
        if self.settings.is_fapi2() && !claims.aud.is_string() {
            return Err(refused(
                "the audience passed in JWT must be the issuer identifier as a string",
            ));
        }
        let exp = claims
            .exp
            .ok_or_else(|| refused("the assertion has no exp"))?;
        if exp + skew <= now {
            return Err(refused("the received JWT has expired"));
        }
        let max_lifetime = rules.max_lifetime.as_secs() as i64;
        if exp - claims.iat.unwrap_or(now).min(now) > max_lifetime + skew {
            return Err(refused(format!(
                "the assertion may live at most {max_lifetime} seconds"
            )));
        }
        if claims.nbf.is_some_and(|nbf| nbf > now + skew)
            || claims.iat.is_some_and(|iat| iat > now + skew)
        {
            return Err(refused("the assertion is not valid yet"));
        }
        let jti = claims
            .jti
            .filter(|jti| !jti.is_empty() && jti.len() <= 256)
            .ok_or_else(|| refused("the assertion has no jti"))?;
        let first = self
            .revocations
            .first_use(
                ReplayKind::ClientAssertion,
                &format!("{}:{jti}", client.id),
                exp + skew,
                now,
            )
            .await
            .map_err(|err| match err {
                crate::revocation::RevocationError::Full => OAuthError::new(
                    ErrorCode::TemporarilyUnavailable,
                    "the assertion replay cache is full; try again later",
                )
                .with_retry_after(5),
                other => other.into(),
            })?;
        if !first {
            return Err(refused("the assertion was used before"));
        }
        Ok(AuthenticatedClient::by(client, method))
    }
}
