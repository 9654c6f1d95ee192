//! The event log port on the backend chosen by `WAGATE_TEST_BACKEND`: scoped replays after a
//! cursor, unknown cursors, idempotent appends, pruning in batches.

mod common;

use common::event;
use wagate_domain::{EventId, LoggedEvent, OrgId, SessionId};
use wagate_test_support::db::TestDatabase;

fn ids(events: &[LoggedEvent]) -> Vec<EventId> {
    events.iter().map(|e| e.id.clone()).collect()
}

#[tokio::test]
async fn replays_stay_in_scope_and_resume_after_the_cursor() {
    let db = TestDatabase::from_env().await;
    let stores = wagate_store::open_stores(db.url()).await.expect("open");
    let log = &*stores.events;
    let (org, other_org) = (OrgId::generate(), OrgId::generate());
    let (s1, s2) = (SessionId::generate(), SessionId::generate());
    let mut ours = Vec::new();
    for i in 0..6 {
        let session = if i % 2 == 0 { &s1 } else { &s2 };
        ours.push(event(&org, session, "message", i));
    }
    let theirs = event(&other_org, &s1, "message", 3);
    log.append_events(&ours[..3]).await.unwrap();
    log.append_events(std::slice::from_ref(&theirs))
        .await
        .unwrap();
    log.append_events(&ours[3..]).await.unwrap();
    // Appending an event again changes nothing.
    log.append_events(&ours[..1]).await.unwrap();

    let all = log.events_after(&org, None, None, 100).await.unwrap();
    assert_eq!(ids(&all), ids(&ours));
    assert_eq!(all[0], ours[0]);
    let after = log
        .events_after(&org, None, Some(&ours[2].id), 100)
        .await
        .unwrap();
    assert_eq!(ids(&after), ids(&ours[3..]));
    let limited = log
        .events_after(&org, None, Some(&ours[0].id), 2)
        .await
        .unwrap();
    assert_eq!(ids(&limited), ids(&ours[1..3]));
    let one_session = log.events_after(&org, Some(&s2), None, 100).await.unwrap();
    assert_eq!(
        ids(&one_session),
        vec![ours[1].id.clone(), ours[3].id.clone(), ours[5].id.clone()]
    );
    // A cursor outside the scope (another organization's, another session's, or unknown)
    // replays the scope from its oldest event.
    for cursor in [theirs.id.clone(), ours[0].id.clone(), EventId::generate()] {
        let from_oldest = log
            .events_after(&org, Some(&s2), Some(&cursor), 100)
            .await
            .unwrap();
        assert_eq!(ids(&from_oldest), ids(&one_session), "{cursor}");
    }
    assert_eq!(
        ids(&log.events_after(&other_org, None, None, 100).await.unwrap()),
        vec![theirs.id.clone()]
    );
}

#[tokio::test]
async fn pruning_removes_old_events_in_batches() {
    let db = TestDatabase::from_env().await;
    let stores = wagate_store::open_stores(db.url()).await.expect("open");
    let log = &*stores.events;
    let (org, session) = (OrgId::generate(), SessionId::generate());
    let events: Vec<_> = (0..10)
        .map(|i| event(&org, &session, "x", i * 100))
        .collect();
    log.append_events(&events).await.unwrap();
    assert_eq!(log.prune_events(700, 4).await.unwrap(), 4);
    assert_eq!(log.prune_events(700, 4).await.unwrap(), 3);
    assert_eq!(log.prune_events(700, 4).await.unwrap(), 0);
    let left = log.events_after(&org, None, None, 100).await.unwrap();
    assert_eq!(ids(&left), ids(&events[7..]));
}
