//! The actix-web and tower glue with a verifier that takes DPoP (RFC 9449 7, 9): both
//! challenges (`Bearer`, and `DPoP` with its `algs`), the error in the challenge of the scheme
//! the request used or its token needs, `invalid_dpop_proof`, `use_dpop_nonce` with the
//! `DPoP-Nonce` header, and a proof single use across requests.
#![cfg(any(feature = "actix", feature = "tower"))]

mod support;

use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use support::dpop::{Client, API, PATH};
use support::{access_claims, jwks, with, Signer, AUDIENCE, ISSUER, NOW};
use tessera_verifier::{
    AccessTokenVerifier, Algorithm, DpopConfig, DpopNonces, KeySource, ManualClock,
};

const BEARER: &str = "Bearer realm=\"reports\"";
const DPOP: &str = "DPoP realm=\"reports\", algs=\"ES256 EdDSA\"";

fn verifier(signer: &Signer) -> Arc<AccessTokenVerifier> {
    let keys = KeySource::from_jwks_json(jwks(&[signer]).to_string().as_bytes()).unwrap();
    let nonces = DpopNonces::new([3u8; 32])
        .unwrap()
        .slot(Duration::from_secs(60))
        .unwrap();
    let dpop = DpopConfig::new(API)
        .unwrap()
        .algorithms(&[Algorithm::ES256, Algorithm::EdDSA])
        .require_nonce(nonces);
    Arc::new(
        AccessTokenVerifier::builder(ISSUER, AUDIENCE, keys)
            .clock(Arc::new(ManualClock::new(NOW)))
            .dpop(dpop)
            .build()
            .unwrap(),
    )
}

/// One request and what it gets.
struct Case {
    name: &'static str,
    authorization: Vec<String>,
    dpop: Vec<String>,
    status: u16,
    /// The `WWW-Authenticate` values, in order.
    challenges: Vec<String>,
    error: Option<&'static str>,
}

fn named(error: &str, description: &str) -> String {
    format!(", error=\"{error}\", error_description=\"{description}\"")
}

/// The requests, in order (a proof is spent by one and refused by the next); `nonce` is the
/// one the verifier hands out.
fn cases(signer: &Signer, nonce: &str) -> Vec<Case> {
    let client = Client::new("ES256");
    let bound = signer.sign(&with(
        access_claims(NOW),
        json!({"cnf": {"jkt": client.jkt}}),
    ));
    let plain = signer.sign(&access_claims(NOW));
    let good = client.proof_with(&bound, json!({ "nonce": nonce }));
    let dpop = |token: &str| vec![format!("DPoP {token}")];
    vec![
        Case {
            name: "no token",
            authorization: vec![],
            dpop: vec![],
            status: 401,
            challenges: vec![BEARER.into(), DPOP.into()],
            error: None,
        },
        Case {
            name: "a proof without the nonce",
            authorization: dpop(&bound),
            dpop: vec![client.proof(&bound)],
            status: 401,
            challenges: vec![
                BEARER.into(),
                format!(
                    "{DPOP}{}",
                    named(
                        "use_dpop_nonce",
                        "the DPoP proof must carry the resource server's nonce"
                    )
                ),
            ],
            error: Some("use_dpop_nonce"),
        },
        Case {
            name: "a good proof",
            authorization: dpop(&bound),
            dpop: vec![good.clone()],
            status: 200,
            challenges: vec![],
            error: None,
        },
        Case {
            name: "the proof again",
            authorization: dpop(&bound),
            dpop: vec![good.clone()],
            status: 401,
            challenges: vec![
                BEARER.into(),
                format!(
                    "{DPOP}{}",
                    named("invalid_dpop_proof", "the DPoP proof has been used before")
                ),
            ],
            error: Some("invalid_dpop_proof"),
        },
        Case {
            name: "the bound token as a bearer token",
            authorization: vec![format!("Bearer {bound}")],
            dpop: vec![],
            status: 401,
            challenges: vec![
                BEARER.into(),
                format!(
                    "{DPOP}{}",
                    named(
                        "invalid_token",
                        "the token is DPoP-bound: present it with the DPoP scheme and a proof"
                    )
                ),
            ],
            error: Some("invalid_token"),
        },
        Case {
            name: "the DPoP scheme without a proof",
            authorization: dpop(&bound),
            dpop: vec![],
            status: 401,
            challenges: vec![
                BEARER.into(),
                format!(
                    "{DPOP}{}",
                    named("invalid_dpop_proof", "the request has no DPoP proof")
                ),
            ],
            error: Some("invalid_dpop_proof"),
        },
        Case {
            name: "two proofs",
            authorization: dpop(&bound),
            dpop: vec![good.clone(), good],
            status: 401,
            challenges: vec![
                BEARER.into(),
                format!(
                    "{DPOP}{}",
                    named(
                        "invalid_dpop_proof",
                        "the request carries more than one DPoP header"
                    )
                ),
            ],
            error: Some("invalid_dpop_proof"),
        },
        Case {
            name: "an expired bearer token",
            authorization: vec![format!(
                "Bearer {}",
                signer.sign(&access_claims(NOW - 3600))
            )],
            dpop: vec![],
            status: 401,
            challenges: vec![
                format!(
                    "{BEARER}{}",
                    named("invalid_token", "the token has expired")
                ),
                DPOP.into(),
            ],
            error: Some("invalid_token"),
        },
        Case {
            name: "a plain bearer token",
            authorization: vec![format!("Bearer {plain}")],
            dpop: vec![],
            status: 200,
            challenges: vec![],
            error: None,
        },
        Case {
            name: "another scheme",
            authorization: vec!["Basic cmVwb3J0czpzZWNyZXQ=".into()],
            dpop: vec![],
            status: 400,
            challenges: vec![
                format!(
                    "{BEARER}{}",
                    named(
                        "invalid_request",
                        "the Authorization header is not a Bearer or DPoP token"
                    )
                ),
                DPOP.into(),
            ],
            error: Some("invalid_request"),
        },
    ]
}

/// What a response said, as read by either framework's test.
struct Answer {
    status: u16,
    challenges: Vec<String>,
    nonce: Option<String>,
    body: String,
}

fn check(case: &Case, answer: &Answer, nonce: &str) {
    let name = case.name;
    assert_eq!(answer.status, case.status, "{name}: {}", answer.body);
    assert_eq!(answer.challenges, case.challenges, "{name}");
    if case.status == 200 {
        assert_eq!(answer.body, "alice", "{name}");
        assert_eq!(answer.nonce, None, "{name}");
    } else {
        // Every refusal hands out the nonce, so the client's next proof can carry it.
        assert_eq!(answer.nonce.as_deref(), Some(nonce), "{name}");
    }
    if let Some(error) = case.error {
        let body: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
        assert_eq!(body["error"], error, "{name}");
    }
}

#[cfg(feature = "actix")]
#[actix_web::test]
async fn the_actix_middleware_takes_dpop_and_answers_rfc_9449() {
    use actix_web::http::header;
    use actix_web::{test, web, App, HttpResponse};
    use tessera_verifier::actix::{Bearer, BearerAuth};

    let signer = Signer::es256("k1");
    let verifier = verifier(&signer);
    let nonce = verifier.dpop_nonce().unwrap();
    let app = test::init_service(
        App::new().service(
            web::resource(PATH)
                .wrap(BearerAuth::new(verifier).realm("reports"))
                .route(web::get().to(|Bearer(token): Bearer| async move {
                    HttpResponse::Ok().body(token.subject)
                })),
        ),
    )
    .await;
    for case in cases(&signer, &nonce) {
        let mut request = test::TestRequest::get().uri(PATH);
        for value in &case.authorization {
            request = request.append_header((header::AUTHORIZATION, value.as_str()));
        }
        for value in &case.dpop {
            request = request.append_header(("DPoP", value.as_str()));
        }
        let response = test::call_service(&app, request.to_request()).await;
        let headers = response.headers().clone();
        let answer = Answer {
            status: response.status().as_u16(),
            challenges: headers
                .get_all(header::WWW_AUTHENTICATE)
                .map(|value| value.to_str().unwrap().to_owned())
                .collect(),
            nonce: headers
                .get("DPoP-Nonce")
                .map(|value| value.to_str().unwrap().to_owned()),
            body: String::from_utf8(test::read_body(response).await.to_vec()).unwrap(),
        };
        check(&case, &answer, &nonce);
    }
}

#[cfg(feature = "tower")]
#[tokio::test]
async fn the_tower_layer_takes_dpop_and_answers_rfc_9449() {
    use http::{header, Request, Response};
    use std::convert::Infallible;
    use tessera_verifier::tower::BearerLayer;
    use tessera_verifier::AccessToken;
    use tower::{Layer, ServiceExt};

    let signer = Signer::es256("k1");
    let verifier = verifier(&signer);
    let nonce = verifier.dpop_nonce().unwrap();
    let inner = tower::service_fn(|request: Request<String>| async move {
        let token = request.extensions().get::<AccessToken>().unwrap();
        Ok::<_, Infallible>(Response::new(token.subject.clone()))
    });
    let service = BearerLayer::new(verifier).realm("reports").layer(inner);
    for case in cases(&signer, &nonce) {
        let mut request = Request::get(PATH);
        for value in &case.authorization {
            request = request.header(header::AUTHORIZATION, value.as_str());
        }
        for value in &case.dpop {
            request = request.header("DPoP", value.as_str());
        }
        let response = service
            .clone()
            .oneshot(request.body(String::new()).unwrap())
            .await
            .unwrap();
        let answer = Answer {
            status: response.status().as_u16(),
            challenges: response
                .headers()
                .get_all(header::WWW_AUTHENTICATE)
                .iter()
                .map(|value| value.to_str().unwrap().to_owned())
                .collect(),
            nonce: response
                .headers()
                .get("DPoP-Nonce")
                .map(|value| value.to_str().unwrap().to_owned()),
            body: response.body().clone(),
        };
        check(&case, &answer, &nonce);
    }
}
