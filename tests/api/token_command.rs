//! `tessera token`: decode, verify against a running issuer, and mint offline with the
//! configured keys. The binary itself is run; the server is the real one on an ephemeral port.

use crate::harness::*;
use jsonwebtoken::Algorithm;
use std::path::Path;
use std::process::{Output, Stdio};
use std::sync::Arc;

/// `tessera token ARGS --config CONFIG`, with `stdin` on standard input.
async fn token_command(config: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_tessera"))
        .arg("token")
        .args(args)
        .arg("--config")
        .arg(config)
        .env_remove("TESSERA_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).await.unwrap();
    }
    drop(input);
    child.wait_with_output().await.unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Revokes `token` (the reports client's) at `app`, then runs `tessera token verify` on it
/// (with `args`) until it answers that the token has been revoked, moving the clock a second
/// at a time: a list is rendered again at most once a second.
async fn revoke_and_see_it_refused(app: &TestApp, config: &Path, token: &str, args: &[&str]) {
    let revoked = app
        .revoke(("reports", REPORTS_SECRET), &[("token", token)])
        .await;
    assert_eq!(revoked.status, 200, "{}", revoked.json);
    let mut verify = vec!["verify"];
    verify.extend_from_slice(args);
    verify.push(token);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let output = token_command(config, &verify, None).await;
        if stdout(&output).trim() == "invalid: the token has been revoked" {
            assert_eq!(output.status.code(), Some(1));
            return;
        }
        assert!(std::time::Instant::now() < deadline, "{}", stdout(&output));
        app.clock.advance(std::time::Duration::from_secs(1));
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// A configuration file naming the test issuer, in its own folder.
fn config_file(dir: &Path) -> std::path::PathBuf {
    TestConfig::new().write_in(dir)
}

#[tokio::test]
async fn token_verify_checks_signature_type_audience_expiry_and_status_against_the_issuer() {
    // The issuer is where it listens, so its status lists are fetched from their own URIs.
    let port = free_port();
    let mut settings = TestConfig::new().issuer(&format!("http://127.0.0.1:{port}"));
    settings.listen = format!("127.0.0.1:{port}");
    let app = spawn(&settings).await;
    let dir = tempfile::TempDir::new().unwrap();
    let config = settings.write_in(dir.path());
    let token = app.token_claims_and_token().await;
    let verify = |args: Vec<String>, stdin: Option<String>| {
        let config = config.clone();
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            token_command(&config, &args, stdin.as_deref()).await
        }
    };
    let server = app.address.clone();

    let (uri, idx) = status_of(&token);
    let valid = verify(vec!["verify".into(), token.clone()], None).await;
    assert_eq!(valid.status.code(), Some(0), "{}", stdout(&valid));
    let text = stdout(&valid);
    for line in [
        "valid access token",
        &format!("  issuer     {}", app.issuer),
        "  client_id  reports",
        "  audience   https://reports.internal https://audit.internal billing-api",
        "  scope      reports:read",
        &format!("  status     valid (index {idx} of {uri})"),
    ] {
        assert!(text.contains(line), "{line:?} not in\n{text}");
    }

    // From standard input, for another audience the token names.
    let stdin = verify(
        vec![
            "verify".into(),
            "--server".into(),
            server.clone(),
            "--audience".into(),
            "billing-api".into(),
        ],
        Some(format!("{token}\n")),
    )
    .await;
    assert_eq!(stdin.status.code(), Some(0), "{}", stdout(&stdin));

    // The signature's first character changed: still canonical base64url (its last one carries
    // padding bits, which a strict decoder refuses before any signature check).
    let at = token.rfind('.').unwrap() + 1;
    let first = if token[at..].starts_with('A') {
        "B"
    } else {
        "A"
    };
    let tampered = format!("{}{first}{}", &token[..at], &token[at + 1..]);
    let refused = [
        (
            vec!["verify".into(), "--server".into(), server.clone(), tampered],
            "invalid: the token signature is not valid",
        ),
        (
            vec![
                "verify".into(),
                "--server".into(),
                server.clone(),
                "--audience".into(),
                "https://elsewhere.internal".into(),
                token.clone(),
            ],
            "invalid: the token is not meant for this audience",
        ),
        (
            // The issuer is not where the file says: its keys cannot be had.
            vec![
                "verify".into(),
                "--server".into(),
                "http://127.0.0.1:9".into(),
                token.clone(),
            ],
            "invalid: the signing keys are unavailable",
        ),
        (
            vec![
                "verify".into(),
                "--server".into(),
                server.clone(),
                "not.a.token".into(),
            ],
            "invalid: not a compact JWS or JWE",
        ),
    ];
    for (args, expected) in refused {
        let output = verify(args.clone(), None).await;
        assert_eq!(
            output.status.code(),
            Some(1),
            "{args:?}: {}",
            stdout(&output)
        );
        assert!(
            stdout(&output).starts_with(expected),
            "{args:?}: {}",
            stdout(&output)
        );
    }

    // Revoked: its status list bit says so.
    revoke_and_see_it_refused(&app, &config, &token, &[]).await;

    // An ID token is not an access token (typ JWT, not at+jwt).
    let answer = app
        .password_grant("alice", ALICE_PASSWORD, Some("openid reports:read"))
        .await;
    let id_token = answer.json["id_token"].as_str().unwrap().to_owned();
    let output = verify(
        vec!["verify".into(), "--server".into(), server.clone(), id_token],
        None,
    )
    .await;
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output).starts_with("invalid: the token type is not accepted"),
        "{}",
        stdout(&output)
    );
}

#[tokio::test]
async fn token_verify_refuses_an_expired_token() {
    // The issuer's clock is two hours behind: its 15-minute token expired long ago by the
    // verifying machine's clock.
    use tessera::clock::Clock;
    let start = tessera::clock::SystemClock.now() - 2 * 3600;
    let app = spawn_at(
        Arc::new(tempfile::TempDir::new().unwrap()),
        &TestConfig::new(),
        start,
    )
    .await;
    let token = app.reports_token(&[]).await.json["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let dir = tempfile::TempDir::new().unwrap();
    let output = token_command(
        &config_file(dir.path()),
        &["verify", "--server", &app.address, &token],
        None,
    )
    .await;
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout(&output).trim(), "invalid: the token has expired");
}

#[tokio::test]
async fn token_decode_shows_header_and_claims_without_checking() {
    let app = spawn_app().await;
    let token = app.token_claims_and_token().await;
    let dir = tempfile::TempDir::new().unwrap();
    let output = token_command(&config_file(dir.path()), &["decode"], Some(&token)).await;
    assert_eq!(output.status.code(), Some(0));
    let decoded: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(decoded["header"]["typ"], "at+jwt");
    assert_eq!(decoded["header"]["alg"], "ES256");
    assert_eq!(decoded["claims"]["client_id"], "reports");
    assert_eq!(decoded["claims"]["iss"], ISSUER);

    let garbage = token_command(&config_file(dir.path()), &["decode", "abc"], None).await;
    assert_eq!(garbage.status.code(), Some(2));
}

#[tokio::test]
async fn token_mint_signs_offline_with_the_configured_keys_and_the_issuer_rules() {
    let dir = Arc::new(tempfile::TempDir::new().unwrap());
    // The server makes the keys folder; the command signs with the same keys. The issuer is
    // where it listens, so the minted token's status list is fetched from the server.
    let port = free_port();
    let mut settings = TestConfig::new().issuer(&format!("http://127.0.0.1:{port}"));
    settings.listen = format!("127.0.0.1:{port}");
    let app = spawn_in(dir.clone(), &settings).await;
    let config = dir.path().join("tessera.toml");
    let minted = token_command(
        &config,
        &[
            "mint",
            "--client",
            "reports",
            "--scope",
            "reports:write",
            "--audience",
            "https://audit.internal",
        ],
        None,
    )
    .await;
    assert_eq!(
        minted.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&minted.stderr)
    );
    let token = stdout(&minted).trim().to_owned();
    let (header, claims) = app
        .verify(&token, Algorithm::ES256, "https://audit.internal")
        .await;
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    assert_eq!(claims["sub"], "reports");
    assert_eq!(claims["client_id"], "reports");
    assert_eq!(claims["scope"], "reports:write");
    assert_eq!(claims["aud"], "https://audit.internal");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        900
    );

    // With the memory backend its status entry is in a list no server has given out: the
    // running server serves that list with the bit unset, so the token reads as valid, and
    // revoking it there sets the bit.
    let verified = token_command(
        &config,
        &["verify", "--audience", "https://audit.internal", &token],
        None,
    )
    .await;
    let (uri, idx) = status_of(&token);
    assert_eq!(verified.status.code(), Some(0), "{}", stdout(&verified));
    assert!(
        stdout(&verified).contains(&format!("  status     valid (index {idx} of {uri})")),
        "{}",
        stdout(&verified)
    );
    revoke_and_see_it_refused(
        &app,
        &config,
        &token,
        &["--audience", "https://audit.internal"],
    )
    .await;

    // A user token carries the user's claims, and the running server takes it at userinfo.
    let user = token_command(
        &config,
        &[
            "mint",
            "--client",
            "mobile",
            "--user",
            "alice",
            "--scope",
            "openid email",
        ],
        None,
    )
    .await;
    assert_eq!(user.status.code(), Some(0));
    let token = stdout(&user).trim().to_owned();
    let (_, claims) = app
        .verify(&token, Algorithm::ES256, "https://reports.internal")
        .await;
    assert_eq!(claims["sub"], "alice");
    assert!(claims["auth_time"].is_i64());
    let userinfo = Answer::from(
        app.client
            .get(app.url("/oauth2/userinfo"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(userinfo.status, 200, "{}", userinfo.json);
    assert_eq!(userinfo.json["email"], "alice@example.com");

    // The token endpoint's rules hold.
    for (args, expected) in [
        (
            vec!["mint", "--client", "reports", "--scope", "nope"],
            "error: invalid_scope: the scopes nope are not allowed or invalid",
        ),
        (
            vec!["mint", "--client", "reports", "--audience", "https://x.internal"],
            "error: invalid_target: the resource https://x.internal is not allowed for the client reports",
        ),
        (
            vec!["mint", "--client", "ghost"],
            "error: invalid_client: no client ghost in the configuration",
        ),
        (
            vec!["mint", "--client", "mobile", "--user", "mallory"],
            "error: invalid_request: no user mallory in the configuration",
        ),
    ] {
        let output = token_command(&config, &args, None).await;
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert_eq!(
            String::from_utf8_lossy(&output.stderr).trim(),
            expected,
            "{args:?}"
        );
        assert!(output.stdout.is_empty());
    }
}

impl TestApp {
    /// A client_credentials access token of `reports`, checked to be one.
    async fn token_claims_and_token(&self) -> String {
        let answer = self.reports_token(&[]).await;
        self.token_claims(&answer, "https://reports.internal").await;
        answer.json["access_token"].as_str().unwrap().to_owned()
    }
}
