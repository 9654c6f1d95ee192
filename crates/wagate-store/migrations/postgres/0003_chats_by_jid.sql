-- Chats by JID alone: the DM alias merge (domain.md §5.1) looks up a phone JID's chats in every
-- session each time an inbound message names its author's LID and phone JID.
CREATE INDEX chats_chat_jid ON chats (chat_jid);
