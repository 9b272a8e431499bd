//! `[[uma_resources]]`: resources protected by UMA 2.0 policies.

use super::problems::Problems;
use crate::registry::{UmaPolicy, UmaResource, UmaResourceRegistry};
use serde::Deserialize;

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct RawUmaResource {
    id: Option<String>,
    resource_server: Option<String>,
    scopes: Vec<String>,
    policies: Vec<UmaPolicy>,
}

pub(super) fn validate_uma_resources(
    raws: &[RawUmaResource],
    problems: &mut Problems,
) -> UmaResourceRegistry {
    let resources = problems.each("uma_resources", raws, |raw, problems| {
        let (Some(id), Some(resource_server)) = (raw.id.clone(), raw.resource_server.clone())
        else {
            problems.push("", "id and resource_server are required");
            return None;
        };
        Some(UmaResource {
            id,
            resource_server,
            scopes: raw.scopes.clone(),
            policies: raw.policies.clone(),
        })
    });
    UmaResourceRegistry::new(resources)
}
