//! Tessera: a stateless OAuth 2.0 / OpenID-style token issuer.

pub mod clock;
#[doc(hidden)]
pub mod fuzz_targets;
pub mod http;
pub mod jose;
pub mod keys;
pub mod metrics;
pub mod names;
pub mod oauth;
pub mod registry;
pub mod revocation;
pub mod settings;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod tls;
