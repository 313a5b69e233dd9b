// TEMPORARY scaffold until @parley/client lands (branch sdk): plain fetch + WebSocket so the UI
// can be built and tested. Replaced by the SDK-based implementation; nothing else imports it.
import type { Backend, BackendError, ConnectionState, GatewayEvents, User } from './backend.ts';
import type { TimelineMessage } from './timeline.ts';

export function createSdkBackend(origin: string): Backend {
  let token = sessionStorage.getItem('parley.token');
  const listeners = new Map<string, Array<(event: any) => void>>();
  const stateListeners: Array<(state: ConnectionState) => void> = [];
  let socket: WebSocket | null = null;
  let refCounter = 0;
  const waiting = new Map<string, { resolve: (m: any) => void; reject: (e: Error) => void }>();

  async function call<T>(method: string, url: string, body?: unknown): Promise<T> {
    const response = await fetch(`${origin}/api/v1${url}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    const parsed = text ? JSON.parse(text) : undefined;
    if (!response.ok) {
      const error = new Error(parsed?.detail ?? parsed?.title ?? `HTTP ${response.status}`) as BackendError;
      error.status = response.status;
      error.code = parsed?.code;
      error.fieldErrors = parsed?.errors;
      throw error;
    }
    return parsed as T;
  }
  const setState = (state: ConnectionState) => stateListeners.forEach((l) => l(state));
  const tokens = (r: { user: User; access_token: string }) => {
    token = r.access_token;
    sessionStorage.setItem('parley.token', token);
    return r.user;
  };

  return {
    async restore() {
      if (!token) return null;
      return call<User>('GET', '/users/@me').catch(() => null);
    },
    register: async (input) => tokens(await call('POST', '/auth/register', input)),
    login: async (login, password) => tokens(await call('POST', '/auth/login', { login, password })),
    async logout() {
      await call('POST', '/auth/logout');
      sessionStorage.removeItem('parley.token');
    },
    conversations: async () => (await call<any>('GET', '/users/@me/channels?limit=100')).items,
    publicRooms: async (q) => (await call<any>('GET', `/channels?limit=100${q ? `&q=${encodeURIComponent(q)}` : ''}`)).items,
    createRoom: (name, visibility) => call('POST', '/channels', { type: 'room', name, visibility }),
    addMember: async (c, u) => void (await call('PUT', `/channels/${c}/members/${u}`)),
    leave: async (c, u) => void (await call('DELETE', `/channels/${c}/members/${u}`)),
    findUsers: async (q) => (await call<any>('GET', `/users?q=${encodeURIComponent(q)}&limit=20`)).items,
    openDm: (recipient_id) => call('POST', '/channels', { type: 'dm', recipient_id }),
    members: async (c) => (await call<any>('GET', `/channels/${c}/members?limit=100`)).items,
    history: (c, cursor, limit = 50) => {
      const q = new URLSearchParams({ limit: String(limit), ...cursor } as Record<string, string>);
      return call('GET', `/channels/${c}/messages?${q}`);
    },
    editMessage: (c, m, content) => call('PATCH', `/channels/${c}/messages/${m}`, { content }),
    deleteMessage: async (c, m) => void (await call('DELETE', `/channels/${c}/messages/${m}`)),
    search: async (q) => (await call<any>('GET', `/messages/search?q=${encodeURIComponent(q)}&limit=25`)).items,
    onlineUserIds: async () => (await call<any>('GET', '/users/online?limit=100')).items.map((u: any) => u.user?.id ?? u.id),
    guilds: async () => (await call<any>('GET', '/users/@me/guilds')).items,
    createGuild: (name) => call('POST', '/guilds', { name }),
    guildChannels: async (g) => (await call<any>('GET', `/guilds/${g}/channels`)).items,
    createGuildChannel: (g, name) => call('POST', `/guilds/${g}/channels`, { name }),
    createInvite: async (g) => (await call<any>('POST', `/guilds/${g}/invites`, {})).code,
    joinInvite: (code) => call('POST', `/invites/${encodeURIComponent(code)}`),
    async connect() {
      setState('connecting');
      const ws = new WebSocket(`${origin.replace(/^http/, 'ws')}/api/v1/ws?token=${encodeURIComponent(token ?? '')}`);
      socket = ws;
      ws.onmessage = (e) => {
        const frame = JSON.parse(String(e.data));
        if (frame.type === 'ready') setState('online');
        if (frame.ref && waiting.has(frame.ref)) {
          const w = waiting.get(frame.ref)!;
          waiting.delete(frame.ref);
          if (frame.type === 'error') w.reject(new Error(frame.message));
          else w.resolve(frame.message);
        }
        for (const l of listeners.get(frame.type) ?? []) l(frame);
      };
      ws.onclose = () => {
        if (socket === ws) {
          setState('reconnecting');
          setTimeout(() => void this.connect(), 1000);
        }
      };
    },
    disconnect() {
      const ws = socket;
      socket = null;
      ws?.close();
    },
    on(type, listener) {
      listeners.set(type, [...(listeners.get(type) ?? []), listener as (event: unknown) => void]);
    },
    onState: (l) => void stateListeners.push(l),
    sendMessage(channel_id, content, nonce, reply_to_id) {
      const ref = `r${++refCounter}`;
      return new Promise<TimelineMessage>((resolve, reject) => {
        waiting.set(ref, { resolve, reject });
        socket?.send(JSON.stringify({ type: 'send_message', ref, channel_id, content, nonce, ...(reply_to_id ? { reply_to_id } : {}) }));
      });
    },
    typing: (channel_id) => socket?.send(JSON.stringify({ type: 'typing', channel_id })),
    markRead: (channel_id, message_id) => socket?.send(JSON.stringify({ type: 'mark_read', channel_id, message_id })),
  } satisfies Backend & { on<K extends keyof GatewayEvents>(t: K, l: (e: GatewayEvents[K]) => void): void };
}
