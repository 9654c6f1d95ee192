//! The group port on the backend chosen by `WAGATE_TEST_BACKEND`: global metadata merged by
//! COALESCE, per-session memberships and the session's own joined/left record.

use wagate_domain::engine::MemberRole;
use wagate_domain::{
    GroupMeta, GroupStore, MemberUpsert, NewSession, OrgId, Organization, SessionId,
};
use wagate_store::Stores;
use wagate_test_support::db::TestDatabase;

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
        let org = OrgId::generate();
        let organization = Organization {
            id: org.clone(),
            name: "acme".into(),
            created_at: 1,
        };
        stores
            .core
            .insert_organization(&organization)
            .await
            .unwrap();
        Self {
            _db: db,
            stores,
            org,
        }
    }

    async fn session(&self) -> SessionId {
        let session = NewSession {
            organization_id: self.org.clone(),
            created_by_user_id: None,
            gateway_id: "gw-1".into(),
            label: None,
            auto_read: false,
            presence_typing: false,
            rate_per_min: 20,
            rate_per_hour: 200,
        }
        .into_session(SessionId::generate(), 1);
        self.stores.core.insert_session(&session).await.unwrap();
        session.id
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
    f.g().upsert_group(&meta, 10).await.unwrap();
    assert!(
        f.g().list_groups(&me).await.unwrap().is_empty(),
        "metadata alone is no membership"
    );
    f.g().mark_joined(&me, GID, 11).await.unwrap();
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

    f.g().mark_left(&me, GID, 20).await.unwrap();
    let left = f
        .g()
        .get_group(&me, GID)
        .await
        .unwrap()
        .expect("still readable");
    assert_eq!(left.left_at, Some(20));
    f.g().mark_joined(&me, GID, 30).await.unwrap();
    assert_eq!(
        f.g().get_group(&me, GID).await.unwrap().unwrap().left_at,
        None
    );
}

#[tokio::test]
async fn metadata_is_merged_and_an_empty_description_clears_it() {
    let f = Fixture::new().await;
    let me = f.session().await;
    f.g().mark_joined(&me, GID, 1).await.unwrap();
    let full = GroupMeta {
        subject: Some("Team".into()),
        description: Some("about".into()),
        owner_jid: Some("628111@s.whatsapp.net".into()),
        is_locked: Some(true),
        created_at_wa: Some(5),
        ..GroupMeta::jid(GID)
    };
    f.g().upsert_group(&full, 2).await.unwrap();
    let subject = GroupMeta {
        subject: Some("Renamed".into()),
        ..GroupMeta::jid(GID)
    };
    f.g().upsert_group(&subject, 3).await.unwrap();
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
    f.g().upsert_group(&cleared, 4).await.unwrap();
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
    f.g().mark_joined(&me, GID, 1).await.unwrap();
    let (a, b, c) = ("1@lid", "2@lid", "3@lid");
    let all = [
        member(a, MemberRole::Superadmin),
        member(b, MemberRole::Member),
    ];
    f.g().put_members(&me, GID, &all, true, 2).await.unwrap();
    let tagged = MemberUpsert {
        tag: Some("~x".into()),
        ..member(b, MemberRole::Admin)
    };
    f.g()
        .put_members(&me, GID, &[tagged, member(c, MemberRole::Member)], false, 3)
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
        .remove_members(&me, GID, &[c.to_owned()], 4)
        .await
        .unwrap();
    f.g()
        .put_members(&me, GID, &[member(b, MemberRole::Member)], true, 5)
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
