//! Logout over HTTP: RP-initiated logout (the end-session endpoint with and without an ID token
//! hint, the confirmation page, every refusal), and back-channel logout to loopback receivers
//! that verify the logout token with jsonwebtoken (RustCrypto), not the code that signed it.

use crate::harness::*;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::header::SET_COOKIE;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, Notify};

const SIGNED_OUT: &str = "http://127.0.0.1:9/signed-out";
const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// How a loopback back-channel receiver answers.
#[derive(Clone, Copy)]
enum Receiver {
    Ok,
    NoContent,
    /// Reads the request and answers nothing until released.
    Hangs,
}

/// A client's back-channel logout endpoint on loopback: each request's path and form body go
/// to the channel.
async fn receiver(
    kind: Receiver,
    release: Arc<Notify>,
) -> (u16, mpsc::UnboundedReceiver<(String, String)>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (sender, received) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let sender = sender.clone();
            let release = release.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0u8; 4096];
                // Headers, then as much body as Content-Length says.
                let (head, length) = loop {
                    let read = stream.read(&mut buffer).await.unwrap_or(0);
                    if read == 0 {
                        return;
                    }
                    request.extend_from_slice(&buffer[..read]);
                    if let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&request[..end]).to_string();
                        let length = head
                            .lines()
                            .find_map(|line| {
                                let (name, value) = line.split_once(':')?;
                                name.eq_ignore_ascii_case("content-length")
                                    .then(|| value.trim().parse::<usize>().ok())?
                            })
                            .unwrap_or(0);
                        request.drain(..end + 4);
                        break (head, length);
                    }
                };
                while request.len() < length {
                    let read = stream.read(&mut buffer).await.unwrap_or(0);
                    if read == 0 {
                        return;
                    }
                    request.extend_from_slice(&buffer[..read]);
                }
                let path = head.split(' ').nth(1).unwrap_or_default().to_owned();
                let _ = sender.send((path, String::from_utf8_lossy(&request).to_string()));
                let status = match kind {
                    Receiver::Ok => "200 OK",
                    Receiver::NoContent => "204 No Content",
                    Receiver::Hangs => {
                        release.notified().await;
                        "200 OK"
                    }
                };
                let _ = stream
                    .write_all(
                        format!(
                            "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        )
                        .as_bytes(),
                    )
                    .await;
            });
        }
    });
    (port, received)
}

/// A public code-flow client signing in with alice's session, with back-channel logout at
/// `backchannel` when given.
fn logout_client(id: &str, backchannel: Option<String>) -> ClientConfig {
    let client = ClientConfig::new(id)
        .token_endpoint_auth_methods(&["none"])
        .grant_types(&["authorization_code", "refresh_token"])
        .redirect_uris(&[CALLBACK])
        .post_logout_redirect_uris(&[SIGNED_OUT])
        .scopes(&["openid", "profile"])
        .default_scopes(&["openid"])
        .audience(&["https://reports.internal"]);
    match backchannel {
        Some(uri) => client.backchannel_logout(&uri),
        None => client,
    }
}

impl TestApp {
    /// Signs `client_id` in with the browser of `jar` (alice signs in if it has no session);
    /// the token response.
    async fn code_flow(&self, jar: &mut Jar, client_id: &str) -> Answer {
        let challenge = challenge(VERIFIER);
        let query = [
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", CALLBACK),
            ("scope", "openid profile"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ];
        let mut answer = self.authorize(jar, &query).await;
        if answer.status == 200 {
            answer = self.sign_in(jar, &answer, "alice", ALICE_PASSWORD).await;
        }
        let location = answer.header("location").expect("a redirect with a code");
        let code = query_of(location)["code"].clone();
        let tokens = self
            .token_form(
                None,
                &[
                    ("grant_type", "authorization_code"),
                    ("client_id", client_id),
                    ("code", &code),
                    ("redirect_uri", CALLBACK),
                    ("code_verifier", VERIFIER),
                ],
            )
            .await;
        assert_eq!(tokens.status, 200, "{}", tokens.json);
        tokens
    }

    /// A `prompt=none` authorization for `client_id`: a code, or `login_required`.
    async fn silent(&self, jar: &mut Jar, client_id: &str) -> String {
        let challenge = challenge(VERIFIER);
        let answer = self
            .authorize(
                jar,
                &[
                    ("response_type", "code"),
                    ("client_id", client_id),
                    ("redirect_uri", CALLBACK),
                    ("scope", "openid"),
                    ("code_challenge", challenge.as_str()),
                    ("code_challenge_method", "S256"),
                    ("prompt", "none"),
                ],
            )
            .await;
        let query = query_of(answer.header("location").unwrap());
        query.get("error").cloned().unwrap_or_else(|| {
            if query.contains_key("code") {
                "code".into()
            } else {
                "?".into()
            }
        })
    }

    async fn logout(&self, jar: &mut Jar, query: &[(&str, &str)]) -> Answer {
        let url = url::Url::parse_with_params(&self.url("/oauth2/logout"), query).unwrap();
        jar.send(self.client.get(url)).await
    }

    async fn logout_form(&self, jar: &mut Jar, form: &[(&str, &str)]) -> Answer {
        jar.send(self.client.post(self.url("/oauth2/logout")).form(form))
            .await
    }

    /// Answers the confirmation form on `page` with `action`.
    async fn confirm(&self, jar: &mut Jar, page: &Answer, action: &str) -> Answer {
        let html = page.json.as_str().unwrap();
        let (request, csrf) = (hidden(html, "request"), hidden(html, "csrf"));
        self.logout_form(
            jar,
            &[("request", &request), ("csrf", &csrf), ("action", action)],
        )
        .await
    }

    /// Verifies a logout token for `client_id` as the client would, with jsonwebtoken.
    async fn verify_logout_token(&self, token: &str, client_id: &str) -> Value {
        let header = jsonwebtoken::decode_header(token).unwrap();
        assert_eq!(header.typ.as_deref(), Some("logout+jwt"));
        let jwk = find_key(&self.jwks().await, header.kid.as_deref().unwrap()).unwrap();
        let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(jwk).unwrap();
        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[client_id]);
        validation.set_required_spec_claims(&["iss", "aud", "iat", "exp"]);
        jsonwebtoken::decode::<Value>(token, &DecodingKey::from_jwk(&jwk).unwrap(), &validation)
            .expect("the logout token verifies")
            .claims
    }
}

fn session_cleared(answer: &Answer) -> bool {
    answer
        .headers
        .get_all(SET_COOKIE)
        .iter()
        .map(|value| value.to_str().unwrap())
        .any(|value| value.starts_with("tessera_session=;") && value.contains("Max-Age=0"))
}

fn page(answer: &Answer) -> &str {
    answer
        .json
        .as_str()
        .unwrap_or_else(|| panic!("not a page: {}", answer.json))
}

#[tokio::test]
async fn logging_out_with_the_sessions_id_token_ends_it_for_every_client_it_signed_into() {
    let release = Arc::new(Notify::new());
    let (ok_port, mut ok_received) = receiver(Receiver::Ok, release.clone()).await;
    let (no_content_port, mut no_content_received) =
        receiver(Receiver::NoContent, release.clone()).await;
    let (hung_port, mut hung_received) = receiver(Receiver::Hangs, release.clone()).await;
    // A client whose receiver is down: nothing listens there.
    let down_port = free_port();
    let config = TestConfig::new()
        .raw("logout.backchannel_timeout", "30s")
        .client(logout_client(
            "portal",
            Some(format!("http://127.0.0.1:{ok_port}/backchannel?rp=portal")),
        ))
        .client(logout_client(
            "wiki",
            Some(format!("http://127.0.0.1:{no_content_port}/logout")),
        ))
        .client(logout_client(
            "hung",
            Some(format!("http://127.0.0.1:{hung_port}/logout")),
        ))
        .client(logout_client(
            "down",
            Some(format!("http://127.0.0.1:{down_port}/logout")),
        ))
        .client(logout_client("quiet", None));
    let app = spawn(&config).await;
    let mut jar = Jar::default();
    let portal = app.code_flow(&mut jar, "portal").await;
    let wiki = app.code_flow(&mut jar, "wiki").await;
    for client in ["hung", "down", "quiet"] {
        app.code_flow(&mut jar, client).await;
    }
    let portal_id = app
        .verify_id_token(portal.json["id_token"].as_str().unwrap(), "portal")
        .await;
    let wiki_id = app
        .verify_id_token(wiki.json["id_token"].as_str().unwrap(), "wiki")
        .await;
    let sid = portal_id["sid"]
        .as_str()
        .expect("ID tokens carry sid")
        .to_owned();
    assert_eq!(wiki_id["sid"], sid.as_str(), "one session, one sid");
    let mut copy = jar.clone();

    // A receiver that never answers does not hold the logout up.
    let answer = tokio::time::timeout(
        Duration::from_secs(10),
        app.logout(
            &mut jar,
            &[
                ("id_token_hint", portal.json["id_token"].as_str().unwrap()),
                ("post_logout_redirect_uri", SIGNED_OUT),
                ("state", "bye now"),
            ],
        ),
    )
    .await
    .expect("the logout answers without waiting for the clients");
    assert_eq!(answer.status, 302);
    assert_eq!(
        answer.header("location"),
        Some("http://127.0.0.1:9/signed-out?state=bye+now")
    );
    assert!(session_cleared(&answer), "{:?}", answer.headers);

    for (received, client, path) in [
        (&mut ok_received, "portal", "/backchannel?rp=portal"),
        (&mut no_content_received, "wiki", "/logout"),
        (&mut hung_received, "hung", "/logout"),
    ] {
        let (got_path, body) = tokio::time::timeout(Duration::from_secs(10), received.recv())
            .await
            .unwrap_or_else(|_| panic!("{client} got no logout token"))
            .unwrap();
        assert_eq!(got_path, path);
        let form: std::collections::HashMap<String, String> =
            url::form_urlencoded::parse(body.as_bytes())
                .into_owned()
                .collect();
        let claims = app.verify_logout_token(&form["logout_token"], client).await;
        assert_eq!(claims["sub"], "alice");
        assert_eq!(claims["sid"], sid.as_str());
        assert_eq!(claims["events"], serde_json::json!({ EVENT: {} }));
        assert!(claims.get("nonce").is_none());
        assert!(claims["jti"].is_string());
        assert_eq!(
            claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
            120
        );
    }
    release.notify_waiters();

    // The session is over, for this browser and for any copy of its cookie.
    assert_eq!(app.silent(&mut jar, "portal").await, "login_required");
    assert_eq!(app.silent(&mut copy, "portal").await, "login_required");
    // And the refresh tokens of every client it signed into are revoked.
    for (client, tokens) in [("portal", &portal), ("wiki", &wiki)] {
        app.refresh(client, tokens.json["refresh_token"].as_str().unwrap(), None)
            .await
            .assert_error(400, "invalid_grant", "the refresh token is not valid");
    }
}

#[tokio::test]
async fn without_a_hint_for_this_session_the_user_is_asked_first() {
    let app = spawn(&TestConfig::new().client(logout_client("portal", None))).await;
    let mut jar = Jar::default();
    let tokens = app.code_flow(&mut jar, "portal").await;

    let ask = app
        .logout(
            &mut jar,
            &[
                ("client_id", "portal"),
                ("post_logout_redirect_uri", SIGNED_OUT),
                ("state", "s-1"),
            ],
        )
        .await;
    assert_eq!(ask.status, 200);
    assert!(page(&ask).contains("Sign out?"));
    assert!(page(&ask).contains("<strong>portal</strong> asks to sign you out."));
    let csp = ask.header("content-security-policy").unwrap();
    assert!(
        csp.contains("form-action 'self' http://127.0.0.1:9;"),
        "{csp}"
    );
    assert!(!session_cleared(&ask));
    assert_eq!(
        app.silent(&mut jar, "portal").await,
        "code",
        "still signed in"
    );

    let stayed = app.confirm(&mut jar, &ask, "stay").await;
    assert!(page(&stayed).contains("You are still signed in."));
    assert_eq!(app.silent(&mut jar, "portal").await, "code");

    let ask = app
        .logout(
            &mut jar,
            &[
                ("client_id", "portal"),
                ("post_logout_redirect_uri", SIGNED_OUT),
                ("state", "s-2"),
            ],
        )
        .await;
    let out = app.confirm(&mut jar, &ask, "logout").await;
    assert_eq!(out.status, 303);
    assert_eq!(
        out.header("location"),
        Some("http://127.0.0.1:9/signed-out?state=s-2")
    );
    assert!(session_cleared(&out));
    assert_eq!(app.silent(&mut jar, "portal").await, "login_required");
    app.refresh(
        "portal",
        tokens.json["refresh_token"].as_str().unwrap(),
        None,
    )
    .await
    .assert_error(400, "invalid_grant", "the refresh token is not valid");
    // The form answers once.
    let again = app.confirm(&mut jar, &ask, "logout").await;
    assert_eq!(again.status, 400);
    assert!(page(&again).contains("Sign-out expired"));
    // A form from another browser is refused.
    let ask = app.logout(&mut jar, &[]).await;
    let forged = app.confirm(&mut Jar::default(), &ask, "logout").await;
    assert_eq!(forged.status, 403);
}

#[tokio::test]
async fn a_hint_of_another_session_asks_and_an_expired_hint_of_this_one_does_not() {
    let app = spawn(&TestConfig::new().client(logout_client("portal", None))).await;
    let mut first = Jar::default();
    let first_tokens = app.code_flow(&mut first, "portal").await;
    let mut second = Jar::default();
    let second_tokens = app.code_flow(&mut second, "portal").await;
    let first_hint = first_tokens.json["id_token"].as_str().unwrap();

    // The first session's ID token, in the second browser: not this session, so ask.
    let ask = app
        .logout(
            &mut second,
            &[
                ("id_token_hint", first_hint),
                ("post_logout_redirect_uri", SIGNED_OUT),
            ],
        )
        .await;
    assert_eq!(ask.status, 200);
    assert!(page(&ask).contains("Sign out?"));
    assert_eq!(app.silent(&mut second, "portal").await, "code");

    // Long after the ID token expired, it still names its session (OIDC RP-Initiated 2).
    app.clock.advance(Duration::from_secs(3600));
    let out = app
        .logout(
            &mut first,
            &[
                ("id_token_hint", first_hint),
                ("post_logout_redirect_uri", SIGNED_OUT),
            ],
        )
        .await;
    assert_eq!(out.status, 302);
    assert_eq!(out.header("location"), Some(SIGNED_OUT));
    assert_eq!(app.silent(&mut first, "portal").await, "login_required");
    assert_eq!(
        app.silent(&mut second, "portal").await,
        "code",
        "the other session lives on"
    );

    // A browser with no session and a good hint: nothing to end, back to the client.
    let none = app
        .logout(
            &mut Jar::default(),
            &[("id_token_hint", first_hint), ("state", "x")],
        )
        .await;
    assert_eq!(none.status, 200, "no redirect URI: the signed-out page");
    assert!(page(&none).contains("You are signed out."));

    // RP-initiated logout by POST (section 2), with the second session's own hint.
    let posted = app
        .logout_form(
            &mut second,
            &[
                (
                    "id_token_hint",
                    second_tokens.json["id_token"].as_str().unwrap(),
                ),
                ("post_logout_redirect_uri", SIGNED_OUT),
                ("state", "posted"),
            ],
        )
        .await;
    assert_eq!(posted.status, 302);
    assert_eq!(
        posted.header("location"),
        Some("http://127.0.0.1:9/signed-out?state=posted")
    );
    assert_eq!(app.silent(&mut second, "portal").await, "login_required");
}

#[tokio::test]
async fn logout_requests_that_do_not_validate_are_shown_never_redirected() {
    let app = spawn(
        &TestConfig::new()
            .client(logout_client("portal", None))
            .client(logout_client("wiki", None)),
    )
    .await;
    let mut jar = Jar::default();
    let tokens = app.code_flow(&mut jar, "portal").await;
    let hint = tokens.json["id_token"].as_str().unwrap();
    let access = tokens.json["access_token"].as_str().unwrap();
    let cases: [(Vec<(&str, &str)>, &str); 6] = [
        (
            vec![
                ("client_id", "portal"),
                ("post_logout_redirect_uri", "https://evil.example/"),
            ],
            "the post_logout_redirect_uri is not registered for the client portal",
        ),
        (
            vec![("post_logout_redirect_uri", SIGNED_OUT)],
            "a post_logout_redirect_uri needs an id_token_hint or a client_id",
        ),
        (
            vec![("id_token_hint", hint), ("client_id", "wiki")],
            "the client_id is not the client the id_token_hint was issued to",
        ),
        (
            vec![("id_token_hint", "not.a.token")],
            "the id_token_hint is not an ID token of this issuer",
        ),
        (
            vec![("id_token_hint", access)],
            "the id_token_hint is not an ID token of this issuer",
        ),
        (
            vec![("client_id", "nobody")],
            "the client doesn&#39;t exist",
        ),
    ];
    for (query, description) in cases {
        let answer = app.logout(&mut jar, &query).await;
        assert_eq!(answer.status, 400, "{query:?}");
        assert!(answer.header("location").is_none(), "{query:?}");
        assert!(
            page(&answer).contains(description),
            "{query:?}: {}",
            page(&answer)
        );
        assert!(!session_cleared(&answer));
    }
    assert_eq!(
        app.silent(&mut jar, "portal").await,
        "code",
        "nothing was logged out"
    );
}
