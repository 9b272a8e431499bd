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
mod flood;
mod harness;
mod keys;
mod mtls;
mod provider;
mod redis;
mod replicas;
mod revocation;
mod token;
mod uma;
mod users;
