//! The application under test: started in-process on an ephemeral port with an injected clock,
//! reached over real HTTP; and the answers it gives, read whole.

use super::*;
use reqwest::header::HeaderMap;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tempfile::TempDir;
use tessera::clock::{Clock, ManualClock};
use tessera::settings::Settings;
use tessera::startup::Application;

pub struct TestApp {
    pub address: String,
    /// The `iss` of every token this app signs.
    pub issuer: String,
    /// The mutual-TLS listener's port, when the config has `[tls]`.
    pub tls_port: Option<u16>,
    pub client: reqwest::Client,
    pub clock: Arc<ManualClock>,
    pub state: actix_web::web::Data<tessera::state::AppState>,
    pub keys_dir: PathBuf,
    pub handle: actix_web::dev::ServerHandle,
    _dir: Arc<TempDir>,
}

/// An app on the standard configuration.
pub async fn spawn_app() -> TestApp {
    spawn(&TestConfig::new()).await
}

/// An app on `config`, in a folder of its own.
pub async fn spawn(config: &TestConfig) -> TestApp {
    spawn_in(Arc::new(TempDir::new().unwrap()), config).await
}

/// Starts the server on `config` written into `dir` (keys in `dir/keys`), where the test may
/// have put the files the config names.
pub async fn spawn_in(dir: Arc<TempDir>, config: &TestConfig) -> TestApp {
    spawn_at(dir, config, tessera::clock::SystemClock.now()).await
}

/// Like `spawn_in`, with the application's clock starting at `start` (Unix seconds).
pub async fn spawn_at(dir: Arc<TempDir>, config: &TestConfig, start: i64) -> TestApp {
    spawn_changed(dir, config, start, |_| {}).await
}

/// Like `spawn_at`, with the settings loaded from `config` then changed by `change`, as code
/// embedding the server could change them after they were checked.
pub async fn spawn_changed(
    dir: Arc<TempDir>,
    config: &TestConfig,
    start: i64,
    change: impl FnOnce(&mut Settings),
) -> TestApp {
    let path = config.write_in(dir.path());
    let mut settings = Settings::load_with_env(&path, Vec::new()).expect("test config is valid");
    change(&mut settings);
    let keys_dir = settings.keys_dir.clone();
    let issuer = settings.issuer.clone();
    let clock = Arc::new(ManualClock::new(start));
    let app = Application::build(settings, clock.clone()).expect("the app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let tls_port = app.tls_port();
    let state = app.state();
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        issuer,
        tls_port,
        // Redirects are answers under test, never followed. An idle connection is dropped
        // well before the server's 5-second keep-alive closes it, so that a request after a
        // slow step (a Python proof on a loaded machine) never races that close.
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(std::time::Duration::from_secs(2))
            .build()
            .unwrap(),
        clock,
        state,
        keys_dir,
        handle,
        _dir: dir,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// The application's clock (Unix seconds), which the test moves by hand.
    pub fn clock_now(&self) -> i64 {
        self.clock.now()
    }

    pub async fn get(&self, path: &str) -> Answer {
        Answer::from(self.client.get(self.url(path)).send().await.unwrap()).await
    }

    /// POST raw bytes to `path`, with a content type when given.
    pub async fn post_raw(
        &self,
        path: &str,
        content_type: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> Answer {
        let mut request = self.client.post(self.url(path)).body(body);
        if let Some(content_type) = content_type {
            request = request.header("Content-Type", content_type);
        }
        Answer::from(request.send().await.unwrap()).await
    }

    /// POST `body` as `application/json` to `path`.
    pub async fn post_json(&self, path: &str, body: &Value) -> Answer {
        Answer::from(
            self.client
                .post(self.url(path))
                .json(body)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// POST a form to `path`, with Basic credentials when given.
    pub async fn post_form(
        &self,
        path: &str,
        basic: Option<(&str, &str)>,
        form: &[(&str, &str)],
    ) -> Answer {
        post_form(&self.client, &self.url(path), basic, form).await
    }

    pub async fn metrics(&self) -> String {
        self.client
            .get(self.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }
}

/// A response, read whole.
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    /// The body as JSON, or as a JSON string when it is not JSON (HTML pages, JWTs).
    pub json: Value,
}

impl Answer {
    pub async fn from(response: reqwest::Response) -> Answer {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Answer {
            status,
            headers,
            json,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    /// The string member `field` of the JSON body; fails the test when there is none.
    pub fn str(&self, field: &str) -> &str {
        self.json[field]
            .as_str()
            .unwrap_or_else(|| panic!("no {field} in {}", self.json))
    }

    /// Asserts the answer of client-authentication throttling: 429 `invalid_client` with its
    /// description and a whole number of seconds in `Retry-After`, which it returns.
    pub fn assert_throttled(&self) -> u64 {
        self.assert_error(
            429,
            "invalid_client",
            "too many failed client authentications; retry later",
        );
        let retry = self.header("retry-after").expect("a Retry-After header");
        let retry: u64 = retry.parse().expect("Retry-After in whole seconds");
        assert!(retry >= 1, "Retry-After {retry}");
        retry
    }

    /// Asserts an RFC 6749 5.2 error: status, `error`, `error_description`, no-store.
    pub fn assert_error(&self, status: u16, error: &str, description: &str) {
        assert_eq!(self.status, status, "status of {}", self.json);
        assert_eq!(self.json["error"], error, "error of {}", self.json);
        assert_eq!(
            self.json["error_description"], description,
            "description of {}",
            self.json
        );
        assert_eq!(self.json.as_object().unwrap().len(), 2, "{}", self.json);
        assert_eq!(self.header("cache-control"), Some("no-store"));
        assert_eq!(self.header("pragma"), Some("no-cache"));
        assert!(self
            .header("content-type")
            .unwrap()
            .starts_with("application/json"));
    }
}

/// RFC 6749 2.3.1: id and secret form-urlencoded, then Basic.
pub fn basic_header(id: &str, secret: &str) -> String {
    use base64::Engine;
    let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let pair = format!("{}:{}", encode(id), encode(secret));
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

/// POSTs a form to `url` (of any server: a `TestApp`, a process, the TLS listener) with `client`,
/// with Basic credentials when given.
pub async fn post_form(
    client: &reqwest::Client,
    url: &str,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> Answer {
    let mut request = client.post(url).form(form);
    if let Some((id, secret)) = basic {
        request = request.header("Authorization", basic_header(id, secret));
    }
    Answer::from(request.send().await.unwrap()).await
}

/// The value of a metric line (`name{labels} value`) in a Prometheus text exposition.
pub fn metric(text: &str, name_and_labels: &str) -> Option<f64> {
    text.lines()
        .find(|line| {
            line.starts_with(name_and_labels) && line[name_and_labels.len()..].starts_with(' ')
        })
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}

pub fn keys_dir_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect()
}
