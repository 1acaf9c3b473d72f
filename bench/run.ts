// `npm run bench`: Stageline as `stageline serve` runs it (SQLite, logs at info, loopback, open
// auth, no rate limits) against two baselines in the same run: bare Fastify sending the same
// bytes for reads, and Fastify that syncs each write to a file before answering for writes.
// Then the emulator figures: startup through the library and the CLI, and a new portal's first
// request; then the control plane's: reset, snapshot and restore, and the journal's cost per
// request (`--only "control plane"` runs just those; what the journal costs the read scenarios
// comes from their rounds, beside a server with the control plane off), and the board's 20 × 500 time in Chromium
// (`--only board`). `--quick` for a short check; `--postgres <url>`
// also runs the small-database scenarios on PostgreSQL (reported, no target); `--no-scale`
// skips the 1,000,000-stage database.
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

import pg from 'pg';

import { controlPlaneFigures } from './control-plane.js';
import { boardFigures } from './board.js';
import { emulatorFigures } from './emulator.js';
import type { Figure } from './emulator.js';
import { loadSpread, medianOf, runScenario } from './measure.js';
import type { Database, Measured, ScenarioResult } from './measure.js';
import {
  logLinesPerRequest,
  printFigures,
  printHeader,
  printRow,
  printVerdicts,
  save,
  targets,
} from './report.js';
import type { ScaleFigures } from './report.js';
import { buildScaleDatabase } from './scale.js';
import { MIXED, auth, mixedScenario, scenarios, seedBenchPortal } from './scenarios.js';
import type { Fixture } from './scenarios.js';
import {
  rssMb,
  startBareBaseline,
  startDurableBaseline,
  startPostgresBaseline,
  startStageline,
  stop,
} from './servers.js';
import type { Server } from './servers.js';
import {
  CONNECTIONS,
  DURATION,
  POSTGRES_URL,
  QUICK,
  ROUNDS,
  SCALE_PORTALS,
  WARM_UP_SECONDS,
  chosen,
} from './settings.js';

/** One scenario's req/s on one Stageline process and on two sharing the PostgreSQL schema. */
interface ProcessesFigure {
  name: string;
  oneProcess: number;
  twoProcesses: number;
  p99: { one: number; two: number };
  errors: number;
  /** The median of the rounds' two-over-one req/s, and each round's. */
  ratio: number;
  rounds: number[];
}

interface Baselines {
  bare: Server;
  durable: Server;
}

/**
 * Seeds the bench portal, then runs every chosen scenario and the 100-portal mix. Given the
 * server's SQLite file, every round of a read also runs a second server on that file with the
 * control plane off: what the request journal costs the reads, measured as users run them.
 */
async function runAllScenarios(server: Server, baselines: Baselines, database: Database, file?: string) {
  const fixture = await seedBenchPortal(server.url, 'bench-portal');
  const chosenScenarios = scenarios(server.url, fixture).filter(chosen);
  const journalOff =
    file !== undefined && chosenScenarios.some((s) => s.kind === 'read')
      ? await startStageline(file, ['--control-plane', 'off'])
      : undefined;
  const results: ScenarioResult[] = [];
  const run = async (s: Awaited<ReturnType<typeof mixedScenario>>) => {
    const reference =
      journalOff !== undefined && s.kind === 'read'
        ? { server: journalOff, scenario: s, token: fixture.token }
        : undefined;
    const result = await runScenario(server, baselines[s.against], fixture.token, s, database, reference);
    printRow(result);
    results.push(result);
  };
  try {
    for (const s of chosenScenarios) await run(s);
    if (chosen({ name: MIXED })) await run(await mixedScenario(server.url));
  } finally {
    if (journalOff !== undefined) await stop(journalOff.child);
  }
  return { results, fixture };
}

const inSchema = (url: string, schema: string): string => {
  const u = new URL(url);
  u.searchParams.set('schema', schema);
  return u.toString();
};

/** The scenarios compared between one process and two on the same schema. */
const SPREAD_SCENARIOS = ['get pipeline', 'patch stage label'];

/**
 * One process against two on the same PostgreSQL schema: the same load, all on the first or
 * split over both, in paired rounds (the order turning). Printed, and kept in the results.
 */
async function oneVersusTwo(first: Server, database: string, fixture: Fixture): Promise<ProcessesFigure[]> {
  const second = await startStageline(database);
  const figures: ProcessesFigure[] = [];
  try {
    for (const s of scenarios(first.url, fixture).filter((x) =>
      SPREAD_SCENARIOS.some((n) => x.name.startsWith(n)),
    )) {
      const headers = auth(fixture.token);
      await loadSpread([first.url, second.url], s.requests, headers, WARM_UP_SECONDS);
      const one: Measured[] = [];
      const two: Measured[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const sides = [
          () => loadSpread([first.url], s.requests, headers, DURATION / ROUNDS).then((m) => one.push(m)),
          () =>
            loadSpread([first.url, second.url], s.requests, headers, DURATION / ROUNDS).then((m) =>
              two.push(m),
            ),
        ];
        for (const side of round % 2 === 0 ? sides : sides.reverse()) await side();
      }
      const ratios = two.map((m, i) => m.rps / one[i]!.rps);
      const figure = {
        name: s.name,
        oneProcess: medianOf(one.map((m) => m.rps)),
        twoProcesses: medianOf(two.map((m) => m.rps)),
        p99: { one: medianOf(one.map((m) => m.p99)), two: medianOf(two.map((m) => m.p99)) },
        errors: [...one, ...two].reduce((n, m) => n + m.errors, 0),
        ratio: Math.round(medianOf(ratios) * 100) / 100,
        rounds: ratios.map((r) => Math.round(r * 100) / 100),
      };
      console.log(
        `postgres, ${figure.name}: 1 process ${figure.oneProcess} req/s (p99 ${figure.p99.one} ms), ` +
          `2 processes ${figure.twoProcesses} req/s (p99 ${figure.p99.two} ms): ${figure.ratio}x ` +
          `(rounds ${figure.rounds.join(' ')}), errors ${figure.errors}`,
      );
      figures.push(figure);
    }
  } finally {
    await stop(second.child);
  }
  return figures;
}

/**
 * The small-database scenarios again, on a fresh schema of the given PostgreSQL database, against
 * Fastify plus one PostgreSQL round trip per request; then one process against two.
 */
async function runOnPostgres(
  url: string,
): Promise<{ results: ScenarioResult[]; processes: ProcessesFigure[] }> {
  const schema = `stageline_bench_${Date.now()}`;
  const baseline = await startPostgresBaseline(inSchema(url, `${schema}_baseline`));
  const server = await startStageline(inSchema(url, schema));
  try {
    const ran = await runAllScenarios(server, { bare: baseline, durable: baseline }, 'postgres');
    for (const r of ran.results) r.against = 'postgres';
    const processes = await oneVersusTwo(server, inSchema(url, schema), ran.fixture);
    return { results: ran.results, processes };
  } finally {
    await stop(server.child);
    await stop(baseline.child);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    for (const s of [schema, `${schema}_baseline`]) await client.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    await client.end();
  }
}

/**
 * The reads on a database of SCALE_PORTALS portals. Each round runs the scale server, the small
 * database's server (restarted on its file) and the baseline back to back: the scale target
 * compares the two databases measured side by side, not minutes apart.
 */
async function runOnScale(
  work: string,
  smallDb: string,
  smallFixture: Fixture,
  baselines: Baselines,
): Promise<{ results: ScenarioResult[]; scale: ScaleFigures }> {
  const scaleDb = join(work, 'scale.db');
  const started = Date.now();
  const built = await buildScaleDatabase(scaleDb, SCALE_PORTALS);
  const buildSeconds = (Date.now() - started) / 1000;
  const results: ScenarioResult[] = [];
  const small = await startStageline(smallDb);
  try {
    // The scale database holds SCALE_PORTALS portals, and the bench's own portal is one more.
    const big = await startStageline(scaleDb, ['--max-portals', String(SCALE_PORTALS + 1)]);
    try {
      const fixture = await seedBenchPortal(big.url, 'bench-portal');
      const smallScenarios = scenarios(small.url, smallFixture);
      for (const s of scenarios(big.url, fixture).filter((x) => x.kind === 'read' && chosen(x))) {
        const scenario = smallScenarios.find((x) => x.name === s.name)!;
        const reference = { server: small, scenario, token: smallFixture.token };
        const result = await runScenario(big, baselines.bare, fixture.token, s, 'scale', reference);
        printRow(result);
        results.push(result);
      }
      const size = ['', '-wal'].reduce(
        (n, suffix) => n + (existsSync(scaleDb + suffix) ? statSync(scaleDb + suffix).size : 0),
        0,
      );
      const scale = {
        portals: SCALE_PORTALS,
        stages: built.stages,
        auditEntries: built.auditEntries,
        buildSeconds: Math.round(buildSeconds * 10) / 10,
        fileMb: Math.round(size / 1024 / 1024),
        serverRssMb: rssMb(big.child.pid!),
      };
      return { results, scale };
    } finally {
      await stop(big.child);
    }
  } finally {
    await stop(small.child);
  }
}

/** Whether `--only` leaves any load scenario in (the scenarios' names need no server). */
function anyScenarioChosen(): boolean {
  const none = { pipelineId: '', stageId: '' };
  const fixture = { ...none, token: '', auditPipelineId: '', stageAudit: none, writePipelineId: '' };
  return [...scenarios('', fixture), { name: MIXED }].some(chosen);
}

/** The load scenarios: small database, then PostgreSQL if asked for, then the scale database. */
async function runLoad(): Promise<{
  results: ScenarioResult[];
  scale: ScaleFigures | undefined;
  processes: ProcessesFigure[];
}> {
  const work = mkdtempSync(join(tmpdir(), 'stageline-bench-'));
  const results: ScenarioResult[] = [];
  let scale: ScaleFigures | undefined;
  let processes: ProcessesFigure[] = [];
  const baselines: Partial<Baselines> = {};
  try {
    baselines.bare = await startBareBaseline();
    baselines.durable = await startDurableBaseline(work);
    const started = baselines as Baselines;
    console.log('');
    printHeader();
    const smallDb = join(work, 'small.db');
    const small = await startStageline(smallDb);
    let smallFixture: Fixture;
    try {
      const ran = await runAllScenarios(small, started, 'small', smallDb);
      results.push(...ran.results);
      smallFixture = ran.fixture;
    } finally {
      await stop(small.child);
    }

    if (POSTGRES_URL !== undefined) {
      const ran = await runOnPostgres(POSTGRES_URL);
      results.push(...ran.results);
      processes = ran.processes;
    }

    if (SCALE_PORTALS > 0) {
      const ran = await runOnScale(work, smallDb, smallFixture, started);
      results.push(...ran.results);
      scale = ran.scale;
    }
  } finally {
    for (const b of [baselines.bare, baselines.durable]) if (b !== undefined) await stop(b.child);
    rmSync(work, { recursive: true, force: true });
  }
  return { results, scale, processes };
}

async function main(): Promise<void> {
  // Other work on the machine moves every figure; the load average before the bench adds its
  // own says how much there was.
  const loadAtStart = loadavg()[0]!;
  console.log(
    `Stageline benchmark: ${CONNECTIONS} connections, ${DURATION}s per side in ${ROUNDS} paired round(s), ${cpus().length} cores, load average ${loadAtStart.toFixed(1)}, node ${process.version}${QUICK ? ' (quick)' : ''}`,
  );
  // First, while nothing else of the bench runs: these are single timings, not throughput.
  const figures: Figure[] = await emulatorFigures();
  if (chosen({ name: 'control plane' })) figures.push(...(await controlPlaneFigures()));
  if (chosen({ name: 'board' })) figures.push(...(await boardFigures()));
  printFigures(figures);

  const { results, scale, processes } = anyScenarioChosen()
    ? await runLoad()
    : { results: [], scale: undefined, processes: [] };

  const verdicts = targets(results, scale, figures);
  printVerdicts(verdicts, scale);
  console.log(`Stageline log lines per request (measured rounds): ${logLinesPerRequest(results) ?? '-'}`);
  const stem = save({ loadAtStart, results, scale, emulator: figures, targets: verdicts, processes });
  console.log(`\nwrote ${stem}.json and .svg`);
}

await main();
