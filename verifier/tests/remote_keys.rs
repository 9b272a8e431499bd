//! The remote JWK Set against a stub issuer on 127.0.0.1: discovery, background refresh,
//! unknown-kid refetch limit, rotation, staleness, fail closed. Time is a manual clock; the
//! background task's tick is short so "eventually" waits stay bounded.

mod support;

use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use support::server::eventually;
use support::{access_claims, jwks, with, Signer, StubServer, AUDIENCE, NOW};
use tessera_verifier::{
    AccessTokenVerifier, Clock, Error, HttpConfig, KeySource, ManualClock, RemoteKeysConfig,
};

const JWKS_PATH: &str = "/jwks";

struct Issuer {
    server: StubServer,
    clock: Arc<ManualClock>,
}

impl Issuer {
    async fn start(signers: &[&Signer], cache_control: Option<&str>) -> Self {
        let server = StubServer::start().await;
        server.json(JWKS_PATH, &jwks(signers), cache_control);
        let issuer = server.url("");
        server.json(
            "/.well-known/openid-configuration",
            &json!({"issuer": issuer, "jwks_uri": server.url(JWKS_PATH)}),
            None,
        );
        Self {
            server,
            clock: Arc::new(ManualClock::new(NOW)),
        }
    }

    fn issuer(&self) -> String {
        self.server.url("")
    }

    fn config(&self) -> RemoteKeysConfig {
        RemoteKeysConfig::issuer(self.issuer())
            .clock(self.clock.clone())
            .background_tick(Duration::from_millis(20))
    }

    async fn verifier(&self, config: RemoteKeysConfig) -> AccessTokenVerifier {
        let keys = KeySource::remote(config).await.unwrap();
        AccessTokenVerifier::builder(self.issuer(), AUDIENCE, keys)
            .clock(self.clock.clone())
            .build()
            .unwrap()
    }

    fn token(&self, signer: &Signer) -> String {
        let now = self.clock.now();
        signer.sign(&with(access_claims(now), json!({"iss": self.issuer()})))
    }

    fn fetches(&self) -> usize {
        self.server.hits(JWKS_PATH)
    }
}

#[tokio::test]
async fn discovery_finds_the_keys_and_checks_the_issuer() {
    let signer = Signer::es256("k1");
    let issuer = Issuer::start(&[&signer], None).await;
    let verifier = issuer.verifier(issuer.config()).await;
    assert!(verifier.verify(&issuer.token(&signer)).await.is_ok());
    assert_eq!(issuer.server.hits("/.well-known/openid-configuration"), 1);
    assert_eq!(issuer.fetches(), 1);

    // Metadata naming another issuer is refused.
    issuer.server.json(
        "/.well-known/openid-configuration",
        &json!({"issuer": "https://evil.example", "jwks_uri": issuer.server.url(JWKS_PATH)}),
        None,
    );
    let refused = KeySource::remote(issuer.config()).await.unwrap_err();
    assert!(matches!(refused, Error::KeysUnavailable(reason) if reason.contains("another issuer")));
}

#[tokio::test]
async fn rfc_8414_metadata_is_the_fallback_and_explicit_urls_work() {
    let signer = Signer::es256("k1");
    let server = StubServer::start().await;
    server.json(JWKS_PATH, &jwks(&[&signer]), None);
    let issuer = server.url("/tenant");
    server.json(
        "/.well-known/oauth-authorization-server/tenant",
        &json!({"issuer": issuer, "jwks_uri": server.url(JWKS_PATH)}),
        None,
    );
    let keys = KeySource::remote(RemoteKeysConfig::issuer(&issuer))
        .await
        .unwrap();
    let KeySource::Remote(remote) = &keys else {
        panic!("a remote source")
    };
    assert_eq!(remote.jwks_uri().as_str(), server.url(JWKS_PATH));
    assert!(remote.contains_kid("k1"));
    assert_eq!(server.hits("/.well-known/openid-configuration/tenant"), 0);
    assert_eq!(server.hits("/tenant/.well-known/openid-configuration"), 1);

    let direct = KeySource::remote(RemoteKeysConfig::jwks_uri(server.url(JWKS_PATH))).await;
    assert!(direct.is_ok());
}

#[tokio::test]
async fn plain_http_to_a_non_loopback_host_and_oversized_sets_are_refused() {
    let refused = KeySource::remote(RemoteKeysConfig::jwks_uri("http://issuer.example/jwks")).await;
    assert!(matches!(refused, Err(Error::KeysUnavailable(reason)) if reason.contains("not https")));

    let signer = Signer::es256("k1");
    let issuer = Issuer::start(&[&signer], None).await;
    let small = HttpConfig {
        max_document_len: 100,
        ..HttpConfig::default()
    };
    let refused = KeySource::remote(issuer.config().http(small))
        .await
        .unwrap_err();
    assert!(matches!(refused, Error::KeysUnavailable(reason) if reason.contains("too large")));
}

#[tokio::test]
async fn redirects_are_not_followed_for_keys() {
    let server = StubServer::start().await;
    server.set(
        JWKS_PATH,
        support::server::Route {
            status: 302,
            body: Vec::new(),
            headers: vec![("location".into(), server.url("/elsewhere"))],
        },
    );
    server.json("/elsewhere", &jwks(&[&Signer::es256("k1")]), None);
    let refused = KeySource::remote(RemoteKeysConfig::jwks_uri(server.url(JWKS_PATH))).await;
    assert!(refused.is_err());
    assert_eq!(server.hits("/elsewhere"), 0);
}

#[tokio::test]
async fn garbage_kids_cause_at_most_one_refetch_per_interval() {
    let signer = Signer::es256("k1");
    let issuer = Issuer::start(&[&signer], Some("max-age=3600")).await;
    let config = issuer
        .config()
        .unknown_kid_refetch_interval(Duration::from_secs(30));
    let verifier = issuer.verifier(config).await;
    assert_eq!(issuer.fetches(), 1);
    for n in 0..200 {
        let stranger = Signer::es256(&format!("garbage-{n}"));
        let err = verifier.verify(&issuer.token(&stranger)).await.unwrap_err();
        assert_eq!(err, Error::NoMatchingKey);
    }
    assert_eq!(issuer.fetches(), 2, "one refetch for the whole flood");
    issuer.clock.advance(Duration::from_secs(31));
    let _ = verifier
        .verify(&issuer.token(&Signer::es256("garbage-late")))
        .await;
    assert_eq!(issuer.fetches(), 3, "the next interval allows one more");
    // Known kids never refetch.
    for _ in 0..20 {
        assert!(verifier.verify(&issuer.token(&signer)).await.is_ok());
    }
    assert_eq!(issuer.fetches(), 3);
}

#[tokio::test]
async fn a_rotated_in_kid_is_fetched_on_first_sight() {
    let old = Signer::es256("2026-11");
    let issuer = Issuer::start(&[&old], Some("max-age=3600")).await;
    let verifier = issuer.verifier(issuer.config()).await;
    let new = Signer::es256("2026-12");
    issuer
        .server
        .json(JWKS_PATH, &jwks(&[&old, &new]), Some("max-age=3600"));
    assert!(verifier.verify(&issuer.token(&new)).await.is_ok());
    assert_eq!(issuer.fetches(), 2);
}

#[tokio::test]
async fn keys_published_ahead_are_cached_by_the_background_refresh_before_they_sign() {
    let current = Signer::es256("current");
    let issuer = Issuer::start(&[&current], Some("public, max-age=100")).await;
    let verifier = issuer.verifier(issuer.config()).await;
    let next = Signer::es256("next");
    issuer.server.json(
        JWKS_PATH,
        &jwks(&[&current, &next]),
        Some("public, max-age=100"),
    );

    // Before three quarters of the max-age, nothing is fetched.
    issuer.clock.advance(Duration::from_secs(70));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(issuer.fetches(), 1);
    // After, the background task refreshes, without any verification asking for it.
    issuer.clock.advance(Duration::from_secs(10));
    assert!(
        eventually(|| issuer.fetches() == 2).await,
        "background refresh"
    );
    // The new key's first token needs no fetch.
    assert!(verifier.verify(&issuer.token(&next)).await.is_ok());
    assert_eq!(issuer.fetches(), 2);
}

#[tokio::test]
async fn a_verification_does_not_wait_for_a_refresh_it_does_not_need() {
    let signer = Signer::es256("k1");
    let issuer = Issuer::start(&[&signer], Some("max-age=100")).await;
    let verifier = issuer
        .verifier(issuer.config().background_tick(Duration::from_secs(3600)))
        .await;
    issuer.server.set_delay(Duration::from_secs(2));
    issuer.clock.advance(Duration::from_secs(90));
    let started = std::time::Instant::now();
    assert!(verifier.verify(&issuer.token(&signer)).await.is_ok());
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "took {:?}",
        started.elapsed()
    );
    // The verification woke the background task, which is fetching now.
    assert!(eventually(|| issuer.fetches() == 2).await);
}

#[tokio::test]
async fn while_the_issuer_is_down_cached_keys_work_until_the_staleness_bound() {
    let signer = Signer::es256("k1");
    let issuer = Issuer::start(&[&signer], Some("max-age=600")).await;
    let config = issuer.config().max_staleness(Duration::from_secs(1800));
    let verifier = issuer.verifier(config).await;
    issuer.server.set_down(true);

    // Past max-age, refreshes fail, the set stays in use.
    issuer.clock.advance(Duration::from_secs(1000));
    assert!(verifier.verify(&issuer.token(&signer)).await.is_ok());
    assert!(
        eventually(|| issuer.fetches() >= 2).await,
        "a refresh was tried"
    );
    issuer.clock.advance(Duration::from_secs(1399)); // 2399 s: max-age + staleness - 1
    assert!(verifier.verify(&issuer.token(&signer)).await.is_ok());

    // Past max-age plus staleness: fail closed.
    issuer.clock.advance(Duration::from_secs(2));
    let err = verifier.verify(&issuer.token(&signer)).await.unwrap_err();
    assert!(matches!(err, Error::KeysUnavailable(_)), "{err:?}");
    assert_eq!(err.bearer_error_code().http_status(), 503);

    // Failed fetches are retried no more than once per retry interval, whatever the load.
    let before = issuer.fetches();
    for _ in 0..50 {
        let _ = verifier.verify(&issuer.token(&signer)).await;
    }
    assert!(
        issuer.fetches() - before <= 1,
        "{} fetches",
        issuer.fetches() - before
    );

    // Back up: the next attempt after the retry interval recovers.
    issuer.server.set_down(false);
    issuer.clock.advance(Duration::from_secs(6));
    assert!(verifier.verify(&issuer.token(&signer)).await.is_ok());
}

#[tokio::test]
async fn concurrent_verifications_share_one_fetch() {
    let signer = Signer::es256("k1");
    let issuer = Issuer::start(&[&signer], Some("max-age=3600")).await;
    let verifier = Arc::new(issuer.verifier(issuer.config()).await);
    let rotated = Arc::new(Signer::es256("k2"));
    issuer
        .server
        .json(JWKS_PATH, &jwks(&[&signer, &rotated]), Some("max-age=3600"));
    issuer.server.set_delay(Duration::from_millis(200));
    let token = issuer.token(&rotated);
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let verifier = verifier.clone();
            let token = token.clone();
            tokio::spawn(async move { verifier.verify(&token).await })
        })
        .collect();
    for task in tasks {
        assert!(task.await.unwrap().is_ok());
    }
    assert_eq!(issuer.fetches(), 2);
}

#[tokio::test]
async fn a_lazy_set_is_fetched_by_its_first_verification() {
    let signer = Signer::es256("k1");
    let issuer = Issuer::start(&[&signer], Some("max-age=100")).await;
    issuer.server.set_down(true);
    let config = RemoteKeysConfig::jwks_uri(issuer.server.url(JWKS_PATH))
        .clock(issuer.clock.clone())
        .background_tick(Duration::from_millis(20));
    let remote = tessera_verifier::RemoteKeySet::lazy(config).unwrap();
    assert_eq!(issuer.fetches(), 0, "nothing fetched when built");
    let verifier =
        AccessTokenVerifier::builder(issuer.issuer(), AUDIENCE, KeySource::Remote(remote))
            .clock(issuer.clock.clone())
            .build()
            .unwrap();
    let err = verifier.verify(&issuer.token(&signer)).await.unwrap_err();
    assert!(matches!(err, Error::KeysUnavailable(_)), "{err:?}");
    assert_eq!(issuer.fetches(), 1);

    issuer.server.set_down(false);
    issuer.clock.advance(Duration::from_secs(6));
    assert!(verifier.verify(&issuer.token(&signer)).await.is_ok());
    assert_eq!(issuer.fetches(), 2);
    // From then on the background refresher keeps it fresh.
    issuer.clock.advance(Duration::from_secs(80));
    assert!(eventually(|| issuer.fetches() == 3).await);

    let discovery = RemoteKeysConfig::issuer(issuer.issuer());
    assert!(tessera_verifier::RemoteKeySet::lazy(discovery).is_err());
}

#[tokio::test]
async fn a_slow_issuer_times_out_instead_of_hanging_verifications() {
    let signer = Signer::es256("k1");
    let issuer = Issuer::start(&[&signer], None).await;
    issuer.server.set_delay(Duration::from_secs(3));
    let http = HttpConfig {
        timeout: Duration::from_millis(300),
        ..HttpConfig::default()
    };
    let started = std::time::Instant::now();
    let refused =
        KeySource::remote(RemoteKeysConfig::jwks_uri(issuer.server.url(JWKS_PATH)).http(http))
            .await;
    assert!(matches!(refused, Err(Error::KeysUnavailable(reason)) if reason.contains("timed out")));
    assert!(started.elapsed() < Duration::from_secs(2));
}
