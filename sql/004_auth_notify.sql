-- Cross-process invalidation of the per-process session cache (src/auth/session-cache.ts).
-- Every change that can end a session or change what `authenticate` returns (revocation, expiry,
-- role, active, deletion) notifies channel `parley_auth` with `s:<session id>` or `u:<user id>`.
-- NOTIFY is delivered after commit, to every listening server process, whoever made the change:
-- another instance, `npm run create-admin`, or plain SQL.

CREATE FUNCTION notify_auth_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_LEVEL = 'STATEMENT' THEN
    -- TRUNCATE: no rows to name, so everything cached goes.
    PERFORM pg_notify('parley_auth', '*');
  ELSIF TG_TABLE_NAME = 'sessions' THEN
    PERFORM pg_notify('parley_auth', 's:' || OLD.id);
  ELSE
    PERFORM pg_notify('parley_auth', 'u:' || OLD.id);
  END IF;
  RETURN NULL;
END
$$;

-- last_used_at and the other columns do not matter to authentication: no notification for them.
CREATE TRIGGER sessions_auth_update
AFTER UPDATE ON sessions
FOR EACH ROW
WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at
   OR OLD.expires_at IS DISTINCT FROM NEW.expires_at
   OR OLD.user_id IS DISTINCT FROM NEW.user_id
   OR OLD.id IS DISTINCT FROM NEW.id)
EXECUTE FUNCTION notify_auth_change();

CREATE TRIGGER sessions_auth_delete
AFTER DELETE ON sessions
FOR EACH ROW EXECUTE FUNCTION notify_auth_change();

CREATE TRIGGER sessions_auth_truncate
AFTER TRUNCATE ON sessions
FOR EACH STATEMENT EXECUTE FUNCTION notify_auth_change();

-- Profile edits and last_seen_at (written by the gateway all the time) do not notify.
CREATE TRIGGER users_auth_update
AFTER UPDATE ON users
FOR EACH ROW
WHEN (OLD.role IS DISTINCT FROM NEW.role
   OR OLD.active IS DISTINCT FROM NEW.active
   OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at
   OR OLD.id IS DISTINCT FROM NEW.id)
EXECUTE FUNCTION notify_auth_change();

CREATE TRIGGER users_auth_delete
AFTER DELETE ON users
FOR EACH ROW EXECUTE FUNCTION notify_auth_change();

CREATE TRIGGER users_auth_truncate
AFTER TRUNCATE ON users
FOR EACH STATEMENT EXECUTE FUNCTION notify_auth_change();
