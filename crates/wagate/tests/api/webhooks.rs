//! Webhooks over HTTP (api.md §11, events.md §5, D5): CRUD and its validation, signed
//! deliveries to a loopback receiver, retries on the policy's schedule with the same event id,
//! dead letters and redelivery, automatic disable, per-target isolation, organization
//! isolation, and the SSRF guard at creation and at delivery.

use std::time::Duration;

use base64::Engine as _;
use reqwest::Method;
use serde_json::{Value, json};
use wagate_domain::{RetryPolicy, Webhook, WebhookId};
use wagate_test_support::node::TestNode;
use wagate_test_support::receiver::{Received, Receiver};

use crate::events::traffic;

/// A node that may deliver to loopback receivers, with short attempt timeouts.
async fn node() -> TestNode {
    TestNode::start_with(|c| {
        c.webhooks.allow_private = true;
        c.webhooks.timeout = Duration::from_secs(10);
    })
    .await
}

async fn create(node: &TestNode, key: &str, body: Value) -> Value {
    let reply = node
        .call(Some(key), Method::POST, "/api/v1/webhooks", Some(&body))
        .await;
    assert_eq!(reply.status, 201, "{reply:?}");
    reply.body
}

/// A webhook with only a URL and a type list; returns its id.
async fn subscribe(node: &TestNode, key: &str, url: &str, events: &[&str]) -> String {
    let created = create(node, key, json!({"url": url, "events": events})).await;
    created["id"].as_str().expect("webhook id").to_owned()
}

async fn deliveries(node: &TestNode, webhook: &str) -> Vec<Value> {
    let reply = node
        .get(&format!("/api/v1/webhooks/{webhook}/deliveries"))
        .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    reply.body["data"].as_array().cloned().unwrap_or_default()
}

/// Polls the delivery log until `done` holds for it.
async fn wait_deliveries(
    node: &TestNode,
    webhook: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    for _ in 0..400 {
        let rows = deliveries(node, webhook).await;
        if done(&rows) {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "delivery log never settled: {:?}",
        deliveries(node, webhook).await
    );
}

fn of_type<'a>(got: &'a [Received], event: &str) -> Vec<&'a Received> {
    got.iter().filter(|r| r.json()["event"] == event).collect()
}

fn hmac_hex(algorithm: ring::hmac::Algorithm, key: &str, message: &[u8]) -> String {
    let key = ring::hmac::Key::new(algorithm, key.as_bytes());
    ring::hmac::sign(&key, message)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn crud_follows_the_contract_and_never_returns_the_secret() {
    let node = node().await;
    let session = node.create_session("hooks").await;
    let created = create(
        &node,
        &node.key,
        json!({"url": "https://93.184.216.34/hook", "events": ["message"], "secret": "s3cret",
               "sessionId": session, "customHeaders": {"X-Team": "crm"}}),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("wh_"));
    assert_eq!(created["url"], "https://93.184.216.34/hook");
    assert_eq!(created["sessionId"], session.as_str());
    assert_eq!(created["active"], true);
    assert_eq!(created["hasSecret"], true);
    assert_eq!(
        created["retryPolicy"],
        json!({"policy": "exponential", "delaySeconds": 2, "attempts": 15})
    );
    assert!(!created.to_string().contains("s3cret"), "{created}");

    // PATCH: absent sessionId keeps it; explicit null widens to all sessions.
    let patched = node
        .request(
            Method::PATCH,
            &format!("/api/v1/webhooks/{id}"),
            Some(&json!({"events": ["*"]})),
        )
        .await;
    assert_eq!(patched.status, 200, "{patched:?}");
    assert_eq!(patched.body["sessionId"], session.as_str());
    assert_eq!(patched.body["events"], json!(["*"]));
    let widened = node
        .request(
            Method::PATCH,
            &format!("/api/v1/webhooks/{id}"),
            Some(&json!({"sessionId": null, "secret": ""})),
        )
        .await;
    assert_eq!(widened.status, 200, "{widened:?}");
    assert!(widened.body.get("sessionId").is_none());
    assert_eq!(widened.body["hasSecret"], false);

    let second = create(
        &node,
        &node.key,
        json!({"url": "http://93.184.216.35", "events": ["*"]}),
    )
    .await;
    let listed = node.get("/api/v1/webhooks").await;
    let ids: Vec<&str> = listed.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w["id"].as_str())
        .collect();
    assert_eq!(ids, [second["id"].as_str().unwrap(), id.as_str()]);
    assert!(listed.body.get("nextCursor").is_none());

    // Another organization sees nothing and changes nothing.
    let other = node.new_org_key("read,send,manage,events").await;
    for (method, body) in [
        (Method::GET, None),
        (Method::PATCH, Some(&json!({"active": false}))),
        (Method::DELETE, None),
    ] {
        let r = node
            .call(
                Some(&other.key),
                method.clone(),
                &format!("/api/v1/webhooks/{id}"),
                body,
            )
            .await;
        assert_eq!(r.status, 404, "{method} {r:?}");
        assert_eq!(r.body["error"]["message"], "webhook not found");
    }
    let theirs = node
        .call(Some(&other.key), Method::GET, "/api/v1/webhooks", None)
        .await;
    assert_eq!(theirs.body["data"], json!([]));
    // A session of another organization is not found.
    let foreign_session = node
        .call(
            Some(&other.key),
            Method::POST,
            "/api/v1/webhooks",
            Some(&json!({"url": "https://93.184.216.34", "events": ["*"], "sessionId": session})),
        )
        .await;
    assert_eq!(foreign_session.status, 404, "{foreign_session:?}");
    assert_eq!(
        foreign_session.body["error"]["message"],
        "session not found"
    );

    let deleted = node
        .request(Method::DELETE, &format!("/api/v1/webhooks/{id}"), None)
        .await;
    assert_eq!(deleted.status, 204);
    assert_eq!(
        node.get(&format!("/api/v1/webhooks/{id}")).await.status,
        404
    );
}

#[tokio::test]
async fn bad_webhook_bodies_are_validation_errors() {
    let node = node().await;
    for (body, message) in [
        (json!({"events": ["*"]}), "url is required"),
        (json!({"url": "", "events": ["*"]}), "url is required"),
        (
            json!({"url": "https://93.184.216.34"}),
            "events is required",
        ),
        (
            json!({"url": "https://93.184.216.34", "events": []}),
            "events is required",
        ),
        (
            json!({"url": "ftp://93.184.216.34", "events": ["*"]}),
            "url must be an absolute http or https URL",
        ),
        (
            json!({"url": "93.184.216.34/hook", "events": ["*"]}),
            "url must be an absolute http or https URL",
        ),
        (
            json!({"url": "https://93.184.216.34", "events": ["*"], "customHeaders": {"bad header": "x"}}),
            "customHeaders: invalid header name \"bad header\"",
        ),
    ] {
        let r = node
            .request(Method::POST, "/api/v1/webhooks", Some(&body))
            .await;
        assert_eq!(r.status, 400, "{body} → {r:?}");
        assert_eq!(r.body["error"]["code"], "validation_error");
        assert_eq!(r.body["error"]["message"], message, "{body}");
    }
    let unknown = node
        .request(
            Method::POST,
            "/api/v1/webhooks",
            Some(&json!({"url": "https://93.184.216.34", "events": ["*"], "colour": "red"})),
        )
        .await;
    assert_eq!(unknown.status, 400);
    let listed = node.get("/api/v1/webhooks").await;
    assert_eq!(listed.body["data"], json!([]), "nothing half-written");
}

#[tokio::test]
async fn deliveries_carry_both_signatures_and_headers_custom_ones_cannot_override() {
    let node = node().await;
    let receiver = Receiver::start().await;
    create(
        &node,
        &node.key,
        json!({"url": receiver.url(), "events": ["message"], "secret": "s3cret",
               "customHeaders": {"X-Team": "crm", "Content-Type": "text/plain",
                                 "X-Webhook-Request-Id": "spoofed"}}),
    )
    .await;
    traffic(&node, 1).await;
    let got = receiver
        .wait_for(Duration::from_secs(10), |r| !r.is_empty())
        .await;
    assert_eq!(got.len(), 1, "only the subscribed type arrives");
    let r = &got[0];
    let envelope = r.json();
    assert_eq!(envelope["event"], "message");
    let id = envelope["id"].as_str().unwrap();
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("x-webhook-request-id"), Some(id));
    assert_eq!(r.header("x-team"), Some("crm"));
    // The contract's scheme: hex HMAC-SHA512 of the raw body.
    assert_eq!(r.header("x-webhook-hmac-algorithm"), Some("sha512"));
    assert_eq!(
        r.header("x-webhook-hmac").unwrap(),
        hmac_hex(ring::hmac::HMAC_SHA512, "s3cret", &r.body)
    );
    // Standard Webhooks: v1,base64(HMAC-SHA256("id.timestamp.body")).
    assert_eq!(r.header("webhook-id"), Some(id));
    let ts = r.header("webhook-timestamp").unwrap();
    let now_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((now_s - ts.parse::<i64>().unwrap()).abs() < 60);
    let mut signed = format!("{id}.{ts}.").into_bytes();
    signed.extend_from_slice(&r.body);
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"s3cret");
    let expected =
        base64::engine::general_purpose::STANDARD.encode(ring::hmac::sign(&key, &signed).as_ref());
    assert_eq!(
        r.header("webhook-signature").unwrap(),
        format!("v1,{expected}")
    );
}

#[tokio::test]
async fn a_failing_receiver_gets_the_same_event_again_after_the_policy_gaps() {
    let node = node().await;
    let receiver = Receiver::start().await;
    receiver.fail_first(2);
    let hook = create(
        &node,
        &node.key,
        json!({"url": receiver.url(), "events": ["message"],
               "retryPolicy": {"policy": "exponential", "delaySeconds": 1, "attempts": 5}}),
    )
    .await;
    traffic(&node, 1).await;
    let got = receiver
        .wait_for(Duration::from_secs(20), |r| r.len() >= 3)
        .await;
    assert_eq!(got.len(), 3);
    assert_eq!(
        got.iter().map(|r| r.status).collect::<Vec<_>>(),
        [500, 500, 200]
    );
    let id = got[0].event_id();
    assert!(
        got.iter().all(|r| r.event_id() == id),
        "one id on every attempt"
    );
    assert!(
        got.iter().all(|r| r.body == got[0].body),
        "byte-identical bodies"
    );
    // Exponential from 1 s: 1 s, then 2 s (plus dispatcher granularity).
    let gaps: Vec<Duration> = got.windows(2).map(|w| w[1].at - w[0].at).collect();
    assert!(gaps[0] >= Duration::from_millis(950), "{gaps:?}");
    assert!(gaps[1] >= Duration::from_millis(1950), "{gaps:?}");
    assert!(gaps[1] < Duration::from_secs(6), "{gaps:?}");

    let rows = wait_deliveries(&node, hook["id"].as_str().unwrap(), |d| {
        d.first().is_some_and(|d| d["status"] == "delivered")
    })
    .await;
    assert_eq!(rows[0]["eventId"], id.as_str());
    assert_eq!(rows[0]["attempts"], 3);
    assert_eq!(rows[0]["responseCode"], 200);
    assert!(rows[0].get("lastError").is_none());
}

#[tokio::test]
async fn the_last_failed_attempt_dead_letters_and_redelivery_starts_over() {
    let node = node().await;
    let receiver = Receiver::start().await;
    receiver.always_fail(true);
    let hook = create(
        &node,
        &node.key,
        json!({"url": receiver.url(), "events": ["message"],
               "retryPolicy": {"policy": "constant", "delaySeconds": 1, "attempts": 2}}),
    )
    .await;
    let hook = hook["id"].as_str().unwrap().to_owned();
    traffic(&node, 1).await;
    let rows = wait_deliveries(&node, &hook, |d| {
        d.first().is_some_and(|d| d["status"] == "dead")
    })
    .await;
    assert_eq!(rows[0]["attempts"], 2);
    assert_eq!(rows[0]["responseCode"], 500);
    assert!(
        rows[0]["lastError"]
            .as_str()
            .unwrap()
            .starts_with("non-2xx status 500"),
        "{rows:?}"
    );
    assert_eq!(receiver.hits(), 2);

    receiver.always_fail(false);
    let delivery = rows[0]["id"].as_str().unwrap();
    let again = node
        .request(
            Method::POST,
            &format!("/api/v1/webhooks/{hook}/deliveries/{delivery}:redeliver"),
            None,
        )
        .await;
    assert_eq!(again.status, 202, "{again:?}");
    assert_eq!(again.body["status"], "pending");
    let rows = wait_deliveries(&node, &hook, |d| {
        d.first().is_some_and(|d| d["status"] == "delivered")
    })
    .await;
    assert_eq!(rows[0]["attempts"], 1);
    let got = receiver.received();
    assert_eq!(got.len(), 3);
    assert_eq!(got[2].event_id(), got[0].event_id());

    let missing = node
        .request(
            Method::POST,
            &format!("/api/v1/webhooks/{hook}/deliveries/999999:redeliver"),
            None,
        )
        .await;
    assert_eq!(missing.status, 404);
}

#[tokio::test]
async fn test_sends_a_signed_test_event_and_reports_the_answer() {
    let node = node().await;
    let receiver = Receiver::start().await;
    let hook = create(
        &node,
        &node.key,
        json!({"url": receiver.url(), "events": ["message"], "secret": "k"}),
    )
    .await;
    let hook = hook["id"].as_str().unwrap();
    let ok = node
        .request(Method::POST, &format!("/api/v1/webhooks/{hook}:test"), None)
        .await;
    assert_eq!(ok.status, 200, "{ok:?}");
    assert_eq!(ok.body["delivered"], true);
    assert_eq!(ok.body["responseCode"], 200);
    let got = receiver.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].json()["event"], "webhook.test");
    assert_eq!(got[0].event_id(), ok.body["eventId"].as_str().unwrap());
    assert_eq!(
        got[0].header("x-webhook-hmac").unwrap(),
        hmac_hex(ring::hmac::HMAC_SHA512, "k", &got[0].body)
    );
    receiver.always_fail(true);
    let failed = node
        .request(Method::POST, &format!("/api/v1/webhooks/{hook}:test"), None)
        .await;
    assert_eq!(failed.body["delivered"], false);
    assert_eq!(failed.body["responseCode"], 500);
}

#[tokio::test]
async fn private_and_metadata_targets_are_refused_at_creation_without_traffic() {
    let node = TestNode::start().await;
    let receiver = Receiver::start().await;
    for url in [
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://10.0.0.1/hook".to_owned(),
        "http://192.168.1.10:8080/".to_owned(),
        "http://[fd00:ec2::254]/".to_owned(),
        receiver.url(),
        format!("http://localhost:{}/hook", receiver.port()),
        format!("http://[::1]:{}/hook", receiver.port()),
    ] {
        let r = node
            .request(
                Method::POST,
                "/api/v1/webhooks",
                Some(&json!({"url": url, "events": ["*"]})),
            )
            .await;
        assert_eq!(r.status, 400, "{url} → {r:?}");
        assert!(
            r.body["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with("url points to a private"),
            "{r:?}"
        );
    }
    assert_eq!(receiver.hits(), 0);
}

#[tokio::test]
async fn delivery_checks_the_target_again() {
    let node = TestNode::start().await;
    let receiver = Receiver::start().await;
    // Stored behind the API's back, as if the rules had changed since creation.
    let stores = wagate_store::open_stores(node.db.url()).await.unwrap();
    let id = WebhookId::generate();
    stores
        .webhooks
        .insert_webhook(&Webhook {
            id: id.clone(),
            organization: node.default_org().await,
            session: None,
            url: receiver.url(),
            events: vec!["*".into()],
            custom_headers: Default::default(),
            retry_policy: RetryPolicy::exponential(60, 5),
            active: true,
            secret: None,
            failing_since: None,
            disabled_at: None,
            disabled_reason: None,
            created_at: 0,
            updated_at: 0,
        })
        .await
        .unwrap();
    traffic(&node, 1).await;
    let rows = wait_deliveries(&node, id.as_str(), |d| {
        !d.is_empty() && d.iter().all(|d| d["status"] == "failed")
    })
    .await;
    assert!(
        rows[0]["lastError"]
            .as_str()
            .unwrap()
            .contains("private, loopback or link-local"),
        "{rows:?}"
    );
    assert_eq!(receiver.hits(), 0, "no traffic reached the refused target");
}

#[tokio::test]
async fn another_organizations_events_never_reach_its_webhooks() {
    let node = node().await;
    let (ours, theirs) = (Receiver::start().await, Receiver::start().await);
    let other = node.new_org_key("read,send,manage,events").await;
    subscribe(&node, &node.key, &ours.url(), &["*"]).await;
    subscribe(&node, &other.key, &theirs.url(), &["*"]).await;
    traffic(&node, 2).await;
    let got = ours
        .wait_for(Duration::from_secs(10), |r| {
            of_type(r, "message").len() == 2
        })
        .await;
    assert!(
        of_type(&got, "session.status").len() >= 2,
        "lifecycle events are delivered too"
    );
    let org = node.default_org().await;
    assert!(got.iter().all(|r| r.json()["organization"] == org.as_str()));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(theirs.hits(), 0);
}

#[tokio::test]
async fn a_slow_receiver_never_delays_another() {
    let node = node().await;
    let (slow, fast) = (Receiver::start().await, Receiver::start().await);
    slow.delay(Duration::from_secs(8));
    subscribe(&node, &node.key, &slow.url(), &["message"]).await;
    subscribe(&node, &node.key, &fast.url(), &["message"]).await;
    traffic(&node, 3).await;
    // The slow receiver holds each answer for 8 s; the fast one gets everything meanwhile.
    fast.wait_for(Duration::from_secs(7), |r| r.len() == 3)
        .await;
    assert!(
        slow.received().is_empty(),
        "the slow one is still holding its answers"
    );
}

#[tokio::test]
async fn a_webhook_failing_continuously_is_disabled_and_says_so() {
    let node = TestNode::start_with(|c| {
        c.webhooks.allow_private = true;
        c.webhooks.disable_after = Duration::from_secs(2);
    })
    .await;
    let receiver = Receiver::start().await;
    receiver.always_fail(true);
    let hook = create(
        &node,
        &node.key,
        json!({"url": receiver.url(), "events": ["*"],
               "retryPolicy": {"policy": "constant", "delaySeconds": 1, "attempts": 20}}),
    )
    .await;
    let hook = hook["id"].as_str().unwrap().to_owned();
    traffic(&node, 1).await;
    let mut disabled = Value::Null;
    for _ in 0..200 {
        disabled = node.get(&format!("/api/v1/webhooks/{hook}")).await.body;
        if disabled["active"] == false {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(disabled["active"], false, "{disabled}");
    assert!(disabled["disabledAt"].as_i64().is_some(), "{disabled}");
    assert!(
        disabled["disabledReason"]
            .as_str()
            .unwrap()
            .contains("failing continuously"),
        "{disabled}"
    );
    // Switched back on, it starts with a clean record.
    let on = node
        .request(
            Method::PATCH,
            &format!("/api/v1/webhooks/{hook}"),
            Some(&json!({"active": true})),
        )
        .await;
    assert_eq!(on.body["active"], true);
    assert!(on.body.get("disabledAt").is_none(), "{on:?}");
}
