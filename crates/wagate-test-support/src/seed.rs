//! Rows most store-level tests start from: an organization and a session in it.

use wagate_domain::{NewSession, OrgId, Organization, Session, SessionId};
use wagate_store::Stores;

/// Inserts a fresh organization named `acme`.
pub async fn organization(stores: &Stores) -> OrgId {
    let org = Organization {
        id: OrgId::generate(),
        name: "acme".into(),
        created_at: 1,
    };
    stores
        .core
        .insert_organization(&org)
        .await
        .expect("insert organization");
    org.id
}

/// Inserts a fresh session of `org` with default settings and auto-read off.
pub async fn session(stores: &Stores, org: &OrgId) -> Session {
    let session = NewSession {
        organization_id: org.clone(),
        created_by_user_id: None,
        gateway_id: "gw-1".into(),
        label: None,
        auto_read: false,
        presence_typing: false,
        rate_per_min: 20,
        rate_per_hour: 200,
    }
    .into_session(SessionId::generate(), 1);
    stores
        .core
        .insert_session(&session)
        .await
        .expect("insert session");
    session
}
