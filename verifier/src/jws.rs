//! Compact JWS verification against a [`KeySource`]: the layer under the access-token profile,
//! usable alone for any JWT (client assertions, trusted issuers' tokens, ID tokens).
//!
//! Order matters: sizes first, then the header (algorithm on the allow-list, no `crit`), then
//! the key, then the signature; the payload is decoded only once it is known to be authentic.

use crate::alg::{Algorithm, AlgorithmSet};
use crate::jwk::VerifyingKey;
use crate::keys::KeySource;
use crate::Error;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::de::{DeserializeOwned, IgnoredAny};
use serde::Deserialize;
use serde_json::{Map, Value};

/// Largest compact token accepted by default (JWS or JWE), in bytes.
pub const DEFAULT_MAX_TOKEN_LEN: usize = 16 * 1024;
/// Largest protected header accepted by default, in base64url characters.
pub const DEFAULT_MAX_HEADER_LEN: usize = 2 * 1024;
/// Largest signature accepted: RSA-8192, the largest key aws-lc-rs verifies, signs 1024 bytes.
const MAX_SIGNATURE_LEN: usize = 1024;

/// What a JWS must satisfy before its signature is checked.
#[derive(Debug, Clone, Copy)]
pub struct JwsPolicy {
    /// The algorithms accepted. HMAC members only take effect with a shared-secret key source.
    pub algorithms: AlgorithmSet,
    pub max_token_len: usize,
    pub max_header_len: usize,
}

impl Default for JwsPolicy {
    /// The asymmetric algorithms, 16 KiB tokens, 2 KiB headers.
    fn default() -> Self {
        Self {
            algorithms: AlgorithmSet::asymmetric(),
            max_token_len: DEFAULT_MAX_TOKEN_LEN,
            max_header_len: DEFAULT_MAX_HEADER_LEN,
        }
    }
}

impl JwsPolicy {
    pub fn with_algorithms(algorithms: &[Algorithm]) -> Self {
        Self {
            algorithms: AlgorithmSet::from_slice(algorithms),
            ..Self::default()
        }
    }
}

/// The protected header members this crate reads. Key-carrying members (`jwk`, `jku`, `x5u`,
/// `x5c`) are ignored on purpose: a token never chooses the key that verifies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwsHeader {
    pub alg: Algorithm,
    pub kid: Option<String>,
    pub typ: Option<String>,
    pub cty: Option<String>,
}

/// The header members read: this layer's, and `jwk`, as the profile reading the JWS wants it
/// (skipped, or a DPoP proof's key), from the same single decoding.
#[derive(Deserialize)]
#[serde(bound(deserialize = "J: Deserialize<'de> + Default"))]
struct RawHeader<J> {
    alg: String,
    kid: Option<String>,
    typ: Option<String>,
    cty: Option<String>,
    crit: Option<IgnoredAny>,
    #[serde(default)]
    jwk: J,
}

/// A JWS whose signature verified: its header and its payload bytes.
#[derive(Debug, Clone)]
pub struct VerifiedJws {
    pub header: JwsHeader,
    pub payload: Vec<u8>,
}

impl VerifiedJws {
    /// The payload as a JSON object (a JWT claims set).
    pub fn claims(&self) -> Result<Map<String, Value>, Error> {
        self.deserialize()
    }

    /// The payload deserialized as `T`.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.payload)
            .map_err(|_| Error::Malformed("the payload is not a JSON claims set"))
    }
}

/// Parses the protected header of a JWS or JWE (the first dot-separated part).
pub(crate) fn decode_header<T: DeserializeOwned>(
    encoded: &str,
    max_header_len: usize,
) -> Result<T, Error> {
    if encoded.len() > max_header_len {
        return Err(Error::TooLarge(crate::error::Limit::Header));
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(encoded)
        .map_err(|_| Error::Malformed("the header is not base64url"))?;
    serde_json::from_slice(&bytes).map_err(|_| Error::Malformed("the header is not a JSON object"))
}

/// Verifies a compact JWS: the header's algorithm must be in `policy`, a key of `keys` must fit
/// its `kid` and `alg`, and the signature must verify. Claims are not looked at: that is the
/// caller's profile (see [`AccessTokenVerifier`](crate::AccessTokenVerifier) for RFC 9068).
///
/// ```
/// use tessera_verifier::{verify_jws, Error, JwsPolicy, KeySource};
/// # let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// # runtime.block_on(async {
/// let keys = KeySource::from_jwks_json(br#"{"keys": []}"#)?;
/// // An unsigned token is refused before any key is looked for.
/// let unsigned = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.";
/// let refused = verify_jws(unsigned, &keys, &JwsPolicy::default()).await;
/// assert_eq!(refused.unwrap_err(), Error::AlgorithmNotAllowed);
/// # Ok::<(), Error>(()) }).unwrap();
/// ```
pub async fn verify_jws(
    token: &str,
    keys: &KeySource,
    policy: &JwsPolicy,
) -> Result<VerifiedJws, Error> {
    UnverifiedJws::parse(token, policy)?.verify(keys).await
}

/// A compact JWS split and its header checked against a policy; nothing verified yet. For
/// callers that must read the claims to know whose keys verify it (a client assertion names
/// its client): read, pick the key source, then [`UnverifiedJws::verify`].
#[derive(Debug)]
pub struct UnverifiedJws<'a> {
    header: JwsHeader,
    signing_input: &'a str,
    payload: &'a str,
    signature: &'a str,
}

impl<'a> UnverifiedJws<'a> {
    pub fn header(&self) -> &JwsHeader {
        &self.header
    }

    /// The payload, not yet to be trusted.
    pub fn unverified_payload(&self) -> Result<Vec<u8>, Error> {
        URL_SAFE_NO_PAD
            .decode(self.payload)
            .map_err(|_| Error::Malformed("the payload is not base64url"))
    }

    /// Checks the signature with the key of `keys` the header selects.
    pub async fn verify(self, keys: &KeySource) -> Result<VerifiedJws, Error> {
        let mut signature = [0u8; MAX_SIGNATURE_LEN + 8];
        let signature = self.decode_signature(&mut signature)?;
        keys.verify_signature(
            self.header.kid.as_deref(),
            self.header.alg,
            self.signing_input.as_bytes(),
            signature,
        )
        .await?;
        self.into_verified()
    }

    /// Checks the signature with one key the caller has chosen to trust for this JWS (a DPoP
    /// proof's own `jwk`): `NoMatchingKey` when the key cannot verify the header's `alg`.
    pub(crate) fn verify_with_key(self, key: &VerifyingKey) -> Result<VerifiedJws, Error> {
        let mut signature = [0u8; MAX_SIGNATURE_LEN + 8];
        let signature = self.decode_signature(&mut signature)?;
        key.for_alg(self.header.alg)
            .ok_or(Error::NoMatchingKey)?
            .verify_sig(self.signing_input.as_bytes(), signature)
            .map_err(|_| Error::BadSignature)?;
        self.into_verified()
    }

    fn decode_signature<'s>(&self, buffer: &'s mut [u8]) -> Result<&'s [u8], Error> {
        // base64's decode_slice wants room for its conservative length estimate: a few more.
        let len = URL_SAFE_NO_PAD
            .decode_slice(self.signature, buffer)
            .map_err(|_| Error::Malformed("the signature is not base64url"))?;
        Ok(&buffer[..len])
    }

    fn into_verified(self) -> Result<VerifiedJws, Error> {
        let payload = self.unverified_payload()?;
        Ok(VerifiedJws {
            header: self.header,
            payload,
        })
    }

    /// Splits `token` and checks its header against `policy`.
    pub fn parse(token: &'a str, policy: &JwsPolicy) -> Result<Self, Error> {
        Self::parse_with_jwk::<Option<IgnoredAny>>(token, policy).map(|(jws, _)| jws)
    }

    /// [`parse`](Self::parse), with the header's `jwk` read as `J` and handed back (the
    /// header is decoded once).
    pub(crate) fn parse_with_jwk<J: DeserializeOwned + Default>(
        token: &'a str,
        policy: &JwsPolicy,
    ) -> Result<(Self, J), Error> {
        if token.len() > policy.max_token_len {
            return Err(Error::TooLarge(crate::error::Limit::Token));
        }
        let (signing_input, signature) = token
            .rsplit_once('.')
            .ok_or(Error::Malformed("not a compact JWS"))?;
        let (header, payload) = signing_input
            .split_once('.')
            .ok_or(Error::Malformed("not a compact JWS"))?;
        if payload.contains('.') {
            return Err(Error::Malformed("not a compact JWS"));
        }
        if signature.len() > MAX_SIGNATURE_LEN * 4 / 3 + 4 {
            return Err(Error::Malformed("the signature is too long"));
        }
        let raw: RawHeader<J> = decode_header(header, policy.max_header_len)?;
        let alg: Algorithm = raw.alg.parse()?;
        if !policy.algorithms.contains(alg) {
            return Err(Error::AlgorithmNotAllowed);
        }
        if raw.crit.is_some() {
            return Err(Error::CriticalHeader);
        }
        let jws = Self {
            header: JwsHeader {
                alg,
                kid: raw.kid,
                typ: raw.typ,
                cty: raw.cty,
            },
            signing_input,
            payload,
            signature,
        };
        Ok((jws, raw.jwk))
    }
}
