//! Every documented operation, three ways: no credential (401), a key of another organization
//! (404 for the other organization's resources), a key lacking the operation's capability (403).
//! The table must cover exactly the operations in the OpenAPI document.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Value, json};
use wagate_test_support::node::TestNode;

/// How a caller of another organization must be answered.
#[derive(Clone, Copy)]
enum Foreign {
    /// The path names a resource of the first organization: `404`.
    NotFound,
    /// A collection: the caller only ever sees its own organization's data.
    OwnDataOnly,
    /// A stream of the caller's own organization (isolation is tested in `events.rs`): it
    /// opens, and only its first frame is read.
    OwnStream,
}

struct Op {
    method: Method,
    path: &'static str,
    cap: &'static str,
    body: Option<Value>,
    foreign: Foreign,
}

fn ops() -> Vec<Op> {
    let op = |method, path, cap, body, foreign| Op {
        method,
        path,
        cap,
        body,
        foreign,
    };
    // Operations on one session of the first organization: `manage`, and 404 for a stranger.
    let on_session = |method, path| op(method, path, "manage", None, Foreign::NotFound);
    let phone = Some(json!({"phone": "628111000009"}));
    let key = Some(json!({"permissions": ["read"]}));
    let reading = |method, path| op(method, path, "read", None, Foreign::NotFound);
    let sending = |method, path, body| op(method, path, "send", body, Foreign::NotFound);
    let on_webhook = |method, path, body| op(method, path, "manage", body, Foreign::NotFound);
    let text = Some(json!({"type": "text", "to": "628111000009@s.whatsapp.net", "text": "hi"}));
    let target = Some(
        json!({"chat": "628111000009@s.whatsapp.net", "text": "x", "to": "628111000009@s.whatsapp.net"}),
    );
    vec![
        op(
            Method::GET,
            "/api/v1/sessions",
            "manage",
            None,
            Foreign::OwnDataOnly,
        ),
        op(
            Method::POST,
            "/api/v1/sessions",
            "manage",
            Some(json!({})),
            Foreign::OwnDataOnly,
        ),
        on_session(Method::GET, "/api/v1/sessions/{session}"),
        on_session(Method::DELETE, "/api/v1/sessions/{session}"),
        on_session(Method::POST, "/api/v1/sessions/{session}:start"),
        on_session(Method::POST, "/api/v1/sessions/{session}:stop"),
        on_session(Method::POST, "/api/v1/sessions/{session}:restart"),
        on_session(Method::POST, "/api/v1/sessions/{session}:logout"),
        on_session(Method::GET, "/api/v1/sessions/{session}/me"),
        on_session(Method::GET, "/api/v1/sessions/{session}/qr"),
        op(
            Method::POST,
            "/api/v1/sessions/{session}/pairing-code",
            "manage",
            phone,
            Foreign::NotFound,
        ),
        op(
            Method::GET,
            "/api/v1/api-keys",
            "manage",
            None,
            Foreign::OwnDataOnly,
        ),
        op(
            Method::POST,
            "/api/v1/api-keys",
            "manage",
            key,
            Foreign::OwnDataOnly,
        ),
        op(
            Method::DELETE,
            "/api/v1/api-keys/{id}",
            "manage",
            None,
            Foreign::NotFound,
        ),
        // Chats and messages (issue 4): `read` to look, `send` to act.
        reading(Method::GET, "/api/v1/sessions/{session}/chats"),
        reading(Method::GET, "/api/v1/sessions/{session}/chats/{cid}"),
        reading(
            Method::GET,
            "/api/v1/sessions/{session}/chats/{cid}/messages",
        ),
        sending(
            Method::POST,
            "/api/v1/sessions/{session}/chats/{cid}/read",
            None,
        ),
        sending(
            Method::PATCH,
            "/api/v1/sessions/{session}/chats/{cid}",
            Some(json!({})),
        ),
        sending(
            Method::DELETE,
            "/api/v1/sessions/{session}/chats/{cid}",
            None,
        ),
        sending(Method::POST, "/api/v1/sessions/{session}/messages", text),
        op(
            Method::GET,
            "/api/v1/events",
            "events",
            None,
            Foreign::OwnStream,
        ),
        // The WebSocket's ticket (the upgrade itself is authorized by the ticket alone and is
        // not a documented operation; its refusals are tested in `realtime.rs`).
        op(
            Method::POST,
            "/api/v1/realtime/ticket",
            "events",
            Some(json!({})),
            Foreign::OwnDataOnly,
        ),
        reading(Method::GET, "/api/v1/sessions/{session}/outbox/{outboxId}"),
        sending(
            Method::PATCH,
            "/api/v1/sessions/{session}/messages/{mid}",
            target.clone(),
        ),
        sending(
            Method::DELETE,
            "/api/v1/sessions/{session}/messages/{mid}",
            target.clone(),
        ),
        sending(
            Method::POST,
            "/api/v1/sessions/{session}/messages/{mid}/reaction",
            target.clone(),
        ),
        sending(
            Method::DELETE,
            "/api/v1/sessions/{session}/messages/{mid}/reaction",
            target.clone(),
        ),
        sending(
            Method::POST,
            "/api/v1/sessions/{session}/messages/{mid}/forward",
            target.clone(),
        ),
        sending(
            Method::POST,
            "/api/v1/sessions/{session}/messages/{mid}/vote",
            target,
        ),
        // Presence (issue 4): a snapshot is a read, indicators are sends.
        reading(
            Method::GET,
            "/api/v1/sessions/{session}/chats/{cid}/presence",
        ),
        sending(
            Method::PUT,
            "/api/v1/sessions/{session}/chats/{cid}/presence",
            Some(json!({"state": "composing"})),
        ),
        sending(
            Method::PUT,
            "/api/v1/sessions/{session}/presence",
            Some(json!({"state": "online"})),
        ),
        // Contacts (issue 4): lookups are reads, blocking is a send.
        reading(Method::GET, "/api/v1/sessions/{session}/contacts"),
        reading(Method::GET, "/api/v1/sessions/{session}/contacts/check"),
        reading(Method::GET, "/api/v1/sessions/{session}/contacts/{lid}"),
        reading(
            Method::GET,
            "/api/v1/sessions/{session}/contacts/{jid}/picture",
        ),
        reading(
            Method::GET,
            "/api/v1/sessions/{session}/contacts/{jid}/about",
        ),
        sending(
            Method::POST,
            "/api/v1/sessions/{session}/contacts/{jid}/block",
            None,
        ),
        sending(
            Method::POST,
            "/api/v1/sessions/{session}/contacts/{jid}/unblock",
            None,
        ),
        sending(
            Method::POST,
            "/api/v1/sessions/{session}/status",
            Some(json!({"type": "text", "text": "hi"})),
        ),
        reading(
            Method::GET,
            "/api/v1/sessions/{session}/messages/{mid}/media",
        ),
        // Groups and channels (issue 5).
        reading(Method::GET, "/api/v1/sessions/{session}/groups"),
        sending(
            Method::POST,
            "/api/v1/sessions/{session}/groups",
            Some(json!({"name": "Team"})),
        ),
        reading(Method::GET, "/api/v1/sessions/{session}/groups/{gid}"),
        sending(
            Method::PATCH,
            "/api/v1/sessions/{session}/groups/{gid}",
            Some(json!({"subject": "Team"})),
        ),
        reading(
            Method::GET,
            "/api/v1/sessions/{session}/groups/{gid}/invite",
        ),
        sending(
            Method::DELETE,
            "/api/v1/sessions/{session}/groups/{gid}/invite",
            None,
        ),
        reading(
            Method::GET,
            "/api/v1/sessions/{session}/groups/{gid}/members",
        ),
        sending(
            Method::POST,
            "/api/v1/sessions/{session}/groups/{gid}/members",
            Some(json!({"participants": ["628111000009@s.whatsapp.net"]})),
        ),
        sending(
            Method::DELETE,
            "/api/v1/sessions/{session}/groups/{gid}/members/{jid}",
            None,
        ),
        sending(
            Method::POST,
            "/api/v1/sessions/{session}/groups/{gid}/members/{jid}/promote",
            None,
        ),
        sending(
            Method::POST,
            "/api/v1/sessions/{session}/groups/{gid}/members/{jid}/demote",
            None,
        ),
        sending(
            Method::POST,
            "/api/v1/sessions/{session}/groups/{gid}/members:approve",
            None,
        ),
        sending(
            Method::POST,
            "/api/v1/sessions/{session}/groups:join",
            Some(json!({"invite": "AbC123"})),
        ),
        sending(
            Method::POST,
            "/api/v1/sessions/{session}/groups/{gid}:leave",
            None,
        ),
        sending(
            Method::POST,
            "/api/v1/sessions/{session}/channels",
            Some(json!({"name": "News"})),
        ),
        reading(
            Method::GET,
            "/api/v1/sessions/{session}/channels/{jid}/messages",
        ),
        sending(
            Method::POST,
            "/api/v1/sessions/{session}/channels/{jid}:follow",
            None,
        ),
        sending(
            Method::POST,
            "/api/v1/sessions/{session}/channels/{jid}:unfollow",
            None,
        ),
        sending(
            Method::POST,
            "/api/v1/sessions/{session}/channels/{jid}:mute",
            Some(json!({})),
        ),
        // Webhooks (issue 6): all `manage`.
        op(
            Method::GET,
            "/api/v1/webhooks",
            "manage",
            None,
            Foreign::OwnDataOnly,
        ),
        op(
            Method::POST,
            "/api/v1/webhooks",
            "manage",
            Some(json!({"url": "https://93.184.216.34/hook", "events": ["*"]})),
            Foreign::OwnDataOnly,
        ),
        on_webhook(Method::GET, "/api/v1/webhooks/{id}", None),
        on_webhook(
            Method::PATCH,
            "/api/v1/webhooks/{id}",
            Some(json!({"active": false})),
        ),
        on_webhook(Method::DELETE, "/api/v1/webhooks/{id}", None),
        on_webhook(Method::GET, "/api/v1/webhooks/{id}/deliveries", None),
        on_webhook(Method::POST, "/api/v1/webhooks/{id}:test", None),
        on_webhook(
            Method::POST,
            "/api/v1/webhooks/{id}/deliveries/{deliveryId}:redeliver",
            None,
        ),
    ]
}

fn all_but(cap: &str) -> String {
    ["read", "send", "manage", "events"]
        .into_iter()
        .filter(|c| *c != cap)
        .collect::<Vec<_>>()
        .join(",")
}

/// A path with its parameters filled by resources of the bootstrap organization.
async fn concrete(node: &TestNode, template: &str) -> String {
    let mut path = template.to_owned();
    if path.contains("{session}") {
        path = path.replace("{session}", &node.create_session("target").await);
    }
    path = path
        .replace("{cid}", "628111000009%40s.whatsapp.net")
        .replace("{jid}", "628111000009%40s.whatsapp.net")
        .replace("{lid}", "205227043110953%40lid")
        .replace("{mid}", "3EB0ABCDEF")
        .replace("{outboxId}", "out_01JAAAAAAAAAAAAAAAAAAAAAAA")
        .replace("{gid}", "120363000000000001%40g.us");
    if path.starts_with("/api/v1/webhooks/{id}") {
        let created = node
            .post(
                "/api/v1/webhooks",
                json!({"url": "https://93.184.216.34/hook", "events": ["*"]}),
            )
            .await;
        let id = created.body["id"].as_str().expect("webhook id").to_owned();
        path = path.replace("{id}", &id).replace("{deliveryId}", "1");
    }
    if path.contains("{id}") {
        let key = node.key_in(&node.default_org().await, "read", None).await;
        path = path.replace("{id}", &key.id);
    }
    path
}

fn send(node: &TestNode, key: Option<&str>, op: &Op, path: &str) -> reqwest::RequestBuilder {
    let mut req = match key {
        Some(k) => node.with_key(k, op.method.clone(), path),
        None => node.anon(op.method.clone(), path),
    };
    if let Some(body) = &op.body {
        req = req.json(body);
    }
    req
}

#[tokio::test]
async fn table_covers_exactly_the_documented_operations() {
    let doc = serde_json::to_value(wagate_http::openapi::document()).unwrap();
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect();
    let tabled: BTreeSet<(String, String)> = ops()
        .iter()
        .map(|o| (o.method.to_string(), o.path.to_owned()))
        .collect();
    assert_eq!(documented, tabled);
}

#[tokio::test]
async fn every_operation_without_credential_is_401() {
    let node = TestNode::start().await;
    for op in ops() {
        let path = concrete(&node, op.path).await;
        let res = send(&node, None, &op, &path).send().await.unwrap();
        assert_eq!(res.status(), 401, "{} {}", op.method, op.path);
        let body: Value = res.json().await.unwrap();
        assert_eq!(
            body["error"]["code"], "unauthorized",
            "{} {}",
            op.method, op.path
        );
    }
}

#[tokio::test]
async fn every_operation_with_a_key_lacking_its_capability_is_403() {
    let node = TestNode::start().await;
    let org = node.default_org().await;
    for op in ops() {
        let path = concrete(&node, op.path).await;
        let weak = node.key_in(&org, &all_but(op.cap), None).await;
        let res = send(&node, Some(&weak.key), &op, &path)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{} {}", op.method, op.path);
        let body: Value = res.json().await.unwrap();
        assert_eq!(
            body["error"]["message"],
            format!("missing required capability: {}", op.cap),
            "{} {}",
            op.method,
            op.path
        );
    }
}

#[tokio::test]
async fn every_operation_with_another_organizations_key_never_reaches_our_data() {
    let node = TestNode::start().await;
    let ours = node.create_session("ours").await;
    let stranger = node.new_org_key("read,send,manage,events").await;
    for op in ops() {
        let path = concrete(&node, op.path).await;
        let res = send(&node, Some(&stranger.key), &op, &path)
            .send()
            .await
            .unwrap();
        let status = res.status();
        if let Foreign::OwnStream = op.foreign {
            assert!(status.is_success(), "{} {}: {status}", op.method, op.path);
            let mut res = res;
            let first = res.chunk().await.unwrap().unwrap_or_default();
            let frame: Value = serde_json::from_slice(first.trim_ascii()).unwrap();
            assert_eq!(frame["event"], "connected", "{} {}", op.method, op.path);
            continue;
        }
        let body: Value = res.json().await.unwrap_or(Value::Null);
        match op.foreign {
            Foreign::NotFound => {
                assert_eq!(status, 404, "{} {}", op.method, op.path);
                assert_eq!(body["error"]["code"], "not_found");
            }
            Foreign::OwnStream => unreachable!("handled above"),
            Foreign::OwnDataOnly => {
                assert!(status.is_success(), "{} {}: {status}", op.method, op.path);
                let text = body.to_string();
                assert!(
                    !text.contains(&ours),
                    "{} {} leaked a session",
                    op.method,
                    op.path
                );
                if let Some(org) = body["organizationId"].as_str() {
                    assert_eq!(org, stranger.org.as_str(), "{} {}", op.method, op.path);
                }
                for item in body["data"].as_array().into_iter().flatten() {
                    assert_eq!(item["organizationId"], stranger.org.as_str());
                }
            }
        }
    }
    // The first organization's session is untouched by all of that.
    let res = node
        .req(Method::GET, &format!("/api/v1/sessions/{ours}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn foreign_session_is_404_even_without_the_capability() {
    let node = TestNode::start().await;
    let ours = node.create_session("ours").await;
    let stranger = node.new_org_key("read").await;
    let res = node
        .with_key(
            &stranger.key,
            Method::GET,
            &format!("/api/v1/sessions/{ours}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["message"], "session not found");
}
