// The read cache on PostgreSQL, shared by several processes: each commit notifies every process
// (LISTEN/NOTIFY) and they drop the portal's cached answers. Measured over HTTP with three real
// `stageline serve` processes: how long after a write's answer the other processes answer the
// new state. And in-process: while the notification connection is down, the cache is bypassed,
// and it comes back by itself; a token revoked by another process is refused.

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import pg from 'pg';

import { loadConfig } from '../../src/config.js';
import { createStageline } from '../../src/stageline.js';
import type { Stageline } from '../../src/stageline.js';
import { changeChannel } from '../../src/storage/postgres/change-feed.js';
import { PostgresStore } from '../../src/storage/postgres/postgres-store.js';
import { bearerFetch } from '../helpers/bearer-fetch.js';
import { startServeProcesses, stopProcesses, type ServeProcess } from '../helpers/cli-process.js';
import { POSTGRES_URL, freshPostgresUrl, postgresSkipReason } from '../helpers/postgres.js';
import type { WirePipeline } from '../helpers/wire-types.js';

const skip = await postgresSkipReason();
const PROCESSES = 3;
const ROUNDS = 15;
/** The issue's bound, plus room for a 2-core machine shared with other work. */
const BOUND_MS = 10;
const TOLERANCE_MS = 15;

const BASE = '/crm/v3/pipelines/deals';
const pipelineInput = (label: string) => ({
  label,
  displayOrder: 0,
  stages: [{ label: 'Open', displayOrder: 0, metadata: { probability: '0.5' } }],
});

/** Runs SQL on a schema behind Stageline's back: no notification, so no cache learns of it. */
async function behindTheBack(url: string, sql: string, values: unknown[] = []): Promise<void> {
  const schema = new URL(url).searchParams.get('schema')!;
  const client = new pg.Client({ connectionString: POSTGRES_URL, options: `-c search_path="${schema}"` });
  await client.connect();
  try {
    await client.query(sql, values);
  } finally {
    await client.end();
  }
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe(`the read cache across ${PROCESSES} processes on one PostgreSQL schema`, { skip }, () => {
  const database = skip === undefined ? freshPostgresUrl() : '';
  const children: ChildProcess[] = [];
  const servers: ServeProcess[] = [];

  before(async () => {
    servers.push(...(await startServeProcesses(PROCESSES, database, [], children)));
  });
  after(() => stopProcesses(children));

  async function send(i: number, method: string, path: string, token: string, body?: unknown) {
    const res = await bearerFetch(`${servers[i]!.url}${BASE}${path}`, token, method, body);
    const text = await res.text();
    assert.ok(res.status < 300, `${method} ${path} on #${i} → ${res.status} ${text}`);
    return JSON.parse(text) as WirePipeline;
  }

  it(`a write in one process is seen by the others within ${BOUND_MS} ms of its answer`, async () => {
    const token = `cache-${randomUUID()}`;
    const created = await send(0, 'POST', '', token, pipelineInput('Original'));
    for (const i of [1, 2]) {
      assert.equal((await send(i, 'GET', `/${created.id}`, token)).label, 'Original');
    }
    // The others answer from their caches: a change made behind Stageline's back is not seen.
    await behindTheBack(database, 'UPDATE pipelines SET label = $1 WHERE id = $2', ['Unseen', created.id]);
    for (const i of [1, 2]) {
      assert.equal((await send(i, 'GET', `/${created.id}`, token)).label, 'Original', `#${i} caches`);
    }

    // Two figures per process and round: when the first answer showing the write arrived (it
    // includes that GET's own round trip, which a loaded machine stretches), and when the last
    // stale answer's request was sent, the bound that matters: a request sent later than the
    // invalidation bound after the write's answer must never get the old state.
    const delays: number[] = [];
    const staleSent: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const label = `Round ${round}`;
      await send(0, 'PATCH', `/${created.id}`, token, { label });
      const answered = performance.now();
      await Promise.all(
        [1, 2].map(async (i) => {
          for (;;) {
            const sent = performance.now() - answered;
            const seen = (await send(i, 'GET', `/${created.id}`, token)).label;
            if (seen === label) {
              delays.push(performance.now() - answered);
              return;
            }
            staleSent.push(sent);
            assert.ok(performance.now() - answered < 2_000, `#${i} still answers "${seen}"`);
          }
        }),
      );
      // Cached again before the next round, so that round measures an invalidation.
      for (const i of [1, 2]) await send(i, 'GET', `/${created.id}`, token);
    }
    const shown = delays.map((d) => d.toFixed(1)).join(' ');
    const latestStale = staleSent.length === 0 ? 0 : Math.max(...staleSent);
    console.log(
      `# write → first answer showing it on another process: median ${median(delays).toFixed(1)} ms, ` +
        `max ${Math.max(...delays).toFixed(1)} ms (all: ${shown}); stale answers ${staleSent.length}, ` +
        `the latest sent ${latestStale.toFixed(1)} ms after the write's answer`,
    );
    assert.ok(
      latestStale <= BOUND_MS + TOLERANCE_MS,
      `an old answer to a request sent ${latestStale.toFixed(1)} ms after the write's answer`,
    );
    // Unloaded, the first GET already shows it (about 3-6 ms, its own round trip); under load the
    // round trip grows, which is not the cache's doing: only a loose bound here.
    assert.ok(median(delays) <= 10 * BOUND_MS, `median ${median(delays).toFixed(1)} ms: ${shown}`);
  });
});

describe('the read cache while the notification connection is down', { skip }, () => {
  const url = skip === undefined ? freshPostgresUrl() : '';
  let store: PostgresStore;
  let s: Stageline;
  const token = 'feed-down';
  const get = async (id: string) => {
    const res = await s.app.inject({
      method: 'GET',
      url: `${BASE}/${id}`,
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(res.statusCode, 200, res.body);
    return res.json<WirePipeline>().label;
  };
  const until = async (what: string, check: () => boolean) => {
    const started = performance.now();
    while (!check()) {
      assert.ok(performance.now() - started < 5_000, `not ${what} within 5 s`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };

  before(async () => {
    const schema = new URL(url).searchParams.get('schema')!;
    // A long first reconnect delay: the test acts while the feed is down.
    store = await PostgresStore.open(POSTGRES_URL, {
      poolSize: 2,
      timeoutMs: 5000,
      schema,
      changeFeed: { retryMs: 1_500 },
    });
    s = await createStageline(loadConfig({ database: url, auth: 'open', logLevel: 'silent' }, {}), { store });
  });
  after(() => s?.close());

  it('bypasses the cache until the connection is back, then caches again', async () => {
    assert.equal(store.changes.live(), true, 'live once opened');
    const created = await s.app.inject({
      method: 'POST',
      url: BASE,
      headers: { authorization: `Bearer ${token}` },
      payload: pipelineInput('Cached'),
    });
    assert.equal(created.statusCode, 201, created.body);
    const id = created.json<WirePipeline>().id;
    assert.equal(await get(id), 'Cached');
    await behindTheBack(url, 'UPDATE pipelines SET label = $1 WHERE id = $2', ['Unseen', id]);
    assert.equal(await get(id), 'Cached', 'served from the cache while the feed is live');

    const schema = new URL(url).searchParams.get('schema')!;
    await behindTheBack(
      url,
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
      [`stageline ${changeChannel(schema)}`],
    );
    await until('down', () => !store.changes.live());
    assert.equal(await get(id), 'Unseen', 'the cache was dropped');
    await behindTheBack(url, 'UPDATE pipelines SET label = $1 WHERE id = $2', ['While down', id]);
    assert.equal(store.changes.live(), false, 'still down (the test must act within the retry delay)');
    assert.equal(await get(id), 'While down', 'read from the database, nothing stored');

    await until('back', () => store.changes.live());
    assert.equal(await get(id), 'While down');
    await behindTheBack(url, 'UPDATE pipelines SET label = $1 WHERE id = $2', ['Unseen again', id]);
    assert.equal(await get(id), 'While down', 'cached again once the feed is back');
  });
});

describe('principals across processes (tokens mode)', { skip }, () => {
  const url = skip === undefined ? freshPostgresUrl() : '';
  const stagelines: Stageline[] = [];

  before(async () => {
    for (let i = 0; i < 2; i++) {
      stagelines.push(
        await createStageline(loadConfig({ database: url, auth: 'tokens', logLevel: 'silent' }, {})),
      );
    }
  });
  after(() => Promise.all(stagelines.map((s) => s.close())));

  it('a token revoked through one process is refused by the other within 10 ms', async () => {
    const [one, two] = stagelines as [Stageline, Stageline];
    const issued = await one.auth.issueToken({ portalId: 7 });
    const status = async () =>
      (
        await two.app.inject({
          method: 'GET',
          url: BASE,
          headers: { authorization: `Bearer ${issued.token}` },
        })
      ).statusCode;
    assert.equal(await status(), 200);
    assert.equal(await status(), 200, 'the principal is now cached');
    assert.equal(await one.auth.revokeToken(issued.record.id), true);
    const revoked = performance.now();
    // As above: a request sent later than the bound after the revocation must be refused.
    let lastAccepted = -1;
    for (;;) {
      const sent = performance.now() - revoked;
      if ((await status()) === 401) break;
      lastAccepted = sent;
      assert.ok(performance.now() - revoked < 1_000, 'still accepted after a second');
    }
    const took = performance.now() - revoked;
    console.log(
      `# revoked → first refusal by the other process answered after ${took.toFixed(1)} ms; ` +
        (lastAccepted < 0
          ? 'no request accepted after the revocation'
          : `last accepted request sent at ${lastAccepted.toFixed(1)} ms`),
    );
    assert.ok(
      lastAccepted <= BOUND_MS + TOLERANCE_MS,
      `accepted a request sent ${lastAccepted.toFixed(1)} ms after`,
    );
  });
});
