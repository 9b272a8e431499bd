//! HTTP load benchmark, written with the project's own crates: starts Tessera in a child process
//! (this bench binary again, in server mode) on an ephemeral port for each scenario (or targets
//! `TESSERA_BENCH_URL`), drives C keep-alive HTTP/1.1 connections for T seconds from one
//! generator thread, and prints requests/s, latency percentiles up to the maximum, errors, the
//! server's CPU per request and the server's own peak RSS during the run.
//!
//! Settings (environment): TESSERA_BENCH_CONNECTIONS (64), TESSERA_BENCH_SECONDS (10),
//! TESSERA_BENCH_SCENARIOS (comma-separated, default every scenario), TESSERA_BENCH_URL with
//! TESSERA_BENCH_CLIENT_ID and TESSERA_BENCH_CLIENT_SECRET for a running server.
//!
//! Modules: `server` (the server process of a scenario and the tokens it mints), `request` (one
//! scenario's request and the connections that send it), `measure` (a run: CPU, RSS,
//! percentiles, the summary line).

#[path = "../support/device_pool.rs"]
mod device_pool;
#[path = "../support/dpop_proofs.rs"]
mod dpop_proofs;
#[path = "../support/local_server.rs"]
mod local_server;
mod measure;
mod request;
mod server;

use server::{remote, serve_child, start_local, CHILD_SCENARIO};

pub const LOCAL_CLIENT_ID: &str = "bench";
pub const LOCAL_CLIENT_SECRET: &str = "bench-secret-3a1f9c2e7b5d4f6a8c0e1b2d3f4a5b6c";

/// How a scenario asks for a token.
#[derive(Clone, Copy)]
pub enum Shape {
    /// client_secret_basic, form body.
    BasicForm,
    /// client_secret_post, JSON body.
    PostJson,
    /// RFC 7662 introspection of one active token by a resource server.
    Introspect,
    /// RFC 7009 revocation, each request a token not revoked before.
    Revoke,
    /// The refresh grant of a public client, each request a refresh token not used before.
    Refresh,
    /// client_credentials for a client whose access tokens are encrypted (ECDH-ES+A256KW).
    EncryptedAccess,
    /// client_credentials with private_key_jwt (ES256), each request a fresh assertion.
    PrivateKeyJwt,
    /// The same with the assertion encrypted to the issuer (ECDH-ES+A256KW, A256GCM).
    EncryptedAssertion,
    /// RFC 8628 polling of device codes the user has not answered yet (each polled again
    /// within its 1 s interval gets slow_down: both are the answers a poll is for).
    DevicePending,
    /// RFC 8628 polling of approved device codes, each request one not exchanged before.
    DeviceApproved,
    /// client_secret_basic with a DPoP proof (ES256), each request a fresh proof.
    DpopBasic,
}

#[derive(Clone, Copy)]
pub struct Scenario {
    pub name: &'static str,
    pub alg: &'static str,
    pub shape: Shape,
}

pub const SCENARIOS: [Scenario; 13] = [
    Scenario {
        name: "client_credentials basic ES256",
        alg: "ES256",
        shape: Shape::BasicForm,
    },
    Scenario {
        name: "client_credentials basic+DPoP ES256",
        alg: "ES256",
        shape: Shape::DpopBasic,
    },
    Scenario {
        name: "client_credentials json-post ES256",
        alg: "ES256",
        shape: Shape::PostJson,
    },
    Scenario {
        name: "client_credentials basic EdDSA",
        alg: "EdDSA",
        shape: Shape::BasicForm,
    },
    Scenario {
        name: "client_credentials basic RS256",
        alg: "RS256",
        shape: Shape::BasicForm,
    },
    Scenario {
        name: "client_credentials encrypted-access ES256",
        alg: "ES256",
        shape: Shape::EncryptedAccess,
    },
    Scenario {
        name: "refresh_token ES256",
        alg: "ES256",
        shape: Shape::Refresh,
    },
    Scenario {
        name: "client_credentials private_key_jwt ES256",
        alg: "ES256",
        shape: Shape::PrivateKeyJwt,
    },
    Scenario {
        name: "client_credentials private_key_jwt-in-JWE ES256",
        alg: "ES256",
        shape: Shape::EncryptedAssertion,
    },
    Scenario {
        name: "introspect ES256",
        alg: "ES256",
        shape: Shape::Introspect,
    },
    Scenario {
        name: "revoke ES256",
        alg: "ES256",
        shape: Shape::Revoke,
    },
    Scenario {
        name: "device_code poll pending ES256",
        alg: "ES256",
        shape: Shape::DevicePending,
    },
    Scenario {
        name: "device_code poll approved ES256",
        alg: "ES256",
        shape: Shape::DeviceApproved,
    },
];

/// Tokens minted in process before a run, handed out one per request.
pub struct TokenPool {
    pub tokens: Vec<String>,
    pub next: std::sync::atomic::AtomicUsize,
}

impl TokenPool {
    pub fn take(&self) -> &str {
        let i = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        &self.tokens[i % self.tokens.len()]
    }

    /// How many requests found a token already taken (the pool ran out).
    pub fn repeats(&self) -> usize {
        self.next
            .load(std::sync::atomic::Ordering::Relaxed)
            .saturating_sub(self.tokens.len())
    }
}

pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

fn main() {
    if let Ok(index) = std::env::var(CHILD_SCENARIO) {
        serve_child(index.parse().expect("a scenario index"));
    }
    let connections: usize = env_or("TESSERA_BENCH_CONNECTIONS", 64);
    let seconds: u64 = env_or("TESSERA_BENCH_SECONDS", 10);
    let wanted: Option<Vec<String>> = std::env::var("TESSERA_BENCH_SCENARIOS")
        .ok()
        .map(|list| list.split(',').map(|s| s.trim().to_owned()).collect());
    let remote_url = std::env::var("TESSERA_BENCH_URL").ok();
    // A running server signs with its own algorithm: only the request shapes vary.
    let scenarios: Vec<Scenario> = match &remote_url {
        Some(_) => vec![
            Scenario {
                name: "client_credentials basic (remote)",
                alg: "",
                shape: Shape::BasicForm,
            },
            Scenario {
                name: "client_credentials json-post (remote)",
                alg: "",
                shape: Shape::PostJson,
            },
        ],
        None => SCENARIOS.to_vec(),
    };
    for (index, scenario) in scenarios.into_iter().enumerate() {
        if wanted
            .as_ref()
            .is_some_and(|w| !w.iter().any(|name| scenario.name.contains(name.as_str())))
        {
            continue;
        }
        let target = match &remote_url {
            Some(url) => remote(url),
            None => start_local(index),
        };
        measure::run(scenario, &target, connections, seconds);
        // Dropping the target stops its server process.
    }
}
