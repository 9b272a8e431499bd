//! `[[providers]]`: external identity providers for the `provider` grant.

use super::client_assertions::ClientAssertionSettings;
use super::problems::Problems;
use super::sources::{KeySource, SecretSource};
use super::values::{duration_or, is_https_or_loopback};
use crate::names::not_one_of;
use crate::registry::{Provider, ProviderKind, ProviderRegistry};
use serde::Deserialize;
use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;
use strum::{EnumIter, EnumString, IntoStaticStr};

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct RawProvider {
    name: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    app_id: Option<String>,
    app_secret_env: Option<String>,
    app_secret_file: Option<String>,
    pub(super) base_url: Option<String>,
    issuer: Option<String>,
    jwks: Option<toml::Table>,
    jwks_file: Option<String>,
    pub(super) jwks_uri: Option<String>,
    audience: Option<String>,
    timeout: Option<String>,
}

/// The names `type` takes.
#[derive(Clone, Copy, EnumIter, IntoStaticStr, EnumString)]
#[strum(serialize_all = "lowercase")]
enum ProviderType {
    Facebook,
    Oidc,
}

/// Every provider, names unique.
pub(super) fn validate_providers(
    raws: &[RawProvider],
    problems: &mut Problems,
    base_dir: &Path,
    fetching: &ClientAssertionSettings,
) -> ProviderRegistry {
    let mut seen = HashSet::new();
    ProviderRegistry::new(problems.each("providers", raws, |raw, problems| {
        let name = raw.name.clone().filter(|name| !name.is_empty());
        let unique = match &name {
            None => {
                problems.push("name", "is required");
                false
            }
            Some(name) if !seen.insert(name.clone()) => {
                problems.push("name", format!("duplicate provider '{name}'"));
                false
            }
            Some(_) => true,
        };
        let timeout = duration_or(
            problems,
            "timeout",
            raw.timeout.as_ref(),
            Duration::from_secs(3),
        );
        let kind = raw.kind(problems, base_dir, fetching);
        Some(Provider {
            name: name.filter(|_| unique)?,
            kind: kind?,
            timeout,
        })
    }))
}

impl RawProvider {
    fn kind(
        &self,
        problems: &mut Problems,
        base_dir: &Path,
        fetching: &ClientAssertionSettings,
    ) -> Option<ProviderKind> {
        let name = self.kind.as_deref();
        match name.and_then(|text| text.parse().ok()) {
            Some(ProviderType::Facebook) => self.facebook(problems, base_dir),
            Some(ProviderType::Oidc) => self.oidc(problems, base_dir, fetching),
            None => {
                problems.push("type", not_one_of::<ProviderType>(&format!("{name:?}")));
                None
            }
        }
    }

    fn facebook(&self, problems: &mut Problems, base_dir: &Path) -> Option<ProviderKind> {
        let app_id = self.app_id.clone();
        if app_id.is_none() {
            problems.push("app_id", "is required for a facebook provider");
        }
        let app_secret = SecretSource {
            env_field: "app_secret_env",
            file_field: "app_secret_file",
            env: self.app_secret_env.as_deref(),
            file: self.app_secret_file.as_deref(),
        }
        .validate(
            problems,
            base_dir,
            Some("a facebook provider needs its app secret"),
            1,
        );
        let base_url = self
            .base_url
            .as_deref()
            .unwrap_or("https://graph.facebook.com")
            .trim_end_matches('/')
            .to_owned();
        // The app secret travels to it.
        let safe = is_https_or_loopback(&base_url);
        if !safe {
            problems.push("base_url", "must be an https URL (http only on loopback)");
        }
        Some(ProviderKind::Facebook {
            app_id: app_id?,
            app_secret: app_secret?,
            base_url: safe.then_some(base_url)?,
        })
    }

    fn oidc(
        &self,
        problems: &mut Problems,
        base_dir: &Path,
        fetching: &ClientAssertionSettings,
    ) -> Option<ProviderKind> {
        let names = self.issuer.clone().zip(self.audience.clone());
        if names.is_none() {
            problems.push("", "an oidc provider needs issuer and audience");
        }
        let keys = KeySource::of(&self.jwks, &self.jwks_file, &self.jwks_uri).validate(
            problems,
            base_dir,
            Some("an oidc provider needs its public keys"),
            fetching,
        );
        let (issuer, audience) = names?;
        Some(ProviderKind::Oidc {
            issuer,
            keys,
            audience,
        })
    }
}
