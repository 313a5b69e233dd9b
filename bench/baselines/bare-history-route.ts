/**
 * Baseline for the history page (issue 15): a bare Fastify route doing the same work as Parley's
 * `GET /api/v1/channels/{channel_id}/messages?limit=50` with a bearer token, and nothing else.
 *
 *   node bench/baselines/bare-history-route.ts --port=9001 --database-url=postgres://... --pool=10 --jwt-secret=...
 * Prints one JSON line {"ready":true,"port":...} when listening.
 * GET /channels/:channel_id/messages answers the same `{ items, has_more }` bytes as Parley.
 *
 * The same work, per request, as Parley does it on this path:
 * - HS256 verify of the same access token (fast-jwt, the verifier @fastify/jwt wraps) and the same
 *   required claims (sub, sid, iat, exp);
 * - the session's liveness: Parley keeps it in a per-process cache (src/auth/session-cache.ts,
 *   invalidated by LISTEN/NOTIFY, so no query per request while the cache holds it); here a Map of
 *   the same lookup, filled on a miss by the same prepared query (the invalidation listener costs
 *   nothing per request and is left out);
 * - the channel and the caller's membership in one prepared round trip (Parley's
 *   `channel_with_membership`), the same public/private/DM visibility and membership rule;
 * - the newest page through the same prepared statement (`history_older_51`: messages joined with
 *   users, LIMIT 51 to learn has_more), timestamps turned into RFC 3339 strings by Parley's own function (src/db/timestamptz.ts);
 * - the same JSON shape through a Fastify response schema (fast-json-stringify).
 * No logging, no request id, no security headers, no metrics, no rate limit, no spec validation:
 * those are what the comparison measures.
 */
import Fastify from 'fastify';
import { createVerifier } from 'fast-jwt';
import pg from 'pg';
import { timestamptzToIso } from '../../src/db/timestamptz.ts';
import { serveBaseline } from './serve-fastify.ts';

const arg = (name: string) => process.argv.find((value) => value.startsWith(`--${name}=`))?.slice(name.length + 3);
const port = Number(arg('port') ?? 0);
const secret = arg('jwt-secret');
if (!secret) throw new Error('--jwt-secret is required');

const TIMESTAMPTZ_OID = 1184;
const types = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') =>
    oid === TIMESTAMPTZ_OID ? timestamptzToIso : oid === 20 ? (value: string) => value : pg.types.getTypeParser(oid, format),
};
const pool = new pg.Pool({ connectionString: arg('database-url'), max: Number(arg('pool') ?? 10), types, options: '-c TimeZone=UTC' });

const verify = createVerifier({ key: secret, algorithms: ['HS256'] });

interface Session {
  userId: string;
  expiresAtMs: number;
}
const sessions = new Map<string, Session>();
const SESSION_SQL = `
  SELECT s.id AS session_id, u.id AS user_id, u.role, u.username, u.email, s.expires_at
  FROM sessions s JOIN users u ON u.id = s.user_id
  WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL AND s.expires_at > now()
    AND u.active AND u.deleted_at IS NULL`;
const CHANNEL_SQL = `
  SELECT c.id, c.type, c.name, c.description, c.visibility, c.guild_id, c.owner_id, c.is_default,
    c.last_message_id, c.created_at, c.updated_at, (cm.user_id IS NOT NULL) AS is_member
  FROM channels c
  LEFT JOIN channel_members cm ON cm.channel_id = c.id AND cm.user_id = $2
  WHERE c.id = $1`;
const PAGE_SQL = `
  SELECT m.id, m.channel_id, m.content, m.nonce, m.reply_to_id, m.created_at, m.edited_at, m.deleted_at,
    u.id AS u_id, u.username AS u_username, u.display_name AS u_display_name, u.role AS u_role, u.active AS u_active,
    u.created_at AS u_created_at, u.updated_at AS u_updated_at, u.last_seen_at AS u_last_seen_at
  FROM messages m JOIN users u ON u.id = m.author_id
  WHERE m.channel_id = $1 AND m.deleted_at IS NULL
  ORDER BY m.id DESC
  LIMIT 51`;

/**
 * --one-round-trip: the access facts and the page in one statement, as Parley does it since issue
 * 15 (messages-repository historySliceWithAccess), instead of the two lookups above: the bare
 * route with Parley's query design, for the comparison of everything but the query design.
 */
const oneRoundTrip = process.argv.includes('--one-round-trip');
const ACCESS_PAGE_SQL = `
  SELECT a.type AS ch_type, a.visibility AS ch_visibility, a.guild_id AS ch_guild_id, a.is_member AS ch_is_member, p.*
  FROM (
    SELECT c.type, c.visibility, c.guild_id, (cm.user_id IS NOT NULL) AS is_member
    FROM channels c
    LEFT JOIN channel_members cm ON cm.channel_id = c.id AND cm.user_id = $2
    WHERE c.id = $1
  ) a
  LEFT JOIN LATERAL (${PAGE_SQL.replace('LIMIT 51', 'LIMIT CASE WHEN a.is_member OR a.guild_id IS NOT NULL THEN 51 ELSE 0 END')}
  ) p ON true`;

const problem = (status: number, code: string) => ({ type: `about:blank`, title: code, status, code });

const nullableString = { type: ['string', 'null'] };
const userSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    username: { type: 'string' },
    display_name: { type: 'string' },
    role: { type: 'string' },
    active: { type: 'boolean' },
    created_at: { type: 'string' },
    updated_at: { type: 'string' },
    last_seen_at: nullableString,
  },
};
const pageSchema = {
  type: 'object',
  properties: {
    items: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          channel_id: { type: 'string' },
          author: userSchema,
          content: { type: 'string' },
          nonce: nullableString,
          reply_to_id: nullableString,
          created_at: { type: 'string' },
          edited_at: nullableString,
        },
      },
    },
    has_more: { type: 'boolean' },
  },
};

const app = Fastify({ logger: false });
app.get<{ Params: { channel_id: string } }>(
  '/channels/:channel_id/messages',
  { schema: { response: { 200: pageSchema } } },
  async (request, reply) => {
    const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
    if (!match) return reply.code(401).send(problem(401, 'unauthorized'));
    let claims: { sub?: unknown; sid?: unknown; iat?: unknown; exp?: unknown };
    try {
      claims = verify(match[1]!);
    } catch {
      return reply.code(401).send(problem(401, 'unauthorized'));
    }
    if (typeof claims.sub !== 'string' || typeof claims.sid !== 'string' || typeof claims.iat !== 'number' || typeof claims.exp !== 'number') {
      return reply.code(401).send(problem(401, 'unauthorized'));
    }
    let session = sessions.get(claims.sid);
    if (!session || session.userId !== claims.sub || Date.now() >= session.expiresAtMs) {
      const found = await pool.query({ name: 'live_session_context', text: SESSION_SQL, values: [claims.sid, claims.sub] });
      const row = found.rows[0];
      if (!row) return reply.code(401).send(problem(401, 'unauthorized'));
      session = { userId: row.user_id, expiresAtMs: Date.parse(row.expires_at) };
      sessions.set(claims.sid, session);
    }
    const channelId = request.params.channel_id;
    let channel: Record<string, unknown> | undefined;
    let rows: Record<string, any>[];
    if (oneRoundTrip) {
      const found = (await pool.query({ name: 'history_access_older_51', text: ACCESS_PAGE_SQL, values: [channelId, session.userId] })).rows;
      const first = found[0];
      channel = first && { type: first.ch_type, visibility: first.ch_visibility, guild_id: first.ch_guild_id, is_member: first.ch_is_member };
      rows = first?.id === null ? [] : found;
    } else {
      channel = (await pool.query({ name: 'channel_with_membership', text: CHANNEL_SQL, values: [channelId, session.userId] })).rows[0];
      rows = [];
    }
    // Parley's rule for rooms and DMs: invisible -> 404, visible but not a member -> 403.
    if (!channel || channel.guild_id !== null || ((channel.type === 'dm' || channel.visibility === 'private') && !channel.is_member)) {
      return reply.code(404).send(problem(404, 'not_found'));
    }
    if (!channel.is_member) return reply.code(403).send(problem(403, 'forbidden'));
    if (!oneRoundTrip) rows = (await pool.query({ name: 'history_older_51', text: PAGE_SQL, values: [channelId] })).rows;
    const items = rows.slice(0, 50).map((row) => ({
      id: row.id,
      channel_id: row.channel_id,
      author: {
        id: row.u_id,
        username: row.u_username,
        display_name: row.u_display_name,
        role: row.u_role,
        active: row.u_active,
        created_at: row.u_created_at,
        updated_at: row.u_updated_at,
        last_seen_at: row.u_last_seen_at,
      },
      content: row.content,
      nonce: row.nonce,
      reply_to_id: row.reply_to_id,
      created_at: row.created_at,
      edited_at: row.edited_at,
    }));
    return { items, has_more: rows.length > 50 };
  },
);

await serveBaseline(app, port, pool);
