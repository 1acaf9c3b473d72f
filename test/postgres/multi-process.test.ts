// Several real `stageline serve` processes on one PostgreSQL schema: the pipeline invariants
// (unique stage labels, the stage limit, unique pipeline labels, one audit entry per write)
// must hold when concurrent writers of one portal arrive through different processes, each with
// its own small connection pool. Also prints (never asserts) a throughput comparison of one
// process against two.

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import { labelKey } from '../../src/domain/pipeline-rules.js';
import { startServe, stopProcesses, type ServeProcess } from '../helpers/cli-process.js';
import type { WireAudit, WireCollection, WireError, WirePipeline, WireStage } from '../helpers/wire-types.js';
import { freshPostgresUrl, postgresSkipReason } from '../helpers/postgres.js';

const BASE = '/crm/v3/pipelines';
const JSON_TYPE = 'application/json;charset=utf-8';
const PROCESSES = 3;
const POOL_SIZE = 4;

const skip = await postgresSkipReason();
const database = skip === undefined ? freshPostgresUrl() : '';

type Server = ServeProcess;

const children: ChildProcess[] = [];

async function startServer(): Promise<Server> {
  // A small pool: three processes share the one PostgreSQL.
  return startServe(['--database', database], {
    env: { STAGELINE_POOL_SIZE: String(POOL_SIZE) },
    onSpawn: (child) => children.push(child),
  });
}

const alive = (child: ChildProcess): boolean => {
  if (child.pid === undefined) return false;
  try {
    process.kill(child.pid, 0);
    return true;
  } catch {
    return false;
  }
};

const stopAll = (): Promise<void> => stopProcesses(children);

interface Reply {
  status: number;
  contentType: string | null;
  body: unknown;
  server: number;
  method: string;
  path: string;
}

/** Every reply of the file, for the "no 5xx anywhere" check. */
const replies: Reply[] = [];

describe(`${PROCESSES} stageline serve processes on one PostgreSQL schema`, { skip }, () => {
  const servers: Server[] = [];

  before(async () => {
    // Started at once: their migrations race too.
    servers.push(...(await Promise.all(Array.from({ length: PROCESSES }, () => startServer()))));
  });

  after(async () => {
    await stopAll();
    const left = children.filter(alive).map((c) => c.pid);
    assert.deepEqual(left, [], `stageline processes left behind: ${left.join(', ')}`);
  });

  const server = (i: number): Server => {
    const s = servers[i % servers.length];
    assert.ok(s, 'the servers did not start');
    return s;
  };

  async function send(i: number, method: string, path: string, token: string, body?: unknown) {
    const res = await fetch(`${server(i).url}${BASE}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        connection: 'close',
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    const reply: Reply = {
      status: res.status,
      contentType: res.headers.get('content-type'),
      body: text === '' ? undefined : (JSON.parse(text) as unknown),
      server: i % servers.length,
      method,
      path,
    };
    replies.push(reply);
    return reply;
  }

  const show = (r: Reply) => `${r.method} ${r.path} on #${r.server} → ${r.status} ${JSON.stringify(r.body)}`;

  function assertNo5xx(list: readonly Reply[]): void {
    const bad = list.filter((r) => r.status >= 500);
    assert.deepEqual(bad.map(show), [], 'server errors');
  }

  function expectStatus(r: Reply, status: number): void {
    assert.equal(r.status, status, show(r));
  }

  /** A 400 in HubSpot's envelope with the given subCategory. */
  function assertRule(r: Reply, subCategory: string, message: RegExp): void {
    expectStatus(r, 400);
    assert.equal(r.contentType, JSON_TYPE);
    const e = r.body as WireError;
    assert.equal(e.status, 'error');
    assert.equal(e.category, 'VALIDATION_ERROR', show(r));
    assert.equal(e.subCategory, subCategory, show(r));
    assert.match(e.message, message);
    assert.equal(typeof e.correlationId, 'string');
  }

  const dealStage = (label: string, displayOrder: number) => ({
    label,
    displayOrder,
    metadata: { probability: '0.5' },
  });

  async function newPipeline(token: string, label: string, stages = 1): Promise<WirePipeline> {
    const r = await send(0, 'POST', '/deals', token, {
      label,
      displayOrder: 0,
      stages: Array.from({ length: stages }, (_, i) => dealStage(`Initial ${i}`, i)),
    });
    expectStatus(r, 201);
    return r.body as WirePipeline;
  }

  async function getPipeline(token: string, id: string, on = 0): Promise<WirePipeline> {
    const r = await send(on, 'GET', `/deals/${id}`, token);
    expectStatus(r, 200);
    return r.body as WirePipeline;
  }

  /** A fresh portal known to every process (open auth: the same token is the same portal). */
  async function portalOnEveryProcess(): Promise<string> {
    const token = `multi-${randomUUID()}`;
    // The first request of a token opens its portal; let every process race to do that.
    const first = await Promise.all(servers.map((_, i) => send(i, 'GET', '/deals', token)));
    for (const r of first) expectStatus(r, 200);
    const ids = first.map((r) => (r.body as WireCollection<WirePipeline>).results.map((p) => p.id).join());
    assert.equal(
      new Set(ids).size,
      1,
      `the processes disagree on the portal's pipelines: ${ids.join(' | ')}`,
    );
    return token;
  }

  it('every process serves, and one token is one portal across processes', async () => {
    assert.equal(servers.length, PROCESSES);
    assert.equal(new Set(servers.map((s) => s.url)).size, PROCESSES, 'distinct ports');
    for (const [i, s] of servers.entries()) {
      const health = await fetch(`${s.url}/health`);
      assert.equal(health.status, 200, `process #${i}`);
      assert.deepEqual(await health.json(), { status: 'ok' });
    }
    const token = await portalOnEveryProcess();
    const p = await newPipeline(token, 'Visible everywhere');
    for (let i = 0; i < PROCESSES; i++) assert.deepEqual(await getPipeline(token, p.id, i), p);
  });

  it('50 concurrent creates of one stage label (any case, any spacing) → exactly one 201', async () => {
    const token = await portalOnEveryProcess();
    const p = await newPipeline(token, 'Same stage label');
    const variants = ['Qualified', 'qualified', 'QUALIFIED', ' Qualified ', 'qUaLiFiEd', '  QUALIFIED\t'];
    const rs = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        send(i, 'POST', `/deals/${p.id}/stages`, token, dealStage(variants[i % variants.length]!, i + 1)),
      ),
    );
    assertNo5xx(rs);
    const created = rs.filter((r) => r.status === 201);
    assert.equal(created.length, 1, `201s: ${created.map(show).join('\n')}`);
    const refused = rs.filter((r) => r.status !== 201);
    assert.equal(refused.length, 49);
    for (const r of refused)
      assertRule(r, 'PipelineError.STAGE_LABEL_EXISTS', /^Stage with label .+ already exists$/);
    // Every process took part.
    assert.deepEqual(new Set(rs.map((r) => r.server)).size, PROCESSES);

    for (let i = 0; i < PROCESSES; i++) {
      const after = await getPipeline(token, p.id, i);
      const same = after.stages.filter((s) => labelKey(s.label) === 'qualified');
      assert.equal(same.length, 1, `process #${i}: ${JSON.stringify(after.stages.map((s) => s.label))}`);
      assert.equal(same[0]?.id, (created[0]?.body as WireStage).id);
      assert.equal(after.stages.length, 2);
    }
  });

  it('120 concurrent creates of distinct stages on a 1-stage deal pipeline → 99 created, 21 over the limit, 100 stages', async () => {
    const token = await portalOnEveryProcess();
    const p = await newPipeline(token, 'Stage limit');
    assert.equal(p.stages.length, 1);
    const rs = await Promise.all(
      Array.from({ length: 120 }, (_, i) =>
        send(i, 'POST', `/deals/${p.id}/stages`, token, dealStage(`Step ${i}`, i + 1)),
      ),
    );
    assertNo5xx(rs);
    const created = rs.filter((r) => r.status === 201);
    const refused = rs.filter((r) => r.status !== 201);
    assert.equal(created.length, 99, `created ${created.length}, refused: ${refused.slice(0, 3).map(show)}`);
    assert.equal(refused.length, 21);
    for (const r of refused) assertRule(r, 'PipelineError.STAGE_LIMIT_EXCEEDED', /at most 100 stages/);

    const after = await getPipeline(token, p.id, 1);
    assert.equal(after.stages.length, 100);
    assert.equal(new Set(after.stages.map((s) => s.id)).size, 100, 'stage ids are unique');
    const createdIds = new Set(created.map((r) => (r.body as WireStage).id));
    const listedNew = new Set(after.stages.map((s) => s.id).filter((id) => id !== p.stages[0]?.id));
    assert.deepEqual(listedNew, createdIds, 'the listed stages are exactly the created ones');
    const stages = await send(2, 'GET', `/deals/${p.id}/stages`, token);
    expectStatus(stages, 200);
    assert.equal((stages.body as WireCollection<WireStage>).results.length, 100);
  });

  it('40 concurrent PATCHes of one pipeline → one audit entry per successful PATCH', async () => {
    const token = await portalOnEveryProcess();
    const p = await newPipeline(token, 'Patched concurrently');
    const rs = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        send(i, 'PATCH', `/deals/${p.id}`, token, { label: `Patched ${i}`, displayOrder: i + 1 }),
      ),
    );
    assertNo5xx(rs);
    const ok = rs.filter((r) => r.status === 200);
    // Distinct labels, no conflict: every PATCH should succeed.
    assert.equal(
      ok.length,
      40,
      rs
        .filter((r) => r.status !== 200)
        .map(show)
        .join('\n'),
    );

    const auditReply = await send(1, 'GET', `/deals/${p.id}/audit`, token);
    expectStatus(auditReply, 200);
    const entries = (auditReply.body as WireCollection<WireAudit>).results;
    assert.equal(entries.length, 1 + ok.length, 'audit entries = 1 CREATE + one per 200 PATCH');
    assert.equal(entries.filter((e) => e.action === 'CREATE').length, 1);
    assert.equal(entries.filter((e) => e.action === 'UPDATE').length, ok.length);
    assert.equal(entries.at(-1)?.action, 'CREATE', 'newest first: the CREATE is last');
    const audited = entries
      .filter((e) => e.action === 'UPDATE')
      .map((e) => (JSON.parse(e.rawObject) as WirePipeline).label)
      .sort();
    const answered = ok.map((r) => (r.body as WirePipeline).label).sort();
    assert.deepEqual(audited, answered, 'every successful PATCH is in the audit, once');

    // The newest audit entry is the state that stuck.
    const final = await getPipeline(token, p.id, 2);
    const newest = JSON.parse(entries[0]!.rawObject) as WirePipeline;
    assert.equal(final.label, newest.label);
    assert.equal(final.displayOrder, newest.displayOrder);
  });

  it('30 concurrent creates of pipelines with one label → exactly one 201', async () => {
    const token = await portalOnEveryProcess();
    const variants = ['Twin', 'twin', 'TWIN', ' Twin ', 'tWiN'];
    const rs = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        send(i, 'POST', '/deals', token, {
          label: variants[i % variants.length],
          displayOrder: i,
          stages: [dealStage(`Stage of ${i}`, 0)],
        }),
      ),
    );
    assertNo5xx(rs);
    const created = rs.filter((r) => r.status === 201);
    assert.equal(created.length, 1, `201s: ${created.map(show).join('\n')}`);
    for (const r of rs.filter((x) => x.status !== 201))
      assertRule(
        r,
        'PipelineError.PIPELINE_LABEL_EXISTS',
        /^An active pipeline with label .+ already exists\.$/,
      );

    const list = await send(2, 'GET', '/deals', token);
    expectStatus(list, 200);
    const twins = (list.body as WireCollection<WirePipeline>).results.filter(
      (x) => labelKey(x.label) === 'twin',
    );
    assert.equal(twins.length, 1);
    assert.equal(twins[0]?.id, (created[0]?.body as WirePipeline).id);
  });

  it('throughput of GETs: one process vs two (printed, not asserted)', async () => {
    const token = await portalOnEveryProcess();
    const p = await newPipeline(token, 'Read often', 5);
    const TOTAL = 600;
    const IN_FLIGHT = 32;

    async function batch(processes: number): Promise<number> {
      let next = 0;
      const started = performance.now();
      const statuses: number[] = [];
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          while (next < TOTAL) {
            const i = next++;
            const res = await fetch(`${server(i % processes).url}${BASE}/deals/${p.id}`, {
              headers: { authorization: `Bearer ${token}` },
            });
            await res.arrayBuffer();
            statuses.push(res.status);
          }
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      assert.equal(statuses.length, TOTAL);
      assert.deepEqual(
        statuses.filter((s) => s !== 200),
        [],
        'every GET answers 200',
      );
      return TOTAL / seconds;
    }

    await batch(2); // warm-up of both processes (JIT, pools, keep-alive sockets)
    const one = await batch(1);
    const two = await batch(2);
    console.log(
      `throughput: ${TOTAL} GETs of one pipeline, ${IN_FLIGHT} in flight, pool ${POOL_SIZE}: ` +
        `1 process ${one.toFixed(0)} req/s, 2 processes ${two.toFixed(0)} req/s (${(two / one).toFixed(2)}x)`,
    );
  });

  it('no 5xx anywhere, and no error logged by any process', () => {
    assert.ok(replies.length > 250, `only ${replies.length} replies recorded`);
    assertNo5xx(replies);
    for (const [i, s] of servers.entries()) {
      const errors = s
        .stdout()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { level?: number; msg?: string })
        .filter((entry) => (entry.level ?? 0) >= 40);
      assert.deepEqual(errors, [], `process #${i} logged warnings or errors`);
    }
  });
});
