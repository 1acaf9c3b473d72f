// Token mode keeps valid tokens' principals between requests when it can tell that no one else
// changed the tokens (SQLite's data version), and never keeps one it cannot vouch for.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as pause } from 'node:timers/promises';

import { AuthService } from '../../src/app/auth-service.js';
import { EXTERNAL_CHECK_MS } from '../../src/domain/external-changes.js';
import { manualClock } from '../helpers/manual-clock.js';
import { loadConfig } from '../../src/config.js';
import type { Repository, Store } from '../../src/domain/ports.js';
import { createStageline } from '../../src/stageline.js';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';

/** A store whose reads are counted and, when `gate` is set, held until it is opened. */
function countingStore(inner: Store) {
  const counts = { reads: 0 };
  let gate: Promise<void> | undefined;
  const store: Store = {
    write: (work, scope) => inner.write(work, scope),
    read: async <T>(work: (repo: Repository) => Promise<T>) => {
      counts.reads++;
      const result = await inner.read(work);
      if (gate !== undefined) await gate;
      return result;
    },
    snapshot: (work) => inner.snapshot(work),
    ping: () => inner.ping(),
    close: () => inner.close(),
  };
  return {
    store,
    counts,
    hold: () => {
      let open!: () => void;
      gate = new Promise((resolve) => (open = resolve));
      return () => {
        gate = undefined;
        open();
      };
    },
  };
}

describe('AuthService in token mode', () => {
  const setUp = (watch: boolean) => {
    const inner = new SqliteStore(':memory:');
    let version = 1;
    const clock = manualClock();
    const { store, counts, hold } = countingStore(inner);
    const auth = new AuthService(
      store,
      'tokens',
      Date.now,
      watch ? { external: { version: () => version, now: clock.now } } : {},
    );
    return { auth, counts, hold, clock, bump: () => (version += 1), close: () => inner.close() };
  };

  it('looks a valid token up once, until another connection commits', async () => {
    const t = setUp(true);
    try {
      const { token } = await t.auth.issueToken({ portalId: 5 });
      const first = await t.auth.authenticate(token);
      assert.equal(first?.portalId, 5);
      assert.equal(await t.auth.authenticate(token), first);
      assert.equal(t.counts.reads, 1, 'the second request is answered from memory');
      t.bump();
      t.clock.advance(EXTERNAL_CHECK_MS);
      assert.equal((await t.auth.authenticate(token))?.portalId, 5);
      assert.equal(t.counts.reads, 2, 'looked up again once the data version moved');
    } finally {
      await t.close();
    }
  });

  it('keeps nothing for an unknown token, and nothing without a data version to watch', async () => {
    const t = setUp(true);
    const pg = setUp(false);
    try {
      assert.equal(await t.auth.authenticate('stl_unknown'), undefined);
      assert.equal(await t.auth.authenticate('stl_unknown'), undefined);
      assert.equal(t.counts.reads, 2);
      const { token } = await pg.auth.issueToken({ portalId: 6 });
      await pg.auth.authenticate(token);
      await pg.auth.authenticate(token);
      assert.equal(pg.counts.reads, 2, 'as on PostgreSQL, where other processes revoke unseen');
    } finally {
      await t.close();
      await pg.close();
    }
  });

  it('refuses a token as soon as this process has revoked it, even one read before the revoke', async () => {
    const t = setUp(true);
    try {
      const { token, record } = await t.auth.issueToken({ portalId: 7 });
      // A lookup that read the token before the revoke and finishes after it.
      const open = t.hold();
      const racing = t.auth.authenticate(token);
      await pause(1);
      assert.equal(await t.auth.revokeToken(record.id), true);
      open();
      assert.equal((await racing)?.portalId, 7, 'it read the token while it was valid');
      assert.equal(await t.auth.authenticate(token), undefined, 'but did not keep it');
      const again = await t.auth.issueToken({ portalId: 7 });
      await t.auth.authenticate(again.token);
      assert.equal(await t.auth.revokeToken(again.record.id), true);
      assert.equal(await t.auth.authenticate(again.token), undefined, 'a kept one is dropped');
    } finally {
      await t.close();
    }
  });
});

describe('token mode over HTTP, with an admin command revoking on the same SQLite file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stageline-tokens-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses the revoked token within EXTERNAL_CHECK_MS', async () => {
    const database = join(dir, 'tokens.db');
    const clock = manualClock();
    const server = await createStageline(
      loadConfig({ database, auth: 'tokens', logLevel: 'silent', rateLimit: 'off' }, {}),
      { monotonicClock: clock.now },
    );
    try {
      const { token, record } = await server.auth.issueToken({ portalId: 11 });
      const get = () =>
        server.app.inject({
          method: 'GET',
          url: '/crm/v3/pipelines/deals',
          headers: { authorization: `Bearer ${token}` },
        });
      assert.equal((await get()).statusCode, 200);
      assert.equal((await get()).statusCode, 200, 'now from memory');
      // What `stageline tokens revoke` does: its own connection to the file.
      const admin = new SqliteStore(database);
      try {
        assert.equal(await new AuthService(admin, 'tokens', Date.now).revokeToken(record.id), true);
      } finally {
        await admin.close();
      }
      assert.equal((await get()).statusCode, 200, 'not asked again within EXTERNAL_CHECK_MS');
      clock.advance(EXTERNAL_CHECK_MS);
      assert.equal((await get()).statusCode, 401);
    } finally {
      await server.close();
    }
  });
});
