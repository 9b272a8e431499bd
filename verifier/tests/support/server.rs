//! A stub HTTP/1.1 server on 127.0.0.1 (ephemeral port): fixed answers per path, a count of
//! requests per path, the `Accept` header of the last request, and a switch that makes every
//! path answer 503 (the issuer is down).

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone)]
pub struct Route {
    pub status: u16,
    pub body: Vec<u8>,
    pub headers: Vec<(String, String)>,
}

#[derive(Default)]
struct State {
    routes: Mutex<HashMap<String, Route>>,
    hits: Mutex<HashMap<String, usize>>,
    accepts: Mutex<HashMap<String, String>>,
    down: AtomicBool,
    delay: Mutex<Duration>,
}

pub struct StubServer {
    pub addr: SocketAddr,
    state: Arc<State>,
    accept_loop: tokio::task::JoinHandle<()>,
}

impl Drop for StubServer {
    fn drop(&mut self) {
        self.accept_loop.abort();
    }
}

async fn answer(
    state: Arc<State>,
    request: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = request.uri().path().to_owned();
    *state.hits.lock().unwrap().entry(path.clone()).or_default() += 1;
    if let Some(accept) = request
        .headers()
        .get("accept")
        .and_then(|v| v.to_str().ok())
    {
        state
            .accepts
            .lock()
            .unwrap()
            .insert(path.clone(), accept.to_owned());
    }
    let delay = *state.delay.lock().unwrap();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let route = state.routes.lock().unwrap().get(&path).cloned();
    let mut response = match (state.down.load(Ordering::SeqCst), route) {
        (true, _) => Response::builder()
            .status(503)
            .body(Full::new(Bytes::new())),
        (false, None) => Response::builder()
            .status(404)
            .body(Full::new(Bytes::new())),
        (false, Some(route)) => {
            let mut builder = Response::builder().status(route.status);
            for (name, value) in &route.headers {
                builder = builder.header(name, value);
            }
            builder.body(Full::new(Bytes::from(route.body)))
        }
    }
    .unwrap();
    response
        .headers_mut()
        .insert("connection", "close".parse().unwrap());
    Ok(response)
}

impl StubServer {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State::default());
        let serving = state.clone();
        let accept_loop = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let state = serving.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request| answer(state.clone(), request));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self {
            addr,
            state,
            accept_loop,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn set(&self, path: &str, route: Route) {
        self.state
            .routes
            .lock()
            .unwrap()
            .insert(path.to_owned(), route);
    }

    /// Serves `body` as JSON, with `Cache-Control` when given.
    pub fn json(&self, path: &str, body: &Value, cache_control: Option<&str>) {
        let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
        if let Some(value) = cache_control {
            headers.push(("cache-control".to_owned(), value.to_owned()));
        }
        self.set(
            path,
            Route {
                status: 200,
                body: body.to_string().into_bytes(),
                headers,
            },
        );
    }

    /// Serves a status list token.
    pub fn status_list(&self, path: &str, token: &str) {
        self.set(
            path,
            Route {
                status: 200,
                body: token.as_bytes().to_vec(),
                headers: vec![(
                    "content-type".to_owned(),
                    "application/statuslist+jwt".to_owned(),
                )],
            },
        );
    }

    pub fn hits(&self, path: &str) -> usize {
        self.state
            .hits
            .lock()
            .unwrap()
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    pub fn last_accept(&self, path: &str) -> Option<String> {
        self.state.accepts.lock().unwrap().get(path).cloned()
    }

    /// While down, every request is answered 503.
    pub fn set_down(&self, down: bool) {
        self.state.down.store(down, Ordering::SeqCst);
    }

    /// Every answer waits this long first.
    pub fn set_delay(&self, delay: Duration) {
        *self.state.delay.lock().unwrap() = delay;
    }
}

/// Waits (real time, bounded) until `condition` holds; false if it never did.
pub async fn eventually(mut condition: impl FnMut() -> bool) -> bool {
    for _ in 0..200 {
        if condition() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    condition()
}
