//! One request of a scenario, built once and sent over keep-alive HTTP/1.1 connections.

use super::server::Target;
use super::{Shape, TokenPool};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::Request;
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use std::time::Instant;

/// One request of a scenario, built once and cloned per send.
#[derive(Clone)]
pub struct Template {
    pub host: String,
    pub path: String,
    pub authorization: Option<String>,
    pub content_type: &'static str,
    pub body: Bytes,
    /// For revocations and refreshes: a fresh token in each body, after this prefix.
    pub pool: Option<Arc<TokenPool>>,
    pub pool_prefix: &'static str,
    /// Success is a pending device's 400 (`authorization_pending`, `slow_down`), not a 200.
    pub poll_answers: bool,
    /// A fresh DPoP proof in each request's `DPoP` header.
    pub proofs: Option<Arc<TokenPool>>,
}

impl Template {
    pub fn new(target: &Target, shape: Shape) -> Self {
        use base64::Engine;
        let form = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let basic = |id: &str| {
            Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!(
                    "{}:{}",
                    form(id),
                    form(&target.client_secret)
                ))
            ))
        };
        // A form POST to the token endpoint with nothing else; each shape says what it changes.
        let form_post = Template {
            host: target.host.clone(),
            path: target.path.clone(),
            authorization: None,
            content_type: "application/x-www-form-urlencoded",
            body: Bytes::new(),
            pool: None,
            pool_prefix: "",
            poll_answers: false,
            proofs: None,
        };
        // A fresh token of the pool in each body, after `prefix`.
        let pooled = |prefix: &'static str| Template {
            pool: target.pool.clone(),
            pool_prefix: prefix,
            ..form_post.clone()
        };
        let client_credentials = Bytes::from_static(b"grant_type=client_credentials");
        match shape {
            Shape::BasicForm => Template {
                authorization: basic(&target.client_id),
                body: client_credentials,
                ..form_post
            },
            Shape::PostJson => Template {
                content_type: "application/json",
                body: Bytes::from(
                    serde_json::json!({
                        "grant_type": "client_credentials",
                        "client_id": target.client_id,
                        "client_secret": target.client_secret,
                    })
                    .to_string(),
                ),
                ..form_post
            },
            Shape::DpopBasic => Template {
                proofs: target.pool.clone(),
                ..Template::new(target, Shape::BasicForm)
            },
            Shape::EncryptedAccess => Template {
                authorization: basic(&format!("{}-sealed", target.client_id)),
                body: client_credentials,
                ..form_post
            },
            Shape::Introspect => Template {
                path: "/oauth2/introspect".into(),
                authorization: basic(&format!("{}-rs", target.client_id)),
                body: Bytes::from(format!(
                    "token={}",
                    target.pool.as_ref().expect("a token pool").tokens[0]
                )),
                ..form_post
            },
            Shape::Revoke => Template {
                path: "/oauth2/revoke".into(),
                authorization: basic(&target.client_id),
                ..pooled("token=")
            },
            Shape::Refresh => {
                pooled("grant_type=refresh_token&client_id=bench-public&refresh_token=")
            }
            Shape::DevicePending | Shape::DeviceApproved => Template {
                poll_answers: matches!(shape, Shape::DevicePending),
                ..pooled("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&client_id=bench-public&device_code=")
            },
            Shape::PrivateKeyJwt | Shape::EncryptedAssertion => pooled("grant_type=client_credentials&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion="),
        }
    }

    pub fn request(&self) -> Request<Full<Bytes>> {
        let mut request = Request::post(self.path.as_str())
            .header(HOST, self.host.as_str())
            .header(CONTENT_TYPE, self.content_type);
        if let Some(authorization) = &self.authorization {
            request = request.header(AUTHORIZATION, authorization.as_str());
        }
        if let Some(proofs) = &self.proofs {
            request = request.header("DPoP", proofs.take());
        }
        let body = match &self.pool {
            Some(pool) => Bytes::from(format!("{}{}", self.pool_prefix, pool.take())),
            None => self.body.clone(),
        };
        request.body(Full::new(body)).unwrap()
    }
}

#[derive(Default)]
pub struct ConnectionResult {
    pub latencies_us: Vec<u32>,
    pub errors: u64,
}

pub type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

pub async fn connect(host: &str) -> Sender {
    let stream = tokio::net::TcpStream::connect(host).await.expect("connect");
    stream.set_nodelay(true).unwrap();
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("HTTP handshake");
    tokio::spawn(connection);
    sender
}

/// Sends one request; `true` when it got a 200 with a token.
pub async fn send(sender: &mut Sender, template: &Template) -> bool {
    if sender.ready().await.is_err() {
        return false;
    }
    match sender.send_request(template.request()).await {
        Ok(response) => {
            let status = response.status();
            let body = response.into_body().collect().await;
            let Ok(body) = body.map(|body| body.to_bytes()) else {
                return false;
            };
            if template.poll_answers {
                // A device that must go on polling: the answers it is for.
                return status == 400
                    && (body.starts_with(b"{\"error\":\"authorization_pending\"")
                        || body.starts_with(b"{\"error\":\"slow_down\""));
            }
            // A token, an active introspection, or the empty body of a revocation.
            status == 200
                && (body.is_empty()
                    || body.starts_with(b"{\"access_token\"")
                    || body.windows(13).any(|w| w == b"\"active\":true"))
        }
        Err(_) => false,
    }
}

pub async fn drive(mut sender: Sender, template: Template, until: Instant) -> ConnectionResult {
    let mut result = ConnectionResult {
        latencies_us: Vec::with_capacity(1 << 16),
        errors: 0,
    };
    while Instant::now() < until {
        let started = Instant::now();
        if send(&mut sender, &template).await {
            result
                .latencies_us
                .push(started.elapsed().as_micros().min(u32::MAX as u128) as u32);
        } else {
            result.errors += 1;
        }
    }
    result
}
