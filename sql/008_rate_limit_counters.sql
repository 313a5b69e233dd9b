-- Rate-limit counters shared by every process on this database (issue 12): with WORKERS>1 or
-- EVENT_BUS=postgres and no Redis, each budget's fixed window is counted here instead of per
-- process (src/rate-limits/postgres-counter-store.ts). UNLOGGED: counters are worth a WAL flush on
-- every login attempt to no one; after a crash they start empty, as Redis's would.
-- `reset_at`: ms since the epoch, on the caller's clock (tests step an injected one).
CREATE UNLOGGED TABLE rate_limit_counters (
  key      text PRIMARY KEY,
  count    integer NOT NULL,
  reset_at bigint NOT NULL
);
