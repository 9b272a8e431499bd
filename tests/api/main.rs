//! Integration tests: the real server over HTTP.

mod assertions;
mod authorize;
mod browser;
mod cli;
mod compat;
mod device;
mod discovery;
mod encryption;
mod errors;
mod exchange;
mod flood;
mod harness;
mod keys;
mod logout;
mod mtls;
mod provider;
mod redis;
mod replicas;
mod resource_server;
mod resource_server_docs;
mod revocation;
mod token;
mod uma;
mod users;
