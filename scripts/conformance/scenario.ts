/**
 * The walk through a deployment: every operation of the served OpenAPI document with real data of
 * its own (users, a room, a DM, a guild, all named with one unique prefix), and the gateway
 * (authenticate two ways, heartbeat, join/leave, send → ack, typing, read marker, presence, the
 * events these cause, error frames, resume with replay, invalid_session, a close code).
 *
 * Budgets: the walk stays within the server's default rate limits (src/domain/rate-limit-budgets.ts
 * of Parley): 3 registrations (10 per IP per minute), 1 login per account (5 per minute), at most
 * 3 sends per channel per 5 s, ... A deployment with lower limits answers 429, reported as such.
 *
 * Cleanup: the guild, the room and the third user are deleted, the admin-made user too, and every
 * session opened is logged out; the two remaining accounts carry the prefix.
 */
import { randomBytes } from 'node:crypto';
import type { AsyncApiContract } from './asyncapi-contract.ts';
import { openGateway, type Frame, type GatewayConnection } from './gateway-connection.ts';
import { StepFailed, type Report } from './report.ts';
import type { RestClient } from './rest-client.ts';

export interface ScenarioOptions {
  base: string;
  rest: RestClient;
  gateway: AsyncApiContract;
  report: Report;
  admin?: { email: string; password: string } | undefined;
}

interface Account {
  id: string;
  username: string;
  token: string;
  refreshToken: string;
}

const PASSWORD = 'Conf0rmance-check-pw';
/** Operations only an admin may run successfully (skipped with a reason without admin credentials). */
export const ADMIN_OPERATIONS = ['getHealth', 'getMetrics', 'getUserStatistics', 'createUser', 'deleteUser'];
const reportOf = (rest: RestClient) => rest.report;

export async function runScenario(options: ScenarioOptions): Promise<void> {
  const { rest, report } = options;
  const prefix = `cf${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  report.info(`run prefix ${prefix} (users, rooms and guilds of this run carry it)`);
  const state: State = { prefix, accounts: {}, connections: [], seenServerTypes: new Set(), seenClientTypes: new Set() };
  const phase = async (name: string, body: () => Promise<void>) => {
    try {
      await body();
    } catch (error) {
      if (!(error instanceof StepFailed)) report.fail(`phase ${name}`, `stopped: ${(error as Error).stack ?? String(error)}`);
      else report.info(`phase ${name} stopped after a failure; its remaining operations are not exercised`);
    }
  };

  await phase('published documents and probes', () => probes(rest));
  await phase('accounts and sessions', () => accounts(options, state));
  if (state.accounts.a && state.accounts.b && state.accounts.c) {
    await phase('channels, messages and the gateway', () => channelsAndGateway(options, state));
    await phase('guilds', () => guilds(options, state));
  }
  if (options.admin) await phase('administration', () => administration(options, state, options.admin!));
  else {
    for (const operationId of ADMIN_OPERATIONS) {
      report.skip(operationId, 'admin-only: pass --admin-email and --admin-password to exercise it');
    }
  }
  await phase('cleanup', () => cleanup(options, state));
  for (const connection of state.connections) {
    for (const type of connection.seenClientTypes) state.seenClientTypes.add(type);
    await connection.close();
  }

  const serverTypes = [...options.gateway.serverFrames.keys()];
  const unseen = serverTypes.filter((type) => !state.seenServerTypes.has(type));
  report.info(`gateway server frames seen: ${serverTypes.length - unseen.length}/${serverTypes.length}${unseen.length ? ` (not seen: ${unseen.join(', ')})` : ''}`);
  const clientTypes = [...options.gateway.clientFrames.keys()];
  const unsent = clientTypes.filter((type) => !state.seenClientTypes.has(type));
  for (const type of unsent) report.fail(`ws client frame ${type}`, 'not exercised by the conformance run');
}

interface State {
  prefix: string;
  accounts: Partial<Record<'a' | 'b' | 'c', Account>>;
  room?: string;
  guild?: string;
  adminToken?: string;
  connections: GatewayConnection[];
  seenServerTypes: Set<string>;
  seenClientTypes: Set<string>;
}

async function probes(rest: RestClient): Promise<void> {
  await rest.call('getLiveness', { expect: [200] });
  await rest.call('getReadiness', { expect: [200] });
  await rest.call('getOpenApiYaml', { expect: [200] });
  await rest.call('getDocsAsset', { path: { asset: 'docs.css' }, expect: [200] });
  await rest.call('getDocsAsset', { path: { asset: 'no-such-asset.js' }, expect: [404], note: '(unknown asset)' });
  await rest.call('getWebAppAsset', { path: { asset: 'app.css' }, expect: [200] });
  await rest.call('getWebAppAsset', { path: { asset: 'no-such-asset.js' }, expect: [404], note: '(unknown asset)' });
}

function account(body: any): Account {
  return { id: body.user.id, username: body.user.username, token: body.access_token, refreshToken: body.refresh_token };
}

async function accounts({ rest }: ScenarioOptions, state: State): Promise<void> {
  const { prefix } = state;
  await rest.call('getMe', { expect: [401], note: '(no token)' });
  for (const key of ['a', 'b', 'c'] as const) {
    const username = `${prefix}_${key}`;
    const registered = await rest.call('registerUser', {
      body: { username, email: `${username}@example.com`, password: PASSWORD, display_name: `Conformance ${key.toUpperCase()}` },
      expect: [201],
    });
    state.accounts[key] = account(registered.body);
  }
  const a = state.accounts.a!;
  const loggedIn = await rest.call('loginUser', { body: { login: a.username, password: PASSWORD }, expect: [200] });
  const refreshed = await rest.call('refreshToken', { body: { refresh_token: loggedIn.body.refresh_token }, expect: [200] });
  const registeredSessionToken = a.token;
  state.accounts.a = account(refreshed.body);
  const sessions = await rest.call('listSessions', { token: state.accounts.a.token, expect: [200] });
  const other = (sessions.body.items as Array<{ id: string; current: boolean }>).find((session) => !session.current);
  if (!other) reportOf(rest).abort('listSessions', 'the session of the registration is not listed');
  await rest.call('revokeSession', { path: { session_id: other!.id }, token: state.accounts.a.token, expect: [204] });
  await rest.call('getMe', { token: registeredSessionToken, expect: [401], note: '(revoked session)' });
  const token = state.accounts.a.token;
  await rest.call('getMe', { token, expect: [200] });
  await rest.call('updateMe', { token, body: { display_name: 'Conformance A1' }, expect: [200] });
  await rest.call('updateUser', { token, path: { user_id: state.accounts.a.id }, body: { display_name: 'Conformance A' }, expect: [200] });
  await rest.call('getUser', { token, path: { user_id: state.accounts.b!.id }, expect: [200] });
  await rest.call('listUsers', { token, query: { q: prefix, limit: 10 }, expect: [200] });
  await rest.call('updateMe', { token, body: { role: 'admin' }, expect: [400], note: '(a field the caller may not set)' });
  await oauthLogin(rest, token);
}

/**
 * The OAuth operations as far as a run without a provider account can go: whether the deployment
 * configured GitHub decides between the redirect and `provider_not_configured`, both documented.
 */
async function oauthLogin(rest: RestClient, token: string): Promise<void> {
  await rest.call('listOAuthProviders', { expect: [200] });
  await rest.call('listMyIdentities', { token, expect: [200] });
  await rest.call('unlinkMyIdentity', { token, path: { provider: 'github' }, expect: [404], note: '(nothing linked)' });
  await rest.call('startOAuthLogin', { path: { provider: 'github' }, expect: [302, 404] });
  await rest.call('completeOAuthLogin', { path: { provider: 'github' }, expect: [302, 400, 404], note: '(no state cookie)' });
}

async function channelsAndGateway(options: ScenarioOptions, state: State): Promise<void> {
  const { rest, base, gateway } = options;
  const r = reportOf(rest);
  const a = state.accounts.a!;
  const b = state.accounts.b!;
  const c = state.accounts.c!;
  const word = state.prefix;

  const room = await rest.call('createChannel', {
    token: a.token,
    body: { type: 'room', name: `${state.prefix} room`, visibility: 'public' },
    expect: [201],
  });
  const roomId: string = room.body.id;
  state.room = roomId;
  await rest.call('createChannel', { token: a.token, body: { type: 'dm', recipient_id: b.id }, expect: [200, 201], note: '(dm)' });
  await rest.call('listPublicChannels', { token: a.token, query: { q: state.prefix }, expect: [200] });
  await rest.call('getChannel', { token: a.token, path: { channel_id: roomId }, expect: [200] });
  await rest.call('getChannel', { token: a.token, path: { channel_id: '1' }, expect: [404], note: '(unknown id)' });
  await rest.call('createMessage', { token: a.token, path: { channel_id: roomId }, body: { content: '' }, expect: [400], note: '(empty content)' });

  // ── the gateway: A authenticates with ?token=, B with an authorization frame
  const wsBase = `${base.replace(/^http/, 'ws')}${gateway.addresses[0] ?? '/api/v1/ws'}`;
  const open = async (name: string, query: string) => {
    const connection = await openGateway(`${wsBase}${query}`, name, gateway, r, state.seenServerTypes);
    state.connections.push(connection);
    return connection;
  };
  let wsA = await open('a', `?token=${encodeURIComponent(a.token)}`);
  const hello = await wsA.nextOfType('hello');
  await wsA.nextOfType('ready');
  const wsB = await open('b', '');
  await wsB.nextOfType('hello');
  expectReply(r, 'b authorization', await wsB.request({ type: 'authorization', ref: 'auth-b', token: b.token }), 'ready');
  expectReply(r, 'a ping', await wsA.request({ type: 'ping', ref: 'hb-1' }), 'pong');

  expectReply(r, 'b join', await wsB.request({ type: 'join', ref: 'join-1', channel_id: roomId }), 'ack');
  await wsA.nextOfType('member_joined', (frame) => frame.channel_id === roomId);
  await rest.call('listOnlineUsers', { token: a.token, expect: [200] });

  const ack = expectReply(r, 'a send_message', await wsA.request({ type: 'send_message', ref: 'send-1', channel_id: roomId, content: `hello ${word}`, nonce: `${word}-ws-1` }), 'ack');
  const wsMessageId: string = ack.message?.id;
  await wsB.nextOfType('message_created', (frame) => frame.message?.id === wsMessageId);
  expectReply(r, 'a typing', await wsA.request({ type: 'typing', ref: 'typing-1', channel_id: roomId }), 'ack');
  await wsB.nextOfType('typing_started', (frame) => frame.channel_id === roomId);
  expectReply(r, 'b mark_read', await wsB.request({ type: 'mark_read', ref: 'read-1', channel_id: roomId, message_id: wsMessageId }), 'ack');
  expectReply(r, 'a presence_update', await wsA.request({ type: 'presence_update', ref: 'presence-1', status: 'idle' }), 'ack');
  expectReply(r, 'a join (bad id)', await wsA.request({ type: 'join', ref: 'join-bad', channel_id: 'not-an-id' }, { invalid: true }), 'error');
  expectReply(r, 'a join (unknown room)', await wsA.request({ type: 'join', ref: 'join-unknown', channel_id: '1' }), 'error');

  // ── REST while both listen: hybrid delivery, membership, edits, read state
  await rest.call('addChannelMember', { token: a.token, path: { channel_id: roomId, user_id: c.id }, expect: [200] });
  await wsA.nextOfType('member_joined', (frame) => frame.user?.id === c.id);
  await rest.call('listChannelMembers', { token: a.token, path: { channel_id: roomId }, expect: [200] });
  await rest.call('removeChannelMember', { token: a.token, path: { channel_id: roomId, user_id: c.id }, expect: [204] });
  await wsA.nextOfType('member_left', (frame) => frame.channel_id === roomId);
  const sent = await rest.call('createMessage', { token: a.token, path: { channel_id: roomId }, body: { content: `rest ${word}`, nonce: `${word}-rest-1` }, expect: [201] });
  const messageId: string = sent.body.id;
  await rest.call('createMessage', { token: a.token, path: { channel_id: roomId }, body: { content: `rest ${word}`, nonce: `${word}-rest-1` }, expect: [200], note: '(same nonce)' });
  await wsB.nextOfType('message_created', (frame) => frame.message?.id === messageId);
  await rest.call('listMessages', { token: b.token, path: { channel_id: roomId }, query: { limit: 10 }, expect: [200] });
  await rest.call('listMessages', { token: b.token, path: { channel_id: roomId }, query: { around: messageId, limit: 5 }, expect: [200], note: '(around)' });
  await rest.call('getMessage', { token: b.token, path: { channel_id: roomId, message_id: messageId }, expect: [200] });
  await rest.call('updateMessage', { token: a.token, path: { channel_id: roomId, message_id: messageId }, body: { content: `edited ${word}` }, expect: [200] });
  await wsB.nextOfType('message_updated', (frame) => frame.message?.id === messageId);
  await rest.call('markChannelRead', { token: b.token, path: { channel_id: roomId }, body: { message_id: messageId }, expect: [200] });
  await rest.call('triggerTyping', { token: b.token, path: { channel_id: roomId }, expect: [204] });
  await wsA.nextOfType('typing_started', (frame) => frame.user_id === b.id);
  await rest.call('searchMessages', { token: b.token, query: { q: word, channel_id: roomId, limit: 10 }, expect: [200] });
  await rest.call('listMyChannels', { token: b.token, expect: [200] });
  await rest.call('getMyStats', { token: b.token, expect: [200] });
  await rest.call('updateChannel', { token: a.token, path: { channel_id: roomId }, body: { name: `${state.prefix} room renamed` }, expect: [200] });
  await wsB.nextOfType('channel_updated');

  // ── resume: A drops, misses a message, comes back and gets it replayed with its seq
  const seqBeforeDrop = wsA.lastSeq;
  await wsA.drop();
  const missed = await rest.call('createMessage', { token: b.token, path: { channel_id: roomId }, body: { content: `while away ${word}` }, expect: [201], note: '(while a is away)' });
  const resumedSocket = await open('a-resumed', '?resume=1');
  await resumedSocket.nextOfType('hello');
  resumedSocket.lastSeq = seqBeforeDrop;
  const resumed = await resumeWithRetry(resumedSocket, { type: 'resume', ref: 'resume-1', token: a.token, session_id: hello.session_id, seq: seqBeforeDrop });
  expectReply(r, 'a resume', resumed, 'resumed');
  const replayed = resumedSocket.frames.some((frame) => frame.type === 'message_created' && frame.message?.id === missed.body.id);
  if (replayed && typeof resumed.replayed === 'number' && resumed.replayed >= 1) r.pass('ws a-resumed replay', `${resumed.replayed} event(s) replayed from seq ${seqBeforeDrop + 1}, the missed message among them`);
  else r.fail('ws a-resumed replay', `the message sent while away was not replayed before resumed (replayed: ${resumed.replayed})`);
  wsA = resumedSocket;

  const stranger = await open('stranger', '?resume=1');
  await stranger.nextOfType('hello');
  expectReply(r, 'stranger resume (unknown session)', await stranger.request({ type: 'resume', ref: 'resume-x', token: a.token, session_id: 'unknown_session_0000', seq: 1 }), 'invalid_session');
  await stranger.close();

  await rest.call('deleteMessage', { token: a.token, path: { channel_id: roomId, message_id: messageId }, expect: [204] });
  await wsB.nextOfType('message_deleted');
  expectReply(r, 'b leave', await wsB.request({ type: 'leave', ref: 'leave-1', channel_id: roomId }), 'ack');

  // ── a documented close code: an unknown frame type
  const rude = await open('unknown-type', '');
  await rude.nextOfType('hello');
  rude.socket.send(JSON.stringify({ type: 'no_such_frame' }));
  const closed = await rude.closedWithin();
  if (!closed) r.fail('ws unknown-type close', 'an unknown frame type did not close the connection within 5 s');
  else if (!gateway.documentedCloseCodes.has(closed.code)) r.fail('ws unknown-type close', `closed with ${closed.code}, a code the served AsyncAPI document does not mention`);
  else r.pass('ws unknown-type close', `closed with ${closed.code} (documented)`);
}

/** A `resume` may meet `invalid_session {resumable: true}` while the dropped socket closes: retry briefly. */
async function resumeWithRetry(connection: GatewayConnection, frame: Frame & { ref: string }): Promise<Frame> {
  for (let attempt = 0; ; attempt += 1) {
    const reply = await connection.request({ ...frame, ref: `${frame.ref}-${attempt}` });
    if (reply.type === 'invalid_session' && reply.resumable === true && attempt < 20) {
      // Poll again on the gateway itself (a ping round trip) rather than sleeping.
      await connection.request({ type: 'ping', ref: `resume-wait-${attempt}` });
      continue;
    }
    return reply;
  }
}

function expectReply(r: Report, name: string, reply: Frame, type: string): Frame {
  if (reply.type !== type) {
    r.abort(`ws ${name}`, `expected ${type}, got ${reply.type}${reply.code ? ` (${reply.code}: ${reply.message})` : ''}`);
  }
  return reply;
}

async function guilds({ rest }: ScenarioOptions, state: State): Promise<void> {
  const a = state.accounts.a!;
  const b = state.accounts.b!;
  const c = state.accounts.c!;
  const created = await rest.call('createGuild', { token: a.token, body: { name: `${state.prefix} guild` }, expect: [201] });
  const guildId: string = created.body.id;
  state.guild = guildId;
  const guild = { guild_id: guildId };
  await rest.call('listMyGuilds', { token: a.token, expect: [200] });
  await rest.call('getGuild', { token: a.token, path: guild, expect: [200] });
  await rest.call('updateGuild', { token: a.token, path: guild, body: { name: `${state.prefix} guild renamed` }, expect: [200] });
  await rest.call('listGuildChannels', { token: a.token, path: guild, expect: [200] });
  await rest.call('createGuildChannel', { token: a.token, path: guild, body: { name: 'conformance' }, expect: [201] });
  const invite = await rest.call('createGuildInvite', { token: a.token, path: guild, body: { max_uses: 5 }, expect: [201] });
  await rest.call('joinGuildByInvite', { token: b.token, path: { code: invite.body.code }, expect: [200] });
  await rest.call('joinGuildByInvite', { token: c.token, path: { code: invite.body.code }, expect: [200], note: '(second member)' });
  await rest.call('listGuildMembers', { token: a.token, path: guild, expect: [200] });
  const role = await rest.call('createGuildRole', { token: a.token, path: guild, body: { name: 'conformance', permissions: '3' }, expect: [201] });
  const roleId: string = role.body.id;
  await rest.call('listGuildRoles', { token: a.token, path: guild, expect: [200] });
  await rest.call('updateGuildRole', { token: a.token, path: { ...guild, role_id: roleId }, body: { name: 'conformance renamed' }, expect: [200] });
  await rest.call('addGuildMemberRole', { token: a.token, path: { ...guild, user_id: b.id, role_id: roleId }, expect: [204] });
  await rest.call('removeGuildMemberRole', { token: a.token, path: { ...guild, user_id: b.id, role_id: roleId }, expect: [204] });
  await rest.call('deleteGuildRole', { token: a.token, path: { ...guild, role_id: roleId }, expect: [204] });
  await rest.call('removeGuildMember', { token: a.token, path: { ...guild, user_id: b.id }, expect: [204] });
  await rest.call('banGuildMember', { token: a.token, path: { ...guild, user_id: c.id }, body: { reason: 'conformance check' }, expect: [204] });
  await rest.call('listGuildBans', { token: a.token, path: guild, expect: [200] });
  await rest.call('unbanGuildMember', { token: a.token, path: { ...guild, user_id: c.id }, expect: [204] });
  await rest.call('deleteGuild', { token: a.token, path: guild, expect: [204] });
  delete state.guild;
}

async function administration({ rest }: ScenarioOptions, state: State, admin: { email: string; password: string }): Promise<void> {
  const session = await rest.call('loginUser', { body: { login: admin.email, password: admin.password }, expect: [200], note: '(admin)' });
  const token: string = session.body.access_token;
  state.adminToken = token;
  if (session.body.user?.role !== 'admin') rest.report.abort('loginUser (admin)', `the account ${admin.email} is not an admin (role ${session.body.user?.role})`);
  await rest.call('getHealth', { token, expect: [200] });
  await rest.call('getMetrics', { token, expect: [200] });
  await rest.call('getUserStatistics', { token, expect: [200] });
  const username = `${state.prefix}_d`;
  const created = await rest.call('createUser', {
    token,
    body: { username, email: `${username}@example.com`, password: PASSWORD, role: 'trainer' },
    expect: [201],
  });
  const userId: string = created.body.id;
  await rest.call('updateUser', { token, path: { user_id: userId }, body: { role: 'client', active: true }, expect: [200], note: '(admin)' });
  await rest.call('deleteUser', { token, path: { user_id: userId }, expect: [204] });
}

async function cleanup({ rest }: ScenarioOptions, state: State): Promise<void> {
  const a = state.accounts.a;
  const c = state.accounts.c;
  if (a && state.guild) await rest.call('deleteGuild', { token: a.token, path: { guild_id: state.guild }, expect: [204], note: '(cleanup)' });
  if (a && state.room) await rest.call('deleteChannel', { token: a.token, path: { channel_id: state.room }, expect: [204] });
  if (c) await rest.call('deleteMe', { token: c.token, expect: [204] });
  if (state.adminToken) await rest.call('logoutUser', { token: state.adminToken, expect: [204], note: '(admin)' });
  if (state.accounts.b) await rest.call('logoutUser', { token: state.accounts.b.token, expect: [204], note: '(b)' });
  if (a) {
    await rest.call('logoutUser', { token: a.token, expect: [204] });
    await rest.call('getMe', { token: a.token, expect: [401], note: '(after logout)' });
  }
}
