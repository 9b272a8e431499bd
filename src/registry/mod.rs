//! What the configuration registers: clients, users, resources, identity providers, trusted
//! issuers, UMA resources and compatible routes. Immutable after load; shared by every worker
//! without locks.

mod clients;
mod providers;
mod resources;
mod routes;
mod secret_hash;
mod trusted_issuers;
mod uma;
mod users;

pub use clients::{Client, ClientKeys, ClientRegistry, RawSecret};
pub use providers::{Provider, ProviderKind, ProviderRegistry};
pub use resources::{Resource, ResourceRegistry};
pub use routes::{CompatRoute, Envelope, RouteEndpoint};
pub use secret_hash::{Argon2Hash, SecretHash};
pub use trusted_issuers::{TrustedIssuer, TrustedIssuerRegistry};
pub use uma::{UmaPolicy, UmaResource, UmaResourceRegistry};
pub use users::{User, UserRegistry, RESERVED_CLAIMS};

use std::collections::HashMap;
use std::hash::Hash;

/// `records` by `key`; the first of a repeated key wins, as a scan in file order would have it.
fn first_by_key<K: Eq + Hash, T>(records: Vec<T>, key: impl Fn(&T) -> K) -> HashMap<K, T> {
    let mut by_key = HashMap::with_capacity(records.len());
    for record in records {
        by_key.entry(key(&record)).or_insert(record);
    }
    by_key
}
