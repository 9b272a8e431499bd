use strum::{EnumIter, EnumString, IntoStaticStr};

/// Which core endpoint a compatible route serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, IntoStaticStr, EnumString)]
#[strum(serialize_all = "lowercase")]
pub enum RouteEndpoint {
    Token,
    Revoke,
    Introspect,
}

/// How a compatible route wraps its answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, IntoStaticStr, EnumString)]
#[strum(serialize_all = "kebab-case")]
pub enum Envelope {
    /// The standard response.
    Plain,
    /// `{"meta": {date, function, responseCode, responseID, success}, "data": {...}}`.
    MetaData,
}

/// A core endpoint at another path, as an older token API's clients call it.
#[derive(Debug, Clone)]
pub struct CompatRoute {
    pub path: String,
    pub endpoint: RouteEndpoint,
    pub envelope: Envelope,
    /// Parameters may also come in the query string (never the same one in both).
    pub query_parameters: bool,
    /// A `scope` equal to this means every scope the client may have.
    pub scope_wildcard: Option<String>,
    /// `meta.function` of the envelope.
    pub function: String,
}
