//! Integration tests: the real server over HTTP.

mod assertions;
mod authorize;
mod browser;
mod cli;
mod compat;
mod discovery;
mod encryption;
mod errors;
mod examples;
mod exchange;
mod harness;
mod keys;
mod libraries;
mod mtls;
mod openapi;
mod provider;
mod reload;
mod replicas;
mod revocation;
mod token;
mod token_command;
mod uma;
mod users;
