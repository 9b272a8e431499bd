//! The unit tests of `issuer.rs`: the JSON its writers make against serde's.

use super::*;
use serde_json::json;

#[test]
fn id_token_claims_are_what_the_claims_map_held() {
    let user_claims: Map<String, Value> = json!({
        "email": "a@example.com", "name": "Alice", "sub": "forged", "nonce": "theirs",
        "sid": "theirs", "groups": ["x"], "phone_number": "+1 555"
    })
    .as_object()
    .unwrap()
    .clone();
    let scopes = ScopeSet::parse("openid email profile").unwrap();
    for (nonce, sid) in [(None, None), (Some("n-1"), Some("s-1"))] {
        let claims = IdTokenClaims {
            iss: "https://issuer.example",
            sub: "alice",
            aud: "app",
            exp: 1900,
            iat: 1000,
            auth_time: 990,
            at_hash: "hash",
            nonce,
            sid,
            user_claims: &user_claims,
            scopes: &scopes,
        };
        // The map the claims were built in before: the released user claims, ours over them.
        let released = released_names(&scopes);
        let mut expected: Map<String, Value> = user_claims
            .iter()
            .filter(|(name, _)| released.contains(&name.as_str()))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        for (name, value) in [
            ("iss", json!("https://issuer.example")),
            ("sub", json!("alice")),
            ("aud", json!("app")),
            ("azp", json!("app")),
            ("exp", json!(1900)),
            ("iat", json!(1000)),
            ("auth_time", json!(990)),
            ("at_hash", json!("hash")),
        ] {
            expected.insert(name.into(), value);
        }
        if let Some(nonce) = nonce {
            expected.insert("nonce".into(), json!(nonce));
        }
        if let Some(sid) = sid {
            expected.insert("sid".into(), json!(sid));
        }
        let written: Map<String, Value> = serde_json::from_slice(&claims.to_json()).unwrap();
        assert_eq!(written, expected);
        let text = String::from_utf8(claims.to_json()).unwrap();
        assert_eq!(text.matches("\"sub\"").count(), 1, "{text}");
    }
}

#[test]
fn the_token_response_is_what_serde_writes() {
    let mut response = TokenResponse {
        access_token: "eyJ.eyJ.sig".into(),
        token_type: "DPoP",
        expires_in: 900,
        scope: String::new(),
        refresh_token: None,
        id_token: None,
        issued_token_type: None,
        profile_subject: Some("alice".into()),
        dpop_nonce: Some("n".into()),
    };
    assert_eq!(response.to_json(), serde_json::to_vec(&response).unwrap());
    response.scope = "openid reports:read".into();
    response.refresh_token = Some("a.b.c.d.e".into());
    response.id_token = Some("f.g.h".into());
    response.issued_token_type = Some("urn:ietf:params:oauth:token-type:access_token");
    assert_eq!(response.to_json(), serde_json::to_vec(&response).unwrap());
}

#[test]
fn access_token_claims_carry_every_member_once_and_in_order() {
    let scopes = ScopeSet::parse("openid reports:read").unwrap();
    let status = StatusRef {
        list: ListId {
            epoch: 0xab,
            window: 7,
            part: 2,
        },
        idx: 41,
    };
    let user: Map<String, Value> = json!({"email": "a@example.com", "groups": ["x"]})
        .as_object()
        .unwrap()
        .clone();
    let extra: Map<String, Value> = json!({"act": {"sub": "svc"}}).as_object().unwrap().clone();
    let audience = ["https://one".to_owned(), "https://two".to_owned()];
    let binding = Binding::Dpop("thumb".into());
    let claims = AccessTokenClaims {
        iss: "https://issuer.example",
        sub: "alice",
        aud: &audience,
        exp: 1900,
        iat: 1000,
        nbf: 1000,
        jti: "id-1",
        client_id: "app",
        scopes: &scopes,
        auth_time: Some(990),
        cnf: &binding,
        status: &status,
        user_claims: Some(&user),
        extra: Some(&extra),
    };
    let text = String::from_utf8(claims.to_json()).unwrap();
    let expected = json!({
        "iss": "https://issuer.example", "sub": "alice",
        "aud": ["https://one", "https://two"],
        "exp": 1900, "iat": 1000, "nbf": 1000, "jti": "id-1", "client_id": "app",
        "scope": "openid reports:read", "auth_time": 990, "cnf": {"jkt": "thumb"},
        "status": {"status_list": {"idx": 41,
            "uri": "https://issuer.example/oauth2/status-lists/000000ab-7-2"}},
        "email": "a@example.com", "groups": ["x"], "act": {"sub": "svc"},
    });
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), expected);
    let order: Vec<usize> = [
        "\"iss\"",
        "\"aud\"",
        "\"scope\"",
        "\"cnf\"",
        "\"status\"",
        "\"act\"",
    ]
    .iter()
    .map(|name| text.find(name).unwrap())
    .collect();
    assert!(order.windows(2).all(|pair| pair[0] < pair[1]), "{text}");

    // One audience is a string; no scope, no user, a bearer token: those members are absent.
    let no_scopes = ScopeSet::default();
    let bearer = Binding::None;
    let single = AccessTokenClaims {
        aud: &audience[..1],
        scopes: &no_scopes,
        auth_time: None,
        cnf: &bearer,
        user_claims: None,
        extra: None,
        ..claims
    };
    let parsed: Value = serde_json::from_slice(&single.to_json()).unwrap();
    assert_eq!(parsed["aud"], "https://one");
    for absent in ["scope", "auth_time", "cnf", "email", "act"] {
        assert!(parsed.get(absent).is_none(), "{absent}");
    }
}
