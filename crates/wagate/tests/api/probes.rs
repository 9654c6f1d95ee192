//! Unauthenticated probes (api.md §1.2).

use reqwest::Method;
use wagate_test_support::node::TestNode;

#[tokio::test]
async fn healthz_and_readyz_answer_without_credentials() {
    let node = TestNode::start().await;
    let res = node.anon(Method::GET, "/healthz").send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "ok");
    let res = node.anon(Method::GET, "/readyz").send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "ready");
}

#[tokio::test]
async fn metrics_report_route_templates_statuses_latency_and_sessions() {
    let node = TestNode::start().await;
    let id = node.create_session("m").await;
    node.req(Method::GET, &format!("/api/v1/sessions/{id}"))
        .send()
        .await
        .unwrap();
    node.anon(Method::GET, "/api/v1/sessions")
        .send()
        .await
        .unwrap();
    let text = node
        .anon(Method::GET, "/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.lines()
            .any(|l| l.starts_with("wagate_http_requests_total")
                && l.contains("route=\"/api/v1/sessions/{session}\"")
                && l.contains("status=\"200\"")),
        "route template, not the concrete id:\n{text}"
    );
    assert!(!text.contains(&id), "ids never become labels");
    assert!(
        text.lines()
            .any(|l| l.contains("route=\"/api/v1/sessions\"") && l.contains("status=\"401\""))
    );
    assert!(text.contains("wagate_http_request_duration_seconds_bucket"));
    let stopped = text
        .lines()
        .find(|l| l.starts_with("wagate_sessions{status=\"stopped\"}"))
        .expect("sessions gauge");
    let n: f64 = stopped.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(n >= 1.0, "{stopped}");
}
