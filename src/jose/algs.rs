//! The algorithms others may sign with: what a client's assertions, a trusted issuer's tokens
//! may use. The signatures themselves are checked by `tessera-verifier` (see
//! `oauth/foreign_jwt.rs`).

use super::SigningAlg;
use std::fmt;
use std::str::FromStr;
use strum::{Display, EnumIter, EnumString, IntoStaticStr};

/// HMAC algorithms, for `client_secret_jwt` only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, IntoStaticStr, Display, EnumString)]
#[strum(parse_err_ty = String, parse_err_fn = unknown_hmac_alg)]
pub enum HmacAlg {
    HS256,
    HS384,
    HS512,
}

impl HmacAlg {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

fn unknown_hmac_alg(value: &str) -> String {
    format!("unknown HMAC algorithm '{value}'")
}

/// Any algorithm a client assertion may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AssertionAlg {
    Asymmetric(SigningAlg),
    Hmac(HmacAlg),
}

impl AssertionAlg {
    pub fn as_str(self) -> &'static str {
        match self {
            AssertionAlg::Asymmetric(alg) => alg.as_str(),
            AssertionAlg::Hmac(alg) => alg.as_str(),
        }
    }
}

impl FromStr for AssertionAlg {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        value
            .parse()
            .map(AssertionAlg::Asymmetric)
            .or_else(|_| value.parse().map(AssertionAlg::Hmac))
            .map_err(|_| format!("unknown signature algorithm '{value}'"))
    }
}

impl fmt::Display for AssertionAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
