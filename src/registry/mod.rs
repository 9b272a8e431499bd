//! What the configuration registers: clients (and later users and resources). Immutable after
//! load; shared by every worker without locks.

mod clients;
mod users;

pub use clients::{Client, ClientKeys, ClientRegistry, RawSecret, SecretHash};
pub use users::{User, UserRegistry, RESERVED_CLAIMS};
