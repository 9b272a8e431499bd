//! `profile`: a security profile the whole configuration is held to. `"fapi2"` is the FAPI 2.0
//! Security Profile (final): what a file can get wrong against it is a problem here, named with
//! its path and the clause; what a request can get wrong is refused at run time by
//! `oauth::profile`. docs/fapi2.md lists every clause and how it is met.

use super::problems::Problems;
use super::{RawSettings, Settings};
use crate::jose::{AssertionAlg, SigningAlg};
use crate::names;
use crate::oauth::types::{AuthMethod, GrantType};
use std::time::Duration;
use strum::{EnumIter, EnumString, IntoStaticStr};

/// A security profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, IntoStaticStr, EnumString)]
#[strum(
    serialize_all = "snake_case",
    parse_err_ty = String,
    parse_err_fn = unknown_profile
)]
pub enum Profile {
    /// The FAPI 2.0 Security Profile (final).
    Fapi2,
}

fn unknown_profile(value: &str) -> String {
    names::unsupported::<Profile>("unknown profile", value)
}

/// FAPI 2.0 5.3.2.1: clients authenticate with MTLS or `private_key_jwt`.
const FAPI2_METHODS: [AuthMethod; 3] = [
    AuthMethod::PrivateKeyJwt,
    AuthMethod::TlsClientAuth,
    AuthMethod::SelfSignedTlsClientAuth,
];

/// FAPI 2.0 5.4.1: the JWT algorithms.
const FAPI2_ALGS: [SigningAlg; 3] = [SigningAlg::PS256, SigningAlg::ES256, SigningAlg::EdDSA];

/// FAPI 2.0 5.3.2.1: authorization codes live at most this long.
const FAPI2_CODE_TTL: Duration = Duration::from_secs(60);

/// FAPI 2.0 5.3.2.2: a `request_uri` lives less than this.
const FAPI2_REQUEST_URI_TTL: Duration = Duration::from_secs(600);

/// FAPI 2.0 5.3.2.1: JWTs up to 10 seconds ahead are accepted, none more than 60 ahead.
const FAPI2_SKEW: std::ops::RangeInclusive<Duration> =
    Duration::from_secs(10)..=Duration::from_secs(60);

/// What the profile allows, as the protocol core and discovery ask it.
impl Settings {
    pub fn is_fapi2(&self) -> bool {
        self.profile == Some(Profile::Fapi2)
    }

    /// Whether clients may authenticate with `method`.
    pub fn allows_auth_method(&self, method: AuthMethod) -> bool {
        !self.is_fapi2() || FAPI2_METHODS.contains(&method)
    }

    /// Whether the token endpoint serves `grant` (FAPI 2.0 5.3.2.1 refuses the password grant).
    pub fn allows_grant_type(&self, grant: GrantType) -> bool {
        !self.is_fapi2() || grant != GrantType::Password
    }

    /// Whether a JWT of another party (a trusted issuer's, a provider's ID token) may be
    /// signed with `alg`.
    pub fn allows_jwt_alg(&self, alg: SigningAlg) -> bool {
        !self.is_fapi2() || FAPI2_ALGS.contains(&alg)
    }

    /// Whether a client assertion may be signed with `alg`.
    pub fn allows_assertion_alg(&self, alg: AssertionAlg) -> bool {
        match alg {
            AssertionAlg::Asymmetric(alg) => self.allows_jwt_alg(alg),
            // client_secret_jwt is not a FAPI 2.0 method.
            AssertionAlg::Hmac(_) => !self.is_fapi2(),
        }
    }

    // What follows holds at run time whatever the settings say, so that settings built or
    // changed in code (past `config check`) are held to the profile too.

    /// Whether every authorization request must be pushed (RFC 9126 5; FAPI 2.0 5.3.2.2).
    pub fn requires_pushed_requests(&self) -> bool {
        self.is_fapi2() || self.authorize.require_pushed_authorization_requests
    }

    /// How long an authorization code lives (FAPI 2.0 5.3.2.1: at most 60 seconds).
    pub fn code_ttl(&self) -> Duration {
        match self.is_fapi2() {
            true => self.authorize.code_ttl.min(FAPI2_CODE_TTL),
            false => self.authorize.code_ttl,
        }
    }

    /// How long a `request_uri` lives (FAPI 2.0 5.3.2.2: less than 600 seconds).
    pub fn request_uri_ttl(&self) -> Duration {
        match self.is_fapi2() {
            true => {
                (self.authorize.request_uri_ttl).min(FAPI2_REQUEST_URI_TTL - Duration::from_secs(1))
            }
            false => self.authorize.request_uri_ttl,
        }
    }
}

impl RawSettings {
    /// The `profile` the file names, if any.
    pub(super) fn profile(&self, problems: &mut Problems) -> Option<Profile> {
        problems.check("profile", self.profile.as_deref()?.parse())
    }
}

/// Holds the configuration of a server with `profile = "fapi2"` to the profile: every clause a
/// file can break is a problem at its path; what the profile decides for the file is set.
pub(super) fn apply_fapi2(raw: &RawSettings, settings: &mut Settings, problems: &mut Problems) {
    if !settings.issuer.starts_with("https://") {
        problems.push(
            "issuer",
            "profile fapi2 needs an https issuer (FAPI 2.0 5.2.1: TLS-protected endpoints only)",
        );
    }
    let alg = settings.tokens.signing_alg;
    if !FAPI2_ALGS.contains(&alg) {
        problems.push(
            "tokens.signing_alg",
            format!(
                "profile fapi2 signs with PS256, ES256 or EdDSA only, not {alg} (FAPI 2.0 5.4.1)"
            ),
        );
    }
    let authorize = &mut settings.authorize;
    if authorize.code_ttl > FAPI2_CODE_TTL {
        problems.push(
            "authorize.code_ttl",
            "profile fapi2 lets authorization codes live at most 60 seconds (FAPI 2.0 5.3.2.1)",
        );
    }
    if authorize.request_uri_ttl >= FAPI2_REQUEST_URI_TTL {
        problems.push(
            "authorize.request_uri_ttl",
            "profile fapi2 needs a request_uri to live less than 600 seconds (FAPI 2.0 5.3.2.2)",
        );
    }
    if raw.authorize.require_pushed_authorization_requests == Some(false) {
        problems.push(
            "authorize.require_pushed_authorization_requests",
            "profile fapi2 requires pushed authorization requests (FAPI 2.0 5.3.2.2): leave it out or set it to true",
        );
    }
    authorize.require_pushed_authorization_requests = true;
    if !FAPI2_SKEW.contains(&settings.client_assertions.clock_skew) {
        problems.push(
            "client_assertions.clock_skew",
            "profile fapi2 accepts JWTs dated up to 10 seconds ahead and refuses those more than 60 seconds ahead (FAPI 2.0 5.3.2.1): set 10s to 60s",
        );
    }
    // 5.4.1 holds for DPoP proofs too: left out, the list is the profile's three.
    match &raw.dpop.signing_algs {
        Some(algs) => each_parsed(
            &mut problems.at("dpop"),
            "signing_algs",
            algs,
            |alg: SigningAlg| (!FAPI2_ALGS.contains(&alg)).then_some(FAPI2_ALGS_ONLY),
        ),
        None => {
            let algs = settings.dpop.signing_algs.iter().copied();
            let allowed = algs.filter(|alg| FAPI2_ALGS.contains(alg)).collect();
            settings.dpop.set_signing_algs(allowed);
        }
    }
    let mut clients = problems.at("clients");
    for (i, client) in raw.clients.iter().enumerate() {
        check_client(client, &mut clients.item(i));
    }
    let mut issuers = problems.at("trusted_issuers");
    for (i, trusted) in raw.trusted_issuers.iter().enumerate() {
        let mut problems = issuers.item(i);
        check_outbound(&mut problems, "jwks_uri", trusted.jwks_uri.as_deref());
        if let Some(algs) = &trusted.algs {
            each_parsed(&mut problems, "algs", algs, |alg: SigningAlg| {
                (!FAPI2_ALGS.contains(&alg)).then_some(FAPI2_ALGS_ONLY)
            });
        }
    }
    let mut providers = problems.at("providers");
    for (i, provider) in raw.providers.iter().enumerate() {
        let mut problems = providers.item(i);
        check_outbound(&mut problems, "jwks_uri", provider.jwks_uri.as_deref());
        check_outbound(&mut problems, "base_url", provider.base_url.as_deref());
    }
}

/// FAPI 2.0 5.4.1, for the JWTs of others.
const FAPI2_ALGS_ONLY: &str =
    "profile fapi2 accepts JWTs signed with PS256, ES256 or EdDSA only (FAPI 2.0 5.4.1)";

/// FAPI 2.0 5.2.1: connections to other servers use TLS, on loopback too.
fn check_outbound(problems: &mut Problems, field: &str, url: Option<&str>) {
    if url.is_some_and(|url| !url.starts_with("https://")) {
        problems.push(
            field,
            "profile fapi2 connects to other servers over TLS only: an https URL (FAPI 2.0 5.2.1)",
        );
    }
}

/// The clauses about one `[[clients]]` entry.
fn check_client(raw: &super::clients::RawClient, problems: &mut Problems) {
    match &raw.token_endpoint_auth_methods {
        None => problems.push(
            "token_endpoint_auth_methods",
            "defaults to client_secret_basic, which profile fapi2 does not allow: name private_key_jwt, tls_client_auth or self_signed_tls_client_auth (FAPI 2.0 5.3.2.1)",
        ),
        Some(methods) => each_parsed(problems, "token_endpoint_auth_methods", methods, |method: AuthMethod| {
            match method {
                AuthMethod::None => Some("profile fapi2 allows confidential clients only (FAPI 2.0 5.3.2.1)"),
                method if !FAPI2_METHODS.contains(&method) => Some("profile fapi2 authenticates clients with private_key_jwt, tls_client_auth or self_signed_tls_client_auth only (FAPI 2.0 5.3.2.1)"),
                _ => None,
            }
        }),
    }
    if let Some(grants) = &raw.grant_types {
        each_parsed(problems, "grant_types", grants, |grant: GrantType| {
            (grant == GrantType::Password)
                .then_some("profile fapi2 refuses the password grant (FAPI 2.0 5.3.2.1)")
        });
    }
    if let Some(algs) = &raw.token_endpoint_auth_signing_algs {
        each_parsed(
            problems,
            "token_endpoint_auth_signing_algs",
            algs,
            |alg: AssertionAlg| {
                let allowed =
                    matches!(alg, AssertionAlg::Asymmetric(alg) if FAPI2_ALGS.contains(&alg));
                (!allowed).then_some(FAPI2_ALGS_ONLY)
            },
        );
    }
    check_outbound(problems, "jwks_uri", raw.jwks_uri.as_deref());
    let mut redirect_uris = problems.at("redirect_uris");
    for (i, uri) in raw.redirect_uris.iter().enumerate() {
        let Ok(url) = url::Url::parse(uri) else {
            continue; // refused with its own problem already
        };
        if url.scheme() != "https" {
            redirect_uris.item(i).push(
                "",
                "profile fapi2 needs https redirect URIs, even on loopback (FAPI 2.0 5.3.2.2)",
            );
        } else if uri.contains('*') {
            redirect_uris.item(i).push(
                "",
                "redirect URIs are compared exactly and profile fapi2 allows no wildcard: register every URI in full (FAPI 2.0 5.3.2.2)",
            );
        }
    }
    if raw.allow_plain_pkce {
        problems.push(
            "allow_plain_pkce",
            "profile fapi2 requires PKCE with S256 (FAPI 2.0 5.3.2.2)",
        );
    }
    if raw.require_pushed_authorization_requests == Some(false) {
        problems.push(
            "require_pushed_authorization_requests",
            "profile fapi2 requires pushed authorization requests of every client (FAPI 2.0 5.3.2.2)",
        );
    }
}

/// Runs `refusal` on each item of the list at `field` that parses (the others were refused with
/// their own problem), recording what it says at the item's path.
fn each_parsed<T: std::str::FromStr>(
    problems: &mut Problems,
    field: &str,
    values: &[String],
    refusal: impl Fn(T) -> Option<&'static str>,
) {
    let mut listed = problems.at(field);
    for (i, value) in values.iter().enumerate() {
        if let Some(message) = value.parse::<T>().ok().and_then(&refusal) {
            listed.item(i).push("", message);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn parse(text: &str) -> Result<Settings, super::super::ConfigError> {
        Settings::parse(text, Path::new("/etc/tessera"), Vec::new())
    }

    #[test]
    fn a_profile_is_named_or_refused_and_pushed_requests_get_their_defaults() {
        let plain = parse("issuer = \"https://id.example\"").unwrap();
        assert_eq!(plain.profile, None);
        assert!(!plain.authorize.require_pushed_authorization_requests);
        assert_eq!(plain.authorize.request_uri_ttl, Duration::from_secs(60));
        // RFC 9126 2: the PAR endpoint is an assertion audience too.
        assert_eq!(
            plain.assertion_audiences,
            [
                "https://id.example",
                "https://id.example/oauth2/token",
                "https://id.example/oauth2/par"
            ]
        );

        let fapi2 = parse("issuer = \"https://id.example\"\nprofile = \"fapi2\"").unwrap();
        assert!(fapi2.is_fapi2());
        assert!(fapi2.authorize.require_pushed_authorization_requests);
        assert_eq!(fapi2.assertion_audiences, ["https://id.example"]);

        let err = parse("issuer = \"https://id.example\"\nprofile = \"fapi1\"").unwrap_err();
        assert_eq!(
            err.to_string(),
            "profile: unknown profile 'fapi1' (supported: fapi2)"
        );
        let err = parse("issuer = \"https://id.example\"\n[authorize]\nrequest_uri_ttl = \"11m\"")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "authorize.request_uri_ttl: must be at most 10 minutes (RFC 9126 2.2: a request_uri is short-lived)"
        );
    }

    #[test]
    fn fapi2_narrows_what_clients_may_use() {
        let fapi2 = parse("issuer = \"https://id.example\"\nprofile = \"fapi2\"").unwrap();
        let plain = parse("issuer = \"https://id.example\"").unwrap();
        assert!(!fapi2.allows_assertion_alg(AssertionAlg::Asymmetric(SigningAlg::RS256)));
        assert!(!fapi2.allows_assertion_alg(AssertionAlg::Asymmetric(SigningAlg::ES384)));
        assert!(!fapi2.allows_assertion_alg(AssertionAlg::Hmac(crate::jose::HmacAlg::HS256)));
        for alg in FAPI2_ALGS {
            assert!(fapi2.allows_assertion_alg(AssertionAlg::Asymmetric(alg)));
        }
        assert!(plain.allows_assertion_alg(AssertionAlg::Asymmetric(SigningAlg::RS256)));
        assert!(!fapi2.allows_grant_type(GrantType::Password));
        assert!(plain.allows_grant_type(GrantType::Password));
        assert!(!fapi2.allows_auth_method(AuthMethod::ClientSecretJwt));
    }
}
