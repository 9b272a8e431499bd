//! The OAuth 2.0 protocol core: typed values, one error type, request parsing, client
//! authentication, one module per grant, and the token issuer.

pub mod assertion;
pub mod authorize;
pub mod client_auth;
pub mod credentials;
pub mod error;
pub mod grants;
pub mod issuer;
pub mod jwks_fetch;
pub mod mtls;
pub mod request;
pub mod tokens;
pub mod trusted;
pub mod types;
pub mod uma;

pub use error::{ErrorCode, OAuthError};
