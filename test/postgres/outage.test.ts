// A PostgreSQL outage seen through an in-process TCP proxy: while the database is away every
// request answers 503 in HubSpot's envelope quickly (no hang), /health says so, and once the
// database is back Stageline recovers on its own, with the data written before intact. Starting
// against a database that is not there fails fast.

import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';

import { loadConfig } from '../../src/config.js';
import { StorageUnavailableError } from '../../src/domain/ports.js';
import { createStageline, type Stageline } from '../../src/stageline.js';
import type { WireCollection, WireError, WirePipeline } from '../helpers/wire-types.js';
import { POSTGRES_URL, freshPostgresUrl, postgresSkipReason } from '../helpers/postgres.js';
import { BASE, JSON_TYPE, UUID, call, dealPipeline, json, newToken } from '../http/support.js';

const skip = await postgresSkipReason();
const DB_TIMEOUT_MS = 1000;
/** Each request answers within this while the database is away. */
const ANSWER_BOUND_MS = 3000;
/** Stageline is healthy again within this once the database is back. */
const RECOVERY_BOUND_MS = 5000;

type Mode = 'up' | 'drop' | 'refuse' | 'stall';

/**
 * A TCP proxy to PostgreSQL. `drop`: live connections are destroyed and new ones closed on
 * accept; `refuse`: as drop, and the port is closed (ECONNREFUSED); `stall`: connections stay
 * open but nothing is forwarded either way (a network black hole).
 */
class Proxy {
  private server: Server | undefined;
  private readonly pairs = new Set<{ client: Socket; upstream: Socket }>();
  private mode: Mode = 'up';
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async listen(port = 0): Promise<void> {
    const server = createServer((client) => this.accept(client));
    await new Promise<void>((done, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => done());
    });
    const address = server.address();
    assert.ok(address !== null && typeof address === 'object');
    this.port = address.port;
    this.server = server;
  }

  private accept(client: Socket): void {
    if (this.mode === 'drop' || this.mode === 'refuse') {
      client.destroy();
      return;
    }
    client.on('error', () => undefined);
    if (this.mode === 'stall') {
      // Held open and silent; destroyed on restore.
      this.pairs.add({ client, upstream: client });
      return;
    }
    const upstream = connect(this.target.port, this.target.host);
    upstream.on('error', () => undefined);
    const pair = { client, upstream };
    this.pairs.add(pair);
    const end = () => {
      client.destroy();
      upstream.destroy();
      this.pairs.delete(pair);
    };
    client.on('close', end);
    upstream.on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  }

  private destroyAll(): void {
    for (const { client, upstream } of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.pairs.clear();
  }

  async outage(mode: Exclude<Mode, 'up'>): Promise<void> {
    this.mode = mode;
    if (mode === 'stall') {
      for (const { client, upstream } of this.pairs) {
        client.unpipe();
        upstream.unpipe();
        client.pause();
        upstream.pause();
      }
      return;
    }
    this.destroyAll();
    if (mode === 'refuse') await this.closeServer();
  }

  async restore(): Promise<void> {
    this.destroyAll();
    const wasRefusing = this.mode === 'refuse';
    this.mode = 'up';
    if (wasRefusing) await this.listen(this.port);
  }

  private async closeServer(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((done) => server.close(() => done()));
  }

  async close(): Promise<void> {
    this.destroyAll();
    await this.closeServer();
  }
}

const target = new URL(POSTGRES_URL);

// A connection dropped under a checked-out client must not become an uncaught exception: in a
// real `stageline serve` process, with no such listener, it would crash the server.
const uncaught: string[] = [];
process.on('uncaughtException', (err) => uncaught.push(err.stack ?? String(err)));

function assertNoUncaught(when: string): void {
  assert.deepEqual(uncaught.splice(0), [], `uncaught exceptions ${when} (each would crash a real server)`);
}

/** A fresh-schema database URL whose host and port are the proxy's. */
function throughProxy(port: number): string {
  const url = new URL(freshPostgresUrl());
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return url.toString();
}

const configFor = (database: string) =>
  loadConfig({ database, auth: 'open', logLevel: 'silent', dbTimeoutMs: DB_TIMEOUT_MS, poolSize: 4 }, {});

interface Timed {
  status: number;
  ms: number;
  headers: Record<string, unknown>;
  body: string;
}

async function timed(
  s: Stageline,
  method: 'GET' | 'POST' | 'PATCH',
  url: string,
  token: string | null,
  body?: unknown,
): Promise<Timed> {
  const started = performance.now();
  const res = await call(s, method, url, { token, ...(body !== undefined && { body }) });
  return { status: res.statusCode, ms: performance.now() - started, headers: res.headers, body: res.body };
}

/** HubSpot's envelope for a 503, answered within the bound. */
function assertUnavailable(r: Timed, what: string): void {
  assert.ok(r.ms < ANSWER_BOUND_MS, `${what} took ${r.ms.toFixed(0)} ms (bound ${ANSWER_BOUND_MS} ms)`);
  assert.equal(r.status, 503, `${what}: ${r.status} ${r.body}`);
  assert.equal(r.headers['content-type'], JSON_TYPE, what);
  const e = JSON.parse(r.body) as WireError;
  assert.equal(e.status, 'error', what);
  assert.equal(e.category, 'SERVICE_UNAVAILABLE', what);
  assert.equal(typeof e.message, 'string');
  assert.ok(e.message.length > 0);
  assert.match(e.correlationId, UUID, what);
  assert.equal(r.headers['x-hubspot-correlation-id'], e.correlationId, what);
}

/** Polls until `check` passes, failing after `bound` ms with the last error. */
async function eventually(bound: number, check: () => Promise<void>): Promise<number> {
  const started = performance.now();
  for (;;) {
    try {
      await check();
      return performance.now() - started;
    } catch (err) {
      if (performance.now() - started > bound) throw err;
      await new Promise((done) => setTimeout(done, 100));
    }
  }
}

describe('PostgreSQL outage behind a proxy', { skip }, () => {
  const proxy = new Proxy({ host: target.hostname, port: Number(target.port || 5432) });
  let s: Stageline | undefined;
  const token = newToken();
  let kept: WirePipeline | undefined;
  let counter = 0;

  before(async () => {
    await proxy.listen();
    s = await createStageline(configFor(throughProxy(proxy.port)));
  });

  after(async () => {
    await s?.close();
    await proxy.close();
  });

  const stageline = (): Stageline => {
    assert.ok(s, 'Stageline did not start');
    return s;
  };

  async function assertHealthy(): Promise<void> {
    const health = await timed(stageline(), 'GET', '/health', null);
    assert.equal(health.status, 200, health.body);
    assert.deepEqual(JSON.parse(health.body), { status: 'ok' });
    const got = await timed(stageline(), 'GET', `${BASE}/deals/${kept?.id}`, token);
    assert.equal(got.status, 200, got.body);
    assert.deepEqual(JSON.parse(got.body), kept, 'the pipeline written before the outage is intact');
  }

  /** During an outage: reads, writes, a new portal and /health all answer 503 promptly. */
  async function assertOutage(mode: Exclude<Mode, 'up'>): Promise<void> {
    const sid = stageline();
    // Until the change feed has seen the outage, cached reads may still answer 200; a request that
    // needs the database (here /health) makes it notice.
    await eventually(ANSWER_BOUND_MS, async () => {
      await timed(sid, 'GET', '/health', null);
      assert.equal(sid.store.changes?.live(), false, 'the change feed has not noticed the outage');
    });
    const requests: Array<[string, () => Promise<Timed>]> = [
      ['GET pipeline', () => timed(sid, 'GET', `${BASE}/deals/${kept?.id}`, token)],
      ['GET pipelines', () => timed(sid, 'GET', `${BASE}/deals`, token)],
      ['GET audit', () => timed(sid, 'GET', `${BASE}/deals/${kept?.id}/audit`, token)],
      [
        'POST pipeline',
        () => timed(sid, 'POST', `${BASE}/deals`, token, dealPipeline(`During ${counter++}`)),
      ],
      ['PATCH pipeline', () => timed(sid, 'PATCH', `${BASE}/deals/${kept?.id}`, token, { label: 'Never' })],
      // A token not seen before: opening its portal is a write.
      ['GET with a new portal', () => timed(sid, 'GET', `${BASE}/deals`, newToken())],
    ];
    // Twice over, all at once (more than the pool holds), then once more one by one (skipped
    // when stalled, where each one takes the connect timeout).
    const concurrent = await Promise.all([...requests, ...requests].map(([, run]) => run()));
    const sequential: Timed[] = [];
    if (mode !== 'stall') for (const [, run] of requests) sequential.push(await run());
    const health = await timed(sid, 'GET', '/health', null);
    const all: Array<[string, Timed]> = [
      ...concurrent.map((r, i): [string, Timed] => [`${requests[i % requests.length]![0]}`, r]),
      ...sequential.map((r, i): [string, Timed] => [`${requests[i]![0]} (sequential)`, r]),
      ['GET /health', health],
    ];
    console.log(
      `${mode}: answers in ms: ${all.map(([what, r]) => `${what} ${r.status} ${r.ms.toFixed(0)}`).join(', ')}`,
    );
    for (const [what, r] of all) assertUnavailable(r, `${mode}: ${what}`);
  }

  async function assertRecovers(mode: string): Promise<void> {
    const ms = await eventually(RECOVERY_BOUND_MS, assertHealthy);
    console.log(`${mode}: healthy again ${ms.toFixed(0)} ms after the database came back`);
    // Writes work again, and nothing attempted during the outage was committed.
    const created = await timed(stageline(), 'POST', `${BASE}/deals`, token, dealPipeline(`After ${mode}`));
    assert.equal(created.status, 201, created.body);
    const list = await timed(stageline(), 'GET', `${BASE}/deals`, token);
    assert.equal(list.status, 200, list.body);
    const labels = JSON.parse(list.body) as WireCollection<WirePipeline>;
    assert.deepEqual(
      labels.results.filter((p) => p.label.startsWith('During ')).map((p) => p.label),
      [],
      'a write answered 503 was committed',
    );
    const audit = await timed(stageline(), 'GET', `${BASE}/deals/${kept?.id}/audit`, token);
    assert.equal(audit.status, 200, audit.body);
    assert.equal(
      (JSON.parse(audit.body) as WireCollection<unknown>).results.length,
      1,
      'only the CREATE: no PATCH got through',
    );
  }

  it('healthy: requests answer 200 through the proxy', async () => {
    const created = await call(stageline(), 'POST', `${BASE}/deals`, {
      token,
      body: dealPipeline('Before the outage', 1, ['Open', 'Middle', 'Won']),
    });
    assert.equal(created.statusCode, 201, created.body);
    kept = json<WirePipeline>(created);
    await assertHealthy();
  });

  for (const mode of ['drop', 'refuse'] as const) {
    it(`outage (${mode} connections): 503 envelopes within ${ANSWER_BOUND_MS} ms, then recovery without a restart`, async () => {
      assert.ok(kept, 'the healthy test did not run');
      await proxy.outage(mode);
      try {
        await assertOutage(mode);
      } finally {
        await proxy.restore();
      }
      await assertRecovers(mode);
      assertNoUncaught(`in the ${mode} outage`);
    });
  }

  it(`outage (stalled network): 503 envelopes within ${ANSWER_BOUND_MS} ms, then recovery`, async () => {
    assert.ok(kept, 'the healthy test did not run');
    // Pooled connections exist (the previous test used them): they go silent, as do new ones.
    await proxy.outage('stall');
    try {
      await assertOutage('stall');
    } finally {
      await proxy.restore();
    }
    await assertRecovers('stall');
    assertNoUncaught('in the stall outage');
  });

  it('connections dropped while writes are in flight: each answers 201 or 503 promptly, 201s are kept', async () => {
    assert.ok(kept, 'the healthy test did not run');
    const sid = stageline();
    const writes = Array.from({ length: 20 }, (_, i) =>
      timed(sid, 'POST', `${BASE}/deals`, token, dealPipeline(`In flight ${i}`)),
    );
    // The writes of one portal run one after another: once the first is answered, one is
    // mid-transaction and the rest wait for the portal lock when the connections drop.
    const first = await Promise.race(writes);
    assert.equal(first.status, 201, first.body);
    await proxy.outage('drop');
    let answers: Timed[];
    try {
      answers = await Promise.all(writes);
    } finally {
      await proxy.restore();
    }
    const statuses = answers.map((r) => r.status);
    console.log(`in flight: ${statuses.filter((x) => x === 201).length} of 20 created before the drop`);
    assert.ok(statuses.includes(503), `the drop came too late to hit any write: ${statuses.join()}`);
    for (const [i, r] of answers.entries()) {
      assert.ok(r.ms < ANSWER_BOUND_MS, `write ${i} took ${r.ms.toFixed(0)} ms`);
      if (r.status !== 201) assertUnavailable(r, `in-flight write ${i}`);
    }
    await eventually(RECOVERY_BOUND_MS, assertHealthy);
    for (const r of answers.filter((x) => x.status === 201)) {
      const p = JSON.parse(r.body) as WirePipeline;
      const got = await timed(sid, 'GET', `${BASE}/deals/${p.id}`, token);
      assert.equal(got.status, 200, `created pipeline ${p.id} is gone: ${got.body}`);
      assert.deepEqual(JSON.parse(got.body), p);
    }
    assertNoUncaught('with writes in flight');
  });
});

describe('starting without a database', { skip }, () => {
  it('a closed port: createStageline rejects fast with StorageUnavailableError', async () => {
    const probe = createServer();
    await new Promise<void>((done) => probe.listen(0, '127.0.0.1', () => done()));
    const address = probe.address();
    assert.ok(address !== null && typeof address === 'object');
    await new Promise<void>((done) => probe.close(() => done()));

    const started = performance.now();
    await assert.rejects(createStageline(configFor(throughProxy(address.port))), (err: unknown) => {
      assert.ok(err instanceof StorageUnavailableError, `got ${String(err)}`);
      return true;
    });
    const ms = performance.now() - started;
    assert.ok(ms < ANSWER_BOUND_MS, `took ${ms.toFixed(0)} ms`);
  });

  it('a port that accepts but never answers: createStageline rejects within the timeout', async () => {
    const silent = new Proxy({ host: target.hostname, port: Number(target.port || 5432) });
    await silent.listen();
    await silent.outage('stall');
    try {
      const started = performance.now();
      await assert.rejects(createStageline(configFor(throughProxy(silent.port))), (err: unknown) => {
        assert.ok(err instanceof StorageUnavailableError, `got ${String(err)}`);
        return true;
      });
      const ms = performance.now() - started;
      assert.ok(ms < ANSWER_BOUND_MS, `took ${ms.toFixed(0)} ms`);
    } finally {
      await silent.close();
    }
  });
});
