//! Integration tests: the real server over HTTP.

mod cli;
mod discovery;
mod errors;
mod helpers;
mod keys;
mod token;
