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

import { stopProcesses, type ServeProcess } from '../helpers/cli-process.js';
import { FaultClient, unhandledErrors, type Answer } from '../helpers/fault-client.js';
import { WriteLoad } from '../helpers/fault-load.js';
import { PgCluster, clusterSkipReason } from '../helpers/pg-cluster.js';

const CYCLES = Math.max(1, Number(process.env.STAGELINE_PG_CRASH_CYCLES ?? '10') || 10);
const CLIENTS = 8;
const DB_TIMEOUT_MS = 1000;
/** A 503 must arrive within the database timeout plus this (a loaded 2-core machine). */
const ANSWER_MARGIN_MS = 1000;
/** A request sent while PostgreSQL is down fails at connect: a 503 within the timeout. */
const DOWN_BOUND_MS = DB_TIMEOUT_MS + ANSWER_MARGIN_MS;
/**
 * Any other 503 (a write in flight at the kill, or queued behind one): a write may wait for a
 * pooled connection, then for its portal's lock, then for a statement, each within the timeout.
 */
const ANY_BOUND_MS = 3 * DB_TIMEOUT_MS + ANSWER_MARGIN_MS;
/** Each process answers a write with a 2xx again within this once PostgreSQL is back. */
const RECOVERY_BOUND_MS = 10_000;

const skip = clusterSkipReason();
const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

describe('PostgreSQL crashes under two stageline serve processes', { skip }, () => {
  let cluster: PgCluster | undefined;
  const children: ChildProcess[] = [];
  const servers: ServeProcess[] = [];

  before(async () => {
    cluster = await PgCluster.create();
    await cluster.start();
    await cluster.sql('CREATE DATABASE stageline');
    servers.push(...(await cluster.serveTwo('stageline', DB_TIMEOUT_MS, children)));
  });

  after(async () => {
    await stopProcesses(children);
    await cluster?.destroy();
  });

  it(
    `${CYCLES} crashes of the postmaster: no acknowledged write lost, 503s within the timeout, recovery by itself`,
    { timeout: 240_000 },
    async () => {
      assert.ok(cluster && servers.length === 2, 'the cluster or the servers did not start');
      const db = cluster;
      const http = new FaultClient(servers, `pgcrash-${randomUUID()}`);
      const load = new WriteLoad(http, randomUUID().slice(0, 8));
      const started = performance.now();
      /** Killed at `from`, restarted at `to`, answering at `back`, both processes served a write at `recovered`. */
      const outages: Array<{ from: number; to: number; back: number; recovered: number }> = [];
      const recoveries: number[] = [];

      load.start(CLIENTS);
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
          const times = await Promise.all([0, 1].map((s) => http.recovered(s, back, RECOVERY_BOUND_MS)));
          recoveries.push(...times);
          outages.push({ from, to, back, recovered: back + Math.max(...times) });
        }
        await sleep(500);
      } finally {
        await load.stop();
      }
      const loadSeconds = (performance.now() - started) / 1000;

      // --- every answer: 2xx, or a 503 envelope in time; while PostgreSQL is down only 503s -------
      const answers = [...http.answers];
      const sentDown = (a: Answer) => outages.some(({ from, to }) => a.sentAt >= from && a.sentAt <= to);
      const unavailable = http.checkErrors((a) => (sentDown(a) ? DOWN_BOUND_MS : ANY_BOUND_MS));
      const sentWhileDown = (a: Answer) =>
        outages.some(({ from, to }) => a.sentAt >= from && a.answeredAt <= to);
      for (const a of answers.filter(sentWhileDown))
        if (a.status !== 503)
          http.problems.push(`${a.what} on #${a.server} answered ${a.status} while PostgreSQL was down`);
      const outageAnswers = answers.filter(sentWhileDown);
      assert.ok(
        outageAnswers.length >= CYCLES,
        `only ${outageAnswers.length} requests were sent and answered during the outages`,
      );
      assert.deepEqual(http.problems, [], 'answers during the crash cycles');
      for (const [i, s] of servers.entries()) {
        assert.equal(s.child.exitCode ?? s.child.signalCode, null, `process #${i} exited: ${s.stderr()}`);
        assert.deepEqual(unhandledErrors(s), [], `process #${i} logged unhandled errors`);
      }

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
      const verdict = await load.verify();

      // 503s by when they were answered: PostgreSQL down, restarting (until both processes served
      // a write again), or up (requests in flight at the kill).
      const down = unavailable.filter((a) =>
        outages.some(({ from, to }) => a.answeredAt >= from && a.answeredAt <= to),
      );
      const restarting = unavailable.filter((a) =>
        outages.some(({ to, recovered }) => a.answeredAt > to && a.answeredAt <= recovered),
      );
      const acknowledged = answers.filter((a) => a.status >= 200 && a.status < 300).length;
      const slowest = (list: Answer[]) => Math.max(0, ...list.map((a) => a.answeredAt - a.sentAt)).toFixed(0);
      recoveries.sort((a, b) => a - b);
      console.log(
        `PostgreSQL crash cycles: ${CYCLES}; writes acknowledged: ${acknowledged} (pipelines ${verdict.pipelines}, ` +
          `deals ${verdict.deals}, stages checked ${verdict.stages}); lost: ${verdict.lost.length}; ` +
          `invariants broken: ${verdict.broken.length}; 503 answers: ${unavailable.length} (${down.length} while ` +
          `PostgreSQL was down, ${restarting.length} while it restarted, ${unavailable.length - down.length - restarting.length} ` +
          `otherwise); slowest 503 to a request sent while PostgreSQL was down ${slowest(unavailable.filter(sentDown))} ms ` +
          `(bound ${DOWN_BOUND_MS} ms), of all ${slowest(unavailable)} ms (bound ${ANY_BOUND_MS} ms); other 5xx: ${answers.filter((a) => a.status >= 500 && a.status !== 503).length}; crash recovery ` +
          `(restart until PostgreSQL answers): max ${Math.max(...outages.map((o) => o.back - o.to)).toFixed(0)} ms; ` +
          `each process serving writes again after: max ${recoveries.at(-1)!.toFixed(0)} ms, median ` +
          `${recoveries[Math.floor(recoveries.length / 2)]!.toFixed(0)} ms; load ${loadSeconds.toFixed(1)} s`,
      );
      assert.deepEqual(verdict.lost, [], 'acknowledged writes lost');
      assert.deepEqual(verdict.broken, [], 'invariants broken');
    },
  );
});
