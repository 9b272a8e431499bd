//! The device flow's state in the shared Redis: one hash per user code, expiring with its device
//! code (`EXPIREAT`), changed only by Lua scripts so that two replicas never both answer one
//! authorization or both let one poll through; and a counter per address for wrong user codes.

use super::device::{DeviceState, PendingDevice, Poll, SLOW_DOWN_STEP_SECS};
use super::redis_store::{unavailable, RedisStore};
use super::RevocationError;
use crate::clock::UnixTime;
use redis::AsyncCommands;

/// KEYS: the user code's hash. ARGV: device id, client id, scope, exp, interval.
const START: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'device_id', ARGV[1], 'client_id', ARGV[2], 'scope', ARGV[3],
  'exp', ARGV[4], 'state', 'pending', 'interval', ARGV[5])
redis.call('EXPIREAT', KEYS[1], ARGV[4])
return 1
"#;

/// KEYS: the user code's hash. ARGV: device id, new state, approval.
const DECIDE: &str = r#"
if redis.call('HGET', KEYS[1], 'device_id') ~= ARGV[1] then return 0 end
if redis.call('HGET', KEYS[1], 'state') ~= 'pending' then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'approval', ARGV[3])
return 1
"#;

/// KEYS: the user code's hash. ARGV: device id, now, slow-down step.
const POLL: &str = r#"
local f = redis.call('HMGET', KEYS[1], 'device_id', 'state', 'approval', 'interval', 'last_poll', 'exp')
if f[1] ~= ARGV[1] then return {'unknown', ''} end
local now = tonumber(ARGV[2])
if tonumber(f[6]) <= now then return {'unknown', ''} end
local interval = tonumber(f[4])
redis.call('HSET', KEYS[1], 'last_poll', now)
if f[5] and now - tonumber(f[5]) < interval then
  interval = interval + tonumber(ARGV[3])
  redis.call('HSET', KEYS[1], 'interval', interval)
  return {'slow_down', tostring(interval)}
end
return {f[2], f[3] or ''}
"#;

/// KEYS: the address's counter. ARGV: the window in seconds.
const COUNT_FAILURE: &str = r#"
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n
"#;

/// A pending hash's device id, client id, scope, expiry and state.
type PendingFields = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<UnixTime>,
    Option<String>,
);

impl RedisStore {
    fn device_key(&self, user_code: &str) -> String {
        self.key("device", user_code)
    }

    pub(super) async fn device_start(
        &self,
        user_code: &str,
        pending: &PendingDevice,
        interval: u64,
    ) -> Result<bool, RevocationError> {
        let mut connection = self.connection().await?;
        let started: i64 = redis::Script::new(START)
            .key(self.device_key(user_code))
            .arg(&pending.device_id)
            .arg(&pending.client_id)
            .arg(&pending.scope)
            .arg(pending.exp)
            .arg(interval)
            .invoke_async(&mut connection)
            .await
            .map_err(unavailable)?;
        Ok(started == 1)
    }

    pub(super) async fn device_pending(
        &self,
        user_code: &str,
        now: UnixTime,
    ) -> Result<Option<PendingDevice>, RevocationError> {
        let mut connection = self.connection().await?;
        let fields: PendingFields = redis::cmd("HMGET")
            .arg(self.device_key(user_code))
            .arg(&["device_id", "client_id", "scope", "exp", "state"])
            .query_async(&mut connection)
            .await
            .map_err(unavailable)?;
        Ok(match fields {
            (Some(device_id), Some(client_id), Some(scope), Some(exp), Some(state))
                if exp > now && state == "pending" =>
            {
                Some(PendingDevice {
                    device_id,
                    client_id,
                    scope,
                    exp,
                })
            }
            _ => None,
        })
    }

    pub(super) async fn device_decide(
        &self,
        user_code: &str,
        device_id: &str,
        decision: &DeviceState,
    ) -> Result<bool, RevocationError> {
        let mut connection = self.connection().await?;
        let (state, approval) = decision.parts();
        let decided: i64 = redis::Script::new(DECIDE)
            .key(self.device_key(user_code))
            .arg(device_id)
            .arg(state)
            .arg(approval)
            .invoke_async(&mut connection)
            .await
            .map_err(unavailable)?;
        Ok(decided == 1)
    }

    pub(super) async fn device_poll(
        &self,
        user_code: &str,
        device_id: &str,
        now: UnixTime,
    ) -> Result<Poll, RevocationError> {
        let mut connection = self.connection().await?;
        let (state, detail): (String, String) = redis::Script::new(POLL)
            .key(self.device_key(user_code))
            .arg(device_id)
            .arg(now)
            .arg(SLOW_DOWN_STEP_SECS)
            .invoke_async(&mut connection)
            .await
            .map_err(unavailable)?;
        Ok(match state.as_str() {
            "slow_down" => Poll::SlowDown {
                interval: detail.parse().unwrap_or(SLOW_DOWN_STEP_SECS),
            },
            name => DeviceState::from_parts(name, detail).map_or(Poll::Unknown, Poll::Answer),
        })
    }

    pub(super) async fn device_finish(&self, user_code: &str) -> Result<(), RevocationError> {
        let mut connection = self.connection().await?;
        let _: i64 = connection
            .del(self.device_key(user_code))
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    pub(super) async fn user_code_failures(&self, address: &str) -> Result<u32, RevocationError> {
        let mut connection = self.connection().await?;
        let count: Option<u32> = connection
            .get(self.key("device-guesses", address))
            .await
            .map_err(unavailable)?;
        Ok(count.unwrap_or(0))
    }

    pub(super) async fn record_user_code_failure(
        &self,
        address: &str,
        window_secs: u64,
    ) -> Result<u32, RevocationError> {
        let mut connection = self.connection().await?;
        redis::Script::new(COUNT_FAILURE)
            .key(self.key("device-guesses", address))
            .arg(window_secs.max(1))
            .invoke_async(&mut connection)
            .await
            .map_err(unavailable)
    }
}
