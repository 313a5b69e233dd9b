import t from 'tap';
import {
  budgetNames,
  budgetsOfOperation,
  defaultBudgets,
  frameBudgets,
  operationBudgets,
  parseBudgetOverrides,
  rateLimitKey,
  resolveBudgets,
} from '../../src/domain/rate-limit-budgets.ts';

t.test('parseBudgetOverrides: budget=limit/window with a unit; each bad entry is named', async (t) => {
  const cases: Array<[string, Record<string, { limit: number; windowMs: number }>, RegExp[]]> = [
    ['', {}, []],
    ['message_send=10/5s', { message_send: { limit: 10, windowMs: 5000 } }, []],
    [
      ' search=60/1m , typing=3/500ms,guild_create=2/1h ',
      { search: { limit: 60, windowMs: 60_000 }, typing: { limit: 3, windowMs: 500 }, guild_create: { limit: 2, windowMs: 3_600_000 } },
      [],
    ],
    ['message_send=10', {}, [/"message_send=10": expected budget=limit\/window/]],
    ['message_send=10/5', {}, [/expected budget=limit\/window/]],
    ['message_send=-1/5s', {}, [/expected budget=limit\/window/]],
    ['messages=10/5s', {}, [/unknown budget messages \(known: register, /]],
    ['typing=0/5s', {}, [/"typing=0\/5s": the limit must be 1\.\./]],
    ['typing=5/0s', {}, [/the window must be 1 ms\.\.24 h/]],
    ['typing=5/25h', {}, [/the window must be 1 ms\.\.24 h/]],
    ['typing=5/5s,typing=6/5s', { typing: { limit: 5, windowMs: 5000 } }, [/typing is set twice/]],
    ['constructor=1/1s,__proto__=1/1s', {}, [/unknown budget constructor/, /unknown budget __proto__/]], // no prototype keys
    ['search=5/1m,bogus,typing=1/1s', { search: { limit: 5, windowMs: 60_000 }, typing: { limit: 1, windowMs: 1000 } }, [/"bogus"/]],
  ];
  for (const [text, overrides, problems] of cases) {
    const result = parseBudgetOverrides(text);
    t.same(result.overrides, overrides, `${JSON.stringify(text)}: overrides`);
    t.equal(result.problems.length, problems.length, `${JSON.stringify(text)}: ${problems.length} problem(s)`);
    problems.forEach((pattern, index) => t.match(result.problems[index], pattern));
  }
});

t.test('resolveBudgets: defaults, then the RATE_LIMIT_* variables, then RATE_LIMITS', async (t) => {
  const legacy = { registerPerIp: 7, loginPerIp: 8, loginPerAccount: 9, windowSeconds: 30 };
  const budgets = resolveBudgets(legacy, { login: { limit: 3, windowMs: 1000 }, typing: { limit: 2, windowMs: 2000 } });
  t.same(budgets.register, { limit: 7, windowMs: 30_000, key: ['ip'] });
  t.same(budgets.login, { limit: 3, windowMs: 1000, key: ['ip'] }, 'RATE_LIMITS wins over the variable');
  t.same(budgets.login_account, { limit: 9, windowMs: 30_000, key: ['account'] });
  t.same(budgets.typing, { limit: 2, windowMs: 2000, key: ['user'] });
  t.same(budgets.message_send, defaultBudgets.message_send, 'the rest keep their defaults');
  t.same(Object.keys(budgets).sort(), [...budgetNames].sort());
});

t.test('defaults a chat product would use', async (t) => {
  t.same(defaultBudgets.message_send, { limit: 5, windowMs: 5000, key: ['user', 'channel'] }, 'Discord-like: 5 per 5 s per channel');
  t.same(defaultBudgets.typing, { limit: 10, windowMs: 10_000, key: ['user'] });
  t.same(defaultBudgets.search, { limit: 30, windowMs: 60_000, key: ['user'] });
  for (const name of ['channel_create', 'guild_create', 'invite_create'] as const) {
    t.ok(defaultBudgets[name].limit <= 10 && defaultBudgets[name].windowMs === 60_000, `${name}: a few per minute`);
  }
});

t.test('REST operations and gateway frames that do the same thing share a budget', async (t) => {
  const pairs: Array<[string, keyof typeof frameBudgets]> = [
    ['createMessage', 'send_message'],
    ['triggerTyping', 'typing'],
    ['addChannelMember', 'join'],
    ['removeChannelMember', 'leave'],
    ['markChannelRead', 'mark_read'],
  ];
  for (const [operation, frame] of pairs) t.same(frameBudgets[frame], budgetsOfOperation(operation), `${operation} = ${frame}`);
  t.equal(budgetsOfOperation('getMe'), undefined, 'reads spend nothing');
  t.equal(budgetsOfOperation('constructor'), undefined, 'no prototype keys');
  for (const names of [...Object.values(operationBudgets), ...Object.values(frameBudgets)]) {
    for (const name of names ?? []) t.ok(budgetNames.includes(name), `${name} is a budget`);
  }
  t.same(budgetNames.filter((name) => ![...Object.values(operationBudgets), ...Object.values(frameBudgets)].flat().includes(name)), [], 'every budget is spent somewhere');
});

t.test('rateLimitKey: namespaced, one key per budget and key parts', async (t) => {
  const cases: Array<[Parameters<typeof rateLimitKey>, string]> = [
    [['message_send', defaultBudgets.message_send, { user: '42', channel: '7' }], 'parley:rl:v1:message_send:u=42:c=7'],
    [['message_send_total', defaultBudgets.message_send_total, { user: '42', channel: '7' }], 'parley:rl:v1:message_send_total:u=42'],
    [['register', defaultBudgets.register, { ip: '::1' }], 'parley:rl:v1:register:ip=::1'],
    [['login_account', defaultBudgets.login_account, { account: 'user:42' }], 'parley:rl:v1:login_account:a=user:42'],
    [['typing', defaultBudgets.typing, {}], 'parley:rl:v1:typing:u=-'],
  ];
  for (const [args, expected] of cases) t.equal(rateLimitKey(...args), expected);
});
