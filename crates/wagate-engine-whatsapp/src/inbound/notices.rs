//! Inbound events other than messages: receipts, presence and typing, group notifications,
//! contact names and LID ↔ phone mappings.

use wagate_domain::Jid;
use wagate_domain::engine::{
    ContactUpdate, GroupChange, GroupInfo, GroupUpdate, PresenceState, PresenceUpdate, Receipt,
    ReceiptKind,
};
use whatsapp_rust::Jid as WaJid;
use whatsapp_rust::types::events::{
    ChatPresenceUpdate, ContactNumberChanged, ContactUpdate as WaContactUpdate,
    GroupUpdate as WaGroupUpdate, PresenceUpdate as WaPresenceUpdate, PushNameUpdate,
    Receipt as WaReceipt,
};
use whatsapp_rust::types::presence::{
    ChatPresence as WaChatPresence, ChatPresenceMedia, ReceiptType,
};
use whatsapp_rust::wacore::stanza::groups::{GroupNotificationAction, GroupParticipantInfo};

use crate::jids::{from_text, from_wa};

/// Who this account is, to tell "we left" from "someone left".
#[derive(Debug, Clone, Default)]
pub(crate) struct Own {
    pub users: Vec<String>,
}

impl Own {
    fn is(&self, jid: &WaJid) -> bool {
        self.users.iter().any(|u| *u == jid.user)
    }
}

/// Delivery, read and played receipts; retries, server errors and other internal receipts
/// are not reported.
pub(crate) fn receipt(receipt: &WaReceipt) -> Option<Receipt> {
    let kind = match receipt.r#type {
        ReceiptType::Delivered => ReceiptKind::Delivered,
        ReceiptType::Read | ReceiptType::ReadSelf => ReceiptKind::Read,
        ReceiptType::Played | ReceiptType::PlayedSelf => ReceiptKind::Played,
        _ => return None,
    };
    Some(Receipt {
        chat: from_wa(&receipt.source.chat)?,
        sender: from_wa(&receipt.source.sender)?,
        ids: receipt.message_ids.clone(),
        kind,
        timestamp: receipt.timestamp.timestamp_millis(),
    })
}

pub(crate) fn presence(update: &WaPresenceUpdate) -> Option<PresenceUpdate> {
    Some(PresenceUpdate {
        from: from_wa(&update.from)?,
        chat: None,
        state: if update.unavailable {
            PresenceState::Unavailable
        } else {
            PresenceState::Available
        },
        recording: false,
        last_seen: update.last_seen.map(|t| t.timestamp_millis()),
    })
}

/// Typing (or recording) in one chat.
pub(crate) fn chat_presence(update: &ChatPresenceUpdate) -> Option<PresenceUpdate> {
    let composing = update.state == WaChatPresence::Composing;
    Some(PresenceUpdate {
        from: from_wa(&update.source.sender)?,
        chat: from_wa(&update.source.chat),
        state: if composing {
            PresenceState::Composing
        } else {
            PresenceState::Paused
        },
        recording: composing && update.media == ChatPresenceMedia::Audio,
        last_seen: None,
    })
}

/// One group notification. `None` for changes the port does not model (ephemeral timers,
/// invite links, community links…). A creation, or this account being added, is `Joined`
/// with only the group's JID: the translator fills in the group's state.
pub(crate) fn group(update: &WaGroupUpdate, own: &Own) -> Option<GroupUpdate> {
    let group = from_wa(&update.group_jid)?;
    let members = |list: &[GroupParticipantInfo]| -> Vec<Jid> {
        list.iter().filter_map(|p| from_wa(&p.jid)).collect()
    };
    let change = match &update.action {
        GroupNotificationAction::Create { .. } => GroupChange::Joined(bare_group(&group)),
        GroupNotificationAction::Add { participants, .. }
            if participants.iter().any(|p| own.is(&p.jid)) =>
        {
            GroupChange::Joined(bare_group(&group))
        }
        GroupNotificationAction::Add { participants, .. } => GroupChange::Added {
            members: members(participants),
        },
        GroupNotificationAction::Remove { participants, .. }
            if participants.iter().any(|p| own.is(&p.jid)) =>
        {
            GroupChange::Left
        }
        GroupNotificationAction::Remove { participants, .. } => GroupChange::Removed {
            members: members(participants),
        },
        GroupNotificationAction::Promote { participants } => GroupChange::Promoted {
            members: members(participants),
        },
        GroupNotificationAction::Demote { participants } => GroupChange::Demoted {
            members: members(participants),
        },
        GroupNotificationAction::Subject { subject, .. } => GroupChange::Subject {
            subject: subject.clone(),
        },
        GroupNotificationAction::Description { description, .. } => GroupChange::Description {
            description: description.clone().filter(|d| !d.is_empty()),
        },
        GroupNotificationAction::Announce => GroupChange::Announce { on: true },
        GroupNotificationAction::NotAnnounce => GroupChange::Announce { on: false },
        GroupNotificationAction::Locked { .. } => GroupChange::Locked { on: true },
        GroupNotificationAction::Unlocked => GroupChange::Locked { on: false },
        GroupNotificationAction::Delete { .. } => GroupChange::Left,
        _ => return None,
    };
    Some(GroupUpdate {
        group,
        actor: update.participant.as_ref().and_then(from_wa),
        timestamp: update.timestamp.timestamp_millis(),
        change,
    })
}

fn bare_group(jid: &Jid) -> GroupInfo {
    GroupInfo {
        jid: jid.clone(),
        subject: None,
        description: None,
        owner: None,
        announce: false,
        locked: false,
        created_at: None,
        participants: Vec::new(),
    }
}

/// A contact saved or renamed on the phone (app-state sync): its name and both addresses.
pub(crate) fn contact(update: &WaContactUpdate) -> Option<ContactUpdate> {
    let action = &update.action;
    let (mut lid, mut phone) = addresses(&update.jid);
    lid = lid.or_else(|| action.lid_jid.as_deref().and_then(from_text));
    phone = phone.or_else(|| action.pn_jid.as_deref().and_then(from_text));
    let name = action
        .full_name
        .clone()
        .or_else(|| action.first_name.clone())
        .filter(|n| !n.is_empty());
    useful(ContactUpdate {
        lid,
        phone,
        name,
        business_name: None,
    })
}

/// Someone's push name changed; the message that told also names their other address.
pub(crate) fn push_name(update: &PushNameUpdate) -> Option<ContactUpdate> {
    let (mut lid, mut phone) = addresses(&update.jid);
    if let Some(alt) = &update.message.source.sender_alt {
        let (alt_lid, alt_phone) = addresses(alt);
        lid = lid.or(alt_lid);
        phone = phone.or(alt_phone);
    }
    useful(ContactUpdate {
        lid,
        phone,
        name: Some(update.new_push_name.clone()).filter(|n| !n.is_empty()),
        business_name: None,
    })
}

/// A contact moved to a new number (with its new LID when WhatsApp gives it).
pub(crate) fn number_changed(update: &ContactNumberChanged) -> Option<ContactUpdate> {
    useful(ContactUpdate {
        lid: update.new_lid.as_ref().and_then(from_wa),
        phone: from_wa(&update.new_jid.to_non_ad()),
        name: None,
        business_name: None,
    })
}

/// A LID ↔ phone pair learned from a message's sender and its alternate address.
pub(crate) fn sender_mapping(sender: &WaJid, alt: Option<&WaJid>) -> Option<ContactUpdate> {
    let (lid, phone) = addresses(sender);
    let (alt_lid, alt_phone) = alt.map(addresses).unwrap_or_default();
    let update = ContactUpdate {
        lid: lid.or(alt_lid),
        phone: phone.or(alt_phone),
        name: None,
        business_name: None,
    };
    (update.lid.is_some() && update.phone.is_some()).then_some(update)
}

/// The (LID, phone) reading of one address, device part dropped.
fn addresses(jid: &WaJid) -> (Option<Jid>, Option<Jid>) {
    let canonical = from_wa(&jid.to_non_ad());
    if jid.is_lid() {
        (canonical, None)
    } else if jid.is_pn() {
        (None, canonical)
    } else {
        (None, None)
    }
}

/// An update that says nothing (no address, or an address alone) is not worth reporting.
fn useful(update: ContactUpdate) -> Option<ContactUpdate> {
    let addressed = update.lid.is_some() || update.phone.is_some();
    let says = update.name.is_some() || (update.lid.is_some() && update.phone.is_some());
    (addressed && says).then_some(update)
}

#[cfg(test)]
#[path = "notices_tests.rs"]
mod tests;
