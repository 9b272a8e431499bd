//! What the configuration registers: clients, users, resources, identity providers, trusted
//! issuers, UMA resources and compatible routes. Immutable after load; shared by every worker
//! without locks.

mod clients;
mod providers;
mod resources;
mod routes;
mod trusted_issuers;
mod uma;
mod users;

pub use clients::{Client, ClientKeys, ClientRegistry, RawSecret, SecretHash};
pub use providers::{Provider, ProviderKind};
pub use resources::Resource;
pub use routes::{CompatRoute, Envelope, RouteEndpoint};
pub use trusted_issuers::TrustedIssuer;
pub use uma::{UmaPolicy, UmaResource};
pub use users::{User, UserRegistry, RESERVED_CLAIMS};
