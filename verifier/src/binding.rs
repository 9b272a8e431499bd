//! Sender-constrained tokens: a token with `cnf` is only good together with the proof it names.
//!
//! - `cnf.x5t#S256` (RFC 8705 3): the SHA-256 of the client certificate's DER, base64url,
//!   compared in constant time with the certificate of the TLS connection.
//! - `cnf.jkt` (RFC 9449 6): DPoP. Proofs are not verified yet, so such a token is always
//!   refused ([`BindingError::DpopNotSupported`]) — see [`check_dpop_binding`].
//! - A `cnf` with neither is refused: an unknown confirmation method cannot be honoured.

use crate::claims::Confirmation;
use crate::error::BindingError;
use aws_lc_rs::digest;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use subtle::ConstantTimeEq;

/// What the request presented beside the token.
#[derive(Debug, Clone, Copy, Default)]
pub enum Proof<'a> {
    /// Nothing: a plain bearer request.
    #[default]
    None,
    /// The DER bytes of the client certificate of the mutual-TLS connection.
    ClientCertificate(&'a [u8]),
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

/// Whether `proof` satisfies `cnf`. A token without `cnf` is a bearer token: any request may
/// present it, with or without a certificate.
pub(crate) fn check(cnf: Option<&Confirmation>, proof: &Proof<'_>) -> Result<(), BindingError> {
    let Some(cnf) = cnf else {
        return Ok(());
    };
    if let Some(jkt) = &cnf.jkt {
        return check_dpop_binding(jkt, proof);
    }
    match (&cnf.x5t_s256, proof) {
        (Some(_), Proof::None) => Err(BindingError::CertificateMissing),
        (Some(expected), Proof::ClientCertificate(der)) => {
            let presented = certificate_thumbprint(der);
            if bool::from(presented.as_bytes().ct_eq(expected.as_bytes())) {
                Ok(())
            } else {
                Err(BindingError::CertificateMismatch)
            }
        }
        (None, _) => Err(BindingError::UnknownConfirmation),
    }
}

/// The DPoP (RFC 9449) check of a token bound to the key thumbprint `jkt`. DPoP proofs are not
/// verified by this version, so every such token is refused; when they are, this is where the
/// proof's key thumbprint is compared with `jkt` (and `ath`, `htm`, `htu`, `iat`, `jti` are
/// checked).
pub fn check_dpop_binding(_jkt: &str, _proof: &Proof<'_>) -> Result<(), BindingError> {
    Err(BindingError::DpopNotSupported)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn dpop_and_unknown_bindings_are_refused() {
        let dpop = Confirmation {
            jkt: Some("thumb".into()),
            ..Confirmation::default()
        };
        assert_eq!(
            check(Some(&dpop), &Proof::None),
            Err(BindingError::DpopNotSupported)
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
