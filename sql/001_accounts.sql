-- Identifiers: 64-bit time-ordered "snowflakes" (milliseconds since 2025-01-01 in the high bits,
-- a sequence in the low 22 bits). Exposed as decimal strings by the API.
CREATE SEQUENCE id_sequence;

CREATE FUNCTION next_id() RETURNS bigint
LANGUAGE sql VOLATILE AS $$
  SELECT ((floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint - 1735689600000) << 22)
         | (nextval('id_sequence') % 4194304)
$$;

CREATE TABLE users (
  id            bigint PRIMARY KEY DEFAULT next_id(),
  username      text NOT NULL,
  email         text NOT NULL,
  display_name  text NOT NULL,
  phone_number  text,
  password_hash text,
  role          text NOT NULL DEFAULT 'client' CHECK (role IN ('client', 'trainer', 'admin')),
  active        boolean NOT NULL DEFAULT true,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  last_seen_at  timestamptz,
  -- Deleted accounts keep their row (messages keep an author) but are anonymised and hidden.
  deleted_at    timestamptz
);

CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE INDEX users_role_idx ON users (role, id) WHERE deleted_at IS NULL;

-- A session is one login: one refresh-token family and the `sid` claim of its access tokens.
CREATE TABLE sessions (
  id             bigint PRIMARY KEY DEFAULT next_id(),
  user_id        bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at     timestamptz NOT NULL DEFAULT now(),
  last_used_at   timestamptz NOT NULL DEFAULT now(),
  expires_at     timestamptz NOT NULL,
  revoked_at     timestamptz,
  revoked_reason text,
  user_agent     text,
  ip             text
);

CREATE INDEX sessions_user_active_idx ON sessions (user_id) WHERE revoked_at IS NULL;

-- Refresh tokens are opaque random strings; only their SHA-256 is stored.
CREATE TABLE refresh_tokens (
  token_hash bytea PRIMARY KEY,
  session_id bigint NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  used_at    timestamptz
);

CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);
