//! The `resource_server` example of tessera-verifier, built from the example's own module (not a
//! copy) and started on ephemeral ports against a `TestApp`, with a verifier clock of its own
//! that the tests move together with the issuer's.

#[path = "../../../verifier/examples/resource_server/api.rs"]
mod api;

use super::*;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tessera_verifier::ManualClock;

pub use api::REALM;

/// A test config whose issuer is the address the app will listen on, so that the URLs in its
/// tokens (status lists) and its discovery document reach it, as a resource server needs.
pub fn reachable(config: TestConfig) -> TestConfig {
    let port = free_port();
    let mut config = config.issuer(&format!("http://127.0.0.1:{port}"));
    config.listen = format!("127.0.0.1:{port}");
    config
}

/// The example API, running.
pub struct ExampleApi {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    /// `https://localhost:PORT`, when started with `API_TLS_*`.
    pub https_url: Option<String>,
    /// The verifier's clock: keys, status lists and token times all read it.
    pub clock: Arc<ManualClock>,
    client: reqwest::Client,
}

impl ExampleApi {
    /// Starts the API for `issuer`'s tokens with `vars` over its `API_*` defaults (the listener
    /// on an ephemeral port), its clock set to the issuer's.
    pub async fn start(issuer: &TestApp, vars: &[(&str, &str)]) -> ExampleApi {
        let mut env: HashMap<&str, &str> = HashMap::from([
            ("API_ISSUER", issuer.issuer.as_str()),
            ("API_LISTEN", "127.0.0.1:0"),
        ]);
        env.extend(vars.iter().copied());
        let config = api::ApiConfig::from_vars(|name| env.get(name).map(|&v| v.to_owned()))
            .expect("the example's configuration is valid");
        let clock = Arc::new(ManualClock::new(issuer.clock_now()));
        let verifier = api::verifier(&config, clock.clone())
            .await
            .expect("the example loads the issuer's keys");
        let running = api::serve(&config, verifier).expect("the example binds");
        tokio::spawn(running.server);
        ExampleApi {
            url: format!("http://{}", running.http),
            https_url: running
                .https
                .map(|address| format!("https://localhost:{}", address.port())),
            clock,
            // Idle connections are dropped well before actix's 5-second keep-alive closes them,
            // so a test that pauses (signing proofs in Python) never sends on a closing one.
            client: reqwest::Client::builder()
                .pool_idle_timeout(Duration::from_secs(2))
                .build()
                .unwrap(),
        }
    }

    /// Moves the issuer's clock and the API's together.
    pub fn advance(&self, issuer: &TestApp, by: Duration) {
        issuer.clock.advance(by);
        self.clock.advance(by);
    }

    /// `GET path` over plain HTTP, with `token` as the bearer when given.
    pub async fn get(&self, path: &str, token: Option<&str>) -> Answer {
        self.send(self.client.get(format!("{}{path}", self.url)), token)
            .await
    }

    /// `POST path` with a JSON body over plain HTTP.
    pub async fn post(&self, path: &str, token: &str, body: &serde_json::Value) -> Answer {
        self.send(
            self.client.post(format!("{}{path}", self.url)).json(body),
            Some(token),
        )
        .await
    }

    /// `GET path` over HTTPS with `client` (which presents its certificate, or none).
    pub async fn get_tls(&self, client: &reqwest::Client, path: &str, token: &str) -> Answer {
        let base = self.https_url.as_ref().expect("started with API_TLS_*");
        self.send(client.get(format!("{base}{path}")), Some(token))
            .await
    }

    /// `GET path` over plain HTTP with `Authorization: <scheme> <token>` and, when given, a
    /// `DPoP` proof.
    pub async fn get_with(
        &self,
        path: &str,
        scheme: &str,
        token: &str,
        proof: Option<&str>,
    ) -> Answer {
        let mut request = self
            .client
            .get(format!("{}{path}", self.url))
            .header("Authorization", format!("{scheme} {token}"));
        if let Some(proof) = proof {
            request = request.header("DPoP", proof);
        }
        Answer::from(request.send().await.unwrap()).await
    }

    async fn send(&self, request: reqwest::RequestBuilder, token: Option<&str>) -> Answer {
        let request = match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        Answer::from(request.send().await.unwrap()).await
    }
}

impl Answer {
    /// Asserts an RFC 6750 3.1 refusal: status, the JSON body, the `WWW-Authenticate` challenge
    /// that repeats the error (and `scope` when given), `Cache-Control: no-store`.
    pub fn assert_bearer_error(
        &self,
        status: u16,
        error: &str,
        description: &str,
        scope: Option<&str>,
    ) {
        assert_eq!(self.status, status, "status of {}", self.json);
        assert_eq!(
            self.json,
            serde_json::json!({"error": error, "error_description": description})
        );
        let mut challenge = format!(
            "Bearer realm=\"{REALM}\", error=\"{error}\", error_description=\"{description}\""
        );
        if let Some(scope) = scope {
            challenge.push_str(&format!(", scope=\"{scope}\""));
        }
        assert_eq!(self.header("www-authenticate"), Some(challenge.as_str()));
        assert_eq!(self.header("cache-control"), Some("no-store"));
    }

    /// Asserts the 401 `invalid_token` refusal of a token, with `description`.
    pub fn assert_invalid_token(&self, description: &str) {
        self.assert_bearer_error(401, "invalid_token", description, None);
    }
}
