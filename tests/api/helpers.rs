//! Test harness: the real server on an ephemeral port, a real HTTP client, an injected clock,
//! and a resource server's view of tokens (JWKS over HTTP, verified with jsonwebtoken's
//! RustCrypto backend, not the aws-lc-rs code that signed them).

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::header::HeaderMap;
use serde_json::Value;
use std::path::Path;
use std::sync::{Arc, LazyLock};
use tempfile::TempDir;
use tessera::clock::{Clock, ManualClock};
use tessera::oauth::credentials::hash_secret;
use tessera::settings::Settings;
use tessera::startup::Application;

pub const ISSUER: &str = "https://issuer.test";
pub const REPORTS_SECRET: &str = "reports-secret-0123456789";
/// A secret full of characters that RFC 6749 2.3.1 form-encoding changes.
pub const SPECIAL_ID: &str = "svc:one two";
pub const SPECIAL_SECRET: &str = "p@ss:w+rd%/&=é";
pub const OTHER_SECRET: &str = "other-secret-0123456789";
pub const ALICE_PASSWORD: &str = "correct horse battery staple";
pub const CALLBACK: &str = "http://127.0.0.1:9/callback";

/// argon2 is deliberately slow: hash each test secret once per test process.
static HASHES: LazyLock<[String; 4]> = LazyLock::new(|| {
    [
        hash_secret(REPORTS_SECRET),
        hash_secret(SPECIAL_SECRET),
        hash_secret(OTHER_SECRET),
        hash_secret(ALICE_PASSWORD),
    ]
});

/// The clients every test app registers.
pub fn clients_toml() -> String {
    let [reports, special, other, alice] = &*HASHES;
    format!(
        r#"
[[clients]]
client_id = "reports"
client_secret_hash = "{reports}"
token_endpoint_auth_methods = ["client_secret_basic", "client_secret_post"]
scopes = ["reports:read", "reports:write", "reports:admin"]
default_scopes = ["reports:read"]
audience = ["https://reports.internal", "https://audit.internal", "billing-api"]

[[clients]]
client_id = "{SPECIAL_ID}"
client_secret_hash = "{special}"
scopes = ["special"]
audience = ["https://special.internal"]
access_token_ttl = "2m"

[[clients]]
client_id = "post-only"
client_secret_hash = "{other}"
token_endpoint_auth_methods = ["client_secret_post"]
scopes = ["a"]
audience = ["https://a.internal"]

[[clients]]
client_id = "bare"
client_secret_hash = "{other}"
audience = ["https://bare.internal"]

[[clients]]
client_id = "resource-server"
client_secret_hash = "{other}"
grant_types = []
introspect = true
audience = ["https://reports.internal"]

[[clients]]
client_id = "webapp"
client_secret_hash = "{other}"
grant_types = ["authorization_code", "refresh_token"]
redirect_uris = ["{CALLBACK}", "http://127.0.0.1:9/other"]
scopes = ["openid", "profile", "email", "reports:read"]
default_scopes = ["openid"]
audience = ["https://reports.internal"]

[[clients]]
client_id = "mobile"
token_endpoint_auth_methods = ["none"]
grant_types = ["password", "refresh_token", "authorization_code"]
redirect_uris = ["{CALLBACK}"]
scopes = ["openid", "profile", "email", "reports:read", "reports:write"]
default_scopes = ["openid", "reports:read"]
audience = ["https://reports.internal"]

[[clients]]
client_id = "consenting"
client_secret_hash = "{other}"
grant_types = ["authorization_code"]
redirect_uris = ["{CALLBACK}"]
consent = true
allow_plain_pkce = true
scopes = ["openid"]
audience = ["https://reports.internal"]

[[users]]
username = "alice"
password_hash = "{alice}"
claims = {{ email = "alice@example.com", email_verified = true, name = "Alice Liddell", groups = ["staff"] }}

[[users]]
username = "bob"
password_hash = "{other}"

[[clients]]
client_id = "no-grants"
client_secret_hash = "{other}"
grant_types = []
scopes = ["a"]
audience = ["https://a.internal"]
"#
    )
}

pub struct TestApp {
    pub address: String,
    /// The mutual-TLS listener's port, when the config has `[tls]`.
    pub tls_port: Option<u16>,
    pub client: reqwest::Client,
    pub clock: Arc<ManualClock>,
    pub state: actix_web::web::Data<tessera::state::AppState>,
    pub keys_dir: std::path::PathBuf,
    pub handle: actix_web::dev::ServerHandle,
    _dir: Arc<TempDir>,
}

/// A test configuration: the common settings, the test clients, plus `extra` TOML (top-level
/// keys first) with `[tokens] signing_alg = alg`.
pub fn config_text(alg: &str, top: &str, sections: &str) -> String {
    format!(
        r#"
issuer = "{ISSUER}"
listen = "127.0.0.1:0"
keys_dir = "keys"
{top}
[tokens]
signing_alg = "{alg}"
access_token_ttl = "15m"

[log]
level = "warn"
{sections}
{clients}"#,
        clients = clients_toml()
    )
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with("ES256", "", "").await
}

pub async fn spawn_app_with(alg: &str, top: &str, sections: &str) -> TestApp {
    let dir = Arc::new(TempDir::new().unwrap());
    spawn_in(dir, &config_text(alg, top, sections)).await
}

/// Starts the server on `text` as a config file in `dir` (keys in `dir/keys`).
pub async fn spawn_in(dir: Arc<TempDir>, text: &str) -> TestApp {
    spawn_at(dir, text, tessera::clock::SystemClock.now()).await
}

/// Like `spawn_in`, with the application's clock starting at `start` (Unix seconds).
pub async fn spawn_at(dir: Arc<TempDir>, text: &str, start: i64) -> TestApp {
    let path = dir.path().join("tessera.toml");
    std::fs::write(&path, text).unwrap();
    let settings = Settings::load_with_env(&path, Vec::new()).expect("test config is valid");
    let keys_dir = settings.keys_dir.clone();
    let clock = Arc::new(ManualClock::new(start));
    let app = Application::build(settings, clock.clone()).expect("the app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let tls_port = app.tls_port();
    let state = app.state();
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        tls_port,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        clock,
        state,
        keys_dir,
        handle,
        _dir: dir,
    }
}

/// A response, read whole.
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
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

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// POST a form to the token endpoint with optional Basic credentials.
    pub async fn token_form(&self, basic: Option<(&str, &str)>, form: &[(&str, &str)]) -> Answer {
        let mut request = self.client.post(self.url("/oauth2/token")).form(form);
        if let Some((id, secret)) = basic {
            request = request.header("Authorization", basic_header(id, secret));
        }
        Answer::from(request.send().await.unwrap()).await
    }

    /// POST raw bytes with a content type to the token endpoint.
    pub async fn token_raw(
        &self,
        content_type: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> Answer {
        let mut request = self.client.post(self.url("/oauth2/token")).body(body);
        if let Some(content_type) = content_type {
            request = request.header("Content-Type", content_type);
        }
        Answer::from(request.send().await.unwrap()).await
    }

    pub async fn token_json(&self, body: &Value) -> Answer {
        Answer::from(
            self.client
                .post(self.url("/oauth2/token"))
                .json(body)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// A client_credentials token for `reports` with extra form parameters.
    pub async fn reports_token(&self, extra: &[(&str, &str)]) -> Answer {
        let mut form = vec![("grant_type", "client_credentials")];
        form.extend_from_slice(extra);
        self.token_form(Some(("reports", REPORTS_SECRET)), &form)
            .await
    }

    pub async fn get(&self, path: &str) -> Answer {
        Answer::from(self.client.get(self.url(path)).send().await.unwrap()).await
    }

    pub async fn jwks(&self) -> Value {
        let answer = self.get("/.well-known/jwks.json").await;
        assert_eq!(answer.status, 200);
        answer.json
    }

    /// Verifies `token` as a resource server would: the key named by its `kid` from the JWKS
    /// fetched over HTTP, the algorithm pinned to `alg`, issuer and audience checked.
    pub async fn verify(
        &self,
        token: &str,
        alg: Algorithm,
        audience: &str,
    ) -> (jsonwebtoken::Header, Value) {
        let header = jsonwebtoken::decode_header(token).unwrap();
        let kid = header.kid.clone().expect("a kid");
        let jwks = self.jwks().await;
        let jwk = find_key(&jwks, &kid).unwrap_or_else(|| panic!("kid {kid} not in the JWKS"));
        let jwk: Jwk = serde_json::from_value(jwk).unwrap();
        let key = DecodingKey::from_jwk(&jwk).unwrap();
        let mut validation = Validation::new(alg);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 0;
        let data = jsonwebtoken::decode::<Value>(token, &key, &validation)
            .unwrap_or_else(|err| panic!("the token does not verify: {err}"));
        (data.header, data.claims)
    }

    /// The claims of a successful token response's access token (ES256), verified as a resource
    /// server would; fails the test on any other answer.
    pub async fn token_claims(&self, answer: &Answer, audience: &str) -> Value {
        assert_eq!(answer.status, 200, "{}", answer.json);
        let token = answer.json["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no access_token in {}", answer.json));
        self.verify(token, Algorithm::ES256, audience).await.1
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

pub fn find_key(jwks: &Value, kid: &str) -> Option<Value> {
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|key| key["kid"] == kid)
        .cloned()
}

pub fn signing_kids(jwks: &Value) -> Vec<String> {
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|key| key["use"] == "sig")
        .map(|key| key["kid"].as_str().unwrap().to_owned())
        .collect()
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

/// The value of a metric line (`name{labels} value`) in a Prometheus text exposition.
pub fn metric(text: &str, name_and_labels: &str) -> Option<f64> {
    text.lines()
        .find(|line| {
            line.starts_with(name_and_labels) && line[name_and_labels.len()..].starts_with(' ')
        })
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}

pub fn keys_dir_files(dir: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect()
}

/// A `tessera serve` process, the address it logged, and its log.
pub struct ServerProcess {
    pub child: std::process::Child,
    pub address: String,
    /// The "listening" event: what the server says is on.
    pub started: Value,
    /// Every JSON log event after it, as it arrives.
    pub log: Arc<std::sync::Mutex<Vec<Value>>>,
}

impl ServerProcess {
    /// Starts the binary on `config` (which must log JSON at info) and waits for "listening".
    pub fn start(config: &Path) -> ServerProcess {
        Self::start_with_env(config, &[])
    }

    /// Like `start`, with `env` set for the server.
    pub fn start_with_env(config: &Path, env: &[(&str, &str)]) -> ServerProcess {
        use std::io::{BufRead, BufReader};
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tessera"))
            .args(["serve", "--config"])
            .arg(config)
            .env_remove("TESSERA_CONFIG")
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let started = loop {
            let line = lines
                .next()
                .expect("the server logs before exiting")
                .unwrap();
            assert!(!line.contains(REPORTS_SECRET) && !line.contains(OTHER_SECRET));
            let event: serde_json::Value = serde_json::from_str(&line).unwrap();
            if event["message"] == "listening" {
                break event;
            }
        };
        let address = started["address"].as_str().unwrap().to_owned();
        // Keep draining the log so the server never blocks on a full pipe.
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let kept = log.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                assert!(!line.contains(REPORTS_SECRET) && !line.contains(OTHER_SECRET));
                if let Ok(event) = serde_json::from_str(&line) {
                    kept.lock().unwrap().push(event);
                }
            }
        });
        ServerProcess {
            child,
            address,
            started,
            log,
        }
    }

    /// Waits up to 10 seconds for a log event whose message contains `text`, and returns it.
    pub fn wait_for_log(&self, text: &str) -> Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let found = self
                .log
                .lock()
                .unwrap()
                .iter()
                .find(|event| event["message"].as_str().is_some_and(|m| m.contains(text)))
                .cloned();
            if let Some(event) = found {
                return event;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no log event with {text:?}"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    pub fn signal(&self, signal: i32) {
        // SAFETY: kill(2) on a child process id we own.
        let rc = unsafe { libc::kill(self.child.id() as i32, signal) };
        assert_eq!(rc, 0);
    }

    /// SIGTERM, then the exit status.
    pub fn stop(mut self) -> std::process::ExitStatus {
        self.signal(libc::SIGTERM);
        self.child.wait().unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }
}

/// A config for `ServerProcess`: JSON logs at info, plus `sections`.
pub fn process_config(dir: &Path, sections: &str) -> std::path::PathBuf {
    let text = config_text("ES256", "", sections)
        .replace("level = \"warn\"", "level = \"info\"\nformat = \"json\"");
    let path = dir.join("tessera.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// POSTs a form with Basic credentials to `url`.
pub async fn post_form(
    client: &reqwest::Client,
    url: &str,
    basic: (&str, &str),
    form: &[(&str, &str)],
) -> Answer {
    Answer::from(
        client
            .post(url)
            .header("Authorization", basic_header(basic.0, basic.1))
            .form(form)
            .send()
            .await
            .unwrap(),
    )
    .await
}
