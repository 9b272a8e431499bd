//! Revocation through the Token Status List, served by a stub on 127.0.0.1 and signed by the
//! issuer's key with josekit.

mod support;

use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use support::{
    access_claims, jwks, status_list_claims, with, Signer, StubServer, AUDIENCE, ISSUER, NOW,
};
use tessera_verifier::{AccessTokenVerifier, Error, KeySource, ManualClock, StatusListConfig};

const LIST_PATH: &str = "/oauth2/status-lists/1";

struct Fixture {
    signer: Signer,
    server: StubServer,
    clock: Arc<ManualClock>,
    verifier: AccessTokenVerifier,
}

impl Fixture {
    /// A 2-bit list: index 0 VALID, 1 INVALID, 2 SUSPENDED, 3 the unknown value 3.
    async fn new(config: StatusListConfig) -> Self {
        let signer = Signer::es256("k1");
        let server = StubServer::start().await;
        let clock = Arc::new(ManualClock::new(NOW));
        let keys = KeySource::from_jwks_json(jwks(&[&signer]).to_string().as_bytes()).unwrap();
        let verifier = AccessTokenVerifier::builder(ISSUER, AUDIENCE, keys)
            .clock(clock.clone())
            .status_lists(config)
            .build()
            .unwrap();
        let fixture = Self {
            signer,
            server,
            clock,
            verifier,
        };
        fixture.publish(&status_list_claims(&fixture.uri(), 2, &[0b1110_0100], NOW));
        fixture
    }

    fn uri(&self) -> String {
        self.server.url(LIST_PATH)
    }

    fn publish(&self, claims: &serde_json::Value) {
        self.server
            .status_list(LIST_PATH, &self.signer.sign_status_list(claims));
    }

    fn token(&self, idx: u64) -> String {
        let status = json!({"status_list": {"idx": idx, "uri": self.uri()}});
        self.signer
            .sign(&with(access_claims(NOW), json!({ "status": status })))
    }

    fn fetches(&self) -> usize {
        self.server.hits(LIST_PATH)
    }
}

#[tokio::test]
async fn valid_revoked_suspended_and_unknown_statuses() {
    let fixture = Fixture::new(StatusListConfig::default()).await;
    let token = fixture.verifier.verify(&fixture.token(0)).await.unwrap();
    assert_eq!(token.status.unwrap().idx, 0);
    assert_eq!(
        fixture
            .verifier
            .verify(&fixture.token(1))
            .await
            .unwrap_err(),
        Error::Revoked
    );
    assert_eq!(
        fixture
            .verifier
            .verify(&fixture.token(2))
            .await
            .unwrap_err(),
        Error::Suspended
    );
    assert_eq!(
        fixture
            .verifier
            .verify(&fixture.token(3))
            .await
            .unwrap_err(),
        Error::UnknownStatus(3)
    );
    assert_eq!(
        fixture
            .verifier
            .verify(&fixture.token(4))
            .await
            .unwrap_err(),
        Error::InvalidClaim("status"),
        "an index past the end of the list"
    );
    assert_eq!(
        fixture.fetches(),
        1,
        "one fetch serves every token of the list"
    );
    assert_eq!(
        fixture.server.last_accept(LIST_PATH).as_deref(),
        Some("application/statuslist+jwt")
    );
}

#[tokio::test]
async fn a_token_without_status_is_refused_unless_configured_otherwise() {
    let fixture = Fixture::new(StatusListConfig::default()).await;
    let plain = fixture.signer.sign(&access_claims(NOW));
    assert_eq!(
        fixture.verifier.verify(&plain).await.unwrap_err(),
        Error::StatusMissing
    );
    let lenient = Fixture::new(StatusListConfig::default().require_status(false)).await;
    let plain = lenient.signer.sign(&access_claims(NOW));
    assert!(lenient.verifier.verify(&plain).await.is_ok());
}

#[tokio::test]
async fn the_list_is_cached_for_its_ttl_then_refetched() {
    let fixture = Fixture::new(StatusListConfig::default()).await;
    assert!(fixture.verifier.verify(&fixture.token(0)).await.is_ok());
    // Revoke index 0; the cached copy still says VALID until the 300 s ttl passes.
    fixture.publish(&status_list_claims(
        &fixture.uri(),
        2,
        &[0b1110_0101],
        NOW + 100,
    ));
    fixture.clock.advance(Duration::from_secs(299));
    assert!(fixture.verifier.verify(&fixture.token(0)).await.is_ok());
    assert_eq!(fixture.fetches(), 1);
    fixture.clock.advance(Duration::from_secs(1));
    assert_eq!(
        fixture
            .verifier
            .verify(&fixture.token(0))
            .await
            .unwrap_err(),
        Error::Revoked
    );
    assert_eq!(fixture.fetches(), 2);
}

#[tokio::test]
async fn an_unreachable_list_is_used_stale_up_to_the_bound_then_fails_closed() {
    let config = StatusListConfig::default().max_staleness(Duration::from_secs(600));
    let fixture = Fixture::new(config).await;
    assert!(fixture.verifier.verify(&fixture.token(0)).await.is_ok());
    fixture.server.set_down(true);
    fixture.clock.advance(Duration::from_secs(300 + 599));
    assert!(
        fixture.verifier.verify(&fixture.token(0)).await.is_ok(),
        "stale but within bound"
    );
    assert_eq!(fixture.fetches(), 2, "a refetch was tried");
    fixture.clock.advance(Duration::from_secs(2));
    let err = fixture
        .verifier
        .verify(&fixture.token(0))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::StatusUnavailable(reason) if reason.contains("503")),
        "{err:?}"
    );
    assert_eq!(err.bearer_error_code().http_status(), 503);
}

#[tokio::test]
async fn a_list_never_fetched_fails_closed_and_is_not_hammered() {
    let fixture = Fixture::new(StatusListConfig::default()).await;
    fixture.server.set_down(true);
    for _ in 0..30 {
        let err = fixture
            .verifier
            .verify(&fixture.token(0))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::StatusUnavailable(_)));
    }
    assert_eq!(fixture.fetches(), 1, "retries wait for the retry interval");
    fixture.server.set_down(false);
    fixture.clock.advance(Duration::from_secs(5));
    assert!(fixture.verifier.verify(&fixture.token(0)).await.is_ok());

    // Nothing listening at all.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let status = json!({"status_list": {"idx": 0, "uri": format!("http://{closed}/lists/9")}});
    let token = fixture
        .signer
        .sign(&with(access_claims(NOW), json!({ "status": status })));
    assert!(matches!(
        fixture.verifier.verify(&token).await,
        Err(Error::StatusUnavailable(_))
    ));
}

#[tokio::test]
async fn invalid_status_list_tokens_are_refused() {
    let fixture = Fixture::new(StatusListConfig::default()).await;
    let good = status_list_claims(&fixture.uri(), 2, &[0], NOW);
    let cases = [
        (
            "sub is another uri",
            with(good.clone(), json!({"sub": "https://elsewhere/1"})),
        ),
        ("expired", with(good.clone(), json!({"exp": NOW - 60}))),
        ("no iat", with(good.clone(), json!({"iat": null}))),
        ("ttl not positive", with(good.clone(), json!({"ttl": 0}))),
        (
            "another issuer",
            with(good.clone(), json!({"iss": "https://evil.example"})),
        ),
        (
            "bits 3",
            with(
                good.clone(),
                json!({"status_list": {"bits": 3, "lst": "eNrbuRgAAhcBXQ"}}),
            ),
        ),
        (
            "no status_list",
            with(good.clone(), json!({"status_list": null})),
        ),
    ];
    for (case, claims) in cases {
        fixture.publish(&claims);
        fixture.clock.advance(Duration::from_secs(10));
        let before = fixture.fetches();
        let err = fixture
            .verifier
            .verify(&fixture.token(0))
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::StatusUnavailable(_)),
            "{case}: {err:?}"
        );
        assert_eq!(fixture.fetches(), before + 1, "{case}: fetched and judged");
    }
    // Signed by a stranger, or with the wrong typ.
    let stranger = Signer::es256("k1");
    fixture
        .server
        .status_list(LIST_PATH, &stranger.sign_status_list(&good));
    fixture.clock.advance(Duration::from_secs(10));
    assert!(matches!(
        fixture.verifier.verify(&fixture.token(0)).await,
        Err(Error::StatusUnavailable(_))
    ));
    fixture
        .server
        .status_list(LIST_PATH, &fixture.signer.sign(&good));
    fixture.clock.advance(Duration::from_secs(10));
    assert!(matches!(
        fixture.verifier.verify(&fixture.token(0)).await,
        Err(Error::StatusUnavailable(_))
    ));
    // And a good one again is accepted (application/statuslist+jwt as typ too).
    let header = json!({"alg": "ES256", "kid": "k1", "typ": "application/statuslist+jwt"});
    fixture
        .server
        .status_list(LIST_PATH, &fixture.signer.sign_with_header(&header, &good));
    fixture.clock.advance(Duration::from_secs(10));
    assert!(fixture.verifier.verify(&fixture.token(0)).await.is_ok());
}

#[tokio::test]
async fn a_zip_bomb_list_is_refused_without_inflating_it() {
    let config = StatusListConfig {
        max_list_len: 1 << 20,
        ..StatusListConfig::default()
    };
    let fixture = Fixture::new(config).await;
    // 64 MiB of zeros compress to about 64 KiB.
    let bomb = vec![0u8; 64 << 20];
    fixture.publish(&status_list_claims(&fixture.uri(), 1, &bomb, NOW));
    let err = fixture
        .verifier
        .verify(&fixture.token(0))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::StatusUnavailable(reason) if reason.contains("too large")),
        "{err:?}"
    );
}

#[tokio::test]
async fn concurrent_checks_of_one_list_share_one_fetch() {
    let fixture = Arc::new(Fixture::new(StatusListConfig::default()).await);
    fixture.server.set_delay(Duration::from_millis(200));
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let fixture = fixture.clone();
            tokio::spawn(
                async move { fixture.verifier.verify(&fixture.token(0)).await.map(|_| ()) },
            )
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), Ok(()));
    }
    assert_eq!(fixture.fetches(), 1);
}

#[tokio::test]
async fn revocation_is_checked_only_after_the_token_itself() {
    let fixture = Fixture::new(StatusListConfig::default()).await;
    let status = json!({"status_list": {"idx": 0, "uri": fixture.uri()}});
    let expired = fixture.signer.sign(&with(
        access_claims(NOW - 3600),
        json!({ "status": status }),
    ));
    assert_eq!(
        fixture.verifier.verify(&expired).await.unwrap_err(),
        Error::Expired
    );
    assert_eq!(fixture.fetches(), 0, "an invalid token costs no fetch");
}
