//! Integration tests: the real server over HTTP.

mod assertions;
mod authorize;
mod browser;
mod cli;
mod compat;
mod discovery;
mod dpop;
mod dpop_resources;
mod encryption;
mod errors;
mod exchange;
mod harness;
mod interop;
mod keys;
mod mtls;
mod provider;
mod replicas;
mod revocation;
mod token;
mod uma;
mod users;
