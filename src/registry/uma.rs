use serde::Deserialize;
use std::collections::HashMap;

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

/// UMA resources by id, and by the resource server that registered them.
#[derive(Debug, Default, Clone)]
pub struct UmaResourceRegistry {
    resources: Vec<UmaResource>,
    by_id: HashMap<String, usize>,
    by_server: HashMap<(String, String), usize>,
}

impl UmaResourceRegistry {
    pub fn new(resources: Vec<UmaResource>) -> Self {
        let mut by_id = HashMap::new();
        let mut by_server = HashMap::new();
        // The first of a repeated id wins, as a scan in file order would have it.
        for (index, resource) in resources.iter().enumerate() {
            by_id.entry(resource.id.clone()).or_insert(index);
            by_server
                .entry((resource.resource_server.clone(), resource.id.clone()))
                .or_insert(index);
        }
        Self {
            resources,
            by_id,
            by_server,
        }
    }

    /// The resource a permission ticket names.
    pub fn get(&self, id: &str) -> Option<&UmaResource> {
        self.by_id.get(id).map(|&index| &self.resources[index])
    }

    /// Resource `id` as registered for `resource_server`.
    pub fn get_for(&self, resource_server: &str, id: &str) -> Option<&UmaResource> {
        self.by_server
            .get(&(resource_server.to_owned(), id.to_owned()))
            .map(|&index| &self.resources[index])
    }

    pub fn is_empty(&self) -> bool {
        self.resources.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(id: &str, resource_server: &str, scope: &str) -> UmaResource {
        UmaResource {
            id: id.to_owned(),
            resource_server: resource_server.to_owned(),
            scopes: vec![scope.to_owned()],
            policies: Vec::new(),
        }
    }

    #[test]
    fn lookups_by_id_and_by_resource_server_keep_the_first_of_a_repeated_id() {
        let registry = UmaResourceRegistry::new(vec![
            resource("photos", "rs1", "first"),
            resource("photos", "rs2", "second"),
        ]);
        assert_eq!(registry.get("photos").unwrap().scopes, ["first"]);
        assert_eq!(
            registry.get_for("rs2", "photos").unwrap().scopes,
            ["second"]
        );
        assert!(registry.get_for("rs3", "photos").is_none());
        assert!(registry.get("videos").is_none());
    }
}
