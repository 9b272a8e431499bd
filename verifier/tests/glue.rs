//! The actix-web and tower glue answer RFC 6750: 401 with a bare challenge without a token,
//! 400 invalid_request, 401 invalid_token, 403 insufficient_scope with `scope`, 503 when the
//! keys cannot be had; and hand the verified token to the handler.
#![cfg(any(feature = "actix", feature = "tower"))]

mod support;

use serde_json::json;
use std::sync::Arc;
use support::{access_claims, jwks, with, Signer, AUDIENCE, ISSUER, NOW};
use tessera_verifier::{AccessTokenVerifier, KeySource, ManualClock};

fn verifier(signer: &Signer) -> Arc<AccessTokenVerifier> {
    let keys = KeySource::from_jwks_json(jwks(&[signer]).to_string().as_bytes()).unwrap();
    Arc::new(
        AccessTokenVerifier::builder(ISSUER, AUDIENCE, keys)
            .clock(Arc::new(ManualClock::new(NOW)))
            .build()
            .unwrap(),
    )
}

/// Authorization headers, expected status, expected WWW-Authenticate, expected body error.
type Case = (Vec<String>, u16, Option<String>, Option<&'static str>);

fn cases(signer: &Signer) -> Vec<Case> {
    let good = signer.sign(&access_claims(NOW));
    let narrow = signer.sign(&with(access_claims(NOW), json!({"scope": "reports:write"})));
    let expired = signer.sign(&access_claims(NOW - 3600));
    vec![
        (vec![format!("Bearer {good}")], 200, None, None),
        (vec![], 401, Some("Bearer realm=\"reports\"".into()), None),
        (
            vec!["Basic cmVwb3J0czpzZWNyZXQ=".into()],
            400,
            Some("Bearer realm=\"reports\", error=\"invalid_request\", error_description=\"the Authorization header is not a Bearer token\"".into()),
            Some("invalid_request"),
        ),
        (
            vec![format!("Bearer {good}"), format!("Bearer {good}")],
            400,
            Some("Bearer realm=\"reports\", error=\"invalid_request\", error_description=\"the request has more than one Authorization header\"".into()),
            Some("invalid_request"),
        ),
        (
            vec![format!("Bearer {expired}")],
            401,
            Some("Bearer realm=\"reports\", error=\"invalid_token\", error_description=\"the token has expired\"".into()),
            Some("invalid_token"),
        ),
        (
            vec!["Bearer not-a-jwt".into()],
            401,
            None,
            Some("invalid_token"),
        ),
        (
            vec![format!("Bearer {narrow}")],
            403,
            Some("Bearer realm=\"reports\", error=\"insufficient_scope\", error_description=\"the token lacks the required scope\", scope=\"reports:read\"".into()),
            Some("insufficient_scope"),
        ),
    ]
}

#[cfg(feature = "actix")]
mod actix {
    use super::*;
    use actix_web::http::header;
    use actix_web::{test, web, App, HttpMessage, HttpResponse};
    use tessera_verifier::actix::{Bearer, BearerAuth};
    use tessera_verifier::{certificate_thumbprint, PeerCertificate};

    async fn whoami(Bearer(token): Bearer) -> HttpResponse {
        HttpResponse::Ok().body(format!("{}:{}", token.subject, token.client_id))
    }

    #[actix_web::test]
    async fn the_middleware_answers_rfc_6750_and_hands_the_token_over() {
        let signer = Signer::es256("k1");
        let auth = BearerAuth::new(verifier(&signer))
            .realm("reports")
            .require_scopes(&["reports:read"]);
        let app = test::init_service(
            App::new().service(
                web::scope("/reports")
                    .wrap(auth)
                    .route("", web::get().to(whoami)),
            ),
        )
        .await;
        for (headers, status, challenge, error) in cases(&signer) {
            let mut request = test::TestRequest::get().uri("/reports");
            for value in &headers {
                request = request.append_header((header::AUTHORIZATION, value.as_str()));
            }
            let response = test::call_service(&app, request.to_request()).await;
            assert_eq!(response.status().as_u16(), status, "{headers:?}");
            let www = response
                .headers()
                .get(header::WWW_AUTHENTICATE)
                .map(|value| value.to_str().unwrap().to_owned());
            if let Some(challenge) = &challenge {
                assert_eq!(www.as_ref(), Some(challenge));
            }
            if status != 200 {
                assert!(www.unwrap().starts_with("Bearer realm=\"reports\""));
            }
            let body = test::read_body(response).await;
            match error {
                Some(code) => {
                    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
                    assert_eq!(body["error"], code);
                }
                None if status == 200 => assert_eq!(body, "alice:reports"),
                None => {}
            }
        }
    }

    #[actix_web::test]
    async fn the_extractor_works_alone_and_bound_tokens_use_the_peer_certificate() {
        let signer = Signer::es256("k1");
        let der = b"a client certificate".to_vec();
        let bound = signer.sign(&with(
            access_claims(NOW),
            json!({"cnf": {"x5t#S256": certificate_thumbprint(&der)}}),
        ));
        let presented = der.clone();
        let app = test::init_service(
            App::new()
                .app_data(BearerAuth::new(verifier(&signer)).realm("reports"))
                .wrap_fn(move |request, service| {
                    if request.headers().contains_key("x-test-mtls") {
                        request
                            .extensions_mut()
                            .insert(PeerCertificate(presented.clone()));
                    }
                    actix_web::dev::Service::call(service, request)
                })
                .route("/me", web::get().to(whoami)),
        )
        .await;
        let with_cert = test::TestRequest::get()
            .uri("/me")
            .insert_header((header::AUTHORIZATION, format!("Bearer {bound}")))
            .insert_header(("x-test-mtls", "1"))
            .to_request();
        assert_eq!(test::call_service(&app, with_cert).await.status(), 200);
        let without = test::TestRequest::get()
            .uri("/me")
            .insert_header((header::AUTHORIZATION, format!("Bearer {bound}")))
            .to_request();
        let response = test::call_service(&app, without).await;
        assert_eq!(response.status(), 401);
        assert!(response
            .headers()
            .get(header::WWW_AUTHENTICATE)
            .unwrap()
            .to_str()
            .unwrap()
            .contains("bound to a client certificate"));
    }

    #[actix_web::test]
    async fn unavailable_keys_answer_503_with_retry_after() {
        let signer = Signer::es256("k1");
        let server = support::StubServer::start().await;
        server.json("/jwks", &jwks(&[&signer]), Some("max-age=60"));
        let clock = Arc::new(ManualClock::new(NOW));
        let config = tessera_verifier::RemoteKeysConfig::jwks_uri(server.url("/jwks"))
            .clock(clock.clone())
            .max_staleness(std::time::Duration::ZERO);
        let keys = KeySource::remote(config).await.unwrap();
        let verifier = AccessTokenVerifier::builder(ISSUER, AUDIENCE, keys)
            .clock(clock.clone())
            .build()
            .unwrap();
        server.set_down(true);
        clock.advance(std::time::Duration::from_secs(120));
        let app = test::init_service(
            App::new()
                .wrap(BearerAuth::new(Arc::new(verifier)))
                .route("/", web::get().to(whoami)),
        )
        .await;
        let token = signer.sign(&with(access_claims(NOW + 120), json!({})));
        let request = test::TestRequest::get()
            .uri("/")
            .insert_header((header::AUTHORIZATION, format!("Bearer {token}")))
            .to_request();
        let response = test::call_service(&app, request).await;
        assert_eq!(response.status(), 503);
        assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "5");
        assert!(response.headers().get(header::WWW_AUTHENTICATE).is_none());
    }
}

#[cfg(feature = "tower")]
mod tower_glue {
    use super::*;
    use http::{header, Request, Response};
    use std::convert::Infallible;
    use tessera_verifier::tower::BearerLayer;
    use tessera_verifier::AccessToken;
    use tower::{Layer, ServiceExt};

    #[tokio::test]
    async fn the_layer_answers_rfc_6750_and_hands_the_token_over() {
        let signer = Signer::es256("k1");
        let layer = BearerLayer::new(verifier(&signer))
            .realm("reports")
            .require_scopes(&["reports:read"]);
        let inner = tower::service_fn(|request: Request<String>| async move {
            let token = request.extensions().get::<AccessToken>().unwrap();
            Ok::<_, Infallible>(Response::new(format!(
                "{}:{}",
                token.subject, token.client_id
            )))
        });
        let service = layer.layer(inner);
        for (headers, status, challenge, error) in cases(&signer) {
            let mut request = Request::get("/reports");
            for value in &headers {
                request = request.header(header::AUTHORIZATION, value.as_str());
            }
            let response = service
                .clone()
                .oneshot(request.body(String::new()).unwrap())
                .await
                .unwrap();
            assert_eq!(response.status().as_u16(), status, "{headers:?}");
            let www = response
                .headers()
                .get(header::WWW_AUTHENTICATE)
                .map(|value| value.to_str().unwrap().to_owned());
            if let Some(challenge) = &challenge {
                assert_eq!(www.as_ref(), Some(challenge));
            }
            match error {
                Some(code) => {
                    let body: serde_json::Value = serde_json::from_str(response.body()).unwrap();
                    assert_eq!(body["error"], code);
                    assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
                }
                None if status == 200 => assert_eq!(response.body(), "alice:reports"),
                None => assert!(www.unwrap().starts_with("Bearer realm=\"reports\"")),
            }
        }
    }
}
