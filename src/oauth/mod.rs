//! The OAuth 2.0 / OpenID Connect protocol core, with no web framework in it: one module per
//! endpoint (`endpoints/`), one per grant (`grants/`), client authentication as its own stage
//! (`client_auth/`), the issuer that signs and seals, the one reader of Tessera's own tokens, the
//! one verifier of foreign JWTs, typed protocol values and one error type.
//!
//! Leaf modules any layer may use: `types`, `paths`, `token_kind`, `error`.

pub mod authorize;
pub mod backchannel;
pub mod bearer;
pub mod browser;
pub mod client_auth;
pub mod credentials;
pub mod device;
pub mod dpop;
pub mod endpoints;
pub mod error;
pub mod foreign_jwt;
pub mod grants;
pub mod hash_pool;
pub mod inspect;
pub mod issuer;
pub mod json;
pub mod mint;
pub mod params;
pub mod paths;
pub mod profile;
pub mod token_kind;
pub mod tokens;
pub mod trusted;
pub mod types;
pub mod uma;

pub use error::{ErrorCode, OAuthError};
pub use token_kind::{ReplayKind, TokenKind};
