use super::*;
use crate::jose::SigningAlg;

const HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$Hf0CjJ1i2ZVJkM6AAh4l2xOKnUVbfO5zWNnD0MY3cAk";

fn parse(text: &str) -> Result<Settings, ConfigError> {
    Settings::parse(text, Path::new("/etc/tessera"), Vec::new())
}

fn paths(err: ConfigError) -> Vec<String> {
    err.problems.into_iter().map(|p| p.path).collect()
}

#[test]
fn a_minimal_file_gets_the_documented_defaults() {
    let settings = parse("issuer = \"https://id.example/\"").unwrap();
    assert_eq!(settings.issuer, "https://id.example");
    assert_eq!(settings.keys_dir, Path::new("/etc/tessera/keys"));
    assert_eq!(settings.tokens.signing_alg, SigningAlg::ES256);
    assert_eq!(settings.tokens.access_token_ttl, Duration::from_secs(900));
    assert_eq!(settings.listen.to_string(), "127.0.0.1:8080");
}

#[test]
fn every_problem_is_named_with_its_path() {
    let text = format!(
        r#"
issuer = "https://id.example"
colour = "blue"
[tokens]
access_token_ttl = "soon"
signing_alg = "HS256"
[[clients]]
client_id = "a"
client_secret_hash = "{HASH}"
audience = ["x"]
scops = ["typo"]
[[clients]]
client_id = "a"
client_secret_hash = "{HASH}"
grant_types = ["implicit"]
audience = ["x"]
"#
    );
    let found = paths(parse(&text).unwrap_err());
    for expected in [
        "colour",
        "clients[0].scops",
        "tokens.access_token_ttl",
        "tokens.signing_alg",
        "clients[1].client_id",
        "clients[1].grant_types[0]",
    ] {
        assert!(
            found.contains(&expected.to_owned()),
            "{expected} not in {found:?}"
        );
    }
}

#[test]
fn environment_overrides_scalars_and_unknown_names_are_reported() {
    let env = vec![
        ("TESSERA_LISTEN".to_owned(), "0.0.0.0:9999".to_owned()),
        ("TESSERA_TOKENS__SIGNING_ALG".to_owned(), "EdDSA".to_owned()),
        (
            "TESSERA_SERVER__MAX_BODY_BYTES".to_owned(),
            "2048".to_owned(),
        ),
        ("TESSERA_CONFIG".to_owned(), "ignored".to_owned()),
        ("TESSERA_BENCH_SECONDS".to_owned(), "5".to_owned()),
        ("PATH".to_owned(), "/bin".to_owned()),
    ];
    let settings = Settings::parse("issuer = \"https://id.example\"", Path::new("."), env).unwrap();
    assert_eq!(settings.listen.to_string(), "0.0.0.0:9999");
    assert_eq!(settings.tokens.signing_alg, SigningAlg::EdDSA);
    assert_eq!(settings.server.max_body_bytes, 2048);

    let env = vec![("TESSERA_COLOUR".to_owned(), "blue".to_owned())];
    let err = Settings::parse("issuer = \"https://id.example\"", Path::new("."), env).unwrap_err();
    assert_eq!(err.problems[0].path, "colour");
    assert!(err.problems[0].message.contains("environment"));
}

#[test]
fn a_wrong_type_names_its_path() {
    let err =
        parse("issuer = \"https://id.example\"\n[server]\nmax_body_bytes = \"big\"").unwrap_err();
    assert_eq!(err.problems[0].path, "server.max_body_bytes");
}

#[test]
fn two_secret_sources_are_named_as_the_section_spells_them() {
    let text = r#"
issuer = "https://id.example"
[[clients]]
client_id = "a"
client_secret_env = "A"
client_secret_file = "a.txt"
audience = ["x"]
[[providers]]
name = "fb"
type = "facebook"
app_id = "1"
app_secret_env = "B"
app_secret_file = "b.txt"
"#;
    let err = parse(text).unwrap_err();
    let found: Vec<String> = err
        .problems
        .iter()
        .map(|p| format!("{}: {}", p.path, p.message))
        .collect();
    for expected in [
        "clients[0].client_secret_env: give only one of client_secret_env or client_secret_file",
        "providers[0].app_secret_env: give only one of app_secret_env or app_secret_file",
    ] {
        assert!(
            found.contains(&expected.to_owned()),
            "{expected} not in {found:?}"
        );
    }
}

#[test]
fn client_rules() {
    let text = r#"
issuer = "https://id.example"
[[clients]]
client_id = "a"
client_secret_hash = "plain-text-secret"
scopes = ["a", "b c"]
default_scopes = ["z"]
audience = []
"#;
    let found = paths(parse(text).unwrap_err());
    for expected in [
        "clients[0].client_secret_hash",
        "clients[0].scopes[1]",
        "clients[0].default_scopes",
        "clients[0].audience",
    ] {
        assert!(
            found.contains(&expected.to_owned()),
            "{expected} not in {found:?}"
        );
    }
}

#[test]
fn one_pass_names_the_problems_of_every_section_and_field() {
    let text = r#"
issuer = "ftp://id.example"
listen = "nowhere"
[tls]
listen = "nowhere"
[[clients]]
audience = ["x"]
access_token_encryption = { alg = "RSA1_5" }
[[resources]]
access_token_encryption = { alg = "RSA1_5", jwk_file = "missing.jwk" }
[[trusted_issuers]]
jwks_uri = "http://far.example/jwks"
[[routes]]
path = "no-slash"
endpoint = "authorise"
envelope = "soap"
[[providers]]
type = "facebook"
base_url = "http://far.example"
"#;
    let found = paths(parse(text).unwrap_err());
    for expected in [
        "issuer",
        "listen",
        "tls.listen",
        "tls",
        "clients[0].client_id",
        "clients[0].access_token_encryption.alg",
        "resources[0].audience",
        "resources[0].access_token_encryption.alg",
        "resources[0].access_token_encryption.jwk_file",
        "trusted_issuers[0].issuer",
        "trusted_issuers[0].jwks_uri",
        "routes[0].path",
        "routes[0].endpoint",
        "routes[0].envelope",
        "providers[0].name",
        "providers[0].app_id",
        "providers[0].app_secret_env",
        "providers[0].base_url",
    ] {
        assert!(
            found.contains(&expected.to_owned()),
            "{expected} not in {found:?}"
        );
    }
}

#[test]
fn a_bad_hash_names_the_command_that_makes_a_good_one() {
    let text = r#"
issuer = "https://id.example"
[[clients]]
client_id = "a"
client_secret_hash = "plain"
audience = ["x"]
[[users]]
username = "alice"
password_hash = "plain"
"#;
    let err = parse(text).unwrap_err();
    let message = |path: &str| {
        err.problems
            .iter()
            .find(|problem| problem.path == path)
            .map(|problem| problem.message.clone())
            .unwrap_or_default()
    };
    assert!(
        message("clients[0].client_secret_hash").ends_with("make one with `tessera client secret`"),
        "{err}"
    );
    assert!(
        message("users[0].password_hash").ends_with("make one with `tessera user password-hash`"),
        "{err}"
    );
}

#[test]
fn a_client_problem_found_after_the_others_names_that_client() {
    let text = r#"
issuer = "https://id.example"
[[clients]]
audience = ["x"]
[[clients]]
client_id = "mtls"
token_endpoint_auth_methods = ["tls_client_auth"]
tls_client_auth_subject_dn = "CN=mtls"
audience = ["x"]
"#;
    let err = parse(text).unwrap_err();
    assert!(
        err.problems.contains(&ConfigProblem {
            path: "clients[1].token_endpoint_auth_methods".to_owned(),
            message: "the TLS methods need the [tls] listener".to_owned(),
        }),
        "{err}"
    );
}

#[test]
fn an_hmac_algorithm_needs_a_secret_as_long_as_its_hash() {
    let dir = std::env::temp_dir().join(format!("tessera-hmac-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("short.secret"), "a-shared-secret-of-32-bytes-0123").unwrap();
    let client = |algs: &str| {
        format!(
            r#"
issuer = "https://id.example"
[[clients]]
client_id = "h"
token_endpoint_auth_methods = ["client_secret_jwt"]
client_secret_file = "short.secret"
audience = ["x"]
{algs}
"#
        )
    };
    // Named in the file: a problem.
    let err = Settings::parse(
        &client(r#"token_endpoint_auth_signing_algs = ["HS256", "HS512"]"#),
        &dir,
        Vec::new(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string().lines().last().unwrap().trim(),
        "clients[0].token_endpoint_auth_signing_algs: HS512 needs a client secret of at least 64 bytes (RFC 7518 3.2)"
    );
    // By default: left out.
    let settings = Settings::parse(&client(""), &dir, Vec::new()).unwrap();
    let algs: Vec<String> = settings
        .clients
        .get("h")
        .unwrap()
        .assertion_algs
        .iter()
        .map(|alg| alg.to_string())
        .collect();
    assert!(algs.contains(&"HS256".to_owned()));
    assert!(
        !algs.iter().any(|alg| alg == "HS384" || alg == "HS512"),
        "{algs:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn device_and_logout_settings_have_defaults_bounds_and_client_uris() {
    let settings = parse("issuer = \"https://id.example\"").unwrap();
    assert_eq!(settings.tokens.device_code_ttl, Duration::from_secs(600));
    assert_eq!(settings.device.interval, Duration::from_secs(5));
    assert_eq!(settings.device.max_user_code_failures_per_address, 10);
    assert_eq!(settings.logout.backchannel_timeout, Duration::from_secs(5));
    let text = format!(
        r#"
issuer = "https://id.example"
[tokens]
device_code_ttl = "2h"
[device]
interval = "2m"
max_user_code_failures_per_address = 0
[logout]
backchannel_timeout = "5m"
[[clients]]
client_id = "tv"
token_endpoint_auth_methods = ["none"]
grant_types = ["urn:ietf:params:oauth:grant-type:device_code"]
audience = ["x"]
post_logout_redirect_uris = ["https://ok.example/out", "not a uri"]
backchannel_logout_uri = "ftp://rp.example/logout"
[[clients]]
client_id = "rp"
client_secret_hash = "{HASH}"
audience = ["x"]
backchannel_logout_uri = "https://rp.example/logout#frag"
"#
    );
    let found = paths(parse(&text).unwrap_err());
    assert_eq!(
        found,
        [
            "tokens.device_code_ttl",
            "device.interval",
            "device.max_user_code_failures_per_address",
            "logout.backchannel_timeout",
            "clients[0].post_logout_redirect_uris[1]",
            "clients[0].backchannel_logout_uri",
            "clients[1].backchannel_logout_uri",
        ]
    );
    let good = parse(
        r#"
issuer = "https://id.example"
[[clients]]
client_id = "tv"
token_endpoint_auth_methods = ["none"]
grant_types = ["urn:ietf:params:oauth:grant-type:device_code", "refresh_token"]
audience = ["x"]
post_logout_redirect_uris = ["https://ok.example/out"]
backchannel_logout_uri = "https://rp.example/logout?tenant=1"
backchannel_logout_session_required = true
"#,
    )
    .unwrap();
    let tv = good.clients.get("tv").unwrap();
    assert!(tv.allows_grant(crate::oauth::types::GrantType::DeviceCode));
    assert_eq!(tv.post_logout_redirect_uris, ["https://ok.example/out"]);
    assert_eq!(
        tv.backchannel_logout_uri.as_deref(),
        Some("https://rp.example/logout?tenant=1")
    );
    assert!(tv.backchannel_logout_session_required);
}
