use super::first_by_key;
use crate::jose::RecipientKey;
use std::collections::HashMap;

/// A resource server known by its audience, for settings that follow the audience.
#[derive(Debug, Clone)]
pub struct Resource {
    pub audience: String,
    /// Access tokens for this audience alone are encrypted to this key.
    pub access_token_encryption: Option<RecipientKey>,
}

/// Resources by audience.
#[derive(Debug, Default, Clone)]
pub struct ResourceRegistry {
    by_audience: HashMap<String, Resource>,
}

impl ResourceRegistry {
    pub fn new(resources: Vec<Resource>) -> Self {
        Self {
            by_audience: first_by_key(resources, |resource| resource.audience.clone()),
        }
    }

    pub fn get(&self, audience: &str) -> Option<&Resource> {
        self.by_audience.get(audience)
    }
}
