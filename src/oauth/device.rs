//! The device authorization grant's own values (RFC 8628): user codes people type, the
//! self-contained device code the device polls with, and the form the verification page
//! carries sealed. The one piece of state, the authorization pending behind a user code, is in
//! the revocation store (`revocation::device`).

use super::authorize::SignedIn;
use super::token_kind::TokenKind;
use super::tokens::OwnClaims;
use crate::clock::UnixTime;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};

/// RFC 8628 6.1: consonants only, so no look-alikes (0/O, 1/I/L, 5/S... there are no vowels or
/// digits) and no words are spelled. 20^8 codes: about 34.5 bits.
pub const USER_CODE_ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";
pub const USER_CODE_LENGTH: usize = 8;

/// How long after its expiry a device code is still read back, so that polling answers
/// `expired_token` rather than `invalid_grant`.
const EXPIRED_NOTICE_SECS: i64 = 3600;

/// A new user code (normalized: 8 letters of the alphabet, no separator).
pub fn new_user_code() -> String {
    let random = SystemRandom::new();
    let mut code = String::with_capacity(USER_CODE_LENGTH);
    let mut byte = [0u8; 1];
    while code.len() < USER_CODE_LENGTH {
        random
            .fill(&mut byte)
            .expect("the system random source works");
        // 240 = 12 × 20: rejecting the rest keeps every letter equally likely.
        if byte[0] < 240 {
            code.push(USER_CODE_ALPHABET[(byte[0] % 20) as usize] as char);
        }
    }
    code
}

/// A user code as people read it: `WDJB-MJHT`.
pub fn display_user_code(code: &str) -> String {
    let (first, second) = code.split_at(code.len().min(USER_CODE_LENGTH / 2));
    format!("{first}-{second}")
}

/// A user code as typed: case, dashes and spaces do not matter (RFC 8628 6.1). `None` when it
/// cannot be a user code at all.
pub fn normalize_user_code(typed: &str) -> Option<String> {
    if typed.len() > 64 {
        return None;
    }
    let code: String = typed
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '\t'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (code.len() == USER_CODE_LENGTH && code.bytes().all(|b| USER_CODE_ALPHABET.contains(&b)))
        .then_some(code)
}

/// The content of a device code: what the device asked for, and the user code it waits on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeviceCodeClaims {
    pub iss: String,
    pub client_id: String,
    pub user_code: String,
    pub scope: String,
    /// When the device code expires (`expires_in` from its issue).
    pub exp: UnixTime,
    pub jti: String,
}

impl OwnClaims for DeviceCodeClaims {
    const KIND: TokenKind = TokenKind::DeviceCode;

    fn iss(&self) -> Option<&str> {
        Some(&self.iss)
    }

    /// Read back a while past `exp`: the grant answers `expired_token` itself.
    fn exp(&self) -> UnixTime {
        self.exp + EXPIRED_NOTICE_SECS
    }
}

/// The verification page's form, sealed: the pending authorization the user found with a user
/// code, the browser it binds to, and who signed in.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeviceForm {
    pub user_code: String,
    pub device_id: String,
    pub client_id: String,
    pub scope: String,
    pub csrf: String,
    /// Tells one rendered form from another (a consent form answers once).
    pub form_id: String,
    #[serde(default)]
    pub signed_in: Option<SignedIn>,
    pub exp: UnixTime,
}

impl DeviceForm {
    /// The id under which this rendered form is used once.
    pub fn csrf_form_id(&self) -> String {
        format!("{}:{}", self.csrf, self.form_id)
    }
}

impl OwnClaims for DeviceForm {
    const KIND: TokenKind = TokenKind::DeviceForm;

    fn exp(&self) -> UnixTime {
        self.exp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_use_the_alphabet_and_read_back_however_typed() {
        for _ in 0..200 {
            let code = new_user_code();
            assert_eq!(code.len(), USER_CODE_LENGTH);
            assert!(
                code.bytes().all(|b| USER_CODE_ALPHABET.contains(&b)),
                "{code}"
            );
            assert_eq!(
                normalize_user_code(&display_user_code(&code)).as_deref(),
                Some(code.as_str())
            );
        }
        assert_eq!(display_user_code("WDJBMJHT"), "WDJB-MJHT");
        assert_eq!(
            normalize_user_code(" wdjb-mjht ").as_deref(),
            Some("WDJBMJHT")
        );
        assert_eq!(normalize_user_code("WDJB-MJH"), None);
        assert_eq!(normalize_user_code("WDJB-MJHA"), None, "a vowel");
        assert_eq!(normalize_user_code("WDJB-MJH0"), None, "a digit");
        assert_eq!(normalize_user_code("ẞWDJBMJH"), None);
    }
}
