//! Where each core endpoint is mounted: the one list the routes, discovery, the accepted
//! assertion audiences and the compatible-route checks all read. A leaf module.

pub const TOKEN: &str = "/oauth2/token";
pub const AUTHORIZE: &str = "/oauth2/authorize";
/// RFC 9126 pushed authorization requests.
pub const PAR: &str = "/oauth2/par";
pub const USERINFO: &str = "/oauth2/userinfo";
pub const REVOKE: &str = "/oauth2/revoke";
pub const INTROSPECT: &str = "/oauth2/introspect";
/// RFC 8628 3.1: where a device asks for a device code and a user code.
pub const DEVICE_AUTHORIZATION: &str = "/oauth2/device_authorization";
/// RFC 8628 3.3: the verification page, where the user enters the user code.
pub const DEVICE: &str = "/oauth2/device";
/// OpenID Connect RP-Initiated Logout: the `end_session_endpoint`.
pub const LOGOUT: &str = "/oauth2/logout";
/// The status list aggregation (every list served), and each list below it by id.
pub const STATUS_LISTS: &str = "/oauth2/status-lists";
pub const UMA_PERMISSION: &str = "/uma/permission";
pub const JWKS: &str = "/.well-known/jwks.json";
pub const OPENID_CONFIGURATION: &str = "/.well-known/openid-configuration";
pub const AUTHORIZATION_SERVER_METADATA: &str = "/.well-known/oauth-authorization-server";
pub const UMA_CONFIGURATION: &str = "/.well-known/uma2-configuration";
pub const HEALTHZ: &str = "/healthz";
pub const READYZ: &str = "/readyz";
pub const METRICS: &str = "/metrics";

/// The paths of the core endpoints a compatible route may not take over (a route may mount the
/// token endpoint at its own path only as it is: plain, without query parameters).
pub const CORE: [&str; 13] = [
    TOKEN,
    PAR,
    REVOKE,
    INTROSPECT,
    STATUS_LISTS,
    AUTHORIZE,
    USERINFO,
    JWKS,
    OPENID_CONFIGURATION,
    AUTHORIZATION_SERVER_METADATA,
    DEVICE_AUTHORIZATION,
    DEVICE,
    LOGOUT,
];

/// Where the login and session cookies are sent: every path of the authorization flow.
pub const COOKIE_SCOPE: &str = "/oauth2";
