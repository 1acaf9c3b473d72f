// The cache of pipeline reads never serves what a write has changed: not after a write through
// the same server, not across a read that overlaps a write, and not after another process (here
// another connection) commits to the same SQLite file, once EXTERNAL_CHECK_MS has passed.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { loadConfig } from '../../src/config.js';
import { EXTERNAL_CHECK_MS } from '../../src/domain/external-changes.js';
import { ReadCache } from '../../src/http/read-cache.js';
import { createStageline } from '../../src/stageline.js';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import { cacheHits } from '../helpers/cache-hits.js';
import { manualClock } from '../helpers/manual-clock.js';
import type { Stageline } from '../../src/stageline.js';

describe('ReadCache', () => {
  const make = (maxChars = 1000) => {
    let version = 0;
    const clock = manualClock();
    const cache = new ReadCache({ maxChars, external: { version: () => version, now: clock.now } });
    return { cache, bump: () => (version += 1), clock };
  };

  it('serves what was stored, per portal and key', () => {
    const { cache } = make();
    cache.set(1, 'a', cache.ticket(1), { body: '{"a":1}' });
    assert.equal(cache.get(1, 'a')?.body, '{"a":1}');
    assert.equal(cache.get(1, 'b')?.body, undefined);
    assert.equal(cache.get(2, 'a')?.body, undefined);
  });

  it('drops a portal on invalidate, and only that portal', () => {
    const { cache } = make();
    cache.set(1, 'a', cache.ticket(1), { body: 'one' });
    cache.set(2, 'a', cache.ticket(2), { body: 'two' });
    cache.invalidate(1);
    assert.equal(cache.get(1, 'a')?.body, undefined);
    assert.equal(cache.get(2, 'a')?.body, 'two');
    cache.invalidate(undefined);
    assert.equal(cache.get(2, 'a')?.body, undefined);
  });

  it('refuses to store a read that overlapped a write', () => {
    const { cache } = make();
    const before = cache.ticket(1);
    cache.invalidate(1);
    cache.set(1, 'a', before, { body: 'stale' });
    assert.equal(cache.get(1, 'a')?.body, undefined);
    const again = cache.ticket(1);
    cache.invalidate(undefined);
    cache.set(1, 'a', again, { body: 'stale too' });
    assert.equal(cache.get(1, 'a')?.body, undefined);
  });

  it('empties when another connection commits, at most EXTERNAL_CHECK_MS later', () => {
    const { cache, bump, clock } = make();
    clock.advance(EXTERNAL_CHECK_MS);
    cache.set(1, 'a', cache.ticket(1), { body: 'x' });
    assert.equal(cache.get(1, 'a')?.body, 'x', 'checked now: nothing changed');
    bump();
    assert.equal(cache.get(1, 'a')?.body, 'x', 'not asked again within EXTERNAL_CHECK_MS');
    clock.advance(EXTERNAL_CHECK_MS);
    assert.equal(cache.get(1, 'a')?.body, undefined);
  });

  it('stays within its size bound', () => {
    const { cache } = make(10);
    cache.set(1, 'big', cache.ticket(1), { body: 'x'.repeat(11) });
    assert.equal(cache.get(1, 'big')?.body, undefined);
    cache.set(1, 'a', cache.ticket(1), { body: 'x'.repeat(6) });
    cache.set(1, 'b', cache.ticket(1), { body: 'y'.repeat(6) });
    assert.equal(cache.get(1, 'a')?.body, undefined, 'overflow empties the cache');
    assert.equal(cache.get(1, 'b')?.body, undefined);
  });
});

describe('cached reads over HTTP', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stageline-cache-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const headers = { authorization: 'Bearer cache-test' };
  const clock = manualClock();
  const open = () =>
    createStageline(
      loadConfig(
        { database: join(dir, 'shared.db'), auth: 'open', logLevel: 'silent', rateLimit: 'off' },
        {},
      ),
      { monotonicClock: clock.now },
    );
  const label = async (s: Stageline) => {
    const res = await s.app.inject({ method: 'GET', url: '/crm/v3/pipelines/deals/default', headers });
    assert.equal(res.statusCode, 200);
    return res.json<{ label: string }>().label;
  };
  const rename = async (s: Stageline, to: string) => {
    const res = await s.app.inject({
      method: 'PATCH',
      url: '/crm/v3/pipelines/deals/default',
      headers,
      payload: { label: to },
    });
    assert.equal(res.statusCode, 200, res.body);
  };

  it('sees its own writes at once', async () => {
    const s = await open();
    try {
      assert.equal(await label(s), 'Sales Pipeline');
      await rename(s, 'Renamed once');
      assert.equal(await label(s), 'Renamed once');
      await rename(s, 'Renamed twice');
      assert.equal(await label(s), 'Renamed twice');
    } finally {
      await s.close();
    }
  });

  it('sees writes another process commits to the same SQLite file', async () => {
    const a = await open();
    const b = await open();
    try {
      const start = await label(a);
      assert.equal(await label(a), start, 'a cached answer');
      await rename(b, `${start} (from b)`);
      clock.advance(EXTERNAL_CHECK_MS);
      assert.equal(await label(a), `${start} (from b)`);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('never answers a read racing a write with the state before the write', async () => {
    const s = await open();
    try {
      for (let i = 0; i < 20; i++) {
        const reads = Array.from({ length: 5 }, () => label(s));
        await rename(s, `Race ${i}`);
        await Promise.all(reads);
        assert.equal(await label(s), `Race ${i}`);
      }
    } finally {
      await s.close();
    }
  });

  it('answers nothing from the cache once the store has failed: what it holds may not be on disk', async (t) => {
    const hits = cacheHits(t);
    let failSync = false;
    const store = new SqliteStore(join(dir, 'failing.db'), {
      syncLog: async () => {
        if (failSync) throw new Error('EIO: simulated failed fdatasync');
      },
    });
    const s = await createStageline(
      loadConfig({ database: 'unused', auth: 'open', logLevel: 'silent', rateLimit: 'off' }, {}),
      { store },
    );
    const get = (token: string) =>
      s.app.inject({
        method: 'GET',
        url: '/crm/v3/pipelines/deals',
        headers: { authorization: `Bearer ${token}` },
      });
    const patch = (token: string, label: string) =>
      s.app.inject({
        method: 'PATCH',
        url: '/crm/v3/pipelines/deals/default',
        headers: { authorization: `Bearer ${token}` },
        payload: { label },
      });
    try {
      assert.equal((await get('failing-portal')).statusCode, 200, 'its portal exists');
      // A token's reads are cached once it has written: before, its portal is not in the database.
      assert.equal((await patch('other-portal', 'Stored')).statusCode, 200);
      assert.equal((await get('other-portal')).statusCode, 200);
      const before = hits();
      assert.equal((await get('other-portal')).statusCode, 200);
      assert.equal(hits(), before + 1, 'answered from the cache');
      failSync = true;
      const write = await patch('failing-portal', 'Never durable');
      assert.equal(write.statusCode, 503, write.body);
      const read = await get('other-portal');
      assert.equal(read.statusCode, 503, `a cached read of another portal after the failure: ${read.body}`);
    } finally {
      await s.close();
    }
  });
});
