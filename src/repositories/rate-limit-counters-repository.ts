import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';

const windowCountSchema = z.object({ count: z.number(), reset_at: z.string() });

/**
 * Counts one hit on `key` in one statement, atomically under the row's lock: the same fixed
 * window as WindowCounter (src/domain/fixed-window-limiter.ts), starting at the key's first hit
 * and starting over once `now` reaches its end, with the caller's clock.
 */
export async function hitCounter(db: CommonQueryMethods, key: string, windowMs: number, now: number): Promise<{ count: number; resetAt: number }> {
  const row = await db.one(sql.type(windowCountSchema)`
    INSERT INTO rate_limit_counters AS c (key, count, reset_at) VALUES (${key}, 1, ${now + windowMs})
    ON CONFLICT (key) DO UPDATE SET
      count = CASE WHEN c.reset_at <= ${now} THEN 1 ELSE c.count + 1 END,
      reset_at = CASE WHEN c.reset_at <= ${now} THEN ${now + windowMs} ELSE c.reset_at END
    RETURNING c.count, c.reset_at::text`);
  return { count: row.count, resetAt: Number(row.reset_at) };
}

/** Drops counters whose window ended before `before` (garbage only: an ended window starts over anyway). */
export async function deleteEndedCounters(db: CommonQueryMethods, before: number): Promise<void> {
  await db.query(sql.unsafe`DELETE FROM rate_limit_counters WHERE reset_at < ${before}`);
}
