//! Control API rows of one phone: its profile, the messages it sends and receives, reading,
//! typing, groups and channels it creates or joins, and any live operation (`…/ops`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::json;
use wagate_domain::Jid;
use wagate_domain::engine::{
    ChatPresence, InboundContent, MediaKind, OutgoingMedia, OwnPresence, PollSpec,
};

use super::wire::{ControlError, StrictJson};
use crate::network::state::Draft;
use crate::{Actor, Network, Op, OpResult, PhoneView};

fn jid(text: &str) -> Result<Jid, ControlError> {
    Jid::parse(text).map_err(|e| ControlError::validation(e.to_string()))
}

fn perform(network: &Network, phone: &str, op: Op) -> Result<OpResult, ControlError> {
    Ok(network.perform(&Actor::Phone(phone.to_owned()), op)?)
}

/// `GET /_sim/phones/{phone}`.
pub(super) async fn show(
    State(network): State<Network>,
    Path(phone): Path<String>,
) -> Result<axum::Json<PhoneView>, ControlError> {
    Ok(axum::Json(network.phone_view(&phone)?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct UpdatePhone {
    #[serde(default)]
    name: Option<String>,
    /// `""` clears it.
    #[serde(default)]
    about: Option<String>,
    /// `false` removes the picture, `true` sets a new one.
    #[serde(default)]
    picture: Option<bool>,
}

/// `PATCH /_sim/phones/{phone}`: name, about text, picture.
pub(super) async fn update(
    State(network): State<Network>,
    Path(phone): Path<String>,
    StrictJson(body): StrictJson<UpdatePhone>,
) -> Result<StatusCode, ControlError> {
    let about = body.about.map(|a| Some(a).filter(|a| !a.is_empty()));
    network.update_phone(&phone, body.name, about, body.picture)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct SendMessage {
    to: String,
    /// `text` (default), `image`, `video`, `audio`, `document`, `sticker`, `location`, `poll`,
    /// `contact`.
    #[serde(default, rename = "type")]
    kind: Option<String>,
    /// The text, or the caption of media, or the poll question / location name when those
    /// are not given.
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    reply_to: Option<String>,
    /// Forces the message id (the same id twice delivers a duplicate).
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    mentions: Vec<String>,
    #[serde(default)]
    forwarded: bool,
    #[serde(default)]
    media: Option<MediaBody>,
    #[serde(default)]
    latitude: Option<f64>,
    #[serde(default)]
    longitude: Option<f64>,
    #[serde(default)]
    poll: Option<PollBody>,
    #[serde(default)]
    contact: Option<ContactBody>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct MediaBody {
    /// Standard base64.
    data: String,
    mimetype: String,
    #[serde(default)]
    filename: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct PollBody {
    #[serde(default)]
    name: Option<String>,
    options: Vec<String>,
    #[serde(default)]
    selectable_count: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct ContactBody {
    display_name: String,
    vcard: String,
}

/// `POST /_sim/phones/{phone}/messages`: `201 {"id", "timestamp"}`.
pub(super) async fn send(
    State(network): State<Network>,
    Path(phone): Path<String>,
    StrictJson(body): StrictJson<SendMessage>,
) -> Result<Response, ControlError> {
    let to = jid(&body.to)?;
    if let Some(id) = &body.id {
        let ok = !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric());
        if !ok {
            return Err(ControlError::validation(
                "id must be 1 to 64 letters and digits",
            ));
        }
    }
    let mentions = body
        .mentions
        .iter()
        .map(|m| jid(m))
        .collect::<Result<Vec<_>, _>>()?;
    let content = content(&network, &body)?;
    let mut draft = Draft::new(to, content);
    draft.id = body.id;
    draft.quoted_id = body.reply_to;
    draft.mentions = mentions;
    draft.forwarded = body.forwarded;
    let sent = network.send_as_phone(&phone, draft)?;
    let answer = json!({"id": sent.id, "timestamp": sent.timestamp});
    Ok((StatusCode::CREATED, axum::Json(answer)).into_response())
}

/// The content a phone's message carries (media bytes are stored on the network).
fn content(network: &Network, body: &SendMessage) -> Result<InboundContent, ControlError> {
    let text = body.text.clone();
    let media_kind = match body.kind.as_deref().unwrap_or("text") {
        "text" => {
            let text = text.ok_or_else(|| ControlError::validation("text is required"))?;
            return Ok(InboundContent::Text { text });
        }
        "location" => {
            let (Some(latitude), Some(longitude)) = (body.latitude, body.longitude) else {
                return Err(ControlError::validation(
                    "latitude and longitude are required",
                ));
            };
            return Ok(InboundContent::Location {
                latitude,
                longitude,
                name: text,
            });
        }
        "poll" => {
            let poll = body
                .poll
                .as_ref()
                .ok_or_else(|| ControlError::validation("poll is required"))?;
            let name = poll.name.clone().or(text).unwrap_or_default();
            if name.is_empty() || poll.options.len() < 2 {
                return Err(ControlError::validation(
                    "a poll needs a name and at least 2 options",
                ));
            }
            return Ok(InboundContent::Poll(PollSpec {
                name,
                options: poll.options.clone(),
                selectable_count: poll.selectable_count,
                end_time: None,
                hide_votes: false,
            }));
        }
        "contact" => {
            let contact = body
                .contact
                .as_ref()
                .ok_or_else(|| ControlError::validation("contact is required"))?;
            return Ok(InboundContent::Contact {
                display_name: contact.display_name.clone(),
                vcard: contact.vcard.clone(),
            });
        }
        "image" => MediaKind::Image,
        "video" => MediaKind::Video,
        "audio" => MediaKind::Audio,
        "document" => MediaKind::Document,
        "sticker" => MediaKind::Sticker,
        other => {
            return Err(ControlError::validation(format!(
                "unknown message type {other:?}"
            )));
        }
    };
    let media = body
        .media
        .as_ref()
        .ok_or_else(|| ControlError::validation("media is required"))?;
    let data = STANDARD
        .decode(&media.data)
        .map_err(|e| ControlError::validation(format!("media.data is not base64: {e}")))?;
    Ok(network.store_media(OutgoingMedia {
        kind: media_kind,
        data,
        mimetype: media.mimetype.clone(),
        caption: text,
        filename: media.filename.clone(),
    }))
}

/// `GET /_sim/phones/{phone}/inbox`: `{"data": [message…]}`, oldest first.
pub(super) async fn inbox(
    State(network): State<Network>,
    Path(phone): Path<String>,
) -> Result<axum::Json<serde_json::Value>, ControlError> {
    Ok(axum::Json(json!({"data": network.inbox(&phone)?})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Read {
    chat: String,
    ids: Vec<String>,
}

/// `POST /_sim/phones/{phone}:read`: the authors get read receipts.
pub(super) async fn read(
    State(network): State<Network>,
    Path(phone): Path<String>,
    StrictJson(body): StrictJson<Read>,
) -> Result<StatusCode, ControlError> {
    if body.ids.is_empty() {
        return Err(ControlError::validation("ids must not be empty"));
    }
    network.read_as_phone(&phone, &jid(&body.chat)?, &body.ids)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Presence {
    /// `available`, `unavailable`, `composing`, `recording` or `paused`.
    state: String,
    #[serde(default)]
    chat: Option<String>,
}

/// `POST /_sim/phones/{phone}/presence`: availability, or typing in `chat`.
pub(super) async fn presence(
    State(network): State<Network>,
    Path(phone): Path<String>,
    StrictJson(body): StrictJson<Presence>,
) -> Result<StatusCode, ControlError> {
    let typing = match body.state.as_str() {
        "available" | "unavailable" => None,
        "composing" => Some(ChatPresence::Composing),
        "recording" => Some(ChatPresence::Recording),
        "paused" => Some(ChatPresence::Paused),
        other => {
            return Err(ControlError::validation(format!(
                "unknown presence state {other:?}"
            )));
        }
    };
    let op = match typing {
        None => Op::SetPresence {
            presence: if body.state == "available" {
                OwnPresence::Available
            } else {
                OwnPresence::Unavailable
            },
        },
        Some(state) => {
            let chat = body
                .chat
                .as_deref()
                .ok_or_else(|| ControlError::validation("chat is required for typing"))?;
            Op::SetChatPresence {
                chat: jid(chat)?,
                state,
            }
        }
    };
    perform(&network, &phone, op)?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /_sim/phones/{phone}/ops`: any live operation, exactly as a linked device would run
/// it (the body is an `Op`, the answer an `OpResult`).
pub(super) async fn perform_op(
    State(network): State<Network>,
    Path(phone): Path<String>,
    StrictJson(op): StrictJson<Op>,
) -> Result<axum::Json<OpResult>, ControlError> {
    Ok(axum::Json(perform(&network, &phone, op)?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateGroup {
    subject: String,
    #[serde(default)]
    participants: Vec<String>,
}

/// `POST /_sim/phones/{phone}/groups`: `201 {"gid"}`; the phone is the group's admin.
pub(super) async fn create_group(
    State(network): State<Network>,
    Path(phone): Path<String>,
    StrictJson(body): StrictJson<CreateGroup>,
) -> Result<Response, ControlError> {
    let participants = body
        .participants
        .iter()
        .map(|p| jid(p))
        .collect::<Result<Vec<_>, _>>()?;
    let op = Op::CreateGroup {
        subject: body.subject,
        participants,
    };
    match perform(&network, &phone, op)? {
        OpResult::Group(info) => {
            let answer = json!({"gid": info.jid});
            Ok((StatusCode::CREATED, axum::Json(answer)).into_response())
        }
        other => Err(ControlError::validation(format!(
            "unexpected {}",
            other.kind()
        ))),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Join {
    code: String,
}

/// `POST /_sim/phones/{phone}/groups:join`: `200 {"gid"}`, also when already a member.
pub(super) async fn join_group(
    State(network): State<Network>,
    Path(phone): Path<String>,
    StrictJson(body): StrictJson<Join>,
) -> Result<axum::Json<serde_json::Value>, ControlError> {
    match perform(&network, &phone, Op::JoinGroup { code: body.code })? {
        OpResult::Jid(gid) => Ok(axum::Json(json!({"gid": gid}))),
        other => Err(ControlError::validation(format!(
            "unexpected {}",
            other.kind()
        ))),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateChannel {
    name: String,
    #[serde(default)]
    description: Option<String>,
}

/// `POST /_sim/phones/{phone}/channels`: `201 {"jid"}`; the phone owns the channel.
pub(super) async fn create_channel(
    State(network): State<Network>,
    Path(phone): Path<String>,
    StrictJson(body): StrictJson<CreateChannel>,
) -> Result<Response, ControlError> {
    let op = Op::CreateChannel {
        name: body.name,
        description: body.description,
    };
    match perform(&network, &phone, op)? {
        OpResult::Channel(info) => {
            let answer = json!({"jid": info.jid});
            Ok((StatusCode::CREATED, axum::Json(answer)).into_response())
        }
        other => Err(ControlError::validation(format!(
            "unexpected {}",
            other.kind()
        ))),
    }
}
