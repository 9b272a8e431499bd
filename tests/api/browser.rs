//! The login page in a real headless browser (Debian's chromium and chromedriver, driven over
//! WebDriver): open the authorize URL, fill the form, submit, land on the client's redirect URI
//! with a code, exchange it, verify the ID token.

use crate::harness::*;
use fantoccini::{ClientBuilder, Locator};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BROWSER_ISSUER: &str = "http://localhost";

struct Chromedriver(Child);

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
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
    let app = spawn(&TestConfig::new().issuer(BROWSER_ISSUER)).await;
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
    let claims = app.verify_id_token(tokens.str("id_token"), "tv").await;
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["name"], "Alice Liddell");
    assert!(claims["sid"].is_string());
}

#[tokio::test]
async fn a_person_signs_in_through_the_login_page_in_a_real_browser() {
    // The client's side of the redirect.
    let client = StubServer::start().await;
    client.respond(
        "/callback",
        StubResponse::html("<html><body>signed in</body></html>"),
    );
    let callback = client.url("/callback");
    let config = TestConfig::new().issuer(BROWSER_ISSUER).client(
        ClientConfig::new("browser-app")
            .token_endpoint_auth_methods(&["none"])
            .grant_types(&["authorization_code"])
            .redirect_uris(&[&callback])
            .scopes(&["openid", "profile", "email"])
            .audience(&["https://reports.internal"]),
    );
    let app = spawn(&config).await;

    let (_driver, browser, _profile) = headless_browser().await;

    let challenge = challenge(VERIFIER);
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
    assert_eq!(
        client.hits("/callback"),
        1,
        "the browser landed on the client"
    );
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
    let claims = app
        .verify_id_token(tokens.str("id_token"), "browser-app")
        .await;
    assert_eq!(app.issuer, BROWSER_ISSUER);
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["nonce"], "browser-nonce");
    assert_eq!(claims["name"], "Alice Liddell");
}
