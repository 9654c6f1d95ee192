//! The wire form of the engine endpoint (`/_sim/engine/…`) between a standalone simnet and the
//! [`RemoteSimEngine`](super::RemoteSimEngine)s of other processes. JSON, camelCase, tagged by
//! `type`; the connect answer is NDJSON: one [`StreamLine`] per line.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use wagate_domain::engine::{
    ContactUpdate, EngineEvent, FatalReason, GroupUpdate, HistoryChunk, InboundMessage,
    LinkedAccount, PresenceUpdate, Receipt,
};

use crate::{ConnectRequest, DeviceCredential, NetworkEvent, Op, OpResult, SimError};

/// `POST /_sim/engine/connect`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConnectBody {
    pub session: String,
    pub request: WireRequest,
}

/// How a connection starts ([`ConnectRequest`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase", deny_unknown_fields)]
pub enum WireRequest {
    PairQr,
    PairCode { phone: String },
    Resume { credential: DeviceCredential },
}

impl From<ConnectRequest> for WireRequest {
    fn from(r: ConnectRequest) -> Self {
        match r {
            ConnectRequest::PairQr => Self::PairQr,
            ConnectRequest::PairCode { phone } => Self::PairCode { phone },
            ConnectRequest::Resume { credential } => Self::Resume { credential },
        }
    }
}

impl From<WireRequest> for ConnectRequest {
    fn from(r: WireRequest) -> Self {
        match r {
            WireRequest::PairQr => Self::PairQr,
            WireRequest::PairCode { phone } => Self::PairCode { phone },
            WireRequest::Resume { credential } => Self::Resume { credential },
        }
    }
}

/// `POST /_sim/engine/close` and `POST /_sim/engine/logout`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConnectionBody {
    pub session: String,
    pub connection: u64,
    /// For logout: the stored credential, covering a logout after the connection is gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<DeviceCredential>,
}

/// `POST /_sim/engine/op`: one live operation on a connection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OpBody {
    pub session: String,
    pub connection: u64,
    pub op: Op,
}

/// The answer to `POST /_sim/engine/op` (always `200`): the result or the network's refusal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum OpAnswer {
    Ok(OpResult),
    Err(SimError),
}

/// An inbound event on the connect stream (adjacently tagged: `{"kind", "data"}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "data", rename_all = "camelCase")]
pub enum InboundEvent {
    Message(Box<InboundMessage>),
    Receipt(Receipt),
    Presence(PresenceUpdate),
    Group(Box<GroupUpdate>),
    Contact(ContactUpdate),
    HistorySync(Box<HistoryChunk>),
}

/// The account a device is linked to ([`LinkedAccount`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireAccount {
    pub jid: String,
    #[serde(default)]
    pub lid: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub platform: Option<String>,
    #[serde(default)]
    pub business_name: Option<String>,
}

impl From<LinkedAccount> for WireAccount {
    fn from(a: LinkedAccount) -> Self {
        Self {
            jid: a.jid,
            lid: a.lid,
            phone: a.phone,
            platform: a.platform,
            business_name: a.business_name,
        }
    }
}

impl From<WireAccount> for LinkedAccount {
    fn from(a: WireAccount) -> Self {
        Self {
            jid: a.jid,
            lid: a.lid,
            phone: a.phone,
            platform: a.platform,
            business_name: a.business_name,
        }
    }
}

/// One line of the connect answer: first `open`, then the connection's events. The body ends
/// when the network drops the connection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum StreamLine {
    /// The connection is open: its id (for close/logout) and, for code pairing, the code.
    #[serde(rename_all = "camelCase")]
    Open {
        connection: u64,
        #[serde(default)]
        pairing_code: Option<String>,
    },
    #[serde(rename_all = "camelCase")]
    Qr {
        code: String,
        valid_for_ms: u64,
    },
    QrTimeout,
    /// Pairing succeeded; the engine stores `credential`, then reports `Paired`.
    Linked {
        account: WireAccount,
        credential: DeviceCredential,
    },
    Connected,
    Disconnected {
        reason: String,
    },
    /// `reason` is [`FatalReason::as_str`].
    Fatal {
        reason: String,
    },
    /// A message, receipt, presence, group, contact or history event.
    Event {
        event: InboundEvent,
    },
}

impl StreamLine {
    /// The line carrying `event`; `None` for `Paired`, which the network never sends (it sends
    /// `Linked`, with the credential).
    pub fn from_network_event(event: NetworkEvent) -> Option<Self> {
        Some(match event {
            NetworkEvent::Linked {
                account,
                credential,
            } => Self::Linked {
                account: account.into(),
                credential,
            },
            NetworkEvent::Engine(event) => match event {
                EngineEvent::Qr { code, valid_for } => Self::Qr {
                    code,
                    valid_for_ms: u64::try_from(valid_for.as_millis()).unwrap_or(u64::MAX),
                },
                EngineEvent::QrTimeout => Self::QrTimeout,
                EngineEvent::Paired(_) => return None,
                EngineEvent::Connected => Self::Connected,
                EngineEvent::Disconnected { reason } => Self::Disconnected { reason },
                EngineEvent::Fatal(reason) => Self::Fatal {
                    reason: reason.as_str().to_owned(),
                },
                EngineEvent::Message(m) => Self::event(InboundEvent::Message(m)),
                EngineEvent::Receipt(r) => Self::event(InboundEvent::Receipt(r)),
                EngineEvent::Presence(p) => Self::event(InboundEvent::Presence(p)),
                EngineEvent::Group(g) => Self::event(InboundEvent::Group(g)),
                EngineEvent::Contact(c) => Self::event(InboundEvent::Contact(c)),
                EngineEvent::HistorySync(h) => Self::event(InboundEvent::HistorySync(h)),
            },
        })
    }

    fn event(event: InboundEvent) -> Self {
        Self::Event { event }
    }

    /// The network event this line carries; `None` for `open` (not an event).
    pub fn into_network_event(self) -> Option<NetworkEvent> {
        let engine = |e| Some(NetworkEvent::Engine(e));
        match self {
            Self::Open { .. } => None,
            Self::Qr { code, valid_for_ms } => engine(EngineEvent::Qr {
                code,
                valid_for: Duration::from_millis(valid_for_ms),
            }),
            Self::QrTimeout => engine(EngineEvent::QrTimeout),
            Self::Linked {
                account,
                credential,
            } => Some(NetworkEvent::Linked {
                account: account.into(),
                credential,
            }),
            Self::Connected => engine(EngineEvent::Connected),
            Self::Disconnected { reason } => engine(EngineEvent::Disconnected { reason }),
            Self::Fatal { reason } => engine(EngineEvent::Fatal(fatal_reason(&reason))),
            Self::Event { event } => engine(match event {
                InboundEvent::Message(m) => EngineEvent::Message(m),
                InboundEvent::Receipt(r) => EngineEvent::Receipt(r),
                InboundEvent::Presence(p) => EngineEvent::Presence(p),
                InboundEvent::Group(g) => EngineEvent::Group(g),
                InboundEvent::Contact(c) => EngineEvent::Contact(c),
                InboundEvent::HistorySync(h) => EngineEvent::HistorySync(h),
            }),
        }
    }
}

/// [`FatalReason`] from its [`FatalReason::as_str`] form; unknown values are `Refused`.
pub fn fatal_reason(s: &str) -> FatalReason {
    [
        FatalReason::LoggedOut,
        FatalReason::Replaced,
        FatalReason::ClientOutdated,
        FatalReason::TemporaryBan,
        FatalReason::Refused,
    ]
    .into_iter()
    .find(|r| r.as_str() == s)
    .unwrap_or(FatalReason::Refused)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credential() -> DeviceCredential {
        DeviceCredential {
            device_id: "dev-1".into(),
            token: "secret".into(),
        }
    }

    #[test]
    fn network_events_round_trip_through_ndjson_lines() {
        let account = LinkedAccount {
            jid: "628111:1@s.whatsapp.net".into(),
            lid: Some("123@lid".into()),
            phone: Some("628111".into()),
            platform: None,
            business_name: Some("Shop".into()),
        };
        let mut events = vec![
            NetworkEvent::Engine(EngineEvent::Qr {
                code: "2@abc".into(),
                valid_for: Duration::from_millis(60_000),
            }),
            NetworkEvent::Engine(EngineEvent::QrTimeout),
            NetworkEvent::Linked {
                account,
                credential: credential(),
            },
            NetworkEvent::Engine(EngineEvent::Connected),
            NetworkEvent::Engine(EngineEvent::Disconnected {
                reason: "dropped".into(),
            }),
        ];
        for reason in [
            FatalReason::LoggedOut,
            FatalReason::Replaced,
            FatalReason::ClientOutdated,
            FatalReason::TemporaryBan,
            FatalReason::Refused,
        ] {
            events.push(NetworkEvent::Engine(EngineEvent::Fatal(reason)));
        }
        for event in events {
            let line =
                serde_json::to_string(&StreamLine::from_network_event(event.clone()).unwrap())
                    .unwrap();
            assert!(!line.contains('\n'), "one line: {line}");
            let back: StreamLine = serde_json::from_str(&line).unwrap();
            assert_eq!(back.into_network_event(), Some(event), "{line}");
        }
    }

    #[test]
    fn wire_form_is_tagged_camel_case() {
        let qr = StreamLine::from_network_event(NetworkEvent::Engine(EngineEvent::Qr {
            code: "c".into(),
            valid_for: Duration::from_secs(20),
        }))
        .unwrap();
        assert_eq!(
            serde_json::to_value(&qr).unwrap(),
            serde_json::json!({"type": "qr", "code": "c", "validForMs": 20000})
        );
        let open = StreamLine::Open {
            connection: 7,
            pairing_code: Some("ABCD-EFGH".into()),
        };
        assert_eq!(
            serde_json::to_value(&open).unwrap(),
            serde_json::json!({"type": "open", "connection": 7, "pairingCode": "ABCD-EFGH"})
        );
        let fatal = StreamLine::from_network_event(NetworkEvent::Engine(EngineEvent::Fatal(
            FatalReason::LoggedOut,
        )))
        .unwrap();
        assert_eq!(
            serde_json::to_value(&fatal).unwrap(),
            serde_json::json!({"type": "fatal", "reason": "logged_out"})
        );
        let body = ConnectBody {
            session: "sess_1".into(),
            request: ConnectRequest::Resume {
                credential: credential(),
            }
            .into(),
        };
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"session": "sess_1", "request": {"type": "resume", "credential": {"deviceId": "dev-1", "token": "secret"}}})
        );
        assert_eq!(serde_json::from_value::<ConnectBody>(json).unwrap(), body);
        let code: WireRequest =
            serde_json::from_value(serde_json::json!({"type": "pairCode", "phone": "628"}))
                .unwrap();
        assert_eq!(
            ConnectRequest::from(code),
            ConnectRequest::PairCode {
                phone: "628".into()
            }
        );
    }
}
