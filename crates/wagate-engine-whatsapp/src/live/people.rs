//! Presence and contacts: own availability, typing indicators, presence subscriptions,
//! number checks, profile pictures, "about" texts, blocking.

use wagate_domain::Jid;
use wagate_domain::engine::{ChatPresence, EngineError, OnWhatsApp, OwnPresence, ProfilePicture};
use whatsapp_rust::Client;
use whatsapp_rust::wacore::iq::usync::IsOnWhatsAppResult;

use crate::errors::engine_error;
use crate::jids::{from_wa, to_wa};

pub(super) async fn set_presence(
    client: &Client,
    presence: OwnPresence,
) -> Result<(), EngineError> {
    let presence_api = client.presence();
    match presence {
        OwnPresence::Available => presence_api.set_available().await,
        OwnPresence::Unavailable => presence_api.set_unavailable().await,
    }
    .map_err(|e| engine_error(&e))
}

pub(super) async fn set_chat_presence(
    client: &Client,
    chat: &Jid,
    state: ChatPresence,
) -> Result<(), EngineError> {
    let chat = to_wa(chat)?;
    let chatstate = client.chatstate();
    match state {
        ChatPresence::Composing => chatstate.send_composing(&chat).await,
        ChatPresence::Recording => chatstate.send_recording(&chat).await,
        ChatPresence::Paused => chatstate.send_paused(&chat).await,
    }
    .map_err(|e| engine_error(&e))
}

pub(super) async fn subscribe_presence(client: &Client, jid: &Jid) -> Result<(), EngineError> {
    client
        .presence()
        .subscribe(to_wa(jid)?)
        .await
        .map_err(|e| engine_error(&e))
}

pub(super) async fn check_phones(
    client: &Client,
    phones: &[String],
) -> Result<Vec<OnWhatsApp>, EngineError> {
    let queried = phones
        .iter()
        .map(|phone| {
            Jid::from_phone(phone)
                .map_err(|_| EngineError::Rejected(format!("{phone:?} is not a phone number")))
                .and_then(|jid| to_wa(&jid))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let results = client
        .contacts()
        .is_on_whatsapp(&queried)
        .await
        .map_err(|e| engine_error(&e))?;
    Ok(phones
        .iter()
        .map(|phone| on_whatsapp(phone.trim_start_matches('+'), &results))
        .collect())
}

/// The answer for one queried number: WhatsApp may answer with the LID as the primary JID and
/// the phone JID beside it.
pub(crate) fn on_whatsapp(phone: &str, results: &[IsOnWhatsAppResult]) -> OnWhatsApp {
    let found = results.iter().find(|r| {
        (r.jid.is_pn() && r.jid.user == phone)
            || r.pn_jid.as_ref().is_some_and(|pn| pn.user == phone)
    });
    let phone_jid = found.map(|r| {
        if r.jid.is_pn() {
            r.jid.to_non_ad()
        } else {
            r.pn_jid.clone().unwrap_or_else(|| r.jid.to_non_ad())
        }
    });
    OnWhatsApp {
        query: phone.to_owned(),
        jid: phone_jid
            .as_ref()
            .filter(|_| found.is_some_and(|r| r.is_registered))
            .and_then(from_wa),
        is_on_whatsapp: found.is_some_and(|r| r.is_registered),
    }
}

pub(super) async fn profile_picture(
    client: &Client,
    jid: &Jid,
) -> Result<ProfilePicture, EngineError> {
    let picture = client
        .contacts()
        .get_profile_picture(&to_wa(jid)?, false)
        .await
        .map_err(|e| engine_error(&e))?;
    Ok(
        picture.map_or_else(ProfilePicture::default, |p| ProfilePicture {
            url: Some(p.url).filter(|u| !u.is_empty()),
            id: Some(p.id).filter(|i| !i.is_empty()),
        }),
    )
}

pub(super) async fn about(client: &Client, jid: &Jid) -> Result<Option<String>, EngineError> {
    let wa = to_wa(jid)?;
    let info = client
        .contacts()
        .get_user_info(std::slice::from_ref(&wa))
        .await
        .map_err(|e| engine_error(&e))?;
    let entry = info
        .get(&wa)
        .or_else(|| info.get(&wa.to_non_ad()))
        .or_else(|| info.values().next());
    Ok(entry
        .and_then(|e| e.status.clone())
        .filter(|s| !s.is_empty()))
}

pub(super) async fn set_blocked(
    client: &Client,
    jid: &Jid,
    blocked: bool,
) -> Result<(), EngineError> {
    let wa = to_wa(jid)?;
    let blocking = client.blocking();
    if blocked {
        blocking.block(&wa).await
    } else {
        blocking.unblock(&wa).await
    }
    .map_err(|e| engine_error(&e))
}
