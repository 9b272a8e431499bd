//! The lifecycle of signing keys: published ahead of signing, signing, replaced, and gone from
//! the JWKS once every token they signed has expired. The ring publishes by these rules and
//! `tessera keys list` and `keys prune` read the keys folder by them.

use super::{load_all, KeyPurpose, StoredKey};
use crate::clock::UnixTime;
use crate::jose::{KeyError, SigningAlg};
use std::path::Path;
use std::time::Duration;

/// The lifecycle of a signing key at a given instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    /// Published, will sign from `activates_at`.
    Pending { activates_at: UnixTime },
    /// Published and signing (for the configured algorithm).
    Active,
    /// Published but not signing: its algorithm is not the configured one and no newer key of its
    /// algorithm replaced it.
    Standby,
    /// Replaced; published until the tokens it signed have expired.
    Retired { published_until: UnixTime },
    /// Replaced long enough ago that no token it signed is still valid: not published.
    Expired,
}

impl KeyState {
    pub fn is_published(self) -> bool {
        !matches!(self, KeyState::Expired)
    }
}

/// The state at `now` of key `index` of a signing-key timeline (algorithm, activation time),
/// sorted by activation, when `alg` is the configured algorithm.
pub(super) fn signing_key_state(
    timeline: &[(SigningAlg, UnixTime)],
    index: usize,
    alg: SigningAlg,
    now: UnixTime,
    retention: Duration,
) -> KeyState {
    let (key_alg, activates_at) = timeline[index];
    if activates_at > now {
        return KeyState::Pending { activates_at };
    }
    // Replaced by the next key of the same algorithm, already active. A key of another
    // algorithm than the configured one may be staged for a switch and never have signed, so a
    // newer key of the configured algorithm does not retire it: it stays published until it
    // signs and a key of its own algorithm replaces it, or it is removed.
    let successor = timeline[index + 1..]
        .iter()
        .find(|(next_alg, next_at)| *next_at <= now && *next_alg == key_alg);
    match successor {
        None if key_alg == alg => KeyState::Active,
        None => KeyState::Standby,
        Some((_, replaced_at)) => {
            let published_until = replaced_at + retention.as_secs() as i64;
            if now < published_until {
                KeyState::Retired { published_until }
            } else {
                KeyState::Expired
            }
        }
    }
}

/// Each key of `dir` with, for a signing key, its state at `now` when `alg` is configured and
/// signed tokens live at most `retention`.
pub fn stored_states(
    dir: &Path,
    alg: SigningAlg,
    now: UnixTime,
    retention: Duration,
) -> Result<Vec<(StoredKey, Option<KeyState>)>, KeyError> {
    let stored = load_all(dir)?;
    let timeline: Vec<_> = stored
        .iter()
        .filter_map(|key| match key.purpose {
            KeyPurpose::Signing(key_alg) => Some((key_alg, key.activates_at)),
            _ => None,
        })
        .collect();
    let mut index = 0;
    Ok(stored
        .into_iter()
        .map(|key| {
            let state = matches!(key.purpose, KeyPurpose::Signing(_)).then(|| {
                index += 1;
                signing_key_state(&timeline, index - 1, alg, now, retention)
            });
            (key, state)
        })
        .collect())
}

/// The signing keys of `dir` no longer published at `now`: what `keys prune` deletes.
pub fn prunable(
    dir: &Path,
    alg: SigningAlg,
    now: UnixTime,
    retention: Duration,
) -> Result<Vec<StoredKey>, KeyError> {
    Ok(stored_states(dir, alg, now, retention)?
        .into_iter()
        .filter(|(_, state)| *state == Some(KeyState::Expired))
        .map(|(key, _)| key)
        .collect())
}

/// Deletes a stored key's file.
pub fn remove(key: &StoredKey) -> Result<(), KeyError> {
    std::fs::remove_file(&key.path)
        .map_err(|err| KeyError::new(format!("removing {}: {err}", key.path.display())))
}
