//! A browser's part of the authorization code flow, done by hand so the test sees every header:
//! the authorize request, the login and consent forms, a cookie jar, PKCE.

use super::*;
use aws_lc_rs::digest;
use base64::Engine;
use reqwest::header::{COOKIE, SET_COOKIE};
use std::collections::HashMap;

/// A PKCE code verifier (RFC 7636 4.1: 43 to 128 characters).
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-and-some-more";

/// The S256 code challenge of `verifier`, computed here independently.
pub fn challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(digest::digest(&digest::SHA256, verifier.as_bytes()))
}

/// A browser's cookie jar, kept by hand so the test sees every header.
#[derive(Default, Clone)]
pub struct Jar(pub HashMap<String, String>);

impl Jar {
    /// Sends `request` with the jar's cookies and keeps the cookies the answer sets.
    pub async fn send(&mut self, request: reqwest::RequestBuilder) -> Answer {
        let answer =
            Answer::from(request.header(COOKIE, self.header()).send().await.unwrap()).await;
        for value in answer.headers.get_all(SET_COOKIE) {
            let pair = value.to_str().unwrap().split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            self.0.insert(name.to_owned(), value.to_owned());
        }
        answer
    }

    pub fn header(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// The value of the hidden form field `name` in `html`.
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} field in {html}"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

pub fn query_of(location: &str) -> HashMap<String, String> {
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

/// An authorization request of the public client `mobile` with PKCE S256, plus `extra`.
pub fn mobile_query<'a>(
    challenge: &'a str,
    extra: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut query = vec![
        ("response_type", "code"),
        ("client_id", "mobile"),
        ("redirect_uri", CALLBACK),
        ("scope", "openid email"),
        ("state", "xyz-123"),
        ("nonce", "n-0S6_WzA2Mj"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ];
    query.extend_from_slice(extra);
    query
}

impl TestApp {
    pub async fn authorize(&self, jar: &mut Jar, query: &[(&str, &str)]) -> Answer {
        let url = url::Url::parse_with_params(&self.url("/oauth2/authorize"), query).unwrap();
        jar.send(self.client.get(url)).await
    }

    /// Posts a login or consent form with the cookies of `jar`.
    pub async fn submit(&self, jar: &mut Jar, form: &[(&str, &str)]) -> Answer {
        jar.send(self.client.post(self.url("/oauth2/authorize")).form(form))
            .await
    }

    /// Signs in on the page `page` and returns the answer to the form.
    pub async fn sign_in(
        &self,
        jar: &mut Jar,
        page: &Answer,
        username: &str,
        password: &str,
    ) -> Answer {
        let html = page.json.as_str().unwrap();
        let (request, csrf) = (hidden(html, "request"), hidden(html, "csrf"));
        self.submit(
            jar,
            &[
                ("request", &request),
                ("csrf", &csrf),
                ("action", "login"),
                ("username", username),
                ("password", password),
            ],
        )
        .await
    }

    /// Signs alice in on a fresh authorization request of `mobile` (`mobile_query` with the
    /// challenge of `VERIFIER`); returns the code sent to `CALLBACK`.
    pub async fn mobile_code(&self) -> String {
        let mut jar = Jar::default();
        let challenge = challenge(VERIFIER);
        let page = self
            .authorize(&mut jar, &mobile_query(&challenge, &[]))
            .await;
        let signed_in = self.sign_in(&mut jar, &page, "alice", ALICE_PASSWORD).await;
        let location = signed_in
            .header("location")
            .unwrap_or_else(|| panic!("no redirect: {}", signed_in.json));
        query_of(location)["code"].clone()
    }

    /// Answers the consent page `html` with `action` ("allow" or "deny").
    pub async fn decide(&self, jar: &mut Jar, html: &str, action: &str) -> Answer {
        let (request, csrf) = (hidden(html, "request"), hidden(html, "csrf"));
        self.submit(
            jar,
            &[("request", &request), ("csrf", &csrf), ("action", action)],
        )
        .await
    }
}
