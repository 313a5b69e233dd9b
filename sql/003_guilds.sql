-- Guilds: members, roles with permission bitsets (see src/domain/permissions.ts), bans, invites
-- and per-channel permission overwrites. A guild's text channels are rows of `channels`
-- (type 'guild_text', guild_id set), created in 002.
CREATE TABLE guilds (
  id          bigint PRIMARY KEY DEFAULT next_id(),
  name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
  description text CHECK (char_length(description) <= 1024),
  owner_id    bigint NOT NULL REFERENCES users (id),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX guilds_owner_idx ON guilds (owner_id);

-- A guild deleted removes its text channels (and, through 002's cascades, their messages).
ALTER TABLE channels
  ADD CONSTRAINT channels_guild_id_fkey FOREIGN KEY (guild_id) REFERENCES guilds (id) ON DELETE CASCADE;
CREATE INDEX channels_guild_idx ON channels (guild_id, id) WHERE guild_id IS NOT NULL;

-- join_id is a time-ordered snowflake: "ordered by join time" and the members page cursor.
CREATE TABLE guild_members (
  guild_id  bigint NOT NULL REFERENCES guilds (id) ON DELETE CASCADE,
  user_id   bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  join_id   bigint NOT NULL DEFAULT next_id(),
  joined_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (guild_id, user_id)
);

CREATE INDEX guild_members_user_idx ON guild_members (user_id, guild_id);
CREATE UNIQUE INDEX guild_members_join_idx ON guild_members (guild_id, join_id);

-- Every guild has exactly one default role (`@everyone`, position 0); other roles rank 1 or more.
CREATE TABLE guild_roles (
  id          bigint PRIMARY KEY DEFAULT next_id(),
  guild_id    bigint NOT NULL REFERENCES guilds (id) ON DELETE CASCADE,
  name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
  permissions bigint NOT NULL DEFAULT 0 CHECK (permissions BETWEEN 0 AND 511),
  position    integer NOT NULL CHECK (position BETWEEN 0 AND 1000),
  is_default  boolean NOT NULL DEFAULT false,
  created_at  timestamptz NOT NULL DEFAULT now(),
  CHECK (is_default = (position = 0)),
  UNIQUE (id, guild_id)
);

CREATE UNIQUE INDEX guild_roles_name_key ON guild_roles (guild_id, lower(name));
CREATE UNIQUE INDEX guild_roles_default_key ON guild_roles (guild_id) WHERE is_default;

-- The default role is implicit and never stored here; the composite keys keep a member's roles
-- in the member's own guild and drop them with the membership.
CREATE TABLE guild_member_roles (
  guild_id bigint NOT NULL,
  user_id  bigint NOT NULL,
  role_id  bigint NOT NULL,
  PRIMARY KEY (guild_id, user_id, role_id),
  FOREIGN KEY (guild_id, user_id) REFERENCES guild_members (guild_id, user_id) ON DELETE CASCADE,
  FOREIGN KEY (role_id, guild_id) REFERENCES guild_roles (id, guild_id) ON DELETE CASCADE
);

CREATE INDEX guild_member_roles_role_idx ON guild_member_roles (role_id);

-- ban_id orders the bans list (ban time) and is its page cursor.
CREATE TABLE guild_bans (
  guild_id   bigint NOT NULL REFERENCES guilds (id) ON DELETE CASCADE,
  user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  ban_id     bigint NOT NULL DEFAULT next_id(),
  reason     text CHECK (char_length(reason) <= 512),
  banned_by  bigint REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (guild_id, user_id)
);

CREATE UNIQUE INDEX guild_bans_order_idx ON guild_bans (guild_id, ban_id);

-- Uses are counted atomically in the join transaction (uses < max_uses in the UPDATE's WHERE).
CREATE TABLE guild_invites (
  code       text PRIMARY KEY CHECK (code ~ '^[A-Za-z0-9]{6,32}$'),
  guild_id   bigint NOT NULL REFERENCES guilds (id) ON DELETE CASCADE,
  inviter_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  max_uses   integer CHECK (max_uses BETWEEN 1 AND 1000),
  uses       integer NOT NULL DEFAULT 0 CHECK (uses >= 0 AND (max_uses IS NULL OR uses <= max_uses)),
  expires_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX guild_invites_guild_idx ON guild_invites (guild_id);

-- One overwrite per (channel, role); only VIEW_CHANNEL | SEND_MESSAGES | MANAGE_MESSAGES (7).
-- guild_id ties the role to the channel's guild.
CREATE TABLE channel_permission_overwrites (
  channel_id bigint NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
  guild_id   bigint NOT NULL,
  role_id    bigint NOT NULL,
  allow      bigint NOT NULL DEFAULT 0 CHECK (allow BETWEEN 0 AND 7),
  deny       bigint NOT NULL DEFAULT 0 CHECK (deny BETWEEN 0 AND 7),
  PRIMARY KEY (channel_id, role_id),
  FOREIGN KEY (role_id, guild_id) REFERENCES guild_roles (id, guild_id) ON DELETE CASCADE
);

CREATE INDEX channel_permission_overwrites_role_idx ON channel_permission_overwrites (role_id);
