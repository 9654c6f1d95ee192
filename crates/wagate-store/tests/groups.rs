//! The group port on the backend chosen by `WAGATE_TEST_BACKEND`: global metadata merged by
//! COALESCE, per-session memberships and the session's own joined/left record, changes older
//! than the stored ones skipped, and members kept once across phone JID and LID.

use wagate_domain::engine::MemberRole;
use wagate_domain::{GroupMeta, GroupStore, IdentityUpdate, MemberUpsert, OrgId, SessionId};
use wagate_store::Stores;
use wagate_test_support::db::TestDatabase;
use wagate_test_support::seed;

const GID: &str = "120363000000000001@g.us";

struct Fixture {
    _db: TestDatabase,
    stores: Stores,
    org: OrgId,
}

impl Fixture {
    async fn new() -> Self {
        let db = TestDatabase::from_env().await;
        let stores = wagate_store::open_stores(db.url()).await.expect("open");
        let org = seed::organization(&stores).await;
        Self {
            _db: db,
            stores,
            org,
        }
    }

    async fn session(&self) -> SessionId {
        seed::session(&self.stores, &self.org).await.id
    }

    fn g(&self) -> &dyn GroupStore {
        &*self.stores.groups
    }
}

fn member(lid: &str, role: MemberRole) -> MemberUpsert {
    MemberUpsert {
        lid: lid.into(),
        role,
        tag: None,
    }
}

#[tokio::test]
async fn a_group_is_listed_only_for_sessions_that_are_or_were_in_it() {
    let f = Fixture::new().await;
    let (me, other) = (f.session().await, f.session().await);
    let meta = GroupMeta {
        subject: Some("Team".into()),
        is_announce: Some(false),
        ..GroupMeta::jid(GID)
    };
    f.g().upsert_group(&meta, 10, 10).await.unwrap();
    assert!(
        f.g().list_groups(&me).await.unwrap().is_empty(),
        "metadata alone is no membership"
    );
    f.g().mark_joined(&me, GID, 11, 11).await.unwrap();
    let groups = f.g().list_groups(&me).await.unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(
        (
            groups[0].subject.as_deref(),
            groups[0].is_announce,
            groups[0].left_at
        ),
        (Some("Team"), Some(false), None)
    );
    assert!(f.g().get_group(&other, GID).await.unwrap().is_none());

    f.g().mark_left(&me, GID, 20, 20).await.unwrap();
    let left = f
        .g()
        .get_group(&me, GID)
        .await
        .unwrap()
        .expect("still readable");
    assert_eq!(left.left_at, Some(20));
    f.g().mark_joined(&me, GID, 30, 30).await.unwrap();
    assert_eq!(
        f.g().get_group(&me, GID).await.unwrap().unwrap().left_at,
        None
    );
}

#[tokio::test]
async fn metadata_is_merged_and_an_empty_description_clears_it() {
    let f = Fixture::new().await;
    let me = f.session().await;
    f.g().mark_joined(&me, GID, 1, 1).await.unwrap();
    let full = GroupMeta {
        subject: Some("Team".into()),
        description: Some("about".into()),
        owner_jid: Some("628111@s.whatsapp.net".into()),
        is_locked: Some(true),
        created_at_wa: Some(5),
        ..GroupMeta::jid(GID)
    };
    f.g().upsert_group(&full, 2, 2).await.unwrap();
    let subject = GroupMeta {
        subject: Some("Renamed".into()),
        ..GroupMeta::jid(GID)
    };
    f.g().upsert_group(&subject, 3, 3).await.unwrap();
    let g = f.g().get_group(&me, GID).await.unwrap().unwrap();
    assert_eq!(
        (
            g.subject.as_deref(),
            g.description.as_deref(),
            g.is_locked,
            g.created_at_wa
        ),
        (Some("Renamed"), Some("about"), Some(true), Some(5))
    );
    assert_eq!((g.first_seen_at, g.updated_at), (1, 3));
    let cleared = GroupMeta {
        description: Some(String::new()),
        ..GroupMeta::jid(GID)
    };
    f.g().upsert_group(&cleared, 4, 4).await.unwrap();
    assert_eq!(
        f.g()
            .get_group(&me, GID)
            .await
            .unwrap()
            .unwrap()
            .description,
        None
    );
}

#[tokio::test]
async fn members_are_upserted_replaced_removed_and_counted_per_session() {
    let f = Fixture::new().await;
    let (me, other) = (f.session().await, f.session().await);
    f.g().mark_joined(&me, GID, 1, 1).await.unwrap();
    let (a, b, c) = ("1@lid", "2@lid", "3@lid");
    let all = [
        member(a, MemberRole::Superadmin),
        member(b, MemberRole::Member),
    ];
    f.g().put_members(&me, GID, &all, true, 2, 2).await.unwrap();
    let tagged = MemberUpsert {
        tag: Some("~x".into()),
        ..member(b, MemberRole::Admin)
    };
    f.g()
        .put_members(
            &me,
            GID,
            &[tagged, member(c, MemberRole::Member)],
            false,
            3,
            3,
        )
        .await
        .unwrap();
    let members = f.g().list_members(&me, GID).await.unwrap();
    let view: Vec<_> = members
        .iter()
        .map(|m| (m.lid.as_str(), m.role, m.tag.as_deref()))
        .collect();
    assert_eq!(
        view,
        [
            (a, MemberRole::Superadmin, None),
            (b, MemberRole::Admin, Some("~x")),
            (c, MemberRole::Member, None)
        ]
    );
    assert_eq!((members[1].first_seen_at, members[1].last_seen_at), (2, 3));
    assert_eq!(
        f.g()
            .get_group(&me, GID)
            .await
            .unwrap()
            .unwrap()
            .participant_count,
        Some(3)
    );
    assert!(f.g().list_members(&other, GID).await.unwrap().is_empty());

    f.g()
        .remove_members(&me, GID, &[c.to_owned()], 4, 4)
        .await
        .unwrap();
    f.g()
        .put_members(&me, GID, &[member(b, MemberRole::Member)], true, 5, 5)
        .await
        .unwrap();
    let members = f.g().list_members(&me, GID).await.unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(
        (members[0].lid.as_str(), members[0].tag.as_deref()),
        (b, Some("~x"))
    );
    assert_eq!(
        f.g()
            .get_group(&me, GID)
            .await
            .unwrap()
            .unwrap()
            .participant_count,
        Some(1)
    );
}

/// `(lid, role)` of the session's present members.
async fn members_of(f: &Fixture, session: &SessionId) -> Vec<(String, MemberRole)> {
    f.g()
        .list_members(session, GID)
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.lid, m.role))
        .collect()
}

#[tokio::test]
async fn a_field_change_older_than_the_stored_one_is_skipped() {
    let f = Fixture::new().await;
    let me = f.session().await;
    f.g().mark_joined(&me, GID, 1, 1).await.unwrap();
    let set = |subject: &str, description: &str, announce: bool| GroupMeta {
        subject: Some(subject.into()),
        description: Some(description.into()),
        is_announce: Some(announce),
        ..GroupMeta::jid(GID)
    };
    f.g()
        .upsert_group(&set("Second", "", true), 20, 21)
        .await
        .unwrap();
    // The echo of an earlier change arrives late: nothing goes back.
    f.g()
        .upsert_group(&set("First", "old", false), 10, 22)
        .await
        .unwrap();
    let g = f.g().get_group(&me, GID).await.unwrap().unwrap();
    assert_eq!(
        (
            g.subject.as_deref(),
            g.description.as_deref(),
            g.is_announce
        ),
        (Some("Second"), None, Some(true))
    );
    // A field the late change does not name is untouched; a newer change applies.
    let locked = GroupMeta {
        is_locked: Some(true),
        ..GroupMeta::jid(GID)
    };
    f.g().upsert_group(&locked, 5, 23).await.unwrap();
    f.g()
        .upsert_group(&set("Third", "about", false), 30, 24)
        .await
        .unwrap();
    let g = f.g().get_group(&me, GID).await.unwrap().unwrap();
    assert_eq!(
        (
            g.subject.as_deref(),
            g.description.as_deref(),
            g.is_announce,
            g.is_locked
        ),
        (Some("Third"), Some("about"), Some(false), Some(true))
    );
}

#[tokio::test]
async fn a_late_echo_never_brings_a_removed_member_back() {
    let f = Fixture::new().await;
    let me = f.session().await;
    f.g().mark_joined(&me, GID, 1, 1).await.unwrap();
    let (a, b, c) = ("1@lid", "2@lid", "3@lid");
    f.g()
        .put_members(&me, GID, &[member(a, MemberRole::Member)], false, 10, 10)
        .await
        .unwrap();
    f.g()
        .remove_members(&me, GID, &[a.to_owned()], 20, 20)
        .await
        .unwrap();
    // The addition's echo (time 10) and a removal of someone never seen (time 20)…
    f.g()
        .put_members(&me, GID, &[member(a, MemberRole::Member)], false, 10, 21)
        .await
        .unwrap();
    f.g()
        .remove_members(&me, GID, &[b.to_owned()], 20, 22)
        .await
        .unwrap();
    f.g()
        .put_members(&me, GID, &[member(b, MemberRole::Admin)], false, 15, 23)
        .await
        .unwrap();
    assert!(members_of(&f, &me).await.is_empty());
    assert_eq!(
        f.g()
            .get_group(&me, GID)
            .await
            .unwrap()
            .unwrap()
            .participant_count,
        Some(0)
    );
    // …while a later addition and a later full state apply; the full state leaves alone who
    // changed after it.
    f.g()
        .put_members(&me, GID, &[member(c, MemberRole::Admin)], false, 40, 24)
        .await
        .unwrap();
    let full = [member(a, MemberRole::Member), member(b, MemberRole::Member)];
    f.g()
        .put_members(&me, GID, &full, true, 30, 25)
        .await
        .unwrap();
    assert_eq!(
        members_of(&f, &me).await,
        [
            (a.to_owned(), MemberRole::Member),
            (b.to_owned(), MemberRole::Member),
            (c.to_owned(), MemberRole::Admin)
        ]
    );
    // The same member twice in one write is one row.
    let twice = [member(a, MemberRole::Member), member(a, MemberRole::Admin)];
    f.g()
        .put_members(&me, GID, &twice, false, 50, 26)
        .await
        .unwrap();
    assert_eq!(
        members_of(&f, &me).await[0],
        (a.to_owned(), MemberRole::Admin)
    );
}

#[tokio::test]
async fn group_traffic_adds_its_sender_and_keeps_a_known_role() {
    let f = Fixture::new().await;
    let me = f.session().await;
    f.g().mark_joined(&me, GID, 1, 1).await.unwrap();
    let (a, b) = ("1@lid", "2@lid");
    f.g()
        .put_members(&me, GID, &[member(a, MemberRole::Admin)], false, 10, 10)
        .await
        .unwrap();
    f.g().observe_member(&me, GID, a, 11, 11).await.unwrap();
    f.g().observe_member(&me, GID, b, 12, 12).await.unwrap();
    assert_eq!(
        members_of(&f, &me).await,
        [
            (a.to_owned(), MemberRole::Admin),
            (b.to_owned(), MemberRole::Member)
        ]
    );
    // An old message of someone removed since does not bring them back.
    f.g()
        .remove_members(&me, GID, &[b.to_owned()], 20, 20)
        .await
        .unwrap();
    f.g().observe_member(&me, GID, b, 15, 21).await.unwrap();
    assert_eq!(members_of(&f, &me).await.len(), 1);
    let g = f.g().get_group(&me, GID).await.unwrap().unwrap();
    assert_eq!(g.participant_count, Some(1));
}

#[tokio::test]
async fn the_session_record_skips_a_late_join_or_leave() {
    let f = Fixture::new().await;
    let me = f.session().await;
    f.g().mark_joined(&me, GID, 10, 10).await.unwrap();
    f.g().mark_left(&me, GID, 20, 20).await.unwrap();
    f.g().mark_joined(&me, GID, 10, 21).await.unwrap();
    let g = f.g().get_group(&me, GID).await.unwrap().unwrap();
    assert_eq!(g.left_at, Some(20));
}

#[tokio::test]
async fn phone_jids_resolve_to_the_single_lid_and_learning_one_merges_members() {
    let f = Fixture::new().await;
    let me = f.session().await;
    let identity = |lid: &str, phone: &str| IdentityUpdate {
        lid: lid.into(),
        phone_jid: Some(phone.into()),
        name: None,
        business_name: None,
    };
    let (phone, lid) = ("6281@s.whatsapp.net", "81@lid");
    let shared = "6282@s.whatsapp.net";
    for (l, p) in [(lid, phone), ("82@lid", shared), ("83@lid", shared)] {
        f.stores
            .messages
            .upsert_identity(&identity(l, p), 1)
            .await
            .unwrap();
    }
    // By the LID of the single identity with that phone JID; ambiguous phone JIDs stay.
    f.g().mark_joined(&me, GID, 1, 1).await.unwrap();
    let named = [
        member(phone, MemberRole::Member),
        member(shared, MemberRole::Member),
        member(lid, MemberRole::Admin),
    ];
    f.g()
        .put_members(&me, GID, &named, true, 5, 5)
        .await
        .unwrap();
    assert_eq!(
        members_of(&f, &me).await,
        [
            (lid.to_owned(), MemberRole::Admin),
            (shared.to_owned(), MemberRole::Member)
        ]
    );
    f.g()
        .remove_members(&me, GID, &[phone.to_owned(), shared.to_owned()], 6, 6)
        .await
        .unwrap();
    f.g().observe_member(&me, GID, phone, 7, 7).await.unwrap();
    assert_eq!(
        members_of(&f, &me).await,
        [(lid.to_owned(), MemberRole::Member)]
    );
    // A known admin writing by phone JID stays admin.
    f.g()
        .put_members(&me, GID, &[member(lid, MemberRole::Admin)], false, 8, 8)
        .await
        .unwrap();
    f.g().observe_member(&me, GID, phone, 9, 9).await.unwrap();
    assert_eq!(
        members_of(&f, &me).await,
        [(lid.to_owned(), MemberRole::Admin)]
    );
    f.g()
        .put_members(&me, GID, &[member(lid, MemberRole::Member)], false, 8, 8)
        .await
        .unwrap();

    // Stored in both forms before the mapping was known: one row after, the later change.
    let (p2, l2) = ("6284@s.whatsapp.net", "84@lid");
    let rows = [
        member(p2, MemberRole::Admin),
        member(l2, MemberRole::Member),
    ];
    f.g()
        .put_members(&me, GID, &rows[..1], false, 20, 20)
        .await
        .unwrap();
    f.g()
        .put_members(&me, GID, &rows[1..], false, 10, 21)
        .await
        .unwrap();
    f.stores
        .messages
        .upsert_identity(&identity(l2, p2), 22)
        .await
        .unwrap();
    assert_eq!(
        members_of(&f, &me).await,
        [
            (lid.to_owned(), MemberRole::Member),
            (l2.to_owned(), MemberRole::Admin)
        ]
    );
    let g = f.g().get_group(&me, GID).await.unwrap().unwrap();
    assert_eq!(g.participant_count, Some(2));
}
