//! The control API's phone, group, message and session rows over real loopback HTTP.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use futures::StreamExt as _;
use reqwest::StatusCode;
use serde_json::{Value, json};
use wagate_domain::engine::InboundContent;
use wagate_domain::{Engine, EngineEvent, OpenMode, SessionId};
use wagate_simnet::{Network, SimEngine, SimTimings, control_router};

mod support;

const ALICE: &str = "6281111111111";
const BOB: &str = "6282222222222";
const CAROL: &str = "6283333333333";

struct Sim {
    base: String,
    http: reqwest::Client,
    network: Network,
}

impl Sim {
    async fn start() -> Self {
        let network = Network::new(SimTimings::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = control_router(network.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let sim = Self {
            base: format!("http://{addr}"),
            http: reqwest::Client::new(),
            network,
        };
        for (phone, name) in [(ALICE, "Alice"), (BOB, "Bob"), (CAROL, "Carol")] {
            let (status, _) = sim
                .call(
                    "POST",
                    "/_sim/phones",
                    Some(json!({"phone": phone, "name": name})),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED);
        }
        sim
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        support::call(&self.http, method, format!("{}{path}", self.base), body).await
    }
}

fn jid(phone: &str) -> String {
    format!("{phone}@s.whatsapp.net")
}

#[tokio::test]
async fn phone_messages_of_every_type_land_in_the_inbox_and_are_read() {
    let sim = Sim::start().await;
    let (status, text) = sim
        .call(
            "POST",
            &format!("/_sim/phones/{ALICE}/messages"),
            Some(json!({"to": jid(BOB), "text": "hi", "id": "3EB0FORCED"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(text["id"], "3EB0FORCED");
    let image = json!({"to": jid(BOB), "type": "image", "text": "cap",
        "media": {"data": STANDARD.encode(b"png!"), "mimetype": "image/png"}, "replyTo": "3EB0FORCED"});
    let (status, _) = sim
        .call(
            "POST",
            &format!("/_sim/phones/{ALICE}/messages"),
            Some(image),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let poll =
        json!({"to": jid(BOB), "type": "poll", "poll": {"name": "Q?", "options": ["a", "b"]}});
    let (status, _) = sim
        .call(
            "POST",
            &format!("/_sim/phones/{ALICE}/messages"),
            Some(poll),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let location =
        json!({"to": jid(BOB), "type": "location", "latitude": -6.2, "longitude": 106.8});
    let (status, _) = sim
        .call(
            "POST",
            &format!("/_sim/phones/{ALICE}/messages"),
            Some(location),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);

    let (status, inbox) = sim
        .call("GET", &format!("/_sim/phones/{BOB}/inbox"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let data = inbox["data"].as_array().unwrap();
    let kinds: Vec<_> = data.iter().map(|m| m["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, vec!["text", "image", "poll", "location"]);
    assert_eq!(data[0]["from"], jid(ALICE));
    assert_eq!(data[0]["chat"], jid(ALICE));
    assert_eq!(data[0]["text"], "hi");
    assert!(data[0]["timestamp"].as_i64().unwrap() > 0);
    assert_eq!(data[1]["quotedId"], "3EB0FORCED");
    assert_eq!(data[1]["media"]["size"], 4);
    assert_eq!(data[2]["poll"]["options"], json!(["a", "b"]));
    assert_eq!(data[3]["location"]["latitude"], -6.2);

    let read = json!({"chat": jid(ALICE), "ids": ["3EB0FORCED"]});
    let (status, _) = sim
        .call("POST", &format!("/_sim/phones/{BOB}:read"), Some(read))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, message) = sim.call("GET", "/_sim/messages/3EB0FORCED", None).await;
    assert_eq!(message["readBy"], json!([jid(BOB)]));
    assert_eq!(message["deliveredTo"], json!([jid(BOB)]));
    let unknown = json!({"chat": jid(ALICE), "ids": ["NOPE"]});
    let (status, body) = sim
        .call("POST", &format!("/_sim/phones/{BOB}:read"), Some(unknown))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );

    let bad = json!({"to": jid(BOB), "type": "hologram"});
    let (status, _) = sim
        .call("POST", &format!("/_sim/phones/{ALICE}/messages"), Some(bad))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let stranger = json!({"to": jid("6289999999999"), "text": "?"});
    let (status, _) = sim
        .call(
            "POST",
            &format!("/_sim/phones/{ALICE}/messages"),
            Some(stranger),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn groups_invites_and_admin_rules_through_the_control_api() {
    let sim = Sim::start().await;
    let create = json!({"subject": "Crew", "participants": [jid(BOB)]});
    let (status, created) = sim
        .call(
            "POST",
            &format!("/_sim/phones/{ALICE}/groups"),
            Some(create),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let gid = created["gid"].as_str().unwrap().to_owned();
    assert!(gid.ends_with("@g.us"));

    let (status, group) = sim.call("GET", &format!("/_sim/groups/{gid}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(group["subject"], "Crew");
    assert_eq!(group["announce"], false);
    assert_eq!(
        group["participants"],
        json!([{"jid": jid(ALICE), "admin": true}, {"jid": jid(BOB), "admin": false}])
    );

    let (_, invite) = sim
        .call("POST", &format!("/_sim/groups/{gid}/invite"), None)
        .await;
    let code = invite["code"].as_str().unwrap().to_owned();
    let (_, revoked) = sim
        .call("POST", &format!("/_sim/groups/{gid}/invite:revoke"), None)
        .await;
    let fresh = revoked["code"].as_str().unwrap().to_owned();
    assert_ne!(fresh, code);
    let join = |code: &str| Some(json!({"code": code}));
    let (status, _) = sim
        .call(
            "POST",
            &format!("/_sim/phones/{CAROL}/groups:join"),
            join(&code),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, joined) = sim
        .call(
            "POST",
            &format!("/_sim/phones/{CAROL}/groups:join"),
            join(&fresh),
        )
        .await;
    assert_eq!(
        (status, joined["gid"].as_str()),
        (StatusCode::OK, Some(gid.as_str()))
    );

    // Bob is not an admin: a live operation through `…/ops` is forbidden.
    let rename = json!({"op": "updateGroup", "group": gid,
        "settings": {"subject": "Bob's", "description": null, "announce": null, "locked": null}});
    let (status, body) = sim
        .call("POST", &format!("/_sim/phones/{BOB}/ops"), Some(rename))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );
    let (status, answer) = sim
        .call(
            "POST",
            &format!("/_sim/phones/{BOB}/ops"),
            Some(json!({"op": "joinedGroups"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["result"], "groups");
    assert_eq!(answer["value"][0]["jid"], gid.as_str());

    let (status, _) = sim
        .call("GET", "/_sim/groups/120363000000000000@g.us", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn phones_show_profile_presence_and_redeliver_to_sessions() {
    let sim = Sim::start().await;
    let patch = json!({"name": "Alicia", "about": "", "picture": false});
    let (status, _) = sim
        .call("PATCH", &format!("/_sim/phones/{ALICE}"), Some(patch))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, phone) = sim
        .call("GET", &format!("/_sim/phones/{ALICE}"), None)
        .await;
    assert_eq!(phone["name"], "Alicia");
    assert_eq!(phone["about"], Value::Null);
    assert_eq!(phone["picture"], Value::Null);
    assert!(phone["lid"].as_str().unwrap().ends_with("@lid"));

    // A session linked to Bob sees Alice type and gets her message twice when redelivered.
    let devices = tempfile::tempdir().unwrap();
    let engine = SimEngine::new(sim.network.clone(), devices.path().to_path_buf());
    let session = SessionId::generate();
    let mut link = engine.open(&session, OpenMode::PairQr).await.unwrap();
    let mut next = async || {
        tokio::time::timeout(Duration::from_secs(10), link.events.next())
            .await
            .unwrap()
            .unwrap()
    };
    let EngineEvent::Qr { code, .. } = next().await else {
        panic!("expected a QR code");
    };
    sim.network.scan(BOB, &code).unwrap();
    assert!(matches!(next().await, EngineEvent::Paired(_)));
    assert_eq!(next().await, EngineEvent::Connected);

    let typing = json!({"state": "composing", "chat": jid(BOB)});
    let (status, _) = sim
        .call(
            "POST",
            &format!("/_sim/phones/{ALICE}/presence"),
            Some(typing),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let EngineEvent::Presence(p) = next().await else {
        panic!("expected presence");
    };
    assert_eq!(p.from.as_str(), jid(ALICE));
    let (status, _) = sim
        .call(
            "POST",
            &format!("/_sim/phones/{ALICE}/presence"),
            Some(json!({"state": "composing"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "typing needs a chat");

    let send = json!({"to": jid(BOB), "text": "twice", "id": "DUP1"});
    sim.call(
        "POST",
        &format!("/_sim/phones/{ALICE}/messages"),
        Some(send),
    )
    .await;
    let mut ids = Vec::new();
    while ids.is_empty() {
        if let EngineEvent::Message(m) = next().await {
            assert_eq!(
                m.content,
                InboundContent::Text {
                    text: "twice".into()
                }
            );
            ids.push(m.id);
        }
    }
    let path = format!("/_sim/sessions/{session}:redeliver");
    let (status, _) = sim.call("POST", &path, Some(json!({"id": "DUP1"}))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let EngineEvent::Message(again) = next().await else {
        panic!("expected the message again");
    };
    assert_eq!(again.id, "DUP1");
    let (status, _) = sim.call("POST", &path, Some(json!({"id": "NOPE"}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = sim
        .call(
            "POST",
            "/_sim/sessions/sess_nobody:redeliver",
            Some(json!({"id": "DUP1"})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
