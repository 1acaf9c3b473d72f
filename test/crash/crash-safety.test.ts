// Crash safety of the SQLite backend, with a real `stageline serve` process: repeated SIGKILLs
// in the middle of a concurrent write load must never lose a write the server acknowledged with
// a 2xx, never leave half-written state visible, and never damage the database file; a SIGTERM
// must drain the requests in flight and exit with code 0.
//
// STAGELINE_CRASH_CYCLES sets the number of kill cycles (default 20).

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import Database from 'better-sqlite3';

import { answerBody, bearerFetch } from '../helpers/bearer-fetch.js';
import { startServe, type ServeProcess } from '../helpers/cli-process.js';
import type { WireAudit, WireCollection, WireError, WirePipeline, WireStage } from '../helpers/wire-types.js';

const PIPELINES = '/crm/v3/pipelines/deals';
const DEALS = '/crm/v3/objects/deals';
const CYCLES = Math.max(1, Number(process.env.STAGELINE_CRASH_CYCLES ?? '20') || 20);
const CLIENTS = 8;
const PIPELINES_PER_CYCLE = 4;
/** Stage creates per client and cycle: two clients per pipeline stay below the 100-stage limit. */
const STAGES_PER_CLIENT = 40;
/** How long a SIGTERMed server may take to drain 30 small requests and exit. */
const DRAIN_GRACE_MS = 5000;

type Server = ServeProcess;

const children = new Set<ChildProcess>();
const tmpDirs: string[] = [];

function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), 'stageline-crash-'));
  tmpDirs.push(dir);
  return join(dir, 'stageline.db');
}

async function startServer(database: string): Promise<Server> {
  return startServe(['--database', database], {
    onSpawn: (child) => {
      children.add(child);
      child.once('close', () => children.delete(child));
    },
  });
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Milliseconds from the signal to the exit. */
  ms: number;
  /** The process outlived the grace period and was SIGKILLed. */
  hung: boolean;
}

/** Sends the signal; past `graceMs` the process is SIGKILLed (and `hung` set). */
async function kill(server: Server, signal: NodeJS.Signals, graceMs = 10_000): Promise<Exit> {
  const sent = Date.now();
  server.child.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const hung = await Promise.race([
    server.exited.then(() => false),
    new Promise<boolean>((done) => (timer = setTimeout(() => done(true), graceMs))),
  ]);
  clearTimeout(timer);
  if (hung) server.child.kill('SIGKILL');
  const exit = await server.exited;
  return { ...exit, ms: Date.now() - sent, hung };
}

after(async () => {
  for (const child of children) child.kill('SIGKILL');
  await Promise.all(
    [...children].map(
      (c) => new Promise<void>((done) => (c.exitCode !== null ? done() : c.once('close', () => done()))),
    ),
  );
  for (const dir of tmpDirs) rmSync(dir, { recursive: true, force: true });
});

interface Reply {
  status: number;
  body: unknown;
}

/** One request; rejects on a connection error (refused, reset, closed mid-answer). */
async function request(
  base: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<Reply> {
  const res = await bearerFetch(`${base}${path}`, token, method, body);
  return { status: res.status, body: await answerBody(res) };
}

/** The code of a fetch connection error (ECONNRESET, ECONNREFUSED, …). */
const errorCode = (err: unknown): string =>
  String((err as { cause?: { code?: string } } | undefined)?.cause?.code ?? err);

/** The last `n` log messages (with their status codes), without stacks. */
function lastMessages(stdout: string, n: number): string {
  const lines = stdout.split('\n').filter((l) => l.startsWith('{'));
  return lines
    .slice(-n)
    .map((l) => {
      try {
        const e = JSON.parse(l) as { msg?: string; res?: { statusCode?: number }; signal?: string };
        return [e.msg, e.res?.statusCode, e.signal].filter((v) => v !== undefined).join(' ');
      } catch {
        return l.slice(0, 80);
      }
    })
    .join(' | ');
}

const is2xx = (r: Reply) => r.status >= 200 && r.status < 300;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Runs the tasks with at most `width` in flight. */
async function pooled<T>(
  items: readonly T[],
  width: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) await task(items[next++]!);
    }),
  );
}

/** `PRAGMA integrity_check` through a read-only connection: the WAL stays in place. */
function integrityCheck(database: string): string {
  const db = new Database(database, { readonly: true, fileMustExist: true });
  try {
    const rows = db.pragma('integrity_check') as { integrity_check: string }[];
    return rows.map((r) => r.integrity_check).join('; ');
  } finally {
    db.close();
  }
}

interface DealRecord {
  id: string;
  properties: Record<string, string | null>;
}

// --- what the crash cycles acknowledged -------------------------------------------------------

interface AckedStage {
  cycle: number;
  pipelineId: string;
  id: string;
  label: string;
}
interface AckedDeal {
  cycle: number;
  id: string;
  name: string;
  pipelineId: string;
  stageId: string;
}
/** Labels one client sent to one pipeline, in order; `acked` is the index of the last 2xx. */
interface LabelHistory {
  cycle: number;
  pipelineId: string;
  sent: string[];
  acked: number;
}

describe('crash safety of stageline serve on SQLite', () => {
  const database = tempDb();
  const token = `crash-${randomUUID()}`;
  const run = randomUUID().slice(0, 8);

  const stages: AckedStage[] = [];
  const deals: AckedDeal[] = [];
  const labels: LabelHistory[] = [];
  const serverErrors: string[] = [];
  let unacknowledged = 0;
  let lost = 0;

  /** Every acknowledged write of the given cycles is present; returns the number checked. */
  async function checkAcknowledged(base: string, cycles: (c: number) => boolean): Promise<number> {
    const problems: string[] = [];
    const selected = {
      stages: stages.filter((s) => cycles(s.cycle)),
      deals: deals.filter((d) => cycles(d.cycle)),
      labels: labels.filter((l) => cycles(l.cycle) && l.acked >= 0),
    };
    await pooled(selected.stages, 16, async (s) => {
      const r = await request(base, token, 'GET', `${PIPELINES}/${s.pipelineId}/stages/${s.id}`);
      if (r.status !== 200 || (r.body as WireStage).label !== s.label)
        problems.push(
          `stage ${s.id} "${s.label}" of cycle ${s.cycle}: ${r.status} ${JSON.stringify(r.body)}`,
        );
    });
    await pooled(selected.deals, 16, async (d) => {
      const r = await request(base, token, 'GET', `${DEALS}/${d.id}?properties=dealname,pipeline,dealstage`);
      const p = (r.body as DealRecord | undefined)?.properties;
      if (
        r.status !== 200 ||
        p?.dealname !== d.name ||
        p.pipeline !== d.pipelineId ||
        p.dealstage !== d.stageId
      )
        problems.push(`deal ${d.id} "${d.name}" of cycle ${d.cycle}: ${r.status} ${JSON.stringify(r.body)}`);
    });
    await pooled(selected.labels, 16, async (l) => {
      const r = await request(base, token, 'GET', `${PIPELINES}/${l.pipelineId}`);
      // The last acknowledged label, or one sent after it whose answer the kill cut off.
      const allowed = l.sent.slice(l.acked);
      const label = (r.body as WirePipeline | undefined)?.label;
      if (r.status !== 200 || label === undefined || !allowed.includes(label))
        problems.push(
          `pipeline ${l.pipelineId} of cycle ${l.cycle}: label ${JSON.stringify(label)}, ` +
            `expected one of ${JSON.stringify(allowed)} (status ${r.status})`,
        );
    });
    lost += problems.length;
    assert.deepEqual(problems, [], 'acknowledged writes lost');
    return selected.stages.length + selected.deals.length + selected.labels.length;
  }

  /** No half-written state: stage lists agree, every stage has its CREATE audit, deals sit in stages. */
  async function checkConsistency(base: string, auditOf: (pipelineId: string) => boolean): Promise<void> {
    const problems: string[] = [];
    const list = await request(base, token, 'GET', PIPELINES);
    assert.equal(list.status, 200, JSON.stringify(list.body));
    const pipelines = (list.body as WireCollection<WirePipeline>).results;
    const liveStages = new Map<string, Set<string>>();
    await pooled(pipelines, 8, async (listed) => {
      const [one, staged] = await Promise.all([
        request(base, token, 'GET', `${PIPELINES}/${listed.id}`),
        request(base, token, 'GET', `${PIPELINES}/${listed.id}/stages`),
      ]);
      if (one.status !== 200 || staged.status !== 200) {
        problems.push(`pipeline ${listed.id}: ${one.status} / ${staged.status}`);
        return;
      }
      const fromPipeline = (one.body as WirePipeline).stages.filter((s) => !s.archived);
      const fromList = (staged.body as WireCollection<WireStage>).results.filter((s) => !s.archived);
      const key = (ss: WireStage[]) =>
        ss
          .map((s) => `${s.id}:${s.label}:${s.displayOrder}`)
          .sort()
          .join(',');
      if (key(fromPipeline) !== key(fromList) || key(fromPipeline) !== key(listed.stages))
        problems.push(
          `pipeline ${listed.id}: stages differ between the list, the pipeline and its stages:\n` +
            `  ${key(listed.stages)}\n  ${key(fromPipeline)}\n  ${key(fromList)}`,
        );
      liveStages.set(listed.id, new Set(fromPipeline.map((s) => s.id)));
      if (!auditOf(listed.id)) return;
      await pooled(fromPipeline, 8, async (s) => {
        const audit = await request(base, token, 'GET', `${PIPELINES}/${listed.id}/stages/${s.id}/audit`);
        const entries = (audit.body as WireCollection<WireAudit> | undefined)?.results ?? [];
        if (audit.status !== 200 || !entries.some((e) => e.action === 'CREATE'))
          problems.push(
            `stage ${s.id} of pipeline ${listed.id} has no CREATE audit: ${JSON.stringify(audit.body)}`,
          );
      });
    });
    // Every deal (acknowledged or not) sits in a live stage of a live pipeline.
    let after: string | undefined;
    let seen = 0;
    do {
      const page = await request(
        base,
        token,
        'GET',
        `${DEALS}?limit=100&properties=dealname,pipeline,dealstage${after ? `&after=${after}` : ''}`,
      );
      assert.equal(page.status, 200, JSON.stringify(page.body));
      const body = page.body as { results: DealRecord[]; paging?: { next: { after: string } } };
      for (const d of body.results) {
        seen++;
        const { pipeline, dealstage } = d.properties;
        if (pipeline === null || pipeline === undefined || !liveStages.get(pipeline)?.has(dealstage ?? ''))
          problems.push(`deal ${d.id} is in pipeline ${pipeline} stage ${dealstage}, which does not exist`);
      }
      after = body.paging?.next.after;
    } while (after !== undefined && seen < 100_000);
    assert.deepEqual(problems, [], 'half-written state visible');
  }

  it(`survives ${CYCLES} SIGKILLs under a concurrent write load`, { timeout: 120_000 }, async () => {
    const started = Date.now();
    let survived = 0;
    let acknowledged = 0;
    let checked = 0;
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      if (cycle > 0) {
        const integrity = integrityCheck(database);
        assert.equal(integrity, 'ok', `integrity_check after the kill of cycle ${cycle - 1}`);
      }
      const server = await startServer(database);
      try {
        if (cycle > 0) {
          checked += await checkAcknowledged(server.url, (c) => c === cycle - 1);
          await checkConsistency(server.url, (id) =>
            labels.some((l) => l.cycle === cycle - 1 && l.pipelineId === id),
          );
          survived++;
        }

        // Fresh pipelines for this cycle (before the load: not subject to the kill).
        const pipelineIds: string[] = [];
        const initialStages: string[] = [];
        for (let p = 0; p < PIPELINES_PER_CYCLE; p++) {
          const label = `P-${run}-c${cycle}-p${p}-v0`;
          const r = await request(server.url, token, 'POST', PIPELINES, {
            label,
            displayOrder: 0,
            stages: [{ label: 'Initial', displayOrder: 0, metadata: { probability: '0.1' } }],
          });
          assert.equal(r.status, 201, JSON.stringify(r.body));
          const created = r.body as WirePipeline;
          pipelineIds.push(created.id);
          initialStages.push(created.stages[0]!.id);
          labels.push({ cycle, pipelineId: created.id, sent: [label], acked: 0 });
        }

        // The load: every client loops until its requests fail (the kill).
        let killed = false;
        const client = async (i: number) => {
          const p = i % PIPELINES_PER_CYCLE;
          const pipelineId = pipelineIds[p]!;
          const myStages = [initialStages[p]!];
          // One client per pipeline renames it: its label history is then sequential.
          const history =
            i < PIPELINES_PER_CYCLE ? labels.find((l) => l.pipelineId === pipelineId)! : undefined;
          let n = 0;
          let stageCount = 0;
          while (!killed) {
            n++;
            const choice = Math.random();
            try {
              if (choice < 0.4 && stageCount < STAGES_PER_CLIENT) {
                stageCount++;
                const label = `s-c${cycle}-l${i}-${n}`;
                const r = await request(server.url, token, 'POST', `${PIPELINES}/${pipelineId}/stages`, {
                  label,
                  displayOrder: n,
                  metadata: { probability: '0.5' },
                });
                if (r.status >= 500)
                  serverErrors.push(`stage create → ${r.status} ${JSON.stringify(r.body)}`);
                if (is2xx(r)) {
                  const s = r.body as WireStage;
                  assert.equal(s.label, label);
                  stages.push({ cycle, pipelineId, id: s.id, label });
                  myStages.push(s.id);
                  acknowledged++;
                }
              } else if (choice < 0.85 || history === undefined) {
                const name = `deal-${run}-c${cycle}-l${i}-${n}`;
                const stageId = myStages[Math.floor(Math.random() * myStages.length)]!;
                const r = await request(server.url, token, 'POST', DEALS, {
                  properties: { dealname: name, pipeline: pipelineId, dealstage: stageId },
                });
                if (r.status >= 500) serverErrors.push(`deal create → ${r.status} ${JSON.stringify(r.body)}`);
                if (is2xx(r)) {
                  deals.push({ cycle, id: (r.body as DealRecord).id, name, pipelineId, stageId });
                  acknowledged++;
                }
              } else {
                const label = `P-${run}-c${cycle}-p${p}-v${n}`;
                history.sent.push(label);
                const r = await request(server.url, token, 'PATCH', `${PIPELINES}/${pipelineId}`, { label });
                if (r.status >= 500)
                  serverErrors.push(`pipeline patch → ${r.status} ${JSON.stringify(r.body)}`);
                if (is2xx(r)) {
                  assert.equal((r.body as WirePipeline).label, label);
                  history.acked = history.sent.length - 1;
                  acknowledged++;
                }
              }
            } catch (err) {
              if (err instanceof assert.AssertionError) throw err;
              unacknowledged++;
              return; // connection refused / reset: the server is gone
            }
          }
        };
        const load = Promise.all(Array.from({ length: CLIENTS }, (_, i) => client(i)));
        await sleep(50 + Math.random() * 350);
        const exit = await kill(server, 'SIGKILL');
        killed = true;
        assert.equal(exit.signal, 'SIGKILL');
        await load;
      } finally {
        if (server.child.exitCode === null && server.child.signalCode === null) await kill(server, 'SIGKILL');
      }
    }

    // The last kill, then everything acknowledged over all cycles, once more.
    assert.equal(integrityCheck(database), 'ok', `integrity_check after the kill of cycle ${CYCLES - 1}`);
    const server = await startServer(database);
    try {
      checked += await checkAcknowledged(server.url, (c) => c === CYCLES - 1);
      survived++;
      const all = await checkAcknowledged(server.url, () => true);
      assert.equal(checked, all, 'every cycle was checked after its own kill');
      await checkConsistency(server.url, (id) =>
        labels.some((l) => l.cycle === CYCLES - 1 && l.pipelineId === id),
      );
      // Read-only connection next to the running server.
      assert.equal(integrityCheck(database), 'ok', 'integrity_check with the server running');
      const exit = await kill(server, 'SIGTERM');
      assert.equal(exit.code, 0, server.stderr());
      assert.equal(integrityCheck(database), 'ok', 'integrity_check after a clean stop');
      assert.deepEqual(serverErrors, [], 'server errors during the load');
      console.log(
        `crash cycles survived: ${survived}/${CYCLES}; writes acknowledged: ${acknowledged} ` +
          `(stages ${stages.length}, deals ${deals.length}, pipeline renames ${acknowledged - stages.length - deals.length}); ` +
          `checked after each restart: ${checked}, re-checked at the end: ${all}; connections cut by the kills: ${unacknowledged}; ` +
          `writes lost: ${lost}; ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
    } finally {
      if (server.child.exitCode === null && server.child.signalCode === null) await kill(server, 'SIGKILL');
    }
  });

  it('SIGTERM drains the requests in flight and exits with code 0', { timeout: 60_000 }, async () => {
    const db = tempDb();
    const termToken = `term-${randomUUID()}`;
    const rounds = [1, 5, 12, 20];
    const shutdownProblems: string[] = [];
    let acknowledgedTotal = 0;
    let refusedTotal = 0;
    let unavailableTotal = 0;
    const acked: { round: number; id: string; name: string }[] = [];
    for (const [round, waitFor] of rounds.entries()) {
      const server = await startServer(db);
      try {
        // Warm the portal up (its first request seeds it), then find a stage for the deals.
        const list = await request(server.url, termToken, 'GET', PIPELINES);
        assert.equal(list.status, 200, JSON.stringify(list.body));
        const pipeline = (list.body as WireCollection<WirePipeline>).results[0]!;
        const stageId = pipeline.stages[0]!.id;
        const incoming = () => (server.stdout().match(/"msg":"incoming request"/g) ?? []).length;
        const before = incoming();
        const outcomes = Array.from({ length: 30 }, async (_, i) => {
          const name = `term-${round}-${i}`;
          try {
            const r = await request(server.url, termToken, 'POST', DEALS, {
              properties: { dealname: name, pipeline: pipeline.id, dealstage: stageId },
            });
            return { name, reply: r };
          } catch (err) {
            return { name, error: err };
          }
        });
        // SIGTERM once the server has seen `waitFor` of them (or after 2 s at the latest).
        const deadline = Date.now() + 2000;
        while (incoming() - before < waitFor && Date.now() < deadline) await sleep(1);
        const exitPromise = kill(server, 'SIGTERM', DRAIN_GRACE_MS);
        const results = await Promise.all(outcomes);
        const exit = await exitPromise;
        const replies = results.map((r) => (r.reply ? String(r.reply.status) : errorCode(r.error))).join(' ');
        if (exit.hung)
          shutdownProblems.push(
            `round ${round} (SIGTERM once ${waitFor} requests were seen): still running ${exit.ms} ms after ` +
              `SIGTERM (then SIGKILLed); replies: ${replies}; last log messages: ` +
              lastMessages(server.stdout(), 4),
          );
        else if (exit.code !== 0)
          shutdownProblems.push(
            `round ${round}: exit ${exit.code ?? exit.signal}; stderr: ${server.stderr()}`,
          );
        for (const r of results) {
          if (r.reply === undefined) {
            refusedTotal++;
            continue;
          }
          const { status, body } = r.reply;
          if (is2xx(r.reply)) {
            assert.equal((body as DealRecord).properties.dealname, r.name);
            acked.push({ round, id: (body as DealRecord).id, name: r.name });
            acknowledgedTotal++;
          } else {
            assert.equal(status, 503, `round ${round}: ${r.name} → ${status} ${JSON.stringify(body)}`);
            const e = body as WireError;
            assert.equal(e.status, 'error', JSON.stringify(body));
            assert.equal(typeof e.message, 'string');
            assert.equal(typeof e.correlationId, 'string');
            unavailableTotal++;
          }
        }
      } finally {
        if (server.child.exitCode === null && server.child.signalCode === null) await kill(server, 'SIGKILL');
      }
    }
    assert.equal(integrityCheck(db), 'ok');
    const server = await startServer(db);
    try {
      const missing: string[] = [];
      await pooled(acked, 16, async (a) => {
        const r = await request(server.url, termToken, 'GET', `${DEALS}/${a.id}?properties=dealname`);
        if (r.status !== 200 || (r.body as DealRecord).properties.dealname !== a.name)
          missing.push(`round ${a.round}: deal ${a.id} "${a.name}" → ${r.status} ${JSON.stringify(r.body)}`);
      });
      lost += missing.length;
      assert.deepEqual(missing, [], 'acknowledged writes lost across SIGTERM');
      console.log(
        `SIGTERM rounds: ${rounds.length}; requests acknowledged: ${acknowledgedTotal}, ` +
          `503: ${unavailableTotal}, connection errors: ${refusedTotal}; writes lost: ${missing.length}; ` +
          `rounds that did not exit within ${DRAIN_GRACE_MS} ms: ${shutdownProblems.length}`,
      );
      const exit = await kill(server, 'SIGTERM');
      assert.equal(exit.code, 0, server.stderr());
    } finally {
      if (server.child.exitCode === null && server.child.signalCode === null) await kill(server, 'SIGKILL');
    }
    assert.deepEqual(shutdownProblems, [], `SIGTERM must drain and exit 0 within ${DRAIN_GRACE_MS} ms`);
  });
});
