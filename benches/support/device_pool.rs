//! The device codes a local server mints in process before a device-flow run of the load
//! benchmark: each behind its own user code, pending or approved.

use super::LOCAL_CLIENT_ID;
use tessera::state::AppState;

/// Device codes of the public bench client, each behind its own user code: still pending, or
/// approved for the bench user (as the verification page would after a sign-in).
pub async fn device_codes(state: &AppState, count: usize, approved: bool) -> Vec<String> {
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
