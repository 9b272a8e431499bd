//! The tokens, assertions and device codes a local server mints in process before a run of
//! the load benchmark, handed out one per request.

use super::{Pool, LOCAL_CLIENT_ID};
use tessera::clock::SystemClock;
use tessera::state::AppState;

/// What `pool` holds, made with the server's own state.
pub async fn mint(state: &AppState, pool: Pool, assertion_key: &josekit::jwk::Jwk) -> Vec<String> {
    let client = state
        .settings()
        .clients
        .get(LOCAL_CLIENT_ID)
        .unwrap()
        .clone();
    match pool {
        Pool::Empty => Vec::new(),
        Pool::AccessTokens(n) => (0..n)
            .map(|_| {
                state
                    .issuer()
                    .access_token(tessera::oauth::issuer::AccessTokenSpec {
                        client: &client,
                        subject: LOCAL_CLIENT_ID,
                        scopes: &client.default_scopes,
                        audience: &client.audience,
                        user: None,
                        extra: None,
                        cnf: None,
                        not_after: None,
                    })
                    .unwrap()
                    .token
            })
            .collect(),
        Pool::Assertions { count, encrypted } => {
            let signer = tessera::jose::JwsSigner::from_jwk(
                &assertion_key,
                tessera::jose::SigningAlg::ES256,
            )
            .unwrap();
            let keys = state.keys();
            let issuer_key = keys.encryption_keys()[0].jwk.to_public_key().unwrap();
            let recipient =
                tessera::jose::RecipientKey::new(issuer_key, keys.encryption_keys()[0].alg)
                    .unwrap();
            let now = tessera::clock::Clock::now(&SystemClock);
            let client_id = format!("{LOCAL_CLIENT_ID}-jwt");
            (0..count)
                .map(|_| {
                    let claims = serde_json::json!({
                        "iss": client_id, "sub": client_id,
                        "aud": "https://issuer.bench/oauth2/token",
                        "iat": now, "exp": now + 240,
                        "jti": tessera::oauth::issuer::random_id(),
                    });
                    let jws = signer.sign(tessera::oauth::TokenKind::Id, &claims).unwrap();
                    if encrypted {
                        recipient.encrypt_jwt(&jws).unwrap()
                    } else {
                        jws
                    }
                })
                .collect()
        }
        Pool::RefreshTokens(n) => {
            let public = state
                .settings()
                .clients
                .get(&format!("{LOCAL_CLIENT_ID}-public"))
                .unwrap()
                .clone();
            let user = state
                .settings()
                .users
                .get(&format!("{LOCAL_CLIENT_ID}-user"))
                .unwrap()
                .clone();
            (0..n)
                .map(|_| {
                    tessera::oauth::grants::issue_user_tokens(
                        &state.issuer(),
                        tessera::oauth::grants::UserGrant {
                            client: &public,
                            user: &user,
                            scopes: public.default_scopes.clone(),
                            audience: public.audience.clone(),
                            auth_time: tessera::clock::Clock::now(&SystemClock),
                            nonce: None,
                            family: None,
                            sid: None,
                            binding: None,
                        },
                    )
                    .unwrap()
                    .refresh_token
                    .unwrap()
                })
                .collect()
        }
        Pool::DeviceCodes { count, approved } => device_codes(state, count, approved).await,
    }
}

/// Device codes of the public bench client, each behind its own user code: still pending, or
/// approved for the bench user (as the verification page would after a sign-in).
async fn device_codes(state: &AppState, count: usize, approved: bool) -> Vec<String> {
    use tessera::oauth::authorize::SignedIn;
    use tessera::oauth::device::{new_user_code, DeviceCodeClaims};
    use tessera::oauth::issuer::random_id;
    use tessera::revocation::{DeviceState, PendingDevice};
    let issuer = state.issuer();
    let now = issuer.now;
    let approval = serde_json::to_string(&SignedIn {
        sub: format!("{LOCAL_CLIENT_ID}-user"),
        auth_time: now,
        sid: random_id(),
        fid: random_id(),
    })
    .unwrap();
    let mut codes = Vec::with_capacity(count);
    while codes.len() < count {
        let user_code = new_user_code();
        let pending = PendingDevice {
            device_id: random_id(),
            client_id: format!("{LOCAL_CLIENT_ID}-public"),
            scope: "openid reports:read".into(),
            exp: now + 1800,
        };
        if !state
            .revocations
            .device_start(&user_code, &pending, 1, now)
            .await
            .unwrap()
        {
            continue;
        }
        if approved {
            let decision = DeviceState::Approved(approval.clone());
            assert!(state
                .revocations
                .device_decide(&user_code, &pending.device_id, &decision, now)
                .await
                .unwrap());
        }
        codes.push(
            issuer
                .seal(
                    tessera::oauth::TokenKind::DeviceCode,
                    &DeviceCodeClaims {
                        iss: issuer.settings.issuer.clone(),
                        client_id: pending.client_id,
                        user_code,
                        scope: pending.scope,
                        exp: pending.exp,
                        jti: pending.device_id,
                    },
                )
                .unwrap(),
        );
    }
    codes
}
