//! Tessera: a stateless OAuth 2.0 / OpenID-style token issuer.

/// mimalloc for every binary on the library (the server, its benches and tests): allocation
/// was a third of Tessera's own work per token with glibc's allocator (docs/benchmarks.md).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Has the allocator give freed memory back to the system at once. mimalloc's default waits
/// 10 ms and then for the same thread to allocate again, so an idle server kept the peak of
/// its last burst resident (the load bench's server: 351 MiB idle after minting its token
/// pools, 22 MiB with this). `startup::Application::build` calls it.
pub fn return_freed_memory_at_once() {
    #[cfg(feature = "mimalloc")]
    {
        // `mi_option_purge_delay` in mimalloc.h (v2 and v3); libmimalloc-sys has no constant.
        const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
        // SAFETY: mi_option_set only stores the option's value; any thread may call it.
        unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 0) };
    }
}

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
