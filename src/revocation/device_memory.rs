//! The device flow's state in one process: moka caches whose entries carry their own expiry
//! (by the application's clock; moka's own timers only reclaim memory). Both are bounded: a full
//! table refuses new device authorizations instead of dropping pending ones.

use super::device::{DeviceState, PendingDevice, Poll, SLOW_DOWN_STEP_SECS};
use super::RevocationError;
use crate::clock::UnixTime;
use moka::sync::Cache;
use moka::Expiry;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Entry {
    pending: PendingDevice,
    state: DeviceState,
    interval: u64,
    last_poll: Option<UnixTime>,
    /// When moka may reclaim it (the entry's lifetime when it was made).
    ttl: Duration,
}

type Shared = Arc<Mutex<Entry>>;

struct UntilExp;

impl Expiry<String, Shared> for UntilExp {
    fn expire_after_create(&self, _: &String, value: &Shared, _: Instant) -> Option<Duration> {
        Some(value.lock().expect("never poisoned").ttl)
    }
}

/// A failure count and when its window began.
#[derive(Clone, Copy)]
struct Window {
    started_at: UnixTime,
    count: u32,
}

pub struct DeviceTable {
    entries: Cache<String, Shared>,
    failures: Cache<String, Arc<Mutex<Window>>>,
    capacity: u64,
}

impl DeviceTable {
    pub fn new(capacity: u64) -> Self {
        Self {
            entries: Cache::builder()
                .max_capacity(capacity)
                .expire_after(UntilExp)
                .build(),
            // Past its window a count starts over, so one a day is plenty for moka's timer.
            failures: Cache::builder()
                .max_capacity(capacity)
                .time_to_live(Duration::from_secs(86_400))
                .build(),
            capacity,
        }
    }

    fn live(&self, user_code: &str, now: UnixTime) -> Option<Shared> {
        self.entries
            .get(user_code)
            .filter(|entry| entry.lock().expect("never poisoned").pending.exp > now)
    }

    pub fn start(
        &self,
        user_code: &str,
        pending: &PendingDevice,
        interval: u64,
        now: UnixTime,
    ) -> Result<bool, RevocationError> {
        if self.live(user_code, now).is_some() {
            return Ok(false);
        }
        // moka counts lazily; device authorizations are rare enough to count exactly.
        self.entries.run_pending_tasks();
        if self.entries.entry_count() >= self.capacity {
            return Err(RevocationError::Full);
        }
        let entry = Arc::new(Mutex::new(Entry {
            pending: pending.clone(),
            state: DeviceState::Pending,
            interval,
            last_poll: None,
            ttl: Duration::from_secs((pending.exp - now).max(1) as u64),
        }));
        let inserted = self.entries.entry(user_code.to_owned()).or_insert(entry);
        if inserted.is_fresh() {
            return Ok(true);
        }
        // There, but expired by the application's clock: the code may be drawn again.
        let mut existing = inserted.value().lock().expect("never poisoned");
        if existing.pending.exp > now {
            return Ok(false);
        }
        existing.pending = pending.clone();
        existing.state = DeviceState::Pending;
        existing.interval = interval;
        existing.last_poll = None;
        Ok(true)
    }

    pub fn pending(&self, user_code: &str, now: UnixTime) -> Option<PendingDevice> {
        let entry = self.live(user_code, now)?;
        let entry = entry.lock().expect("never poisoned");
        (entry.state == DeviceState::Pending).then(|| entry.pending.clone())
    }

    pub fn decide(
        &self,
        user_code: &str,
        device_id: &str,
        decision: &DeviceState,
        now: UnixTime,
    ) -> bool {
        let Some(entry) = self.live(user_code, now) else {
            return false;
        };
        let mut entry = entry.lock().expect("never poisoned");
        if entry.pending.device_id != device_id || entry.state != DeviceState::Pending {
            return false;
        }
        entry.state = decision.clone();
        true
    }

    pub fn poll(&self, user_code: &str, device_id: &str, now: UnixTime) -> Poll {
        let Some(entry) = self.live(user_code, now) else {
            return Poll::Unknown;
        };
        let mut entry = entry.lock().expect("never poisoned");
        if entry.pending.device_id != device_id {
            return Poll::Unknown;
        }
        let too_soon = entry
            .last_poll
            .is_some_and(|last| now - last < entry.interval as i64);
        entry.last_poll = Some(now);
        if too_soon {
            entry.interval += SLOW_DOWN_STEP_SECS;
            return Poll::SlowDown {
                interval: entry.interval,
            };
        }
        Poll::Answer(entry.state.clone())
    }

    pub fn finish(&self, user_code: &str) {
        self.entries.invalidate(user_code);
    }

    fn window(&self, address: &str, window_secs: u64, now: UnixTime) -> Arc<Mutex<Window>> {
        let window = self.failures.get_with(address.to_owned(), || {
            Arc::new(Mutex::new(Window {
                started_at: now,
                count: 0,
            }))
        });
        {
            let mut current = window.lock().expect("never poisoned");
            if now - current.started_at >= window_secs as i64 {
                *current = Window {
                    started_at: now,
                    count: 0,
                };
            }
        }
        window
    }

    pub fn failures(&self, address: &str, window_secs: u64, now: UnixTime) -> u32 {
        self.window(address, window_secs, now)
            .lock()
            .expect("never poisoned")
            .count
    }

    pub fn record_failure(&self, address: &str, window_secs: u64, now: UnixTime) -> u32 {
        let window = self.window(address, window_secs, now);
        let mut window = window.lock().expect("never poisoned");
        window.count += 1;
        window.count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(device_id: &str, exp: UnixTime) -> PendingDevice {
        PendingDevice {
            device_id: device_id.into(),
            client_id: "tv".into(),
            scope: "openid".into(),
            exp,
        }
    }

    #[test]
    fn a_user_code_answers_only_its_device_and_polls_keep_their_interval() {
        let table = DeviceTable::new(10);
        assert!(table.start("BCDFGHJK", &pending("d1", 600), 5, 0).unwrap());
        assert!(!table.start("BCDFGHJK", &pending("d2", 600), 5, 0).unwrap());
        assert_eq!(table.poll("BCDFGHJK", "d2", 1), Poll::Unknown);
        assert_eq!(
            table.poll("BCDFGHJK", "d1", 1),
            Poll::Answer(DeviceState::Pending)
        );
        assert_eq!(
            table.poll("BCDFGHJK", "d1", 3),
            Poll::SlowDown { interval: 10 }
        );
        // The slower interval holds from now on.
        assert_eq!(
            table.poll("BCDFGHJK", "d1", 9),
            Poll::SlowDown { interval: 15 }
        );
        assert_eq!(
            table.poll("BCDFGHJK", "d1", 24),
            Poll::Answer(DeviceState::Pending)
        );
        assert!(table.decide("BCDFGHJK", "d1", &DeviceState::Denied, 25));
        assert!(!table.decide("BCDFGHJK", "d1", &DeviceState::Pending, 25));
        assert_eq!(table.pending("BCDFGHJK", 25), None);
        assert_eq!(table.poll("BCDFGHJK", "d1", 600), Poll::Unknown);
        assert!(table
            .start("BCDFGHJK", &pending("d3", 1200), 5, 600)
            .unwrap());
    }

    #[test]
    fn a_full_table_refuses_and_failure_windows_start_over() {
        let table = DeviceTable::new(1);
        assert!(table.start("A", &pending("d1", 600), 5, 0).unwrap());
        assert_eq!(
            table.start("B", &pending("d2", 600), 5, 0),
            Err(RevocationError::Full)
        );
        assert_eq!(table.record_failure("10.0.0.1", 60, 0), 1);
        assert_eq!(table.record_failure("10.0.0.1", 60, 59), 2);
        assert_eq!(table.failures("10.0.0.1", 60, 59), 2);
        assert_eq!(table.failures("10.0.0.1", 60, 60), 0);
    }
}
