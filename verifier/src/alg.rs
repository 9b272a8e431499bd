//! JWS algorithms this crate verifies: an allow-list with no `none`. HMAC algorithms exist only
//! for a [`SharedSecret`](crate::SharedSecret) the caller supplies; no public JWK ever yields an
//! HMAC key, so "HS256 keyed with the public key" cannot be expressed.

use std::fmt;
use std::str::FromStr;

/// A JWS `alg`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    ES256,
    ES384,
    RS256,
    PS256,
    EdDSA,
    HS256,
    HS384,
    HS512,
}

impl Algorithm {
    /// The asymmetric algorithms, the default allow-list for access tokens.
    pub const ASYMMETRIC: [Algorithm; 5] = [
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::RS256,
        Algorithm::PS256,
        Algorithm::EdDSA,
    ];

    /// The HMAC algorithms, for `client_secret_jwt`.
    pub const HMAC: [Algorithm; 3] = [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512];

    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::ES256 => "ES256",
            Algorithm::ES384 => "ES384",
            Algorithm::RS256 => "RS256",
            Algorithm::PS256 => "PS256",
            Algorithm::EdDSA => "EdDSA",
            Algorithm::HS256 => "HS256",
            Algorithm::HS384 => "HS384",
            Algorithm::HS512 => "HS512",
        }
    }

    /// Whether this is an HMAC (symmetric) algorithm.
    pub fn is_hmac(self) -> bool {
        matches!(self, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512)
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl FromStr for Algorithm {
    type Err = crate::Error;

    /// Exact, case-sensitive match (RFC 7515 4.1.1): `none`, `es256` and the like are refused.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Algorithm::ASYMMETRIC
            .into_iter()
            .chain(Algorithm::HMAC)
            .find(|alg| alg.as_str() == value)
            .ok_or(crate::Error::AlgorithmNotAllowed)
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of allowed algorithms (a bit set: checking membership costs nothing).
///
/// ```
/// use tessera_verifier::{Algorithm, AlgorithmSet};
/// let set = AlgorithmSet::from_slice(&[Algorithm::ES256, Algorithm::EdDSA]);
/// assert!(set.contains(Algorithm::ES256));
/// assert!(!set.contains(Algorithm::RS256));
/// assert!(!AlgorithmSet::asymmetric().contains(Algorithm::HS256));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct AlgorithmSet(u8);

impl AlgorithmSet {
    /// ES256, ES384, RS256, PS256 and EdDSA.
    pub fn asymmetric() -> Self {
        Self::from_slice(&Algorithm::ASYMMETRIC)
    }

    pub fn from_slice(algs: &[Algorithm]) -> Self {
        Self(algs.iter().fold(0, |bits, alg| bits | alg.bit()))
    }

    pub fn contains(self, alg: Algorithm) -> bool {
        self.0 & alg.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Only the asymmetric members of this set.
    pub fn without_hmac(self) -> Self {
        Self(self.0 & Self::asymmetric().0)
    }

    pub fn iter(self) -> impl Iterator<Item = Algorithm> {
        Algorithm::ASYMMETRIC
            .into_iter()
            .chain(Algorithm::HMAC)
            .filter(move |alg| self.contains(*alg))
    }
}

impl fmt::Debug for AlgorithmSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl FromIterator<Algorithm> for AlgorithmSet {
    fn from_iter<I: IntoIterator<Item = Algorithm>>(iter: I) -> Self {
        Self(iter.into_iter().fold(0, |bits, alg| bits | alg.bit()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_exact() {
        for alg in Algorithm::ASYMMETRIC.into_iter().chain(Algorithm::HMAC) {
            assert_eq!(alg.as_str().parse::<Algorithm>().unwrap(), alg);
        }
        for bad in ["none", "None", "es256", "HS1", "", "RS512"] {
            assert!(bad.parse::<Algorithm>().is_err(), "{bad}");
        }
    }

    #[test]
    fn sets_hold_what_they_were_given() {
        let set = AlgorithmSet::from_slice(&[Algorithm::PS256, Algorithm::HS384]);
        assert_eq!(
            set.iter().collect::<Vec<_>>(),
            [Algorithm::PS256, Algorithm::HS384]
        );
        assert_eq!(
            set.without_hmac().iter().collect::<Vec<_>>(),
            [Algorithm::PS256]
        );
    }
}
