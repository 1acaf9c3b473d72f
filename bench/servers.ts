// The processes the bench measures: Stageline as `stageline serve` runs it, and the two baselines.
//
// Every server is plain JavaScript run by `node` with no flags and NODE_ENV=production: Stageline
// from its build (`bin/stageline.js` and `dist/`), the baselines from `.mjs` files. None of them
// pays for a TypeScript loader, so startup figures compare like with like.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

import { ROOT } from './settings.js';

export interface Server {
  url: string;
  child: ChildProcess;
  /** Lines written to stdout so far: for Stageline, its log lines. */
  lines: () => number;
}

export const SERVER_ENV = { ...process.env, NODE_ENV: 'production' };

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/**
 * Reads a child's output as it comes, counting lines. A pipe nobody reads fills up, and a server
 * writing its log to it would then stop. The last few KB are kept for error messages.
 */
function drain(stream: Readable | null): { lines: () => number; tail: () => string } {
  let lines = 0;
  let tail = '';
  stream?.on('data', (chunk: Buffer) => {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
    tail = (tail + chunk.toString('utf8', Math.max(0, chunk.length - 4096))).slice(-4096);
  });
  return { lines: () => lines, tail: () => tail };
}

/** Spawns `node <args>` with both outputs piped and drained. */
export function spawnServer(args: string[]): {
  child: ChildProcess;
  lines: () => number;
  output: () => string;
} {
  const child = spawn(process.execPath, args, { env: SERVER_ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout = drain(child.stdout);
  const stderr = drain(child.stderr);
  return { child, lines: stdout.lines, output: () => `${stdout.tail()}\n${stderr.tail()}`.trim() };
}

/** One GET; true if it was answered with a status `ok` accepts, false if refused or not yet ok. */
export function probe(port: number, path: string, ok: (status: number) => boolean): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      resolve(ok(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

async function waitUntilUp(
  spawned: ReturnType<typeof spawnServer>,
  port: number,
  path: string,
  ok: (status: number) => boolean,
): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (spawned.child.exitCode !== null) break;
    if (await probe(port, path, ok)) return;
    await sleep(20);
  }
  spawned.child.kill('SIGKILL');
  throw new Error(`${args(spawned.child)} did not come up:\n${spawned.output()}`);
}

const args = (child: ChildProcess) => child.spawnargs.slice(1).join(' ');

export const STAGELINE_BIN = join(ROOT, 'bin/stageline.js');

/** `stageline serve` with its defaults, except open auth: any bearer token is its own portal. */
export function serveArgs(port: number, database: string): string[] {
  return [STAGELINE_BIN, 'serve', '--port', String(port), '--database', database, '--auth', 'open'];
}

/**
 * Stageline for the load scenarios: `stageline serve` as above, and no rate limits, which load
 * from one address with a handful of tokens would hit at once. Logs at the default level, `info`.
 */
export async function startStageline(database: string, extraArgs: readonly string[] = []): Promise<Server> {
  const port = await freePort();
  const spawned = spawnServer([...serveArgs(port, database), '--rate-limit', 'off', ...extraArgs]);
  await waitUntilUp(spawned, port, '/health', (status) => status === 200);
  return { url: `http://127.0.0.1:${port}`, child: spawned.child, lines: spawned.lines };
}

/** The baselines answer any path; any HTTP answer means they are listening. */
export const anyAnswer = () => true;

export const BARE_BASELINE = join(ROOT, 'bench/baseline-server.mjs');

/** Baseline (a): bare Fastify answering with the bytes Stageline sends. */
export async function startBareBaseline(): Promise<Server> {
  const port = await freePort();
  const spawned = spawnServer([BARE_BASELINE, String(port)]);
  await waitUntilUp(spawned, port, '/__probe', anyAnswer);
  return { url: `http://127.0.0.1:${port}`, child: spawned.child, lines: spawned.lines };
}

/** Baseline (b): the same, but each write answers only once its body is synced to a file in `dir`. */
export async function startDurableBaseline(dir: string): Promise<Server> {
  const port = await freePort();
  const spawned = spawnServer([join(ROOT, 'bench/durable-baseline.mjs'), String(port), dir]);
  await waitUntilUp(spawned, port, '/__probe', anyAnswer);
  return { url: `http://127.0.0.1:${port}`, child: spawned.child, lines: spawned.lines };
}

/** Baseline (c): Fastify plus one PostgreSQL round trip per request, on `database` (a URL). */
export async function startPostgresBaseline(database: string): Promise<Server> {
  const port = await freePort();
  const spawned = spawnServer([join(ROOT, 'bench/postgres-baseline.mjs'), String(port), database]);
  await waitUntilUp(spawned, port, '/__probe', anyAnswer);
  return { url: `http://127.0.0.1:${port}`, child: spawned.child, lines: spawned.lines };
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round((kb / 1024) * 10) / 10;
}

/**
 * Waits until a server's output has stopped growing, so that the lines it wrote for the requests
 * just answered have all been read.
 */
export async function settled(server: Server): Promise<number> {
  let seen = server.lines();
  for (;;) {
    await sleep(25);
    const now = server.lines();
    if (now === seen) return now;
    seen = now;
  }
}
