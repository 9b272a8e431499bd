//! Test harness: the real server on an ephemeral port, a real HTTP client, an injected clock,
//! and a resource server's view of tokens (JWKS over HTTP, verified with jsonwebtoken's
//! RustCrypto backend, not the aws-lc-rs code that signed them).
//!
//! One module per topic, all imported by the tests with `use crate::harness::*`:
//! - `config`, `records`: the configuration file as typed values, read by the real loader;
//! - `app`: the app on an ephemeral port, generic requests, `Answer`;
//! - `client`, `login`, `resource_server`: what a client, a browser and a resource server do;
//! - `jose`: keys and JWE of the other parties, by independent libraries;
//! - `pki`: certificates for mutual TLS, and clients that present them;
//! - `forged`: tokens as an attacker makes them from real ones;
//! - `example_api`: the verifier crate's `resource_server` example, started against the app;
//! - `scripts`: the resource servers of docs/resource-servers.md, in Python and Node;
//! - `dpop`: a DPoP client's keys and proofs, made by jwcrypto;
//! - `stub`: a stub HTTP server for the parties Tessera calls;
//! - `process`: `tessera serve` as a process of its own;
//! - `redis`: redis-server processes: single, TLS, and a 3-node cluster.

mod app;
mod client;
mod config;
mod dpop;
mod example_api;
mod forged;
mod jose;
mod login;
mod pki;
mod process;
mod records;
mod redis;
mod resource_server;
mod scripts;
mod stub;

pub use app::*;
pub use config::*;
pub use dpop::*;
pub use example_api::*;
pub use forged::*;
pub use jose::*;
pub use login::*;
pub use pki::*;
pub use process::*;
pub use records::*;
pub use redis::*;
pub use resource_server::*;
pub use scripts::*;
pub use stub::*;

pub const ISSUER: &str = "https://issuer.test";
pub const REPORTS_SECRET: &str = "reports-secret-0123456789";
/// A secret full of characters that RFC 6749 2.3.1 form-encoding changes.
pub const SPECIAL_ID: &str = "svc:one two";
pub const SPECIAL_SECRET: &str = "p@ss:w+rd%/&=é";
pub const OTHER_SECRET: &str = "other-secret-0123456789";
pub const ALICE_PASSWORD: &str = "correct horse battery staple";
/// A 256-bit secret as `tessera client secret` makes them; the client `keyed` stores it in the
/// keyed format.
pub const KEYED_SECRET: &str = "q0tA8nX2m9wVh3LrZ7bYc1sE5fJ4kP6uD8gT0iN2oR4";
pub const CALLBACK: &str = "http://127.0.0.1:9/callback";
