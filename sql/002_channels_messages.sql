-- Channels (rooms, direct messages, guild text channels), memberships with read markers, and
-- messages with full-text search and the idempotent-send (nonce) window.

CREATE TABLE channels (
  id                bigint PRIMARY KEY DEFAULT next_id(),
  type              text NOT NULL CHECK (type IN ('room', 'dm', 'guild_text')),
  name              text,
  description       text,
  -- Rooms only.
  visibility        text CHECK (visibility IN ('public', 'private')),
  -- Guild text channels only. No foreign key here: the guild migration adds it.
  guild_id          bigint,
  owner_id          bigint REFERENCES users (id) ON DELETE SET NULL,
  -- DMs only: '<smaller user id>:<larger user id>'. The unique index makes a second DM per pair
  -- impossible, also when both users open it at the same moment (INSERT ... ON CONFLICT DO NOTHING).
  dm_key            text UNIQUE,
  -- The default room every account joins (`general`): it cannot be deleted.
  is_default        boolean NOT NULL DEFAULT false,
  -- The newest message that is not deleted (the API's `last_message_id`, and the activity order).
  last_message_id   bigint,
  -- High-water mark of allocated message ids. A send allocates under this row's lock:
  -- GREATEST(next_id(), last_allocated_id + 1), so within a channel id order == commit order.
  last_allocated_id bigint,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  CHECK ((type = 'room') = (visibility IS NOT NULL)),
  CHECK ((type = 'dm') = (dm_key IS NOT NULL)),
  CHECK ((type = 'guild_text') = (guild_id IS NOT NULL)),
  CHECK (type = 'dm' OR name IS NOT NULL),
  CHECK (NOT is_default OR type = 'room')
);

CREATE INDEX channels_public_rooms_idx ON channels (id) WHERE type = 'room' AND visibility = 'public';
-- (The guild migration adds the guild_id foreign key and its index.)

-- Membership of rooms and DMs. For guild text channels (whose visibility comes from guild roles)
-- a row only holds the user's read marker; it never grants access.
CREATE TABLE channel_members (
  channel_id           bigint NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
  user_id              bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  joined_at            timestamptz NOT NULL DEFAULT now(),
  -- Time-ordered snowflake: "ordered by join time" and the members page cursor.
  join_id              bigint NOT NULL DEFAULT next_id(),
  -- Read marker: only ever moved forwards (GREATEST).
  last_read_message_id bigint,
  PRIMARY KEY (channel_id, user_id)
);

CREATE INDEX channel_members_user_idx ON channel_members (user_id);
CREATE UNIQUE INDEX channel_members_join_idx ON channel_members (channel_id, join_id);

CREATE TABLE messages (
  id          bigint PRIMARY KEY,
  channel_id  bigint NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
  author_id   bigint NOT NULL REFERENCES users (id),
  content     text NOT NULL CHECK (length(content) BETWEEN 1 AND 4000),
  nonce       text CHECK (length(nonce) BETWEEN 1 AND 64),
  reply_to_id bigint,
  created_at  timestamptz NOT NULL DEFAULT now(),
  edited_at   timestamptz,
  deleted_at  timestamptz,
  search      tsvector GENERATED ALWAYS AS (to_tsvector('simple', content)) STORED
);

-- History (keyset on id), last message, unread counts.
CREATE INDEX messages_channel_history_idx ON messages (channel_id, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX messages_author_idx ON messages (author_id) WHERE deleted_at IS NULL;
CREATE INDEX messages_search_idx ON messages USING gin (search) WHERE deleted_at IS NULL;

-- Idempotent send: (channel, author, nonce) -> the message, for 24 hours. After that the same nonce
-- creates a new message and the row is overwritten.
CREATE TABLE message_nonces (
  channel_id bigint NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
  author_id  bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  nonce      text NOT NULL,
  message_id bigint NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (channel_id, author_id, nonce)
);

CREATE INDEX message_nonces_created_idx ON message_nonces (created_at);

-- The default public room, from the first start.
INSERT INTO channels (type, name, description, visibility, is_default)
VALUES ('room', 'general', 'Everyone is here.', 'public', true);

-- Every account joins `general`: registration, admin creation and OAuth sign-up alike.
CREATE FUNCTION join_default_channels() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO channel_members (channel_id, user_id)
  SELECT id, NEW.id FROM channels WHERE is_default
  ON CONFLICT DO NOTHING;
  RETURN NEW;
END
$$;

CREATE TRIGGER users_join_default_channels
AFTER INSERT ON users
FOR EACH ROW EXECUTE FUNCTION join_default_channels();

-- Accounts that existed before this migration join too.
INSERT INTO channel_members (channel_id, user_id)
SELECT c.id, u.id FROM channels c CROSS JOIN users u
WHERE c.is_default AND u.deleted_at IS NULL;
