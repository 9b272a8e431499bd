//! A stub HTTP server on a loopback ephemeral port, standing in for the parties Tessera calls or
//! sends browsers to: an identity provider's API, a client's JWKS endpoint, a client's redirect
//! URI. The test registers an answer per path, reads how often each path was asked for, and can
//! take the server down to see how Tessera lives through an outage.

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// What the stub knows of a request, for answers computed from it.
pub struct StubRequest {
    pub method: String,
    pub query: HashMap<String, String>,
}

/// An answer: status, content type, body.
#[derive(Clone)]
pub struct StubResponse {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

impl StubResponse {
    pub fn json(status: u16, body: &Value) -> StubResponse {
        StubResponse {
            status,
            content_type: "application/json".to_owned(),
            body: body.to_string().into_bytes(),
        }
    }

    pub fn html(body: &str) -> StubResponse {
        StubResponse {
            status: 200,
            content_type: "text/html".to_owned(),
            body: body.as_bytes().to_vec(),
        }
    }

    /// An empty answer with `status`.
    pub fn status(status: u16) -> StubResponse {
        StubResponse {
            status,
            content_type: "text/plain".to_owned(),
            body: Vec::new(),
        }
    }
}

type Responder = Arc<dyn Fn(&StubRequest) -> StubResponse + Send + Sync>;

#[derive(Default)]
struct Routes {
    by_path: HashMap<String, Responder>,
    hits: HashMap<String, usize>,
    /// Set while the stub is "down" but still listening: every request gets this answer.
    outage: Option<StubResponse>,
}

pub struct StubServer {
    port: u16,
    routes: Arc<Mutex<Routes>>,
    handle: actix_web::dev::ServerHandle,
}

impl StubServer {
    /// Starts a stub with no routes: every path answers 404 until one is registered.
    pub async fn start() -> StubServer {
        let routes = Arc::new(Mutex::new(Routes::default()));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let shared = web::Data::from(routes.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(shared.clone())
                .default_service(web::to(answer))
        })
        // One worker is plenty for a test's few requests; the test's own signals stay its own.
        .workers(1)
        // Every answer closes its connection: a connection Tessera's client kept in its pool
        // would otherwise outlive `stop` and still be answered, so a stopped stub would not
        // always be unreachable.
        .keep_alive(actix_web::http::KeepAlive::Disabled)
        .disable_signals()
        .shutdown_timeout(0)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        StubServer {
            port,
            routes,
            handle,
        }
    }

    /// The stub's URL for `path` ("" for its base URL).
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Answers requests for `path` (any method, any query) with `response`, in place of what
    /// was registered before.
    pub fn respond(&self, path: &str, response: StubResponse) {
        self.respond_with(path, move |_| response.clone());
    }

    /// Answers requests for `path` with what `responder` makes of each.
    pub fn respond_with(
        &self,
        path: &str,
        responder: impl Fn(&StubRequest) -> StubResponse + Send + Sync + 'static,
    ) {
        self.routes
            .lock()
            .unwrap()
            .by_path
            .insert(path.to_owned(), Arc::new(responder));
    }

    /// How many requests for `path` arrived, answered or not.
    pub fn hits(&self, path: &str) -> usize {
        self.routes
            .lock()
            .unwrap()
            .hits
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    /// From now on every request is answered with an empty `status` (a server in trouble that
    /// still accepts connections).
    pub fn fail_with(&self, status: u16) {
        self.routes.lock().unwrap().outage = Some(StubResponse::status(status));
    }

    /// Stops the server: its port refuses connections from now on.
    pub async fn stop(self) {
        self.handle.stop(false).await;
    }
}

impl Drop for StubServer {
    fn drop(&mut self) {
        // The stop command is sent at once; nothing needs to wait for it.
        drop(self.handle.stop(false));
    }
}

async fn answer(request: HttpRequest, routes: web::Data<Mutex<Routes>>) -> HttpResponse {
    let path = request.path();
    let responder = {
        let mut routes = routes.lock().unwrap();
        *routes.hits.entry(path.to_owned()).or_default() += 1;
        if let Some(outage) = &routes.outage {
            return respond(outage.clone());
        }
        routes.by_path.get(path).cloned()
    };
    let Some(responder) = responder else {
        return respond(StubResponse::status(404));
    };
    let stub_request = StubRequest {
        method: request.method().to_string(),
        query: url::form_urlencoded::parse(request.query_string().as_bytes())
            .into_owned()
            .collect(),
    };
    respond(responder(&stub_request))
}

fn respond(response: StubResponse) -> HttpResponse {
    HttpResponse::build(actix_web::http::StatusCode::from_u16(response.status).unwrap())
        .content_type(response.content_type)
        .body(response.body)
}
