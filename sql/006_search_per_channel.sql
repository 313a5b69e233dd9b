-- Search finds its candidates per readable channel (issue 9, item 11).
--
-- The GIN index on `search` alone answered "which messages hold this word" over every channel:
-- PostgreSQL then read each of those rows (or walked the primary key newest-first) only to throw
-- away the ones in channels the caller cannot read, so a search's cost grew with traffic the
-- caller never sees. With channel_id in the same GIN index (btree_gin gives GIN the btree
-- operators for bigint), `channel_id = ANY(readable) AND search @@ query` is answered inside the
-- index: only readable matches reach the heap.
--
-- GIN stores each column's keys separately, so this index also serves searches with no channel
-- condition: it replaces the old one (one GIN index to maintain per insert, not two).
--
-- Plain CREATE INDEX (migrations run in a transaction; CONCURRENTLY cannot): it blocks writes to
-- messages while it builds, for a time that grows with the table.
CREATE EXTENSION IF NOT EXISTS btree_gin;

CREATE INDEX messages_channel_search_idx ON messages USING gin (channel_id, search) WHERE deleted_at IS NULL;

DROP INDEX messages_search_idx;
