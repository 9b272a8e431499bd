//! docs/resource-servers.md, checked: its Python (PyJWT, requests, zlib) and Node (jose)
//! resource servers run as printed against a real Tessera and give the answers the page says,
//! and its Rust excerpts are the example's code.

use crate::harness::*;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// `Authorization` header values, and the answer: status, `error` and description (`None`:
/// 200), and the `scope` attribute of the challenge.
struct Case {
    name: &'static str,
    authorization: Vec<String>,
    refusal: Option<(u16, &'static str, &'static str)>,
    scope: Option<&'static str>,
}

fn bearer(token: &str) -> Vec<String> {
    vec![format!("Bearer {token}")]
}

fn accepted(name: &'static str, token: &str) -> Case {
    Case {
        name,
        authorization: bearer(token),
        refusal: None,
        scope: None,
    }
}

fn invalid_token(name: &'static str, token: &str, description: &'static str) -> Case {
    Case {
        name,
        authorization: bearer(token),
        refusal: Some((401, "invalid_token", description)),
        scope: None,
    }
}

/// Tessera on a clock 20 minutes behind the wall clock for one token, which has therefore
/// expired by the wall clock the documented programs read; then on time for the others.
async fn issuer_and_cases() -> (TestApp, Vec<Case>) {
    let now = chrono::Utc::now().timestamp();
    let dir = Arc::new(tempfile::TempDir::new().unwrap());
    let app = spawn_at(dir, &reachable(TestConfig::new()), now - 20 * 60).await;
    let expired = app.new_token().await;
    app.clock.advance(Duration::from_secs(20 * 60));

    let good = app.new_token().await;
    let (revoked, kept) = app.two_tokens_in_one_list().await;
    let revocation = app
        .revoke(("reports", REPORTS_SECRET), &[("token", &revoked)])
        .await;
    assert_eq!(revocation.status, 200);
    let answer = app.reports_token(&[("scope", "reports:write")]).await;
    let write_only = answer.str("access_token").to_owned();
    let answer = app.reports_token(&[("audience", "billing-api")]).await;
    let elsewhere = answer.str("access_token").to_owned();
    let login = app
        .password_grant("alice", ALICE_PASSWORD, Some("openid reports:read"))
        .await;
    let id_token = login.str("id_token").to_owned();
    let kid = jsonwebtoken::decode_header(&good).unwrap().kid.unwrap();
    let public_key = find_key(&app.jwks().await, &kid).unwrap();

    let cases = vec![
        accepted("a good token", &good),
        Case {
            name: "no token",
            authorization: vec![],
            refusal: Some((401, "", "")),
            scope: None,
        },
        Case {
            name: "Basic credentials",
            authorization: vec![basic_header("reports", REPORTS_SECRET)],
            refusal: Some((
                400,
                "invalid_request",
                "the Authorization header is not a Bearer token",
            )),
            scope: None,
        },
        Case {
            name: "two Authorization headers",
            authorization: [bearer(&good), bearer(&good)].concat(),
            refusal: Some((
                400,
                "invalid_request",
                "the request has more than one Authorization header",
            )),
            scope: None,
        },
        Case {
            name: "a token without reports:read",
            authorization: bearer(&write_only),
            refusal: Some((
                403,
                "insufficient_scope",
                "the token lacks the required scope",
            )),
            scope: Some("reports:read"),
        },
        invalid_token(
            "another audience",
            &elsewhere,
            "the token is not meant for this audience",
        ),
        invalid_token("an ID token", &id_token, "the token type is not accepted"),
        invalid_token(
            "a changed claim",
            &tampered(&good, json!({"sub": "mallory"})),
            "the token signature is not valid",
        ),
        invalid_token(
            "alg none",
            &alg_none(&good),
            "the token's algorithm is not allowed",
        ),
        invalid_token(
            "HS256 keyed with the public key",
            &hs256_with_public_key(&good, &public_key),
            "the token's algorithm is not allowed",
        ),
        invalid_token(
            "a stranger's key",
            &signed_by_stranger(&good),
            "no key matches the token",
        ),
        invalid_token("an expired token", &expired, "the token has expired"),
        invalid_token("a revoked token", &revoked, "the token has been revoked"),
        accepted("a token in the revoked one's list", &kept),
    ];
    (app, cases)
}

async fn documented_server_gives_the_documented_answers(server: DocumentedServer) {
    let (app, cases) = issuer_and_cases().await;
    let api = ScriptServer::start(server, &app).await;
    for case in cases {
        let answer = api.get_reports(&case.authorization).await;
        let context = format!(
            "{server:?}, {}: {}\n{}",
            case.name,
            answer.json,
            api.stderr()
        );
        assert_eq!(
            answer.header("cache-control"),
            Some("no-store"),
            "{context}"
        );
        match case.refusal {
            None => {
                assert_eq!(answer.status, 200, "{context}");
                assert_eq!(
                    answer.json,
                    json!({"reports": [], "read_by": "reports"}),
                    "{context}"
                );
            }
            Some((status, "", _)) => {
                assert_eq!(answer.status, status, "{context}");
                assert_eq!(answer.json, json!({}), "{context}");
                assert_eq!(
                    answer.header("www-authenticate"),
                    Some("Bearer realm=\"reports\""),
                    "{context}"
                );
            }
            Some((status, error, description)) => {
                assert_eq!(answer.status, status, "{context}");
                assert_eq!(
                    answer.json,
                    json!({"error": error, "error_description": description}),
                    "{context}"
                );
                let mut challenge = format!(
                    "Bearer realm=\"reports\", error=\"{error}\", error_description=\"{description}\""
                );
                if let Some(scope) = case.scope {
                    challenge.push_str(&format!(", scope=\"{scope}\""));
                }
                assert_eq!(
                    answer.header("www-authenticate"),
                    Some(challenge.as_str()),
                    "{context}"
                );
            }
        }
    }
}

#[tokio::test]
async fn the_documented_python_resource_server_gives_the_documented_answers() {
    documented_server_gives_the_documented_answers(DocumentedServer::Python).await;
}

#[tokio::test]
async fn the_documented_node_resource_server_gives_the_documented_answers() {
    documented_server_gives_the_documented_answers(DocumentedServer::Node).await;
}

#[test]
fn the_rust_excerpts_of_the_page_are_the_examples_code() {
    let excerpts = excerpts("docs/resource-servers.md");
    assert_eq!(excerpts.len(), 3);
    for (file, excerpt) in excerpts {
        let code =
            std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(&file))
                .unwrap();
        assert!(
            code.contains(&excerpt),
            "this excerpt of docs/resource-servers.md is not in {file}:\n{excerpt}"
        );
    }
}
