//! The webhook port on the backend chosen by `WAGATE_TEST_BACKEND`: deliveries created by the
//! event log's append (matching, de-duplication), claims as leases, outcomes, redelivery,
//! deletion and retention.

use wagate_domain::{
    DeliveryOutcome, DeliveryStatus, LoggedEvent, OrgId, RetryPolicy, SessionId, Webhook,
    WebhookHealth, WebhookId,
};
use wagate_test_support::db::TestDatabase;

mod common;

use common::event;

fn webhook(org: &OrgId, session: Option<&SessionId>, events: &[&str]) -> Webhook {
    Webhook {
        id: WebhookId::generate(),
        organization: org.clone(),
        session: session.cloned(),
        url: "http://example.com/hook".into(),
        events: events.iter().map(|e| (*e).to_owned()).collect(),
        custom_headers: [("X-Team".to_owned(), "crm".to_owned())].into(),
        retry_policy: RetryPolicy::exponential(2, 15),
        active: true,
        secret: Some(vec![1, 2, 3]),
        failing_since: None,
        disabled_at: None,
        disabled_reason: None,
        created_at: 1,
        updated_at: 1,
    }
}

#[tokio::test]
async fn appended_events_get_one_delivery_per_matching_webhook() {
    let db = TestDatabase::from_env().await;
    let stores = wagate_store::open_stores(db.url()).await.expect("open");
    let (log, hooks) = (&*stores.events, &*stores.webhooks);
    let (org, other) = (OrgId::generate(), OrgId::generate());
    let (s1, s2) = (SessionId::generate(), SessionId::generate());
    let all = webhook(&org, None, &["*"]);
    let messages_of_s1 = webhook(&org, Some(&s1), &["message"]);
    let mut inactive = webhook(&org, None, &["*"]);
    inactive.active = false;
    let case = webhook(&org, None, &["Message"]);
    let nothing = webhook(&org, None, &[]);
    let foreign = webhook(&other, None, &["*"]);
    for w in [&all, &messages_of_s1, &inactive, &case, &nothing, &foreign] {
        hooks.insert_webhook(w).await.unwrap();
    }
    assert_eq!(
        hooks.get_webhook(Some(&org), &all.id).await.unwrap(),
        Some(all.clone())
    );
    assert_eq!(
        hooks.get_webhook(Some(&other), &all.id).await.unwrap(),
        None
    );
    assert_eq!(
        hooks.get_webhook(None, &all.id).await.unwrap(),
        Some(all.clone())
    );
    let listed: Vec<WebhookId> = hooks
        .list_webhooks(&org)
        .await
        .unwrap()
        .into_iter()
        .map(|w| w.id)
        .collect();
    assert_eq!(
        listed,
        vec![
            nothing.id.clone(),
            case.id.clone(),
            inactive.id.clone(),
            messages_of_s1.id.clone(),
            all.id.clone()
        ],
        "newest first"
    );

    let m1 = event(&org, &s1, "message", 10);
    let m2 = event(&org, &s2, "message", 11);
    let st = event(&org, &s1, "session.status", 12);
    let n = log
        .append_events(&[m1.clone(), m2.clone(), st.clone()])
        .await
        .unwrap();
    // all: 3, messages_of_s1: 1; the inactive, case-mismatched, empty and foreign ones: none.
    assert_eq!(n, 4);
    assert_eq!(
        log.append_events(std::slice::from_ref(&m1)).await.unwrap(),
        0
    );

    let due = hooks.due_webhooks(100, 10).await.unwrap();
    assert_eq!(due.len(), 2);
    assert!(due.contains(&all.id) && due.contains(&messages_of_s1.id));
    let of_s1 = hooks
        .list_deliveries(&messages_of_s1.id, None, 10)
        .await
        .unwrap();
    assert_eq!(of_s1.len(), 1);
    assert_eq!(of_s1[0].event, m1.id);
    assert_eq!(of_s1[0].status, DeliveryStatus::Pending);
    assert_eq!(of_s1[0].next_retry_at, Some(10));
}

#[tokio::test]
async fn claims_are_leases_and_outcomes_are_recorded() {
    let db = TestDatabase::from_env().await;
    let stores = wagate_store::open_stores(db.url()).await.expect("open");
    let (log, hooks) = (&*stores.events, &*stores.webhooks);
    let (org, s) = (OrgId::generate(), SessionId::generate());
    let w = webhook(&org, None, &["*"]);
    hooks.insert_webhook(&w).await.unwrap();
    let events: Vec<LoggedEvent> = (0..5).map(|i| event(&org, &s, "message", i)).collect();
    log.append_events(&events).await.unwrap();

    let first = hooks.claim_deliveries(&w.id, 100, 10_000, 3).await.unwrap();
    assert_eq!(first.len(), 3);
    assert_eq!(first[0].event, events[0].id);
    assert_eq!(
        first[0].envelope.as_deref(),
        Some(events[0].envelope.as_str())
    );
    // Claimed rows are leased: the next claim gets only the rest.
    let second = hooks
        .claim_deliveries(&w.id, 100, 10_000, 10)
        .await
        .unwrap();
    assert_eq!(second.len(), 2);
    assert!(
        hooks
            .claim_deliveries(&w.id, 100, 10_000, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // A lease that ran out (its holder died) makes them due again.
    assert_eq!(
        hooks
            .claim_deliveries(&w.id, 10_000, 20_000, 10)
            .await
            .unwrap()
            .len(),
        5
    );

    let outcomes = vec![
        DeliveryOutcome {
            id: first[0].id,
            status: DeliveryStatus::Delivered,
            attempts: 1,
            response_code: Some(204),
            next_retry_at: None,
            last_error: None,
        },
        DeliveryOutcome {
            id: first[1].id,
            status: DeliveryStatus::Failed,
            attempts: 1,
            response_code: Some(500),
            next_retry_at: Some(30_000),
            last_error: Some("non-2xx status 500: boom".into()),
        },
    ];
    hooks
        .record_deliveries(
            &w.id,
            &outcomes,
            Some(&WebhookHealth::Failing { since: 25_000 }),
            25_000,
        )
        .await
        .unwrap();
    let stored = hooks.get_webhook(None, &w.id).await.unwrap().unwrap();
    assert_eq!(stored.failing_since, Some(25_000));
    let log_rows = hooks.list_deliveries(&w.id, None, 10).await.unwrap();
    let delivered = log_rows.iter().find(|d| d.id == first[0].id).unwrap();
    assert_eq!(delivered.status, DeliveryStatus::Delivered);
    assert_eq!(delivered.next_retry_at, None);
    let failed = log_rows.iter().find(|d| d.id == first[1].id).unwrap();
    assert_eq!(failed.status, DeliveryStatus::Failed);
    assert_eq!(failed.response_code, Some(500));
    assert_eq!(failed.next_retry_at, Some(30_000));

    // Pages go newest first, below the cursor.
    let page = hooks
        .list_deliveries(&w.id, Some(log_rows[1].id), 2)
        .await
        .unwrap();
    assert_eq!(
        page.iter().map(|d| d.id).collect::<Vec<_>>(),
        vec![log_rows[2].id, log_rows[3].id]
    );

    // Disabling switches the webhook off; new events then create no deliveries.
    hooks
        .record_deliveries(
            &w.id,
            &[],
            Some(&WebhookHealth::Disabled {
                at: 26_000,
                reason: "failing".into(),
            }),
            26_000,
        )
        .await
        .unwrap();
    let stored = hooks.get_webhook(None, &w.id).await.unwrap().unwrap();
    assert!(!stored.active);
    assert_eq!(stored.disabled_at, Some(26_000));
    assert_eq!(
        log.append_events(&[event(&org, &s, "message", 27_000)])
            .await
            .unwrap(),
        0
    );

    // Redelivery starts a delivered one over.
    let again = hooks
        .redeliver(&w.id, first[0].id, 40_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.status, DeliveryStatus::Pending);
    assert_eq!(again.attempts, 0);
    assert_eq!(again.next_retry_at, Some(40_000));
    assert!(
        hooks
            .redeliver(&w.id, 999_999, 40_000)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn deleting_a_webhook_dead_letters_its_open_deliveries() {
    let db = TestDatabase::from_env().await;
    let stores = wagate_store::open_stores(db.url()).await.expect("open");
    let (log, hooks) = (&*stores.events, &*stores.webhooks);
    let (org, s) = (OrgId::generate(), SessionId::generate());
    let w = webhook(&org, None, &["*"]);
    hooks.insert_webhook(&w).await.unwrap();
    log.append_events(&[event(&org, &s, "message", 1)])
        .await
        .unwrap();
    assert!(
        !hooks
            .delete_webhook(&OrgId::generate(), &w.id, 5)
            .await
            .unwrap()
    );
    assert!(hooks.delete_webhook(&org, &w.id, 5).await.unwrap());
    let rows = hooks.list_deliveries(&w.id, None, 10).await.unwrap();
    assert_eq!(rows[0].status, DeliveryStatus::Dead);
    assert_eq!(
        rows[0].last_error.as_deref(),
        Some(format!("webhook {} not found", w.id).as_str())
    );
    assert!(hooks.due_webhooks(100, 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn retention_keeps_events_a_receiver_is_still_owed() {
    let db = TestDatabase::from_env().await;
    let stores = wagate_store::open_stores(db.url()).await.expect("open");
    let (log, hooks) = (&*stores.events, &*stores.webhooks);
    let (org, s) = (OrgId::generate(), SessionId::generate());
    let w = webhook(&org, None, &["*"]);
    hooks.insert_webhook(&w).await.unwrap();
    let owed = event(&org, &s, "message", 1);
    let done = event(&org, &s, "message", 2);
    log.append_events(&[owed.clone(), done.clone()])
        .await
        .unwrap();
    let claimed = hooks.claim_deliveries(&w.id, 10, 20, 10).await.unwrap();
    let done_delivery = claimed.iter().find(|c| c.event == done.id).unwrap();
    hooks
        .record_deliveries(
            &w.id,
            &[DeliveryOutcome {
                id: done_delivery.id,
                status: DeliveryStatus::Delivered,
                attempts: 1,
                response_code: Some(200),
                next_retry_at: None,
                last_error: None,
            }],
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(hooks.prune_deliveries(100, 1000).await.unwrap(), 1);
    assert_eq!(log.prune_events(100, 1000).await.unwrap(), 1);
    let left = log.events_after(&org, None, None, 10).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].id, owed.id);
}
