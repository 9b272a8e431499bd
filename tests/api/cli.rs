//! The `tessera` binary: config check, client secret, keys, and serve with SIGHUP reloads.

use crate::harness::*;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub(crate) fn tessera(config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(args)
        .arg("--config")
        .arg(config)
        .env_remove("TESSERA_CONFIG")
        .output()
        .unwrap()
}

/// A config file of exactly `text`, for the tests of what the loader refuses before any typed
/// value could be written.
fn write_raw_config(dir: &Path, text: &str) -> std::path::PathBuf {
    let path = dir.join("tessera.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn config_check_names_every_problem_with_its_path_and_serve_refuses_the_same() {
    let dir = tempfile::TempDir::new().unwrap();
    // The standard config, made wrong in four places: three the typed builder cannot express,
    // and one more client named like the first.
    let config = TestConfig::new()
        .raw("colour", "blue")
        .raw("tokens.access_token_ttl", "fifteen minutes")
        .raw("tokens.signing_alg", "none")
        .client(
            ClientConfig::new("reports")
                .secret(OTHER_SECRET)
                .audience(&["x"]),
        )
        .write_in(dir.path());
    // The added client comes after the standard ones.
    let duplicate = format!(
        "clients[{}].client_id: duplicate client id 'reports'",
        standard_clients().len()
    );
    for command in [&["config", "check"][..], &["serve"][..]] {
        let output = tessera(&config, command);
        assert_eq!(output.status.code(), Some(2), "{command:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        for expected in [
            "colour: unknown key",
            "tokens.access_token_ttl: 'fifteen minutes' is not a duration",
            "tokens.signing_alg: unknown signing algorithm 'none'",
            duplicate.as_str(),
        ] {
            assert!(
                stderr.contains(expected),
                "{command:?}: {expected} not in\n{stderr}"
            );
        }
    }
}

#[test]
fn config_check_reports_a_missing_or_broken_key_and_passes_a_good_config() {
    let dir = tempfile::TempDir::new().unwrap();
    let config = TestConfig::new().write_in(dir.path());
    let fresh = tessera(&config, &["config", "check"]);
    assert_eq!(
        fresh.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&fresh.stderr)
    );
    assert!(String::from_utf8_lossy(&fresh.stdout).contains("will create development keys"));

    // A keys folder with only an EdDSA key cannot serve the configured ES256.
    let generated = tessera(&config, &["keys", "generate", "--alg", "EdDSA"]);
    assert!(generated.status.success());
    let output = tessera(&config, &["config", "check"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("keys_dir:") && stderr.contains("no ES256 signing key"),
        "{stderr}"
    );

    for alg in ["ES256", "ECDH-ES+A256KW", "dir"] {
        assert!(tessera(&config, &["keys", "generate", "--alg", alg])
            .status
            .success());
    }
    let output = tessera(&config, &["config", "check"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    std::fs::write(dir.path().join("keys/sig-bad.jwk"), "{}").unwrap();
    let output = tessera(&config, &["config", "check"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("sig-bad.jwk"));
}

/// Runs `tessera <command> <subcommand>`, feeding `input` as one line on standard input, and
/// returns the hash of the `field = "..."` line it prints (which must not echo the input).
fn hash_from_stdin(config: &Path, command: [&str; 2], input: &str, field: &str) -> String {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(command)
        .arg("--config")
        .arg(config)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{input}\n").as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(!stdout.contains(input));
    stdout
        .trim()
        .strip_prefix(&format!("{field} = \""))
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap_or_else(|| panic!("{stdout}"))
        .to_owned()
}

#[tokio::test]
async fn client_secret_hash_gives_a_chosen_secret_an_argon2_hash_that_authenticates() {
    let dir = tempfile::TempDir::new().unwrap();
    let config = TestConfig::new().write_in(dir.path());
    let hash = hash_from_stdin(
        &config,
        ["client", "secret-hash"],
        "a chosen secret",
        "client_secret_hash",
    );
    let hash = hash.as_str();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    let app = spawn(
        &TestConfig::new().client(
            ClientConfig::new("chosen")
                .client_secret_hash(hash)
                .scopes(&["x"])
                .audience(&["https://x.internal"]),
        ),
    )
    .await;
    let answer = app
        .token_form(
            Some(("chosen", "a chosen secret")),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    // A user password in the keyed format is refused: a password can be guessed.
    let keyed = tessera::oauth::credentials::hash_generated_secret("pw");
    let config = TestConfig::new()
        .user(UserConfig::new("carol").password_hash(&keyed))
        .write_in(dir.path());
    let output = tessera(&config, &["config", "check"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr)
        .contains("a password needs an argon2id hash; make one with `tessera user password-hash`"));
}

#[tokio::test]
async fn client_secret_prints_a_secret_whose_hash_authenticates() {
    let dir = tempfile::TempDir::new().unwrap();
    let config = TestConfig::new().write_in(dir.path());
    let output = tessera(&config, &["client", "secret"]);
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    let value = |name: &str| {
        stdout
            .lines()
            .find_map(|line| line.strip_prefix(&format!("{name} = \"")))
            .and_then(|rest| rest.strip_suffix('"'))
            .unwrap_or_else(|| panic!("{name} not in\n{stdout}"))
            .to_owned()
    };
    let secret = value("client_secret");
    let hash = value("client_secret_hash");
    assert_eq!(secret.len(), 43, "256 bits, base64url");
    assert!(
        hash.starts_with("$hmac-sha256$v=1$"),
        "the keyed format: {hash}"
    );
    assert!(!hash.contains(&secret));

    let app = spawn(
        &TestConfig::new().client(
            ClientConfig::new("fresh")
                .client_secret_hash(&hash)
                .scopes(&["x"])
                .audience(&["https://x.internal"]),
        ),
    )
    .await;
    let answer = app
        .token_form(
            Some(("fresh", &secret)),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.json);
}

#[test]
fn keys_generate_list_rotate_and_prune() {
    let dir = tempfile::TempDir::new().unwrap();
    let config = TestConfig::new().write_in(dir.path());
    let empty = tessera(&config, &["keys", "list"]);
    assert!(String::from_utf8_lossy(&empty.stdout).contains("no keys"));
    for alg in ["ES256", "RSA-OAEP-256", "dir"] {
        let output = tessera(&config, &["keys", "generate", "--alg", alg]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let rotated = tessera(&config, &["keys", "rotate"]);
    assert!(rotated.status.success());
    assert!(String::from_utf8_lossy(&rotated.stdout).contains("published now"));
    let list = String::from_utf8(tessera(&config, &["keys", "list"]).stdout).unwrap();
    assert!(list.contains("published, signing"), "{list}");
    assert!(list.contains("published, signs from"), "{list}");
    assert!(list.contains("encryption RSA-OAEP-256"), "{list}");
    assert!(list.contains("private (never published)"), "{list}");
    // Nothing has expired yet: prune keeps every key.
    let before = keys_dir_files(&dir.path().join("keys")).len();
    assert!(tessera(&config, &["keys", "prune"]).status.success());
    assert_eq!(keys_dir_files(&dir.path().join("keys")).len(), before);
    let bad = tessera(&config, &["keys", "generate", "--alg", "HS256"]);
    assert!(!bad.status.success());
}

#[test]
fn config_check_names_every_problem_in_one_pass() {
    let dir = tempfile::TempDir::new().unwrap();
    let text = r#"
issuer = "not a url"
[[users]]
username = "alice"
password_hash = "plain-text-password"
claims = { sub = "someone-else", email = "alice@example.com" }
[[users]]
username = ""
"#;
    let config = write_raw_config(dir.path(), text);
    let output = tessera(&config, &["config", "check"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for expected in [
        "issuer: 'not a url' is not a URL",
        "users[0].password_hash: not a PHC string",
        "users[0].claims.sub: is set by Tessera and cannot be configured",
        "users[1].username: is required",
        "users[1].password_hash: is required",
    ] {
        assert!(stderr.contains(expected), "{expected} not in\n{stderr}");
    }
}

#[test]
fn a_staged_key_of_another_algorithm_stays_published_until_it_signs() {
    use tessera::jose::{generate_signing_key, SigningAlg};
    let dir = tempfile::TempDir::new().unwrap();
    let config = TestConfig::new().write_in(dir.path());
    let keys_dir = dir.path().join("keys");
    // ES256 signs, an EdDSA key is staged for a later switch, a newer ES256 key replaces the
    // first: all long ago, so the first ES256 key's tokens have all expired.
    let day = 86_400;
    let now = chrono::Utc::now().timestamp();
    let mut kids = Vec::new();
    for (alg, days_ago) in [
        (SigningAlg::ES256, 10),
        (SigningAlg::EdDSA, 9),
        (SigningAlg::ES256, 8),
    ] {
        let at = now - days_ago * day;
        let key = tessera::keys::write_new(&keys_dir, generate_signing_key(alg).unwrap(), at, at);
        kids.push(key.unwrap().kid);
    }
    let list = String::from_utf8(tessera(&config, &["keys", "list"]).stdout).unwrap();
    let staged = list.lines().find(|line| line.contains(&kids[1])).unwrap();
    assert!(
        staged.contains("published, not signing (other alg)"),
        "{list}"
    );

    let pruned = tessera(&config, &["keys", "prune"]);
    assert!(pruned.status.success());
    let pruned = String::from_utf8(pruned.stdout).unwrap();
    assert!(
        pruned.contains(&kids[0]),
        "the replaced ES256 key goes: {pruned}"
    );
    assert!(
        !pruned.contains(&kids[1]),
        "the staged EdDSA key stays: {pruned}"
    );
    let files = keys_dir_files(&keys_dir);
    assert!(
        files
            .iter()
            .any(|file| file.to_string_lossy().contains(&kids[1])),
        "{files:?}"
    );
}

#[tokio::test]
async fn serve_reloads_keys_on_sighup_without_dropping_a_request() {
    let dir = tempfile::TempDir::new().unwrap();
    let config = process_config(dir.path(), TestConfig::new());
    let server = ServerProcess::start(&config);
    let address = server.address.clone();
    let client = reqwest::Client::new();
    let token = |client: reqwest::Client, address: String| async move {
        let response = client
            .post(format!("{address}/oauth2/token"))
            .header("Authorization", basic_header("reports", REPORTS_SECRET))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body: serde_json::Value = response.json().await.unwrap();
        jsonwebtoken::decode_header(body["access_token"].as_str().unwrap())
            .unwrap()
            .kid
            .unwrap()
    };
    let old_kid = token(client.clone(), address.clone()).await;

    // Requests flow the whole time.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let served = Arc::new(AtomicUsize::new(0));
    let mut load = Vec::new();
    for _ in 0..4 {
        let (client, address, stop, served) = (
            client.clone(),
            address.clone(),
            stop.clone(),
            served.clone(),
        );
        load.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                token(client.clone(), address.clone()).await;
                served.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }

    let rotated = tessera(&config, &["keys", "rotate", "--activate-in", "0s"]);
    assert!(rotated.status.success());
    server.signal(libc::SIGHUP);
    let deadline = Instant::now() + Duration::from_secs(10);
    let new_kid = loop {
        let kid = token(client.clone(), address.clone()).await;
        if kid != old_kid {
            break kid;
        }
        assert!(Instant::now() < deadline, "the new key never signed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let jwks: serde_json::Value = client
        .get(format!("{address}/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(signing_kids(&jwks), [old_kid, new_kid]);

    stop.store(true, Ordering::Relaxed);
    for task in load {
        task.await.expect("no request failed during the reload");
    }
    assert!(served.load(Ordering::Relaxed) > 0);
    let status = server.stop();
    assert!(status.success(), "graceful stop: {status}");
}

#[tokio::test]
async fn user_password_hash_reads_standard_input_and_the_hash_signs_in() {
    let dir = tempfile::TempDir::new().unwrap();
    let config = TestConfig::new().write_in(dir.path());
    let hash = hash_from_stdin(
        &config,
        ["user", "password-hash"],
        "a long passphrase",
        "password_hash",
    );
    let hash = hash.as_str();
    let app = spawn(&TestConfig::new().user(UserConfig::new("carol").password_hash(hash))).await;
    assert_eq!(
        app.password_grant("carol", "a long passphrase", None)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn serve_says_what_is_on_when_it_starts() {
    let dir = tempfile::TempDir::new().unwrap();
    let config = process_config(
        dir.path(),
        TestConfig::new()
            .route(RouteConfig::new("/token", "token"))
            .route(RouteConfig::new("/token/revoke", "revoke")),
    );
    let server = ServerProcess::start(&config);
    let started = server.started.clone();
    let jwks: serde_json::Value = reqwest::get(server.url("/.well-known/jwks.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(started["issuer"], ISSUER);
    assert_eq!(started["revocation"], "memory (this process only)");
    server.assert_log_has_no_secret();
    assert_eq!(started["tls"], "off");
    assert_eq!(started["routes"], "/token /token/revoke");
    assert_eq!(started["clients"], standard_clients().len());
    assert_eq!(started["users"], 2);
    assert_eq!(started["providers"], 0);
    assert_eq!(started["signing_alg"], "ES256");
    assert_eq!(
        [started["signing_kid"].as_str().unwrap().to_owned()],
        signing_kids(&jwks).as_slice()
    );
    assert!(server.stop().success());
}

#[tokio::test]
async fn serve_reloads_the_whole_configuration_on_sighup_and_keeps_it_when_refused() {
    let dir = tempfile::TempDir::new().unwrap();
    let config = process_config(dir.path(), TestConfig::new());
    let server = ServerProcess::start(&config);
    let client = reqwest::Client::new();
    let route = server.url("/v2/token");
    let newcomer = || {
        post_form(
            &client,
            &route,
            Some(("newcomer", OTHER_SECRET)),
            &[("grant_type", "client_credentials")],
        )
    };
    assert_eq!(newcomer().await.status, 404, "no such route yet");

    let grown = TestConfig::new()
        .route(RouteConfig::new("/v2/token", "token"))
        .client(
            ClientConfig::new("newcomer")
                .secret(OTHER_SECRET)
                .scopes(&["n"])
                .audience(&["https://n.internal"]),
        );
    process_config(dir.path(), grown.clone());
    server.signal(libc::SIGHUP);
    let reloaded = server.wait_for_log("configuration and keys reloaded", Duration::from_secs(10));
    assert_eq!(reloaded["clients"], standard_clients().len() + 1);
    assert_eq!(reloaded["routes"], 1);
    let answer = newcomer().await;
    assert_eq!(answer.status, 200, "{}", answer.json);

    // A broken file: logged with its problem, counted, and the running configuration serves on.
    let mut broken = grown.clone();
    broken.routes[0].endpoint = "tokens".to_owned();
    process_config(dir.path(), broken);
    server.signal(libc::SIGHUP);
    let refused = server.wait_for_log("configuration not reloaded", Duration::from_secs(10));
    let error = refused["error"].as_str().unwrap();
    assert!(error.contains("routes[0].endpoint"), "{error}");
    assert_eq!(newcomer().await.status, 200);

    // A new listen address needs a restart: refused whole, and said so.
    let mut moved = grown;
    moved.listen = "127.0.0.1:1".to_owned();
    process_config(dir.path(), moved);
    server.signal(libc::SIGHUP);
    server.wait_for_log("restart to apply these changes", Duration::from_secs(10));
    assert_eq!(newcomer().await.status, 200);
    let metrics = reqwest::get(server.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for (result, count) in [("ok", 1.0), ("invalid", 1.0), ("restart_required", 1.0)] {
        let line = format!("tessera_config_reloads_total{{result=\"{result}\"}}");
        assert_eq!(metric(&metrics, &line), Some(count), "{result}\n{metrics}");
    }
    assert!(server.stop().success());
}
