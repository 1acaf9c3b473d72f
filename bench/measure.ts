// Loading servers with autocannon, and the paired rounds that turn the loads into shares.
import autocannon from 'autocannon';

import type { Against, Request, Scenario } from './scenarios.js';
import { cpuMeter } from './cpu.js';
import type { CpuPerRequest } from './cpu.js';
import { auth } from './scenarios.js';
import { settled } from './servers.js';
import type { Server } from './servers.js';
import { CONNECTIONS, DURATION, ROUNDS, WARM_UP_SECONDS } from './settings.js';

export interface Measured {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  requests: number;
}

export type Database = 'small' | 'scale' | 'postgres';

export interface ScenarioResult {
  name: string;
  kind: Scenario['kind'];
  /**
   * What the shares are measured against; on PostgreSQL, Fastify plus one PostgreSQL round trip
   * per request (bench/postgres-baseline.mjs) for reads and writes alike.
   */
  against: Against | 'postgres';
  /** False for a scenario reported for comparison only. */
  targeted: boolean;
  database: Database;
  stageline: Measured;
  baseline: Measured;
  /** The median of the rounds' shares: each round's Stageline req/s over the baseline's beside it. */
  ratio: number;
  /** Each round's share, in the order run. */
  rounds: number[];
  /** Stageline's log lines (stdout) in the measured rounds, over the requests it answered in them. */
  log: { lines: number; requests: number; linesPerRequest: number };
  /**
   * The median of the rounds' req/s over a reference server's, each round running Stageline, the
   * reference and the baseline back to back, and every round's value. Scale: over the small
   * database; the small database's reads: over the same server with the control plane off.
   */
  vsReference?: { ratio: number; rounds: number[]; errors: number };
  /**
   * Writes: the CPU time per request of Stageline's process and of the baseline's (on PostgreSQL,
   * each with PostgreSQL's own), the median over the rounds; absent where /proc cannot tell.
   */
  cpu?: { stageline: CpuPerRequest; baseline: CpuPerRequest };
}

export const medianOf = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** The round with the median throughput; errors are summed over every round. */
function median(rounds: Measured[]): Measured {
  const sorted = [...rounds].sort((a, b) => a.rps - b.rps);
  const mid = sorted[Math.floor(sorted.length / 2)]!;
  return { ...mid, errors: rounds.reduce((n, r) => n + r.errors, 0) };
}

export async function load(
  url: string,
  requests: Request[],
  headers: Record<string, string>,
  duration: number,
  sampleInt = 1000,
  connections = CONNECTIONS,
): Promise<Measured> {
  const result = await autocannon({ url, connections, duration, headers, requests, sampleInt });
  return {
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
    requests: result.requests.total,
  };
}

/**
 * The same load spread over several servers at once (the connections split evenly): summed
 * req/s and requests, the worst p50 and p99.
 */
export async function loadSpread(
  urls: readonly string[],
  requests: Request[],
  headers: Record<string, string>,
  duration: number,
): Promise<Measured> {
  const each = Math.max(1, Math.round(CONNECTIONS / urls.length));
  const parts = await Promise.all(urls.map((url) => load(url, requests, headers, duration, 1000, each)));
  return {
    rps: parts.reduce((n, m) => n + m.rps, 0),
    p50: Math.max(...parts.map((m) => m.p50)),
    p99: Math.max(...parts.map((m) => m.p99)),
    errors: parts.reduce((n, m) => n + m.errors, 0),
    requests: parts.reduce((n, m) => n + m.requests, 0),
  };
}

/** Another server's run of the same scenario, measured in the same rounds (the small database's). */
export interface Reference {
  server: Server;
  scenario: Scenario;
  token: string;
}

const rounded = (r: number, places = 3) => Math.round(r * 10 ** places) / 10 ** places;

/** The rounds' median CPU per request, each figure on its own; undefined if a round lacks one. */
function medianCpu(rounds: readonly (CpuPerRequest | undefined)[]): CpuPerRequest | undefined {
  if (rounds.length === 0 || rounds.some((r) => r === undefined)) return undefined;
  const all = rounds as CpuPerRequest[];
  const postgres = all.every((r) => r.postgres !== undefined)
    ? Math.round(medianOf(all.map((r) => r.postgres!)))
    : undefined;
  return {
    server: Math.round(medianOf(all.map((r) => r.server))),
    ...(postgres !== undefined && { postgres }),
  };
}

export async function runScenario(
  stageline: Server,
  baseline: Server,
  token: string,
  s: Scenario,
  database: Database,
  reference?: Reference,
): Promise<ScenarioResult> {
  const canned = await s.canned();
  const put = await fetch(`${baseline.url}/__bench`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(canned),
  });
  if (!put.ok) throw new Error(`${s.name}: the baseline refused its answers (${put.status})`);
  // Short rounds, each running Stageline and the baseline (and the reference, if any) back to
  // back, the order turning from round to round. A round shares the machine's state of the
  // moment, so the share reported is the median of the rounds' shares: a noisy moment on a
  // shared machine moves every side of a round alike instead of whichever side ran during it.
  const sides = [
    { server: stageline, requests: s.requests, headers: auth(token) },
    { server: baseline, requests: s.requests, headers: auth(token) },
    ...(reference === undefined
      ? []
      : [
          { server: reference.server, requests: reference.scenario.requests, headers: auth(reference.token) },
        ]),
  ];
  // A warm-up on each side, not measured: each compiles its hot paths first, as a long-running
  // server has. autocannon ends a run on a sample tick, so short ones need a shorter interval
  // (their req/s, averaged per sample, would then be wrong, but only their errors are used).
  for (const side of sides) {
    const warm = await load(side.server.url, side.requests, side.headers, WARM_UP_SECONDS, 100);
    if (warm.errors > 0)
      throw new Error(`${s.name}: ${warm.errors} errors while warming up ${side.server.url}`);
  }
  const measured: Measured[][] = sides.map(() => []);
  const cpu: (CpuPerRequest | undefined)[][] = sides.map(() => []);
  let logLines = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < sides.length; i++) {
      const k = (round + i) % sides.length;
      const side = sides[k]!;
      const before = k === 0 ? await settled(side.server) : 0;
      const meter = cpuMeter(side.server.child.pid, database === 'postgres');
      const m = await load(side.server.url, side.requests, side.headers, DURATION / ROUNDS);
      measured[k]!.push(m);
      cpu[k]!.push(meter(m.requests));
      if (k === 0) logLines += (await settled(side.server)) - before;
    }
  }
  const [ours, theirs, refs] = measured as [Measured[], Measured[], Measured[] | undefined];
  const per = (of: Measured[], to: Measured[]) => of.map((m, i) => m.rps / to[i]!.rps);
  const shares = per(ours, theirs);
  const requests = ours.reduce((n, m) => n + m.requests, 0);
  const result: ScenarioResult = {
    name: s.name,
    kind: s.kind,
    against: s.against,
    targeted: s.targeted,
    database,
    stageline: median(ours),
    baseline: median(theirs),
    ratio: rounded(medianOf(shares)),
    rounds: shares.map((r) => rounded(r)),
    log: { lines: logLines, requests, linesPerRequest: rounded(logLines / requests, 2) },
  };
  const ourCpu = medianCpu(cpu[0]!);
  const theirCpu = medianCpu(cpu[1]!);
  if (s.kind === 'write' && ourCpu !== undefined && theirCpu !== undefined) {
    result.cpu = { stageline: ourCpu, baseline: theirCpu };
  }
  if (refs !== undefined) {
    const vs = per(ours, refs);
    const errors = refs.reduce((n, m) => n + m.errors, 0);
    result.vsReference = { ratio: rounded(medianOf(vs)), rounds: vs.map((r) => rounded(r)), errors };
  }
  return result;
}
