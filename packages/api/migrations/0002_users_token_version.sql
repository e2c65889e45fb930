-- Expand only: a token version per user. Every token carries the version it was signed with; a password
-- change increments it, so the tokens signed before it stop being accepted. The previous release neither
-- reads nor writes the column (its INSERTs get the default), so it keeps running on this schema.
ALTER TABLE users ADD COLUMN token_version INT UNSIGNED NOT NULL DEFAULT 0;
