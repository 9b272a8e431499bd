//! RFC 6750 on the resource server's side, and RFC 9449 7 for DPoP, framework-free: reading
//! `Authorization: Bearer` (or `DPoP`) and building the `WWW-Authenticate` challenges, the
//! `DPoP-Nonce` header and the status code of a refusal. The actix and tower glue both answer
//! through this.

use crate::error::{BearerErrorCode, Error};

/// The token of an `Authorization` header value `Bearer <token>` (scheme case-insensitive,
/// RFC 9110 11.1). `Err` carries the `invalid_request` description.
///
/// ```
/// use tessera_verifier::bearer_token;
/// assert_eq!(bearer_token("Bearer abc.def.ghi"), Ok("abc.def.ghi"));
/// assert_eq!(bearer_token("bearer  abc"), Ok("abc"));
/// assert!(bearer_token("Basic dXNlcjpwYXNz").is_err());
/// assert!(bearer_token("Bearer a b").is_err());
/// ```
pub fn bearer_token(header_value: &str) -> Result<&str, &'static str> {
    let not_bearer = "the Authorization header is not a Bearer token";
    let (scheme, _) = header_value.split_once(' ').ok_or(not_bearer)?;
    if !scheme.eq_ignore_ascii_case("Bearer") {
        return Err(not_bearer);
    }
    authorization_token(header_value).map(|(_, token)| token)
}

/// The scheme an access token came with in the `Authorization` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthScheme {
    /// RFC 6750 `Bearer`.
    Bearer,
    /// RFC 9449 7.1 `DPoP`: the token comes with a proof in the `DPoP` header.
    Dpop,
}

/// The scheme and token of an `Authorization` header value `Bearer <token>` or `DPoP <token>`
/// (schemes case-insensitive, RFC 9110 11.1; both tokens are token68). `Err` carries the
/// `invalid_request` description.
///
/// ```
/// use tessera_verifier::{authorization_token, AuthScheme};
/// assert_eq!(authorization_token("DPoP abc.def.ghi"), Ok((AuthScheme::Dpop, "abc.def.ghi")));
/// assert_eq!(authorization_token("bearer  abc"), Ok((AuthScheme::Bearer, "abc")));
/// assert!(authorization_token("DPoP").is_err());
/// assert!(authorization_token("DPoP a b").is_err());
/// ```
pub fn authorization_token(header_value: &str) -> Result<(AuthScheme, &str), &'static str> {
    let not_a_token = "the Authorization header is not a Bearer or DPoP token";
    let (scheme, rest) = header_value.split_once(' ').ok_or(not_a_token)?;
    let scheme = if scheme.eq_ignore_ascii_case("Bearer") {
        AuthScheme::Bearer
    } else if scheme.eq_ignore_ascii_case("DPoP") {
        AuthScheme::Dpop
    } else {
        return Err(not_a_token);
    };
    let token = rest.trim_start_matches(' ').trim_end_matches(' ');
    // RFC 6750 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=",
    // the token68 of RFC 9110 11.2 that RFC 9449 7.1 uses too.
    let body = token.trim_end_matches('=');
    let well_formed = !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b));
    match (well_formed, scheme) {
        (true, _) => Ok((scheme, token)),
        (false, AuthScheme::Bearer) => Err("the Bearer token is malformed"),
        (false, AuthScheme::Dpop) => Err("the DPoP token is malformed"),
    }
}

/// What a DPoP-taking resource server offers in its challenges (RFC 9449 7.1, 9): the `DPoP`
/// scheme with its proof algorithms, the `Bearer` scheme beside it or not, and the nonce the
/// next proof must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
struct DpopOffer {
    algs: String,
    bearer: bool,
    nonce: Option<String>,
}

/// A refusal as RFC 6750 3 answers it: status, `WWW-Authenticate` challenge, JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BearerChallenge {
    realm: String,
    error: Option<BearerErrorCode>,
    description: Option<String>,
    scope: Option<String>,
    /// Boxed: most refusals of most resource servers have none.
    dpop: Option<Box<DpopOffer>>,
    /// The `DPoP` challenge names the error: the request used that scheme, or its token or
    /// proof calls for it.
    error_in_dpop: bool,
}

impl BearerChallenge {
    /// The request carried no token: 401 with a challenge and no error code (RFC 6750 3.1).
    pub fn missing_token(realm: &str) -> Self {
        Self {
            realm: realm.to_owned(),
            error: None,
            description: None,
            scope: None,
            dpop: None,
            error_in_dpop: false,
        }
    }

    /// The request is malformed (several tokens, a broken header): 400 `invalid_request`.
    pub fn invalid_request(realm: &str, description: &str) -> Self {
        Self {
            realm: realm.to_owned(),
            error: Some(BearerErrorCode::InvalidRequest),
            description: Some(description.to_owned()),
            scope: None,
            dpop: None,
            error_in_dpop: false,
        }
    }

    /// The answer to a failed verification.
    pub fn for_error(realm: &str, error: &Error) -> Self {
        let scope = match error {
            Error::InsufficientScope { required } => Some(required.join(" ")),
            _ => None,
        };
        Self {
            realm: realm.to_owned(),
            error: Some(error.bearer_error_code()),
            description: Some(error.to_string()),
            scope,
            dpop: None,
            error_in_dpop: error.concerns_dpop(),
        }
    }

    /// The challenges of a resource server that takes DPoP (RFC 9449 7.1): `DPoP` with the
    /// proof algorithms `algs` (space-separated), `Bearer` beside it when `bearer` tokens are
    /// taken too, the error named in the challenge of the scheme the request `used`, and the
    /// `nonce` for the next proof (`DPoP-Nonce`) when nonces are required.
    pub fn offering_dpop(
        mut self,
        algs: &str,
        bearer: bool,
        nonce: Option<String>,
        used: Option<AuthScheme>,
    ) -> Self {
        self.error_in_dpop |= used == Some(AuthScheme::Dpop) || !bearer;
        self.dpop = Some(Box::new(DpopOffer {
            algs: algs.to_owned(),
            bearer,
            nonce,
        }));
        self
    }

    pub fn error(&self) -> Option<BearerErrorCode> {
        self.error
    }

    /// 401 without an error code, otherwise the code's status.
    pub fn status(&self) -> u16 {
        self.error.map_or(401, BearerErrorCode::http_status)
    }

    /// The `WWW-Authenticate` values, one challenge each (`Bearer`, then `DPoP` when DPoP is
    /// offered); none for 503, which is not an authentication failure.
    pub fn www_authenticate(&self) -> Vec<String> {
        if self.error == Some(BearerErrorCode::TemporarilyUnavailable) {
            return Vec::new();
        }
        let realm = format!("realm=\"{}\"", quoted(&self.realm));
        let Some(dpop) = &self.dpop else {
            return vec![format!("Bearer {realm}{}", self.error_params())];
        };
        let mut values = Vec::with_capacity(2);
        if dpop.bearer {
            let named = if self.error_in_dpop {
                String::new()
            } else {
                self.error_params()
            };
            values.push(format!("Bearer {realm}{named}"));
        }
        let named = if self.error_in_dpop {
            self.error_params()
        } else {
            String::new()
        };
        values.push(format!(
            "DPoP {realm}, algs=\"{}\"{named}",
            quoted(&dpop.algs)
        ));
        values
    }

    /// `, error="...", error_description="...", scope="..."`, those the refusal has.
    fn error_params(&self) -> String {
        let mut params = String::new();
        if let Some(error) = self.error {
            params.push_str(&format!(", error=\"{}\"", error.as_str()));
        }
        if let Some(description) = &self.description {
            params.push_str(&format!(", error_description=\"{}\"", quoted(description)));
        }
        if let Some(scope) = &self.scope {
            params.push_str(&format!(", scope=\"{}\"", quoted(scope)));
        }
        params
    }

    /// The `DPoP-Nonce` header (RFC 9449 9): the nonce the next proof must carry, on every
    /// refusal of a resource server that requires nonces.
    pub fn dpop_nonce(&self) -> Option<&str> {
        if self.error == Some(BearerErrorCode::TemporarilyUnavailable) {
            return None;
        }
        self.dpop.as_ref().and_then(|dpop| dpop.nonce.as_deref())
    }

    /// `Retry-After` seconds, for 503.
    pub fn retry_after(&self) -> Option<u64> {
        (self.error == Some(BearerErrorCode::TemporarilyUnavailable)).then_some(5)
    }

    /// The JSON body `{"error": ..., "error_description": ...}` (empty object without a code).
    pub fn body(&self) -> String {
        let mut body = serde_json::Map::new();
        if let Some(error) = self.error {
            body.insert("error".into(), error.as_str().into());
        }
        if let Some(description) = &self.description {
            body.insert("error_description".into(), description.as_str().into());
        }
        serde_json::Value::Object(body).to_string()
    }
}

/// Keeps only the characters RFC 6750 3 allows in quoted attribute values
/// (%x20-21 / %x23-5B / %x5D-7E): no quote, no backslash, no control character.
fn quoted(value: &str) -> String {
    value
        .chars()
        .filter(|c| matches!(*c as u32, 0x20..=0x21 | 0x23..=0x5B | 0x5D..=0x7E))
        .collect()
}

/// The DER bytes of the client certificate of the request's mutual-TLS connection, for tokens
/// bound with `cnf.x5t#S256`. The glue looks for it in the request's extensions (and, with
/// actix-web, in its connection data), where the server's TLS setup puts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerCertificate(pub Vec<u8>);

/// What the actix and tower glue share: the verifier, the realm and the scopes every request
/// needs.
#[cfg(any(feature = "actix", feature = "tower"))]
#[derive(Clone)]
pub(crate) struct Guard {
    pub verifier: std::sync::Arc<crate::AccessTokenVerifier>,
    pub realm: std::sync::Arc<str>,
    pub scopes: std::sync::Arc<[String]>,
}

/// What a request presented, as the glue read it from its headers.
#[cfg(any(feature = "actix", feature = "tower"))]
#[derive(Debug, Clone, Copy)]
pub(crate) struct Presented<'a> {
    pub scheme: AuthScheme,
    pub token: &'a str,
    /// The request's method and path (as received), what a DPoP proof's `htm` and `htu` name.
    pub method: &'a str,
    pub path: &'a str,
    /// The `DPoP` header's proof (see [`dpop_proof`](crate::dpop_proof)).
    pub dpop: Result<Option<&'a str>, crate::DpopError>,
    /// The client certificate of the request's mutual-TLS connection (DER).
    pub certificate: Option<&'a [u8]>,
}

#[cfg(any(feature = "actix", feature = "tower"))]
impl Guard {
    pub fn new(verifier: std::sync::Arc<crate::AccessTokenVerifier>) -> Self {
        Self {
            verifier,
            realm: std::sync::Arc::from("api"),
            scopes: std::sync::Arc::from(Vec::new()),
        }
    }

    /// `challenge` with the DPoP challenge beside it when the verifier takes DPoP.
    fn answer(&self, challenge: BearerChallenge, used: Option<AuthScheme>) -> BearerChallenge {
        match self.verifier.dpop_algorithms() {
            Some(algs) => challenge.offering_dpop(
                algs,
                self.verifier.takes_bearer_tokens(),
                self.verifier.dpop_nonce(),
                used,
            ),
            None => challenge,
        }
    }

    fn invalid_request(&self, description: &str) -> BearerChallenge {
        self.answer(
            BearerChallenge::invalid_request(&self.realm, description),
            None,
        )
    }

    /// The scheme and token of the request's one `Authorization` header: `Bearer`, or `DPoP`
    /// when the verifier takes DPoP.
    pub fn token_of<'a>(
        &self,
        mut authorization: impl Iterator<Item = &'a [u8]>,
    ) -> Result<(AuthScheme, &'a str), BearerChallenge> {
        let Some(first) = authorization.next() else {
            return Err(self.answer(BearerChallenge::missing_token(&self.realm), None));
        };
        if authorization.next().is_some() {
            return Err(self.invalid_request("the request has more than one Authorization header"));
        }
        let value = std::str::from_utf8(first)
            .map_err(|_| self.invalid_request("the Authorization header is not text"))?;
        if self.verifier.takes_dpop() {
            authorization_token(value).map_err(|description| self.invalid_request(description))
        } else {
            bearer_token(value)
                .map(|token| (AuthScheme::Bearer, token))
                .map_err(|description| self.invalid_request(description))
        }
    }

    /// Verifies what the request `presented` and checks the scopes.
    pub async fn authorize(
        &self,
        presented: Presented<'_>,
    ) -> Result<crate::AccessToken, BearerChallenge> {
        let refused = |error: Error| {
            self.answer(
                BearerChallenge::for_error(&self.realm, &error),
                Some(presented.scheme),
            )
        };
        let proof = match presented.scheme {
            // A DPoP header beside a bearer token is not looked at: the token decides.
            AuthScheme::Bearer => presented
                .certificate
                .map_or(crate::Proof::None, crate::Proof::ClientCertificate),
            AuthScheme::Dpop => {
                let proof = presented
                    .dpop
                    .and_then(|proof| proof.ok_or(crate::DpopError::Missing))
                    .map_err(|err| refused(Error::Dpop(err)))?;
                let request = crate::DpopRequest::new(proof, presented.method, presented.path);
                crate::Proof::Dpop(match presented.certificate {
                    Some(der) => request.with_certificate(der),
                    None => request,
                })
            }
        };
        let token = self
            .verifier
            .verify_with_proof(presented.token, proof)
            .await
            .map_err(refused)?;
        let required: Vec<&str> = self.scopes.iter().map(String::as_str).collect();
        token.require_scopes(&required).map_err(refused)?;
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DpopError;

    #[test]
    fn challenges_follow_rfc_6750() {
        let missing = BearerChallenge::missing_token("api");
        assert_eq!(missing.status(), 401);
        assert_eq!(missing.www_authenticate()[0], "Bearer realm=\"api\"");

        let expired = BearerChallenge::for_error("api", &Error::Expired);
        assert_eq!(expired.status(), 401);
        assert_eq!(
            expired.www_authenticate()[0],
            "Bearer realm=\"api\", error=\"invalid_token\", error_description=\"the token has expired\""
        );

        let scope = BearerChallenge::for_error(
            "api",
            &Error::InsufficientScope {
                required: vec!["a".into(), "b".into()],
            },
        );
        assert_eq!(scope.status(), 403);
        assert!(scope.www_authenticate()[0].ends_with(", scope=\"a b\""));

        let down = BearerChallenge::for_error("api", &Error::KeysUnavailable("x".into()));
        assert_eq!(
            (down.status(), down.www_authenticate(), down.retry_after()),
            (503, Vec::<String>::new(), Some(5))
        );
    }

    #[test]
    fn quoted_values_cannot_break_the_header() {
        let challenge = BearerChallenge::invalid_request("a\"b\\c\r\n", "bad \"value\"");
        assert_eq!(
            challenge.www_authenticate()[0],
            "Bearer realm=\"abc\", error=\"invalid_request\", error_description=\"bad value\""
        );
    }

    #[test]
    fn dpop_challenges_follow_rfc_9449() {
        let algs = "ES256 EdDSA";
        // No token: both schemes offered, no error (RFC 9449 7.1's example).
        let missing = BearerChallenge::missing_token("api").offering_dpop(algs, true, None, None);
        assert_eq!(
            missing.www_authenticate(),
            [
                "Bearer realm=\"api\"",
                "DPoP realm=\"api\", algs=\"ES256 EdDSA\""
            ]
        );
        // A bearer request's error is named in the Bearer challenge...
        let expired = BearerChallenge::for_error("api", &Error::Expired).offering_dpop(
            algs,
            true,
            None,
            Some(AuthScheme::Bearer),
        );
        assert_eq!(
            expired.www_authenticate(),
            [
                "Bearer realm=\"api\", error=\"invalid_token\", error_description=\"the token has expired\"",
                "DPoP realm=\"api\", algs=\"ES256 EdDSA\""
            ]
        );
        // ... unless its token needs DPoP (RFC 9449 7.2).
        let downgraded = BearerChallenge::for_error(
            "api",
            &Error::Binding(crate::BindingError::DpopProofMissing),
        )
        .offering_dpop(algs, true, None, Some(AuthScheme::Bearer));
        assert_eq!(downgraded.status(), 401);
        assert_eq!(downgraded.www_authenticate()[0], "Bearer realm=\"api\"");
        assert!(downgraded.www_authenticate()[1]
            .starts_with("DPoP realm=\"api\", algs=\"ES256 EdDSA\", error=\"invalid_token\""));
        // A proof's error, with the nonce to use; only DPoP offered.
        let nonce = BearerChallenge::for_error("api", &Error::Dpop(DpopError::NonceMissing))
            .offering_dpop("ES256", false, Some("n-1".into()), Some(AuthScheme::Dpop));
        assert_eq!(nonce.status(), 401);
        assert_eq!(nonce.error(), Some(BearerErrorCode::UseDpopNonce));
        assert_eq!(
            nonce.www_authenticate(),
            ["DPoP realm=\"api\", algs=\"ES256\", error=\"use_dpop_nonce\", error_description=\"the DPoP proof must carry the resource server's nonce\""]
        );
        assert_eq!(nonce.dpop_nonce(), Some("n-1"));
        let bad = BearerChallenge::for_error("api", &Error::Dpop(DpopError::BadSignature))
            .offering_dpop(algs, true, None, Some(AuthScheme::Dpop));
        assert_eq!(bad.error(), Some(BearerErrorCode::InvalidDpopProof));
        assert!(bad.www_authenticate()[1].contains("error=\"invalid_dpop_proof\""));
        // A full replay cache is no authentication failure: 503, no challenge, no nonce.
        let full = BearerChallenge::for_error("api", &Error::Dpop(DpopError::ReplayCacheFull))
            .offering_dpop(algs, true, Some("n-1".into()), Some(AuthScheme::Dpop));
        assert_eq!(
            (full.status(), full.www_authenticate(), full.dpop_nonce()),
            (503, Vec::<String>::new(), None)
        );
    }
}
