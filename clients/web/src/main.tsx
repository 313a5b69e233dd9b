/** Entry point of the web client served at /app: sign in (or resume the stored session), then chat. */
import { render } from 'preact';
import { useState } from 'preact/hooks';
import type { User } from './backend.ts';
import { createSdkBackend } from './sdk-backend.ts';
import { Store } from './store.ts';
import { AuthScreen, ChatScreen, oauthErrorText } from './ui.tsx';
import './app.css';

const backend = createSdkBackend(location.origin);
const store = new Store(backend);

// A failed OAuth login comes back as /app?error=<code>: shown once, then dropped from the address.
const oauthError = new URLSearchParams(location.search).get('error');
if (oauthError !== null) history.replaceState(null, '', `${location.pathname}${location.hash}`);

function App({ initial }: { initial: User | null }) {
  const [user, setUser] = useState<User | null>(initial);
  if (!user) {
    return (
      <AuthScreen
        backend={backend}
        initialError={oauthError === null ? null : oauthErrorText(oauthError)}
        onSignedIn={(me) => {
          setUser(me);
          void store.start(me).catch((error) => store.notify((error as Error).message));
        }}
      />
    );
  }
  return <ChatScreen store={store} />;
}

const root = document.getElementById('root')!;
const me = await backend.restore({ oauthFailed: oauthError !== null }).catch(() => null);
if (me) void store.start(me).catch((error) => store.notify((error as Error).message));
render(<App initial={me} />, root);
