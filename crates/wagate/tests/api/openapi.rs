//! The OpenAPI document is served from the code, in JSON and YAML, without credentials.

use reqwest::Method;
use serde_json::Value;
use wagate_test_support::node::TestNode;

#[tokio::test]
async fn document_is_served_as_json_and_yaml() {
    let node = TestNode::start().await;
    let res = node
        .anon(Method::GET, "/api/v1/openapi.json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let doc: Value = res.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let res = node
        .anon(Method::GET, "/api/v1/openapi.yaml")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/yaml");
    let yaml = res.text().await.unwrap();
    assert!(yaml.starts_with("openapi: 3.1.0"));
    let mut ids: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .map(|op| op["operationId"].as_str().unwrap())
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        vec![
            "addGroupMembers",
            "addReaction",
            "approveGroupMembers",
            "blockContact",
            "checkContact",
            "createApiKey",
            "createChannel",
            "createGroup",
            "createRealtimeTicket",
            "createSession",
            "createWebhook",
            "deleteChat",
            "deleteSession",
            "deleteWebhook",
            "demoteGroupMember",
            "editMessage",
            "followChannel",
            "forwardMessage",
            "getChat",
            "getChatPresence",
            "getContact",
            "getContactAbout",
            "getContactPicture",
            "getGroup",
            "getGroupInvite",
            "getMessageMedia",
            "getOutboxEntry",
            "getSession",
            "getWebhook",
            "joinGroup",
            "leaveGroup",
            "listApiKeys",
            "listChannelMessages",
            "listChatMessages",
            "listChats",
            "listContacts",
            "listGroupMembers",
            "listGroups",
            "listSessions",
            "listWebhookDeliveries",
            "listWebhooks",
            "logoutSession",
            "muteChannel",
            "postStatus",
            "promoteGroupMember",
            "readChat",
            "redeliverWebhookDelivery",
            "removeGroupMember",
            "removeReaction",
            "restartSession",
            "revokeApiKey",
            "revokeGroupInvite",
            "revokeMessage",
            "sendMessage",
            "sessionMe",
            "sessionPairingCode",
            "sessionQR",
            "setChatPresence",
            "setPresence",
            "startSession",
            "stopSession",
            "streamEvents",
            "testWebhook",
            "unblockContact",
            "unfollowChannel",
            "updateChat",
            "updateGroup",
            "updateWebhook",
            "voteMessage",
        ]
    );
    for id in &ids {
        assert!(yaml.contains(&format!("operationId: {id}")));
    }
    assert!(doc["components"]["schemas"]["WASession"].is_object());
    assert!(doc["paths"]["/api/v1/sessions/{session}:start"]["post"].is_object());
    assert!(
        !yaml.contains("~start"),
        "internal action paths never leak into the document"
    );
}
