//! One behaviour story per store operation, run against the backend chosen by
//! `WAGATE_TEST_BACKEND` (SQLite by default, PostgreSQL with `WAGATE_TEST_PG_URL`).

use std::sync::Arc;

use wagate_domain::{
    ApiKey, ApiKeyId, CapabilitySet, NewSession, OrgId, Organization, RawApiKey, SessionId,
    SessionStatus, Store, StoreError, StoredTicket,
};
use wagate_test_support::db::TestDatabase;

async fn store() -> (TestDatabase, Arc<dyn Store>) {
    let db = TestDatabase::from_env().await;
    let store = wagate_store::open(db.url()).await.expect("open store");
    (db, store)
}

fn org(name: &str) -> Organization {
    Organization {
        id: OrgId::generate(),
        name: name.to_owned(),
        created_at: 1_000,
    }
}

fn new_session(org: &OrgId, label: &str, created_at: i64) -> wagate_domain::Session {
    NewSession {
        organization_id: org.clone(),
        created_by_user_id: None,
        gateway_id: "gw-1".into(),
        label: Some(label.into()),
        auto_read: true,
        presence_typing: false,
        rate_per_min: 20,
        rate_per_hour: 200,
    }
    .into_session(SessionId::generate(), created_at)
}

fn api_key(org: &OrgId, sessions: Option<Vec<SessionId>>) -> (RawApiKey, ApiKey) {
    let raw = RawApiKey::generate();
    let key = ApiKey {
        id: ApiKeyId::generate(),
        organization_id: org.clone(),
        name: Some("ci".into()),
        key_hash: raw.digest(),
        permissions: CapabilitySet::parse_list("read,send").unwrap(),
        sessions,
        expires_at: Some(9_999),
        enabled: true,
        created_at: 1_000,
        last_used_at: None,
    };
    (raw, key)
}

#[tokio::test]
async fn opening_twice_keeps_data_and_migrations_are_idempotent() {
    let (db, store) = store().await;
    let o = org("acme");
    store.insert_organization(&o).await.unwrap();
    store.close().await;
    let again = wagate_store::open(db.url()).await.unwrap();
    assert_eq!(again.count_organizations().await.unwrap(), 1);
    again.ping().await.unwrap();
}

#[tokio::test]
async fn organizations_are_found_by_id_or_name() {
    let (_db, store) = store().await;
    let o = org("acme");
    store.insert_organization(&o).await.unwrap();
    assert_eq!(
        store.find_organization(o.id.as_str()).await.unwrap(),
        Some(o.clone())
    );
    assert_eq!(
        store.find_organization("acme").await.unwrap(),
        Some(o.clone())
    );
    assert_eq!(store.find_organization("nope").await.unwrap(), None);
    assert!(matches!(
        store.insert_organization(&o).await,
        Err(StoreError::Conflict(_))
    ));
}

#[tokio::test]
async fn ambiguous_organization_name_is_a_conflict() {
    let (_db, store) = store().await;
    store.insert_organization(&org("twin")).await.unwrap();
    store.insert_organization(&org("twin")).await.unwrap();
    assert!(matches!(
        store.find_organization("twin").await,
        Err(StoreError::Conflict(_))
    ));
}

#[tokio::test]
async fn ensure_organization_creates_once() {
    let (_db, store) = store().await;
    let o = org("jwt-org");
    assert!(store.ensure_organization(&o).await.unwrap());
    assert!(!store.ensure_organization(&o).await.unwrap());
    assert_eq!(store.list_organizations().await.unwrap(), vec![o]);
}

#[tokio::test]
async fn sessions_round_trip_every_field() {
    let (_db, store) = store().await;
    let o = org("acme");
    store.insert_organization(&o).await.unwrap();
    let mut s = new_session(&o.id, "front desk", 5);
    s.status = SessionStatus::Working;
    s.status_reason = Some("because".into());
    s.wa_jid = Some("62811:3@s.whatsapp.net".into());
    s.wa_lid = Some("123@lid".into());
    s.phone_number = Some("62811".into());
    s.is_admin_session = true;
    s.last_connected_at = Some(77);
    store.insert_session(&s).await.unwrap();
    assert_eq!(store.get_session(&o.id, &s.id).await.unwrap(), Some(s));
}

#[tokio::test]
async fn sessions_are_scoped_to_their_organization() {
    let (_db, store) = store().await;
    let (a, b) = (org("a"), org("b"));
    store.insert_organization(&a).await.unwrap();
    store.insert_organization(&b).await.unwrap();
    let s = new_session(&a.id, "x", 1);
    store.insert_session(&s).await.unwrap();
    assert_eq!(store.get_session(&b.id, &s.id).await.unwrap(), None);
    assert!(store.list_sessions(&b.id).await.unwrap().is_empty());
    assert!(!store.delete_session(&b.id, &s.id).await.unwrap());
    assert!(store.delete_session(&a.id, &s.id).await.unwrap());
    assert_eq!(store.get_session(&a.id, &s.id).await.unwrap(), None);
}

#[tokio::test]
async fn sessions_list_newest_first_and_count_by_status() {
    let (_db, store) = store().await;
    let o = org("acme");
    store.insert_organization(&o).await.unwrap();
    let old = new_session(&o.id, "old", 10);
    let mut new = new_session(&o.id, "new", 20);
    new.status = SessionStatus::Working;
    store.insert_session(&old).await.unwrap();
    store.insert_session(&new).await.unwrap();
    let ids: Vec<_> = store
        .list_sessions(&o.id)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(ids, vec![new.id, old.id]);
    let mut counts = store.count_sessions_by_status().await.unwrap();
    counts.sort_by_key(|(s, _)| s.as_str());
    assert_eq!(
        counts,
        vec![(SessionStatus::Stopped, 1), (SessionStatus::Working, 1)]
    );
}

#[tokio::test]
async fn session_of_unknown_organization_is_refused() {
    let (_db, store) = store().await;
    let s = new_session(&OrgId::generate(), "orphan", 1);
    assert!(store.insert_session(&s).await.is_err());
}

#[tokio::test]
async fn api_keys_are_found_by_hash_and_keep_their_session_list() {
    let (_db, store) = store().await;
    let o = org("acme");
    store.insert_organization(&o).await.unwrap();
    let limited = vec![SessionId::generate(), SessionId::generate()];
    let (raw, key) = api_key(&o.id, Some(limited));
    store.insert_api_key(&key).await.unwrap();
    let found = store.find_api_key_by_hash(&raw.digest()).await.unwrap();
    assert_eq!(found, Some(key.clone()));
    assert_eq!(store.get_api_key(&key.id).await.unwrap(), Some(key));
    assert_eq!(
        store
            .find_api_key_by_hash(&RawApiKey::generate().digest())
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn revoking_a_key_disables_it_once_and_only_in_its_organization() {
    let (_db, store) = store().await;
    let (a, b) = (org("a"), org("b"));
    store.insert_organization(&a).await.unwrap();
    store.insert_organization(&b).await.unwrap();
    let (_, key) = api_key(&a.id, None);
    store.insert_api_key(&key).await.unwrap();
    assert!(
        !store
            .revoke_api_key(Some(&b.id), &key.id, 5_000)
            .await
            .unwrap()
    );
    assert!(
        store
            .revoke_api_key(Some(&a.id), &key.id, 5_000)
            .await
            .unwrap()
    );
    assert!(!store.revoke_api_key(None, &key.id, 6_000).await.unwrap());
    assert!(!store.get_api_key(&key.id).await.unwrap().unwrap().enabled);
}

#[tokio::test]
async fn revoked_keys_are_listed_by_revocation_time() {
    let (_db, store) = store().await;
    let a = org("a");
    store.insert_organization(&a).await.unwrap();
    let (_, early) = api_key(&a.id, None);
    let (_, late) = api_key(&a.id, None);
    let (_, active) = api_key(&a.id, None);
    for k in [&early, &late, &active] {
        store.insert_api_key(k).await.unwrap();
    }
    assert!(store.revoke_api_key(None, &late.id, 9_000).await.unwrap());
    assert!(store.revoke_api_key(None, &early.id, 4_000).await.unwrap());
    assert_eq!(
        store.api_keys_revoked_since(0).await.unwrap(),
        [(early.id.clone(), 4_000), (late.id.clone(), 9_000)]
    );
    assert_eq!(
        store.api_keys_revoked_since(9_000).await.unwrap(),
        [(late.id, 9_000)]
    );
    assert!(
        store
            .api_keys_revoked_since(9_001)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_realtime_ticket_is_redeemed_once_and_only_before_it_expires() {
    let (_db, store) = store().await;
    let ticket = |hash: &str, expires_at| StoredTicket {
        hash: hash.into(),
        subscription: format!("{{\"for\":\"{hash}\"}}"),
        created_at: 1_000,
        expires_at,
    };
    store
        .insert_realtime_ticket(&ticket("a", 31_000))
        .await
        .unwrap();
    store
        .insert_realtime_ticket(&ticket("b", 31_000))
        .await
        .unwrap();
    store
        .insert_realtime_ticket(&ticket("old", 2_000))
        .await
        .unwrap();
    assert_eq!(
        store.redeem_realtime_ticket("a", 5_000).await.unwrap(),
        Some(ticket("a", 31_000))
    );
    assert_eq!(
        store.redeem_realtime_ticket("a", 5_000).await.unwrap(),
        None
    );
    assert_eq!(
        store.redeem_realtime_ticket("nope", 5_000).await.unwrap(),
        None
    );
    // Expired: refused, and gone after the attempt.
    assert_eq!(
        store.redeem_realtime_ticket("b", 31_000).await.unwrap(),
        None
    );
    assert_eq!(store.prune_realtime_tickets(5_000).await.unwrap(), 1);
    assert_eq!(store.prune_realtime_tickets(5_000).await.unwrap(), 0);
}

/// What another process does (`wagate keys revoke`, another node) is seen by the very next
/// lookup: nothing on the per-request read path may serve a stale row.
#[tokio::test]
async fn changes_through_another_store_handle_are_seen_by_the_next_lookup() {
    let (db, store) = store().await;
    let other = wagate_store::open(db.url()).await.expect("second handle");
    let o = org("acme");
    store.insert_organization(&o).await.unwrap();
    let (raw, key) = api_key(&o.id, None);
    store.insert_api_key(&key).await.unwrap();
    let s = new_session(&o.id, "s", 2_000);
    store.insert_session(&s).await.unwrap();
    // Warm up every read path (and any connection or statement it keeps) first.
    for _ in 0..3 {
        let found = store.find_api_key_by_hash(&raw.digest()).await.unwrap();
        assert!(found.unwrap().enabled);
        assert!(store.get_session(&o.id, &s.id).await.unwrap().is_some());
    }
    assert!(other.revoke_api_key(None, &key.id, 3_000).await.unwrap());
    let found = store.find_api_key_by_hash(&raw.digest()).await.unwrap();
    assert!(!found.unwrap().enabled, "revocation seen at once");
    assert!(other.delete_session(&o.id, &s.id).await.unwrap());
    assert_eq!(store.get_session(&o.id, &s.id).await.unwrap(), None);
    other.close().await;
}

/// Every write to a session, by this handle or another one, is seen by the next `get_session`
/// (the per-request lookup, which SQLite answers from a validated cache).
#[tokio::test]
async fn every_session_write_is_seen_by_the_next_lookup_from_either_handle() {
    let (db, store) = store().await;
    let other = wagate_store::open(db.url()).await.expect("second handle");
    let o = org("acme");
    store.insert_organization(&o).await.unwrap();
    let s = new_session(&o.id, "s", 2_000);
    store.insert_session(&s).await.unwrap();
    let looked_up = || async { store.get_session(&o.id, &s.id).await.unwrap().unwrap() };
    for writer in [&store, &other] {
        assert!(looked_up().await.status != SessionStatus::Working);
        writer
            .set_session_status(&s.id, SessionStatus::Working, None, 3_000)
            .await
            .unwrap();
        assert_eq!(looked_up().await.status, SessionStatus::Working);
        writer
            .set_session_account(
                &s.id,
                Some("62811:2@s.whatsapp.net"),
                None,
                Some("62811"),
                4_000,
            )
            .await
            .unwrap();
        assert_eq!(looked_up().await.phone_number.as_deref(), Some("62811"));
        writer.set_session_connected_at(&s.id, 5_000).await.unwrap();
        assert_eq!(looked_up().await.last_connected_at, Some(5_000));
        writer
            .set_session_status(&s.id, SessionStatus::Stopped, None, 6_000)
            .await
            .unwrap();
        writer
            .set_session_account(&s.id, None, None, None, 6_000)
            .await
            .unwrap();
        let reset = looked_up().await;
        assert_eq!(
            (reset.status, reset.phone_number),
            (SessionStatus::Stopped, None)
        );
    }
    other.close().await;
}

#[tokio::test]
async fn api_keys_page_by_id_within_an_organization() {
    let (_db, store) = store().await;
    let (a, b) = (org("a"), org("b"));
    store.insert_organization(&a).await.unwrap();
    store.insert_organization(&b).await.unwrap();
    let mut ids = Vec::new();
    for _ in 0..3 {
        let (_, k) = api_key(&a.id, None);
        store.insert_api_key(&k).await.unwrap();
        ids.push(k.id);
    }
    store.insert_api_key(&api_key(&b.id, None).1).await.unwrap();
    let first = store.list_api_keys(Some(&a.id), None, 2).await.unwrap();
    assert_eq!(
        first.iter().map(|k| &k.id).collect::<Vec<_>>(),
        vec![&ids[0], &ids[1]]
    );
    let rest = store
        .list_api_keys(Some(&a.id), Some(&ids[1]), 2)
        .await
        .unwrap();
    assert_eq!(
        rest.iter().map(|k| &k.id).collect::<Vec<_>>(),
        vec![&ids[2]]
    );
    assert_eq!(store.list_api_keys(None, None, 10).await.unwrap().len(), 4);
}

#[tokio::test]
async fn touching_a_key_records_last_use() {
    let (_db, store) = store().await;
    let o = org("acme");
    store.insert_organization(&o).await.unwrap();
    let (_, key) = api_key(&o.id, None);
    store.insert_api_key(&key).await.unwrap();
    store.touch_api_key(&key.id, 4242).await.unwrap();
    let got = store.get_api_key(&key.id).await.unwrap().unwrap();
    assert_eq!(got.last_used_at, Some(4242));
}

#[tokio::test]
async fn status_changes_report_whether_anything_changed() {
    let (_db, store) = store().await;
    let o = org("acme");
    store.insert_organization(&o).await.unwrap();
    let s = new_session(&o.id, "x", 1);
    store.insert_session(&s).await.unwrap();
    assert!(
        store
            .set_session_status(&s.id, SessionStatus::Starting, None, 2)
            .await
            .unwrap()
    );
    assert!(
        !store
            .set_session_status(&s.id, SessionStatus::Starting, None, 3)
            .await
            .unwrap()
    );
    assert!(
        store
            .set_session_status(&s.id, SessionStatus::Starting, Some("disconnected"), 4)
            .await
            .unwrap()
    );
    let got = store.get_session_by_id(&s.id).await.unwrap().unwrap();
    assert_eq!(got.status, SessionStatus::Starting);
    assert_eq!(got.status_reason.as_deref(), Some("disconnected"));
    assert_eq!(got.updated_at, 4);
}

#[tokio::test]
async fn account_and_connection_stamps_round_trip() {
    let (_db, store) = store().await;
    let o = org("acme");
    store.insert_organization(&o).await.unwrap();
    let s = new_session(&o.id, "x", 1);
    store.insert_session(&s).await.unwrap();
    store
        .set_session_account(
            &s.id,
            Some("62811:2@s.whatsapp.net"),
            Some("9@lid"),
            Some("62811"),
            5,
        )
        .await
        .unwrap();
    store.set_session_connected_at(&s.id, 6).await.unwrap();
    let got = store.get_session_by_id(&s.id).await.unwrap().unwrap();
    assert_eq!(got.wa_jid.as_deref(), Some("62811:2@s.whatsapp.net"));
    assert_eq!(got.phone_number.as_deref(), Some("62811"));
    assert_eq!(got.last_connected_at, Some(6));
    store
        .set_session_account(&s.id, None, None, None, 7)
        .await
        .unwrap();
    let cleared = store.get_session_by_id(&s.id).await.unwrap().unwrap();
    assert_eq!((cleared.wa_jid, cleared.wa_lid), (None, None));
    let on_gw = store.list_sessions_on_gateway("gw-1").await.unwrap();
    assert_eq!(on_gw.len(), 1);
    assert!(
        store
            .list_sessions_on_gateway("gw-2")
            .await
            .unwrap()
            .is_empty()
    );
}
