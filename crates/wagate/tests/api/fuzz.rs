//! Property test: random methods, paths, query strings, headers and bodies thrown at the real
//! router over loopback never produce a 5xx, and every error carries the envelope.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use reqwest::Method;
use serde_json::Value;
use wagate_test_support::node::TestNode;

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("api".to_owned()),
        Just("v1".to_owned()),
        Just("sessions".to_owned()),
        Just("api-keys".to_owned()),
        Just("sess_01JD5Z3V2Q0000000000000000".to_owned()),
        Just("%40".to_owned()),
        Just("%3Astart".to_owned()),
        Just("%ZZ".to_owned()),
        Just("%FF%FE".to_owned()),
        Just("..".to_owned()),
        "[a-zA-Z0-9_~:@!$&'()*+,;=.-]{0,40}",
        "(%[0-9A-F]{2}){1,6}",
    ]
}

fn path() -> impl Strategy<Value = String> {
    prop::collection::vec(segment(), 0..6).prop_map(|segs| format!("/{}", segs.join("/")))
}

fn query() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("?limit=ten".to_owned()),
        Just("?limit=-1&cursor=".to_owned()),
        Just("?limit=99999999999999999999".to_owned()),
        "\\?[a-z]{1,8}=[a-zA-Z0-9%]{0,20}(&[a-z]{1,8}=[a-zA-Z0-9%]{0,20}){0,3}",
    ]
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(Vec::new()),
        Just(b"{}".to_vec()),
        Just(br#"{"label":null,"start":true}"#.to_vec()),
        Just(br#"{"permissions":["read","manage"],"sessions":[null]}"#.to_vec()),
        Just(br#"{"permissions":"read","expiresAt":-1}"#.to_vec()),
        Just(br#"{"label":"\u0000\ud800"}"#.to_vec()),
        prop::collection::vec(any::<u8>(), 0..300),
        "\\{\"[a-zA-Z]{1,10}\":(true|false|null|[0-9]{1,25}|\"[^\"]{0,30}\")\\}"
            .prop_map(String::into_bytes),
    ]
}

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        Just(Method::GET),
        Just(Method::POST),
        Just(Method::PUT),
        Just(Method::PATCH),
        Just(Method::DELETE),
        Just(Method::OPTIONS),
        Just(Method::HEAD),
    ]
}

#[test]
fn random_requests_never_get_a_5xx_or_a_bare_error() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let node = rt.block_on(TestNode::start());
    let mut runner = TestRunner::new(Config {
        cases: 400,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (method(), path(), query(), body(), any::<u8>());
    let result = runner.run(&strategy, |(method, path, query, body, auth)| {
        let outcome = rt.block_on(async {
            let mut req = node
                .anon(method.clone(), &format!("{path}{query}"))
                .body(body);
            req = match auth % 4 {
                0 => req,
                1 => req.bearer_auth(&node.key),
                2 => req.header("x-api-key", "wa_garbage"),
                _ => req.header("authorization", "Bearer a.b.c"),
            };
            let res = req.send().await.map_err(|e| e.to_string())?;
            let status = res.status();
            let text = res.text().await.map_err(|e| e.to_string())?;
            Ok::<_, String>((status, text))
        });
        let (status, text) = outcome.map_err(TestCaseError::fail)?;
        prop_assert!(
            status.as_u16() < 500,
            "{method} {path}{query} -> {status}: {text}"
        );
        if status.is_client_error() && method != Method::HEAD {
            let v: Value = serde_json::from_str(&text).map_err(|_| {
                TestCaseError::fail(format!(
                    "{method} {path}{query} -> {status}: not JSON: {text}"
                ))
            })?;
            prop_assert!(
                v["error"]["code"].is_string(),
                "{method} {path}{query}: {text}"
            );
        }
        Ok(())
    });
    rt.block_on(async { drop(node) });
    result.unwrap();
}
