//! `[[routes]]`: compatible routes, core endpoints at the paths older token APIs use.

use super::problems::Problems;
use crate::names::not_one_of;
use crate::registry::{CompatRoute, Envelope, RouteEndpoint};
use serde::Deserialize;
use std::collections::HashSet;

/// The paths the core endpoints are mounted at.
const CORE_PATHS: [&str; 9] = [
    "/oauth2/token",
    "/oauth2/revoke",
    "/oauth2/introspect",
    "/oauth2/revocations",
    "/oauth2/authorize",
    "/oauth2/userinfo",
    "/.well-known/jwks.json",
    "/.well-known/openid-configuration",
    "/.well-known/oauth-authorization-server",
];

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct RawRoute {
    path: Option<String>,
    endpoint: Option<String>,
    envelope: Option<String>,
    query_parameters: bool,
    scope_wildcard: Option<String>,
    function: Option<String>,
}

/// The routes to mount, paths unique; a core path listed plainly needs no route of its own.
pub(super) fn validate_routes(raws: &[RawRoute], problems: &mut Problems) -> Vec<CompatRoute> {
    let mut listed = problems.at("routes");
    let mut seen = HashSet::new();
    let mut routes = Vec::new();
    for (i, raw) in raws.iter().enumerate() {
        let mut problems = listed.item(i);
        let path = match raw.path.as_deref() {
            Some(path) if path.starts_with('/') && !path.contains(['?', '#', '{', '}']) => path,
            _ => {
                problems.push("path", "must be a path such as /api/v1/token");
                continue;
            }
        };
        if CORE_PATHS.contains(&path) && raw.endpoint.is_some() {
            // The core JSON-capable token endpoint already serves it: allowed only as plain.
            if raw.envelope.as_deref().unwrap_or("plain") != "plain" || raw.query_parameters {
                problems.push(
                    "path",
                    "a core endpoint's path cannot take an envelope or query parameters",
                );
            }
            continue;
        }
        if !seen.insert(path.to_owned()) {
            problems.push("path", format!("{path} is mounted twice"));
            continue;
        }
        if let Some(route) = raw.validate(&mut problems, path) {
            routes.push(route);
        }
    }
    routes
}

impl RawRoute {
    fn validate(&self, problems: &mut Problems, path: &str) -> Option<CompatRoute> {
        let endpoint = self.endpoint.as_deref();
        let Some(endpoint) = endpoint.and_then(|text| text.parse::<RouteEndpoint>().ok()) else {
            problems.push(
                "endpoint",
                not_one_of::<RouteEndpoint>(&format!("{endpoint:?}")),
            );
            return None;
        };
        let envelope = match self.envelope.as_deref() {
            None => Envelope::Plain,
            Some(text) => {
                let Ok(envelope) = text.parse() else {
                    problems.push("envelope", not_one_of::<Envelope>(&format!("'{text}'")));
                    return None;
                };
                envelope
            }
        };
        Some(CompatRoute {
            path: path.to_owned(),
            endpoint,
            envelope,
            query_parameters: self.query_parameters,
            scope_wildcard: self.scope_wildcard.clone(),
            function: self.function.clone().unwrap_or_else(|| "oauth".to_owned()),
        })
    }
}
