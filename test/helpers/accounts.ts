import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import pg from 'pg';
import type { Config } from '../../src/config.ts';
import { projectRoot } from '../../src/db/open-database.ts';
import { testDefaults, type ApiClient, type ApiResponse } from './build.ts';

export { projectRoot };

/** build() overrides that make ADMIN_EMAIL/ADMIN_PASSWORD create an admin at start. */
export const adminOverrides = {
  ADMIN_EMAIL: 'Root.Admin@example.com',
  ADMIN_PASSWORD: 'Adm1n-secret-pw',
  ADMIN_USERNAME: 'root_admin',
} satisfies Partial<Config>;

export interface Session {
  user: { id: string; username: string; email?: string; role: string; active: boolean; [key: string]: unknown };
  token: string;
  refreshToken: string;
  response: ApiResponse;
}

/** Logs in and fails loudly unless the login succeeds. */
export async function login(api: ApiClient, loginName: string, password: string): Promise<Session> {
  const response = await api('POST', '/api/v1/auth/login', { body: { login: loginName, password } });
  if (response.status !== 200) throw new Error(`login failed: ${response.status} ${response.text}`);
  return { user: response.body.user, token: response.body.access_token, refreshToken: response.body.refresh_token, response };
}

/** Logs in as the admin that `adminOverrides` (or the given credentials) created at start. */
export function loginAdmin(
  api: ApiClient,
  credentials: { ADMIN_EMAIL?: string | undefined; ADMIN_PASSWORD?: string | undefined } = adminOverrides,
): Promise<Session> {
  if (!credentials.ADMIN_EMAIL || !credentials.ADMIN_PASSWORD) throw new Error('loginAdmin needs ADMIN_EMAIL and ADMIN_PASSWORD');
  return login(api, credentials.ADMIN_EMAIL, credentials.ADMIN_PASSWORD);
}

/** `Set-Cookie` headers of a response, by cookie name, with their attributes (lower-cased keys). */
export function cookiesOf(response: ApiResponse): Map<string, { value: string; attributes: Map<string, string | true> }> {
  const cookies = new Map<string, { value: string; attributes: Map<string, string | true> }>();
  for (const header of response.headers.getSetCookie()) {
    const [pair = '', ...parts] = header.split(';').map((part) => part.trim());
    const separator = pair.indexOf('=');
    const attributes = new Map<string, string | true>();
    for (const part of parts) {
      const index = part.indexOf('=');
      if (index === -1) attributes.set(part.toLowerCase(), true);
      else attributes.set(part.slice(0, index).toLowerCase(), part.slice(index + 1));
    }
    cookies.set(pair.slice(0, separator), { value: pair.slice(separator + 1), attributes });
  }
  return cookies;
}

// ── JWTs made by hand, for forged-token tests ──
const base64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

export function decodeJwt(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [header = '', payload = ''] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as Record<string, unknown>,
    payload: JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>,
  };
}

/** Signs a JWT with node:crypto HMAC (HS256/HS384/HS512), or leaves it unsigned for `none`. */
export function signJwt(
  payload: Record<string, unknown>,
  options: { alg?: 'HS256' | 'HS384' | 'HS512' | 'none'; secret?: string } = {},
): string {
  const alg = options.alg ?? 'HS256';
  const head = `${base64url(JSON.stringify({ alg, typ: 'JWT' }))}.${base64url(JSON.stringify(payload))}`;
  if (alg === 'none') return `${head}.`;
  const digest = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }[alg];
  const secret = options.secret ?? testDefaults.JWT_SECRET!;
  return `${head}.${createHmac(digest, secret).update(head).digest('base64url')}`;
}

// ── direct database access, for what the API does not show (hashes, session rows) ──
export async function queryDatabase<Row extends Record<string, unknown>>(
  databaseUrl: string,
  text: string,
  values: unknown[] = [],
): Promise<Row[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query<Row>(text, values)).rows;
  } finally {
    await client.end();
  }
}

// ── child processes (scripts, the real server) ──
export { freePort } from '../../scripts/free-port.ts';

export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `node <args>` in the project folder with the given environment (on top of a clean one). */
export function runNode(args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: projectRoot, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** PATH and HOME from this process, and nothing else that could leak Parley settings into a child. */
export function cleanEnv(env: Record<string, string>): Record<string, string> {
  const keep: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG']) {
    const value = process.env[key];
    if (value !== undefined) keep[key] = value;
  }
  return { ...keep, ...env };
}
