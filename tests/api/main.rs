//! Integration tests: the real server over HTTP.

mod authorize;
mod cli;
mod discovery;
mod errors;
mod helpers;
mod keys;
mod replicas;
mod revocation;
mod token;
mod users;
