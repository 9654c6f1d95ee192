//! Sending, changing and reading messages; status posts; media download.

use wagate_domain::engine::{
    EngineError, MediaRef, MessageKey, OutgoingContent, OutgoingMedia, OutgoingMessage, PollSpec,
    SentMessage, StatusPost,
};
use wagate_domain::{ChatKind, Jid};
use whatsapp_rust::features::StatusSendOptions;
use whatsapp_rust::waproto::whatsapp as wa;
use whatsapp_rust::{Client, Jid as WaJid, RevokeType, Server, UploadOptions};

use crate::errors::{engine_error, from_anyhow};
use crate::jids::to_wa;
use crate::locator::{MediaLocator, media_type};
use crate::outbound::{self, Uploaded};
use crate::polls::{KnownPoll, PollBook};

/// Size of a poll's message secret.
const SECRET_LEN: usize = 32;

pub(super) async fn send(
    client: &Client,
    polls: &PollBook,
    message: OutgoingMessage,
) -> Result<SentMessage, EngineError> {
    let to = to_wa(&message.to)?;
    let context = outbound::context_info(
        message.reply_to.as_ref(),
        &message.mentions,
        message.forwarded,
    );
    let body = match &message.content {
        OutgoingContent::Text { text, link_preview } => outbound::text(text, link_preview.as_ref()),
        OutgoingContent::Poll(spec) => {
            let secret = mint_secret()?;
            let sent = send_body(
                client,
                &to,
                outbound::with_context(outbound::poll(spec, secret.clone()), context),
            )
            .await?;
            let creator = client.pn().map(|pn| pn.to_non_ad().to_string());
            polls.remember(
                &sent.id,
                KnownPoll {
                    options: spec.options.clone(),
                    secret: Some(secret),
                    creator: creator.unwrap_or_default(),
                },
            );
            return Ok(sent);
        }
        OutgoingContent::Location {
            latitude,
            longitude,
            name,
        } => outbound::location(*latitude, *longitude, name.as_deref()),
        OutgoingContent::Contact {
            display_name,
            vcard,
        } => outbound::contact(display_name, vcard),
        OutgoingContent::Media(media) => outbound::media(media, upload(client, media).await?),
        OutgoingContent::Album { items, caption } => {
            return send_album(client, &to, items, caption.as_deref(), context).await;
        }
    };
    send_body(client, &to, outbound::with_context(body, context)).await
}

/// An album: the container first, then each item pointing at it. The album's id is the
/// container's.
async fn send_album(
    client: &Client,
    to: &WaJid,
    items: &[OutgoingMedia],
    caption: Option<&str>,
    context: Option<wa::ContextInfo>,
) -> Result<SentMessage, EngineError> {
    let album = send_body(client, to, outbound::album(items)).await?;
    let chat = to.to_string();
    let mut context = context;
    for (index, item) in items.iter().enumerate() {
        let mut item = item.clone();
        if index == 0 {
            item.caption = caption.map(str::to_owned);
        }
        let body = outbound::media(&item, upload(client, &item).await?);
        // Quote and mentions ride on the first item, like the caption.
        let body = outbound::with_context(body, context.take());
        send_body(client, to, outbound::album_item(body, &chat, &album.id)).await?;
    }
    Ok(album)
}

async fn send_body(
    client: &Client,
    to: &WaJid,
    body: wa::Message,
) -> Result<SentMessage, EngineError> {
    let result = client
        .send_message(to.clone(), body)
        .await
        .map_err(|e| engine_error(&e))?;
    Ok(sent(result.message_id))
}

/// The crate does not surface the server's acknowledgement time, so the send time is ours.
fn sent(id: String) -> SentMessage {
    SentMessage {
        id,
        timestamp: now_ms(),
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

async fn upload(client: &Client, media: &OutgoingMedia) -> Result<Uploaded, EngineError> {
    client
        .upload(
            media.data.clone(),
            media_type(media.kind),
            UploadOptions::default(),
        )
        .await
        .map(Uploaded::from)
        .map_err(|e| from_anyhow(&e))
}

fn mint_secret() -> Result<Vec<u8>, EngineError> {
    use ring::rand::{SecureRandom, SystemRandom};
    let mut secret = vec![0; SECRET_LEN];
    SystemRandom::new()
        .fill(&mut secret)
        .map_err(|_| EngineError::Other("no randomness for the poll secret".into()))?;
    Ok(secret)
}

pub(super) async fn edit(
    client: &Client,
    target: &MessageKey,
    text: &str,
) -> Result<SentMessage, EngineError> {
    let chat = to_wa(&target.chat)?;
    if target.chat.kind() == ChatKind::Newsletter {
        client
            .newsletter()
            .edit_message(&chat, target.id.clone(), outbound::conversation(text))
            .await
            .map_err(|e| engine_error(&e))?;
        return Ok(sent(target.id.clone()));
    }
    let id = client
        .edit_message(chat, target.id.clone(), outbound::conversation(text))
        .await
        .map_err(|e| engine_error(&e))?;
    Ok(sent(id))
}

/// Own messages are revoked with a message of ours (its id is answered). A group admin
/// revoking someone else's goes through the crate's admin path, which does not tell the new
/// message's id: the answer then carries the revoked message's id.
pub(super) async fn revoke(
    client: &Client,
    target: &MessageKey,
) -> Result<SentMessage, EngineError> {
    let chat = to_wa(&target.chat)?;
    match (&target.sender, target.chat.kind()) {
        (_, ChatKind::Newsletter) => {
            client
                .newsletter()
                .revoke_message(&chat, target.id.clone())
                .await
                .map_err(|e| engine_error(&e))?;
            Ok(sent(target.id.clone()))
        }
        (Some(author), ChatKind::Group) => {
            let original_sender = to_wa(author)?;
            client
                .revoke_message(
                    chat,
                    target.id.clone(),
                    RevokeType::Admin { original_sender },
                )
                .await
                .map_err(|e| engine_error(&e))?;
            Ok(sent(target.id.clone()))
        }
        (Some(_), _) => Err(EngineError::Rejected(
            "only a group admin can delete another person's message".into(),
        )),
        (None, _) => {
            let key = outbound::own_key(&chat.to_string(), &target.id);
            send_body(client, &chat, outbound::revoke(key)).await
        }
    }
}

pub(super) async fn react(
    client: &Client,
    target: &MessageKey,
    emoji: &str,
) -> Result<SentMessage, EngineError> {
    let chat = to_wa(&target.chat)?;
    if target.chat.kind() == ChatKind::Newsletter {
        // Channel reactions address the server id of the message.
        let server_id = target.id.parse::<u64>().map_err(|_| {
            EngineError::Rejected("channel reactions need the message's server id".into())
        })?;
        client
            .newsletter()
            .send_reaction(&chat, server_id, emoji)
            .await
            .map_err(|e| engine_error(&e))?;
        return Ok(sent(target.id.clone()));
    }
    let result = client
        .send_reaction(chat, outbound::message_key(target), emoji)
        .await
        .map_err(|e| engine_error(&e))?;
    Ok(sent(result.message_id))
}

/// An encrypted vote. The poll's secret comes from this connection's poll book, else from
/// the secrets the crate stored when the poll was sent or received.
pub(super) async fn vote(
    client: &Client,
    polls: &PollBook,
    target: &MessageKey,
    poll: &PollSpec,
    selected: &[String],
) -> Result<SentMessage, EngineError> {
    let chat = to_wa(&target.chat)?;
    let own = client
        .pn()
        .ok_or_else(|| EngineError::Unavailable("not logged in to WhatsApp".into()))?;
    let creator = match &target.sender {
        Some(author) => to_wa(author)?,
        None => own.to_non_ad(),
    };
    let known = polls.get(&target.id);
    let secret = match known.and_then(|p| p.secret) {
        Some(secret) => secret,
        None => stored_secret(client, &chat, &creator, &target.id)
            .await
            .ok_or_else(|| {
                EngineError::NotFound(format!(
                    "poll {} is unknown to this device (its secret is missing)",
                    target.id
                ))
            })?,
    };
    if let Some(unknown) = selected.iter().find(|s| !poll.options.contains(s)) {
        return Err(EngineError::Rejected(format!(
            "{unknown:?} is not an option of the poll"
        )));
    }
    let result = client
        .polls()
        .vote(chat, &target.id, &creator, &secret, selected)
        .await
        .map_err(|e| engine_error(&e))?;
    Ok(sent(result.message_id))
}

/// The secret the crate stored for message `id` by `author` in `chat`, trying the author's
/// other address (LID or phone) too.
pub(crate) async fn stored_secret(
    client: &Client,
    chat: &WaJid,
    author: &WaJid,
    id: &str,
) -> Option<Vec<u8>> {
    let backend = client.persistence_manager().backend();
    let chat = chat.to_non_ad().to_string();
    let mut authors = vec![author.to_non_ad()];
    if let Ok(Some(entry)) = client.get_lid_pn_entry(author).await {
        authors.push(WaJid::new(&*entry.lid, Server::Lid));
        authors.push(WaJid::new(&*entry.phone_number, Server::Pn));
    }
    for author in authors {
        if let Ok(Some(secret)) = backend.get_msg_secret(&chat, &author.to_string(), id).await {
            return Some(secret);
        }
    }
    None
}

pub(super) async fn mark_read(
    client: &Client,
    chat: &Jid,
    sender: Option<&Jid>,
    ids: &[String],
) -> Result<(), EngineError> {
    let chat = to_wa(chat)?;
    let sender = sender.map(to_wa).transpose()?;
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    client
        .mark_as_read(&chat, sender.as_ref(), &ids)
        .await
        .map_err(|e| from_anyhow(&e))
}

/// Status posts go to the people this device knows (every phone number in its LID ↔ phone
/// map) and this account's own devices: the crate needs an explicit audience and WhatsApp's
/// address book is not available to a companion device.
pub(super) async fn post_status(
    client: &Client,
    post: StatusPost,
) -> Result<SentMessage, EngineError> {
    let body = match &post {
        StatusPost::Text {
            text,
            background,
            font,
        } => outbound::status_text(text, *background, *font),
        StatusPost::Image(media) => outbound::media(media, upload(client, media).await?),
    };
    let audience = status_audience(client).await?;
    let result = client
        .status()
        .send_raw(body, &audience, StatusSendOptions::default())
        .await
        .map_err(|e| engine_error(&e))?;
    Ok(sent(result.message_id))
}

async fn status_audience(client: &Client) -> Result<Vec<WaJid>, EngineError> {
    let own = client
        .pn()
        .ok_or_else(|| EngineError::Unavailable("not logged in to WhatsApp".into()))?;
    let known = client
        .persistence_manager()
        .backend()
        .get_all_lid_mappings()
        .await
        .map_err(|e| engine_error(&e))?;
    let mut audience = vec![own.to_non_ad()];
    audience.extend(
        known
            .iter()
            .map(|entry| WaJid::new(&*entry.phone_number, Server::Pn))
            .filter(|jid| jid.user != own.user),
    );
    audience.dedup();
    Ok(audience)
}

pub(super) async fn download(client: &Client, media: &MediaRef) -> Result<Vec<u8>, EngineError> {
    let params = MediaLocator::decode(&media.locator)?.download_params()?;
    client
        .download_from_params(&params)
        .await
        .map_err(|e| from_anyhow(&e))
}
