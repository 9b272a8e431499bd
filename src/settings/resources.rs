//! `[[resources]]`: resource servers known by their audience.

use super::encryption::RawEncryption;
use super::problems::Problems;
use crate::registry::{Resource, ResourceRegistry};
use serde::Deserialize;
use std::path::Path;

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct RawResource {
    audience: Option<String>,
    access_token_encryption: Option<RawEncryption>,
}

pub(super) fn validate_resources(
    raws: &[RawResource],
    problems: &mut Problems,
    base_dir: &Path,
) -> ResourceRegistry {
    ResourceRegistry::new(problems.each("resources", raws, |raw, problems| {
        raw.validate(problems, base_dir)
    }))
}

impl RawResource {
    fn validate(&self, problems: &mut Problems, base_dir: &Path) -> Option<Resource> {
        let audience = self.audience.clone().filter(|aud| !aud.is_empty());
        if audience.is_none() {
            problems.push("audience", "is required");
        }
        let access_token_encryption = self
            .access_token_encryption
            .as_ref()
            .and_then(|raw| raw.validate(&mut problems.at("access_token_encryption"), base_dir));
        Some(Resource {
            audience: audience?,
            access_token_encryption,
        })
    }
}
