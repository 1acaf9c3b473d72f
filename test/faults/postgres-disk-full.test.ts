// PostgreSQL's disk filling up under Stageline, on a throwaway cluster of the test's own (never
// the machine's shared PostgreSQL): the database lives in a tablespace on a small tmpfs mounted by
// the test (its WAL stays on the ordinary disk, as on a server whose data volume fills: PostgreSQL
// then refuses to extend a table with SQLSTATE 53100 instead of stopping). Two real `stageline
// serve` processes take a write load from several clients until the filesystem is full. Every
// failed write must answer a 503 envelope (no 500, no hang), reads must keep working, every
// acknowledged write must be kept, and once the filesystem grows (`mount -o remount,size=…`) each
// process must accept writes again by itself.

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { statfsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';

import { stopProcesses, type ServeProcess } from '../helpers/cli-process.js';
import { FaultClient, unhandledErrors, is2xx } from '../helpers/fault-client.js';
import { PIPELINES, WriteLoad } from '../helpers/fault-load.js';
import { PgCluster, clusterSkipReason, tmpfsSkipReason } from '../helpers/pg-cluster.js';
import type { WireCollection, WirePipeline } from '../helpers/wire-types.js';

const CLIENTS = 6;
const DB_TIMEOUT_MS = 1000;
/**
 * A 503 arrives within this: a write may wait for a pooled connection, then for its portal's
 * lock, then for a statement, each within the timeout; plus a margin for a loaded 2-core machine.
 */
const ANSWER_BOUND_MS = 3 * DB_TIMEOUT_MS + 1000;
/** Room left on the tablespace's filesystem when the load starts. */
const HEADROOM_BYTES = 256 * 1024;
const ROOMY = '64m';
/** How long the load may take to fill the headroom. */
const FILL_BOUND_MS = 60_000;
/** 503s each process must have answered before the disk counts as full. */
const FULL_AFTER_503S = 10;
const RECOVERY_BOUND_MS = 10_000;

const skip = clusterSkipReason() ?? tmpfsSkipReason();
const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

const usedBytes = (dir: string): number => {
  const s = statfsSync(dir);
  return (s.blocks - s.bfree) * s.bsize;
};

describe('PostgreSQL disk full under two stageline serve processes', { skip }, () => {
  let cluster: PgCluster | undefined;
  let tablespace = '';
  const children: ChildProcess[] = [];
  const servers: ServeProcess[] = [];

  before(async () => {
    cluster = await PgCluster.create();
    await cluster.start();
    tablespace = cluster.mountTmpfs('tablespace', ROOMY);
    await cluster.sql(`CREATE TABLESPACE stageline_data LOCATION '${tablespace}'`);
    await cluster.sql('CREATE DATABASE stageline TABLESPACE stageline_data');
    servers.push(...(await cluster.serveTwo('stageline', DB_TIMEOUT_MS, children)));
  });

  after(async () => {
    await stopProcesses(children);
    await cluster?.destroy();
  });

  it(
    'a full tablespace: 503s and no 500, reads work, acknowledged writes kept, writes resume once it grows',
    { timeout: 180_000 },
    async () => {
      assert.ok(cluster && servers.length === 2, 'the cluster or the servers did not start');
      const db = cluster;
      const http = new FaultClient(servers, `pgfull-${randomUUID()}`);
      const load = new WriteLoad(http, randomUUID().slice(0, 8));

      // Leave only the headroom, then fill it.
      const used = usedBytes(tablespace);
      db.resizeTmpfs(tablespace, `${Math.ceil((used + HEADROOM_BYTES) / 1024)}k`);
      const started = performance.now();
      load.start(CLIENTS);
      let full = 0;
      let grown = 0;
      const recoveries: number[] = [];
      const reads: number[] = [];
      try {
        const filled = (server: number) =>
          http.answers.filter((a) => a.server === server && !is2xx(a)).length >= FULL_AFTER_503S;
        while (!(filled(0) && filled(1))) {
          if (performance.now() - started > FILL_BOUND_MS)
            throw new Error(
              `the filesystem did not fill within ${FILL_BOUND_MS} ms: ${usedBytes(tablespace)} bytes used; ` +
                `answers: ${http.answers.length}, problems: ${http.problems.slice(0, 3).join('; ')}`,
            );
          await sleep(50);
        }
        full = performance.now();
        // While full, reads keep working on both processes.
        for (const server of [0, 1]) {
          const sent = performance.now();
          const list = await http.get<WireCollection<WirePipeline>>(server, PIPELINES);
          reads.push(performance.now() - sent);
          assert.ok(list.results.length > 0);
          const one = list.results.at(-1)!;
          await http.get<WirePipeline>(server, `${PIPELINES}/${one.id}`);
        }
        // /health names the fault on both processes while it lasts.
        for (const s of servers) {
          const health = await fetch(`${s.url}/health`);
          const body = (await health.json()) as { message?: string; subCategory?: string };
          assert.equal(health.status, 503, `${s.url}/health while full: ${JSON.stringify(body)}`);
          assert.equal(body.subCategory, 'STORAGE_FULL');
        }
        await sleep(1000);
        // Room again: each process writes again by itself.
        db.resizeTmpfs(tablespace, ROOMY);
        grown = performance.now();
        recoveries.push(
          ...(await Promise.all([0, 1].map((s) => http.recovered(s, grown, RECOVERY_BOUND_MS)))),
        );
        await sleep(1000);
      } finally {
        await load.stop();
      }
      // Once writes have succeeded for a while, /health is ok again by itself.
      for (const s of servers) {
        let status = 0;
        for (let tries = 0; tries < 50 && status !== 200; tries++) {
          if (tries > 0) await sleep(100);
          status = (await fetch(`${s.url}/health`)).status;
        }
        assert.equal(status, 200, `${s.url}/health after the filesystem grew`);
      }

      const answers = [...http.answers];
      const unavailable = http.checkErrors(() => ANSWER_BOUND_MS);
      const writes = answers.filter((a) => !a.what.startsWith('GET'));
      assert.deepEqual(http.problems, [], 'answers while the disk was full');
      assert.ok(unavailable.length >= 2 * FULL_AFTER_503S);
      for (const [i, s] of servers.entries()) {
        assert.equal(s.child.exitCode ?? s.child.signalCode, null, `process #${i} exited: ${s.stderr()}`);
        assert.deepEqual(unhandledErrors(s), [], `process #${i} logged unhandled errors`);
      }
      assert.doesNotMatch(db.serverLog(), /PANIC/, 'PostgreSQL itself survived the full disk');

      const verdict = await load.verify();
      const acknowledged = writes.filter((a) => a.status >= 200 && a.status < 300).length;
      const whileFull = writes.filter((a) => a.sentAt >= full && a.answeredAt <= grown);
      console.log(
        `PostgreSQL disk full: ${HEADROOM_BYTES / 1024} KB of room filled in ${((full - started) / 1000).toFixed(1)} s; ` +
          `writes acknowledged: ${acknowledged} (pipelines ${verdict.pipelines}, deals ${verdict.deals}, stages checked ` +
          `${verdict.stages}); lost: ${verdict.lost.length}; invariants broken: ${verdict.broken.length}; 503 answers: ` +
          `${unavailable.length} (while full: ${whileFull.filter((a) => a.status === 503).length} of ${whileFull.length} writes), ` +
          `slowest ${Math.max(...unavailable.map((a) => a.answeredAt - a.sentAt)).toFixed(0)} ms (bound ${ANSWER_BOUND_MS} ms); reads while full: ` +
          `${reads.map((ms) => ms.toFixed(0)).join(', ')} ms; writing again after the filesystem grew: ` +
          `${recoveries.map((ms) => ms.toFixed(0)).join(', ')} ms; 503 messages: ` +
          `${[...new Set(unavailable.map((a) => (a.body as { message?: string }).message))].join(' | ')}`,
      );
      assert.ok(
        whileFull.some((a) => a.status === 503),
        'no write answered 503 while the filesystem was full',
      );
      assert.deepEqual(verdict.lost, [], 'acknowledged writes lost');
      assert.deepEqual(verdict.broken, [], 'invariants broken');
    },
  );
});
