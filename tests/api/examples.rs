//! The example configurations of config/examples/: each passes `tessera config check`, and the
//! complete one serves (its TLS listener, routes, clients and users on).

use crate::harness::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The README's published secret of the demo client, whose hash the examples reuse.
const DEMO_SECRET: &str = "nYrrS3QJ84oFNT2azz5Kjx4iBD29fSbpOJEjU1AuF6A";
/// What the examples' comments ask to set.
const EXAMPLE_ENV: [(&str, &str); 2] = [
    (
        "EXAMPLE_HMAC_SECRET",
        "an-example-hmac-secret-of-at-least-32-bytes",
    ),
    ("EXAMPLE_FACEBOOK_SECRET", "an-example-app-secret"),
];

fn examples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/examples");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_example_configuration_passes_config_check() {
    let files = examples();
    let names: Vec<String> = files
        .iter()
        .map(|file| file.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "complete.toml",
            "fapi2.toml",
            "minimal.toml",
            "replicas-cluster.toml",
            "replicas.toml"
        ]
    );
    for file in files {
        // Keys of their own, so that what a developer's keys/ holds does not matter.
        let keys = tempfile::TempDir::new().unwrap();
        let output = Command::new(env!("CARGO_BIN_EXE_tessera"))
            .args(["config", "check", "--config"])
            .arg(&file)
            .env_remove("TESSERA_CONFIG")
            .env("TESSERA_KEYS_DIR", keys.path())
            .envs(EXAMPLE_ENV)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}: {}{stdout}",
            file.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            stdout.contains(": OK (issuer https://id.example.com"),
            "{stdout}"
        );
    }
}

#[tokio::test]
async fn the_complete_example_serves_what_it_configures() {
    let keys = tempfile::TempDir::new().unwrap();
    let keys_dir = keys.path().to_string_lossy().into_owned();
    let mut env = vec![
        ("TESSERA_KEYS_DIR", keys_dir.as_str()),
        ("TESSERA_LISTEN", "127.0.0.1:0"),
        ("TESSERA_TLS__LISTEN", "127.0.0.1:0"),
    ];
    env.extend(EXAMPLE_ENV);
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/examples/complete.toml");
    let server = ServerProcess::start_with_env(&config, &env);
    let started = &server.started;
    assert!(
        started["tls"]
            .as_str()
            .unwrap()
            .starts_with("https://127.0.0.1:"),
        "{started}"
    );
    assert_eq!(
        started["routes"],
        "/token /token/introspect /api/v1.1/oauth/token /api/v1.1/oauth/revoke"
    );
    assert_eq!(started["clients"], 15);
    assert_eq!(started["users"], 2);
    assert_eq!(started["providers"], 5);

    let client = reqwest::Client::new();
    let answer = post_form(
        &client,
        &server.url("/oauth2/token"),
        Some(("reports-batch", DEMO_SECRET)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(answer.json["expires_in"], 300, "the client's own lifetime");
    let enveloped = post_form(
        &client,
        &server.url("/api/v1.1/oauth/token"),
        Some(("reports-batch", DEMO_SECRET)),
        &[("grant_type", "client_credentials"), ("scope", "*")],
    )
    .await;
    assert_eq!(enveloped.status, 200, "{}", enveloped.json);
    assert_eq!(
        enveloped.json["data"]["scope"],
        "reports:read reports:write"
    );
    // The command-line tool starts the device flow as a public client.
    let device = post_form(
        &client,
        &server.url("/oauth2/device_authorization"),
        None,
        &[
            ("client_id", "reports-cli"),
            ("scope", "openid reports:read"),
        ],
    )
    .await;
    assert_eq!(device.status, 200, "{}", device.json);
    assert_eq!(device.json["expires_in"], 600);
    assert_eq!(device.json["interval"], 5);
    assert_eq!(
        device.json["verification_uri"],
        "https://id.example.com/oauth2/device"
    );
    assert!(server.stop().success());
}
