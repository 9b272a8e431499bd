//! The security profile at run time (`profile = "fapi2"`, the FAPI 2.0 Security Profile): what a
//! request can get wrong against it. What a configuration can get wrong is refused when it is
//! loaded (`settings::profile`); docs/fapi2.md lists every clause and where it is met.

use super::client_auth::AuthenticatedClient;
use super::error::{ErrorCode, OAuthError};
use super::types::{AuthMethod, GrantType};
use crate::settings::Settings;

/// FAPI 2.0 5.3.2.1: no password grant. Asked before the client authenticates, as for any grant
/// type the server does not serve.
pub fn check_grant_type(settings: &Settings, grant: GrantType) -> Result<(), OAuthError> {
    if settings.allows_grant_type(grant) {
        return Ok(());
    }
    Err(OAuthError::new(
        ErrorCode::UnsupportedGrantType,
        format!("the FAPI 2.0 profile does not allow the grant type {grant}"),
    ))
}

/// FAPI 2.0 5.3.2.1: confidential clients only, authenticating with MTLS or `private_key_jwt`.
pub fn check_auth_method(settings: &Settings, method: AuthMethod) -> Result<(), OAuthError> {
    if settings.allows_auth_method(method) {
        return Ok(());
    }
    Err(OAuthError::invalid_client(
        "the FAPI 2.0 profile accepts private_key_jwt, tls_client_auth or self_signed_tls_client_auth only",
    ))
}

/// FAPI 2.0 5.3.2.1: only sender-constrained access tokens are issued, bound by mutual TLS
/// (RFC 8705, the certificate of the connection) or by DPoP (RFC 9449, the proof's key).
pub fn check_sender_constrained(
    settings: &Settings,
    client: &AuthenticatedClient,
) -> Result<(), OAuthError> {
    if !settings.is_fapi2() || client.binding.is_sender_constrained() {
        return Ok(());
    }
    Err(OAuthError::invalid_request(
        "the FAPI 2.0 profile issues sender-constrained access tokens only, and this request binds them to nothing: send a DPoP proof, or call the mutual-TLS endpoint with the client's certificate",
    ))
}

/// Whether the refresh grant hands out a new refresh token for the one it spends. FAPI 2.0
/// 5.3.2.1 forbids rotation: the client keeps its refresh token, which stays valid.
pub fn rotates_refresh_tokens(settings: &Settings) -> bool {
    !settings.is_fapi2()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::client_auth::Binding;
    use crate::registry::Client;
    use crate::settings::Profile;
    use std::sync::Arc;

    fn fapi2() -> Settings {
        let mut settings = Settings::with_issuer("https://id.example").unwrap();
        settings.profile = Some(Profile::Fapi2);
        settings
    }

    fn client(method: AuthMethod, binding: Binding) -> AuthenticatedClient {
        AuthenticatedClient {
            client: Arc::new(Client::new("c")),
            method,
            binding,
        }
    }

    #[test]
    fn only_mtls_and_private_key_jwt_authenticate_under_fapi2() {
        let (fapi2, plain) = (
            fapi2(),
            Settings::with_issuer("https://id.example").unwrap(),
        );
        for method in [
            AuthMethod::PrivateKeyJwt,
            AuthMethod::TlsClientAuth,
            AuthMethod::SelfSignedTlsClientAuth,
        ] {
            assert!(check_auth_method(&fapi2, method).is_ok(), "{method}");
        }
        for method in [
            AuthMethod::None,
            AuthMethod::ClientSecretBasic,
            AuthMethod::ClientSecretPost,
            AuthMethod::ClientSecretJwt,
        ] {
            let err = check_auth_method(&fapi2, method).unwrap_err();
            assert_eq!((err.code, err.status), (ErrorCode::InvalidClient, 401));
            assert!(check_auth_method(&plain, method).is_ok());
        }
    }

    #[test]
    fn fapi2_refuses_the_password_grant_and_unbound_token_requests() {
        let (fapi2, plain) = (
            fapi2(),
            Settings::with_issuer("https://id.example").unwrap(),
        );
        let err = check_grant_type(&fapi2, GrantType::Password).unwrap_err();
        assert_eq!(err.code, ErrorCode::UnsupportedGrantType);
        assert!(check_grant_type(&plain, GrantType::Password).is_ok());
        assert!(check_grant_type(&fapi2, GrantType::AuthorizationCode).is_ok());

        let unbound = client(AuthMethod::PrivateKeyJwt, Binding::None);
        let err = check_sender_constrained(&fapi2, &unbound).unwrap_err();
        assert_eq!((err.code, err.status), (ErrorCode::InvalidRequest, 400));
        assert!(check_sender_constrained(&plain, &unbound).is_ok());
        for binding in [
            Binding::Certificate("x5t".into()),
            Binding::Dpop("jkt".into()),
        ] {
            let bound = client(AuthMethod::PrivateKeyJwt, binding);
            assert!(check_sender_constrained(&fapi2, &bound).is_ok());
        }

        assert!(!rotates_refresh_tokens(&fapi2));
        assert!(rotates_refresh_tokens(&plain));
    }
}
