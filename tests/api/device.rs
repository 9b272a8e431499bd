//! The device authorization grant (RFC 8628) over HTTP: the device's request, the verification
//! page (code, sign-in, consent), polling with every answer it can get, the tokens exactly once,
//! the throttle on guessed user codes, and two replicas sharing the pending state in Redis.

use crate::harness::Redis;
use crate::harness::*;
use std::sync::Arc;
use std::time::Duration;

pub const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
const ALPHABET: &str = "BCDFGHJKLMNPQRSTVWXZ";

impl TestApp {
    /// A device authorization request of the public client `tv` (plus `extra`).
    pub async fn device_authorization(&self, form: &[(&str, &str)]) -> Answer {
        Answer::from(
            self.client
                .post(self.url("/oauth2/device_authorization"))
                .form(form)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// One poll of the token endpoint with `device_code`, by the public client `client_id`.
    pub async fn poll(&self, client_id: &str, device_code: &str) -> Answer {
        self.token_form(
            None,
            &[
                ("grant_type", DEVICE_GRANT),
                ("client_id", client_id),
                ("device_code", device_code),
            ],
        )
        .await
    }

    pub async fn device_page(&self, jar: &mut Jar, query: &str) -> Answer {
        jar.send(
            self.client
                .get(format!("{}?{query}", self.url("/oauth2/device"))),
        )
        .await
    }

    pub async fn device_post(&self, jar: &mut Jar, form: &[(&str, &str)]) -> Answer {
        jar.send(self.client.post(self.url("/oauth2/device")).form(form))
            .await
    }

    /// Enters `user_code` on the verification page (CSRF from `page`).
    pub async fn enter_code(&self, jar: &mut Jar, page: &Answer, user_code: &str) -> Answer {
        let csrf = hidden(html(page), "csrf");
        self.device_post(
            jar,
            &[
                ("csrf", &csrf),
                ("action", "code"),
                ("user_code", user_code),
            ],
        )
        .await
    }

    /// Submits the form on `page` (sign-in or consent) with `action` and `extra` fields.
    pub async fn device_form(
        &self,
        jar: &mut Jar,
        page: &Answer,
        action: &str,
        extra: &[(&str, &str)],
    ) -> Answer {
        let (request, csrf) = (hidden(html(page), "request"), hidden(html(page), "csrf"));
        let mut form = vec![
            ("request", request.as_str()),
            ("csrf", csrf.as_str()),
            ("action", action),
        ];
        form.extend_from_slice(extra);
        self.device_post(jar, &form).await
    }

    /// From a user code to the user's answer, alice signing in on the way.
    pub async fn approve_device(&self, jar: &mut Jar, user_code: &str, action: &str) -> Answer {
        let entry = self.device_page(jar, "").await;
        let login = self.enter_code(jar, &entry, user_code).await;
        assert_eq!(login.status, 200, "{}", login.json);
        assert!(html(&login).contains("Sign in"), "{}", login.json);
        let consent = self
            .device_form(
                jar,
                &login,
                "login",
                &[("username", "alice"), ("password", ALICE_PASSWORD)],
            )
            .await;
        assert_eq!(consent.status, 200, "{}", consent.json);
        assert!(html(&consent).contains("Connect this device?"));
        self.device_form(jar, &consent, action, &[]).await
    }
}

pub fn html(answer: &Answer) -> &str {
    answer
        .json
        .as_str()
        .unwrap_or_else(|| panic!("not a page: {}", answer.json))
}

fn field<'a>(answer: &'a Answer, name: &str) -> &'a str {
    answer.json[name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name} in {}", answer.json))
}

#[tokio::test]
async fn a_device_gets_its_tokens_once_after_the_user_approves_on_the_verification_page() {
    let app = spawn_app().await;
    let started = app
        .device_authorization(&[("client_id", "tv"), ("scope", "openid reports:read")])
        .await;
    assert_eq!(started.status, 200, "{}", started.json);
    assert_eq!(started.header("cache-control"), Some("no-store"));
    let user_code = field(&started, "user_code").to_owned();
    let (first, second) = user_code.split_once('-').expect("shown as XXXX-XXXX");
    assert!(first.len() == 4 && second.len() == 4, "{user_code}");
    assert!(format!("{first}{second}")
        .chars()
        .all(|c| ALPHABET.contains(c)));
    assert_eq!(
        field(&started, "verification_uri"),
        format!("{ISSUER}/oauth2/device")
    );
    assert_eq!(
        field(&started, "verification_uri_complete"),
        format!("{ISSUER}/oauth2/device?user_code={user_code}")
    );
    assert_eq!(started.json["expires_in"], 600);
    assert_eq!(started.json["interval"], 5);
    let device_code = field(&started, "device_code").to_owned();

    app.poll("tv", &device_code).await.assert_error(
        400,
        "authorization_pending",
        "the user has not yet approved the device",
    );
    // Faster than the interval: slow_down, and the interval is 10 seconds from now on.
    app.clock.advance(Duration::from_secs(4));
    app.poll("tv", &device_code).await.assert_error(
        400,
        "slow_down",
        "polling too fast: wait 10 seconds between requests",
    );
    app.clock.advance(Duration::from_secs(9));
    app.poll("tv", &device_code).await.assert_error(
        400,
        "slow_down",
        "polling too fast: wait 15 seconds between requests",
    );
    app.clock.advance(Duration::from_secs(15));
    assert_eq!(
        app.poll("tv", &device_code).await.json["error"],
        "authorization_pending"
    );

    // The person, on the page `verification_uri_complete` opens: the code is filled in.
    let mut jar = Jar::default();
    let entry = app
        .device_page(&mut jar, &format!("user_code={}", user_code.to_lowercase()))
        .await;
    assert_eq!(entry.status, 200);
    assert_eq!(entry.header("x-frame-options"), Some("DENY"));
    let csp = entry.header("content-security-policy").unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("form-action 'self';"),
        "{csp}"
    );
    assert!(html(&entry).contains(&format!("value=\"{user_code}\"")));
    let login = app.enter_code(&mut jar, &entry, &user_code).await;
    assert!(html(&login).contains("to connect <strong>tv</strong>"));
    let consent = app
        .device_form(
            &mut jar,
            &login,
            "login",
            &[("username", "alice"), ("password", ALICE_PASSWORD)],
        )
        .await;
    assert!(
        jar.header().contains("tessera_session="),
        "signing in starts a session"
    );
    let page = html(&consent);
    assert!(
        page.contains(&format!("id=\"user-code\">{user_code}<")),
        "{page}"
    );
    assert!(
        page.contains("<li>openid</li><li>reports:read</li>"),
        "{page}"
    );
    let done = app.device_form(&mut jar, &consent, "allow", &[]).await;
    assert_eq!(done.status, 200);
    assert!(html(&done).contains("Device connected"));
    // A consent form answers once.
    let again = app.device_form(&mut jar, &consent, "allow", &[]).await;
    assert_eq!(again.status, 400);

    app.clock.advance(Duration::from_secs(15));
    let tokens = app.poll("tv", &device_code).await;
    let access = app.token_claims(&tokens, "https://reports.internal").await;
    assert_eq!(access["sub"], "alice");
    assert_eq!(access["client_id"], "tv");
    assert_eq!(access["scope"], "openid reports:read");
    let id = app
        .verify_id_token(tokens.json["id_token"].as_str().unwrap(), "tv")
        .await;
    assert_eq!(id["sub"], "alice");
    assert!(
        id["sid"].as_str().is_some_and(|sid| sid.len() >= 16),
        "the ID token names the approving session: {id}"
    );
    assert!(tokens.json["refresh_token"].is_string());

    // Exactly once.
    app.clock.advance(Duration::from_secs(15));
    app.poll("tv", &device_code).await.assert_error(
        400,
        "invalid_grant",
        "the device code was used already",
    );
}

#[tokio::test]
async fn denied_expired_foreign_and_malformed_device_codes_get_their_errors() {
    let app = spawn_app().await;
    let denied = app.device_authorization(&[("client_id", "tv")]).await;
    let mut jar = Jar::default();
    let answer = app
        .approve_device(&mut jar, field(&denied, "user_code"), "deny")
        .await;
    assert!(html(&answer).contains("Access denied"));
    app.poll("tv", field(&denied, "device_code"))
        .await
        .assert_error(400, "access_denied", "the user denied the device");

    // The public client's code is not the confidential client's.
    let cli = post_form(
        &app.client,
        &app.url("/oauth2/device_authorization"),
        Some(("device-cli", OTHER_SECRET)),
        &[("scope", "reports:read")],
    )
    .await;
    assert_eq!(cli.status, 200, "{}", cli.json);
    app.poll("tv", field(&cli, "device_code"))
        .await
        .assert_error(
            400,
            "invalid_grant",
            "the device code was issued to another client",
        );
    let pending = post_form(
        &app.client,
        &app.url("/oauth2/token"),
        Some(("device-cli", OTHER_SECRET)),
        &[
            ("grant_type", DEVICE_GRANT),
            ("device_code", field(&cli, "device_code")),
        ],
    )
    .await;
    assert_eq!(pending.json["error"], "authorization_pending");

    app.poll("tv", "not-a-device-code").await.assert_error(
        400,
        "invalid_grant",
        "the device code is not valid",
    );
    app.token_form(None, &[("grant_type", DEVICE_GRANT), ("client_id", "tv")])
        .await
        .assert_error(
            400,
            "invalid_request",
            "the parameter device_code is missing",
        );

    // Past expires_in: expired_token, and the code no longer opens the page.
    let late = app.device_authorization(&[("client_id", "tv")]).await;
    app.clock.advance(Duration::from_secs(601));
    app.poll("tv", field(&late, "device_code"))
        .await
        .assert_error(400, "expired_token", "the device code has expired");
    let entry = app.device_page(&mut jar, "").await;
    let refused = app
        .enter_code(&mut jar, &entry, field(&late, "user_code"))
        .await;
    assert_eq!(refused.status, 400);
    assert!(html(&refused).contains("That code is not valid, or has expired."));

    // The device authorization endpoint's own refusals.
    app.device_authorization(&[]).await.assert_error(
        400,
        "invalid_request",
        "no parameter in body request",
    );
    app.device_authorization(&[("client_id", "mobile")])
        .await
        .assert_error(
            400,
            "unauthorized_client",
            "the client mobile doesn't support the grant type urn:ietf:params:oauth:grant-type:device_code",
        );
    app.device_authorization(&[("client_id", "tv"), ("scope", "reports:write")])
        .await
        .assert_error(
            400,
            "invalid_scope",
            "the scopes reports:write are not allowed or invalid",
        );
    let wrong = post_form(
        &app.client,
        &app.url("/oauth2/device_authorization"),
        Some(("device-cli", "not the secret")),
        &[("scope", "reports:read")],
    )
    .await;
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.json["error"], "invalid_client");
    let get = app.get("/oauth2/device_authorization").await;
    get.assert_error(405, "invalid_request", "this endpoint accepts only POST");
}

#[tokio::test]
async fn guessing_user_codes_is_throttled_per_address() {
    let app = spawn(
        &TestConfig::new()
            .raw("device.max_user_code_failures_per_address", 3)
            .raw("device.user_code_failure_window", "10m"),
    )
    .await;
    let started = app.device_authorization(&[("client_id", "tv")]).await;
    let real = field(&started, "user_code").to_owned();
    let mut jar = Jar::default();
    let entry = app.device_page(&mut jar, "").await;

    // Not a code at all is a typo, not a guess: not counted.
    for typo in ["hello", "BCDF-GHJ", "BCDF-GHJA"] {
        let answer = app.enter_code(&mut jar, &entry, typo).await;
        assert_eq!(answer.status, 400);
        assert!(html(&answer).contains("8 letters, such as BCDF-GHJK"));
    }
    let wrong = if real == "BCDF-GHJK" {
        "BCDF-GHJL"
    } else {
        "BCDF-GHJK"
    };
    for _ in 0..3 {
        let answer = app.enter_code(&mut jar, &entry, wrong).await;
        assert_eq!(answer.status, 400);
        assert!(html(&answer).contains("That code is not valid"));
    }
    // The limit is reached: even the right code is not looked up now.
    let throttled = app.enter_code(&mut jar, &entry, &real).await;
    assert_eq!(throttled.status, 429);
    assert!(html(&throttled).contains("Too many wrong codes"));
    // The window passes.
    app.clock.advance(Duration::from_secs(601));
    let fresh = app.device_authorization(&[("client_id", "tv")]).await;
    let login = app
        .enter_code(&mut jar, &entry, field(&fresh, "user_code"))
        .await;
    assert_eq!(login.status, 200);
    assert!(html(&login).contains("Sign in"));
}

#[tokio::test]
async fn a_forged_or_replayed_verification_form_is_refused() {
    let app = spawn_app().await;
    let started = app.device_authorization(&[("client_id", "tv")]).await;
    let mut jar = Jar::default();
    let entry = app.device_page(&mut jar, "").await;
    // Another browser (no CSRF cookie) cannot post this page's form.
    let mut other = Jar::default();
    let forged = app
        .enter_code(&mut other, &entry, field(&started, "user_code"))
        .await;
    assert_eq!(forged.status, 403);
    assert!(html(&forged).contains("Form not accepted"));
    let garbage = app
        .device_post(&mut jar, &[("request", "x"), ("action", "allow")])
        .await;
    assert_eq!(garbage.status, 400);
    assert!(html(&garbage).contains("Device sign-in expired"));
    let login = app
        .enter_code(&mut jar, &entry, field(&started, "user_code"))
        .await;
    let wrong = app
        .device_form(
            &mut jar,
            &login,
            "login",
            &[("username", "alice"), ("password", "wrong")],
        )
        .await;
    assert_eq!(wrong.status, 401);
    assert!(html(&wrong).contains("The username or password is incorrect."));
}

#[tokio::test]
async fn replicas_share_pending_device_authorizations_and_intervals_through_redis() {
    let redis_dir = tempfile::TempDir::new().unwrap();
    let port = free_port();
    let redis = Redis::start(redis_dir.path(), port);
    let config = TestConfig::new().revocation(RevocationConfig::redis(
        &format!("redis://127.0.0.1:{port}/0"),
        "device-test",
    ));
    let dir = Arc::new(tempfile::TempDir::new().unwrap());
    let one = spawn_in(dir.clone(), &config).await;
    let two = spawn_in(dir, &config).await;

    let started = one.device_authorization(&[("client_id", "tv")]).await;
    let device_code = field(&started, "device_code").to_owned();
    assert_eq!(
        one.poll("tv", &device_code).await.json["error"],
        "authorization_pending"
    );
    // The other replica knows the device polled a moment ago.
    two.poll("tv", &device_code).await.assert_error(
        400,
        "slow_down",
        "polling too fast: wait 10 seconds between requests",
    );

    let mut jar = Jar::default();
    let done = two
        .approve_device(&mut jar, field(&started, "user_code"), "allow")
        .await;
    assert!(html(&done).contains("Device connected"));
    one.clock.advance(Duration::from_secs(30));
    two.clock.advance(Duration::from_secs(30));
    let tokens = one.poll("tv", &device_code).await;
    assert_eq!(
        one.token_claims(&tokens, "https://reports.internal").await["sub"],
        "alice"
    );
    two.clock.advance(Duration::from_secs(30));
    two.poll("tv", &device_code).await.assert_error(
        400,
        "invalid_grant",
        "the device code was used already",
    );
    redis.stop();
}
