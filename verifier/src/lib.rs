//! Offline verification of OAuth 2.0 access tokens for resource servers: Tessera's, and those
//! of any issuer following RFC 9068 (JWT profile for access tokens).
//!
//! Layered, each layer usable alone:
//!
//! | layer | what | entry points |
//! | --- | --- | --- |
//! | key sources | a static JWK Set, a remote one kept fresh (discovery or URL), a shared secret | [`KeySource`], [`RemoteKeysConfig`], [`KeySet`] |
//! | JWS | allow-listed algorithms, kid selection, `crit` refused, bounded sizes | [`verify_jws`], [`JwsPolicy`] |
//! | RFC 9068 | `typ`, `iss`, `aud`, times with leeway, typed claims, scopes | [`AccessTokenVerifier`], [`AccessToken`] |
//! | encryption (feature `jwe`) | nested JWTs in a JWE to the resource server's key; the JWE mechanism the issuer uses too | `DecryptionKey`, `jwe` module |
//! | sender constraint | `cnf.x5t#S256` against the client certificate; DPoP (RFC 9449): proofs checked, `cnf.jkt` bound, a bounded replay cache, stateless nonces | [`Proof`], [`DpopConfig`], [`DpopRequest`] |
//! | revocation | IETF Token Status List, cached, fail closed | [`StatusListConfig`] |
//! | glue | actix-web (feature `actix`), tower (feature `tower`): RFC 6750 answers; rustls: client certificates for bound tokens | `actix`, `tower`, `tls` modules |
//!
//! Verification never calls the issuer on the hot path: keys are parsed once when a set loads
//! and refreshed in the background; status lists are cached for their `ttl`.
//!
//! ```no_run
//! use tessera_verifier::{AccessTokenVerifier, KeySource, RemoteKeysConfig};
//! # async fn run(bearer: &str) -> Result<(), tessera_verifier::Error> {
//! let keys = KeySource::remote(RemoteKeysConfig::issuer("https://id.example.com")).await?;
//! let verifier = AccessTokenVerifier::builder("https://id.example.com", "https://reports.internal", keys)
//!     .build()?;
//! let token = verifier.verify(bearer).await?;
//! token.require_scopes(&["reports:read"])?;
//! println!("{} acting for client {}", token.subject, token.client_id);
//! # Ok(()) }
//! ```
//!
//! Errors are typed ([`Error`]) and each maps to an RFC 6750 code
//! ([`Error::bearer_error_code`]); their texts never quote the token.

mod access_token;
mod alg;
mod binding;
mod claims;
mod clock;
mod dpop;
mod error;
mod http;
mod jwk;
mod jws;
mod keys;
mod rfc6750;
mod status;
pub mod tls;

#[cfg(feature = "jwe")]
pub mod jwe;

#[cfg(feature = "actix")]
pub mod actix;
#[cfg(feature = "tower")]
pub mod tower;

pub use access_token::{AccessTokenVerifier, AccessTokenVerifierBuilder};
pub use alg::{Algorithm, AlgorithmSet};
pub use binding::{certificate_thumbprint, check_dpop_binding, Proof};
pub use claims::{AccessToken, Confirmation, Permission, StatusReference};
pub use clock::{Clock, ManualClock, SystemClock, UnixTime};
pub use dpop::{
    access_token_hash, check_dpop_proof, dpop_htu_matches, dpop_proof, CheckedDpopProof,
    DpopConfig, DpopNonceSource, DpopNonces, DpopProofRules, DpopReplayStore, DpopRequest,
    DpopTarget, MAX_JTI_LEN as DPOP_MAX_JTI_LEN,
};
pub use error::{BearerErrorCode, BindingError, DpopError, Error, Limit};
pub use http::HttpConfig;
pub use jwk::{jwk_thumbprint, KeySet, PublicKeyMaterial, VerifyingKey};
pub use jws::{
    verify_jws, JwsHeader, JwsPolicy, UnverifiedJws, VerifiedJws, DEFAULT_MAX_HEADER_LEN,
    DEFAULT_MAX_TOKEN_LEN,
};
pub use keys::{KeySource, RemoteKeySet, RemoteKeysConfig, SharedSecret};
pub use rfc6750::{
    authorization_token, bearer_token, AuthScheme, BearerChallenge, PeerCertificate,
};
pub use status::{StatusList, StatusListConfig};

#[cfg(feature = "jwe")]
pub use jwe::{DecryptionKey, KeyManagementAlg};

/// The README's examples, run as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
