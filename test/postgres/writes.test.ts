// Writes on PostgreSQL: how many round trips each write use case waits for. The pool's
// connections pipeline their queries, so statements sent before the answer to the previous one
// share its round trip: BEGIN, the portal's lock and the reads go together, and so do the writes,
// the announcement and COMMIT. A round trip is counted here whenever a statement is sent while
// none of this process is waiting for an answer (one request at a time).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';

import pg from 'pg';

import { DEFAULTS, loadConfig } from '../../src/config.js';
import type { Pipeline } from '../../src/domain/model.js';
import type { Repository } from '../../src/domain/ports.js';
import { createStageline, openStore } from '../../src/stageline.js';
import type { Stageline } from '../../src/stageline.js';
import { modelBuilders } from '../helpers/model-builders.js';
import { POSTGRES_URL, freshPostgresUrl, postgresSkipReason } from '../helpers/postgres.js';
import type { WireAudit, WireCollection, WirePipeline, WireStage } from '../helpers/wire-types.js';

const skip = await postgresSkipReason();

let recording = false;
let waiting = 0;
let roundTrips = 0;
let statements = 0;
const original = pg.Client.prototype.query;
function countRoundTrips(): void {
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const first = args[0] as string | { text?: string };
    const text = typeof first === 'string' ? first : (first.text ?? '');
    // The change feed's heartbeat is not part of a request.
    if (!recording || text === 'SELECT 1')
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    statements += 1;
    if (waiting === 0) roundTrips += 1;
    waiting += 1;
    const answered = () => (waiting -= 1);
    const last = args.at(-1);
    if (typeof last === 'function') {
      args[args.length - 1] = (...cb: unknown[]) => {
        answered();
        return (last as (...a: unknown[]) => unknown)(...cb);
      };
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    }
    const result = (original as (...a: unknown[]) => Promise<unknown>).apply(this, args);
    result.then(answered, answered);
    return result;
  } as typeof pg.Client.prototype.query;
}

describe('writes on PostgreSQL', { skip }, () => {
  const url = skip === undefined ? freshPostgresUrl() : '';
  let s: Stageline;
  const headers = { authorization: 'Bearer writes-portal' };

  async function call(method: string, path: string, payload?: object) {
    const res = await s.app.inject({ method: method as 'GET', url: path, headers, payload });
    assert.ok(res.statusCode < 300, `${method} ${path}: ${res.statusCode} ${res.body}`);
    return res;
  }

  /** The round trips and statements of one request. */
  async function measure(method: string, path: string, payload?: object) {
    roundTrips = 0;
    statements = 0;
    recording = true;
    let res;
    try {
      res = await call(method, path, payload);
    } finally {
      recording = false;
    }
    assert.equal(waiting, 0);
    return { roundTrips, statements, res };
  }

  before(async () => {
    countRoundTrips();
    s = await createStageline(loadConfig({ database: url, auth: 'open', logLevel: 'silent' }, {}));
    // The portal exists before the measured requests (open mode creates it on its first write),
    // and this process knows its token (looked up once, by the read).
    await call('POST', '/crm/v3/objects/contacts', { properties: {} });
    await call('GET', '/crm/v3/pipelines/deals');
  });
  after(async () => {
    pg.Client.prototype.query = original;
    await s?.close();
  });

  it('each write use case waits for at most the round trips listed, and still writes its audit', async () => {
    const figures: Record<string, { roundTrips: number; statements: number }> = {};
    const expect = (name: string, m: { roundTrips: number; statements: number }, most: number) => {
      figures[name] = { roundTrips: m.roundTrips, statements: m.statements };
      assert.ok(m.roundTrips <= most, `${name}: ${m.roundTrips} round trips, expected at most ${most}`);
    };

    const created = await measure('POST', '/crm/v3/pipelines/deals', {
      label: 'Writes',
      displayOrder: 0,
      stages: [
        { label: 'A', displayOrder: 0, metadata: { probability: '0.1' } },
        { label: 'B', displayOrder: 1, metadata: { probability: '0.5' } },
      ],
    });
    expect('create pipeline', created, 3);
    const pipeline = created.res.json<WirePipeline>();
    const base = `/crm/v3/pipelines/deals/${pipeline.id}`;
    const stageA = pipeline.stages.find((x) => x.label === 'A')!;

    expect('patch stage', await measure('PATCH', `${base}/stages/${stageA.id}`, { label: 'A2' }), 2);
    const stage = await measure('POST', `${base}/stages`, {
      label: 'C',
      displayOrder: 2,
      metadata: { probability: '0.7' },
    });
    expect('create stage', stage, 2);
    const stageC = stage.res.json<WireStage>();
    expect('delete stage', await measure('DELETE', `${base}/stages/${stageC.id}`), 2);
    expect(
      'replace stage',
      await measure('PUT', `${base}/stages/${stageA.id}`, {
        label: 'A3',
        displayOrder: 0,
        metadata: { probability: '0.2' },
      }),
      2,
    );
    expect('patch pipeline', await measure('PATCH', base, { label: 'Writes 2' }), 3);
    expect(
      'replace pipeline',
      await measure('PUT', base, {
        label: 'Writes 3',
        displayOrder: 0,
        stages: [{ label: 'Only', displayOrder: 0, metadata: { probability: '0.3' } }],
      }),
      4,
    );
    expect('delete pipeline', await measure('DELETE', base), 2);
    console.log(
      `# round trips (statements): ${Object.entries(figures)
        .map(([name, f]) => `${name} ${f.roundTrips} (${f.statements})`)
        .join(', ')}`,
    );

    // What was written is there, in order: the writes were not lost for being sent unawaited.
    const audit = (await call('GET', `${base}/audit`)).json<WireCollection<WireAudit>>().results;
    assert.deepEqual(
      audit.map((e) => e.action),
      ['DELETE', 'UPDATE', 'UPDATE', 'UPDATE', 'UPDATE', 'UPDATE', 'UPDATE', 'CREATE'],
    );
    const versions = audit.map((e) => (JSON.parse(e.rawObject) as { version: number }).version);
    assert.deepEqual(versions, [8, 7, 6, 5, 4, 3, 2, 1]);
    const stageAudit = (await call('GET', `${base}/stages/${stageA.id}/audit`)).json<
      WireCollection<WireAudit>
    >().results;
    assert.deepEqual(
      stageAudit.map((e) => e.action),
      ['DELETE', 'UPDATE', 'UPDATE', 'CREATE'],
    );
  });
});

describe('concurrent writes of one portal on PostgreSQL', { skip }, () => {
  it('share transactions: those that arrive while one is open go together in the next', async () => {
    const url = freshPostgresUrl();
    const schema = new URL(url).searchParams.get('schema')!;
    const s = await createStageline(loadConfig({ database: url, auth: 'open', logLevel: 'silent' }, {}));
    const headers = { authorization: 'Bearer group-portal' };
    const begins: string[] = [];
    const query = pg.Client.prototype.query;
    const other = new pg.Client({ connectionString: POSTGRES_URL, options: `-c search_path="${schema}"` });
    try {
      const created = await s.app.inject({
        method: 'POST',
        url: '/crm/v3/pipelines/deals',
        headers,
        payload: {
          label: 'Group',
          displayOrder: 0,
          stages: [{ label: 'S', displayOrder: 0, metadata: { probability: '0.5' } }],
        },
      });
      assert.equal(created.statusCode, 201, created.body);
      const { id, stages } = created.json<WirePipeline>();
      const stagePath = `/crm/v3/pipelines/deals/${id}/stages/${stages[0]!.id}`;
      pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
        const first = args[0] as string | { text?: string };
        const text = typeof first === 'string' ? first : (first.text ?? '');
        if (this !== other && text.startsWith('BEGIN')) begins.push(text);
        return (query as (...a: unknown[]) => unknown).apply(this, args);
      } as typeof pg.Client.prototype.query;
      const labels = Array.from({ length: 10 }, (_, i) => `S${i}`);
      // Another connection holds the portal's lock while the ten requests arrive, so the first
      // waits for it and the other nine wait for the first.
      const portalId = (await s.auth.authenticate('group-portal'))!.portalId;
      await other.connect();
      await other.query('BEGIN');
      await other.query('SELECT 1 FROM portals WHERE id = $1 FOR UPDATE', [portalId]);
      const answering = Promise.all(
        labels.map((label) => s.app.inject({ method: 'PATCH', url: stagePath, headers, payload: { label } })),
      );
      await delay(300);
      await other.query('ROLLBACK');
      const answers = await answering;
      pg.Client.prototype.query = query;
      assert.deepEqual(
        answers.map((a) => a.statusCode),
        labels.map(() => 200),
      );
      // The first ran alone; the nine that came meanwhile shared the next transaction.
      assert.equal(begins.length, 2, `${begins.length} transactions for 10 writes`);
      // Each write is its own change: ten audit entries, the versions in order, the last label kept.
      const audit = (await s.app.inject({ method: 'GET', url: `${stagePath}/audit`, headers })).json<
        WireCollection<WireAudit>
      >().results;
      assert.deepEqual(
        audit.slice(0, 10).map((e) => (JSON.parse(e.rawObject) as { label: string }).label),
        [...labels].reverse(),
      );
      const stage = (await s.app.inject({ method: 'GET', url: stagePath, headers })).json<WireStage>();
      assert.equal(stage.label, 'S9');
    } finally {
      pg.Client.prototype.query = query;
      await other.end();
      await s.close();
    }
  });
});

describe('a write that waits for the portal lock past the timeout', { skip }, () => {
  it('answers 503 with the lock timeout, not the aborted statements sent behind it, and the next write works', async () => {
    const url = freshPostgresUrl();
    const s = await createStageline(
      loadConfig({ database: url, auth: 'open', logLevel: 'silent', dbTimeoutMs: 300 }, {}),
    );
    const headers = { authorization: 'Bearer lock-portal' };
    const patch = () =>
      s.app.inject({
        method: 'PATCH',
        url: '/crm/v3/pipelines/deals/default',
        headers,
        payload: { label: `Sales ${Date.now()}` },
      });
    const other = new pg.Client({
      connectionString: POSTGRES_URL,
      options: `-c search_path="${new URL(url).searchParams.get('schema')!}"`,
    });
    try {
      assert.equal((await patch()).statusCode, 200);
      const portalId = (await s.auth.authenticate('lock-portal'))!.portalId;
      await other.connect();
      await other.query('BEGIN');
      await other.query('SELECT 1 FROM portals WHERE id = $1 FOR UPDATE', [portalId]);
      const blocked = await patch();
      assert.equal(blocked.statusCode, 503, blocked.body);
      await other.query('ROLLBACK');
      const after = await patch();
      assert.equal(after.statusCode, 200, after.body);
    } finally {
      await other.end();
      await s.close();
    }
  });
});

describe('a group of writes that fails at COMMIT', { skip }, () => {
  it('runs each of its writes again alone: only the one that breaks a constraint fails', async () => {
    const store = await openStore(freshPostgresUrl(), DEFAULTS);
    const { pipeline, stage } = modelBuilders(1_767_225_600_000);
    const portalId = 7;
    const write = <T>(work: (repo: Repository) => Promise<T>) => store.write(work, { portalId });
    const deal = (id: string, label: string) =>
      pipeline(id, label, [stage(`${id}-s`, 'S', 0, { probability: '0.5', isClosed: 'false' })]);
    const save = (p: Pipeline) => async (repo: Repository) => {
      await repo.savePipeline(portalId, '0-3', p);
      await repo.saveStages(portalId, '0-3', p.id, p.stages);
      return p.id;
    };
    try {
      await store.write((repo) => repo.ensurePortal(portalId, 0));
      // Live labels are unique by a deferred constraint: two pipelines labelled alike in one
      // group pass every statement and fail the group's COMMIT.
      const outcomes = await Promise.allSettled([
        write(async (repo) => {
          await repo.getPipeline(portalId, '0-3', 'none');
          await delay(50); // the others queue meanwhile
          return 'first';
        }),
        write(save(deal('x', 'Twin'))),
        write(save(deal('y', 'Twin'))),
        write(save(deal('z', 'Other'))),
      ]);
      assert.deepEqual(
        outcomes.map((o) => (o.status === 'fulfilled' ? o.value : (o.reason as { code?: string }).code)),
        ['first', 'x', '23P01', 'z'],
      );
      const ids = await store.read(async (repo) =>
        (await repo.listPipelines(portalId, '0-3')).map((p) => p.id),
      );
      assert.deepEqual(ids, ['x', 'z']);
    } finally {
      await store.close();
    }
  });
});
