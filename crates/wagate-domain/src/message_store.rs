//! The storage port for chats, messages, identities, polls and the outbox. Both store backends
//! implement it next to [`crate::Store`]; the conformance tests hold them to the same semantics.

use async_trait::async_trait;

use crate::{
    Chat, ChatPatch, ChatTouch, Contact, IdentityUpdate, MessageId, MessageStatus, NewMessage,
    OrgId, OutboxEntry, OutboxId, OutboxInsert, OutboxOutcome, PollSpec, SessionId, StoreResult,
    StoredMessage,
};

#[async_trait]
pub trait MessageStore: Send + Sync + 'static {
    // Identities
    /// COALESCEs what is known about a person into the LID-keyed identity (creating it). When
    /// it learns a phone JID, chats and messages stored under that phone JID move to the LID
    /// (domain.md §5.1), in the same transaction.
    async fn upsert_identity(&self, update: &IdentityUpdate, now_ms: i64) -> StoreResult<()>;
    /// [`Self::upsert_identity`] for each update in order, in one transaction; updates that would
    /// change nothing (the identity already says all of it, nothing is stored under its phone
    /// JID) are only read.
    async fn upsert_identities(&self, updates: &[IdentityUpdate], now_ms: i64) -> StoreResult<()>;
    /// Fills an empty name of the identity matching `jid` by LID or phone JID; never inserts.
    async fn fill_identity_name(&self, jid: &str, name: &str, now_ms: i64) -> StoreResult<()>;
    /// The canonical form of a DM JID: the LID of the single identity with this phone JID, else
    /// `jid` unchanged.
    async fn canonical_dm_jid(&self, jid: &str) -> StoreResult<String>;

    // Messages
    /// Stores a message and touches its chat in one transaction. Returns `false` (and changes
    /// nothing but the content columns) when `(session, wa_message_id)` was already stored.
    async fn record_message(&self, chat: &ChatTouch, message: &NewMessage) -> StoreResult<bool>;
    /// [`Self::record_message`] for a run of messages, in one transaction, with the same final
    /// state as recording them one after the other. Says, in order, which were new: a message
    /// already stored, or earlier in the run, is not.
    async fn record_messages(&self, batch: &[(ChatTouch, NewMessage)]) -> StoreResult<Vec<bool>>;
    async fn get_message(
        &self,
        session: &SessionId,
        wa_message_id: &str,
    ) -> StoreResult<Option<StoredMessage>>;
    /// Moves each message's status forward to `status` (never backwards, never off `failed`);
    /// returns the WhatsApp ids that changed.
    async fn advance_status(
        &self,
        session: &SessionId,
        wa_message_ids: &[String],
        status: MessageStatus,
    ) -> StoreResult<Vec<String>>;
    /// An edit: replaces the body and sets `edited`. Returns whether the message is known.
    async fn mark_edited(&self, session: &SessionId, wa_id: &str, body: &str) -> StoreResult<bool>;
    /// A revoke: sets `deleted`, keeps the body. Returns whether the message is known.
    async fn mark_deleted(&self, session: &SessionId, wa_id: &str) -> StoreResult<bool>;
    /// Messages stored under any of `chat_jids`, newest row first, older than `before`.
    async fn list_chat_messages(
        &self,
        session: &SessionId,
        chat_jids: &[String],
        before: Option<&MessageId>,
        limit: u32,
    ) -> StoreResult<Vec<StoredMessage>>;

    // Chats
    /// The inbox: chats with a message, newest activity first, after the `(last_message_at,
    /// id)` cursor.
    async fn list_chats(
        &self,
        session: &SessionId,
        after: Option<(i64, i64)>,
        limit: u32,
    ) -> StoreResult<Vec<Chat>>;
    /// By JID; for DMs the phone JID or the LID of the same person (exact match preferred).
    async fn get_chat(&self, session: &SessionId, jid: &str) -> StoreResult<Option<Chat>>;
    /// Applies the flags; `read` also zeroes the unread count.
    async fn update_chat(
        &self,
        session: &SessionId,
        chat_id: i64,
        patch: &ChatPatch,
        read: bool,
    ) -> StoreResult<()>;
    /// Deletes the chat and its messages. Returns whether the chat existed.
    async fn delete_chat(&self, session: &SessionId, chat_id: i64) -> StoreResult<bool>;

    // Contacts
    /// The session's contacts by identity id, after `after`; `q` matches names and numbers.
    async fn list_contacts(
        &self,
        session: &SessionId,
        q: Option<&str>,
        after: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<Contact>>;
    /// A contact by LID or phone JID, if the session knows the person.
    async fn get_contact(&self, session: &SessionId, jid: &str) -> StoreResult<Option<Contact>>;

    // Polls
    async fn upsert_poll(
        &self,
        session: &SessionId,
        poll_message_id: &str,
        chat_jid: &str,
        spec: &PollSpec,
        now_ms: i64,
    ) -> StoreResult<()>;
    async fn get_poll(
        &self,
        session: &SessionId,
        poll_message_id: &str,
    ) -> StoreResult<Option<PollSpec>>;

    // Outbox
    /// Records an entry. An idempotency key already used in the organization within
    /// `key_ttl_ms` answers the existing entry instead; an older use frees the key first.
    async fn insert_outbox(
        &self,
        entry: &OutboxEntry,
        key_ttl_ms: i64,
    ) -> StoreResult<OutboxInsert>;
    async fn get_outbox(&self, org: &OrgId, id: &OutboxId) -> StoreResult<Option<OutboxEntry>>;
    /// Records the outcomes of dispatches, all in one transaction.
    async fn finish_outbox(&self, outcomes: &[OutboxOutcome]) -> StoreResult<()>;
    /// Claims the session's oldest queued entries (and those whose `sending` claim is older
    /// than `lease_ms`), at most `limit`, in order, unless some are being sent: one batch at a
    /// time per session.
    async fn claim_outbox(
        &self,
        session: &SessionId,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> StoreResult<Vec<OutboxEntry>>;
    /// Sessions with queued entries (worker wake-up after a restart).
    async fn sessions_with_queued_outbox(&self) -> StoreResult<Vec<SessionId>>;
}
