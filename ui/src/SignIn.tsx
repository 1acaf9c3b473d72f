import { useId, useState } from 'react';
import type { FormEvent } from 'react';

import { Api, errorMessage } from './api.js';

interface Props {
  onSignedIn(token: string, portalId: number): void;
}

/**
 * Asks for a token. In tokens mode it is one `stageline tokens create` printed; in open mode any
 * text works and names the portal. The token goes only to sessionStorage and the Authorization
 * header: the form posts nowhere, so it never lands in a URL even before the script runs.
 */
export function SignIn({ onSignedIn }: Props) {
  const id = useId();
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const value = token.trim();
    if (value === '') return;
    performance.mark('stageline:sign-in');
    setBusy(true);
    setError(undefined);
    try {
      const account = await new Api(value).account();
      onSignedIn(value, account.portalId);
    } catch (err) {
      setError(errorMessage(err));
      setBusy(false);
    }
  }

  return (
    <main className="sign-in">
      <h1>Stageline board</h1>
      <form method="post" onSubmit={(e) => void submit(e)}>
        <label htmlFor={`${id}-token`}>Access token</label>
        <input
          id={`${id}-token`}
          name="token"
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={token}
          onChange={(e) => setToken(e.target.value)}
          aria-describedby={`${id}-help`}
          required
        />
        <p id={`${id}-help`} className="help">
          With <code>--auth tokens</code>, paste a token from <code>stageline tokens create</code>. With{' '}
          <code>--auth open</code>, any text opens its own portal: the same text, the same portal. The token
          stays in this tab (sessionStorage) and is sent only in the Authorization header.
        </p>
        <button type="submit" disabled={busy}>
          Open board
        </button>
        {error !== undefined && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
      </form>
      <p>
        <a href="/docs">API documentation</a>
      </p>
    </main>
  );
}
