//! Contacts (api.md §7): the people a session knows, from the store, and the live lookups
//! (is a number on WhatsApp, profile picture, "about" text) and blocking through the engine.

use wagate_domain::engine::{OnWhatsApp, ProfilePicture};
use wagate_domain::{Contact, Jid, Session};

use super::service::parse_jid;
use crate::session_manager::engine_error;
use crate::{MessagingService, Page, PageRequest, ServiceError, ServiceResult};

/// `listContacts`' `source` filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactSource {
    /// People with a DM chat in this session.
    Dm,
    /// People seen in a group of this session.
    Group,
}

/// `listContacts`' filters; `None` = not filtered.
#[derive(Debug, Clone, Default)]
pub struct ContactFilter {
    pub source: Option<ContactSource>,
    /// A group JID: only its members (as seen by this session). Wins over `source`.
    pub group: Option<String>,
    /// Case-insensitive substring of the name, business name or number.
    pub q: Option<String>,
}

impl MessagingService {
    /// The session's contacts by identity id (api.md §7.1). `q` matches names **and** numbers
    /// (the contract's prose; the reference matches names only).
    ///
    /// Group memberships are not stored yet (they come with the groups issue), so every stored
    /// contact is a DM contact: a `group` filter or `source=group` matches nobody until then.
    pub async fn list_contacts(
        &self,
        s: &Session,
        filter: ContactFilter,
        page: PageRequest,
    ) -> ServiceResult<Page<Contact>> {
        let after = page
            .cursor
            .as_deref()
            .map(crate::pagination::parse_numeric_cursor)
            .transpose()?;
        let group = filter
            .group
            .as_deref()
            .map(str::trim)
            .filter(|g| !g.is_empty());
        if let Some(group) = group {
            parse_jid(group)?;
        }
        if group.is_some() || filter.source == Some(ContactSource::Group) {
            return Ok(Page::new(Vec::new(), page.limit, |_| String::new()));
        }
        let q = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
        let contacts = self
            .store()
            .list_contacts(&s.id, q, after, page.limit)
            .await?;
        Ok(Page::new(contacts, page.limit, |c| {
            c.identity.id.to_string()
        }))
    }

    /// One contact by LID (a phone JID of the same person also finds it; api.md §7.2).
    pub async fn get_contact(&self, s: &Session, lid: &str) -> ServiceResult<Contact> {
        let jid = parse_jid(lid)?.canonical();
        self.store()
            .get_contact(&s.id, jid.as_str())
            .await?
            .ok_or_else(|| ServiceError::NotFound("identity not found".into()))
    }

    /// Whether `phone` (digits, optionally with `+`) is on WhatsApp (api.md §7.3). When the
    /// network answers nothing, the answer is "not on WhatsApp" for the number as given.
    pub async fn check_contact(
        &self,
        s: &Session,
        phone: Option<&str>,
    ) -> ServiceResult<OnWhatsApp> {
        let phone = phone.map(str::trim).unwrap_or_default();
        if phone.is_empty() {
            return Err(ServiceError::validation("phone is required"));
        }
        let digits = phone.strip_prefix('+').unwrap_or(phone);
        // The same digit rule as a phone JID's user part.
        Jid::from_phone(digits)
            .map_err(|_| ServiceError::validation(format!("invalid phone: {phone}")))?;
        let client = self.live(s).await?;
        let found = client
            .check_phones(&[digits.to_owned()])
            .await
            .map_err(engine_error)?;
        Ok(found.into_iter().next().unwrap_or(OnWhatsApp {
            query: phone.to_owned(),
            jid: None,
            is_on_whatsapp: false,
        }))
    }

    /// A user's, group's or channel's profile picture; empty when hidden or unset (§7.4).
    pub async fn contact_picture(&self, s: &Session, jid: &str) -> ServiceResult<ProfilePicture> {
        let jid = parse_jid(jid)?;
        let client = self.live(s).await?;
        client.profile_picture(&jid).await.map_err(engine_error)
    }

    /// A user's "about" text; empty when hidden or unset (§7.5).
    pub async fn contact_about(&self, s: &Session, jid: &str) -> ServiceResult<String> {
        let jid = parse_jid(jid)?;
        let client = self.live(s).await?;
        let about = client.about(&jid).await.map_err(engine_error)?;
        Ok(about.unwrap_or_default())
    }

    /// Blocks or unblocks a user (§7.6–7.7). Not budgeted: api.md §1.11 budgets sends and
    /// message operations only.
    pub async fn set_blocked(&self, s: &Session, jid: &str, blocked: bool) -> ServiceResult<()> {
        let jid = parse_jid(jid)?;
        let client = self.live(s).await?;
        client
            .set_blocked(&jid, blocked)
            .await
            .map_err(engine_error)
    }
}
