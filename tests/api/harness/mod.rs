//! Test harness: the real server on an ephemeral port, a real HTTP client, an injected clock,
//! and a resource server's view of tokens (JWKS over HTTP, verified with jsonwebtoken's
//! RustCrypto backend, not the aws-lc-rs code that signed them).
//!
//! One module per topic; the tests import them all with `use crate::harness::*`.

mod app;
mod client;
mod config;
mod jose;
mod login;
mod process;
mod resource_server;
mod stub;

pub use app::*;
pub use config::*;
pub use jose::*;
pub use login::*;
pub use process::*;
pub use resource_server::*;
pub use stub::*;

pub const ISSUER: &str = "https://issuer.test";
pub const REPORTS_SECRET: &str = "reports-secret-0123456789";
/// A secret full of characters that RFC 6749 2.3.1 form-encoding changes.
pub const SPECIAL_ID: &str = "svc:one two";
pub const SPECIAL_SECRET: &str = "p@ss:w+rd%/&=é";
pub const OTHER_SECRET: &str = "other-secret-0123456789";
pub const ALICE_PASSWORD: &str = "correct horse battery staple";
pub const CALLBACK: &str = "http://127.0.0.1:9/callback";
