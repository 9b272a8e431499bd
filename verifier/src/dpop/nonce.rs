//! Stateless server nonces for DPoP proofs (RFC 9449 9): a nonce is the HMAC-SHA256 of a time
//! slot's number under a secret, so every instance configured with the same secret makes and
//! accepts the same nonces with no shared state. A nonce is accepted in its own slot and the
//! next one, so a client that just fetched one is not turned away at a slot's edge.

use crate::clock::UnixTime;
use crate::Error;
use aws_lc_rs::hmac;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use std::time::Duration;
use subtle::ConstantTimeEq;

/// What the slot number is prefixed with before it is MACed: a nonce is never the MAC of
/// anything else made with the same secret.
const LABEL: &[u8] = b"tessera-verifier DPoP nonce\0";
/// Base64url of an HMAC-SHA256.
const NONCE_LEN: usize = 43;
const DEFAULT_SLOT: Duration = Duration::from_secs(300);

/// The nonces a resource server requires in DPoP proofs.
///
/// ```
/// use std::time::Duration;
/// use tessera_verifier::DpopNonces;
/// let secret = [7u8; 32]; // from your secret store, the same on every instance
/// let nonces = DpopNonces::new(secret)?.slot(Duration::from_secs(120))?;
/// let now = 1_800_000_000;
/// let nonce = nonces.current(now);
/// assert!(nonces.accepts(&nonce, now + 120)); // the next slot still takes it
/// assert!(!nonces.accepts(&nonce, now + 240));
/// assert!(DpopNonces::new(b"short").is_err());
/// # Ok::<(), tessera_verifier::Error>(())
/// ```
#[derive(Clone)]
pub struct DpopNonces {
    /// The first makes nonces; all verify them (a secret being rotated out).
    keys: Vec<hmac::Key>,
    slot_secs: i64,
}

impl std::fmt::Debug for DpopNonces {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DpopNonces")
            .field("secrets", &self.keys.len())
            .field("slot_secs", &self.slot_secs)
            .finish()
    }
}

fn key(secret: &[u8]) -> Result<hmac::Key, Error> {
    if secret.len() < 32 {
        return Err(Error::Malformed(
            "a DPoP nonce secret must have at least 32 bytes",
        ));
    }
    Ok(hmac::Key::new(hmac::HMAC_SHA256, secret))
}

impl DpopNonces {
    /// Nonces made with `secret` (at least 32 bytes), in slots of 5 minutes.
    pub fn new(secret: impl AsRef<[u8]>) -> Result<Self, Error> {
        Ok(Self {
            keys: vec![key(secret.as_ref())?],
            slot_secs: DEFAULT_SLOT.as_secs() as i64,
        })
    }

    /// The length of a slot, from 10 seconds to 1 day: a nonce lives one to two slots.
    pub fn slot(mut self, slot: Duration) -> Result<Self, Error> {
        if slot < Duration::from_secs(10) || slot > Duration::from_secs(86_400) {
            return Err(Error::Malformed(
                "a DPoP nonce slot lasts from 10 seconds to 1 day",
            ));
        }
        self.slot_secs = slot.as_secs() as i64;
        Ok(self)
    }

    /// Also accepts the nonces of `secret` (a secret being rotated out), without making any.
    pub fn also_accept(mut self, secret: impl AsRef<[u8]>) -> Result<Self, Error> {
        self.keys.push(key(secret.as_ref())?);
        Ok(self)
    }

    fn slot_of(&self, now: UnixTime) -> i64 {
        now.div_euclid(self.slot_secs)
    }

    /// The nonce to hand out at `now` (`DPoP-Nonce`).
    pub fn current(&self, now: UnixTime) -> String {
        make(&self.keys[0], self.slot_of(now))
    }

    /// Whether `nonce` is the current slot's or the previous one's, under any secret.
    pub fn accepts(&self, nonce: &str, now: UnixTime) -> bool {
        if nonce.len() != NONCE_LEN {
            return false;
        }
        let slot = self.slot_of(now);
        self.keys.iter().any(|key| {
            [slot, slot - 1]
                .into_iter()
                .any(|slot| bool::from(make(key, slot).as_bytes().ct_eq(nonce.as_bytes())))
        })
    }
}

impl super::DpopNonceSource for DpopNonces {
    fn accepts(&self, nonce: &str, now: UnixTime) -> bool {
        DpopNonces::accepts(self, nonce, now)
    }
}

fn make(key: &hmac::Key, slot: i64) -> String {
    let mut context = hmac::Context::with_key(key);
    context.update(LABEL);
    context.update(&slot.to_be_bytes());
    URL_SAFE_NO_PAD.encode(context.sign().as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instances_with_one_secret_agree_and_others_do_not() {
        let now = 1_800_000_000;
        let one = DpopNonces::new([1u8; 32]).unwrap();
        let same = DpopNonces::new([1u8; 32]).unwrap();
        let other = DpopNonces::new([2u8; 32]).unwrap();
        assert_eq!(one.current(now), same.current(now));
        assert!(same.accepts(&one.current(now), now));
        assert!(!other.accepts(&one.current(now), now));
        assert!(!one.accepts("", now));
        assert!(!one.accepts(&one.current(now + 300), now)); // a later slot's is not yet good
    }

    #[test]
    fn a_rotated_out_secret_still_verifies_but_makes_nothing() {
        let now = 1_800_000_000;
        let old = DpopNonces::new([1u8; 32]).unwrap();
        let rotated = DpopNonces::new([2u8; 32])
            .unwrap()
            .also_accept([1u8; 32])
            .unwrap();
        assert!(rotated.accepts(&old.current(now), now));
        assert_ne!(rotated.current(now), old.current(now));
    }
}
