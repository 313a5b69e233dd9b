/**
 * The views. They read the Store's state and call its methods; they never call the backend.
 * Controls carry labels (visible or aria-label) and everything is reachable by keyboard: the
 * browser tests drive the app through those labels, as a screen reader would.
 */
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import type { Backend, BackendError, Channel, Conversation, OAuthProvider, User } from './backend.ts';
import { channelTitle, dmPartner, type Store } from './store.ts';
import { continuesGroup, type TimelineMessage } from './timeline.ts';

export function useStore(store: Store) {
  const [, setTick] = useState(0);
  useEffect(() => store.subscribe(() => setTick((tick) => tick + 1)), [store]);
  return store.state;
}

const errorText = (error: unknown): string => {
  const failure = error as BackendError;
  const fields = failure.fieldErrors?.map((field) => `${field.field.replace(/^\//, '')} ${field.message}`).join('; ');
  return fields ? `${failure.message} (${fields})` : failure.message || 'Something went wrong.';
};

const time = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
const initials = (user: User) => (user.display_name || user.username).slice(0, 1).toUpperCase();

function hue(id: string): number {
  let hash = 0;
  for (const char of id) hash = (hash * 31 + char.charCodeAt(0)) % 360;
  return hash;
}

function Avatar({ user, presence }: { user: User; presence?: string | undefined }) {
  return (
    <span class={`avatar hue-${hue(user.id) % 12}`} aria-hidden="true">
      {initials(user)}
      {presence !== undefined && <span class={`dot ${presence}`} />}
    </span>
  );
}

// ── sign in / register ───────────────────────────────────────────────────
const providerLabels: Record<string, string> = { google: 'Google', github: 'GitHub', facebook: 'Facebook' };

/** The words for the `?error=` code an OAuth callback redirects back with (problem codes of src/errors.ts). */
export function oauthErrorText(code: string): string {
  if (code === 'oauth_access_denied') return 'Sign-in was cancelled at the provider.';
  if (code === 'oauth_email_unverified') return 'An account already uses that email, and the provider has not verified it: sign in another way.';
  return `Sign-in with the provider failed (${code}). Please try again.`;
}

export function AuthScreen({ backend, onSignedIn, initialError = null }: { backend: Backend; onSignedIn: (user: User) => void; initialError?: string | null }) {
  const [mode, setMode] = useState<'login' | 'register'>('login');
  const [error, setError] = useState<string | null>(initialError);
  const [busy, setBusy] = useState(false);
  const [providers, setProviders] = useState<OAuthProvider[]>([]);

  useEffect(() => {
    // No buttons when the list cannot be had: password sign-in still works.
    backend.oauthProviders().then(setProviders, () => setProviders([]));
  }, [backend]);

  async function submit(event: Event) {
    event.preventDefault();
    const data = new FormData(event.currentTarget as HTMLFormElement);
    const value = (name: string) => String(data.get(name) ?? '');
    setBusy(true);
    setError(null);
    try {
      const user =
        mode === 'login'
          ? await backend.login(value('login'), value('password'))
          : await backend.register({
              username: value('username'),
              email: value('email'),
              password: value('password'),
              ...(value('display_name') ? { display_name: value('display_name') } : {}),
            });
      onSignedIn(user);
    } catch (failure) {
      setError(errorText(failure));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main class="auth">
      <form class="card" onSubmit={submit} aria-labelledby="auth-title">
        <h1 id="auth-title">
          <span class="logo" aria-hidden="true">◆</span> Parley
        </h1>
        <div class="tabs" role="tablist" aria-label="Account">
          <button type="button" role="tab" aria-selected={mode === 'login'} onClick={() => setMode('login')}>
            Sign in
          </button>
          <button type="button" role="tab" aria-selected={mode === 'register'} onClick={() => setMode('register')}>
            Create account
          </button>
        </div>
        {mode === 'login' ? (
          <label>
            Username or email
            <input name="login" autocomplete="username" required autofocus />
          </label>
        ) : (
          <>
            <label>
              Username
              <input name="username" autocomplete="username" required pattern="[A-Za-z0-9_.\-]{3,32}" autofocus />
            </label>
            <label>
              Email
              <input name="email" type="email" autocomplete="email" required />
            </label>
            <label>
              Display name <span class="muted">(optional)</span>
              <input name="display_name" autocomplete="nickname" />
            </label>
          </>
        )}
        <label>
          Password
          <input name="password" type="password" autocomplete={mode === 'login' ? 'current-password' : 'new-password'} required minLength={8} />
        </label>
        {mode === 'register' && <p class="hint">At least 8 characters with a digit, an upper- and a lower-case letter.</p>}
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button class="primary" type="submit" disabled={busy}>
          {mode === 'login' ? 'Sign in' : 'Create account'}
        </button>
        {providers.length > 0 && (
          <div class="oauth" role="group" aria-label="Sign in with another account">
            <p class="muted oauth-or">or</p>
            {providers.map((provider) => (
              // A link, not fetch: the provider's login is a top-level navigation; /app is where the callback returns.
              <a
                key={provider.name}
                class="oauth-button"
                href={`${provider.authorize_url}?redirect_to=${encodeURIComponent('/app')}`}
                onClick={() => backend.leavingForOAuth()}
              >
                Continue with {providerLabels[provider.name] ?? provider.name}
              </a>
            ))}
          </div>
        )}
      </form>
    </main>
  );
}

// ── the signed-in app ────────────────────────────────────────────────────
type Panel = null | 'browse' | 'room' | 'dm' | 'guild' | 'invite' | 'search' | 'members' | 'join-guild';

export function ChatScreen({ store }: { store: Store }) {
  const state = useStore(store);
  const [panel, setPanel] = useState<Panel>(null);
  const [searchQuery, setSearchQuery] = useState('');
  const [showChat, setShowChat] = useState(false);
  const active = state.activeId ? state.conversations.get(state.activeId) : undefined;

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape' && panel) setPanel(null);
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, [panel]);

  const open = (id: string, around?: string) => {
    setPanel(null);
    setShowChat(true);
    void store.open(id, around);
  };

  return (
    <div class={`shell ${(showChat && active) || panel ? 'show-chat' : ''}`}>
      <header class="topbar">
        <span class="brand">
          <span class="logo" aria-hidden="true">◆</span> Parley
        </span>
        <form
          class="search"
          role="search"
          onSubmit={(event) => {
            event.preventDefault();
            if (searchQuery.trim()) setPanel('search');
          }}
        >
          <input type="search" aria-label="Search messages" placeholder="Search" value={searchQuery} onInput={(e) => setSearchQuery(e.currentTarget.value)} />
        </form>
        {state.me && (
          <span class="me">
            <Avatar user={state.me} presence={state.connection === 'online' ? 'online' : 'offline'} />
            <span class="me-name">{state.me.display_name || state.me.username}</span>
            <button type="button" class="ghost" onClick={() => void store.signOut()}>
              Sign out
            </button>
          </span>
        )}
      </header>
      {state.connection === 'reconnecting' && (
        <div class="banner" role="status">
          Reconnecting…
        </div>
      )}
      {state.connection === 'offline' && state.me && (
        <div class="banner down" role="alert">
          Disconnected.{' '}
          <button type="button" class="ghost" onClick={() => location.reload()}>
            Reload
          </button>
        </div>
      )}
      {state.notice && (
        <div class="banner warn" role="alert">
          {state.notice}{' '}
          <button type="button" class="ghost" onClick={() => store.notify(null)} aria-label="Dismiss">
            ✕
          </button>
        </div>
      )}
      <Sidebar store={store} onOpen={open} onPanel={setPanel} />
      <main class="chat" aria-label="Conversation">
        {panel ? (
          <PanelView store={store} panel={panel} query={searchQuery} onClose={() => setPanel(null)} onOpen={open} />
        ) : active ? (
          <ChannelPane store={store} channel={active} onBack={() => setShowChat(false)} onPanel={setPanel} />
        ) : (
          <div class="empty">
            <p>Pick a conversation, or browse the public rooms.</p>
          </div>
        )}
      </main>
    </div>
  );
}

function Sidebar({ store, onOpen, onPanel }: { store: Store; onOpen: (id: string) => void; onPanel: (panel: Panel) => void }) {
  const state = store.state;
  const conversations = store.sortedConversations();
  const rooms = conversations.filter((c) => c.type === 'room');
  const dms = conversations.filter((c) => c.type === 'dm');
  return (
    <nav class="sidebar" aria-label="Conversations">
      <Section title="Rooms" add={['New room', () => onPanel('room')]} more={['Browse rooms', () => onPanel('browse')]}>
        {rooms.map((c) => <ConversationItem key={c.id} store={store} conversation={c} onOpen={onOpen} />)}
      </Section>
      <Section title="Direct messages" add={['New direct message', () => onPanel('dm')]}>
        {dms.map((c) => <ConversationItem key={c.id} store={store} conversation={c} onOpen={onOpen} />)}
      </Section>
      <Section title="Guilds" add={['New guild', () => onPanel('guild')]} more={['Join with an invite', () => onPanel('join-guild')]}>
        {state.guilds.map((guild) => (
          <li key={guild.id} class="guild">
            <span class="guild-name">{guild.name}</span>
            <ul>
              {(state.guildChannels.get(guild.id) ?? []).map((channel) => {
                const c = state.conversations.get(channel.id);
                return c ? <ConversationItem key={c.id} store={store} conversation={c} onOpen={onOpen} /> : null;
              })}
            </ul>
          </li>
        ))}
      </Section>
    </nav>
  );
}

function Section({ title, add, more, children }: { title: string; add: [string, () => void]; more?: [string, () => void]; children: ComponentChildren }) {
  return (
    <section>
      <h2>
        <span>{title}</span>
        <button type="button" class="icon" aria-label={add[0]} title={add[0]} onClick={add[1]}>
          +
        </button>
      </h2>
      <ul>{children}</ul>
      {more && (
        <button type="button" class="more" onClick={more[1]}>
          {more[0]}
        </button>
      )}
    </section>
  );
}

/** A padlock drawn in CSS (no emoji font needed), or the room's '#'. */
function ChannelMark({ channel }: { channel: Channel }) {
  return channel.visibility === 'private' ? <span class="hash" role="img" aria-label="private"><span class="lock" /></span> : <span class="hash" aria-hidden="true">#</span>;
}

function ConversationItem({ store, conversation, onOpen }: { store: Store; conversation: Conversation; onOpen: (id: string) => void }) {
  const state = store.state;
  const partner = dmPartner(conversation, state.me);
  const title = channelTitle(conversation, state.me);
  const last = conversation.last_message;
  const unread = conversation.unread_count;
  const current = state.activeId === conversation.id;
  return (
    <li>
      <button
        type="button"
        class={`conversation ${current ? 'current' : ''} ${unread > 0 ? 'has-unread' : ''}`}
        aria-current={current ? 'page' : undefined}
        data-channel-id={conversation.id}
        onClick={() => onOpen(conversation.id)}
      >
        {partner ? <Avatar user={partner} presence={state.presence.get(partner.id) ?? 'offline'} /> : <ChannelMark channel={conversation} />}
        <span class="conversation-text">
          <span class="conversation-title">{title}</span>
          <span class="conversation-last">{last ? `${last.author.id === state.me?.id ? 'You' : last.author.display_name || last.author.username}: ${last.content}` : 'No messages yet'}</span>
        </span>
        {unread > 0 && (
          <span class="badge" aria-label={`${unread} unread`}>
            {unread > 99 ? '99+' : unread}
          </span>
        )}
      </button>
    </li>
  );
}

function ChannelPane({ store, channel, onBack, onPanel }: { store: Store; channel: Conversation; onBack: () => void; onPanel: (panel: Panel) => void }) {
  const state = store.state;
  const [replyTo, setReplyTo] = useState<TimelineMessage | null>(null);
  const partner = dmPartner(channel, state.me);
  const members = state.members.get(channel.id) ?? [];
  const typing = store.typingUsers(channel.id);
  return (
    <section class="pane" aria-labelledby="channel-title">
      <header class="pane-header">
        <button type="button" class="icon back" aria-label="Back to conversations" onClick={onBack}>
          ←
        </button>
        <h1 id="channel-title">
          {partner ? <Avatar user={partner} presence={state.presence.get(partner.id) ?? 'offline'} /> : <ChannelMark channel={channel} />}
          {channelTitle(channel, state.me)}
        </h1>
        <span class="pane-meta">
          {partner ? (state.presence.get(partner.id) ?? 'offline') : `${channel.member_count} member${channel.member_count === 1 ? '' : 's'}`}
        </span>
        <span class="pane-actions">
          <button type="button" class="ghost" onClick={() => onPanel('members')}>
            Members
          </button>
          {channel.type === 'room' && (
            <button type="button" class="ghost" onClick={() => onPanel('invite')}>
              Invite
            </button>
          )}
        </span>
      </header>
      <MessageList store={store} channelId={channel.id} members={members.map((m) => ({ user: m.user, read: m.last_read_message_id }))} onReply={setReplyTo} />
      <p class="typing" aria-live="polite">
        {typing.length === 0 ? '' : `${typing.map((user) => user.display_name || user.username).join(', ')} ${typing.length === 1 ? 'is' : 'are'} typing…`}
      </p>
      <Composer store={store} channelId={channel.id} replyTo={replyTo} onCancelReply={() => setReplyTo(null)} />
    </section>
  );
}

function MessageList({
  store,
  channelId,
  members,
  onReply,
}: {
  store: Store;
  channelId: string;
  members: Array<{ user: User; read: string | null }>;
  onReply: (message: TimelineMessage) => void;
}) {
  const state = store.state;
  const view = store.view(channelId);
  const scroller = useRef<HTMLDivElement>(null);
  const stickToBottom = useRef(true);
  const anchor = useRef<{ id: string; top: number } | null>(null);
  const messages = view.messages;
  const byId = new Map(messages.map((m) => [m.id, m]));

  // Keep the view where the reader is: at the bottom when they were there, otherwise keep the
  // first visible message in place when older pages are added above it.
  useLayoutEffect(() => {
    const element = scroller.current;
    if (!element) return;
    if (state.highlightId) {
      const target = element.querySelector(`[data-message-id="${state.highlightId}"]`);
      if (target) {
        target.scrollIntoView({ block: 'center' });
        return;
      }
    }
    if (anchor.current) {
      const again = element.querySelector<HTMLElement>(`[data-message-id="${anchor.current.id}"]`);
      if (again) element.scrollTop += again.offsetTop - anchor.current.top;
      anchor.current = null;
      return;
    }
    if (stickToBottom.current) element.scrollTop = element.scrollHeight;
  });

  useEffect(() => {
    stickToBottom.current = true;
  }, [channelId]);

  async function onScroll() {
    const element = scroller.current;
    if (!element) return;
    stickToBottom.current = element.scrollHeight - element.scrollTop - element.clientHeight < 40;
    if (stickToBottom.current) {
      if (view.hasMoreAfter) await store.loadNewer(channelId);
      store.markActiveRead();
    }
    if (element.scrollTop < 120 && view.hasMoreBefore && !view.loading) {
      const first = element.querySelector<HTMLElement>('[data-message-id]');
      if (first) anchor.current = { id: first.dataset.messageId!, top: first.offsetTop };
      await store.loadOlder(channelId);
    }
  }

  // Where each other member's read marker sits: under the message it points at.
  const readers = new Map<string, User[]>();
  for (const member of members) {
    if (!member.read || member.user.id === state.me?.id) continue;
    readers.set(member.read, [...(readers.get(member.read) ?? []), member.user]);
  }

  return (
    <div class="messages" ref={scroller} onScroll={onScroll} role="log" aria-label="Messages" aria-busy={view.loading}>
      {view.hasMoreBefore ? (
        <button type="button" class="ghost older" onClick={() => void store.loadOlder(channelId)}>
          Load older messages
        </button>
      ) : (
        view.loaded && <p class="start muted">This is the start of the conversation.</p>
      )}
      <ol>
        {messages.map((message, index) => (
          <MessageItem
            key={message.pending ? message.nonce : message.id}
            store={store}
            message={message}
            grouped={continuesGroup(messages[index - 1], message)}
            replied={message.reply_to_id ? byId.get(message.reply_to_id) : undefined}
            readers={readers.get(message.id) ?? []}
            highlighted={state.highlightId === message.id}
            onReply={onReply}
          />
        ))}
      </ol>
      {view.hasMoreAfter && (
        <button type="button" class="ghost older" onClick={() => void store.loadNewer(channelId)}>
          Load newer messages
        </button>
      )}
    </div>
  );
}

function MessageItem({
  store,
  message,
  grouped,
  replied,
  readers,
  highlighted,
  onReply,
}: {
  store: Store;
  message: TimelineMessage;
  grouped: boolean;
  replied: TimelineMessage | undefined;
  readers: User[];
  highlighted: boolean;
  onReply: (message: TimelineMessage) => void;
}) {
  const [editing, setEditing] = useState(false);
  const mine = message.author.id === store.state.me?.id;
  const author = message.author.display_name || message.author.username;
  return (
    <li
      class={`message ${grouped ? 'grouped' : ''} ${message.pending ? 'pending' : ''} ${message.failed ? 'failed' : ''} ${highlighted ? 'highlight' : ''} ${mine ? 'mine' : ''}`}
      data-message-id={message.pending ? undefined : message.id}
      data-nonce={message.nonce ?? undefined}
      tabIndex={0}
    >
      {!grouped && <Avatar user={message.author as User} />}
      <div class="message-body">
        {message.reply_to_id && (
          <p class="reply-ref muted">↪ {replied ? `${replied.author.display_name || replied.author.username}: ${replied.content.slice(0, 80)}` : 'an earlier message'}</p>
        )}
        {!grouped && (
          <p class="message-head">
            <strong>{author}</strong> <time dateTime={message.created_at}>{time(message.created_at)}</time>
          </p>
        )}
        {editing ? (
          <form
            class="edit"
            onSubmit={(event) => {
              event.preventDefault();
              const content = String(new FormData(event.currentTarget).get('content') ?? '').trim();
              setEditing(false);
              if (content && content !== message.content) void store.edit(message, content).catch((e) => store.notify(errorText(e)));
            }}
          >
            <input name="content" aria-label="Edit message" value={message.content} autofocus onKeyDown={(e) => e.key === 'Escape' && setEditing(false)} />
            <button type="submit" class="ghost">Save</button>
          </form>
        ) : (
          <p class="content">
            <span class="text">{message.content}</span>
            {message.edited_at && <span class="muted"> (edited)</span>}
            {message.pending && !message.failed && <span class="muted"> · sending…</span>}
          </p>
        )}
        {message.failed && (
          <p class="error">
            Not sent.{' '}
            <button type="button" class="ghost" onClick={() => void store.retry(message)}>
              Retry
            </button>
          </p>
        )}
        {readers.length > 0 && <p class="readers muted">Seen by {readers.map((user) => user.display_name || user.username).join(', ')}</p>}
      </div>
      {!message.pending && (
        <span class="message-actions">
          <button type="button" class="icon" aria-label={`Reply to ${author}`} title="Reply" onClick={() => onReply(message)}>
            ↩
          </button>
          {mine && (
            <>
              <button type="button" class="icon" aria-label="Edit message" title="Edit" onClick={() => setEditing(true)}>
                ✎
              </button>
              <button
                type="button"
                class="icon"
                aria-label="Delete message"
                title="Delete"
                onClick={() => {
                  if (confirm('Delete this message?')) void store.remove(message).catch((e) => store.notify(errorText(e)));
                }}
              >
                ✕
              </button>
            </>
          )}
        </span>
      )}
    </li>
  );
}

function Composer({ store, channelId, replyTo, onCancelReply }: { store: Store; channelId: string; replyTo: TimelineMessage | null; onCancelReply: () => void }) {
  const [text, setText] = useState('');
  const input = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    setText('');
    input.current?.focus();
  }, [channelId]);
  useEffect(() => {
    if (replyTo) input.current?.focus();
  }, [replyTo]);

  function send() {
    const content = text.trim();
    if (!content) return;
    setText('');
    onCancelReply();
    void store.send(channelId, content, replyTo?.id);
  }

  return (
    <form
      class="composer"
      onSubmit={(event) => {
        event.preventDefault();
        send();
      }}
    >
      {replyTo && (
        <p class="replying">
          Replying to <strong>{replyTo.author.display_name || replyTo.author.username}</strong>: {replyTo.content.slice(0, 60)}{' '}
          <button type="button" class="ghost" onClick={onCancelReply} aria-label="Cancel reply">
            ✕
          </button>
        </p>
      )}
      <textarea
        ref={input}
        rows={1}
        aria-label="Message"
        placeholder="Write a message…"
        title="Enter sends, Shift+Enter adds a line"
        maxLength={4000}
        value={text}
        onInput={(event) => {
          setText(event.currentTarget.value);
          if (event.currentTarget.value.trim()) store.typing(channelId);
        }}
        onKeyDown={(event) => {
          if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
            event.preventDefault();
            send();
          }
        }}
      />
      <button type="submit" class="primary" disabled={!text.trim()}>
        Send
      </button>
    </form>
  );
}

// ── panels ──────────────────────────────────────────────────────────────
function PanelView({ store, panel, query, onClose, onOpen }: { store: Store; panel: Exclude<Panel, null>; query: string; onClose: () => void; onOpen: (id: string, around?: string) => void }) {
  const titles: Record<Exclude<Panel, null>, string> = {
    browse: 'Public rooms',
    room: 'New room',
    dm: 'New direct message',
    guild: 'New guild',
    invite: 'Invite to this room',
    search: 'Search results',
    members: 'Members',
    'join-guild': 'Join a guild',
  };
  return (
    <section class="panel" aria-labelledby="panel-title">
      <header class="pane-header">
        <h1 id="panel-title">{titles[panel]}</h1>
        <button type="button" class="icon" aria-label="Close" onClick={onClose}>
          ✕
        </button>
      </header>
      <div class="panel-body">
        {panel === 'browse' && <BrowseRooms store={store} onOpen={onOpen} />}
        {panel === 'room' && (
          <Ask
            fields={[['name', 'Room name']]}
            choice={['visibility', 'Visibility', ['public', 'private']]}
            submit="Create room"
            run={(v) => store.createRoom(v.name!, v.visibility as 'public' | 'private').then(() => onOpen(store.state.activeId!))}
          />
        )}
        {panel === 'dm' && <Ask fields={[['username', 'Username']]} submit="Open conversation" run={(v) => store.openDm(v.username!).then(() => onOpen(store.state.activeId!))} />}
        {panel === 'invite' && (
          <Ask
            fields={[['username', 'Username to add']]}
            submit="Add to room"
            run={async (v) => {
              const user = await store.invite(store.state.activeId!, v.username!);
              return `${user.display_name || user.username} was added.`;
            }}
          />
        )}
        {panel === 'guild' && <GuildPanel store={store} onOpen={onOpen} />}
        {panel === 'join-guild' && <Ask fields={[['code', 'Invite code']]} submit="Join guild" run={(v) => store.joinInvite(v.code!).then(() => 'Joined.')} />}
        {panel === 'search' && <SearchResults store={store} query={query} onOpen={onOpen} />}
        {panel === 'members' && <Members store={store} />}
      </div>
    </section>
  );
}

/** A small form: text fields, an optional choice, a submit button, an error or a result line. */
function Ask({
  fields,
  choice,
  submit,
  run,
}: {
  fields: Array<[string, string]>;
  choice?: [string, string, string[]];
  submit: string;
  run: (values: Record<string, string>) => Promise<unknown>;
}) {
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <form
      class="ask"
      onSubmit={async (event) => {
        event.preventDefault();
        const form = event.currentTarget;
        const values = Object.fromEntries([...new FormData(form).entries()].map(([k, v]) => [k, String(v).trim()]));
        setBusy(true);
        try {
          const result = await run(values);
          setMessage(typeof result === 'string' ? { error: false, text: result } : null);
          form.reset();
        } catch (error) {
          setMessage({ error: true, text: errorText(error) });
        } finally {
          setBusy(false);
        }
      }}
    >
      {fields.map(([name, label], index) => (
        <label key={name}>
          {label}
          <input name={name} required autofocus={index === 0} />
        </label>
      ))}
      {choice && (
        <fieldset>
          <legend>{choice[1]}</legend>
          {choice[2].map((option, index) => (
            <label key={option} class="inline">
              <input type="radio" name={choice[0]} value={option} checked={index === 0 ? true : undefined} /> {option}
            </label>
          ))}
        </fieldset>
      )}
      <button type="submit" class="primary" disabled={busy}>
        {submit}
      </button>
      {message && (
        <p class={message.error ? 'error' : 'ok'} role={message.error ? 'alert' : 'status'}>
          {message.text}
        </p>
      )}
    </form>
  );
}

function BrowseRooms({ store, onOpen }: { store: Store; onOpen: (id: string) => void }) {
  const [q, setQ] = useState('');
  const [rooms, setRooms] = useState<Channel[] | null>(null);
  useEffect(() => {
    let live = true;
    const timer = setTimeout(() => void store.backend.publicRooms(q.trim() || undefined).then((list) => live && setRooms(list), (e) => store.notify(errorText(e))), 150);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [q]);
  return (
    <>
      <label>
        Filter rooms
        <input type="search" value={q} onInput={(e) => setQ(e.currentTarget.value)} autofocus />
      </label>
      <ul class="list">
        {rooms?.map((room) => {
          const joined = store.state.conversations.has(room.id);
          return (
            <li key={room.id}>
              <span>
                <strong># {room.name}</strong> <span class="muted">{room.member_count} member{room.member_count === 1 ? '' : 's'}{room.description ? ` · ${room.description}` : ''}</span>
              </span>
              <button type="button" class={joined ? 'ghost' : 'primary'} aria-label={`${joined ? 'Open' : 'Join'} ${room.name}`} onClick={() => (joined ? onOpen(room.id) : void store.joinRoom(room.id).then(() => onOpen(room.id), (e) => store.notify(errorText(e))))}>
                {joined ? 'Open' : 'Join'}
              </button>
            </li>
          );
        })}
        {rooms?.length === 0 && <li class="muted">No public rooms match.</li>}
      </ul>
    </>
  );
}

function SearchResults({ store, query, onOpen }: { store: Store; query: string; onOpen: (id: string, around?: string) => void }) {
  const [results, setResults] = useState<TimelineMessage[] | null>(null);
  useEffect(() => {
    let live = true;
    setResults(null);
    void store.backend.search(query.trim()).then((list) => live && setResults(list), (e) => store.notify(errorText(e)));
    return () => {
      live = false;
    };
  }, [query]);
  if (!results) return <p class="muted">Searching…</p>;
  if (results.length === 0) return <p class="muted">No message matches “{query}”.</p>;
  return (
    <ul class="list results">
      {results.map((message) => {
        const channel = store.state.conversations.get(message.channel_id);
        return (
          <li key={message.id}>
            <button type="button" class="result" onClick={() => onOpen(message.channel_id, message.id)}>
              <span class="muted">
                {channel ? channelTitle(channel, store.state.me) : 'channel'} · {message.author.display_name || message.author.username} · {time(message.created_at)}
              </span>
              <span>{message.content}</span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}

function Members({ store }: { store: Store }) {
  const id = store.state.activeId;
  const members = id ? (store.state.members.get(id) ?? []) : [];
  return (
    <ul class="list">
      {members.map((member) => {
        const presence = store.state.presence.get(member.user.id) ?? 'offline';
        return (
          <li key={member.user.id}>
            <span class="member">
              <Avatar user={member.user} presence={presence} /> {member.user.display_name || member.user.username} <span class="muted">@{member.user.username} · {presence}</span>
            </span>
          </li>
        );
      })}
    </ul>
  );
}

function GuildPanel({ store, onOpen }: { store: Store; onOpen: (id: string) => void }) {
  const [code, setCode] = useState<string | null>(null);
  return (
    <>
      <Ask fields={[['name', 'Guild name']]} submit="Create guild" run={(v) => store.createGuild(v.name!).then(() => 'Guild created.')} />
      {store.state.guilds.map((guild) => (
        <div key={guild.id} class="guild-admin">
          <h2>{guild.name}</h2>
          <Ask fields={[['name', `New channel in ${guild.name}`]]} submit="Create channel" run={(v) => store.createGuildChannel(guild.id, v.name!).then(() => onOpen(store.state.activeId!))} />
          <button type="button" class="ghost" onClick={() => void store.backend.createInvite(guild.id).then(setCode, (e) => store.notify(errorText(e)))}>
            Create an invite code
          </button>
        </div>
      ))}
      {code && (
        <p class="ok" role="status">
          Invite code: <code>{code}</code>
        </p>
      )}
    </>
  );
}
