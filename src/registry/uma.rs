use serde::Deserialize;

/// A resource protected by UMA 2.0 policies.
#[derive(Debug, Clone)]
pub struct UmaResource {
    pub id: String,
    /// The client (resource server) that may ask for permission tickets for it.
    pub resource_server: String,
    pub scopes: Vec<String>,
    pub policies: Vec<UmaPolicy>,
}

/// Who may get which scopes of a resource: any listed client, user or group (an empty list
/// matches no one), for `scopes` (all the resource's when empty). Read from the file as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UmaPolicy {
    pub clients: Vec<String>,
    pub users: Vec<String>,
    pub groups: Vec<String>,
    pub scopes: Vec<String>,
}
