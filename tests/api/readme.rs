//! The README's curl session, pasted as a newcomer would: its shell blocks run in order in one
//! bash against the binary on the shipped config/tessera.toml (on a free port instead of 8080,
//! `cargo run --release --` being the built binary), and the answers are the ones it shows.

use crate::harness::*;
use serde_json::Value;
use std::path::Path;

/// The fenced blocks of `section` (a `## ` heading of the README): (info string, body).
fn blocks_of(readme: &str, section: &str) -> Vec<(String, String)> {
    let start = readme
        .find(&format!("\n## {section}\n"))
        .unwrap_or_else(|| panic!("no section {section}"));
    let body = &readme[start + 1..];
    let end = body[3..].find("\n## ").map_or(body.len(), |end| end + 3);
    let mut blocks = Vec::new();
    let mut lines = body[..end].lines();
    while let Some(line) = lines.next() {
        if let Some(info) = line.strip_prefix("```") {
            let text: Vec<&str> = lines.by_ref().take_while(|line| *line != "```").collect();
            blocks.push((info.to_owned(), text.join("\n")));
        }
    }
    blocks
}

#[test]
fn the_readme_stays_a_newcomers_page() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let lines = readme.lines().count();
    assert!(lines <= 250, "README.md has {lines} lines");
    for section in [
        "Standards",
        "Quick start",
        "Try it with curl",
        "Documentation",
    ] {
        assert!(readme.contains(&format!("\n## {section}\n")), "{section}");
    }
    let commands: Vec<String> = blocks_of(&readme, "Quick start")
        .into_iter()
        .map(|(_, text)| text)
        .collect();
    assert_eq!(commands, ["cargo run --release -- serve", "cargo test"]);
    // Every page it links to exists.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for link in readme.split("](").skip(1) {
        let target = link.split(')').next().unwrap();
        let file = target.split('#').next().unwrap();
        if !file.is_empty() && !file.starts_with("http") {
            assert!(root.join(file).exists(), "README links to {target}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_readme_curl_session_runs_as_printed_against_the_shipped_config() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let blocks = blocks_of(&readme, "Try it with curl");
    let port = free_port();
    let here = format!("127.0.0.1:{port}");
    let issuer = format!("http://{here}");
    let keys = tempfile::TempDir::new().unwrap();
    let keys_dir = keys.path().to_string_lossy().into_owned();
    let env = [
        ("TESSERA_KEYS_DIR", keys_dir.as_str()),
        ("TESSERA_LISTEN", here.as_str()),
        ("TESSERA_ISSUER", issuer.as_str()),
        ("TESSERA_LOG__FORMAT", "json"),
        ("TESSERA_LOG__LEVEL", "info"),
    ];
    let server = ServerProcess::start_with_env(&root.join("config/tessera.toml"), &env);

    // The shell blocks, each after a marker line, with what they are shown to print.
    let mut script = String::from("set -eu\n");
    let mut shown = Vec::new();
    let mut commands = 0;
    for (info, text) in &blocks {
        if info == "sh" {
            script.push_str(&format!("echo '@@ block {commands}'\n"));
            script.push_str(
                &text
                    .replace("127.0.0.1:8080", &here)
                    .replace("cargo run --release --", env!("CARGO_BIN_EXE_tessera")),
            );
            script.push('\n');
            commands += 1;
            shown.push(Vec::new());
        } else if let Some(outputs) = shown.last_mut() {
            outputs.push(text.clone());
        }
    }
    assert_eq!(commands, 5, "the session's shell blocks");
    let run = tokio::process::Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(root)
        .env_remove("TESSERA_CONFIG")
        .envs(env)
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(std::time::Duration::from_secs(120), run)
        .await
        .expect("the session finishes within 2 minutes")
        .unwrap();
    let printed = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{printed}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed: Vec<&str> = printed.split("@@ block ").skip(1).collect();
    assert_eq!(printed.len(), commands);
    let block = |n: usize| printed[n].split_once('\n').unwrap().1;

    // Three token requests, each answered as the README shows its answer.
    let answers: Vec<Value> = serde_json::Deserializer::from_str(block(0))
        .into_iter::<Value>()
        .map(Result::unwrap)
        .collect();
    assert_eq!(answers.len(), 3, "{}", block(0));
    let example: Value = serde_json::from_str(&shown[0][0]).unwrap();
    let keys_of = |value: &Value| -> Vec<String> {
        let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    };
    for answer in &answers {
        assert_eq!(keys_of(answer), keys_of(&example), "{answer}");
        assert_eq!(answer["token_type"], example["token_type"]);
        assert_eq!(answer["expires_in"], example["expires_in"]);
    }
    assert_eq!(answers[0]["scope"], example["scope"]);
    assert_eq!(answers[1]["scope"], "reports:write");
    assert_eq!(answers[2]["scope"], example["scope"]);

    // The payload read with the shell alone has the claims shown, from this issuer.
    let claims: Value = serde_json::from_str(block(1).trim()).unwrap();
    let example: Value = serde_json::from_str(&shown[1][0]).unwrap();
    assert_eq!(keys_of(&claims), keys_of(&example), "{claims}");
    assert_eq!(claims["iss"], issuer.as_str());
    for claim in ["sub", "aud", "client_id", "scope"] {
        assert_eq!(claims[claim], example[claim], "{claim}");
    }
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        900
    );
    assert!(claims["status"]["status_list"]["uri"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{issuer}/oauth2/status-lists/")));

    // tessera token decode, then verify against the running server.
    let mut decoded = serde_json::Deserializer::from_str(block(2)).into_iter::<Value>();
    let decoded = decoded.next().unwrap().unwrap();
    assert_eq!(decoded["header"]["typ"], "at+jwt");
    assert_eq!(decoded["claims"], claims);
    assert!(block(2).contains("\nvalid access token\n"), "{}", block(2));

    // The JWK Set names the token's key; the metadata is this issuer's.
    let mut published = serde_json::Deserializer::from_str(block(3)).into_iter::<Value>();
    let jwks = published.next().unwrap().unwrap();
    let metadata = published.next().unwrap().unwrap();
    assert!(jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .any(|key| key["kid"] == decoded["header"]["kid"]));
    assert_eq!(metadata["issuer"], issuer.as_str());

    // The refusal: every line shown is printed (the request id aside), and nothing else of
    // substance.
    let refusal = block(4).replace("\r\n", "\n");
    let (head, body) = refusal.split_once("\n\n").unwrap();
    let (shown_head, shown_body) = shown[4][0].split_once("\n\n").unwrap();
    for line in shown_head.lines() {
        if line.starts_with("x-request-id: ") {
            assert!(head.contains("\nx-request-id: "), "{head}");
        } else {
            assert!(head.lines().any(|got| got == line), "{line} not in\n{head}");
        }
    }
    assert_eq!(body.trim(), shown_body.trim());
    assert!(server.stop().success());
}
