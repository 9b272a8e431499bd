//! `[[routes]]`: compatible routes, core endpoints at the paths older token APIs use.

use super::problems::Problems;
use crate::names::not_one_of;
use crate::registry::{CompatRoute, Envelope, RouteEndpoint};
use serde::Deserialize;
use std::collections::HashSet;

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
            Some(path) if path.starts_with('/') && !path.contains(['?', '#', '{', '}']) => {
                Some(path)
            }
            _ => {
                problems.push("path", "must be a path such as /api/v1/token");
                None
            }
        };
        if path.is_some_and(|path| crate::oauth::paths::CORE.contains(&path))
            && raw.endpoint.is_some()
        {
            // The core JSON-capable token endpoint already serves it: allowed only as plain.
            if raw.envelope.as_deref().unwrap_or("plain") != "plain" || raw.query_parameters {
                problems.push(
                    "path",
                    "a core endpoint's path cannot take an envelope or query parameters",
                );
            }
            continue;
        }
        let unique = path.is_some_and(|path| seen.insert(path.to_owned()));
        if let (Some(path), false) = (path, unique) {
            problems.push("path", format!("{path} is mounted twice"));
        }
        let endpoint = raw.endpoint(&mut problems);
        let envelope = raw.envelope(&mut problems);
        if let (Some(path), true, Some(endpoint), Some(envelope)) =
            (path, unique, endpoint, envelope)
        {
            routes.push(CompatRoute {
                path: path.to_owned(),
                endpoint,
                envelope,
                query_parameters: raw.query_parameters,
                scope_wildcard: raw.scope_wildcard.clone(),
                function: raw.function.clone().unwrap_or_else(|| "oauth".to_owned()),
            });
        }
    }
    routes
}

impl RawRoute {
    fn endpoint(&self, problems: &mut Problems) -> Option<RouteEndpoint> {
        let endpoint = self.endpoint.as_deref();
        let parsed = endpoint.and_then(|text| text.parse().ok());
        if parsed.is_none() {
            problems.push(
                "endpoint",
                not_one_of::<RouteEndpoint>(&format!("{endpoint:?}")),
            );
        }
        parsed
    }

    fn envelope(&self, problems: &mut Problems) -> Option<Envelope> {
        let Some(text) = self.envelope.as_deref() else {
            return Some(Envelope::Plain);
        };
        let parsed = text.parse().ok();
        if parsed.is_none() {
            problems.push("envelope", not_one_of::<Envelope>(&format!("'{text}'")));
        }
        parsed
    }
}
