//! The configuration a test app starts on.

use super::*;
use std::sync::LazyLock;
use tessera::oauth::credentials::hash_secret;

/// argon2 is deliberately slow: hash each test secret once per test process.
static HASHES: LazyLock<[String; 4]> = LazyLock::new(|| {
    [
        hash_secret(REPORTS_SECRET),
        hash_secret(SPECIAL_SECRET),
        hash_secret(OTHER_SECRET),
        hash_secret(ALICE_PASSWORD),
    ]
});

/// The clients every test app registers.
pub fn clients_toml() -> String {
    let [reports, special, other, alice] = &*HASHES;
    format!(
        r#"
[[clients]]
client_id = "reports"
client_secret_hash = "{reports}"
token_endpoint_auth_methods = ["client_secret_basic", "client_secret_post"]
scopes = ["reports:read", "reports:write", "reports:admin"]
default_scopes = ["reports:read"]
audience = ["https://reports.internal", "https://audit.internal", "billing-api"]

[[clients]]
client_id = "{SPECIAL_ID}"
client_secret_hash = "{special}"
scopes = ["special"]
audience = ["https://special.internal"]
access_token_ttl = "2m"

[[clients]]
client_id = "post-only"
client_secret_hash = "{other}"
token_endpoint_auth_methods = ["client_secret_post"]
scopes = ["a"]
audience = ["https://a.internal"]

[[clients]]
client_id = "bare"
client_secret_hash = "{other}"
audience = ["https://bare.internal"]

[[clients]]
client_id = "resource-server"
client_secret_hash = "{other}"
grant_types = []
introspect = true
audience = ["https://reports.internal"]

[[clients]]
client_id = "webapp"
client_secret_hash = "{other}"
grant_types = ["authorization_code", "refresh_token"]
redirect_uris = ["{CALLBACK}", "http://127.0.0.1:9/other"]
scopes = ["openid", "profile", "email", "reports:read"]
default_scopes = ["openid"]
audience = ["https://reports.internal"]

[[clients]]
client_id = "mobile"
token_endpoint_auth_methods = ["none"]
grant_types = ["password", "refresh_token", "authorization_code"]
redirect_uris = ["{CALLBACK}"]
scopes = ["openid", "profile", "email", "reports:read", "reports:write"]
default_scopes = ["openid", "reports:read"]
audience = ["https://reports.internal"]

[[clients]]
client_id = "consenting"
client_secret_hash = "{other}"
grant_types = ["authorization_code"]
redirect_uris = ["{CALLBACK}"]
consent = true
allow_plain_pkce = true
scopes = ["openid"]
audience = ["https://reports.internal"]

[[users]]
username = "alice"
password_hash = "{alice}"
claims = {{ email = "alice@example.com", email_verified = true, name = "Alice Liddell", groups = ["staff"] }}

[[users]]
username = "bob"
password_hash = "{other}"

[[clients]]
client_id = "no-grants"
client_secret_hash = "{other}"
grant_types = []
scopes = ["a"]
audience = ["https://a.internal"]
"#
    )
}

/// A test configuration: the common settings, the test clients, plus `extra` TOML (top-level
/// keys first) with `[tokens] signing_alg = alg`.
pub fn config_text(alg: &str, top: &str, sections: &str) -> String {
    format!(
        r#"
issuer = "{ISSUER}"
listen = "127.0.0.1:0"
keys_dir = "keys"
{top}
[tokens]
signing_alg = "{alg}"
access_token_ttl = "15m"

[log]
level = "warn"
{sections}
{clients}"#,
        clients = clients_toml()
    )
}
