-- OAuth2 login (issue 11): the provider identities linked to accounts, and the pending logins.

-- One row per provider account; a provider account belongs to at most one Parley account, and an
-- account has at most one identity per provider. `email` is what the provider said when linked.
CREATE TABLE oauth_identities (
  provider         text NOT NULL,
  provider_user_id text NOT NULL,
  user_id          bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  email            text,
  linked_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (provider, provider_user_id)
);

CREATE UNIQUE INDEX oauth_identities_user_provider_key ON oauth_identities (user_id, provider);

-- A deleted account keeps its row (anonymised) but loses its sign-in methods: its identities go,
-- so the same provider account can sign up afresh.
CREATE FUNCTION oauth_identities_forget_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM oauth_identities WHERE user_id = NEW.id;
  RETURN NEW;
END $$;

CREATE TRIGGER users_deleted_forget_identities
  AFTER UPDATE OF deleted_at ON users
  FOR EACH ROW WHEN (OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL)
  EXECUTE FUNCTION oauth_identities_forget_deleted();

-- A login between the redirect to the provider and its callback: single use (the callback deletes
-- the row it reads), expiring after 10 minutes. Only the state's SHA-256 is stored; the browser
-- holds the state itself in a signed cookie. Server-side, so every instance can finish a login
-- another one started, and the PKCE verifier never leaves the server.
CREATE TABLE oauth_login_states (
  state_hash    bytea PRIMARY KEY,
  provider      text NOT NULL,
  code_verifier text NOT NULL,
  nonce         text NOT NULL,
  redirect_to   text NOT NULL,
  expires_at    timestamptz NOT NULL
);

CREATE INDEX oauth_login_states_expires_idx ON oauth_login_states (expires_at);
