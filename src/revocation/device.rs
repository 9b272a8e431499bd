//! The device authorization grant's state (RFC 8628), the only state of that flow: the
//! authorization pending behind a user code (with its device code's polling interval), and the
//! count of wrong user codes per source address. Each entry lives no longer than its device
//! code, or than the throttle's window. Memory (one process) or Redis (replicas agree: a code
//! approved on one replica is polled on another).

use super::{RevocationError, Revocations};
use crate::clock::UnixTime;

/// A device authorization waiting behind a user code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingDevice {
    /// The device code's id: the only device code this user code answers to.
    pub device_id: String,
    pub client_id: String,
    pub scope: String,
    pub exp: UnixTime,
}

/// Where a device authorization stands. An approval carries what the grant needs to issue the
/// tokens, opaque to the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceState {
    Pending,
    Approved(String),
    Denied,
}

/// What a poll found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Poll {
    /// No authorization for this device code: never started here, expired, or finished.
    Unknown,
    /// Too soon after the previous poll: the interval, now this many seconds.
    SlowDown {
        interval: u64,
    },
    Answer(DeviceState),
}

impl DeviceState {
    fn name(&self) -> &'static str {
        match self {
            DeviceState::Pending => "pending",
            DeviceState::Approved(_) => "approved",
            DeviceState::Denied => "denied",
        }
    }

    /// The state as the Redis store keeps it: a name, and the approval.
    pub(super) fn parts(&self) -> (&'static str, &str) {
        match self {
            DeviceState::Approved(approval) => (self.name(), approval),
            _ => (self.name(), ""),
        }
    }

    pub(super) fn from_parts(name: &str, approval: String) -> Option<Self> {
        match name {
            "pending" => Some(DeviceState::Pending),
            "approved" => Some(DeviceState::Approved(approval)),
            "denied" => Some(DeviceState::Denied),
            _ => None,
        }
    }
}

/// RFC 8628 3.5: each `slow_down` adds this much to the device code's interval.
pub const SLOW_DOWN_STEP_SECS: u64 = 5;

impl Revocations {
    /// Starts the authorization behind `user_code`, polled no faster than every `interval`
    /// seconds; `false` when the user code is taken (draw another).
    pub async fn device_start(
        &self,
        user_code: &str,
        pending: &PendingDevice,
        interval: u64,
        now: UnixTime,
    ) -> Result<bool, RevocationError> {
        if pending.exp <= now {
            return Ok(true);
        }
        match self {
            Revocations::Memory(store, _) => store.devices.start(user_code, pending, interval, now),
            Revocations::Redis(store) => store.device_start(user_code, pending, interval).await,
        }
    }

    /// The authorization behind `user_code` while it still waits for the user.
    pub async fn device_pending(
        &self,
        user_code: &str,
        now: UnixTime,
    ) -> Result<Option<PendingDevice>, RevocationError> {
        match self {
            Revocations::Memory(store, _) => Ok(store.devices.pending(user_code, now)),
            Revocations::Redis(store) => store.device_pending(user_code, now).await,
        }
    }

    /// The user's answer for the device `device_id` behind `user_code`; `false` when it is no
    /// longer pending (answered already, or gone).
    pub async fn device_decide(
        &self,
        user_code: &str,
        device_id: &str,
        decision: &DeviceState,
        now: UnixTime,
    ) -> Result<bool, RevocationError> {
        match self {
            Revocations::Memory(store, _) => {
                Ok(store.devices.decide(user_code, device_id, decision, now))
            }
            Revocations::Redis(store) => store.device_decide(user_code, device_id, decision).await,
        }
    }

    /// A poll by the device `device_id`: enforces its interval, then says where it stands.
    pub async fn device_poll(
        &self,
        user_code: &str,
        device_id: &str,
        now: UnixTime,
    ) -> Result<Poll, RevocationError> {
        match self {
            Revocations::Memory(store, _) => Ok(store.devices.poll(user_code, device_id, now)),
            Revocations::Redis(store) => store.device_poll(user_code, device_id, now).await,
        }
    }

    /// Forgets the authorization behind `user_code` (its tokens were issued).
    pub async fn device_finish(&self, user_code: &str) -> Result<(), RevocationError> {
        match self {
            Revocations::Memory(store, _) => {
                store.devices.finish(user_code);
                Ok(())
            }
            Revocations::Redis(store) => store.device_finish(user_code).await,
        }
    }

    /// Wrong user codes entered from `address` in the current window of `window_secs`.
    pub async fn user_code_failures(
        &self,
        address: &str,
        window_secs: u64,
        now: UnixTime,
    ) -> Result<u32, RevocationError> {
        match self {
            Revocations::Memory(store, _) => Ok(store.devices.failures(address, window_secs, now)),
            Revocations::Redis(store) => store.user_code_failures(address).await,
        }
    }

    /// Counts a wrong user code from `address`; the count in the window, this one included.
    pub async fn record_user_code_failure(
        &self,
        address: &str,
        window_secs: u64,
        now: UnixTime,
    ) -> Result<u32, RevocationError> {
        match self {
            Revocations::Memory(store, _) => {
                Ok(store.devices.record_failure(address, window_secs, now))
            }
            Revocations::Redis(store) => store.record_user_code_failure(address, window_secs).await,
        }
    }
}
