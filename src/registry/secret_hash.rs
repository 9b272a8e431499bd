//! A stored secret's hash, parsed and checked once at load time. Two formats, both PHC strings:
//!
//! - `$hmac-sha256$v=1$<salt>$<tag>`: HMAC-SHA-256 of the secret keyed by a random 128-bit salt
//!   (HKDF-Extract's construction). Only for the 256-bit random secrets `tessera client secret`
//!   generates: guessing one is 2^256 work however fast the hash, so a slow hash adds nothing
//!   but a lever for floods. Checking one costs about a microsecond.
//! - `$argon2id$v=19$m=..,t=..,p=..$<salt>$<hash>`: for secrets a person chose and user
//!   passwords, which can be guessed. Parameters are bounded, so no hash in a configuration can
//!   make one check cost unbounded memory or time.

use argon2::password_hash::PasswordHash;
use aws_lc_rs::hmac;
use std::sync::Arc;

/// The keyed format's PHC identifier.
pub const KEYED_ID: &str = "hmac-sha256";
const KEYED_VERSION: u32 = 1;
const KEYED_SALT_LEN: usize = 16;
const KEYED_TAG_LEN: usize = 32;
/// The largest argon2 memory cost accepted (KiB): 64 MiB per concurrent check.
pub const MAX_ARGON2_MEMORY_KIB: u32 = 64 * 1024;
/// The largest argon2 time cost (passes) and lanes accepted.
pub const MAX_ARGON2_PASSES: u32 = 10;
pub const MAX_ARGON2_LANES: u32 = 8;

/// An argon2id hash, decoded.
#[derive(Clone, PartialEq, Eq)]
pub struct Argon2Hash {
    pub params: argon2::Params,
    pub version: argon2::Version,
    pub salt: Vec<u8>,
    pub hash: Vec<u8>,
}

/// A client secret's or a user password's hash.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretHash {
    Keyed {
        salt: [u8; KEYED_SALT_LEN],
        tag: [u8; KEYED_TAG_LEN],
    },
    Argon2(Arc<Argon2Hash>),
}

fn b64_decode(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(text)
        .ok()
}

fn b64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes)
}

fn keyed_tag(salt: &[u8], secret: &str) -> hmac::Tag {
    hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, salt), secret.as_bytes())
}

impl SecretHash {
    /// `made_by` is the command that makes such a hash, named when `phc` is not one at all.
    pub fn parse(phc: &str, made_by: &str) -> Result<SecretHash, String> {
        let hash = PasswordHash::new(phc)
            .map_err(|err| format!("not a PHC string ({err}); make one with `{made_by}`"))?;
        match hash.algorithm.as_str() {
            KEYED_ID => Self::parse_keyed(&hash),
            "argon2id" => Self::parse_argon2(&hash),
            other => Err(format!(
                "the hash algorithm must be argon2id or {KEYED_ID}, not {other}"
            )),
        }
    }

    fn parse_keyed(hash: &PasswordHash<'_>) -> Result<SecretHash, String> {
        if hash.version != Some(KEYED_VERSION) || !hash.params.is_empty() {
            return Err(format!(
                "a {KEYED_ID} hash must be v={KEYED_VERSION}, without parameters"
            ));
        }
        let salt = hash
            .salt
            .and_then(|salt| b64_decode(salt.as_str()))
            .and_then(|salt| <[u8; KEYED_SALT_LEN]>::try_from(salt).ok())
            .ok_or_else(|| format!("a {KEYED_ID} hash needs a {KEYED_SALT_LEN}-byte salt"))?;
        let tag = hash
            .hash
            .and_then(|tag| <[u8; KEYED_TAG_LEN]>::try_from(tag.as_bytes()).ok())
            .ok_or_else(|| format!("a {KEYED_ID} hash needs a {KEYED_TAG_LEN}-byte tag"))?;
        Ok(SecretHash::Keyed { salt, tag })
    }

    fn parse_argon2(hash: &PasswordHash<'_>) -> Result<SecretHash, String> {
        let params = argon2::Params::try_from(hash)
            .map_err(|err| format!("the argon2 parameters are not valid: {err}"))?;
        if params.m_cost() > MAX_ARGON2_MEMORY_KIB
            || params.t_cost() > MAX_ARGON2_PASSES
            || params.p_cost() > MAX_ARGON2_LANES
        {
            return Err(format!(
                "the argon2 parameters may be at most m={MAX_ARGON2_MEMORY_KIB}, \
                 t={MAX_ARGON2_PASSES}, p={MAX_ARGON2_LANES}"
            ));
        }
        let version = argon2::Version::try_from(hash.version.unwrap_or(0x13))
            .map_err(|err| format!("the argon2 version is not valid: {err}"))?;
        let salt = hash
            .salt
            .and_then(|salt| b64_decode(salt.as_str()))
            .filter(|salt| salt.len() >= 8)
            .ok_or("the PHC string has no salt of at least 8 bytes")?;
        let output = hash.hash.ok_or("the PHC string has no hash")?;
        Ok(SecretHash::Argon2(Arc::new(Argon2Hash {
            params,
            version,
            salt,
            hash: output.as_bytes().to_vec(),
        })))
    }

    /// The keyed-format hash of `secret` under a fresh random salt.
    pub fn keyed(secret: &str) -> String {
        let mut salt = [0u8; KEYED_SALT_LEN];
        aws_lc_rs::rand::fill(&mut salt).expect("the system random source works");
        let tag = keyed_tag(&salt, secret);
        format!(
            "${KEYED_ID}$v={KEYED_VERSION}${}${}",
            b64_encode(&salt),
            b64_encode(tag.as_ref())
        )
    }

    /// A keyed hash's check, in constant time; `None` for an argon2 hash (see
    /// `oauth::hash_pool`).
    pub fn keyed_matches(&self, presented: &str) -> Option<bool> {
        match self {
            SecretHash::Keyed { salt, tag } => Some(
                hmac::verify(
                    &hmac::Key::new(hmac::HMAC_SHA256, salt),
                    presented.as_bytes(),
                    tag,
                )
                .is_ok(),
            ),
            SecretHash::Argon2(_) => None,
        }
    }
}

// Never print a hash: it is an offline brute-force target.
impl std::fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SecretHash::Keyed { .. } => "SecretHash::Keyed(..)",
            SecretHash::Argon2(_) => "SecretHash::Argon2(..)",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_keyed_hash_checks_its_secret_only() {
        let phc = SecretHash::keyed("s3cret");
        assert!(phc.starts_with("$hmac-sha256$v=1$"));
        let hash = SecretHash::parse(&phc, "x").unwrap();
        assert_eq!(hash.keyed_matches("s3cret"), Some(true));
        assert_eq!(hash.keyed_matches("s3cre"), Some(false));
        assert_ne!(
            SecretHash::keyed("s3cret"),
            phc,
            "each hash has its own salt"
        );
    }

    #[test]
    fn malformed_and_oversized_hashes_are_refused() {
        let too_big = "$argon2id$v=19$m=1048576,t=2,p=1$c2FsdHNhbHRzYWx0$Hf0CjJ1i2ZVJkM6AAh4l2xOKnUVbfO5zWNnD0MY3cAk";
        assert!(SecretHash::parse(too_big, "x")
            .unwrap_err()
            .contains("at most m=65536"));
        let tag = b64_encode(&[7; 32]);
        assert!(
            SecretHash::parse(&format!("$hmac-sha256$v=2$c2FsdHNhbHQ${tag}"), "x")
                .unwrap_err()
                .contains("must be v=1")
        );
        assert!(
            SecretHash::parse(&format!("$hmac-sha256$v=1$c2FsdHNhbHQ${tag}"), "x")
                .unwrap_err()
                .contains("16-byte salt")
        );
        let salt = b64_encode(&[1; 16]);
        assert!(
            SecretHash::parse(&format!("$hmac-sha256$v=1${salt}$c2hvcnQtdGFnLTEy"), "x")
                .unwrap_err()
                .contains("32-byte tag")
        );
        assert!(SecretHash::parse(
            "$argon2i$v=19$m=16,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
            "x"
        )
        .unwrap_err()
        .contains("must be argon2id or hmac-sha256"));
    }
}
