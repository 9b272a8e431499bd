//! The keys folder, the JWKS and rotation without downtime.

use crate::harness::*;
use jsonwebtoken::jwk::ThumbprintHash;
use jsonwebtoken::Algorithm;
use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::time::Duration;
use tessera::jose::SigningAlg;

#[tokio::test]
async fn a_fresh_keys_folder_gets_development_keys_that_stay_private() {
    let app = spawn_app().await;
    let files = keys_dir_files(&app.keys_dir);
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(names.contains(&".gitignore".to_owned()), "{names:?}");
    let ignore = std::fs::read_to_string(app.keys_dir.join(".gitignore")).unwrap();
    assert!(ignore.lines().any(|line| line.trim() == "*"));
    let jwk_files: Vec<_> = files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "jwk"))
        .collect();
    assert_eq!(
        jwk_files.len(),
        3,
        "signing, encryption and secret keys: {names:?}"
    );
    for file in jwk_files {
        let mode = std::fs::metadata(file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", file.display());
    }
    let dir_mode = std::fs::metadata(&app.keys_dir)
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(dir_mode, 0o700);
}

#[tokio::test]
async fn the_jwks_publishes_public_signing_and_encryption_keys_only() {
    let app = spawn_app().await;
    let answer = app.get("/.well-known/jwks.json").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("cache-control"), Some("public, max-age=300"));
    let keys = answer.json["keys"].as_array().unwrap();
    assert_eq!(
        keys.len(),
        2,
        "one signing and one encryption key: {keys:?}"
    );
    for key in keys {
        for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
            assert!(key.get(private).is_none(), "{private} published in {key}");
        }
        // kid is the RFC 7638 thumbprint, as an independent implementation computes it.
        let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(key.clone()).unwrap();
        assert_eq!(key["kid"], jwk.thumbprint(ThumbprintHash::SHA256));
    }
    let uses: Vec<&str> = keys.iter().map(|k| k["use"].as_str().unwrap()).collect();
    assert_eq!(uses, ["sig", "enc"]);
    assert_eq!(keys[1]["alg"], "ECDH-ES+A256KW");
    // The symmetric key is never published.
    assert!(keys.iter().all(|k| k["kty"] != "oct"));
}

#[tokio::test]
async fn the_same_keys_folder_gives_the_same_keys_after_a_restart() {
    let dir = Arc::new(tempfile::TempDir::new().unwrap());
    let config = TestConfig::new();
    let first = spawn_in(dir.clone(), &config).await;
    let kids = signing_kids(&first.jwks().await);
    first.handle.stop(true).await;
    let second = spawn_in(dir, &config).await;
    assert_eq!(signing_kids(&second.jwks().await), kids);
    let token = second.reports_token(&[]).await.json["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    second.verify(&token, Algorithm::ES256, "billing-api").await;
}

#[tokio::test]
async fn rotation_publishes_ahead_then_signs_and_retires_the_old_key_after_its_tokens_expire() {
    let app = spawn_app().await;
    let before = app.reports_token(&[]).await.json["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let old_kid = jsonwebtoken::decode_header(&before).unwrap().kid.unwrap();

    // `tessera keys rotate`, then the reload SIGHUP triggers.
    let publish_ahead = app.state.settings().keys.publish_ahead;
    let new_key = tessera::keys::rotate(
        &app.keys_dir,
        SigningAlg::ES256,
        app.clock_now(),
        publish_ahead,
    )
    .unwrap();
    app.state.reload_keys().unwrap();

    // Published at once, not signing yet.
    let kids = signing_kids(&app.jwks().await);
    assert_eq!(kids, [old_kid.clone(), new_key.kid.clone()]);
    let during = app.reports_token(&[]).await.json["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        jsonwebtoken::decode_header(&during).unwrap().kid.unwrap(),
        old_kid
    );
    app.verify(&before, Algorithm::ES256, "billing-api").await;

    // After the publish-ahead delay the new key signs; the old one is still published.
    app.clock.advance(publish_ahead + Duration::from_secs(1));
    let after = app.reports_token(&[]).await.json["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        jsonwebtoken::decode_header(&after).unwrap().kid.unwrap(),
        new_key.kid
    );
    app.verify(&after, Algorithm::ES256, "billing-api").await;
    app.verify(&during, Algorithm::ES256, "billing-api").await;
    assert_eq!(
        signing_kids(&app.jwks().await),
        [old_kid.clone(), new_key.kid.clone()]
    );

    // Once every token the old key signed has expired, it is unpublished: the longest-lived are
    // status list tokens (1 h), plus 1 min of skew.
    app.clock.advance(Duration::from_secs(3600 + 60 - 2));
    assert_eq!(
        signing_kids(&app.jwks().await).len(),
        2,
        "one second before"
    );
    app.clock.advance(Duration::from_secs(2));
    assert_eq!(signing_kids(&app.jwks().await), [new_key.kid]);
    assert_eq!(app.get("/readyz").await.status, 200);
}

#[tokio::test]
async fn a_broken_key_file_does_not_replace_the_working_ring() {
    let app = spawn_app().await;
    std::fs::write(app.keys_dir.join("sig-broken.jwk"), "{not json").unwrap();
    let err = app.state.reload_keys().unwrap_err();
    assert!(err.to_string().contains("sig-broken.jwk"), "{err}");
    let answer = app.reports_token(&[]).await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    let metrics = app.metrics().await;
    assert_eq!(
        metric(&metrics, r#"tessera_key_reloads_total{result="error"}"#),
        Some(1.0)
    );
}

#[tokio::test]
async fn without_an_active_signing_key_the_issuer_is_not_ready() {
    let dir = Arc::new(tempfile::TempDir::new().unwrap());
    let keys = dir.path().join("keys");
    let now = chrono::Utc::now().timestamp();
    // Only a key that activates in an hour.
    tessera::keys::generate(
        &keys,
        tessera::keys::KeySpec::Signing(SigningAlg::ES256),
        now,
        now + 3600,
    )
    .unwrap();
    tessera::keys::generate(&keys, "ECDH-ES+A256KW".parse().unwrap(), now, now).unwrap();
    tessera::keys::generate(&keys, "dir".parse().unwrap(), now, now).unwrap();
    let app = spawn_in(dir, &TestConfig::new()).await;

    let ready = app.get("/readyz").await;
    assert_eq!(ready.status, 503);
    assert_eq!(ready.json["reason"], "no ES256 signing key is active");
    app.reports_token(&[]).await.assert_error(
        503,
        "temporarily_unavailable",
        "no signing key is active",
    );
    assert_eq!(
        signing_kids(&app.jwks().await).len(),
        1,
        "the pending key is published"
    );

    app.clock.advance(Duration::from_secs(3600));
    assert_eq!(app.get("/readyz").await.status, 200);
    assert_eq!(app.reports_token(&[]).await.status, 200);
}

#[test]
fn the_shipped_keys_folder_keeps_every_key_file_out_of_git() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("keys/README.md")).unwrap();
    assert!(readme.contains("tessera keys generate") && readme.contains("0600"));
    let ignored = |path: &str| {
        std::process::Command::new("git")
            .args(["check-ignore", "--quiet", "--no-index", path])
            .current_dir(root)
            .status()
            .unwrap()
            .success()
    };
    for key_file in [
        "keys/sig-abc.jwk",
        "keys/enc-abc.jwk",
        "keys/secret-abc.jwk",
        "keys/anything",
    ] {
        assert!(ignored(key_file), "{key_file} would be committed");
    }
    for shipped in ["keys/README.md", "keys/.gitignore"] {
        assert!(!ignored(shipped), "{shipped} must stay in git");
    }
}

#[tokio::test]
async fn a_checked_out_keys_folder_gets_development_keys_and_is_closed_to_others() {
    // As git checks out the shipped keys/: mode 0755, a README and a .gitignore, no key.
    let dir = Arc::new(tempfile::TempDir::new().unwrap());
    let keys = dir.path().join("keys");
    std::fs::create_dir(&keys).unwrap();
    std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(keys.join("README.md"), "# keys/\n").unwrap();
    std::fs::write(keys.join(".gitignore"), "*\n!.gitignore\n!README.md\n").unwrap();
    let app = spawn_in(dir, &TestConfig::new()).await;
    assert_eq!(signing_kids(&app.jwks().await).len(), 1);
    let mode = std::fs::metadata(&keys).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    assert_eq!(
        std::fs::read_to_string(keys.join(".gitignore")).unwrap(),
        "*\n!.gitignore\n!README.md\n",
        "the shipped .gitignore is kept"
    );
}
