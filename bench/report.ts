// What the bench prints and keeps: the table, the target verdicts, and bench/results/<date>.json and .svg.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';

import { renderChart } from './chart.js';
import type { Figure } from './emulator.js';
import type { ScenarioResult } from './measure.js';
import { CONNECTIONS, DURATION, QUICK, ROOT, ROUNDS } from './settings.js';

export interface ScaleFigures {
  portals: number;
  stages: number;
  auditEntries: number;
  buildSeconds: number;
  fileMb: number;
  serverRssMb: number;
}

export interface Verdict {
  target: string;
  actual: string;
  pass: boolean;
}

/** Stageline's throughput over its baseline's: reads against bare Fastify, writes against durable Fastify. */
export const SHARE_TARGETS = { read: 0.7, write: 0.85 } as const;
const P99_MAX_MS = 10;
const SCALE_SLOWDOWN_MAX = 0.15;
/** What the request journal (the control plane, on by default) may cost a read: off over on. */
const JOURNAL_COST_MAX = 0.05;
const SCALE_RSS_MAX_MB = 250;

const pad = (v: string | number, n: number) => String(v).padStart(n);
const percent = (r: number) => `${Math.round(r * 100)}%`;

export function printHeader(): void {
  console.log(
    `${'scenario'.padEnd(31)} ${'db'.padEnd(8)} ${pad('req/s', 7)} ${pad('p50', 4)} ${pad('p99', 4)} ${pad('err', 3)} ${pad('log/req', 7)}  ${'vs'.padEnd(7)} ${pad('base req/s', 10)} ${pad('share', 5)}  ${'rounds'.padEnd(24)} ${pad('vs ref', 8)}`,
  );
}

export function printRow(r: ScenarioResult): void {
  console.log(
    `${r.name.padEnd(31)} ${r.database.padEnd(8)} ${pad(r.stageline.rps, 7)} ${pad(r.stageline.p50, 4)} ${pad(r.stageline.p99, 4)} ${pad(r.stageline.errors, 3)} ${pad(r.log.linesPerRequest.toFixed(2), 7)}  ${r.against.padEnd(7)} ${pad(r.baseline.rps, 10)} ${pad(percent(r.ratio), 5)}  ${r.rounds.map(percent).join(' ').padEnd(24)} ${pad(r.vsReference === undefined ? '' : percent(r.vsReference.ratio), 8)}`,
  );
  if (r.cpu !== undefined) {
    const side = (c: { server: number; postgres?: number }) =>
      c.postgres === undefined ? `${c.server} µs` : `${c.server} µs + PostgreSQL ${c.postgres} µs`;
    console.log(
      `  └ CPU per request (median of the rounds): Stageline ${side(r.cpu.stageline)}; baseline ${side(r.cpu.baseline)}`,
    );
  }
}

export function printFigures(figures: readonly Figure[]): void {
  if (figures.length === 0) return;
  console.log('\nemulator');
  const amount = (value: number, unit: Figure['unit']) => `${value.toFixed(2)} ${unit}`;
  for (const f of figures) {
    const target = f.max === undefined ? '' : `<= ${amount(f.max, f.unit)} ${f.pass ? 'PASS' : 'FAIL'}`;
    console.log(
      `  ${f.name.padEnd(46)} ${pad(amount(f.value, f.unit), 11)}  ${target.padEnd(17)}  ${f.detail}`,
    );
  }
}

export function targets(
  results: readonly ScenarioResult[],
  scale: ScaleFigures | undefined,
  figures: readonly Figure[],
): Verdict[] {
  const out: Verdict[] = [];
  for (const r of results.filter((x) => x.database === 'small' && x.targeted)) {
    if (r.kind === 'read' || r.kind === 'write') {
      const min = SHARE_TARGETS[r.kind];
      out.push({
        target: `${r.name} >= ${percent(min)} of ${r.against} Fastify`,
        actual: percent(r.ratio),
        pass: r.ratio >= min,
      });
    }
    out.push({
      target: `${r.name} p99 <= ${P99_MAX_MS} ms`,
      actual: `${r.stageline.p99} ms`,
      pass: r.stageline.p99 <= P99_MAX_MS,
    });
  }
  out.push({
    target: 'zero errors in every run',
    actual: String(
      results.reduce((n, r) => n + r.stageline.errors + r.baseline.errors + (r.vsReference?.errors ?? 0), 0),
    ),
    pass: results.every(
      (r) => r.stageline.errors === 0 && r.baseline.errors === 0 && (r.vsReference?.errors ?? 0) === 0,
    ),
  });
  for (const r of results.filter((x) => x.database === 'small' && x.kind === 'read' && x.vsReference)) {
    // On over off, each round running both servers back to back: the cost is off's req/s over on's.
    const cost = 1 / r.vsReference!.ratio - 1;
    out.push({
      target: `journal: ${r.name} costs <= ${percent(JOURNAL_COST_MAX)} (control plane on vs off)`,
      actual: `${cost >= 0 ? '+' : ''}${(cost * 100).toFixed(1)}%`,
      pass: cost <= JOURNAL_COST_MAX,
    });
  }
  for (const r of results.filter((x) => x.database === 'scale' && x.targeted)) {
    if (r.vsReference === undefined) continue;
    // Scale over small, each round running both servers back to back, so machine noise cancels out.
    const change = r.vsReference.ratio - 1;
    out.push({
      target: `scale: ${r.name} within ${percent(SCALE_SLOWDOWN_MAX)} of small database`,
      actual: `${change >= 0 ? '+' : ''}${percent(change)}`,
      pass: change >= -SCALE_SLOWDOWN_MAX,
    });
  }
  if (scale) {
    out.push({
      target: `scale: server RSS < ${SCALE_RSS_MAX_MB} MB`,
      actual: `${scale.serverRssMb} MB`,
      pass: scale.serverRssMb < SCALE_RSS_MAX_MB,
    });
  }
  for (const f of figures) {
    if (f.max === undefined) continue;
    out.push({
      target: `emulator: ${f.name} <= ${f.max} ${f.unit}`,
      actual: `${f.value.toFixed(2)} ${f.unit}`,
      pass: f.pass === true,
    });
  }
  return out;
}

export function printVerdicts(verdicts: readonly Verdict[], scale: ScaleFigures | undefined): void {
  console.log('');
  if (scale) {
    console.log(
      `scale: ${scale.portals} portals, ${scale.stages} stages, ${scale.auditEntries} audit entries; built in ${scale.buildSeconds}s, ${scale.fileMb} MB on disk, server RSS ${scale.serverRssMb} MB`,
    );
  }
  for (const v of verdicts) console.log(`${v.pass ? 'PASS' : 'FAIL'}  ${v.target}: ${v.actual}`);
}

/** Stageline's log lines over its requests, in the measured rounds of every scenario. */
export function logLinesPerRequest(results: readonly ScenarioResult[]): number | undefined {
  let lines = 0;
  let requests = 0;
  for (const r of results) {
    lines += r.log.lines;
    requests += r.log.requests;
  }
  return requests === 0 ? undefined : Math.round((lines / requests) * 100) / 100;
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/** Writes bench/results/<date>.json and .svg (`-quick` ones are git-ignored); returns their stem. */
export function save({
  loadAtStart,
  ...doc
}: {
  loadAtStart: number;
  results: ScenarioResult[];
  scale: ScaleFigures | undefined;
  emulator: Figure[];
  targets: Verdict[];
  /** PostgreSQL only: scenarios on one process and on two sharing the schema. */
  processes: unknown[];
}): string {
  const now = new Date();
  const stem = `bench/results/${now.toISOString().slice(0, 19).replace(/:/g, '-')}${QUICK ? '-quick' : ''}`;
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  const json = {
    date: now.toISOString(),
    quick: QUICK,
    connections: CONNECTIONS,
    durationSeconds: DURATION,
    rounds: ROUNDS,
    machine: {
      cores: cpus().length,
      node: process.version,
      loadAverage: { start: round2(loadAtStart), end: round2(loadavg()[0]!) },
    },
    baselines: {
      bare: 'Fastify answering the same bytes (bench/baseline-server.mjs); reads are measured against it',
      durable:
        'Fastify answering the same bytes once each write is appended to a file and group-synced with fdatasync (bench/durable-baseline.mjs); writes and the mix are measured against it',
      postgres:
        'Fastify plus one PostgreSQL round trip per request: a SELECT by key of the same bytes for reads, one autocommitted UPDATE for writes (bench/postgres-baseline.mjs); Stageline on PostgreSQL is measured against it',
    },
    logLinesPerRequest: logLinesPerRequest(doc.results),
    ...doc,
  };
  writeFileSync(join(ROOT, `${stem}.json`), `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(join(ROOT, `${stem}.svg`), renderChart(doc.results, SHARE_TARGETS));
  return stem;
}
