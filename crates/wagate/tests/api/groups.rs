//! Groups over HTTP against simnet (issue 5): every operation, stored groups following
//! WhatsApp's changes with `group.*` events, and the contract's error paths.

use reqwest::Method;
use serde_json::{Value, json};
use wagate_domain::EventPayload;
use wagate_test_support::node::{Reply, TestNode};

use crate::messaging::{ME, PEER, jid, paired, stop, wait_for_items};

const THIRD: &str = "628111000003";

/// A paired session with `PEER` and `THIRD` on the network.
struct Fixture {
    node: TestNode,
    id: String,
}

impl Fixture {
    async fn new() -> Self {
        let (node, id) = paired(|_| {}).await;
        node.sim_phone(THIRD).await;
        Self { node, id }
    }

    /// `/api/v1/sessions/{id}{rest}`.
    fn path(&self, rest: &str) -> String {
        format!("/api/v1/sessions/{}{rest}", self.id)
    }

    async fn call(&self, method: Method, rest: &str, body: Option<Value>) -> Reply {
        let path = self.path(rest);
        self.node
            .call(Some(&self.node.key), method, &path, body.as_ref())
            .await
    }

    /// Creates a group through the API with `PEER` in it; answers its encoded JID.
    async fn create(&self, name: &str) -> String {
        let body = json!({"name": name, "participants": [jid(PEER)]});
        let created = self.call(Method::POST, "/groups", Some(body)).await;
        assert_eq!(created.status, 201, "{created:?}");
        enc(created.body["groupJid"].as_str().unwrap())
    }

    /// `PEER` creates a group on the network with this session's account in it; its JID.
    async fn sim_group(&self, subject: &str) -> String {
        let body = json!({"subject": subject, "participants": [jid(ME)]});
        let reply = self
            .node
            .sim(
                Method::POST,
                &format!("/_sim/phones/{PEER}/groups"),
                Some(body),
            )
            .await;
        assert_eq!(reply.status, 201, "{reply:?}");
        reply.body["gid"].as_str().unwrap().to_owned()
    }

    /// A group `PEER` created with this session's account as a plain member.
    async fn peer_group(&self) -> String {
        let gid = enc(&self.sim_group("Peer's").await);
        self.wait_for_group(&gid, |g| g["subject"] == "Peer's")
            .await;
        gid
    }

    /// `PEER` runs a live operation on the network.
    async fn peer_op(&self, op: Value) -> Reply {
        let path = format!("/_sim/phones/{PEER}/ops");
        let reply = self.node.sim(Method::POST, &path, Some(op)).await;
        assert_eq!(reply.status, 200, "{reply:?}");
        reply
    }

    /// The network's invite code of a group.
    async fn sim_invite(&self, gid: &str, revoke: bool) -> String {
        let path = if revoke {
            format!("/_sim/groups/{gid}/invite:revoke")
        } else {
            format!("/_sim/groups/{gid}/invite")
        };
        let reply = self.node.sim(Method::POST, &path, None).await;
        assert_eq!(reply.status, 200, "{reply:?}");
        reply.body["code"].as_str().unwrap().to_owned()
    }

    /// Polls `getGroup` until `done` holds.
    async fn wait_for_group(&self, gid: &str, done: impl Fn(&Value) -> bool) -> Value {
        let mut last = Value::Null;
        for _ in 0..200 {
            let reply = self
                .call(Method::GET, &format!("/groups/{gid}"), None)
                .await;
            if reply.status == 200 && done(&reply.body) {
                return reply.body;
            }
            last = reply.body;
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("group {gid} never reached the expected state; last: {last}");
    }

    /// `(lid, role)` of the stored members.
    /// The members once they equal `expected` (WhatsApp's echoes of our own earlier changes
    /// may still be arriving), else the last answer after 5 s.
    async fn settled_members(
        &self,
        gid: &str,
        expected: &[(String, String)],
    ) -> Vec<(String, String)> {
        let mut last = Vec::new();
        for _ in 0..200 {
            last = self.members(gid).await;
            if last == expected {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        last
    }

    /// The LID the network gave `phone`'s account.
    async fn lid(&self, phone: &str) -> String {
        let reply = self
            .node
            .sim(Method::GET, &format!("/_sim/phones/{phone}"), None)
            .await;
        assert_eq!(reply.status, 200, "{reply:?}");
        reply.body["lid"].as_str().unwrap().to_owned()
    }

    /// `(LID, role)` of `phone`'s account as a stored member.
    async fn lid_member(&self, phone: &str, role: &str) -> (String, String) {
        (self.lid(phone).await, role.to_owned())
    }

    /// Stops the session, runs `meanwhile` on the network, starts the session again: what
    /// the network announced meanwhile never reached it.
    async fn while_stopped(&self, meanwhile: impl AsyncFnOnce()) {
        stop(&self.node, &self.id).await;
        meanwhile().await;
        let started = self.call(Method::POST, ":start", Some(json!({}))).await;
        assert_eq!(started.status, 200, "{started:?}");
        self.node.wait_for_status(&self.id, "working").await;
    }

    /// The phone `from` writes `text` in a chat (a user or group JID).
    async fn says(&self, from: &str, to: &str, text: &str) {
        let sent = self
            .node
            .sim(
                Method::POST,
                &format!("/_sim/phones/{from}/messages"),
                Some(json!({"to": to, "text": text})),
            )
            .await;
        assert_eq!(sent.status, 201, "{sent:?}");
    }

    async fn members(&self, gid: &str) -> Vec<(String, String)> {
        let reply = self
            .call(Method::GET, &format!("/groups/{gid}/members"), None)
            .await;
        assert_eq!(reply.status, 200, "{reply:?}");
        let mut members: Vec<(String, String)> = reply.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["lid"].as_str().unwrap().into(),
                    m["role"].as_str().unwrap().into(),
                )
            })
            .collect();
        members.sort();
        members
    }
}

fn enc(jid: &str) -> String {
    jid.replace('@', "%40")
}

fn member(phone: &str, role: &str) -> (String, String) {
    (jid(phone), role.to_owned())
}

#[tokio::test]
async fn a_created_group_is_stored_listed_and_described() {
    let f = Fixture::new().await;
    let body = json!({"name": "Team", "participants": [jid(PEER)]});
    let created = f.call(Method::POST, "/groups", Some(body)).await;
    assert_eq!(created.status, 201, "{created:?}");
    assert_eq!(created.body["subject"], "Team");
    assert_eq!(created.body["participants"], 2);
    assert!(created.body.get("isAnnounce").is_none(), "false is omitted");
    let gid = created.body["groupJid"].as_str().unwrap().to_owned();
    assert!(gid.ends_with("@g.us"));

    let listed = f.call(Method::GET, "/groups", None).await;
    assert_eq!(listed.status, 200);
    let groups = listed.body["data"].as_array().unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(
        (
            groups[0]["groupJid"].as_str(),
            groups[0]["participantCount"].as_i64()
        ),
        (Some(gid.as_str()), Some(2))
    );
    let got = f
        .call(Method::GET, &format!("/groups/{}", enc(&gid)), None)
        .await;
    assert_eq!(
        (got.status, got.body["subject"].as_str()),
        (200, Some("Team"))
    );
    // The network tells the session PEER's LID as they now share a group: one row, by LID.
    let mut expected = [member(ME, "superadmin"), f.lid_member(PEER, "member").await];
    expected.sort();
    assert_eq!(f.settled_members(&enc(&gid), &expected).await, expected);
}

#[tokio::test]
async fn create_group_needs_a_name_and_valid_participants() {
    let f = Fixture::new().await;
    let nameless = f.call(Method::POST, "/groups", Some(json!({}))).await;
    assert_eq!(
        (nameless.status, nameless.message()),
        (400, "name is required")
    );
    let bad = json!({"name": "x", "participants": ["nobody"]});
    let bad = f.call(Method::POST, "/groups", Some(bad)).await;
    assert_eq!((bad.status, bad.message()), (400, "invalid jid: nobody"));
}

#[tokio::test]
async fn update_group_changes_the_network_and_the_stored_group() {
    let f = Fixture::new().await;
    let gid = f.create("Team").await;
    let mut events = f.node.events();
    let body =
        json!({"subject": "Renamed", "description": "about", "announce": true, "locked": true});
    let updated = f
        .call(Method::PATCH, &format!("/groups/{gid}"), Some(body))
        .await;
    assert_eq!(updated.status, 204, "{updated:?}");
    let g = f.wait_for_group(&gid, |g| g["subject"] == "Renamed").await;
    assert_eq!(
        (
            g["description"].as_str(),
            g["isAnnounce"].as_bool(),
            g["isLocked"].as_bool()
        ),
        (Some("about"), Some(true), Some(true))
    );
    let sim = f
        .node
        .sim(Method::GET, &format!("/_sim/groups/{gid}"), None)
        .await;
    assert_eq!(
        (sim.body["subject"].as_str(), sim.body["locked"].as_bool()),
        (Some("Renamed"), Some(true))
    );
    let types = f.node.drain_events(&mut events, &f.id).await;
    assert!(types.iter().any(|(t, _)| t == "group.update"), "{types:?}");

    let empty = f
        .call(Method::PATCH, &format!("/groups/{gid}"), Some(json!({})))
        .await;
    assert_eq!(
        (empty.status, empty.message()),
        (400, "no group settings to update")
    );
    let malformed = f
        .call(Method::PATCH, "/groups/nope", Some(json!({"subject": "x"})))
        .await;
    assert_eq!(
        (malformed.status, malformed.message()),
        (400, "invalid jid: nope")
    );
    let unknown = f
        .call(
            Method::PATCH,
            "/groups/120363999999999999%40g.us",
            Some(json!({"subject": "x"})),
        )
        .await;
    assert_eq!(
        (unknown.status, unknown.message()),
        (404, "group not found")
    );
}

#[tokio::test]
async fn invite_links_are_read_and_revoked() {
    let f = Fixture::new().await;
    let gid = f.create("Team").await;
    let first = f
        .call(Method::GET, &format!("/groups/{gid}/invite"), None)
        .await;
    assert_eq!(first.status, 200, "{first:?}");
    let link = first.body["invite"].as_str().unwrap().to_owned();
    assert!(link.starts_with("https://chat.whatsapp.com/"), "{link}");
    let again = f
        .call(Method::GET, &format!("/groups/{gid}/invite"), None)
        .await;
    assert_eq!(again.body["invite"], link.as_str());
    let revoked = f
        .call(Method::DELETE, &format!("/groups/{gid}/invite"), None)
        .await;
    assert_eq!(revoked.status, 200, "{revoked:?}");
    assert_ne!(revoked.body["invite"], link.as_str());
    assert_eq!(
        revoked.body["invite"]
            .as_str()
            .unwrap()
            .trim_start_matches("https://chat.whatsapp.com/"),
        f.sim_invite(&gid, false).await
    );
}

#[tokio::test]
async fn members_are_added_promoted_demoted_and_removed() {
    let f = Fixture::new().await;
    let gid = f.create("Team").await;
    let add = json!({"participants": [jid(THIRD)]});
    let added = f
        .call(Method::POST, &format!("/groups/{gid}/members"), Some(add))
        .await;
    assert_eq!(added.status, 204, "{added:?}");
    let none = json!({"participants": []});
    let none = f
        .call(Method::POST, &format!("/groups/{gid}/members"), Some(none))
        .await;
    assert_eq!(
        (none.status, none.message()),
        (400, "at least one participant is required")
    );

    let third = enc(&jid(THIRD));
    let promoted = f
        .call(
            Method::POST,
            &format!("/groups/{gid}/members/{third}/promote"),
            None,
        )
        .await;
    assert_eq!(promoted.status, 204, "{promoted:?}");
    let mut expected = [
        member(ME, "superadmin"),
        f.lid_member(PEER, "member").await,
        f.lid_member(THIRD, "admin").await,
    ];
    expected.sort();
    assert_eq!(f.settled_members(&gid, &expected).await, expected);
    let demoted = f
        .call(
            Method::POST,
            &format!("/groups/{gid}/members/{third}/demote"),
            None,
        )
        .await;
    assert_eq!(demoted.status, 204, "{demoted:?}");
    let removed = f
        .call(
            Method::DELETE,
            &format!("/groups/{gid}/members/{third}"),
            None,
        )
        .await;
    assert_eq!(removed.status, 204, "{removed:?}");
    let mut expected = [member(ME, "superadmin"), f.lid_member(PEER, "member").await];
    expected.sort();
    assert_eq!(f.settled_members(&gid, &expected).await, expected);
    let sim = f
        .node
        .sim(Method::GET, &format!("/_sim/groups/{gid}"), None)
        .await;
    assert_eq!(sim.body["participants"].as_array().unwrap().len(), 2);

    // Removing someone absent is WhatsApp's no-op; a malformed member JID is 400.
    let again = f
        .call(
            Method::DELETE,
            &format!("/groups/{gid}/members/{third}"),
            None,
        )
        .await;
    assert_eq!(again.status, 204, "{again:?}");
    let bad = f
        .call(Method::DELETE, &format!("/groups/{gid}/members/x"), None)
        .await;
    assert_eq!((bad.status, bad.message()), (400, "invalid jid: x"));
    // The list of an unknown group is empty, not 404.
    assert!(f.members("120363999999999999%40g.us").await.is_empty());
}

#[tokio::test]
async fn a_left_group_stays_readable_and_shows_the_session_left() {
    let f = Fixture::new().await;
    let gid = f.peer_group().await;
    let sent = f
        .node
        .sim(
            Method::POST,
            &format!("/_sim/phones/{PEER}/messages"),
            Some(json!({"to": gid.replace("%40", "@"), "text": "hello group"})),
        )
        .await;
    assert_eq!(sent.status, 201, "{sent:?}");
    wait_for_items(&f.node, &f.path("/chats"), 1).await;
    let timeline = f.path(&format!("/chats/{gid}/messages"));

    let left = f
        .call(Method::POST, &format!("/groups/{gid}:leave"), None)
        .await;
    assert_eq!(left.status, 204, "{left:?}");
    let g = f.wait_for_group(&gid, |g| g["leftAt"].is_i64()).await;
    assert_eq!(g["subject"], "Peer's");
    let listed = f.call(Method::GET, "/groups", None).await;
    assert_eq!(listed.body["data"][0]["leftAt"], g["leftAt"]);
    assert_eq!(
        wait_for_items(&f.node, &timeline, 1).await[0]["body"],
        "hello group"
    );
    let sim = f
        .node
        .sim(Method::GET, &format!("/_sim/groups/{gid}"), None)
        .await;
    assert!(!sim.body.to_string().contains(&jid(ME)), "{sim:?}");

    // Leaving again: the account is no longer in it.
    let again = f
        .call(Method::POST, &format!("/groups/{gid}:leave"), None)
        .await;
    assert_eq!(again.status, 404, "{again:?}");
    let malformed = f
        .call(
            Method::POST,
            &format!("/groups/{}:leave", enc(&jid(PEER))),
            None,
        )
        .await;
    assert_eq!(malformed.status, 400, "{malformed:?}");
}

#[tokio::test]
async fn join_by_code_by_link_and_while_already_a_member() {
    let f = Fixture::new().await;
    let body = json!({"subject": "Open", "participants": []});
    let reply = f
        .node
        .sim(
            Method::POST,
            &format!("/_sim/phones/{PEER}/groups"),
            Some(body),
        )
        .await;
    let gid = reply.body["gid"].as_str().unwrap().to_owned();
    let code = f.sim_invite(&enc(&gid), false).await;

    let joined = f
        .call(Method::POST, "/groups:join", Some(json!({"invite": code})))
        .await;
    assert_eq!(
        (joined.status, &joined.body),
        (200, &json!({"groupJid": gid}))
    );
    // Stored at once: no waiting for the network's echo.
    let got = f
        .call(Method::GET, &format!("/groups/{}", enc(&gid)), None)
        .await;
    assert_eq!(
        (got.status, got.body["subject"].as_str()),
        (200, Some("Open"))
    );
    assert!(f.members(&enc(&gid)).await.contains(&member(ME, "member")));

    let link = format!("https://chat.whatsapp.com/{code}");
    let by_link = f
        .call(Method::POST, "/groups:join", Some(json!({"invite": link})))
        .await;
    assert_eq!(
        (by_link.status, &by_link.body),
        (200, &json!({"groupJid": gid}))
    );

    // A new group joined by link.
    let body = json!({"subject": "Second", "participants": []});
    let reply = f
        .node
        .sim(
            Method::POST,
            &format!("/_sim/phones/{PEER}/groups"),
            Some(body),
        )
        .await;
    let second = reply.body["gid"].as_str().unwrap().to_owned();
    let link = format!(
        "https://chat.whatsapp.com/{}",
        f.sim_invite(&enc(&second), false).await
    );
    let joined = f
        .call(Method::POST, "/groups:join", Some(json!({"invite": link})))
        .await;
    assert_eq!(
        (joined.status, &joined.body),
        (200, &json!({"groupJid": second}))
    );
}

#[tokio::test]
async fn join_with_unknown_revoked_unparseable_or_missing_invite_is_validation_error() {
    let f = Fixture::new().await;
    let body = json!({"subject": "Closed", "participants": []});
    let reply = f
        .node
        .sim(
            Method::POST,
            &format!("/_sim/phones/{PEER}/groups"),
            Some(body),
        )
        .await;
    let gid = enc(reply.body["gid"].as_str().unwrap());
    let old = f.sim_invite(&gid, false).await;
    f.sim_invite(&gid, true).await;
    for body in [
        Some(json!({"invite": old})),
        Some(json!({"invite": "UnknownCode123"})),
        Some(json!({"invite": "not a code!"})),
        Some(json!({"invite": "https://example.com/abc"})),
        Some(json!({})),
        None,
    ] {
        let reply = f.call(Method::POST, "/groups:join", body.clone()).await;
        assert_eq!(
            (reply.status, reply.code()),
            (400, "validation_error"),
            "{body:?}: {reply:?}"
        );
    }
    assert!(
        f.call(Method::GET, "/groups", None).await.body["data"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn approve_is_forbidden_without_send_and_otherwise_not_implemented() {
    let f = Fixture::new().await;
    let gid = f.create("Team").await;
    let path = f.path(&format!("/groups/{gid}/members:approve"));
    let org = f.node.default_org().await;
    let reader = f.node.key_in(&org, "read", None).await;
    let sender = f.node.key_in(&org, "send", None).await;
    let read = f
        .node
        .call(Some(&reader.key), Method::POST, &path, None)
        .await;
    assert_eq!((read.status, read.code()), (403, "forbidden"));
    for body in [
        Some(json!({"participants": [jid(THIRD)]})),
        Some(json!({})),
        None,
    ] {
        let reply = f
            .node
            .call(Some(&sender.key), Method::POST, &path, body.as_ref())
            .await;
        assert_eq!(
            (reply.status, reply.code()),
            (501, "not_implemented"),
            "{body:?}"
        );
    }
    let empty = f
        .node
        .with_key(&sender.key, Method::POST, &path)
        .header("content-type", "application/json")
        .body("")
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status(), 501);
}

#[tokio::test]
async fn a_non_admin_is_forbidden_to_change_the_group() {
    let f = Fixture::new().await;
    let gid = f.peer_group().await;
    let third = enc(&jid(THIRD));
    let peer = enc(&jid(PEER));
    for (method, rest, body) in [
        (
            Method::PATCH,
            format!("/groups/{gid}"),
            Some(json!({"subject": "x"})),
        ),
        (Method::GET, format!("/groups/{gid}/invite"), None),
        (Method::DELETE, format!("/groups/{gid}/invite"), None),
        (
            Method::POST,
            format!("/groups/{gid}/members"),
            Some(json!({"participants": [jid(THIRD)]})),
        ),
        (
            Method::DELETE,
            format!("/groups/{gid}/members/{peer}"),
            None,
        ),
        (
            Method::POST,
            format!("/groups/{gid}/members/{third}/promote"),
            None,
        ),
        (
            Method::POST,
            format!("/groups/{gid}/members/{peer}/demote"),
            None,
        ),
    ] {
        let reply = f.call(method.clone(), &rest, body).await;
        assert_eq!(
            (reply.status, reply.code()),
            (403, "forbidden"),
            "{method} {rest}: {reply:?}"
        );
    }
}

#[tokio::test]
async fn a_stopped_session_reads_stored_groups_and_refuses_live_operations() {
    let f = Fixture::new().await;
    let gid = f.create("Team").await;
    let stopped = f.call(Method::POST, ":stop", Some(json!({}))).await;
    assert_eq!(stopped.status, 200, "{stopped:?}");
    for rest in [
        "/groups".to_owned(),
        format!("/groups/{gid}"),
        format!("/groups/{gid}/members"),
    ] {
        let reply = f.call(Method::GET, &rest, None).await;
        assert_eq!(reply.status, 200, "{rest}: {reply:?}");
    }
    let peer = enc(&jid(PEER));
    for (method, rest, body) in [
        (
            Method::POST,
            "/groups".to_owned(),
            Some(json!({"name": "x"})),
        ),
        (
            Method::PATCH,
            format!("/groups/{gid}"),
            Some(json!({"subject": "x"})),
        ),
        (Method::GET, format!("/groups/{gid}/invite"), None),
        (Method::DELETE, format!("/groups/{gid}/invite"), None),
        (
            Method::POST,
            format!("/groups/{gid}/members"),
            Some(json!({"participants": [jid(THIRD)]})),
        ),
        (
            Method::DELETE,
            format!("/groups/{gid}/members/{peer}"),
            None,
        ),
        (
            Method::POST,
            format!("/groups/{gid}/members/{peer}/promote"),
            None,
        ),
        (
            Method::POST,
            format!("/groups/{gid}/members/{peer}/demote"),
            None,
        ),
        (Method::POST, format!("/groups/{gid}/members:approve"), None),
        (
            Method::POST,
            "/groups:join".to_owned(),
            Some(json!({"invite": "AbC123"})),
        ),
        (Method::POST, format!("/groups/{gid}:leave"), None),
    ] {
        let reply = f.call(method.clone(), &rest, body).await;
        assert_eq!(
            (reply.status, reply.code()),
            (501, "not_implemented"),
            "{method} {rest}: {reply:?}"
        );
    }
}

#[tokio::test]
async fn another_organizations_session_is_not_found_for_every_group_operation() {
    let f = Fixture::new().await;
    let gid = f.create("Team").await;
    let stranger = f.node.new_org_key("read,send,manage,events").await;
    let peer = enc(&jid(PEER));
    for (method, rest) in [
        (Method::GET, "/groups".to_owned()),
        (Method::GET, format!("/groups/{gid}")),
        (Method::PATCH, format!("/groups/{gid}")),
        (Method::GET, format!("/groups/{gid}/invite")),
        (Method::GET, format!("/groups/{gid}/members")),
        (Method::DELETE, format!("/groups/{gid}/members/{peer}")),
        (Method::POST, format!("/groups/{gid}/members:approve")),
        (Method::POST, "/groups:join".to_owned()),
        (Method::POST, format!("/groups/{gid}:leave")),
    ] {
        let body = match method {
            Method::PATCH => Some(json!({"subject": "x"})),
            _ if rest.ends_with(":join") => Some(json!({"invite": "AbC123"})),
            _ => None,
        };
        let reply = f
            .node
            .call(
                Some(&stranger.key),
                method.clone(),
                &f.path(&rest),
                body.as_ref(),
            )
            .await;
        assert_eq!(
            (reply.status, reply.message()),
            (404, "session not found"),
            "{method} {rest}"
        );
    }
}

#[tokio::test]
async fn changes_made_by_others_update_the_store_and_publish_group_events() {
    let f = Fixture::new().await;
    let gid = f.peer_group().await;
    let group = gid.replace("%40", "@");
    let mut events = f.node.events();

    f.peer_op(json!({"op": "updateGroup", "group": group, "settings": {"subject": "New name", "description": "d"}}))
        .await;
    f.wait_for_group(&gid, |g| {
        g["subject"] == "New name" && g["description"] == "d"
    })
    .await;
    f.peer_op(json!({"op": "changeParticipants", "group": group, "action": "add", "members": [jid(THIRD)]}))
        .await;
    f.peer_op(json!({"op": "changeParticipants", "group": group, "action": "promote", "members": [jid(ME)]}))
        .await;
    f.wait_for_group(&gid, |g| g["participantCount"] == 3).await;
    // The promotion is a separate group event: it may land after the count changed.
    let mut promoted = [
        member(ME, "admin"),
        f.lid_member(PEER, "superadmin").await,
        f.lid_member(THIRD, "member").await,
    ];
    promoted.sort();
    assert_eq!(f.settled_members(&gid, &promoted).await, promoted);

    let mut seen = Vec::new();
    while let Ok(Ok(e)) =
        tokio::time::timeout(std::time::Duration::from_millis(500), events.recv()).await
    {
        if let EventPayload::Group(p) = &e.payload {
            seen.push((e.event_type().to_owned(), p.clone()));
        }
    }
    let update = seen
        .iter()
        .find(|(t, p)| t == "group.update" && p.subject.as_deref() == Some("New name"))
        .expect("subject event");
    assert_eq!(update.1.sender.as_deref(), Some(jid(PEER).as_str()));
    assert!(
        seen.iter()
            .any(|(t, p)| t == "group.participant" && p.join == [jid(THIRD)])
    );
    assert!(
        seen.iter()
            .any(|(t, p)| t == "group.participant" && p.promote == [jid(ME)])
    );

    // Removed by the admin: the group stays readable and shows the session left.
    f.peer_op(json!({"op": "changeParticipants", "group": group, "action": "remove", "members": [jid(ME)]}))
        .await;
    f.wait_for_group(&gid, |g| g["leftAt"].is_i64()).await;
}

#[tokio::test]
async fn a_member_removed_right_after_being_added_never_reappears() {
    let f = Fixture::new().await;
    let gid = f.create("Team").await;
    let mut settled = [member(ME, "superadmin"), f.lid_member(PEER, "member").await];
    settled.sort();
    assert_eq!(f.settled_members(&gid, &settled).await, settled);
    let third = [jid(THIRD), f.lid(THIRD).await];
    let mut events = f.node.events();
    // A backlog of messages keeps the session busy, so WhatsApp's echoes of the changes below
    // arrive after both changes were stored.
    let url = f.node.url(&format!("/_sim/phones/{PEER}/messages"));
    let sends: Vec<_> = (0..300)
        .map(|i| {
            let send = f
                .node
                .client
                .post(&url)
                .json(&json!({"to": jid(ME), "text": format!("busy {i}")}))
                .send();
            tokio::spawn(send)
        })
        .collect();
    for send in sends {
        assert_eq!(send.await.unwrap().unwrap().status(), 201);
    }
    let add = json!({"participants": [jid(THIRD)]});
    let added = f
        .call(Method::POST, &format!("/groups/{gid}/members"), Some(add))
        .await;
    assert_eq!(added.status, 204, "{added:?}");
    let subject = |s: &str| json!({"subject": s});
    for name in ["Stale", "Current"] {
        let renamed = f
            .call(
                Method::PATCH,
                &format!("/groups/{gid}"),
                Some(subject(name)),
            )
            .await;
        assert_eq!(renamed.status, 204, "{renamed:?}");
    }
    let removed = f
        .call(
            Method::DELETE,
            &format!("/groups/{gid}/members/{}", enc(&jid(THIRD))),
            None,
        )
        .await;
    assert_eq!(removed.status, 204, "{removed:?}");

    // Read while the echoes arrive, until the removal's own echo was applied.
    let mut echoed = false;
    for _ in 0..400 {
        let members = f.members(&gid).await;
        assert!(
            members.iter().all(|(lid, _)| !third.contains(lid)),
            "a late echo brought the removed member back: {members:?}"
        );
        let g = f.call(Method::GET, &format!("/groups/{gid}"), None).await;
        assert_eq!(g.body["subject"], "Current", "a late echo renamed back");
        if echoed {
            break;
        }
        loop {
            match events.try_recv() {
                Ok(e) => {
                    if let EventPayload::Group(p) = &e.payload
                        && p.leave.contains(&jid(THIRD))
                    {
                        echoed = true;
                    }
                }
                Err(tokio::sync::broadcast::error::TryRecvError::Lagged(_)) => {}
                Err(_) => break,
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(echoed, "the removal's echo never arrived");
}

#[tokio::test]
async fn a_message_in_a_group_the_store_does_not_know_stores_the_group() {
    let f = Fixture::new().await;
    let mut gid = String::new();
    // PEER creates the group while the session is stopped: its announcement is lost.
    f.while_stopped(async || gid = f.sim_group("Missed").await)
        .await;
    let listed = f.call(Method::GET, "/groups", None).await;
    assert!(
        listed.body["data"].as_array().unwrap().is_empty(),
        "{listed:?}"
    );

    f.says(PEER, &gid, "anyone here?").await;
    let g = f.wait_for_group(&enc(&gid), |_| true).await;
    assert_eq!(
        (g["subject"].as_str(), g["participantCount"].as_i64()),
        (Some("Missed"), Some(2))
    );
    let listed = f.call(Method::GET, "/groups", None).await;
    assert_eq!(listed.body["data"][0]["groupJid"], gid.as_str());
    let mut expected = [member(ME, "member"), f.lid_member(PEER, "superadmin").await];
    expected.sort();
    assert_eq!(f.members(&enc(&gid)).await, expected);
}

#[tokio::test]
async fn the_sender_of_a_group_message_is_a_stored_member() {
    let f = Fixture::new().await;
    let gid = f.peer_group().await;
    let group = gid.replace("%40", "@");
    // THIRD joins while the session is stopped: the session never hears of it…
    f.while_stopped(async || {
        f.peer_op(json!({"op": "changeParticipants", "group": group, "action": "add", "members": [jid(THIRD)]}))
            .await;
    })
    .await;
    let third = f.lid_member(THIRD, "member").await;
    assert!(!f.members(&gid).await.contains(&third));
    // …until THIRD writes in the group.
    f.says(THIRD, &group, "hi all").await;
    let mut expected = [
        member(ME, "member"),
        f.lid_member(PEER, "superadmin").await,
        third,
    ];
    expected.sort();
    assert_eq!(f.settled_members(&gid, &expected).await, expected);
    let g = f.call(Method::GET, &format!("/groups/{gid}"), None).await;
    assert_eq!(g.body["participantCount"], 3);
}

#[tokio::test]
async fn members_named_by_phone_are_stored_by_their_known_lid() {
    let f = Fixture::new().await;
    // PEER's message tells the session PEER's LID.
    f.says(PEER, &jid(ME), "hello").await;
    wait_for_items(&f.node, &f.path("/chats"), 1).await;
    let gid = f.create("Team").await;
    // At once, without waiting for any echo: PEER is one row, by LID.
    let mut expected = [member(ME, "superadmin"), f.lid_member(PEER, "member").await];
    expected.sort();
    assert_eq!(f.members(&gid).await, expected);
    let promoted = f
        .call(
            Method::POST,
            &format!("/groups/{gid}/members/{}/promote", enc(&jid(PEER))),
            None,
        )
        .await;
    assert_eq!(promoted.status, 204, "{promoted:?}");
    let mut expected = [member(ME, "superadmin"), f.lid_member(PEER, "admin").await];
    expected.sort();
    assert_eq!(f.members(&gid).await, expected);
}

#[tokio::test]
async fn the_description_is_cleared_with_an_empty_string_or_null() {
    let f = Fixture::new().await;
    let gid = f.create("Team").await;
    for clear in [json!(""), Value::Null] {
        let set = f
            .call(
                Method::PATCH,
                &format!("/groups/{gid}"),
                Some(json!({"description": "about"})),
            )
            .await;
        assert_eq!(set.status, 204, "{set:?}");
        assert_eq!(
            f.call(Method::GET, &format!("/groups/{gid}"), None)
                .await
                .body["description"],
            "about"
        );
        let cleared = f
            .call(
                Method::PATCH,
                &format!("/groups/{gid}"),
                Some(json!({"description": clear})),
            )
            .await;
        assert_eq!(cleared.status, 204, "{clear}: {cleared:?}");
        let g = f.call(Method::GET, &format!("/groups/{gid}"), None).await;
        assert!(g.body.get("description").is_none(), "{clear}: {g:?}");
        let sim = f
            .node
            .sim(Method::GET, &format!("/_sim/groups/{gid}"), None)
            .await;
        assert!(sim.body["description"].is_null(), "{clear}: {sim:?}");
    }
    // An absent description is no change; a wrong type is the validation envelope.
    let wrong = f
        .call(
            Method::PATCH,
            &format!("/groups/{gid}"),
            Some(json!({"description": 5})),
        )
        .await;
    assert_eq!((wrong.status, wrong.code()), (400, "validation_error"));
}
