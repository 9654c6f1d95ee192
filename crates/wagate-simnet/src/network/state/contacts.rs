//! Contacts: who is on WhatsApp, profile pictures, "about" texts and blocking.

use wagate_domain::Jid;
use wagate_domain::engine::{OnWhatsApp, ProfilePicture};

use super::State;
use super::accounts::{Acting, phone_jid};
use crate::codes;
use crate::network::views::PhoneView;
use crate::{LOG_LABEL, SimError};

impl State {
    /// Which numbers have a phone on the network (`+`, spaces and dashes are forgiven).
    pub(crate) fn check_phones(&self, queries: &[String]) -> Vec<OnWhatsApp> {
        queries
            .iter()
            .map(|query| {
                let digits: String = query
                    .chars()
                    .filter(|c| !matches!(c, '+' | ' ' | '-'))
                    .collect();
                let known = codes::validate_phone(&digits).is_ok() && self.has_phone(&digits);
                OnWhatsApp {
                    query: query.clone(),
                    jid: known.then(|| phone_jid(&digits)),
                    is_on_whatsapp: known,
                }
            })
            .collect()
    }

    pub(crate) fn profile_picture(&self, jid: &Jid) -> Result<ProfilePicture, SimError> {
        if jid.kind() != wagate_domain::ChatKind::Dm {
            // Groups and channels exist or not; simnet gives them no picture.
            return Ok(ProfilePicture::default());
        }
        let phone = self.resolve_user(jid)?;
        let id = self.phones.get(&phone).and_then(|p| p.picture.clone());
        Ok(ProfilePicture {
            url: id.as_deref().map(|id| codes::picture_url(&phone, id)),
            id,
        })
    }

    pub(crate) fn about(&self, jid: &Jid) -> Result<Option<String>, SimError> {
        let phone = self.resolve_user(jid)?;
        Ok(self.phones.get(&phone).and_then(|p| p.about.clone()))
    }

    pub(crate) fn set_blocked(
        &mut self,
        acting: &Acting,
        jid: &Jid,
        blocked: bool,
    ) -> Result<(), SimError> {
        let other = self.resolve_user(jid)?;
        if let Some(me) = self.phones.get_mut(&acting.phone) {
            if blocked {
                me.blocked.insert(other.clone());
            } else {
                me.blocked.remove(&other);
            }
        }
        tracing::info!(
            phone = acting.phone,
            other,
            blocked,
            "{LOG_LABEL}: block list changed"
        );
        Ok(())
    }

    /// Changes a phone's profile (the control API); its contacts' devices learn a new name.
    pub(crate) fn update_phone(
        &mut self,
        phone: &str,
        name: Option<String>,
        about: Option<Option<String>>,
        picture: Option<bool>,
    ) -> Result<(), SimError> {
        self.require_phone(phone)?;
        let Some(p) = self.phones.get_mut(phone) else {
            return Ok(());
        };
        let renamed = name.is_some();
        if let Some(name) = name {
            p.name = name;
        }
        if let Some(about) = about {
            p.about = about;
        }
        match picture {
            Some(true) => p.picture = Some(codes::picture_id()),
            Some(false) => p.picture = None,
            None => {}
        }
        let contacts: Vec<String> = p.contacts.iter().cloned().collect();
        if let Some(update) = self.contact_update(phone).filter(|_| renamed) {
            let event = wagate_domain::EngineEvent::Contact(update);
            for c in contacts.iter().map(String::as_str).chain([phone]) {
                self.notify_account(c, &event, None);
            }
        }
        Ok(())
    }

    pub(crate) fn phone_view(&self, phone: &str) -> Result<PhoneView, SimError> {
        let p = self
            .phones
            .get(phone)
            .ok_or_else(|| SimError::NotFound(format!("no simulated phone {phone}")))?;
        Ok(PhoneView {
            phone: phone.to_owned(),
            jid: codes::account_jid(phone),
            lid: p.lid.clone(),
            name: p.name.clone(),
            about: p.about.clone(),
            picture: p.picture.clone(),
            available: p.presence.available,
            blocked: p.blocked.iter().map(|b| codes::account_jid(b)).collect(),
            contacts: p.contacts.iter().map(|c| codes::account_jid(c)).collect(),
            presences: p.seen_presence.clone(),
        })
    }
}
