// Storage faults on SQLite, answered by cause: each of SQLite's own failures (a full disk, an I/O
// error, a read-only database, a lock held past the timeout) is a 503 in HubSpot's envelope that
// names it, with Retry-After; nothing of the write is kept; the fault is logged once per episode
// at `error`, its end once at `info`; /health reports it while it lasts; reads keep working.
//
// SQLite's real errors come from the store's own connection: `max_page_count` makes the database
// full, `query_only` makes it read-only. The other causes are SQLite errors thrown from inside a
// write, which the store classifies by code as it does its driver's.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import Database from 'better-sqlite3';
import type { LightMyRequestResponse } from 'fastify';

import { StorageUnavailableError } from '../../src/domain/ports.js';
import type { Repository, Store } from '../../src/domain/ports.js';
import { SETTLE_MS, StorageHealth, watchedStore } from '../../src/app/storage-health.js';
import { STORAGE_FAULTS } from '../../src/domain/storage-faults.js';
import type { StorageFault } from '../../src/domain/storage-faults.js';
import type { Stageline } from '../../src/stageline.js';
import { sqliteFault } from '../../src/storage/sqlite/sqlite-faults.js';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import { manualClock } from '../helpers/manual-clock.js';
import type { WirePipeline } from '../helpers/wire-types.js';
import { BASE, assertError, buildStageline, call, dealPipeline, json, logSink, newToken } from './support.js';

interface LogLine {
  level: number;
  msg: string;
  storageFault?: string;
}
const ERROR = 50;
const INFO = 30;

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'stageline-faults-'));
  dirs.push(dir);
  return join(dir, 'stageline.db');
}

/** A 503 naming the fault, in HubSpot's envelope, with Retry-After. */
function assertFault(res: LightMyRequestResponse, fault: StorageFault): void {
  const body = assertError(res, 503, 'SERVICE_UNAVAILABLE', STORAGE_FAULTS[fault].message);
  assert.equal(res.headers['retry-after'], String(STORAGE_FAULTS[fault].retryAfterSeconds));
  assert.equal(body.subCategory, `STORAGE_${fault.toUpperCase().replaceAll('-', '_')}`);
}

const storageLines = (lines: string[]) =>
  lines.map((l) => JSON.parse(l) as LogLine).filter((l) => l.storageFault !== undefined);

/** The log says a fault started once (at error) and ended once (at info), and nothing more. */
function assertOneEpisode(lines: string[], fault: StorageFault): void {
  assert.deepEqual(
    storageLines(lines).map((l) => [l.level, l.storageFault]),
    [
      [ERROR, fault],
      [INFO, fault],
    ],
  );
}

describe('sqliteFault', () => {
  it('classifies by code, extended codes by their primary one', () => {
    const cases: [string, StorageFault | undefined][] = [
      ['SQLITE_FULL', 'full'],
      ['SQLITE_IOERR', 'io'],
      ['SQLITE_IOERR_WRITE', 'io'],
      ['SQLITE_IOERR_FSYNC', 'io'],
      ['SQLITE_READONLY', 'read-only'],
      ['SQLITE_READONLY_DBMOVED', 'read-only'],
      ['SQLITE_BUSY', 'busy'],
      ['SQLITE_BUSY_SNAPSHOT', 'busy'],
      ['SQLITE_LOCKED', 'busy'],
      ['SQLITE_CONSTRAINT_UNIQUE', undefined],
      ['SQLITE_ERROR', undefined],
      ['SQLITE_FULLY_MADE_UP', undefined],
    ];
    for (const [code, fault] of cases) {
      assert.equal(sqliteFault(new Database.SqliteError('whatever', code)), fault, code);
    }
  });

  it('never by message text', () => {
    assert.equal(sqliteFault(new Error('database or disk is full')), undefined);
    assert.equal(
      sqliteFault(new Database.SqliteError('database or disk is full', 'SQLITE_ERROR')),
      undefined,
    );
    assert.equal(sqliteFault('SQLITE_FULL'), undefined);
  });
});

/**
 * The real SQLite store, with writes that throw `failWith` from inside their work while it is
 * set (as a repository statement failing with that error would).
 */
function failingStore(inner: Store): Store & { failWith: Error | undefined } {
  const store = {
    failWith: undefined as Error | undefined,
    write: <T>(work: (repo: Repository) => Promise<T>) =>
      inner.write(async (repo) => {
        const result = await work(repo);
        if (store.failWith !== undefined) throw store.failWith;
        return result;
      }),
    read: <T>(work: (repo: Repository) => Promise<T>) => inner.read(work),
    snapshot: <T>(work: (repo: Repository) => Promise<T>) => inner.snapshot(work),
    ping: () => inner.ping(),
    close: () => inner.close(),
  };
  return store;
}

describe('each SQLite fault over HTTP', () => {
  const cases: [string, StorageFault][] = [
    ['SQLITE_FULL', 'full'],
    ['SQLITE_IOERR_WRITE', 'io'],
    ['SQLITE_READONLY_DBMOVED', 'read-only'],
    ['SQLITE_BUSY', 'busy'],
    ['SQLITE_LOCKED', 'busy'],
  ];
  for (const [code, fault] of cases) {
    it(`${code}: 503 "${STORAGE_FAULTS[fault].message}", rolled back, logged once, then recovered`, async () => {
      const sink = logSink();
      const store = failingStore(new SqliteStore(':memory:'));
      const clock = manualClock(Date.now());
      const s = await buildStageline(
        { logLevel: 'info' },
        { store, logStream: sink.stream, clock: clock.now },
      );
      const token = newToken();
      try {
        assert.equal((await call(s, 'GET', `${BASE}/deals`, { token })).statusCode, 200);
        store.failWith = new Database.SqliteError(`a ${code}`, code);
        for (let i = 0; i < 3; i++) {
          assertFault(await call(s, 'POST', `${BASE}/deals`, { token, body: dealPipeline(`P${i}`) }), fault);
        }
        // Nothing of the refused writes was kept, and reads still work.
        const list = await call(s, 'GET', `${BASE}/deals`, { token });
        assert.equal(list.statusCode, 200);
        assert.deepEqual(
          json<{ results: WirePipeline[] }>(list).results.map((p) => p.label),
          ['Sales Pipeline'],
        );
        const health = await call(s, 'GET', '/health');
        assertError(health, 503, 'SERVICE_UNAVAILABLE', `Unhealthy: ${STORAGE_FAULTS[fault].reason}`);

        store.failWith = undefined;
        clock.advance(SETTLE_MS);
        assert.equal(
          (await call(s, 'POST', `${BASE}/deals`, { token, body: dealPipeline('P') })).statusCode,
          201,
        );
        assert.equal((await call(s, 'GET', '/health')).statusCode, 200);
      } finally {
        await s.close();
      }
      const lines = storageLines(sink.lines);
      assert.deepEqual(
        lines.map((l) => [l.level, l.storageFault]),
        [
          [ERROR, fault],
          [INFO, fault],
        ],
        sink.lines.join('\n'),
      );
      assert.ok(!sink.lines.some((l) => l.includes('unhandled error')), 'logged as unhandled');
    });
  }

  it('a fault that changes starts a new episode: each cause is logged once', async () => {
    const sink = logSink();
    const store = failingStore(new SqliteStore(':memory:'));
    const s = await buildStageline({ logLevel: 'info' }, { store, logStream: sink.stream });
    const token = newToken();
    try {
      assert.equal((await call(s, 'GET', `${BASE}/deals`, { token })).statusCode, 200);
      for (const code of ['SQLITE_IOERR', 'SQLITE_IOERR', 'SQLITE_FULL', 'SQLITE_FULL', 'SQLITE_FULL']) {
        store.failWith = new Database.SqliteError(code, code);
        assert.equal(
          (await call(s, 'POST', `${BASE}/deals`, { token, body: dealPipeline('P') })).statusCode,
          503,
        );
      }
    } finally {
      await s.close();
    }
    assert.deepEqual(
      storageLines(sink.lines).map((l) => [l.level, l.storageFault]),
      [
        [ERROR, 'io'],
        [ERROR, 'full'],
      ],
    );
  });
});

describe('StorageHealth', () => {
  const full = () => new StorageUnavailableError('full', { fault: 'full' });
  function health() {
    const clock = manualClock();
    const logged: string[] = [];
    const log = {
      error: () => void logged.push('error'),
      info: () => void logged.push('info'),
    };
    return { h: new StorageHealth(log, clock.now), clock, logged };
  }

  it('a write that fits between refused ones is the same episode; it ends once writes succeed for a while', () => {
    const { h, clock, logged } = health();
    h.failed(full());
    clock.advance(100);
    h.succeeded('write');
    h.failed(full());
    h.failed(full());
    assert.equal(h.current()?.refused, 3);
    h.succeeded('write');
    clock.advance(SETTLE_MS - 1);
    assert.equal(h.current()?.fault, 'full', 'ended before writes went SETTLE_MS without failing');
    clock.advance(1);
    assert.equal(h.current(), undefined);
    assert.deepEqual(logged, ['error', 'info']);
  });

  it('a write that stored nothing does not end a write fault; one that stored something does', async () => {
    const { h, clock } = health();
    const repo = {
      findTokenByHash: async () => undefined,
      saveRecord: async () => undefined,
    } as unknown as Repository;
    let fail = true;
    const inner: Store = {
      write: async (work) => {
        if (fail) throw full();
        return work(repo);
      },
      read: (work) => work(repo),
      snapshot: (work) => work(repo),
      ping: async () => undefined,
      close: async () => undefined,
    };
    const store = watchedStore(inner, h);
    await assert.rejects(
      store.write((r) => r.saveRecord(1, 'deals', {} as never)),
      StorageUnavailableError,
    );
    fail = false;
    await store.write((r) => r.findTokenByHash('x'));
    clock.advance(SETTLE_MS);
    assert.equal(h.current()?.fault, 'full');
    await store.write((r) => r.saveRecord(1, 'deals', {} as never));
    assert.equal(h.current(), undefined);
  });

  it('reads do not end a write fault; they end an outage', () => {
    const { h, clock } = health();
    h.failed(full());
    h.succeeded('read');
    clock.advance(SETTLE_MS);
    assert.equal(h.current()?.fault, 'full');
    h.failed(new StorageUnavailableError('away'));
    h.succeeded('read');
    clock.advance(SETTLE_MS);
    assert.equal(h.current(), undefined);
  });
});

describe('SQLite’s own errors', () => {
  /** A file database whose connection the test holds. */
  async function open(): Promise<{
    s: Stageline;
    db: Database.Database;
    lines: string[];
    advance: (ms: number) => void;
  }> {
    let db: Database.Database | undefined;
    const store = new SqliteStore(tempFile(), { configure: (conn) => (db = conn) });
    const sink = logSink();
    const clock = manualClock(Date.now());
    const s = await buildStageline({ logLevel: 'info' }, { store, logStream: sink.stream, clock: clock.now });
    return { s, db: db!, lines: sink.lines, advance: clock.advance };
  }

  it('a full database: writes are 503 "Storage is full" and leave nothing; reads work; it recovers', async () => {
    const { s, db, lines, advance } = await open();
    const token = newToken();
    try {
      assert.equal((await call(s, 'GET', `${BASE}/deals`, { token })).statusCode, 200);
      db.pragma(`max_page_count = ${Number(db.pragma('page_count', { simple: true })) + 60}`);
      // Concurrent writers, so that failures meet writes grouped in one transaction.
      const acknowledged: string[] = [];
      let refused = 0;
      for (let round = 0; round < 40 && refused < 8; round++) {
        const answers = await Promise.all(
          Array.from({ length: 4 }, async (_, i) => {
            const label = `R${round}-${i} ${'x'.repeat(200)}`;
            const body = dealPipeline(label, 1, ['A', 'B', 'C', 'D', 'E']);
            return { label, res: await call(s, 'POST', `${BASE}/deals`, { token, body }) };
          }),
        );
        for (const { label, res } of answers) {
          if (res.statusCode === 201) acknowledged.push(label);
          else {
            assertFault(res, 'full');
            refused += 1;
          }
        }
      }
      assert.ok(refused >= 8, `only ${refused} writes refused`);
      assert.ok(acknowledged.length > 0, 'nothing acknowledged before the database filled');

      // Exactly the acknowledged pipelines, each whole, and their audits.
      const list = await call(s, 'GET', `${BASE}/deals`, { token });
      assert.equal(list.statusCode, 200, list.body);
      const pipelines = json<{ results: WirePipeline[] }>(list).results.filter(
        (p) => p.label !== 'Sales Pipeline',
      );
      assert.deepEqual(pipelines.map((p) => p.label).sort(), [...acknowledged].sort());
      for (const p of pipelines) assert.equal(p.stages.length, 5);
      const audit = await call(s, 'GET', `${BASE}/deals/${pipelines[0]!.id}/audit`, { token });
      assert.equal(audit.statusCode, 200);

      const health = await call(s, 'GET', '/health');
      assertError(health, 503, 'SERVICE_UNAVAILABLE', 'Unhealthy: storage is full: writes are not saved');
      assert.equal(health.headers['retry-after'], '5');

      db.pragma('max_page_count = 1000000');
      advance(SETTLE_MS);
      // No client write is needed: /health's own write ends the episode.
      assert.deepEqual(json(await call(s, 'GET', '/health')), { status: 'ok' });
      const again = await call(s, 'POST', `${BASE}/deals`, { token, body: dealPipeline('After') });
      assert.equal(again.statusCode, 201, again.body);
      assert.deepEqual(json(await call(s, 'GET', '/health')), { status: 'ok' });
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    } finally {
      await s.close();
    }
    assertOneEpisode(lines, 'full');
    assert.ok(!lines.some((l) => l.includes('unhandled error')), 'logged as unhandled');
  });

  it('/health ends a write fault by itself: its own write fails while the fault lasts, then succeeds', async () => {
    const { s, db, lines, advance } = await open();
    const token = newToken();
    const probe = () => db.prepare('SELECT at FROM health_probe').pluck().get() as number | undefined;
    try {
      assert.equal(
        (await call(s, 'POST', `${BASE}/deals`, { token, body: dealPipeline('Before') })).statusCode,
        201,
      );
      db.pragma('query_only = ON');
      assertFault(await call(s, 'POST', `${BASE}/deals`, { token, body: dealPipeline('RO') }), 'read-only');
      advance(SETTLE_MS);
      // Its write is refused too: the fault goes on, however long nothing else writes.
      assertError(await call(s, 'GET', '/health'), 503, 'SERVICE_UNAVAILABLE', /read-only/);
      assert.equal(probe(), undefined);

      db.pragma('query_only = OFF');
      advance(SETTLE_MS);
      assert.deepEqual(json(await call(s, 'GET', '/health')), { status: 'ok' });
      assert.equal(typeof probe(), 'number', "the probe's row was written");
      assert.deepEqual(json(await call(s, 'GET', '/health')), { status: 'ok' });
    } finally {
      await s.close();
    }
    assertOneEpisode(lines, 'read-only');
  });

  it('a read-only database: writes are 503 "Storage is read-only"; reads and /health say so; it recovers', async () => {
    const { s, db, lines, advance } = await open();
    const token = newToken();
    try {
      assert.equal((await call(s, 'GET', `${BASE}/deals`, { token })).statusCode, 200);
      db.pragma('query_only = ON');
      assertFault(await call(s, 'POST', `${BASE}/deals`, { token, body: dealPipeline('RO') }), 'read-only');
      const read = await call(s, 'GET', `${BASE}/deals`, { token });
      assert.equal(read.statusCode, 200, read.body);
      assertError(await call(s, 'GET', '/health'), 503, 'SERVICE_UNAVAILABLE', /read-only/);
      // A read does not end the episode: only a write that succeeds does.
      assert.equal((await call(s, 'GET', `${BASE}/deals/default`, { token })).statusCode, 200);
      assert.equal((await call(s, 'GET', '/health')).statusCode, 503);

      db.pragma('query_only = OFF');
      advance(SETTLE_MS);
      assert.equal(
        (await call(s, 'POST', `${BASE}/deals`, { token, body: dealPipeline('RW') })).statusCode,
        201,
      );
      assert.equal((await call(s, 'GET', '/health')).statusCode, 200);
    } finally {
      await s.close();
    }
    assertOneEpisode(lines, 'read-only');
  });
});

describe('the SQLite store after SQLITE_FULL', () => {
  it('rolls back every write of the group, fails them by cause, and takes the next one', async () => {
    let db: Database.Database | undefined;
    const store = new SqliteStore(tempFile(), { configure: (conn) => (db = conn) });
    try {
      await store.write((repo) => repo.ensurePortal(1, 0));
      db!.pragma(`max_page_count = ${Number(db!.pragma('page_count', { simple: true }))}`);
      const big = 'x'.repeat(100_000);
      // Queued together: one transaction; the second write fills the database.
      const small = store.write((repo) => repo.setPortalSeed(1, '{"small":true}'));
      const huge = store.write((repo) => repo.setPortalSeed(1, big));
      const after = store.write((repo) => repo.setNextId(1, 4242));
      for (const write of [small, huge, after]) {
        await assert.rejects(write, (err: unknown) => {
          assert.ok(err instanceof StorageUnavailableError, String(err));
          assert.equal(err.fault, 'full');
          return true;
        });
      }
      assert.equal(await store.read((repo) => repo.portalSeed(1)), undefined);
      db!.pragma('max_page_count = 1000000');
      await store.write((repo) => repo.setPortalSeed(1, big));
      assert.equal((await store.read((repo) => repo.portalSeed(1)))?.length, big.length);
    } finally {
      await store.close();
    }
  });
});
