//! Contacts over HTTP against simnet (api.md §7): the stored list and detail, and the live
//! check, picture, about and blocking, with their error paths.

use reqwest::Method;
use serde_json::{Value, json};
use wagate_test_support::node::{Reply, TestNode};

use crate::messaging::{
    ME, PEER, assert_error, assert_not_live, jid, paired, stop, wait_for_items,
};

/// `jid` as a path segment.
fn seg(jid: &str) -> String {
    jid.replace('@', "%40")
}

/// A phone named `name` that sends one DM to the session's account; answers the message id.
async fn dm_from(node: &TestNode, phone: &str, name: &str, text: &str) -> String {
    let created = node
        .sim(
            Method::POST,
            "/_sim/phones",
            Some(json!({"phone": phone, "name": name})),
        )
        .await;
    assert!(matches!(created.status, 200 | 201), "{created:?}");
    let sent = node
        .sim(
            Method::POST,
            &format!("/_sim/phones/{phone}/messages"),
            Some(json!({"to": jid(ME), "text": text})),
        )
        .await;
    assert_eq!(sent.status, 201, "{sent:?}");
    sent.body["id"].as_str().unwrap().to_owned()
}

/// `POST path` without a body (block and unblock take none).
async fn post_empty(node: &TestNode, path: &str) -> Reply {
    node.call(Some(&node.key), Method::POST, path, None).await
}

fn names(items: &[Value]) -> Vec<&str> {
    items.iter().map(|c| c["name"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn contacts_are_listed_by_identity_id_and_found_by_name_or_number() {
    let (node, id) = paired(|_| {}).await;
    let base = format!("/api/v1/sessions/{id}/contacts");
    for (n, (phone, name)) in [
        ("628111000003", "Carol Jones"),
        ("628111000004", "Dave Brown"),
        ("628111000005", "Erin White"),
    ]
    .into_iter()
    .enumerate()
    {
        dm_from(&node, phone, name, "hello").await;
        wait_for_items(&node, &base, n + 1).await;
    }
    let all = node.get(&base).await;
    assert_eq!(all.status, 200, "{all:?}");
    let all = all.body["data"].as_array().unwrap().clone();
    assert_eq!(names(&all), ["Carol Jones", "Dave Brown", "Erin White"]);
    assert_eq!(all[0]["phoneNumber"], "628111000003");
    assert!(all[0]["lid"].as_str().unwrap().ends_with("@lid"));
    assert_eq!(all[0]["source"], "dm");

    // `q` matches names (case-insensitively) and numbers.
    for (q, expected) in [
        ("cAROL", vec!["Carol Jones"]),
        ("11000004", vec!["Dave Brown"]),
        ("white", vec!["Erin White"]),
        ("nobody", vec![]),
    ] {
        let found = node.get(&format!("{base}?q={q}")).await;
        assert_eq!(found.status, 200, "{found:?}");
        assert_eq!(
            names(found.body["data"].as_array().unwrap()),
            expected,
            "q={q}"
        );
    }

    // Pages by identity id: a full page carries a cursor, the last one none.
    let first = node.get(&format!("{base}?limit=2")).await;
    assert_eq!(
        names(first.body["data"].as_array().unwrap()),
        ["Carol Jones", "Dave Brown"]
    );
    let cursor = first.body["nextCursor"].as_str().unwrap().to_owned();
    assert!(cursor.bytes().all(|b| b.is_ascii_digit()), "{cursor}");
    let second = node.get(&format!("{base}?limit=2&cursor={cursor}")).await;
    assert_eq!(
        names(second.body["data"].as_array().unwrap()),
        ["Erin White"]
    );
    assert!(second.body.get("nextCursor").is_none(), "{second:?}");

    // `source=dm` is every stored contact; no group memberships are stored yet.
    let dm = node.get(&format!("{base}?source=dm")).await;
    assert_eq!(dm.body["data"].as_array().unwrap().len(), 3);
    let group = node.get(&format!("{base}?source=group")).await;
    assert_eq!(group.body["data"], json!([]));

    for bad in [
        "cursor=abc",
        "cursor=-1",
        "source=x",
        "limit=x",
        "group=nope",
    ] {
        let reply = node.get(&format!("{base}?{bad}")).await;
        assert_eq!(
            (reply.status, reply.code()),
            (400, "validation_error"),
            "{bad}: {reply:?}"
        );
    }
    let bad_cursor = node.get(&format!("{base}?cursor=abc")).await;
    assert_error(&bad_cursor, 400, "invalid cursor");
}

#[tokio::test]
async fn a_contact_is_read_by_lid_and_an_unknown_one_is_404() {
    let (node, id) = paired(|_| {}).await;
    let base = format!("/api/v1/sessions/{id}/contacts");
    dm_from(&node, "628111000003", "Carol Jones", "hello").await;
    let listed = wait_for_items(&node, &base, 1).await;
    let lid = listed[0]["lid"].as_str().unwrap().to_owned();

    let detail = node.get(&format!("{base}/{}", seg(&lid))).await;
    assert_eq!(detail.status, 200, "{detail:?}");
    let identity = &detail.body["identity"];
    assert_eq!(identity["lid"], lid.as_str());
    assert_eq!(identity["phoneNumber"], "628111000003");
    assert_eq!(identity["phoneJid"], jid("628111000003").as_str());
    assert_eq!(identity["name"], "Carol Jones");
    assert!(identity["id"].as_i64().is_some() && identity["firstSeenAt"].as_i64().is_some());
    assert_eq!(detail.body["dm"], true);
    assert_eq!(detail.body["groups"], json!([]));
    // The sim phone's own record names the same LID.
    let phone = node
        .sim(Method::GET, "/_sim/phones/628111000003", None)
        .await;
    assert_eq!(phone.body["lid"], lid.as_str());

    let unknown = node.get(&format!("{base}/999999999%40lid")).await;
    assert_error(&unknown, 404, "identity not found");
    let malformed = node.get(&format!("{base}/nope")).await;
    assert_error(&malformed, 400, "invalid jid: nope");
}

#[tokio::test]
async fn check_tells_a_registered_number_from_an_unknown_one() {
    let (node, id) = paired(|_| {}).await;
    let base = format!("/api/v1/sessions/{id}/contacts/check");
    let node = &node;
    let check = |q: &str| {
        let path = format!("{base}{q}");
        async move { node.get(&path).await }
    };
    for phone in [PEER.to_owned(), format!("%2B{PEER}")] {
        let found = check(&format!("?phone={phone}")).await;
        assert_eq!(found.status, 200, "{found:?}");
        assert_eq!(found.body["isOnWhatsApp"], true);
        assert_eq!(found.body["jid"], jid(PEER).as_str());
    }
    let unknown = check("?phone=628999999999").await;
    assert_eq!(unknown.status, 200, "{unknown:?}");
    assert_eq!(unknown.body["isOnWhatsApp"], false);
    assert_eq!(unknown.body["query"], "628999999999");
    assert!(unknown.body.get("jid").is_none());

    let missing = check("").await;
    assert_error(&missing, 400, "phone is required");
    let bad = check("?phone=abc").await;
    assert_error(&bad, 400, "invalid phone: abc");
}

#[tokio::test]
async fn picture_and_about_are_the_networks() {
    let (node, id) = paired(|_| {}).await;
    let peer = format!("/api/v1/sessions/{id}/contacts/{}", seg(&jid(PEER)));
    let node = &node;
    let profile = |body: Value| async move {
        node.sim(Method::PATCH, &format!("/_sim/phones/{PEER}"), Some(body))
            .await
    };
    assert_eq!(
        profile(json!({"about": "At the gym", "picture": true}))
            .await
            .status,
        204
    );
    let sim = node
        .sim(Method::GET, &format!("/_sim/phones/{PEER}"), None)
        .await;
    let picture_id = sim.body["picture"].as_str().unwrap().to_owned();

    let about = node.get(&format!("{peer}/about")).await;
    assert_eq!(
        (about.status, &about.body),
        (200, &json!({"about": "At the gym"}))
    );
    let picture = node.get(&format!("{peer}/picture")).await;
    assert_eq!(picture.status, 200, "{picture:?}");
    assert_eq!(picture.body["id"], picture_id.as_str());
    assert!(
        picture.body["url"].as_str().unwrap().contains(&picture_id),
        "{picture:?}"
    );
    // The LID names the same account.
    let lid = sim.body["lid"].as_str().unwrap();
    let by_lid = node
        .get(&format!(
            "/api/v1/sessions/{id}/contacts/{}/about",
            seg(lid)
        ))
        .await;
    assert_eq!(by_lid.body["about"], "At the gym");

    // Hidden or unset: an empty text and `{}`.
    assert_eq!(
        profile(json!({"about": "", "picture": false})).await.status,
        204
    );
    assert_eq!(
        node.get(&format!("{peer}/about")).await.body,
        json!({"about": ""})
    );
    assert_eq!(node.get(&format!("{peer}/picture")).await.body, json!({}));

    for op in ["about", "picture"] {
        let malformed = node
            .get(&format!("/api/v1/sessions/{id}/contacts/nope/{op}"))
            .await;
        assert_error(&malformed, 400, "invalid jid: nope");
        // D3: a number that is not on WhatsApp is the caller's mistake, not a 500.
        let stranger = node
            .get(&format!(
                "/api/v1/sessions/{id}/contacts/628999999999%40s.whatsapp.net/{op}"
            ))
            .await;
        assert_eq!(
            (stranger.status, stranger.code()),
            (400, "validation_error"),
            "{op}: {stranger:?}"
        );
    }
}

#[tokio::test]
async fn a_blocked_contact_no_longer_reaches_the_session() {
    let (node, id) = paired(|_| {}).await;
    let peer = format!("/api/v1/sessions/{id}/contacts/{}", seg(&jid(PEER)));
    let blocked = || async {
        let me = node
            .sim(Method::GET, &format!("/_sim/phones/{ME}"), None)
            .await;
        me.body["blocked"].clone()
    };

    let reply = post_empty(&node, &format!("{peer}/block")).await;
    assert_eq!(reply.status, 204, "{reply:?}");
    assert_eq!(blocked().await, json!([jid(PEER)]));
    let dropped = dm_from(&node, PEER, "Peer", "let me in").await;
    let seen = node
        .sim(Method::GET, &format!("/_sim/messages/{dropped}"), None)
        .await;
    assert_eq!(seen.body["deliveredTo"], json!([]), "{seen:?}");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let chats = node.get(&format!("/api/v1/sessions/{id}/chats")).await;
    assert_eq!(chats.body["data"], json!([]), "{chats:?}");

    let reply = post_empty(&node, &format!("{peer}/unblock")).await;
    assert_eq!(reply.status, 204, "{reply:?}");
    assert_eq!(blocked().await, json!([]));
    let delivered = dm_from(&node, PEER, "Peer", "thanks").await;
    let chats = wait_for_items(&node, &format!("/api/v1/sessions/{id}/chats"), 1).await;
    let cid = seg(chats[0]["jid"].as_str().unwrap());
    let msgs = wait_for_items(
        &node,
        &format!("/api/v1/sessions/{id}/chats/{cid}/messages"),
        1,
    )
    .await;
    assert_eq!(msgs[0]["waMessageId"], delivered.as_str());

    let malformed = post_empty(&node, &format!("/api/v1/sessions/{id}/contacts/nope/block")).await;
    assert_error(&malformed, 400, "invalid jid: nope");
}

#[tokio::test]
async fn live_contact_operations_need_a_running_session_and_stored_ones_do_not() {
    let (node, id) = paired(|_| {}).await;
    let base = format!("/api/v1/sessions/{id}/contacts");
    dm_from(&node, "628111000003", "Carol Jones", "hello").await;
    let listed = wait_for_items(&node, &base, 1).await;
    let lid = seg(listed[0]["lid"].as_str().unwrap());
    stop(&node, &id).await;

    let peer = format!("{base}/{}", seg(&jid(PEER)));
    assert_not_live(&node.get(&format!("{base}/check?phone={PEER}")).await);
    assert_not_live(&node.get(&format!("{peer}/picture")).await);
    assert_not_live(&node.get(&format!("{peer}/about")).await);
    assert_not_live(&post_empty(&node, &format!("{peer}/block")).await);
    assert_not_live(&post_empty(&node, &format!("{peer}/unblock")).await);
    // Stored reads still answer.
    assert_eq!(node.get(&base).await.status, 200);
    assert_eq!(node.get(&format!("{base}/{lid}")).await.status, 200);
}
