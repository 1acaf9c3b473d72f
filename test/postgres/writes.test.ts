// Writes on PostgreSQL: how many round trips each write use case waits for. The pool's
// connections pipeline their queries, so statements sent before the answer to the previous one
// share its round trip: BEGIN, the portal's lock and the reads go together, and so do the writes,
// the announcement and COMMIT. A round trip is counted here whenever a statement is sent while
// none of this process is waiting for an answer (one request at a time).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import pg from 'pg';

import { loadConfig } from '../../src/config.js';
import { createStageline } from '../../src/stageline.js';
import type { Stageline } from '../../src/stageline.js';
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
