/**
 * Seeds the history/search databases straight into Parley's embedded PostgreSQL with SQL
 * generate_series, following sql/002: public rooms, the reader's memberships, and messages with
 * time-ordered snowflake ids ((ms − 2025-01-01) << 22 | n, like next_id()), strictly increasing per
 * channel, older than anything the server allocates, and channels.last_message_id /
 * last_allocated_id set to each channel's newest message.
 */
import pg from 'pg';

export const SNOWFLAKE_EPOCH_MS = 1735689600000;
/** Search words: `w0`..`w499`; every message holds three of them (each word is in ~0.6% of messages, in every channel alike). */
export const VOCABULARY = 500;

export interface SeededHistory {
  channelIds: string[];
  /** Per channel: a `before` cursor deep in its history (about 90% of the way back). */
  deepCursors: string[];
  messages: number;
  seconds: number;
  reused: boolean;
}

export async function seedHistory(
  databaseUrl: string,
  options: {
    channels: number;
    messages: number;
    readerId: string;
    authorIds: string[];
    log: (message: string) => void;
    /** Names the seed (its rooms are `bench-<label>-…`), so scenarios keep separate data. Default `history`. */
    label?: string;
    /** The reader joins every n-th room only (the search scenario: 10, so 90% of messages are unreadable). Default 1. */
    readerEvery?: number;
  },
): Promise<SeededHistory> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const started = performance.now();
  try {
    const readerEvery = options.readerEvery ?? 1;
    const prefix = `bench-${options.label ?? 'history'}-${options.channels}x${options.messages}${readerEvery === 1 ? '' : `r${readerEvery}`}-`;
    const existing = await client.query<{ id: string }>(`SELECT id::text FROM channels WHERE name LIKE $1 || '%' ORDER BY id`, [prefix]);
    let reused = existing.rowCount === options.channels;
    if (!reused) {
      if ((existing.rowCount ?? 0) > 0) throw new Error(`a partial history seed (${existing.rowCount} channels) is in the way`);
      await client.query('BEGIN');
      await client.query(
        `INSERT INTO channels (type, name, description, visibility, owner_id)
         SELECT 'room', $1 || lpad(g::text, 5, '0'), 'History benchmark room', 'public', $2
         FROM generate_series(1, $3) g`,
        [prefix, options.readerId, options.channels],
      );
      await client.query(
        `INSERT INTO channel_members (channel_id, user_id)
         SELECT id, $2 FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM channels WHERE name LIKE $1 || '%') c
         WHERE n % $3 = 0 ON CONFLICT DO NOTHING`,
        [prefix, options.readerId, readerEvery],
      );
      await client.query('COMMIT');
      const channelIds = (await client.query<{ id: string }>(`SELECT id::text FROM channels WHERE name LIKE $1 || '%' ORDER BY id`, [prefix])).rows.map(
        (row) => row.id,
      );
      // Message i goes to channel i % C; its time is base + i ms, so ids grow with i (per channel too).
      // Its words also move with i / C: without that term a channel (i % C) would hold only the
      // words its residue allows, and a reader of every tenth room would find no match at all
      // for most words.
      const baseMs = Date.now() - options.messages - 24 * 3600 * 1000;
      const chunk = 100_000;
      for (let from = 0; from < options.messages; from += chunk) {
        const to = Math.min(options.messages, from + chunk);
        await client.query(
          `INSERT INTO messages (id, channel_id, author_id, content, created_at)
           SELECT ((($1::bigint + i) - $2::bigint) << 22) | (i % 4194304),
                  ($3::bigint[])[1 + i % $4],
                  ($5::bigint[])[1 + i % cardinality($5::bigint[])],
                  'message ' || i || ' w' || ((i * 7 + (i / $4) * 11) % $6) || ' w' || ((i * 13 + 5 + (i / $4) * 17) % $6)
                    || ' w' || ((i * 31 + 11 + (i / $4) * 23) % $6)
                    || ' lorem ipsum dolor sit amet',
                  to_timestamp(($1::bigint + i) / 1000.0)
           FROM generate_series($7::bigint, $8::bigint) i`,
          [baseMs, SNOWFLAKE_EPOCH_MS, channelIds, channelIds.length, options.authorIds, VOCABULARY, from, to - 1],
        );
        options.log(`    seeded ${to.toLocaleString('en-US')} / ${options.messages.toLocaleString('en-US')} messages`);
      }
      await client.query(
        `UPDATE channels c SET last_message_id = s.max_id, last_allocated_id = s.max_id
         FROM (SELECT channel_id, max(id) AS max_id FROM messages WHERE channel_id = ANY($1::bigint[]) GROUP BY channel_id) s
         WHERE c.id = s.channel_id`,
        [channelIds],
      );
      await client.query('VACUUM ANALYZE messages');
      await client.query('VACUUM ANALYZE channels');
      await client.query('VACUUM ANALYZE channel_members');
      reused = false;
    }
    const channelIds = (await client.query<{ id: string }>(`SELECT id::text FROM channels WHERE name LIKE $1 || '%' ORDER BY id`, [prefix])).rows.map(
      (row) => row.id,
    );
    const perChannel = Math.floor(options.messages / options.channels);
    const deepOffset = Math.max(1, Math.floor(perChannel * 0.1));
    const deep = await client.query<{ channel_id: string; id: string }>(
      `SELECT d.channel_id::text, d.id::text FROM unnest($1::bigint[]) AS ch(id)
       CROSS JOIN LATERAL (
         SELECT m.channel_id, m.id FROM messages m
         WHERE m.channel_id = ch.id AND m.deleted_at IS NULL
         ORDER BY m.id ASC OFFSET $2 LIMIT 1
       ) d`,
      [channelIds, deepOffset],
    );
    const deepByChannel = new Map(deep.rows.map((row) => [row.channel_id, row.id]));
    return {
      channelIds,
      deepCursors: channelIds.map((id) => deepByChannel.get(id) ?? '1'),
      messages: options.messages,
      seconds: (performance.now() - started) / 1000,
      reused,
    };
  } finally {
    await client.end();
  }
}
