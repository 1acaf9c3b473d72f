// Open mode against a stream of distinct tokens, on a real `stageline serve` process: 100,000
// tokens each read once. Reads write nothing, so the database file does not grow, and every
// per-token structure in the process is bounded, so its memory stays put. On PostgreSQL, 10,000
// tokens: no row is written and the schema's relations keep their size.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import Database from 'better-sqlite3';
import pg from 'pg';

import { startServe, stopProcesses, type ServeProcess } from './helpers/cli-process.js';
import { POSTGRES_URL, freshPostgresUrl, postgresSkipReason } from './helpers/postgres.js';

const TOKENS = 100_000;
const PG_TOKENS = 10_000;
const CLIENTS = 16;
const MAX_GROWTH_BYTES = 4096;
const MAX_RSS_BYTES = 250 * 1024 * 1024;

const dir = mkdtempSync(join(tmpdir(), 'stageline-open-load-'));
const database = join(dir, 'open.db');
const servers: ServeProcess[] = [];
after(async () => {
  await stopProcesses(servers.map((s) => s.child));
  rmSync(dir, { recursive: true, force: true });
});

/** The database file and its write-ahead log, in bytes. */
const databaseBytes = (): number =>
  [database, `${database}-wal`].reduce((sum, f) => sum + (existsSync(f) ? statSync(f).size : 0), 0);

/** The process's resident set, from /proc. */
function rssBytes(pid: number): number {
  const line = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(line, `no VmRSS for process ${pid}`);
  return Number(line[1]) * 1024;
}

/** One GET over a kept-alive connection: the status and the body. */
function get(agent: Agent, url: URL, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Each of `tokens` distinct tokens reads the deals pipelines once; the server's peak RSS. */
async function load(server: ServeProcess, tokens: number): Promise<{ peakRss: number; seconds: number }> {
  // Nothing reads the access lines: let them drain instead of piling up here.
  server.child.stdout!.removeAllListeners('data');
  server.child.stdout!.resume();
  const pid = server.child.pid!;
  const url = new URL('/crm/v3/pipelines/deals', server.url);
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
  let peakRss = rssBytes(pid);
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssBytes(pid))), 100);
  let next = 0;
  const failures: string[] = [];
  const started = performance.now();
  try {
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (next < tokens) {
          const i = next++;
          const { status, body } = await get(agent, url, `load-${i}`);
          if (status !== 200 || !body.startsWith('{"results":[{"id":"default","label":"Sales Pipeline"')) {
            failures.push(`token ${i}: ${status} ${body.slice(0, 200)}`);
          }
        }
      }),
    );
  } finally {
    clearInterval(sampler);
    agent.destroy();
  }
  assert.deepEqual(failures.slice(0, 5), []);
  return { peakRss: Math.max(peakRss, rssBytes(pid)), seconds: (performance.now() - started) / 1000 };
}

describe('open mode, distinct tokens each reading once', () => {
  it('100,000 on a SQLite file: the database grows by at most a few KB, the server stays under 250 MB', async () => {
    const server = await startServe(['--database', database]);
    servers.push(server);
    const sizeBefore = databaseBytes();
    const { peakRss, seconds } = await load(server, TOKENS);
    const growth = databaseBytes() - sizeBefore;
    console.log(
      `# ${TOKENS} tokens in ${seconds.toFixed(1)} s; database grew ${growth} bytes; peak RSS ${(peakRss / 1048576).toFixed(0)} MB`,
    );
    assert.ok(growth <= MAX_GROWTH_BYTES, `the database grew by ${growth} bytes`);
    assert.ok(peakRss < MAX_RSS_BYTES, `the server reached ${peakRss} bytes resident`);

    await stopProcesses([server.child]);
    const db = new Database(database, { readonly: true });
    try {
      assert.equal(db.prepare('SELECT count(*) FROM portals').pluck().get(), 0);
      assert.equal(db.prepare('SELECT count(*) FROM tokens').pluck().get(), 0);
    } finally {
      db.close();
    }
  });

  it('10,000 on PostgreSQL: no row written in any table, the schema grows by at most a few KB', async (t) => {
    const skip = await postgresSkipReason();
    if (skip !== undefined) return t.skip(skip);
    const url = freshPostgresUrl();
    const schema = new URL(url).searchParams.get('schema')!;
    const server = await startServe(['--database', url]);
    servers.push(server);
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    try {
      /** Every table's row count, and the size of every relation of the schema. */
      const measure = async () => {
        const { rows: tables } = await client.query<{ tablename: string }>(
          'SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename',
          [schema],
        );
        const counts: Record<string, number> = {};
        for (const { tablename } of tables) {
          const { rows } = await client.query<{ n: number }>(
            `SELECT count(*)::integer AS n FROM "${schema}"."${tablename}"`,
          );
          counts[tablename] = rows[0]!.n;
        }
        const { rows } = await client.query<{ bytes: string }>(
          `SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) AS bytes FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1`,
          [schema],
        );
        return { counts, bytes: Number(rows[0]!.bytes) };
      };
      const before = await measure();
      const { peakRss, seconds } = await load(server, PG_TOKENS);
      const after = await measure();
      console.log(
        `# PostgreSQL: ${PG_TOKENS} tokens in ${seconds.toFixed(1)} s; schema ${before.bytes} then ${after.bytes} bytes; peak RSS ${(peakRss / 1048576).toFixed(0)} MB`,
      );
      assert.ok(Object.keys(before.counts).includes('portals'), Object.keys(before.counts).join());
      assert.equal(before.counts.portals, 0);
      assert.deepEqual(after.counts, before.counts);
      assert.ok(
        after.bytes - before.bytes <= MAX_GROWTH_BYTES,
        `the schema grew by ${after.bytes - before.bytes} bytes`,
      );
      assert.ok(peakRss < MAX_RSS_BYTES, `the server reached ${peakRss} bytes resident`);
    } finally {
      await client.end();
    }
  });
});
