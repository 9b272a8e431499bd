//! The one table of the tokens Tessera makes, and of the ids it lets be used only once. Every
//! `typ` header the issuer writes or expects comes from here. A leaf module: the JOSE and key
//! layers use it too.

/// A kind of token the issuer makes, and how it is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// RFC 9068 access token (signed, read by resource servers).
    Access,
    /// OpenID Connect ID token (signed, read by the client).
    Id,
    /// UMA 2.0 permission ticket (signed; comes back in the uma-ticket grant).
    UmaTicket,
    /// An IETF Token Status List token (signed, read by resource servers).
    StatusList,
    /// OpenID Connect Back-Channel Logout token (signed, read by the client).
    Logout,
    /// Refresh token (sealed to the issuer).
    Refresh,
    /// Authorization code (sealed to the issuer).
    Code,
    /// The checked authorization request a login or consent form carries (sealed).
    AuthorizationForm,
    /// The signed-in browser's session cookie (sealed).
    Session,
    /// RFC 8628 device code (sealed; comes back when the device polls).
    DeviceCode,
    /// The pending device authorization a verification page's form carries (sealed).
    DeviceForm,
    /// The logout request a logout confirmation form carries (sealed).
    LogoutForm,
    /// A pushed authorization request (RFC 9126): what its `request_uri` carries (sealed).
    PushedRequest,
}

/// How a kind of token is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protection {
    /// A compact JWS by the key ring's signing keys, verifiable by anyone with the JWKS.
    Signed,
    /// A compact JWE (`dir`, A256GCM) under the issuer's own secret key: opaque to all others.
    Sealed,
}

impl TokenKind {
    /// Every kind the issuer signs (their JWS headers are encoded once per key).
    pub const SIGNED: [TokenKind; 5] = [
        TokenKind::Access,
        TokenKind::Id,
        TokenKind::UmaTicket,
        TokenKind::StatusList,
        TokenKind::Logout,
    ];

    /// The `typ` header of the kind.
    pub const fn typ(self) -> &'static str {
        match self {
            TokenKind::Access => "at+jwt",
            TokenKind::Id => "JWT",
            TokenKind::UmaTicket => "uma-ticket+jwt",
            TokenKind::StatusList => "statuslist+jwt",
            // Back-Channel Logout 1.0 section 2.4 (explicit typing against cross-JWT confusion).
            TokenKind::Logout => "logout+jwt",
            TokenKind::Refresh => "rt+jwe",
            TokenKind::Code => "code+jwe",
            TokenKind::AuthorizationForm => "authz+jwe",
            TokenKind::Session => "session+jwe",
            TokenKind::DeviceCode => "device-code+jwe",
            TokenKind::DeviceForm => "device-form+jwe",
            TokenKind::LogoutForm => "logout-form+jwe",
            TokenKind::PushedRequest => "par+jwe",
        }
    }

    pub const fn protection(self) -> Protection {
        match self {
            TokenKind::Access
            | TokenKind::Id
            | TokenKind::UmaTicket
            | TokenKind::StatusList
            | TokenKind::Logout => Protection::Signed,
            TokenKind::Refresh
            | TokenKind::Code
            | TokenKind::AuthorizationForm
            | TokenKind::Session
            | TokenKind::DeviceCode
            | TokenKind::DeviceForm
            | TokenKind::LogoutForm
            | TokenKind::PushedRequest => Protection::Sealed,
        }
    }

    /// The position of a signed kind in `SIGNED`.
    pub fn signed_index(self) -> Option<usize> {
        Self::SIGNED.iter().position(|kind| *kind == self)
    }
}

/// The `typ` of a DPoP proof (RFC 9449 4.2): a JWT clients sign, never the issuer.
pub const DPOP_PROOF_TYP: &str = "dpop+jwt";

/// What an id that may be used only once belongs to; the replay store keeps each namespace apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReplayKind {
    /// A spent refresh token (`jti`).
    Refresh,
    /// An exchanged authorization code (`jti`).
    Code,
    /// An answered consent form.
    Consent,
    /// A client assertion (`client_id:jti`).
    ClientAssertion,
    /// A JWT bearer grant assertion (`iss:jti`).
    JwtBearer,
    /// A device code exchanged for tokens (`jti`).
    DeviceCode,
    /// An answered logout confirmation form.
    LogoutForm,
    /// A DPoP proof (`jkt:jti`: its key's thumbprint and its id, so one client's ids never
    /// collide with another's).
    DpopProof,
    /// A pushed authorization request's `request_uri`, once a code was issued for it (`jti`).
    RequestUri,
}

impl ReplayKind {
    /// The namespace in the replay store. These names are shared by replicas (Redis keys): they
    /// never change.
    pub const fn namespace(self) -> &'static str {
        match self {
            ReplayKind::Refresh => "refresh",
            ReplayKind::Code => "code",
            ReplayKind::Consent => "consent",
            ReplayKind::ClientAssertion => "assertion",
            ReplayKind::JwtBearer => "jwt-bearer",
            ReplayKind::DeviceCode => "device-code",
            ReplayKind::LogoutForm => "logout-form",
            ReplayKind::DpopProof => "dpop",
            ReplayKind::RequestUri => "request-uri",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_kinds_are_exactly_the_signed_protection() {
        for kind in TokenKind::SIGNED {
            assert_eq!(kind.protection(), Protection::Signed, "{kind:?}");
            assert!(kind.signed_index().is_some());
        }
        assert_eq!(TokenKind::Refresh.signed_index(), None);
    }
}
