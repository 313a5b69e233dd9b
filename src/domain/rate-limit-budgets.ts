/**
 * The one table of rate-limit budgets: what each write may spend, per what, and which REST
 * operations and gateway frames spend it. An operation and a frame that name the same budget
 * share it (a message sent over REST and one sent over the gateway use one count).
 *
 * Pure: the counting is src/domain/fixed-window-limiter.ts, the shared counters are the
 * CounterStore of src/rate-limits/, the HTTP and gateway edges only look budgets up here.
 */
import type { ClientFrameType } from '../../generated/asyncapi-types.ts';
import type { operations } from '../../generated/openapi-types.ts';

/** What a budget is counted per. `account` is the login's account (or the login name when unknown). */
export type KeyPart = 'user' | 'ip' | 'channel' | 'account';

export interface Budget {
  limit: number;
  windowMs: number;
  /** Counted per the combination of these, in this order. */
  key: readonly KeyPart[];
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;

/**
 * Defaults a chat product would use (Discord: about 5 messages per 5 s per channel per user).
 * `register`, `login` and `login_account` take their numbers from the older RATE_LIMIT_* variables.
 */
export const defaultBudgets = {
  register: { limit: 10, windowMs: MINUTE, key: ['ip'] },
  login: { limit: 20, windowMs: MINUTE, key: ['ip'] },
  login_account: { limit: 5, windowMs: MINUTE, key: ['account'] },
  token_refresh: { limit: 60, windowMs: MINUTE, key: ['ip'] },
  sessions: { limit: 30, windowMs: MINUTE, key: ['user'] },
  profile: { limit: 10, windowMs: MINUTE, key: ['user'] },
  user_admin: { limit: 60, windowMs: MINUTE, key: ['user'] },
  message_send: { limit: 5, windowMs: 5 * SECOND, key: ['user', 'channel'] },
  message_send_total: { limit: 30, windowMs: 10 * SECOND, key: ['user'] },
  message_edit: { limit: 10, windowMs: 10 * SECOND, key: ['user'] },
  message_delete: { limit: 30, windowMs: 10 * SECOND, key: ['user'] },
  typing: { limit: 10, windowMs: 10 * SECOND, key: ['user'] },
  read_state: { limit: 30, windowMs: 10 * SECOND, key: ['user'] },
  presence: { limit: 20, windowMs: MINUTE, key: ['user'] },
  search: { limit: 30, windowMs: MINUTE, key: ['user'] },
  channel_create: { limit: 10, windowMs: MINUTE, key: ['user'] },
  guild_create: { limit: 5, windowMs: MINUTE, key: ['user'] },
  invite_create: { limit: 10, windowMs: MINUTE, key: ['user'] },
  invite_use: { limit: 30, windowMs: MINUTE, key: ['ip'] },
  membership: { limit: 30, windowMs: MINUTE, key: ['user'] },
  settings: { limit: 30, windowMs: MINUTE, key: ['user'] },
  // Each OAuth login is two requests (the start and the provider's redirect back).
  oauth: { limit: 40, windowMs: MINUTE, key: ['ip'] },
} as const satisfies Record<string, Budget>;

export type BudgetName = keyof typeof defaultBudgets;
export type Budgets = Record<BudgetName, Budget>;
export const budgetNames = Object.keys(defaultBudgets) as BudgetName[];

/**
 * Every POST/PUT/PATCH/DELETE of openapi.yaml, and search. A test checks this against the
 * contract: each operation here documents 429 and the X-RateLimit-* headers, no other does.
 */
export const operationBudgets: Readonly<Partial<Record<keyof operations, readonly BudgetName[]>>> = {
  registerUser: ['register'],
  loginUser: ['login', 'login_account'],
  refreshToken: ['token_refresh'],
  logoutUser: ['sessions'],
  revokeSession: ['sessions'],
  updateMe: ['profile'],
  deleteMe: ['profile'],
  createUser: ['user_admin'],
  updateUser: ['user_admin'],
  deleteUser: ['user_admin'],
  createChannel: ['channel_create'],
  updateChannel: ['settings'],
  deleteChannel: ['settings'],
  addChannelMember: ['membership'],
  removeChannelMember: ['membership'],
  triggerTyping: ['typing'],
  markChannelRead: ['read_state'],
  createMessage: ['message_send', 'message_send_total'],
  updateMessage: ['message_edit'],
  deleteMessage: ['message_delete'],
  searchMessages: ['search'],
  createGuild: ['guild_create'],
  updateGuild: ['settings'],
  deleteGuild: ['settings'],
  createGuildChannel: ['channel_create'],
  removeGuildMember: ['membership'],
  banGuildMember: ['membership'],
  unbanGuildMember: ['membership'],
  createGuildInvite: ['invite_create'],
  createGuildRole: ['settings'],
  updateGuildRole: ['settings'],
  deleteGuildRole: ['settings'],
  addGuildMemberRole: ['membership'],
  removeGuildMemberRole: ['membership'],
  joinGuildByInvite: ['membership', 'invite_use'],
  startOAuthLogin: ['oauth'],
  completeOAuthLogin: ['oauth'],
  unlinkMyIdentity: ['profile'],
};

/** Gateway frames that spend a budget; a refused frame gets an `error` frame, the socket stays open. */
export const frameBudgets: Readonly<Partial<Record<ClientFrameType, readonly BudgetName[]>>> = {
  send_message: ['message_send', 'message_send_total'],
  typing: ['typing'],
  join: ['membership'],
  leave: ['membership'],
  mark_read: ['read_state'],
  presence_update: ['presence'],
};

/** Counter keys are namespaced (one shared store may serve several deployments and versions). */
export const RATE_LIMIT_KEY_PREFIX = 'parley:rl:v1';
const partTag: Record<KeyPart, string> = { user: 'u', ip: 'ip', channel: 'c', account: 'a' };

/** `parley:rl:v1:message_send:u=42:c=7`. Only the last part may contain ':' (an IPv6 address, a login). */
export function rateLimitKey(name: BudgetName, budget: Budget, parts: Partial<Record<KeyPart, string>>): string {
  let key = `${RATE_LIMIT_KEY_PREFIX}:${name}`;
  for (const part of budget.key) key += `:${partTag[part]}=${parts[part] ?? '-'}`;
  return key;
}

/** The budgets an operationId spends (none for reads other than search). */
export function budgetsOfOperation(operationId: string): readonly BudgetName[] | undefined {
  return Object.hasOwn(operationBudgets, operationId) ? operationBudgets[operationId as keyof operations] : undefined;
}

export type BudgetOverrides = Partial<Record<BudgetName, { limit: number; windowMs: number }>>;

const UNIT_MS: Record<string, number> = { ms: 1, s: SECOND, m: MINUTE, h: 60 * MINUTE };
const MAX_WINDOW_MS = 24 * 60 * MINUTE;
const MAX_LIMIT = 1_000_000_000;
const ENTRY = /^([a-z_]+)=(\d{1,10})\/(\d{1,9})(ms|s|m|h)$/;

/**
 * Parses `RATE_LIMITS`: comma-separated `budget=limit/window`, window with a unit
 * (`ms`, `s`, `m`, `h`), e.g. `message_send=10/5s,search=60/1m`. Returns the overrides or
 * the problems, each naming its entry.
 */
export function parseBudgetOverrides(text: string): { overrides: BudgetOverrides; problems: string[] } {
  const overrides: BudgetOverrides = {};
  const problems: string[] = [];
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const match = ENTRY.exec(entry);
    if (!match) {
      problems.push(`"${entry}": expected budget=limit/window, e.g. message_send=5/5s`);
      continue;
    }
    const [, name, limitText, amountText, unit] = match as unknown as [string, string, string, string, string];
    if (!Object.hasOwn(defaultBudgets, name)) {
      problems.push(`"${entry}": unknown budget ${name} (known: ${budgetNames.join(', ')})`);
      continue;
    }
    const limit = Number(limitText);
    const windowMs = Number(amountText) * UNIT_MS[unit]!;
    if (limit < 1 || limit > MAX_LIMIT) problems.push(`"${entry}": the limit must be 1..${MAX_LIMIT}`);
    else if (windowMs < 1 || windowMs > MAX_WINDOW_MS) problems.push(`"${entry}": the window must be 1 ms..24 h`);
    else if (Object.hasOwn(overrides, name)) problems.push(`"${entry}": ${name} is set twice`);
    else overrides[name as BudgetName] = { limit, windowMs };
  }
  return { overrides, problems };
}

/** The budgets in force: the defaults, then the older per-variable settings, then RATE_LIMITS. */
export function resolveBudgets(
  legacy: { registerPerIp: number; loginPerIp: number; loginPerAccount: number; windowSeconds: number },
  overrides: BudgetOverrides,
): Budgets {
  const budgets: Budgets = { ...defaultBudgets };
  const legacyWindowMs = legacy.windowSeconds * SECOND;
  budgets.register = { ...budgets.register, limit: legacy.registerPerIp, windowMs: legacyWindowMs };
  budgets.login = { ...budgets.login, limit: legacy.loginPerIp, windowMs: legacyWindowMs };
  budgets.login_account = { ...budgets.login_account, limit: legacy.loginPerAccount, windowMs: legacyWindowMs };
  for (const name of budgetNames) {
    const override = overrides[name];
    if (override) budgets[name] = { ...budgets[name], ...override };
  }
  return budgets;
}
