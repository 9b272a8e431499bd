//! Tessera: a stateless OAuth 2.0 / OpenID-style token issuer.

/// mimalloc for every binary on the library (the server, its benches and tests): allocation
/// was a third of Tessera's own work per token with glibc's allocator (docs/benchmarks.md).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
