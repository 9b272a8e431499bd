//! The one HTTP client of the crate: discovery documents, JWK Sets and status list tokens.
//! rustls with the webpki roots (no system OpenSSL, no system certificate store), timeouts,
//! bounded response sizes, and https only, except plain http to a loopback address for tests
//! and local development.

use crate::error::Limit;
use crate::Error;
use std::time::Duration;
use url::{Host, Url};

/// How documents are fetched.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// The whole request, connection included.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Largest response body accepted, in bytes.
    pub max_document_len: usize,
}

impl Default for HttpConfig {
    /// 5 s per request, 2 s to connect, 256 KiB bodies.
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(2),
            max_document_len: 256 * 1024,
        }
    }
}

/// Whether `url` may be fetched: https, or http to a loopback address.
pub(crate) fn check_url(url: &Url) -> Result<(), String> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        "http" => Err(format!(
            "{url} is not https (plain http is only for loopback addresses)"
        )),
        scheme => Err(format!("the {scheme} scheme is not fetched")),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

pub(crate) fn parse_url(url: &str) -> Result<Url, String> {
    let parsed = Url::parse(url).map_err(|err| format!("'{url}' is not a URL: {err}"))?;
    check_url(&parsed)?;
    Ok(parsed)
}

/// A fetched document.
pub(crate) struct Fetched {
    pub body: Vec<u8>,
    /// `Cache-Control: max-age`, zero for `no-store`/`no-cache`.
    pub max_age: Option<Duration>,
}

/// Redirects a status list may take (the draft says clients SHOULD follow them); key sets and
/// discovery documents take none.
const MAX_STATUS_LIST_REDIRECTS: usize = 3;

#[derive(Clone)]
pub(crate) struct Fetcher {
    client: reqwest::Client,
    max_document_len: usize,
}

impl Fetcher {
    /// A fetcher that never follows redirects.
    pub fn new(config: &HttpConfig) -> Result<Self, Error> {
        Self::build(config, reqwest::redirect::Policy::none())
    }

    /// A fetcher that follows a few redirects, each to an address [`check_url`] allows.
    pub fn following_redirects(config: &HttpConfig) -> Result<Self, Error> {
        let policy = reqwest::redirect::Policy::custom(|attempt| {
            if attempt.previous().len() >= MAX_STATUS_LIST_REDIRECTS {
                attempt.error("too many redirects")
            } else if let Err(refused) = check_url(attempt.url()) {
                attempt.error(refused)
            } else {
                attempt.follow()
            }
        });
        Self::build(config, policy)
    }

    fn build(config: &HttpConfig, redirects: reqwest::redirect::Policy) -> Result<Self, Error> {
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .redirect(redirects)
            .user_agent(concat!("tessera-verifier/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| {
                Error::KeysUnavailable(format!("the HTTP client cannot start: {err}"))
            })?;
        Ok(Self {
            client,
            max_document_len: config.max_document_len,
        })
    }

    /// GETs `url` with `Accept: accept`. The body is read chunk by chunk and abandoned as soon
    /// as it passes the size limit, whatever `Content-Length` said.
    pub async fn get(&self, url: &Url, accept: &str) -> Result<Fetched, String> {
        check_url(url)?;
        let mut response = self
            .client
            .get(url.clone())
            .header(reqwest::header::ACCEPT, accept)
            .send()
            .await
            .map_err(|err| format!("{url} could not be fetched: {}", without_url(&err)))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("{url} answered {status}"));
        }
        if response
            .content_length()
            .is_some_and(|len| len > self.max_document_len as u64)
        {
            return Err(too_large(url));
        }
        let max_age = response
            .headers()
            .get_all(reqwest::header::CACHE_CONTROL)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .find_map(cache_max_age);
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|err| format!("{url} could not be read: {}", without_url(&err)))?
        {
            if body.len() + chunk.len() > self.max_document_len {
                return Err(too_large(url));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched { body, max_age })
    }
}

fn too_large(url: &Url) -> String {
    format!("{url}: {}", Error::TooLarge(Limit::Document))
}

/// reqwest errors repeat the URL; the callers already name it.
fn without_url(err: &reqwest::Error) -> String {
    let mut source: Option<&dyn std::error::Error> = Some(err);
    let mut innermost = err.to_string();
    while let Some(current) = source {
        innermost = current.to_string();
        source = current.source();
    }
    if err.is_timeout() {
        "timed out".to_owned()
    } else {
        innermost
    }
}

/// The freshness lifetime a `Cache-Control` value gives: `max-age=N`, or zero for `no-store`
/// and `no-cache`.
pub(crate) fn cache_max_age(value: &str) -> Option<Duration> {
    let mut max_age = None;
    for directive in value.split(',') {
        let directive = directive.trim();
        if directive.eq_ignore_ascii_case("no-store") || directive.eq_ignore_ascii_case("no-cache")
        {
            return Some(Duration::ZERO);
        }
        if let Some((name, seconds)) = directive.split_once('=') {
            if name.trim().eq_ignore_ascii_case("max-age") {
                max_age = seconds
                    .trim()
                    .trim_matches('"')
                    .parse::<u64>()
                    .ok()
                    .map(Duration::from_secs);
            }
        }
    }
    max_age
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_and_loopback_http_are_fetched() {
        assert!(parse_url("https://issuer.example/jwks").is_ok());
        assert!(parse_url("http://127.0.0.1:8080/jwks").is_ok());
        assert!(parse_url("http://[::1]:8080/jwks").is_ok());
        assert!(parse_url("http://localhost/jwks").is_ok());
        assert!(parse_url("http://issuer.example/jwks").is_err());
        assert!(parse_url("http://10.0.0.1/jwks").is_err());
        assert!(parse_url("file:///etc/passwd").is_err());
    }

    #[test]
    fn cache_control_gives_the_max_age() {
        assert_eq!(
            cache_max_age("public, max-age=600"),
            Some(Duration::from_secs(600))
        );
        assert_eq!(
            cache_max_age("Max-Age=\"30\""),
            Some(Duration::from_secs(30))
        );
        assert_eq!(cache_max_age("no-store"), Some(Duration::ZERO));
        assert_eq!(cache_max_age("public"), None);
        assert_eq!(cache_max_age("max-age=soon"), None);
    }
}
