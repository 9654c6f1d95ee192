-- Stale group echoes (issue 5): when each group field and each membership last changed on
-- WhatsApp (epoch-ms, 0 = never), so an echo of an earlier change that arrives after a later
-- one is skipped. Removed members stay as rows with `removed_at` set, remembering when they
-- were removed; reads and the participant count skip them. A session's joined/left record
-- keeps the time of its last change the same way.
ALTER TABLE groups ADD COLUMN subject_changed_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE groups ADD COLUMN description_changed_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE groups ADD COLUMN announce_changed_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE groups ADD COLUMN locked_changed_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE group_members ADD COLUMN changed_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE group_members ADD COLUMN removed_at INTEGER;
ALTER TABLE group_sessions ADD COLUMN changed_at INTEGER NOT NULL DEFAULT 0;
