//! openapi.yaml cannot drift from the server: schemathesis (PyPI, installed by .ci/run) runs
//! every default check of its against the binary on the shipped config/tessera.toml, with the
//! exceptions of tests/openapi/schemathesis.toml (each with its reason). Deterministic
//! generation, at most 30 cases per operation: the same cases every run, bounded in time.

use crate::harness::*;
use std::path::Path;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread")]
async fn openapi_yaml_holds_against_the_server_on_the_shipped_config() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let keys = tempfile::TempDir::new().unwrap();
    let keys_dir = keys.path().to_string_lossy().into_owned();
    let server = ServerProcess::start_with_env(
        &root.join("config/tessera.toml"),
        &[
            ("TESSERA_KEYS_DIR", keys_dir.as_str()),
            ("TESSERA_LISTEN", "127.0.0.1:0"),
            ("TESSERA_LOG__FORMAT", "json"),
            ("TESSERA_LOG__LEVEL", "info"),
        ],
    );
    // Its caches and examples database stay out of the repository.
    let scratch = tempfile::TempDir::new().unwrap();
    let run = tokio::process::Command::new("schemathesis")
        .arg("--config-file")
        .arg(root.join("tests/openapi/schemathesis.toml"))
        .arg("run")
        .arg(root.join("openapi.yaml"))
        .args(["--url", &server.address])
        .args(["--generation-deterministic", "--max-examples", "30"])
        .arg("--no-color")
        .current_dir(scratch.path())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(420), run)
        .await
        .expect("schemathesis finishes within 7 minutes")
        .expect("schemathesis runs (python3 -m pip install schemathesis)");
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "schemathesis found mismatches between openapi.yaml and the server:\n{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(report.contains("passed"), "{report}");
    assert!(server.stop().success());
}
