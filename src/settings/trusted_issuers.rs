//! `[[trusted_issuers]]`: other issuers whose JWTs are accepted as grants and exchange subjects.

use super::client_assertions::ClientAssertionSettings;
use super::problems::Problems;
use super::sources::KeySource;
use super::values::{duration_or, parse_list, parse_scopes};
use crate::jose::SigningAlg;
use crate::registry::{TrustedIssuer, TrustedIssuerRegistry};
use serde::Deserialize;
use std::path::Path;
use std::time::Duration;
use strum::IntoEnumIterator;

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct RawTrustedIssuer {
    issuer: Option<String>,
    jwks: Option<toml::Table>,
    jwks_file: Option<String>,
    pub(super) jwks_uri: Option<String>,
    pub(super) algs: Option<Vec<String>>,
    subject_prefix: Option<String>,
    scopes: Vec<String>,
    audience: Vec<String>,
    max_lifetime: Option<String>,
}

pub(super) fn validate_trusted_issuers(
    raws: &[RawTrustedIssuer],
    problems: &mut Problems,
    base_dir: &Path,
    fetching: &ClientAssertionSettings,
) -> TrustedIssuerRegistry {
    TrustedIssuerRegistry::new(problems.each("trusted_issuers", raws, |raw, problems| {
        raw.validate(problems, base_dir, fetching)
    }))
}

impl RawTrustedIssuer {
    fn validate(
        &self,
        problems: &mut Problems,
        base_dir: &Path,
        fetching: &ClientAssertionSettings,
    ) -> Option<TrustedIssuer> {
        let issuer = self.issuer.clone().filter(|iss| !iss.is_empty());
        if issuer.is_none() {
            problems.push("issuer", "is required");
        }
        let keys = KeySource::of(&self.jwks, &self.jwks_file, &self.jwks_uri).validate(
            problems,
            base_dir,
            Some("a trusted issuer needs its public keys"),
            fetching,
        );
        let algs = parse_list(
            problems,
            "algs",
            self.algs.as_ref(),
            SigningAlg::iter().collect(),
            str::parse,
        );
        let scopes = parse_scopes(problems, "scopes", &self.scopes)
            .iter()
            .cloned()
            .collect();
        let max_lifetime = duration_or(
            problems,
            "max_lifetime",
            self.max_lifetime.as_ref(),
            Duration::from_secs(3600),
        );
        Some(TrustedIssuer {
            issuer: issuer?,
            keys,
            algs,
            subject_prefix: self.subject_prefix.clone().unwrap_or_default(),
            scopes,
            audience: self.audience.clone(),
            max_lifetime,
        })
    }
}
