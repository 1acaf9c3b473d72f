// Another process with its own connection, for tests of processes that open one database file
// together. Sent a file name, it opens a store on it, closes it, and answers whether both worked.
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';

export type OpenOutcome = { ok: true } | { ok: false; error: string };

process.on('message', (file: string) => {
  const answer = (outcome: OpenOutcome) => process.send!(outcome);
  try {
    const store = new SqliteStore(file);
    store.close().then(
      () => answer({ ok: true }),
      (err: unknown) => answer({ ok: false, error: `close: ${String(err)}` }),
    );
  } catch (err) {
    answer({ ok: false, error: String(err) });
  }
});
process.send!('ready');
