//! Integration tests: the real server over HTTP.

mod assertions;
mod authorize;
mod browser;
mod cli;
mod compat;
mod discovery;
mod encryption;
mod errors;
mod exchange;
mod fapi2;
mod fapi2_runtime;
mod harness;
mod keys;
mod mtls;
mod par;
mod provider;
mod replicas;
mod revocation;
mod token;
mod uma;
mod users;
