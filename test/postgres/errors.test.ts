// How the PostgreSQL store tells an outage from a bad request: only the driver's and the socket's
// errors, by code, are "the database is not reachable" (503). A pipeline called "timeout" is not an
// outage, and a refused write rolls back and hands its connection back. An import with more audit
// entries than PostgreSQL takes parameters in one statement goes through.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import pg from 'pg';

import { exportData, importData } from '../../src/app/transfer.js';
import { loadConfig } from '../../src/config.js';
import { DomainError } from '../../src/domain/errors.js';
import { createStageline } from '../../src/stageline.js';
import type { Stageline } from '../../src/stageline.js';
import type { Repository, Store } from '../../src/domain/ports.js';
import { SETTLE_MS } from '../../src/app/storage-health.js';
import { STORAGE_FAULTS } from '../../src/domain/storage-faults.js';
import type { StorageFault } from '../../src/domain/storage-faults.js';
import { isUnavailable, storageFault } from '../../src/storage/postgres/postgres-store.js';
import { logSink } from '../http/support.js';
import { POSTGRES_URL, freshPostgresUrl, postgresSkipReason } from '../helpers/postgres.js';

const skip = await postgresSkipReason();

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('isUnavailable', () => {
  it('counts the driver’s and the socket’s errors by code', () => {
    for (const err of [
      withCode('terminating connection due to administrator command', '57P01'),
      withCode('the database system is in recovery mode', '57P03'),
      withCode('sorry, too many clients already', '53300'),
      withCode('canceling statement due to statement timeout', '57014'),
      withCode('connection failure', '08006'),
      withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'),
      new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'),
      new Error('Query read timeout'),
    ]) {
      assert.equal(isUnavailable(err), true, err.message);
    }
  });

  it('never counts a message alone, nor Stageline’s own errors', () => {
    for (const err of [
      new DomainError('OBJECT_NOT_FOUND', 'Unable to find pipeline timeout for object type deals'),
      new DomainError('VALIDATION_ERROR', 'An active pipeline with label Timeout already exists.'),
      new Error('the export timeout setting is wrong'),
      withCode('duplicate key value violates unique constraint', '23505'),
      'Connection terminated',
      undefined,
    ]) {
      assert.equal(isUnavailable(err), false, String(err));
    }
  });
});

describe('storageFault', () => {
  it('names the cause of each SQLSTATE and socket error that is the database’s, not the request’s', () => {
    const cases: [unknown, StorageFault][] = [
      [withCode('could not extend file "base/16384/16385": No space left on device', '53100'), 'full'],
      [withCode('cannot execute INSERT in a read-only transaction', '25006'), 'read-only'],
      [withCode('cannot execute SELECT FOR UPDATE during recovery', '25006'), 'read-only'],
      [withCode('sorry, too many clients already', '53300'), 'too-many-connections'],
      [withCode('the database system is in recovery mode', '57P03'), 'recovering'],
      [withCode('the database system is starting up', '57P03'), 'recovering'],
      [withCode('terminating connection due to administrator command', '57P01'), 'unreachable'],
      [withCode('terminating connection because of crash of another server process', '57P02'), 'unreachable'],
      [withCode('connection failure', '08006'), 'unreachable'],
      [withCode('could not connect', '08001'), 'unreachable'],
      [withCode('canceling statement due to statement timeout', '57014'), 'timeout'],
      [withCode('canceling statement due to lock timeout', '55P03'), 'busy'],
      [withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'), 'unreachable'],
      [withCode('read ECONNRESET', 'ECONNRESET'), 'unreachable'],
      [withCode('connect ETIMEDOUT', 'ETIMEDOUT'), 'timeout'],
      [new Error('Connection terminated unexpectedly'), 'unreachable'],
      [new Error('timeout exceeded when trying to connect'), 'timeout'],
      [new Error('Query read timeout'), 'timeout'],
    ];
    for (const [err, fault] of cases) assert.equal(storageFault(err), fault, String(err));
  });

  it('leaves the request’s errors, and messages alone, unclassified', () => {
    for (const err of [
      withCode('duplicate key value violates unique constraint', '23505'),
      withCode('could not serialize access', '40001'),
      withCode('relation "x" does not exist', '42P01'),
      withCode('No space left on device', 'XX000'),
      new Error('could not extend file: No space left on device'),
      new Error('cannot execute INSERT in a read-only transaction'),
      new DomainError('VALIDATION_ERROR', 'the database system is in recovery mode'),
    ]) {
      assert.equal(storageFault(err), undefined, String(err));
    }
  });

  it('counts only an away database as unavailable (its connection is dropped)', () => {
    for (const code of ['53100', '25006', '55P03'])
      assert.equal(isUnavailable(withCode('x', code)), false, code);
  });
});

/** The store, with writes that throw `failWith` from inside their transaction while it is set. */
function failingStore(inner: Store): Store & { failWith: Error | undefined } {
  const store = {
    failWith: undefined as Error | undefined,
    write: <T>(work: (repo: Repository) => Promise<T>, scope?: { portalId?: number }) =>
      inner.write(async (repo) => {
        const result = await work(repo);
        if (store.failWith !== undefined) throw store.failWith;
        return result;
      }, scope),
    read: <T>(work: (repo: Repository) => Promise<T>) => inner.read(work),
    snapshot: <T>(work: (repo: Repository) => Promise<T>) => inner.snapshot(work),
    ping: () => inner.ping(),
    close: () => inner.close(),
  };
  return store;
}

interface FaultLogLine {
  level: number;
  storageFault?: string;
}

describe('PostgreSQL faults over HTTP, by cause', { skip }, () => {
  const cases: [string, StorageFault][] = [
    ['53100', 'full'],
    ['25006', 'read-only'],
    ['53300', 'too-many-connections'],
    ['57P03', 'recovering'],
    ['57014', 'timeout'],
    ['55P03', 'busy'],
    ['08006', 'unreachable'],
  ];
  for (const [code, fault] of cases) {
    it(`SQLSTATE ${code}: 503 "${STORAGE_FAULTS[fault].message}", rolled back, logged once`, async () => {
      const sink = logSink();
      const { openStore } = await import('../../src/stageline.js');
      const store = failingStore(await openStore(freshPostgresUrl(), { poolSize: 2, dbTimeoutMs: 5000 }));
      const s = await createStageline(
        loadConfig({ database: 'unused', auth: 'open', logLevel: 'info', rateLimit: 'off' }, {}),
        { store, logStream: sink.stream },
      );
      const headers = { authorization: 'Bearer faults-portal' };
      try {
        assert.equal(
          (await s.app.inject({ method: 'GET', url: '/crm/v3/pipelines/deals', headers })).statusCode,
          200,
        );
        store.failWith = withCode(`a ${code}`, code);
        for (let i = 0; i < 3; i++) {
          const res = await s.app.inject({
            method: 'POST',
            url: '/crm/v3/pipelines/deals',
            headers,
            payload: {
              label: `P${i}`,
              displayOrder: 1,
              stages: [{ label: 'A', displayOrder: 0, metadata: { probability: 0.5 } }],
            },
          });
          assert.equal(res.statusCode, 503, res.body);
          assert.equal(res.headers['retry-after'], String(STORAGE_FAULTS[fault].retryAfterSeconds));
          const body = res.json<{
            status: string;
            message: string;
            category: string;
            correlationId: string;
          }>();
          assert.equal(body.status, 'error');
          assert.equal(body.category, 'SERVICE_UNAVAILABLE');
          assert.equal(body.message, STORAGE_FAULTS[fault].message);
          assert.equal(body.correlationId, res.headers['x-hubspot-correlation-id']);
        }
        store.failWith = undefined;
        const list = await s.app.inject({ method: 'GET', url: '/crm/v3/pipelines/deals', headers });
        assert.deepEqual(
          list.json<{ results: { label: string }[] }>().results.map((p) => p.label),
          ['Sales Pipeline'],
          'a refused write was kept',
        );
      } finally {
        await s.close();
      }
      const faults = sink.lines
        .map((l) => JSON.parse(l) as FaultLogLine)
        .filter((l) => l.storageFault !== undefined && l.level === 50);
      assert.deepEqual(
        faults.map((l) => l.storageFault),
        [fault],
        sink.lines.join('\n'),
      );
    });
  }
});

describe('a read-only PostgreSQL database (default_transaction_read_only)', { skip }, () => {
  const name = `stageline_test_ro_${randomBytes(5).toString('hex')}`;
  const adminUrl = POSTGRES_URL;
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  let admin: pg.Client;
  const sink = logSink();
  let s: Stageline | undefined;

  /** Sets or resets the database's default, and ends its sessions so that new ones take it. */
  async function readOnly(on: boolean): Promise<void> {
    await admin.query(
      `ALTER DATABASE ${name} ${on ? 'SET default_transaction_read_only = on' : 'RESET default_transaction_read_only'}`,
    );
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]);
  }

  before(async () => {
    if (skip !== undefined) return;
    admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    s = await createStageline(
      loadConfig(
        { database: url.toString(), auth: 'open', logLevel: 'info', rateLimit: 'off', poolSize: 2 },
        {},
      ),
      { logStream: sink.stream },
    );
  });
  after(async () => {
    if (skip !== undefined) return;
    await s?.close();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  });

  it('writes answer 503 "Storage is read-only", reads work, /health says so; all recover', async () => {
    const headers = { authorization: 'Bearer read-only-portal' };
    const inject = (method: 'GET' | 'POST', path: string, payload?: object) =>
      s!.app.inject({ method, url: path, headers, payload });
    const pipeline = (label: string) => ({
      label,
      displayOrder: 1,
      stages: [{ label: 'A', displayOrder: 0, metadata: { probability: 0.5 } }],
    });
    assert.equal((await inject('POST', '/crm/v3/pipelines/deals', pipeline('Before'))).statusCode, 201);
    await readOnly(true);

    // The first request after the sessions ended may meet a dropped connection; then every
    // write is refused by the read-only database itself.
    const deadline = Date.now() + 10_000;
    let res = await inject('POST', '/crm/v3/pipelines/deals', pipeline('During'));
    while (
      res.json<{ message: string }>().message !== STORAGE_FAULTS['read-only'].message &&
      Date.now() < deadline
    ) {
      assert.equal(res.statusCode, 503, res.body);
      res = await inject('POST', '/crm/v3/pipelines/deals', pipeline('During'));
    }
    assert.equal(res.statusCode, 503, res.body);
    assert.equal(res.json<{ message: string }>().message, 'Storage is read-only: the write was not saved');
    assert.equal(res.headers['retry-after'], '5');

    const read = await inject('GET', '/crm/v3/pipelines/deals');
    assert.equal(read.statusCode, 200, read.body);
    assert.deepEqual(
      read
        .json<{ results: { label: string }[] }>()
        .results.map((p) => p.label)
        .sort(),
      ['Before', 'Sales Pipeline'],
    );
    const health = await s!.app.inject({ method: 'GET', url: '/health' });
    assert.equal(health.statusCode, 503, health.body);
    assert.match(health.json<{ message: string }>().message, /read-only/);

    await readOnly(false);
    let after = await inject('POST', '/crm/v3/pipelines/deals', pipeline('After'));
    const until = Date.now() + 10_000;
    while (after.statusCode === 503 && Date.now() < until) {
      after = await inject('POST', '/crm/v3/pipelines/deals', pipeline('After'));
    }
    assert.equal(after.statusCode, 201, after.body);
    // Healthy once writes have gone SETTLE_MS without failing.
    let healthy = await s!.app.inject({ method: 'GET', url: '/health' });
    for (let i = 0; i < 30 && healthy.statusCode !== 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      await inject('POST', '/crm/v3/pipelines/deals', pipeline(`After ${i}`));
      healthy = await s!.app.inject({ method: 'GET', url: '/health' });
    }
    assert.equal(healthy.statusCode, 200, healthy.body);
    // An episode ends at the first operation once SETTLE_MS have gone by without a failure.
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    assert.equal((await inject('POST', '/crm/v3/pipelines/deals', pipeline('Last'))).statusCode, 201);
    // Logged once at error, however many writes were refused. Ending the sessions may show as a
    // dropped connection (`unreachable`) in between; the last word is a recovery.
    const logged = sink.lines
      .map((l) => JSON.parse(l) as FaultLogLine)
      .filter((l) => l.storageFault !== undefined);
    assert.equal(logged.filter((l) => l.storageFault === 'read-only' && l.level === 50).length, 1);
    assert.equal(logged.at(-1)?.level, 30, JSON.stringify(logged));
  });
});

describe('PostgreSQL errors over HTTP', { skip }, () => {
  let s: Stageline;
  const url = skip === undefined ? freshPostgresUrl() : '';
  const call = (method: 'GET' | 'POST', path: string, payload?: object) =>
    s.app.inject({ method, url: path, headers: { authorization: 'Bearer errors-portal' }, payload });
  const pipeline = (label: string) => ({
    label,
    displayOrder: 1,
    stages: [{ label: 'Open', displayOrder: 0, metadata: { probability: 0.5 } }],
  });

  before(async () => {
    // One connection: a refused write that kept its transaction open would block the next one.
    s = await createStageline(
      loadConfig({ database: url, auth: 'open', logLevel: 'silent', poolSize: 1 }, {}),
    );
  });
  after(() => s?.close());

  it('GET of a pipeline called "timeout" is a 404, not a 503', async () => {
    const res = await call('GET', '/crm/v3/pipelines/deals/timeout');
    assert.equal(res.statusCode, 404, res.body);
    assert.equal(res.json<{ category: string }>().category, 'OBJECT_NOT_FOUND');
  });

  it('a second pipeline labelled "Timeout" is a 400; the refused write rolled back', async () => {
    assert.equal((await call('POST', '/crm/v3/pipelines/deals', pipeline('Timeout'))).statusCode, 201);
    const again = await call('POST', '/crm/v3/pipelines/deals', pipeline('Timeout'));
    assert.equal(again.statusCode, 400, again.body);
    assert.match(again.json<{ message: string }>().message, /Timeout already exists/);
    // The single connection came back usable, outside any transaction: on an aborted one left
    // open, this write would fail.
    assert.equal((await call('POST', '/crm/v3/pipelines/deals', pipeline('After'))).statusCode, 201);
  });

  it('imports a portal with more audit entries than one statement takes parameters', async () => {
    const doc = await exportData(s.store);
    const portal = doc.portals[0]!;
    const entries = 10_000;
    const template = portal.audit[0]!;
    const big = {
      ...doc,
      portals: [
        {
          ...portal,
          id: portal.id + 1,
          tokens: [],
          audit: Array.from({ length: entries }, (_, i) => ({
            ...template,
            portalId: portal.id + 1,
            timestamp: i,
          })),
        },
      ],
    };
    const target = await createStageline(
      loadConfig({ database: freshPostgresUrl(), auth: 'open', logLevel: 'silent' }, {}),
    );
    try {
      const result = await importData(target.store, big);
      assert.equal(result.audit, entries);
      const back = await exportData(target.store, portal.id + 1);
      assert.equal(back.portals[0]!.audit.length, entries);
      assert.deepEqual(
        back.portals[0]!.audit.slice(0, 3).map((e) => e.timestamp),
        [0, 1, 2],
      );
    } finally {
      await target.close();
    }
  });
});
