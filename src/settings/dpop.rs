//! `[dpop]`: DPoP proofs (RFC 9449) — the algorithms a proof may use, how far its `iat` may be
//! from now, and whether proofs must carry a server nonce (stateless: derived from the issuer's
//! secret key and a time slot, so replicas agree without talking).

use super::problems::Problems;
use super::values::{duration_or, parse_list};
use crate::jose::SigningAlg;
use serde::Deserialize;
use std::time::Duration;
use strum::IntoEnumIterator;

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct RawDpop {
    pub(super) signing_algs: Option<Vec<String>>,
    iat_window: Option<String>,
    require_nonce: Option<bool>,
    nonce_slot: Option<String>,
}

#[derive(Debug, Clone)]
pub struct DpopSettings {
    /// The `alg`s a proof may be signed with (`dpop_signing_alg_values_supported`).
    pub signing_algs: Vec<SigningAlg>,
    /// The same, space-separated, as the `algs` of a `WWW-Authenticate: DPoP` challenge.
    pub algs_text: String,
    /// A proof's `iat` may be at most this far before or after now; its `jti` is remembered
    /// this long.
    pub iat_window: Duration,
    /// Every proof must carry a nonce this server issued (`use_dpop_nonce` otherwise).
    pub require_nonce: bool,
    /// A nonce is made for one slot of this length and accepted in that slot and the next.
    pub nonce_slot: Duration,
}

impl RawDpop {
    pub(super) fn validate(&self, problems: &mut Problems) -> DpopSettings {
        let signing_algs = parse_list(
            problems,
            "signing_algs",
            self.signing_algs.as_ref(),
            SigningAlg::iter().collect(),
            |text| text.parse(),
        );
        if signing_algs.is_empty() {
            problems.push("signing_algs", "must name at least one algorithm");
        }
        let iat_window = duration_or(
            problems,
            "iat_window",
            self.iat_window.as_ref(),
            Duration::from_secs(60),
        );
        if iat_window.is_zero() || iat_window > Duration::from_secs(3600) {
            problems.push("iat_window", "must be from 1 second to 1 hour");
        }
        let nonce_slot = duration_or(
            problems,
            "nonce_slot",
            self.nonce_slot.as_ref(),
            Duration::from_secs(300),
        );
        if nonce_slot < Duration::from_secs(10) || nonce_slot > Duration::from_secs(86400) {
            problems.push("nonce_slot", "must be from 10 seconds to 1 day");
        }
        let mut settings = DpopSettings {
            algs_text: String::new(),
            signing_algs: Vec::new(),
            iat_window,
            require_nonce: self.require_nonce.unwrap_or(false),
            nonce_slot,
        };
        settings.set_signing_algs(signing_algs);
        settings
    }
}

impl DpopSettings {
    /// The algorithms a proof may use, and their challenge text with them.
    pub(super) fn set_signing_algs(&mut self, algs: Vec<SigningAlg>) {
        self.algs_text = algs
            .iter()
            .map(|alg| alg.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        self.signing_algs = algs;
    }
}
