import pg from 'pg';
import type { CommonQueryMethods, QuerySqlToken } from 'slonik';
import t from 'tap';
import { createDatabasePool } from '../../src/db/pool.ts';
import { searchMessages } from '../../src/repositories/messages-repository.ts';
import { build, register } from '../helpers/build.ts';
import { queryDatabase } from '../helpers/accounts.ts';
import { createRoom, insertMessages, send } from '../helpers/chat.ts';

const SEARCH = '/api/v1/messages/search';
/** Matches in a room the searcher cannot read, all newer than every readable one. */
const UNREADABLE_MATCHES = 5000;
const READABLE_MATCHES = 30;

interface PlanNode {
  'Relation Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  Plans?: PlanNode[];
}

/** Rows of `messages` the plan read from the table (returned, or read and thrown away by a filter). */
function messageRowsRead(node: PlanNode): number {
  let rows = 0;
  if (node['Relation Name'] === 'messages') {
    const loops = node['Actual Loops'] ?? 1;
    rows += ((node['Actual Rows'] ?? 0) + (node['Rows Removed by Filter'] ?? 0) + (node['Rows Removed by Index Recheck'] ?? 0)) * loops;
  }
  for (const child of node.Plans ?? []) rows += messageRowsRead(child);
  return rows;
}

/**
 * The search statement searchMessages sends (captured, not run; its other queries run as usual),
 * then run by PostgreSQL under EXPLAIN ANALYZE: how many rows of `messages` it really read. A
 * count of work, not a time.
 */
async function rowsReadBySearch(databaseUrl: string, query: Parameters<typeof searchMessages>[1]): Promise<number> {
  let captured: QuerySqlToken | undefined;
  const pool = await createDatabasePool(databaseUrl, 1);
  try {
    const capture = {
      anyFirst: (token: QuerySqlToken) => pool.anyFirst(token),
      any: async (token: QuerySqlToken) => {
        captured = token;
        return [];
      },
    } as unknown as CommonQueryMethods;
    await searchMessages(capture, query);
  } finally {
    await pool.end();
  }
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const result = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
      // Slonik numbers its placeholders $slonik_N and renames them when it sends the query.
      `EXPLAIN (ANALYZE, FORMAT JSON) ${captured!.sql.replace(/\$slonik_(\d+)/g, '$$$1')}`,
      captured!.values as unknown[],
    );
    return messageRowsRead(result.rows[0]!['QUERY PLAN'][0].Plan);
  } finally {
    await client.end();
  }
}

t.test('search reads only matches in the caller\'s channels, however much newer traffic others have', async (t) => {
  const { api, databaseUrl } = await build(t);
  const [ada, bob] = [await register(api), await register(api)];
  const mine = await createRoom(api, ada, { name: 'mine' });
  const theirs = await createRoom(api, bob, { name: 'theirs', visibility: 'private' });
  await insertMessages(databaseUrl, mine.id, ada.user.id, 'a needle of mine ', READABLE_MATCHES - 1);
  const newestMine = await send(api, ada, mine.id, 'the newest needle of mine');
  // Later traffic in a room ada cannot read: every message a match.
  await insertMessages(databaseUrl, theirs.id, bob.user.id, 'their needle ', UNREADABLE_MATCHES);
  await queryDatabase(databaseUrl, 'ANALYZE messages');

  const page = await api('GET', `${SEARCH}?q=needle&limit=100`, { token: ada.token });
  t.equal(page.status, 200);
  t.equal(page.body.items.length, READABLE_MATCHES, 'every readable match, nothing of theirs');
  t.ok(page.body.items.every((item: { channel_id: string }) => item.channel_id === mine.id));
  t.equal(page.body.has_more, false);
  t.ok(page.body.items.some((item: { id: string }) => item.id === newestMine.id));

  const read = await rowsReadBySearch(databaseUrl, { userId: ada.user.id, guildChannelIds: [], q: 'needle', limit: 100 });
  t.ok(
    read <= READABLE_MATCHES * 2,
    `PostgreSQL read ${read} message rows for ${READABLE_MATCHES} readable matches (${UNREADABLE_MATCHES} unreadable ones exist)`,
  );
  const theirsRead = await rowsReadBySearch(databaseUrl, { userId: bob.user.id, guildChannelIds: [], q: 'needle', limit: 100 });
  t.ok(theirsRead >= 200, `bob, who can read ${UNREADABLE_MATCHES} matches, reads at least the window (${theirsRead} rows)`);
});
