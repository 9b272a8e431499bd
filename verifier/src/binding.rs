//! Sender-constrained tokens: a token with `cnf` is only good together with the proof it names,
//! and a token is only good under the scheme its binding allows.
//!
//! - `cnf.x5t#S256` (RFC 8705 3): the SHA-256 of the client certificate's DER, base64url,
//!   compared in constant time with the certificate of the TLS connection.
//! - `cnf.jkt` (RFC 9449 6): DPoP. Only with the DPoP scheme and a proof by the key whose
//!   RFC 7638 thumbprint it is (the proof itself is checked in `dpop`); never as a bearer token
//!   (RFC 9449 7.2). The DPoP scheme with a token that is not DPoP-bound is refused too.
//! - A `cnf` with neither is refused: an unknown confirmation method cannot be honoured.

use crate::claims::Confirmation;
use crate::dpop::DpopRequest;
use crate::error::BindingError;
use aws_lc_rs::digest;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use subtle::ConstantTimeEq;

/// What the request presented beside the token, and under which scheme.
#[derive(Debug, Clone, Copy, Default)]
pub enum Proof<'a> {
    /// Nothing: a plain bearer request (`Authorization: Bearer`).
    #[default]
    None,
    /// A bearer request over mutual TLS: the DER bytes of the connection's client certificate.
    ClientCertificate(&'a [u8]),
    /// `Authorization: DPoP`, with the request's proof (RFC 9449 7.1).
    Dpop(DpopRequest<'a>),
}

impl<'a> Proof<'a> {
    fn certificate(&self) -> Option<&'a [u8]> {
        match self {
            Proof::None => None,
            Proof::ClientCertificate(der) => Some(der),
            Proof::Dpop(request) => request.certificate(),
        }
    }
}

/// RFC 8705 3.1: base64url(SHA-256(DER)) of a certificate, the `x5t#S256` value.
///
/// ```
/// let thumbprint = tessera_verifier::certificate_thumbprint(b"not really DER");
/// assert_eq!(thumbprint.len(), 43);
/// ```
pub fn certificate_thumbprint(der: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, der))
}

/// What the verifier does with DPoP: nothing (no `DpopConfig`), or DPoP with or without plain
/// bearer tokens beside it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Schemes {
    pub dpop: bool,
    pub bearer_tokens: bool,
}

/// Before any proof is checked: whether the token may be presented the way it was. A token
/// without `cnf` is a bearer token: any bearer request may present it, with or without a
/// certificate.
pub(crate) fn check_scheme(
    cnf: Option<&Confirmation>,
    proof: &Proof<'_>,
    schemes: Schemes,
) -> Result<(), BindingError> {
    let dpop_scheme = matches!(proof, Proof::Dpop(_));
    let jkt = cnf.and_then(|cnf| cnf.jkt.as_ref());
    if let Some(cnf) = cnf {
        if cnf.jkt.is_none() && cnf.x5t_s256.is_none() {
            return Err(BindingError::UnknownConfirmation);
        }
    }
    match (jkt, dpop_scheme) {
        (Some(_), _) if !schemes.dpop => Err(BindingError::DpopNotSupported),
        (Some(_), true) => Ok(()),
        (Some(_), false) => Err(BindingError::DpopProofMissing),
        (None, _) if schemes.dpop && !schemes.bearer_tokens => Err(BindingError::BearerNotAccepted),
        (None, true) if !schemes.dpop => Err(BindingError::DpopNotSupported),
        (None, true) => Err(BindingError::NotDpopBound),
        (None, false) => Ok(()),
    }
}

/// Once the proof is checked: the certificate against `cnf.x5t#S256`, and the proof's key
/// thumbprint `proven_jkt` against `cnf.jkt`.
pub(crate) fn check_possession(
    cnf: Option<&Confirmation>,
    proof: &Proof<'_>,
    proven_jkt: Option<&str>,
) -> Result<(), BindingError> {
    let Some(cnf) = cnf else {
        return Ok(());
    };
    if let Some(jkt) = &cnf.jkt {
        let proven = proven_jkt.ok_or(BindingError::DpopProofMissing)?;
        check_dpop_binding(jkt, proven)?;
    }
    if let Some(expected) = &cnf.x5t_s256 {
        let der = proof
            .certificate()
            .ok_or(BindingError::CertificateMissing)?;
        let presented = certificate_thumbprint(der);
        if !bool::from(presented.as_bytes().ct_eq(expected.as_bytes())) {
            return Err(BindingError::CertificateMismatch);
        }
    }
    Ok(())
}

/// RFC 9449 6.1, 7.1: whether a DPoP proof by the key of thumbprint `proof_jkt` (see
/// [`jwk_thumbprint`](crate::jwk_thumbprint)) may present a token bound to `jkt`; compared in
/// constant time.
///
/// ```
/// use tessera_verifier::{check_dpop_binding, BindingError};
/// assert_eq!(check_dpop_binding("abc", "abc"), Ok(()));
/// assert_eq!(check_dpop_binding("abc", "abd"), Err(BindingError::DpopKeyMismatch));
/// ```
pub fn check_dpop_binding(jkt: &str, proof_jkt: &str) -> Result<(), BindingError> {
    if bool::from(jkt.as_bytes().ct_eq(proof_jkt.as_bytes())) {
        Ok(())
    } else {
        Err(BindingError::DpopKeyMismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BEARER_AND_DPOP: Schemes = Schemes {
        dpop: true,
        bearer_tokens: true,
    };

    fn check(cnf: Option<&Confirmation>, proof: &Proof<'_>) -> Result<(), BindingError> {
        check_scheme(cnf, proof, BEARER_AND_DPOP)?;
        check_possession(cnf, proof, None)
    }

    fn bound_to(der: &[u8]) -> Confirmation {
        Confirmation {
            x5t_s256: Some(certificate_thumbprint(der)),
            ..Confirmation::default()
        }
    }

    #[test]
    fn certificate_bound_tokens_need_that_certificate() {
        let cnf = bound_to(b"cert-a");
        assert_eq!(
            check(Some(&cnf), &Proof::ClientCertificate(b"cert-a")),
            Ok(())
        );
        assert_eq!(
            check(Some(&cnf), &Proof::ClientCertificate(b"cert-b")),
            Err(BindingError::CertificateMismatch)
        );
        assert_eq!(
            check(Some(&cnf), &Proof::None),
            Err(BindingError::CertificateMissing)
        );
    }

    #[test]
    fn each_binding_takes_its_own_scheme() {
        let dpop = Confirmation {
            jkt: Some("thumb".into()),
            ..Confirmation::default()
        };
        let request = Proof::Dpop(DpopRequest::new("p", "GET", "/"));
        assert_eq!(
            check_scheme(Some(&dpop), &Proof::None, BEARER_AND_DPOP),
            Err(BindingError::DpopProofMissing)
        );
        assert_eq!(check_scheme(Some(&dpop), &request, BEARER_AND_DPOP), Ok(()));
        assert_eq!(
            check_possession(Some(&dpop), &request, Some("other")),
            Err(BindingError::DpopKeyMismatch)
        );
        assert_eq!(
            check_possession(Some(&dpop), &request, Some("thumb")),
            Ok(())
        );
        let no_dpop = Schemes {
            dpop: false,
            bearer_tokens: true,
        };
        assert_eq!(
            check_scheme(Some(&dpop), &Proof::None, no_dpop),
            Err(BindingError::DpopNotSupported)
        );
        assert_eq!(
            check_scheme(None, &request, BEARER_AND_DPOP),
            Err(BindingError::NotDpopBound)
        );
        let dpop_only = Schemes {
            dpop: true,
            bearer_tokens: false,
        };
        assert_eq!(
            check_scheme(None, &Proof::None, dpop_only),
            Err(BindingError::BearerNotAccepted)
        );
        // A token bound to a certificate only is not DPoP-bound.
        assert_eq!(
            check_scheme(Some(&bound_to(b"c")), &request, BEARER_AND_DPOP),
            Err(BindingError::NotDpopBound)
        );
        assert_eq!(
            check(
                Some(&Confirmation::default()),
                &Proof::ClientCertificate(b"c")
            ),
            Err(BindingError::UnknownConfirmation)
        );
        assert_eq!(check(None, &Proof::ClientCertificate(b"c")), Ok(()));
    }
}
