//! Value parsers shared by the sections: durations, addresses, URLs, the issuer, lists, scopes
//! and tables that must be JSON objects.

use super::problems::Problems;
use crate::oauth::types::{Scope, ScopeSet};
use serde_json::{Map, Value};
use std::net::SocketAddr;
use std::time::Duration;

/// A whole, positive number of seconds written as `"90s"`, `"15m"`, `"30d"`...
pub(super) fn parse_duration(text: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(text).map_err(|err| {
        format!("'{text}' is not a duration such as \"90s\", \"15m\", \"30d\" ({err})")
    })?;
    if duration.is_zero() {
        return Err("must be longer than zero".to_owned());
    }
    if duration.subsec_nanos() != 0 {
        return Err("must be a whole number of seconds".to_owned());
    }
    Ok(duration)
}

/// The duration at `field`, `default` when it is not set (or not a duration, with the problem
/// recorded).
pub(super) fn duration_or(
    problems: &mut Problems,
    field: &str,
    value: Option<&String>,
    default: Duration,
) -> Duration {
    optional_duration(problems, field, value).unwrap_or(default)
}

/// The duration at `field` when it is set and valid.
pub(super) fn optional_duration(
    problems: &mut Problems,
    field: &str,
    value: Option<&String>,
) -> Option<Duration> {
    problems.check(field, parse_duration(value?))
}

/// A socket address; `example` shows the expected form.
pub(super) fn parse_address(text: &str, example: &str) -> Result<SocketAddr, String> {
    text.parse()
        .map_err(|err| format!("not an address such as {example} ({err})"))
}

/// The issuer URL, without a trailing slash.
pub(super) fn parse_issuer(text: &str) -> Result<String, String> {
    let url = url::Url::parse(text).map_err(|err| format!("'{text}' is not a URL ({err})"))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err("the issuer must be an https (or, for development, http) URL".to_owned());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("the issuer URL must have no query or fragment (RFC 8414)".to_owned());
    }
    Ok(text.trim_end_matches('/').to_owned())
}

/// Whether `text` is a URL that may carry secrets or keys: https, or http on loopback only.
pub(super) fn is_https_or_loopback(text: &str) -> bool {
    url::Url::parse(text).is_ok_and(|url| {
        url.scheme() == "https"
            || (url.scheme() == "http"
                && matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")))
    })
}

/// Each item of the list at `field` parsed, `default` when the list is not set. A bad item is
/// recorded at `field[i]` and left out.
pub(super) fn parse_list<T>(
    problems: &mut Problems,
    field: &str,
    values: Option<&Vec<String>>,
    default: Vec<T>,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Vec<T> {
    let Some(values) = values else {
        return default;
    };
    problems.each(field, values, |value, item| item.check("", parse(value)))
}

/// The scope tokens at `field` (RFC 6749 3.3).
pub(super) fn parse_scopes(problems: &mut Problems, field: &str, values: &[String]) -> ScopeSet {
    problems
        .each(field, values, |value, item| {
            item.check(
                "",
                Scope::parse(value)
                    .ok_or_else(|| format!("'{value}' is not a scope token (RFC 6749 3.3)")),
            )
        })
        .into_iter()
        .collect()
}

/// A TOML table as a JSON object, when every value has a JSON form.
pub(super) fn json_object(table: &toml::Table) -> Option<Map<String, Value>> {
    match serde_json::to_value(table) {
        Ok(Value::Object(object)) => Some(object),
        _ => None,
    }
}
