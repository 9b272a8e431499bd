//! What the configuration registers: clients (and later users and resources). Immutable after
//! load; shared by every worker without locks.

mod clients;

pub use clients::{Client, ClientRegistry, SecretHash};
