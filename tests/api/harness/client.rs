//! What a client of the issuer sends: token requests of each grant, and revocations.

use super::*;
use serde_json::Value;

impl TestApp {
    /// POST a form to the token endpoint with optional Basic credentials.
    pub async fn token_form(&self, basic: Option<(&str, &str)>, form: &[(&str, &str)]) -> Answer {
        self.post_form("/oauth2/token", basic, form).await
    }

    /// POST raw bytes with a content type to the token endpoint.
    pub async fn token_raw(
        &self,
        content_type: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> Answer {
        self.post_raw("/oauth2/token", content_type, body).await
    }

    pub async fn token_json(&self, body: &Value) -> Answer {
        self.post_json("/oauth2/token", body).await
    }

    /// A client_credentials token for `reports` with extra form parameters.
    pub async fn reports_token(&self, extra: &[(&str, &str)]) -> Answer {
        let mut form = vec![("grant_type", "client_credentials")];
        form.extend_from_slice(extra);
        self.token_form(Some(("reports", REPORTS_SECRET)), &form)
            .await
    }

    /// client_credentials, the client authenticating with `assertion` (RFC 7523 2.2), plus
    /// `extra` parameters.
    pub async fn token_with_assertion(&self, assertion: &str, extra: &[(&str, &str)]) -> Answer {
        let mut form = vec![
            ("grant_type", "client_credentials"),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", assertion),
        ];
        form.extend_from_slice(extra);
        self.token_form(None, &form).await
    }

    /// A fresh access token of `reports` (client_credentials, default scope and audiences).
    pub async fn new_token(&self) -> String {
        self.reports_token(&[]).await.str("access_token").to_owned()
    }

    /// The password grant from the public client `mobile`.
    pub async fn password_grant(
        &self,
        username: &str,
        password: &str,
        scope: Option<&str>,
    ) -> Answer {
        let mut form = vec![
            ("grant_type", "password"),
            ("client_id", "mobile"),
            ("username", username),
            ("password", password),
        ];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        self.token_form(None, &form).await
    }

    /// The refresh grant from the public client `client_id`.
    pub async fn refresh(&self, client_id: &str, token: &str, scope: Option<&str>) -> Answer {
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("client_id", client_id),
            ("refresh_token", token),
        ];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        self.token_form(None, &form).await
    }

    /// The public client `mobile` exchanges an authorization code sent to `CALLBACK`.
    pub async fn exchange_mobile_code(&self, code: &str, verifier: Option<&str>) -> Answer {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("client_id", "mobile"),
            ("code", code),
            ("redirect_uri", CALLBACK),
        ];
        if let Some(verifier) = verifier {
            form.push(("code_verifier", verifier));
        }
        self.token_form(None, &form).await
    }

    /// A confidential client, authenticating with Basic, exchanges a code sent to `CALLBACK`
    /// with the verifier `VERIFIER`.
    pub async fn exchange_code(&self, basic: (&str, &str), code: &str) -> Answer {
        self.token_form(
            Some(basic),
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", CALLBACK),
                ("code_verifier", VERIFIER),
            ],
        )
        .await
    }

    /// RFC 7009 revocation by a client authenticating with Basic.
    pub async fn revoke(&self, basic: (&str, &str), form: &[(&str, &str)]) -> Answer {
        self.post_form("/oauth2/revoke", Some(basic), form).await
    }

    /// RFC 7009 revocation by a public client: its id in the body, no secret.
    pub async fn revoke_public(&self, client_id: &str, token: &str) -> Answer {
        self.post_form(
            "/oauth2/revoke",
            None,
            &[("client_id", client_id), ("token", token)],
        )
        .await
    }
}
