//! How a protocol error is written on the wire: the RFC 6749 5.2 JSON body (none for a bare
//! RFC 6750 challenge), its status, `Cache-Control: no-store`, and the `WWW-Authenticate` and
//! `Retry-After` headers it calls for. The error code rides in the response's extensions for the
//! metrics middleware.

use crate::oauth::error::{Challenge, Scheme};
use crate::oauth::OAuthError;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

/// The realm of every challenge.
pub const REALM: &str = "tessera";

/// RFC 9449 8.1: the header that hands a client the nonce for its next DPoP proof.
pub const DPOP_NONCE: &str = "DPoP-Nonce";

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    error_description: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    ticket: Option<&'a str>,
}

/// `, error="...", error_description="..."[, scope="..."]`: the error part of a challenge.
fn error_params(error: &OAuthError, scope: Option<&str>) -> String {
    let mut value = format!(
        ", error=\"{}\", error_description=\"{}\"",
        error.code.as_str(),
        error.description.replace(['"', '\\'], "")
    );
    if let Some(scope) = scope {
        value.push_str(&format!(", scope=\"{scope}\""));
    }
    value
}

/// The `WWW-Authenticate` values of a challenge: one per scheme offered.
fn challenges(error: &OAuthError, challenge: &Challenge) -> Vec<String> {
    match challenge {
        Challenge::Basic => vec![format!("Basic realm=\"{REALM}\", charset=\"UTF-8\"")],
        Challenge::BearerMissing => vec![format!("Bearer realm=\"{REALM}\"")],
        Challenge::Bearer { scope } => vec![format!(
            "Bearer realm=\"{REALM}\"{}",
            error_params(error, *scope)
        )],
        Challenge::Dpop {
            algs,
            bearer,
            error_in,
            scope,
        } => {
            let named = |scheme: Scheme| {
                if *error_in == Some(scheme) {
                    error_params(error, *scope)
                } else {
                    String::new()
                }
            };
            let mut values = Vec::with_capacity(2);
            if *bearer {
                values.push(format!("Bearer realm=\"{REALM}\"{}", named(Scheme::Bearer)));
            }
            values.push(format!(
                "DPoP realm=\"{REALM}\", algs=\"{algs}\"{}",
                named(Scheme::Dpop)
            ));
            values
        }
    }
}

impl ResponseError for OAuthError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        response
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::PRAGMA, "no-cache"));
        if let Some(kind) = self.challenge.as_deref() {
            for value in challenges(self, kind) {
                if let Ok(value) = HeaderValue::from_str(&value) {
                    response.append_header((header::WWW_AUTHENTICATE, value));
                }
            }
        }
        if let Some(nonce) = &self.dpop_nonce {
            if let Ok(value) = HeaderValue::from_str(nonce) {
                response.insert_header((DPOP_NONCE, value));
            }
        }
        if let Some(seconds) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        // No credentials at all: a bare challenge, no error (RFC 6750 3.1).
        if self.challenge.as_deref().is_some_and(Challenge::is_bare) {
            return response.finish();
        }
        let mut response = response.json(ErrorBody {
            error: self.code.as_str(),
            error_description: &self.description,
            ticket: self.ticket.as_deref(),
        });
        // The metrics middleware counts errors by code.
        response.extensions_mut().insert(self.code);
        response
    }
}
