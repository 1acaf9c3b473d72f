// PostgreSQL itself crashing under Stageline, on a throwaway cluster of the test's own (never the
// machine's shared PostgreSQL): two real `stageline serve` processes take a write load from
// several clients while the test SIGKILLs the postmaster and its server processes, keeps the
// database away for a moment, and restarts it (crash recovery from the WAL), cycle after cycle.
// Every write acknowledged with a 2xx must be there exactly once afterwards, the invariants must
// hold (unique labels, the stage limit, one audit entry per write), every answer during the outage
// must be a 503 envelope within the database timeout (no 500, no hang), and each process must
// recover by itself.
//
// STAGELINE_PG_CRASH_CYCLES sets the number of crash cycles (default 10).

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import { labelKey } from '../../src/domain/pipeline-rules.js';
import { startServe, stopProcesses, type ServeProcess } from '../helpers/cli-process.js';
import { PgCluster, clusterSkipReason } from '../helpers/pg-cluster.js';
import type { WireAudit, WireCollection, WireError, WirePipeline, WireStage } from '../helpers/wire-types.js';

const CYCLES = Math.max(1, Number(process.env.STAGELINE_PG_CRASH_CYCLES ?? '10') || 10);
const CLIENTS = 8;
const DB_TIMEOUT_MS = 1000;
/** A 503 must arrive within the database timeout plus this (a loaded 2-core machine). */
const ANSWER_MARGIN_MS = 1000;
/** A request unanswered after this counts as a hang. */
const HANG_MS = 10_000;
/** Each process answers a write with a 2xx again within this once PostgreSQL is back. */
const RECOVERY_BOUND_MS = 10_000;
const PIPELINES = '/crm/v3/pipelines/deals';
const DEALS = '/crm/v3/objects/deals';
const JSON_TYPE = 'application/json;charset=utf-8';
/** Stages one client creates in one pipeline at most: far below the limit of 100. */
const STAGES_PER_PIPELINE = 25;

const skip = clusterSkipReason();
const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

interface Answer {
  server: number;
  what: string;
  status: number;
  body: unknown;
  retryAfter: string | null;
  contentType: string | null;
  sentAt: number;
  answeredAt: number;
}

/** What a client sent as one value over time; `acked` is the index of the last 2xx (-1: none). */
interface History {
  sent: string[];
  acked: number;
}
const allowed = (h: History): string[] => (h.acked >= 0 ? h.sent.slice(h.acked) : h.sent);

interface OwnedStage {
  id: string;
  labels: History;
  /** 'unknown': a delete was sent but not acknowledged. */
  state: 'live' | 'deleted' | 'unknown';
}
interface OwnedPipeline {
  id: string;
  labels: History;
  /** The two stages it was created with: the deals live there, they are never deleted. */
  dealStages: [string, string];
  stages: OwnedStage[];
  /** Writes that make a pipeline audit entry (this one included), sent and acknowledged. */
  writesSent: number;
  writesAcked: number;
}
interface OwnedDeal {
  id: string;
  name: string;
  pipelineId: string;
  stages: History;
}

describe('PostgreSQL crashes under two stageline serve processes', { skip }, () => {
  let cluster: PgCluster | undefined;
  const children: ChildProcess[] = [];
  const servers: ServeProcess[] = [];
  const token = `pgcrash-${randomUUID()}`;
  const run = randomUUID().slice(0, 8);

  before(async () => {
    cluster = await PgCluster.create();
    await cluster.start();
    await cluster.sql('CREATE DATABASE stageline');
    const database = cluster.url('stageline');
    servers.push(
      ...(await Promise.all(
        [0, 1].map(() =>
          startServe(['--database', database, '--db-timeout-ms', String(DB_TIMEOUT_MS), '--pool-size', '4'], {
            onSpawn: (child) => children.push(child),
          }),
        ),
      )),
    );
  });

  after(async () => {
    await stopProcesses(children);
    await cluster?.destroy();
  });

  const answers: Answer[] = [];
  const problems: string[] = [];

  /** One request to process `server`; a hang or a connection error is recorded as a problem. */
  async function send(server: number, what: string, method: string, path: string, body?: unknown) {
    const sentAt = performance.now();
    try {
      const res = await fetch(`${servers[server]!.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body !== undefined && { 'content-type': 'application/json' }),
        },
        ...(body !== undefined && { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(HANG_MS),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text === '' ? undefined : (JSON.parse(text) as unknown);
      } catch {
        // kept as text for the messages
      }
      const answer: Answer = {
        server,
        what,
        status: res.status,
        body: parsed,
        retryAfter: res.headers.get('retry-after'),
        contentType: res.headers.get('content-type'),
        sentAt,
        answeredAt: performance.now(),
      };
      answers.push(answer);
      return answer;
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
      problems.push(
        `${what} on #${server}: no answer after ${(performance.now() - sentAt).toFixed(0)} ms (${cause})`,
      );
      return undefined;
    }
  }

  const is2xx = (a: Answer): boolean => a.status >= 200 && a.status < 300;
  const ok = (a: Answer | undefined): a is Answer => a !== undefined && is2xx(a);

  it(
    `${CYCLES} crashes of the postmaster: no acknowledged write lost, 503s within the timeout, recovery by itself`,
    { timeout: 240_000 },
    async () => {
      assert.ok(cluster && servers.length === 2, 'the cluster or the servers did not start');
      const db = cluster;
      const started = performance.now();
      const pipelines: OwnedPipeline[] = [];
      const deals: OwnedDeal[] = [];
      /** Killed at `from`, restarted at `to`, answering at `back`, both processes served a write at `recovered`. */
      const outages: Array<{ from: number; to: number; back: number; recovered: number }> = [];
      const recoveries: number[] = [];
      let stop = false;

      const client = async (i: number) => {
        const server = i % 2;
        const mine: OwnedPipeline[] = [];
        const myDeals: OwnedDeal[] = [];
        let n = 0;
        while (!stop) {
          n++;
          const choice = Math.random();
          const pipeline = mine.length === 0 ? undefined : pick(mine);
          let answer: Answer | undefined;
          if (pipeline === undefined || choice < 0.08 || pipeline.stages.length >= STAGES_PER_PIPELINE) {
            const label = `P-${run}-${i}-${n}`;
            answer = await send(server, 'create pipeline', 'POST', PIPELINES, {
              label,
              displayOrder: n,
              stages: [
                { label: 'Open', displayOrder: 0, metadata: { probability: '0.2' } },
                { label: 'Won', displayOrder: 1, metadata: { probability: '1.0' } },
              ],
            });
            if (ok(answer)) {
              const p = answer.body as WirePipeline;
              const owned: OwnedPipeline = {
                id: p.id,
                labels: { sent: [label], acked: 0 },
                dealStages: [p.stages[0]!.id, p.stages[1]!.id],
                stages: [],
                writesSent: 1,
                writesAcked: 1,
              };
              mine.push(owned);
              pipelines.push(owned);
            }
          } else if (choice < 0.3) {
            const label = `s-${i}-${n}`;
            pipeline.writesSent++;
            answer = await send(server, 'create stage', 'POST', `${PIPELINES}/${pipeline.id}/stages`, {
              label,
              displayOrder: n,
              metadata: { probability: '0.5' },
            });
            if (ok(answer)) {
              pipeline.writesAcked++;
              pipeline.stages.push({
                id: (answer.body as WireStage).id,
                labels: { sent: [label], acked: 0 },
                state: 'live',
              });
            }
          } else if (choice < 0.45 && pipeline.stages.some((s) => s.state === 'live')) {
            const stage = pick(pipeline.stages.filter((s) => s.state === 'live'));
            const label = `s-${i}-${n}`;
            pipeline.writesSent++;
            stage.labels.sent.push(label);
            answer = await send(
              server,
              'patch stage',
              'PATCH',
              `${PIPELINES}/${pipeline.id}/stages/${stage.id}`,
              { label },
            );
            if (ok(answer)) {
              pipeline.writesAcked++;
              stage.labels.acked = stage.labels.sent.length - 1;
            }
          } else if (choice < 0.55 && pipeline.stages.some((s) => s.state === 'live')) {
            const stage = pick(pipeline.stages.filter((s) => s.state === 'live'));
            pipeline.writesSent++;
            answer = await send(
              server,
              'delete stage',
              'DELETE',
              `${PIPELINES}/${pipeline.id}/stages/${stage.id}`,
            );
            if (ok(answer)) pipeline.writesAcked++;
            stage.state = ok(answer) ? 'deleted' : 'unknown';
          } else if (choice < 0.65) {
            const label = `P-${run}-${i}-${n}`;
            pipeline.writesSent++;
            pipeline.labels.sent.push(label);
            answer = await send(server, 'rename pipeline', 'PATCH', `${PIPELINES}/${pipeline.id}`, { label });
            if (ok(answer)) {
              pipeline.writesAcked++;
              pipeline.labels.acked = pipeline.labels.sent.length - 1;
            }
          } else if (choice < 0.82 || myDeals.length === 0) {
            const name = `deal-${run}-${i}-${n}`;
            const stageId = pipeline.dealStages[0];
            answer = await send(server, 'create deal', 'POST', DEALS, {
              properties: { dealname: name, pipeline: pipeline.id, dealstage: stageId },
            });
            if (ok(answer)) {
              const deal: OwnedDeal = {
                id: (answer.body as { id: string }).id,
                name,
                pipelineId: pipeline.id,
                stages: { sent: [stageId], acked: 0 },
              };
              myDeals.push(deal);
              deals.push(deal);
            }
          } else {
            const deal = pick(myDeals);
            const owner = pipelines.find((p) => p.id === deal.pipelineId)!;
            const current = deal.stages.sent.at(-1);
            const stageId = current === owner.dealStages[0] ? owner.dealStages[1] : owner.dealStages[0];
            deal.stages.sent.push(stageId);
            answer = await send(server, 'move deal', 'PATCH', `${DEALS}/${deal.id}`, {
              properties: { dealstage: stageId },
            });
            if (ok(answer)) deal.stages.acked = deal.stages.sent.length - 1;
          }
          if (answer !== undefined && !ok(answer)) await sleep(50);
        }
      };

      /** Waits until process `server` has answered a write sent after `since` with a 2xx. */
      async function recovered(server: number, since: number): Promise<number> {
        for (;;) {
          const first = answers.find((a) => a.server === server && a.sentAt >= since && ok(a));
          if (first) return first.answeredAt - since;
          if (performance.now() - since > RECOVERY_BOUND_MS)
            throw new Error(
              `process #${server} answered no write with a 2xx within ${RECOVERY_BOUND_MS} ms of the restart`,
            );
          await sleep(20);
        }
      }

      const load = Promise.all(Array.from({ length: CLIENTS }, (_, i) => client(i)));
      try {
        await sleep(1500);
        for (let cycle = 0; cycle < CYCLES; cycle++) {
          await sleep(600 + Math.random() * 800);
          const from = performance.now();
          await db.crash();
          await sleep(300 + Math.random() * 500);
          const to = performance.now();
          await db.start();
          const back = performance.now();
          const times = await Promise.all([0, 1].map((s) => recovered(s, back)));
          recoveries.push(...times);
          outages.push({ from, to, back, recovered: back + Math.max(...times) });
        }
        await sleep(500);
      } finally {
        stop = true;
        await load;
      }
      const loadSeconds = (performance.now() - started) / 1000;

      // --- every answer: 2xx, or a 503 envelope in time; during an outage only 503s ---------------
      const bound = DB_TIMEOUT_MS + ANSWER_MARGIN_MS;
      const unavailable = answers.filter((a) => a.status === 503);
      for (const a of answers) {
        if (is2xx(a)) continue;
        const show = `${a.what} on #${a.server} → ${a.status} ${JSON.stringify(a.body)}`;
        if (a.status !== 503) {
          problems.push(`not a 2xx or a 503: ${show}`);
          continue;
        }
        const e = a.body as WireError;
        if (a.contentType !== JSON_TYPE || e.status !== 'error' || e.category !== 'SERVICE_UNAVAILABLE')
          problems.push(`not HubSpot's 503 envelope: ${show} (${a.contentType})`);
        else if (typeof e.message !== 'string' || e.message === '' || typeof e.correlationId !== 'string')
          problems.push(`503 without a message or correlation id: ${show}`);
        if (a.retryAfter === null) problems.push(`503 without Retry-After: ${show}`);
        const ms = a.answeredAt - a.sentAt;
        if (ms > bound) problems.push(`503 after ${ms.toFixed(0)} ms (bound ${bound} ms): ${show}`);
      }
      for (const { from, to } of outages) {
        const during = answers.filter((a) => a.sentAt >= from && a.answeredAt <= to);
        for (const a of during.filter((x) => x.status !== 503))
          problems.push(`${a.what} on #${a.server} answered ${a.status} while PostgreSQL was down`);
      }
      const outageAnswers = answers.filter((a) =>
        outages.some(({ from, to }) => a.sentAt >= from && a.answeredAt <= to),
      );
      assert.ok(
        outageAnswers.length >= CYCLES,
        `only ${outageAnswers.length} requests were sent and answered during the outages`,
      );
      assert.deepEqual(problems, [], 'answers during the crash cycles');
      for (const [i, s] of servers.entries())
        assert.equal(s.child.exitCode ?? s.child.signalCode, null, `process #${i} exited: ${s.stderr()}`);

      // Each process's LISTEN connection (its read cache's change feed) is back by itself.
      let listeners = 0;
      for (const deadline = performance.now() + 10_000; listeners !== 2 && performance.now() < deadline;) {
        await sleep(100);
        const rows = await db.sql(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name LIKE 'stageline stageline_changes%'",
        );
        listeners = (rows.rows[0] as { n: number }).n;
      }
      assert.equal(listeners, 2, 'LISTEN connections of the two processes after the last restart');

      // --- afterwards: everything acknowledged is there exactly once; invariants hold -------------
      const lost: string[] = [];
      const broken: string[] = [];
      const get = async <T>(server: number, path: string): Promise<T> => {
        const a = await send(server, `GET ${path}`, 'GET', path);
        assert.ok(
          a !== undefined && a.status === 200,
          `GET ${path} on #${server}: ${a?.status} ${JSON.stringify(a?.body)}`,
        );
        return a.body as T;
      };
      const list = await get<WireCollection<WirePipeline>>(0, PIPELINES);
      assert.deepEqual(
        await get<WireCollection<WirePipeline>>(1, PIPELINES),
        list,
        'both processes list the same pipelines',
      );
      const live = new Map(list.results.map((p) => [p.id, p]));
      const keys = list.results.map((p) => labelKey(p.label));
      if (new Set(keys).size !== keys.length)
        broken.push(`duplicate live pipeline labels: ${keys.join(', ')}`);
      for (const p of list.results) {
        const stageKeys = p.stages.map((s) => labelKey(s.label));
        if (new Set(stageKeys).size !== stageKeys.length)
          broken.push(`pipeline ${p.id}: duplicate stage labels ${stageKeys.join(', ')}`);
        if (p.stages.length < 1 || p.stages.length > 100)
          broken.push(`pipeline ${p.id}: ${p.stages.length} stages`);
      }
      let stagesChecked = 0;
      for (const [index, owned] of pipelines.entries()) {
        const p = live.get(owned.id);
        if (p === undefined) {
          lost.push(`pipeline ${owned.id} "${owned.labels.sent[0]}" is gone`);
          continue;
        }
        if (!allowed(owned.labels).includes(p.label))
          lost.push(
            `pipeline ${owned.id} is labelled "${p.label}", expected one of ${JSON.stringify(allowed(owned.labels))}`,
          );
        for (const dealStage of owned.dealStages)
          if (!p.stages.some((s) => s.id === dealStage))
            lost.push(`pipeline ${owned.id} lost its stage ${dealStage}`);
        for (const stage of owned.stages) {
          const found = p.stages.filter((s) => s.id === stage.id);
          stagesChecked++;
          if (stage.state === 'deleted' && found.length > 0)
            lost.push(`stage ${stage.id}: an acknowledged delete undone`);
          if (stage.state === 'live' && found.length !== 1)
            lost.push(`stage ${stage.id} "${stage.labels.sent[0]}": present ${found.length} times`);
          if (found.length === 1 && !allowed(stage.labels).includes(found[0]!.label))
            lost.push(
              `stage ${stage.id} is labelled "${found[0]!.label}", expected one of ${JSON.stringify(allowed(stage.labels))}`,
            );
        }
        // One pipeline audit entry per write: every acknowledged one, none twice, none invented.
        const audit = (await get<WireCollection<WireAudit>>(index % 2, `${PIPELINES}/${owned.id}/audit`))
          .results;
        if (audit.length < owned.writesAcked || audit.length > owned.writesSent)
          broken.push(
            `pipeline ${owned.id}: ${audit.length} audit entries for ${owned.writesAcked} acknowledged and ${owned.writesSent} sent writes`,
          );
        const versions = audit.map((e) => (JSON.parse(e.rawObject) as { version?: number }).version);
        if (new Set(versions).size !== versions.length)
          broken.push(`pipeline ${owned.id}: audit versions repeat: ${versions.join(', ')}`);
        if (audit.filter((e) => e.action === 'CREATE').length !== 1)
          broken.push(`pipeline ${owned.id}: not one CREATE in its audit`);
      }

      // Deals: each acknowledged one exactly once, in a stage it was sent to last.
      const byName = new Map<string, Array<{ id: string; properties: Record<string, string | null> }>>();
      let after: string | undefined;
      do {
        const page = await get<{
          results: Array<{ id: string; properties: Record<string, string | null> }>;
          paging?: { next: { after: string } };
        }>(
          0,
          `${DEALS}?limit=100&properties=dealname,pipeline,dealstage${after === undefined ? '' : `&after=${after}`}`,
        );
        for (const d of page.results) {
          const name = d.properties.dealname ?? '';
          byName.set(name, [...(byName.get(name) ?? []), d]);
          const p = live.get(d.properties.pipeline ?? '');
          if (!p?.stages.some((s) => s.id === d.properties.dealstage))
            broken.push(
              `deal ${d.id} sits in pipeline ${d.properties.pipeline} stage ${d.properties.dealstage}, which does not exist`,
            );
        }
        after = page.paging?.next.after;
      } while (after !== undefined);
      for (const [name, found] of byName)
        if (found.length > 1) broken.push(`deal "${name}" exists ${found.length} times`);
      for (const deal of deals) {
        const found = byName.get(deal.name) ?? [];
        if (found.length !== 1 || found[0]!.id !== deal.id) {
          lost.push(`deal ${deal.id} "${deal.name}": found ${found.length} times`);
          continue;
        }
        if (!allowed(deal.stages).includes(found[0]!.properties.dealstage ?? ''))
          lost.push(
            `deal ${deal.id} is in stage ${found[0]!.properties.dealstage}, expected one of ${allowed(deal.stages).join(', ')}`,
          );
      }

      // 503s by when they were answered: PostgreSQL down, restarting (until both processes served
      // a write again), or up (a request that was in flight at the kill, or a lock timeout).
      const down = unavailable.filter((a) =>
        outages.some(({ from, to }) => a.answeredAt >= from && a.answeredAt <= to),
      );
      const restarting = unavailable.filter((a) =>
        outages.some(({ to, recovered }) => a.answeredAt > to && a.answeredAt <= recovered),
      );
      const acknowledged = answers.filter((a) => ok(a) && !a.what.startsWith('GET')).length;
      const maxUnavailableMs = Math.max(0, ...unavailable.map((a) => a.answeredAt - a.sentAt));
      console.log(
        `PostgreSQL crash cycles: ${CYCLES}; writes acknowledged: ${acknowledged} (pipelines ${pipelines.length}, ` +
          `deals ${deals.length}, stages checked ${stagesChecked}); lost: ${lost.length}; invariants broken: ${broken.length}; ` +
          `503 answers: ${unavailable.length} (${down.length} while PostgreSQL was down, ${restarting.length} ` +
          `while it restarted, ${unavailable.length - down.length - restarting.length} otherwise), slowest ${maxUnavailableMs.toFixed(0)} ms ` +
          `(bound ${bound} ms); crash recovery (restart until PostgreSQL answers): max ` +
          `${Math.max(...outages.map((o) => o.back - o.to)).toFixed(0)} ms; 500s: ${answers.filter((a) => a.status === 500).length}; recovery after each restart: ` +
          `max ${Math.max(...recoveries).toFixed(0)} ms, median ${recoveries.sort((a, b) => a - b)[Math.floor(recoveries.length / 2)]!.toFixed(0)} ms; ` +
          `load ${loadSeconds.toFixed(1)} s, total ${((performance.now() - started) / 1000).toFixed(1)} s`,
      );
      assert.deepEqual(lost, [], 'acknowledged writes lost');
      assert.deepEqual(broken, [], 'invariants broken');
    },
  );
});
