//! Grants unit-tested with their handles built in code: settings, a client, a user, a key ring in
//! memory and the memory revocation store — no configuration file, no HTTP.

use super::{issue, GrantHandles};
use crate::jose::SigningAlg;
use crate::keys::KeyRing;
use crate::oauth::client_auth::{AuthenticatedClient, Binding};
use crate::oauth::credentials::{hash_secret, CredentialVerifier};
use crate::oauth::error::ErrorCode;
use crate::oauth::hash_pool::HashPool;
use crate::oauth::issuer::Issuer;
use crate::oauth::params::Params;
use crate::oauth::tokens::{AccessTokenClaims, Reading};
use crate::oauth::types::{AuthMethod, GrantType, ScopeSet};
use crate::registry::{Client, ClientRegistry, SecretHash, User, UserRegistry};
use crate::revocation::Revocations;
use crate::settings::Settings;
use std::sync::Arc;

const NOW: i64 = 1_800_000_000;

struct Fixture {
    settings: Arc<Settings>,
    keys: Arc<KeyRing>,
    revocations: Revocations,
    passwords: CredentialVerifier,
    http: reqwest::Client,
}

impl Fixture {
    fn new() -> Self {
        let mut settings = Settings::with_issuer("https://issuer.test").unwrap();
        settings.clients = ClientRegistry::new(&[Client {
            auth_methods: vec![AuthMethod::None],
            grant_types: vec![GrantType::ClientCredentials, GrantType::RefreshToken],
            scopes: ScopeSet::parse("read write").unwrap(),
            default_scopes: ScopeSet::parse("read").unwrap(),
            audience: vec!["https://api.test".into()],
            ..Client::new("app")
        }]);
        settings.users = UserRegistry::new(&[User {
            username: "ada".into(),
            password_hash: SecretHash::parse(&hash_secret("pw"), "test").unwrap(),
            claims: Default::default(),
        }]);
        Self {
            revocations: Revocations::new(&settings.revocation, settings.status_list_layout())
                .unwrap(),
            passwords: CredentialVerifier::for_users(
                &settings.user_auth,
                HashPool::new(&settings.server),
                None,
            ),
            http: reqwest::Client::new(),
            keys: Arc::new(KeyRing::in_memory(SigningAlg::ES256, NOW).unwrap()),
            settings: Arc::new(settings),
        }
    }

    fn issuer(&self, now: i64) -> Issuer {
        Issuer::new(self.settings.clone(), self.keys.clone(), now)
    }

    fn client(&self) -> AuthenticatedClient {
        AuthenticatedClient {
            client: self.settings.clients.get("app").unwrap().clone(),
            method: AuthMethod::None,
            binding: Binding::None,
        }
    }

    async fn grant(
        &self,
        issuer: &Issuer,
        grant_type: GrantType,
        form: &str,
    ) -> Result<super::TokenResponse, crate::oauth::OAuthError> {
        let handles = GrantHandles {
            issuer,
            users: &self.settings.users,
            passwords: &self.passwords,
            revocations: &self.revocations,
            http: &self.http,
            peer: None,
        };
        let params = Params::from_form(form.as_bytes()).unwrap();
        issue(&handles, &self.client(), grant_type, &params).await
    }
}

#[tokio::test]
async fn client_credentials_issues_the_default_scope_for_the_client_audience() {
    let fixture = Fixture::new();
    let issuer = fixture.issuer(NOW);
    let response = fixture
        .grant(
            &issuer,
            GrantType::ClientCredentials,
            "grant_type=client_credentials",
        )
        .await
        .unwrap();
    assert_eq!(response.scope, "read");
    let claims: AccessTokenClaims = issuer.open(&response.access_token).unwrap();
    assert_eq!(claims.sub, "app");
    assert_eq!(claims.aud, "https://api.test");
    assert_eq!(claims.exp, NOW + 15 * 60);

    let refused = fixture
        .grant(&issuer, GrantType::ClientCredentials, "scope=admin")
        .await
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::InvalidScope);
    assert_eq!(
        refused.description,
        "the scopes admin are not allowed or invalid"
    );
    // Expired at the injected clock.
    assert!(fixture
        .issuer(NOW + 15 * 60)
        .open::<AccessTokenClaims>(&response.access_token)
        .is_none());
}

#[tokio::test]
async fn a_refresh_token_works_once_and_its_reuse_revokes_the_family() {
    let fixture = Fixture::new();
    let issuer = fixture.issuer(NOW);
    let first = fixture
        .grant(&issuer, GrantType::Password, "username=ada&password=pw")
        .await;
    // The client may not use the password grant.
    assert_eq!(first.unwrap_err().code, ErrorCode::UnauthorizedClient);

    let tokens = super::issue_user_tokens(
        &issuer,
        &fixture.revocations,
        super::UserGrant {
            client: &fixture.client(),
            user: fixture.settings.users.get("ada").unwrap(),
            scopes: ScopeSet::parse("read write").unwrap(),
            audience: vec!["https://api.test".into()],
            auth_time: NOW,
            nonce: None,
            family: None,
            sid: None,
            binding: &Binding::None,
            status: None,
        },
    )
    .await
    .unwrap();
    let spent = tokens.refresh_token.unwrap();
    let form = format!("refresh_token={spent}&scope=read");
    let next = fixture
        .grant(&issuer, GrantType::RefreshToken, &form)
        .await
        .unwrap();
    assert_eq!(next.scope, "read", "scopes narrow");
    let newest = next.refresh_token.unwrap();

    let again = fixture
        .grant(&issuer, GrantType::RefreshToken, &form)
        .await
        .unwrap_err();
    assert_eq!(again.description, "the refresh token is not valid");
    // The reuse revoked the whole family: the newest token is refused too.
    let refreshed = issuer
        .read::<crate::oauth::issuer::RefreshClaims>(&fixture.revocations, &newest)
        .await
        .unwrap();
    assert!(matches!(refreshed, Reading::Revoked(_)));
    let newest_use = fixture
        .grant(
            &issuer,
            GrantType::RefreshToken,
            &format!("refresh_token={newest}"),
        )
        .await
        .unwrap_err();
    assert_eq!(newest_use.code, ErrorCode::InvalidGrant);
}
