// `npm run bench`: Stageline (production mode, SQLite, loopback) against a bare Fastify baseline
// serving bodies of the same size, measured in the same run. `--quick` for a short check;
// `--postgres <url>` also runs the small-database scenarios on PostgreSQL (reported, no target).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import autocannon from 'autocannon';
import pg from 'pg';

import { renderChart } from './chart.js';
import { buildScaleDatabase } from './scale.js';

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    duration: { type: 'string' },
    connections: { type: 'string', default: '10' },
    'scale-portals': { type: 'string' },
    'no-scale': { type: 'boolean', default: false },
    only: { type: 'string' },
    postgres: { type: 'string' },
  },
});

const QUICK = flags.quick;
const DURATION = Number(flags.duration ?? (QUICK ? 2 : 10));
const CONNECTIONS = Number(flags.connections);
/** Each scenario runs this many rounds of Stageline and baseline side by side, DURATION/ROUNDS each. */
const ROUNDS = QUICK ? 1 : 5;
const WARM_UP_SECONDS = 1;
const SCALE_PORTALS = flags['no-scale'] ? 0 : Number(flags['scale-portals'] ?? (QUICK ? 200 : 10_000));
const ROOT = new URL('..', import.meta.url).pathname;
/** `--only <text>`: just the scenarios whose name contains it, on every database. */
const chosen = (s: { name: string }) => flags.only === undefined || s.name.includes(flags.only);
const work = mkdtempSync(join(tmpdir(), 'stageline-bench-'));

interface Measured {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  requests: number;
}

type Database = 'small' | 'scale' | 'postgres';

interface ScenarioResult {
  name: string;
  kind: 'read' | 'write';
  /** False for a scenario reported for comparison only. */
  targeted: boolean;
  database: Database;
  stageline: Measured;
  baseline: Measured;
  /** The median of the rounds' shares: each round's Stageline req/s over the baseline's beside it. */
  ratio: number;
  /** Each round's share, in the order run. */
  rounds: number[];
  /**
   * Scale only: the median of the rounds' scale-over-small req/s, each round running the scale
   * server, the small one and the baseline back to back, and every round's value.
   */
  vsSmall?: { ratio: number; rounds: number[]; errors: number };
}

interface Server {
  url: string;
  child: ChildProcess;
}

async function freePort(): Promise<number> {
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

async function waitFor(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      const res = await fetch(url);
      if (res.status < 500) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} never came up`);
}

async function startStageline(database: string): Promise<Server> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'bin/stageline.js'),
      'serve',
      '--port',
      String(port),
      '--auth',
      'open',
      '--database',
      database,
      '--log-level',
      'warn',
      '--rate-limit',
      'off',
    ],
    { env: { ...process.env, NODE_ENV: 'production' }, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/health`);
  return { url, child };
}

async function startBaseline(): Promise<Server> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(ROOT, 'bench/baseline-server.mjs'), String(port)], {
    env: { ...process.env, NODE_ENV: 'production' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/__probe`);
  return { url, child };
}

async function stop(server: Server): Promise<void> {
  if (server.child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    server.child.once('exit', () => resolve());
    server.child.kill('SIGTERM');
  });
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round((kb / 1024) * 10) / 10;
}

const auth = (token: string) => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json' });

async function api(base: string, token: string, method: string, path: string, body?: unknown) {
  const res = await fetch(base + path, {
    method,
    headers: auth(token),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return {
    status: res.status,
    text,
    json: text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>),
  };
}

interface Fixture {
  token: string;
  pipelineId: string;
  stageId: string;
  auditPipelineId: string;
  writePipelineId: string;
}

/** The benchmark portal: the default pipeline plus 20 pipelines of 10 stages, one with 1,000 audit entries. */
async function seedBenchPortal(base: string, token: string): Promise<Fixture> {
  const ids: string[] = [];
  const stageIds: string[] = [];
  for (let p = 0; p < 20; p++) {
    const { json } = await api(base, token, 'POST', '/crm/v3/pipelines/deals', {
      label: `Bench pipeline ${p}`,
      displayOrder: p + 1,
      stages: Array.from({ length: 10 }, (_, s) => ({
        label: `Stage ${s}`,
        displayOrder: s,
        metadata: { probability: s / 10 },
      })),
    });
    ids.push(String(json!.id));
    stageIds.push(String((json!.stages as { id: string }[])[3]!.id));
  }
  const auditPipelineId = ids[1]!;
  for (let i = 0; i < 1000; i += 10) {
    await Promise.all(
      Array.from({ length: 10 }, (_, j) =>
        api(base, token, 'PATCH', `/crm/v3/pipelines/deals/${auditPipelineId}`, {
          displayOrder: 100 + i + j,
        }),
      ),
    );
  }
  return { token, pipelineId: ids[0]!, stageId: stageIds[0]!, auditPipelineId, writePipelineId: ids[2]! };
}

type Request = NonNullable<autocannon.Options['requests']>[number];

const medianOf = (values: number[]): number => {
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

async function load(
  url: string,
  requests: Request[],
  headers: Record<string, string>,
  duration = DURATION / ROUNDS,
): Promise<Measured> {
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration,
    headers,
    requests,
  });
  return {
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
    requests: result.requests.total,
  };
}

interface Canned {
  status: number;
  body: string;
  /** The baseline pre-compresses the body and sends that to clients that accept gzip. */
  gzip?: boolean;
}

interface Scenario {
  name: string;
  kind: 'read' | 'write';
  targeted?: false;
  requests: Request[];
  /** What the baseline answers, per method, captured from Stageline's own answers. */
  canned: () => Promise<Record<string, Canned>>;
}

/** What the official SDK (node-fetch) sends; Stageline compresses large answers for it. */
const SDK_ACCEPT_ENCODING = 'gzip,deflate';

function scenarios(base: string, f: Fixture): Scenario[] {
  const get =
    (path: string, gzip = false) =>
    async () => {
      const { status, text } = await api(base, f.token, 'GET', path);
      return { GET: { status, body: text, gzip } };
    };
  const auditPath = `/crm/v3/pipelines/deals/${f.auditPipelineId}/audit`;
  let counter = 0;
  const stagePath = `/crm/v3/pipelines/deals/${f.pipelineId}/stages/${f.stageId}`;
  return [
    {
      name: 'list deal pipelines (21)',
      kind: 'read',
      requests: [{ method: 'GET', path: '/crm/v3/pipelines/deals' }],
      canned: get('/crm/v3/pipelines/deals'),
    },
    {
      name: 'get pipeline',
      kind: 'read',
      requests: [{ method: 'GET', path: `/crm/v3/pipelines/deals/${f.pipelineId}` }],
      canned: get(`/crm/v3/pipelines/deals/${f.pipelineId}`),
    },
    {
      name: 'get stage',
      kind: 'read',
      requests: [{ method: 'GET', path: stagePath }],
      canned: get(stagePath),
    },
    {
      // As the SDK asks for it: gzip accepted, so about 3 MB of JSON travel as about 0.2 MB.
      name: 'audit (1,000 entries)',
      kind: 'read',
      requests: [
        {
          method: 'GET',
          path: auditPath,
          headers: { ...auth(f.token), 'accept-encoding': SDK_ACCEPT_ENCODING },
        },
      ],
      canned: get(auditPath, true),
    },
    {
      // For comparison: the same 3 MB sent plain, where the transfer alone sets the latency.
      name: 'audit, uncompressed',
      kind: 'read',
      targeted: false,
      requests: [{ method: 'GET', path: auditPath }],
      canned: get(auditPath),
    },
    {
      name: 'create + delete stage',
      kind: 'write',
      requests: [
        {
          method: 'POST',
          path: `/crm/v3/pipelines/deals/${f.writePipelineId}/stages`,
          setupRequest: (req) => ({
            ...req,
            body: JSON.stringify({
              label: `Temp ${counter++}`,
              displayOrder: 50,
              metadata: { probability: '0.5' },
            }),
          }),
          onResponse: (status, body, context) => {
            if (status === 201)
              (context as { stageId?: string }).stageId = (JSON.parse(body) as { id: string }).id;
          },
        },
        {
          method: 'DELETE',
          setupRequest: (req, context) => ({
            ...req,
            path: `/crm/v3/pipelines/deals/${f.writePipelineId}/stages/${String((context as { stageId?: string }).stageId)}`,
          }),
        },
      ],
      canned: async () => {
        const created = await api(
          base,
          f.token,
          'POST',
          `/crm/v3/pipelines/deals/${f.writePipelineId}/stages`,
          {
            label: 'Canned',
            displayOrder: 50,
            metadata: { probability: '0.5' },
          },
        );
        await api(
          base,
          f.token,
          'DELETE',
          `/crm/v3/pipelines/deals/${f.writePipelineId}/stages/${String(created.json!.id)}`,
        );
        return { POST: { status: 201, body: created.text }, DELETE: { status: 204, body: '' } };
      },
    },
    {
      name: 'patch stage label',
      kind: 'write',
      requests: [
        { method: 'PATCH', path: stagePath, body: JSON.stringify({ label: 'Renamed A' }) },
        { method: 'PATCH', path: stagePath, body: JSON.stringify({ label: 'Renamed B' }) },
      ],
      canned: async () => {
        const { status, text } = await api(base, f.token, 'PATCH', stagePath, { label: 'Stage 3' });
        return { PATCH: { status, body: text } };
      },
    },
  ];
}

const MIXED = '90/10 mix, 100 portals';

/** 100 portals (one open-mode token each), 90 % reads and 10 % stage label writes. */
async function mixedScenario(base: string): Promise<Scenario> {
  const portals: { token: string; pipelineId: string; stageIds: string[] }[] = [];
  for (let i = 0; i < 100; i += 10) {
    const batch = await Promise.all(
      Array.from({ length: 10 }, async (_, j) => {
        const token = `bench-mixed-${i + j}`;
        const { json } = await api(base, token, 'POST', '/crm/v3/pipelines/deals', {
          label: 'Mixed',
          displayOrder: 1,
          stages: Array.from({ length: 10 }, (_, s) => ({
            label: `S${s}`,
            displayOrder: s,
            metadata: { probability: 0.5 },
          })),
        });
        return {
          token,
          pipelineId: String(json!.id),
          stageIds: (json!.stages as { id: string }[]).map((s) => s.id),
        };
      }),
    );
    portals.push(...batch);
  }
  let n = 0;
  const pick = () => portals[Math.floor(Math.random() * portals.length)]!;
  const request: Request = {
    method: 'GET',
    setupRequest: (req) => {
      const p = pick();
      const stage = p.stageIds[n++ % p.stageIds.length]!;
      const headers = { ...req.headers, authorization: `Bearer ${p.token}` };
      const roll = Math.random();
      if (roll < 0.1) {
        const label = `S${p.stageIds.indexOf(stage)}${n % 2 === 0 ? '' : ' (renamed)'}`;
        return {
          ...req,
          headers,
          method: 'PATCH',
          path: `/crm/v3/pipelines/deals/${p.pipelineId}/stages/${stage}`,
          body: JSON.stringify({ label }),
        };
      }
      const path =
        roll < 0.4
          ? '/crm/v3/pipelines/deals'
          : roll < 0.7
            ? `/crm/v3/pipelines/deals/${p.pipelineId}`
            : `/crm/v3/pipelines/deals/${p.pipelineId}/stages/${stage}`;
      return { ...req, headers, method: 'GET', path, body: undefined };
    },
  };
  const sample = portals[0]!;
  return {
    name: MIXED,
    kind: 'write',
    requests: [request],
    canned: async () => {
      const got = await api(base, sample.token, 'GET', `/crm/v3/pipelines/deals/${sample.pipelineId}`);
      const patched = await api(
        base,
        sample.token,
        'PATCH',
        `/crm/v3/pipelines/deals/${sample.pipelineId}/stages/${sample.stageIds[0]}`,
        { label: 'S0' },
      );
      return { GET: { status: 200, body: got.text }, PATCH: { status: 200, body: patched.text } };
    },
  };
}

/** Seeds the bench portal, then runs every scenario and the 100-portal mix. */
async function runAllScenarios(server: Server, baseline: Server, database: Database) {
  const fixture = await seedBenchPortal(server.url, 'bench-portal');
  const results: ScenarioResult[] = [];
  for (const s of scenarios(server.url, fixture).filter(chosen))
    results.push(await runScenario(server, baseline, fixture.token, s, database));
  if (chosen({ name: MIXED })) {
    results.push(
      await runScenario(server, baseline, fixture.token, await mixedScenario(server.url), database),
    );
  }
  return { results, fixture };
}

/** The small-database scenarios again, on a fresh schema of the given PostgreSQL database. */
async function runOnPostgres(url: string, baseline: Server): Promise<ScenarioResult[]> {
  const schema = `stageline_bench_${Date.now()}`;
  const withSchema = new URL(url);
  withSchema.searchParams.set('schema', schema);
  const server = await startStageline(withSchema.toString());
  const results: ScenarioResult[] = [];
  try {
    results.push(...(await runAllScenarios(server, baseline, 'postgres')).results);
  } finally {
    await stop(server);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  }
  return results;
}

/** Another server's run of the same scenario, measured in the same rounds (the small database's). */
interface Reference {
  server: Server;
  scenario: Scenario;
  token: string;
}

async function runScenario(
  stageline: Server,
  baseline: Server,
  token: string,
  s: Scenario,
  database: Database,
  reference?: Reference,
): Promise<ScenarioResult> {
  const canned = await s.canned();
  await fetch(`${baseline.url}/__bench`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(canned),
  });
  // Short rounds, each running Stageline and the baseline (and the reference, if any) back to
  // back, the order turning from round to round. A round shares the machine's state of the
  // moment, so the share reported is the median of the rounds' shares: a noisy moment on a
  // shared machine moves every side of a round alike instead of whichever side ran during it.
  const sides = [
    { url: stageline.url, requests: s.requests, headers: auth(token) },
    { url: baseline.url, requests: s.requests, headers: auth(token) },
    ...(reference === undefined
      ? []
      : [
          {
            url: reference.server.url,
            requests: reference.scenario.requests,
            headers: auth(reference.token),
          },
        ]),
  ];
  // A warm-up second on each side, not measured: each compiles its hot paths first, as a
  // long-running server has.
  for (const side of sides) {
    const warm = await load(side.url, side.requests, side.headers, WARM_UP_SECONDS);
    if (warm.errors > 0) throw new Error(`${s.name}: ${warm.errors} errors while warming up ${side.url}`);
  }
  const measured: Measured[][] = sides.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < sides.length; i++) {
      const k = (round + i) % sides.length;
      const side = sides[k]!;
      measured[k]!.push(await load(side.url, side.requests, side.headers));
    }
  }
  const [ours, theirs, refs] = measured as [Measured[], Measured[], Measured[] | undefined];
  const per = (of: Measured[], to: Measured[]) => of.map((m, i) => m.rps / to[i]!.rps);
  const rounded = (r: number) => Math.round(r * 1000) / 1000;
  const shares = per(ours, theirs);
  const result: ScenarioResult = {
    name: s.name,
    kind: s.kind,
    targeted: s.targeted ?? true,
    database,
    stageline: median(ours),
    baseline: median(theirs),
    ratio: rounded(medianOf(shares)),
    rounds: shares.map(rounded),
  };
  if (refs !== undefined) {
    const vs = per(ours, refs);
    const errors = refs.reduce((n, m) => n + m.errors, 0);
    result.vsSmall = { ratio: rounded(medianOf(vs)), rounds: vs.map(rounded), errors };
  }
  printRow(result);
  return result;
}

const pad = (v: string | number, n: number) => String(v).padStart(n);
function printHeader(): void {
  console.log(
    `${'scenario'.padEnd(28)} ${'db'.padEnd(6)} ${pad('req/s', 8)} ${pad('p50', 5)} ${pad('p99', 5)} ${pad('err', 4)}  ${pad('base req/s', 10)} ${pad('ratio', 6)} ${pad('vs small', 8)}`,
  );
}
function printRow(r: ScenarioResult): void {
  console.log(
    `${r.name.padEnd(28)} ${r.database.padEnd(6)} ${pad(r.stageline.rps, 8)} ${pad(r.stageline.p50, 5)} ${pad(r.stageline.p99, 5)} ${pad(r.stageline.errors, 4)}  ${pad(r.baseline.rps, 10)} ${pad(`${Math.round(r.ratio * 100)}%`, 6)} ${pad(r.vsSmall === undefined ? '' : `${Math.round(r.vsSmall.ratio * 100)}%`, 8)}`,
  );
}

async function main(): Promise<void> {
  console.log(
    `Stageline benchmark: ${CONNECTIONS} connections, ${DURATION}s per side in ${ROUNDS} paired round(s), ${cpus().length} cores, node ${process.version}${QUICK ? ' (quick)' : ''}`,
  );
  const results: ScenarioResult[] = [];
  const baseline = await startBaseline();
  let scale: ScaleFigures | undefined;
  try {
    const smallDb = join(work, 'small.db');
    let small = await startStageline(smallDb);
    let smallFixture: Fixture;
    try {
      printHeader();
      const ran = await runAllScenarios(small, baseline, 'small');
      results.push(...ran.results);
      smallFixture = ran.fixture;
    } finally {
      await stop(small);
    }

    if (flags.postgres !== undefined) results.push(...(await runOnPostgres(flags.postgres, baseline)));

    if (SCALE_PORTALS > 0) {
      const scaleDb = join(work, 'scale.db');
      const started = Date.now();
      const built = await buildScaleDatabase(scaleDb, SCALE_PORTALS);
      const buildSeconds = (Date.now() - started) / 1000;
      // The small database's server again, so that each scale round also runs it: the scale
      // target compares the two databases measured side by side, not minutes apart.
      small = await startStageline(smallDb);
      try {
        const big = await startStageline(scaleDb);
        try {
          const fixture = await seedBenchPortal(big.url, 'bench-portal');
          const smallScenarios = scenarios(small.url, smallFixture);
          for (const s of scenarios(big.url, fixture).filter((x) => x.kind === 'read' && chosen(x))) {
            const scenario = smallScenarios.find((x) => x.name === s.name)!;
            const reference = { server: small, scenario, token: smallFixture.token };
            results.push(await runScenario(big, baseline, fixture.token, s, 'scale', reference));
          }
          const size = ['', '-wal'].reduce(
            (n, suffix) => n + (existsSync(scaleDb + suffix) ? statSync(scaleDb + suffix).size : 0),
            0,
          );
          scale = {
            portals: SCALE_PORTALS,
            stages: built.stages,
            auditEntries: built.auditEntries,
            buildSeconds: Math.round(buildSeconds * 10) / 10,
            fileMb: Math.round(size / 1024 / 1024),
            serverRssMb: rssMb(big.child.pid!),
          };
        } finally {
          await stop(big);
        }
      } finally {
        await stop(small);
      }
    }
  } finally {
    await stop(baseline);
    rmSync(work, { recursive: true, force: true });
  }

  const verdicts = targets(results, scale);
  console.log('');
  if (scale) {
    console.log(
      `scale: ${scale.portals} portals, ${scale.stages} stages, ${scale.auditEntries} audit entries; built in ${scale.buildSeconds}s, ${scale.fileMb} MB on disk, server RSS ${scale.serverRssMb} MB`,
    );
  }
  for (const v of verdicts) console.log(`${v.pass ? 'PASS' : 'FAIL'}  ${v.target}: ${v.actual}`);

  const date = new Date().toISOString().slice(0, 19).replace(/:/g, '-');
  const outDir = join(ROOT, 'bench/results');
  mkdirSync(outDir, { recursive: true });
  const doc = {
    date: new Date().toISOString(),
    quick: QUICK,
    connections: CONNECTIONS,
    durationSeconds: DURATION,
    machine: { cores: cpus().length, node: process.version },
    results,
    scale,
    targets: verdicts,
  };
  writeFileSync(join(outDir, `${date}${QUICK ? '-quick' : ''}.json`), `${JSON.stringify(doc, null, 2)}\n`);
  writeFileSync(join(outDir, `${date}${QUICK ? '-quick' : ''}.svg`), renderChart(results));
  console.log(`\nwrote bench/results/${date}${QUICK ? '-quick' : ''}.json and .svg`);
}

interface ScaleFigures {
  portals: number;
  stages: number;
  auditEntries: number;
  buildSeconds: number;
  fileMb: number;
  serverRssMb: number;
}

interface Verdict {
  target: string;
  actual: string;
  pass: boolean;
}

function targets(results: ScenarioResult[], scale: ScaleFigures | undefined): Verdict[] {
  const out: Verdict[] = [];
  const small = results.filter((r) => r.database === 'small' && r.targeted);
  for (const r of small.filter((x) => x.kind === 'read')) {
    out.push({
      target: `${r.name} >= 70% of baseline`,
      actual: `${Math.round(r.ratio * 100)}%`,
      pass: r.ratio >= 0.7,
    });
    out.push({
      target: `${r.name} p99 <= 10 ms`,
      actual: `${r.stageline.p99} ms`,
      pass: r.stageline.p99 <= 10,
    });
  }
  for (const r of small.filter((x) => x.kind === 'write' && x.name !== MIXED)) {
    out.push({
      target: `${r.name} >= 30% of baseline`,
      actual: `${Math.round(r.ratio * 100)}%`,
      pass: r.ratio >= 0.3,
    });
  }
  out.push({
    target: 'zero errors in every run',
    actual: String(results.reduce((n, r) => n + r.stageline.errors, 0)),
    pass: results.every(
      (r) => r.stageline.errors === 0 && r.baseline.errors === 0 && (r.vsSmall?.errors ?? 0) === 0,
    ),
  });
  for (const r of results.filter((x) => x.database === 'scale' && x.targeted)) {
    if (r.vsSmall === undefined) continue;
    // Scale over small, each round running both servers back to back, so machine noise cancels out.
    const change = r.vsSmall.ratio - 1;
    out.push({
      target: `scale: ${r.name} within 15% of small database`,
      actual: `${change >= 0 ? '+' : ''}${Math.round(change * 100)}%`,
      pass: change >= -0.15,
    });
  }
  if (scale) {
    out.push({
      target: 'scale: server RSS < 250 MB',
      actual: `${scale.serverRssMb} MB`,
      pass: scale.serverRssMb < 250,
    });
  }
  return out;
}

await main();
