//! Events (events.md): what happened to a session, in the contract's catalog. Producers build
//! them; the bus and, later, the event log and webhooks carry them.

use crate::{EventId, OrgId, SessionId, SessionStatus};

/// One event: the envelope's fields (events.md §1) around a typed payload.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: EventId,
    pub session: SessionId,
    pub organization: OrgId,
    /// Epoch-ms at which wagate created the event.
    pub timestamp: i64,
    pub payload: EventPayload,
}

impl Event {
    /// A new event about `session` (a fresh id), created at `timestamp`.
    pub fn about(session: &crate::Session, timestamp: i64, payload: EventPayload) -> Self {
        Self {
            id: EventId::generate(),
            session: session.id.clone(),
            organization: session.organization_id.clone(),
            timestamp,
            payload,
        }
    }

    /// The envelope's `event` string.
    pub fn event_type(&self) -> &'static str {
        self.payload.event_type()
    }
}

/// `auth.code` when pairing succeeded (events.md §3.1, the documented shape).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PairedPayload {
    pub jid: Option<String>,
    pub lid: Option<String>,
    pub business_name: Option<String>,
    pub platform: Option<String>,
}

/// Typed payloads; each maps to one catalog type.
#[derive(Debug, Clone, PartialEq)]
pub enum EventPayload {
    /// `session.status`; `reason` is our `statusReason` extension (D7).
    SessionStatus {
        status: SessionStatus,
        reason: Option<String>,
    },
    /// `auth.qr` with the code's validity.
    AuthQr { code: String, timeout_ms: i64 },
    /// `auth.code`: pairing succeeded.
    AuthCode(PairedPayload),
    /// `auth.pairing_code`: a linking code was issued for `phone`. The reference overloads
    /// `auth.code` for this; events.md §3.1 lets us give it its own type.
    PairingCodeIssued { code: String, phone: String },
    /// The message family (events.md §3.2): `message`, `message.from_me`, `message.reaction`,
    /// `message.edited`, `message.revoked`, `poll.vote`.
    Message {
        kind: MessageEventKind,
        body: Box<MessagePayload>,
    },
    /// `message.status` (events.md §3.4).
    MessageStatus(MessageStatusPayload),
    /// `presence.update` (events.md §3.5).
    Presence(PresencePayload),
    /// `contact.update` (events.md §3.8).
    ContactUpdate(ContactUpdatePayload),
    /// `outbox.status`: an asynchronous send was sent or failed for good (D4).
    OutboxStatus(OutboxStatusPayload),
    /// `group.update` or `group.participant` (events.md §3.6), by the payload's content.
    Group(GroupPayload),
    /// `newsletter.update` (events.md §3.10).
    Newsletter(NewsletterPayload),
}

impl EventPayload {
    pub fn event_type(&self) -> &'static str {
        match self {
            Self::SessionStatus { .. } => "session.status",
            Self::AuthQr { .. } => "auth.qr",
            Self::AuthCode(_) => "auth.code",
            Self::PairingCodeIssued { .. } => "auth.pairing_code",
            Self::Message { kind, .. } => kind.as_str(),
            Self::MessageStatus(_) => "message.status",
            Self::Presence(_) => "presence.update",
            Self::ContactUpdate(_) => "contact.update",
            Self::OutboxStatus(_) => "outbox.status",
            Self::Group(g) if g.is_participant_change() => "group.participant",
            Self::Group(_) => "group.update",
            Self::Newsletter(_) => "newsletter.update",
        }
    }
}

/// Where producers hand events over (the in-process bus today; the durable log later).
pub trait EventPublisher: Send + Sync + 'static {
    fn publish(&self, event: Event);
}

/// Which event of the message family a [`MessagePayload`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageEventKind {
    Message,
    FromMe,
    Reaction,
    Edited,
    Revoked,
    PollVote,
}

impl MessageEventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Message => "message",
            Self::FromMe => "message.from_me",
            Self::Reaction => "message.reaction",
            Self::Edited => "message.edited",
            Self::Revoked => "message.revoked",
            Self::PollVote => "poll.vote",
        }
    }
}

/// `MessagePayload` (events.md §3.2), serialized exactly as the contract names its fields;
/// empty optional fields are omitted, `media` is always `null`.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessagePayload {
    pub wa_message_id: String,
    pub chat_jid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender_jid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender_lid: Option<String>,
    pub from_me: bool,
    #[serde(rename = "type")]
    pub message_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quoted_message_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quoted_from_me: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quoted_sender_jid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quoted_sender_lid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quoted_body: Option<String>,
    /// Mentioned JID → `{pushName?, tag?}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mentions: Option<std::collections::BTreeMap<String, MentionInfo>>,
    pub has_media: bool,
    /// Always `null` on the wire (events.md §3.2).
    pub media: Option<()>,
    pub timestamp: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub push_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reaction: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub poll: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selected_options: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MentionInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub push_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
}

/// `MessageStatusPayload` (events.md §3.4).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageStatusPayload {
    pub chat_jid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender_jid: Option<String>,
    pub message_ids: Vec<String>,
    pub status: crate::MessageStatus,
    pub timestamp: i64,
}

/// `outbox.status` (D4): the outcome of an asynchronous send.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboxStatusPayload {
    pub outbox_id: String,
    /// `sent` or `failed`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wa_message_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub attempts: i64,
}

/// `PresenceStatus` (api.md §2.8), the `presence.update` payload.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PresencePayload {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_jid: Option<String>,
    pub from: String,
    pub state: crate::engine::PresenceState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<i64>,
}

/// `ContactUpdatePayload` (events.md §3.8).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactUpdatePayload {
    pub jid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub push_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
}

/// The wire envelope (events.md §1), keys in the contract's order.
#[derive(serde::Serialize)]
struct Envelope<'a> {
    schema: &'static str,
    id: String,
    event: &'static str,
    session: &'a str,
    organization: &'a str,
    timestamp: i64,
    payload: serde_json::Value,
}

impl Event {
    /// The payload as its catalog schema.
    pub fn payload_json(&self) -> serde_json::Value {
        use serde_json::{Value, json, to_value};
        let value = match &self.payload {
            EventPayload::SessionStatus { status, reason } => match reason {
                Some(r) => Ok(json!({"status": status.as_str(), "statusReason": r})),
                None => Ok(json!({"status": status.as_str()})),
            },
            EventPayload::AuthQr { code, timeout_ms } => {
                Ok(json!({"code": code, "timeoutMs": timeout_ms}))
            }
            EventPayload::AuthCode(p) => {
                let mut o = serde_json::Map::new();
                let fields = [
                    ("jid", &p.jid),
                    ("lid", &p.lid),
                    ("businessName", &p.business_name),
                    ("platform", &p.platform),
                ];
                for (k, v) in fields {
                    if let Some(v) = v {
                        o.insert(k.into(), Value::String(v.clone()));
                    }
                }
                Ok(Value::Object(o))
            }
            EventPayload::PairingCodeIssued { code, phone } => {
                Ok(json!({"code": code, "phone": phone}))
            }
            EventPayload::Message { body, .. } => to_value(body.as_ref()),
            EventPayload::MessageStatus(p) => to_value(p),
            EventPayload::Presence(p) => to_value(p),
            EventPayload::ContactUpdate(p) => to_value(p),
            EventPayload::OutboxStatus(p) => to_value(p),
            EventPayload::Group(p) => to_value(p),
            EventPayload::Newsletter(p) => to_value(p),
        };
        // Only plain data structs above: serialization cannot fail.
        match value {
            Ok(v) => v,
            Err(_) => Value::Object(Default::default()),
        }
    }

    /// The envelope as one line of JSON (no raw newlines: JSON escapes them).
    pub fn envelope_json(&self) -> String {
        let envelope = Envelope {
            schema: "v1",
            id: self.id.to_string(),
            event: self.event_type(),
            session: self.session.as_str(),
            organization: self.organization.as_str(),
            timestamp: self.timestamp,
            payload: self.payload_json(),
        };
        serde_json::to_string(&envelope).unwrap_or_default()
    }
}

/// `GroupPayload` (events.md §3.6).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupPayload {
    pub group_jid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_announce: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_locked: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_invite_link: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub join: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub leave: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub promote: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub demote: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<i64>,
}

impl GroupPayload {
    /// events.md §3.6: any of join/leave/promote/demote makes it `group.participant`.
    pub fn is_participant_change(&self) -> bool {
        !(self.join.is_empty()
            && self.leave.is_empty()
            && self.promote.is_empty()
            && self.demote.is_empty())
    }
}

/// What happened to a channel (events.md §3.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NewsletterAction {
    Join,
    Leave,
    Mute,
}

/// `NewsletterPayload` (events.md §3.10).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NewsletterPayload {
    pub jid: String,
    pub action: NewsletterAction,
}
