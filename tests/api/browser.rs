//! The login page in a real headless browser (Debian's chromium and chromedriver, driven over
//! WebDriver): open the authorize URL, fill the form, submit, land on the client's redirect URI
//! with a code, exchange it, verify the ID token.

use crate::helpers::*;
use aws_lc_rs::digest;
use base64::Engine;
use fantoccini::{ClientBuilder, Locator};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const VERIFIER: &str = "browser-test-verifier-0123456789-abcdefghijklmnop";
const BROWSER_ISSUER: &str = "http://localhost";

struct Chromedriver(Child);

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_chromedriver() -> (Chromedriver, u16) {
    let binary = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .into_iter()
        .find(|path| Path::new(path).exists())
        .expect("chromedriver is not installed (.ci/run installs chromium and chromium-driver)");
    let port = free_port();
    let child = Command::new(binary)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let driver = Chromedriver(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    (driver, port)
}

/// The client's side of the redirect: a tiny HTTP server that answers every request with 200.
async fn callback_server() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buffer = [0u8; 4096];
                let _ = stream.read(&mut buffer).await;
                let body = "<html><body>signed in</body></html>";
                let _ = stream
                    .write_all(
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        )
                        .as_bytes(),
                    )
                    .await;
            });
        }
    });
    port
}

/// A WebDriver session on headless Chromium, with the driver process and the profile folder
/// that must outlive it.
async fn headless_browser() -> (Chromedriver, fantoccini::Client, tempfile::TempDir) {
    let (driver, port) = start_chromedriver();
    let profile = tempfile::TempDir::new().unwrap();
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage",
                format!("--user-data-dir={}", profile.path().display()),
            ],
        }),
    );
    let browser = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a WebDriver session");
    (driver, browser, profile)
}

/// An ID token of the browser app's issuer for `client`, verified with jsonwebtoken.
async fn verify_id_token(app: &TestApp, id_token: &str, client: &str) -> serde_json::Value {
    let header = jsonwebtoken::decode_header(id_token).unwrap();
    let jwk = find_key(&app.jwks().await, header.kid.as_deref().unwrap()).unwrap();
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(jwk).unwrap();
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_issuer(&[BROWSER_ISSUER]);
    validation.set_audience(&[client]);
    jsonwebtoken::decode::<serde_json::Value>(
        id_token,
        &DecodingKey::from_jwk(&jwk).unwrap(),
        &validation,
    )
    .expect("the ID token verifies")
    .claims
}

/// The test app at an `http` issuer, so the browser keeps its cookies on plain HTTP.
async fn browser_app(extra: &str) -> TestApp {
    let text = format!("{}{extra}", config_text("ES256", "", "")).replace(
        &format!("issuer = \"{ISSUER}\""),
        &format!("issuer = \"{BROWSER_ISSUER}\""),
    );
    spawn_in(Arc::new(tempfile::TempDir::new().unwrap()), &text).await
}

async fn type_into(browser: &fantoccini::Client, id: &str, text: &str) {
    browser
        .find(Locator::Id(id))
        .await
        .unwrap()
        .send_keys(text)
        .await
        .unwrap();
}

async fn click(browser: &fantoccini::Client, id: &str) {
    browser
        .find(Locator::Id(id))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// The page's title once it is `title` (pages load after a click).
async fn wait_for_title(browser: &fantoccini::Client, title: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let now = browser.title().await.unwrap();
        if now == title {
            return;
        }
        assert!(Instant::now() < deadline, "never got to {title}; at {now}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_person_connects_a_device_on_the_verification_page_in_a_real_browser() {
    let app = browser_app("").await;
    let started = app
        .device_authorization(&[("client_id", "tv"), ("scope", "openid profile")])
        .await;
    assert_eq!(started.status, 200, "{}", started.json);
    let user_code = started.json["user_code"].as_str().unwrap().to_owned();
    let complete =
        url::Url::parse(started.json["verification_uri_complete"].as_str().unwrap()).unwrap();
    assert_eq!(complete.origin().ascii_serialization(), BROWSER_ISSUER);

    let (_driver, browser, _profile) = headless_browser().await;
    // verification_uri_complete, at the test server's address: the code is filled in.
    browser
        .goto(&format!(
            "{}?{}",
            app.url("/oauth2/device"),
            complete.query().unwrap()
        ))
        .await
        .unwrap();
    assert_eq!(browser.title().await.unwrap(), "Connect a device");
    let field = browser.find(Locator::Id("user_code")).await.unwrap();
    assert_eq!(
        field.prop("value").await.unwrap().as_deref(),
        Some(user_code.as_str())
    );
    click(&browser, "continue").await;

    wait_for_title(&browser, "Sign in").await;
    type_into(&browser, "username", "alice").await;
    type_into(&browser, "password", ALICE_PASSWORD).await;
    click(&browser, "sign-in").await;

    // The consent page shows the code again, to compare with the device.
    wait_for_title(&browser, "Connect a device").await;
    let shown = browser.find(Locator::Id("user-code")).await.unwrap();
    assert_eq!(shown.text().await.unwrap(), user_code);
    click(&browser, "allow").await;
    wait_for_title(&browser, "Device connected").await;
    browser.close().await.unwrap();

    let tokens = app
        .poll("tv", started.json["device_code"].as_str().unwrap())
        .await;
    assert_eq!(tokens.status, 200, "{}", tokens.json);
    let id_token = tokens.json["id_token"].as_str().unwrap();
    let claims = verify_id_token(&app, id_token, "tv").await;
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["name"], "Alice Liddell");
    assert!(claims["sid"].is_string());
}

#[tokio::test]
async fn a_person_signs_in_through_the_login_page_in_a_real_browser() {
    let callback_port = callback_server().await;
    let callback = format!("http://127.0.0.1:{callback_port}/callback");
    let extra = format!(
        r#"
[[clients]]
client_id = "browser-app"
token_endpoint_auth_methods = ["none"]
grant_types = ["authorization_code"]
redirect_uris = ["{callback}"]
scopes = ["openid", "profile", "email"]
audience = ["https://reports.internal"]
"#
    );
    let text = format!("{}{extra}", config_text("ES256", "", "")).replace(
        &format!("issuer = \"{ISSUER}\""),
        &format!("issuer = \"{BROWSER_ISSUER}\""),
    );
    let app = spawn_in(Arc::new(tempfile::TempDir::new().unwrap()), &text).await;

    let (_driver, browser, _profile) = headless_browser().await;

    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(digest::digest(&digest::SHA256, VERIFIER.as_bytes()));
    let authorize = url::Url::parse_with_params(
        &app.url("/oauth2/authorize"),
        &[
            ("response_type", "code"),
            ("client_id", "browser-app"),
            ("redirect_uri", callback.as_str()),
            ("scope", "openid profile email"),
            ("state", "browser-state"),
            ("nonce", "browser-nonce"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ],
    )
    .unwrap();
    browser.goto(authorize.as_str()).await.unwrap();
    assert_eq!(browser.title().await.unwrap(), "Sign in");

    // A wrong password first: the page says so, honestly.
    browser
        .find(Locator::Id("username"))
        .await
        .unwrap()
        .send_keys("alice")
        .await
        .unwrap();
    browser
        .find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys("not the password")
        .await
        .unwrap();
    browser
        .find(Locator::Id("sign-in"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let error = browser
        .wait()
        .for_element(Locator::Css(".error"))
        .await
        .unwrap();
    assert_eq!(
        error.text().await.unwrap(),
        "The username or password is incorrect."
    );

    browser
        .find(Locator::Id("username"))
        .await
        .unwrap()
        .send_keys("alice")
        .await
        .unwrap();
    browser
        .find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(ALICE_PASSWORD)
        .await
        .unwrap();
    browser
        .find(Locator::Id("sign-in"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();

    let deadline = Instant::now() + Duration::from_secs(20);
    let landed = loop {
        let url = browser.current_url().await.unwrap();
        if url.as_str().starts_with(&callback) {
            break url;
        }
        assert!(Instant::now() < deadline, "never redirected; at {url}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    browser.close().await.unwrap();
    let query: std::collections::HashMap<String, String> =
        landed.query_pairs().into_owned().collect();
    assert_eq!(query["state"], "browser-state");
    assert_eq!(query["iss"], BROWSER_ISSUER);

    let tokens = app
        .token_form(
            None,
            &[
                ("grant_type", "authorization_code"),
                ("client_id", "browser-app"),
                ("code", query["code"].as_str()),
                ("redirect_uri", callback.as_str()),
                ("code_verifier", VERIFIER),
            ],
        )
        .await;
    assert_eq!(tokens.status, 200, "{}", tokens.json);
    let id_token = tokens.json["id_token"].as_str().unwrap();
    let claims = verify_id_token(&app, id_token, "browser-app").await;
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["nonce"], "browser-nonce");
    assert_eq!(claims["name"], "Alice Liddell");
}
