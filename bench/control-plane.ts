// The control plane's figures: reset, and snapshot plus restore, of a 20-pipeline portal (server
// time, in a fresh process, in memory as test suites run it, and on a file), and what the request
// journal costs the read scenarios: `stageline serve --auth open` (journal on, its default)
// against the same with `--control-plane off`, in paired rounds on twin databases.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import type { Figure } from './emulator.js';
import { runScenario } from './measure.js';
import { scenarios, seedBenchPortal } from './scenarios.js';
import {
  SERVER_ENV,
  freePort,
  serveArgs,
  spawnServer,
  startBareBaseline,
  stop,
  waitUntilUp,
} from './servers.js';
import type { Server } from './servers.js';
import { QUICK, ROOT } from './settings.js';

const run = promisify(execFile);
const ms = (n: number) => Math.round(n * 1000) / 1000;

/** `stageline serve` on a file, as the load scenarios run it, with extra flags. */
async function serve(database: string, extra: string[]): Promise<Server> {
  const port = await freePort();
  const spawned = spawnServer([...serveArgs(port, database), '--rate-limit', 'off', ...extra]);
  await waitUntilUp(spawned, port, '/health', (status) => status === 200);
  return { url: `http://127.0.0.1:${port}`, child: spawned.child, lines: spawned.lines };
}

async function timings(dir: string): Promise<Figure[]> {
  const { stdout } = await run(
    process.execPath,
    [join(ROOT, 'bench/emulator/control-plane.mjs'), String(QUICK ? 20 : 100), dir],
    { env: SERVER_ENV, maxBuffer: 16 * 1024 * 1024 },
  );
  const r = JSON.parse(stdout) as {
    resetMs: number;
    roundTripMs: number;
    snapshotBytes: number;
    resetFileMs: number;
    roundTripFileMs: number;
    resets: number[];
    roundTrips: number[];
  };
  const detail = 'server time, median; 20 deal pipelines of 5 stages, 20 deals, their audit';
  return [
    {
      name: 'POST /_stageline/reset',
      value: ms(r.resetMs),
      unit: 'ms',
      max: 2,
      pass: r.resetMs <= 2,
      detail: `${detail}; in memory`,
      samples: r.resets.map(ms),
    },
    {
      name: 'GET + PUT /_stageline/snapshot',
      value: ms(r.roundTripMs),
      unit: 'ms',
      max: 10,
      pass: r.roundTripMs <= 10,
      detail: `${detail}; in memory; ${r.snapshotBytes} bytes of JSON`,
      samples: r.roundTrips.map(ms),
    },
    { name: 'POST /_stageline/reset, SQLite file', value: ms(r.resetFileMs), unit: 'ms', detail },
    { name: 'GET + PUT /_stageline/snapshot, SQLite file', value: ms(r.roundTripFileMs), unit: 'ms', detail },
  ];
}

/** Each read scenario: throughput with the control plane off over with it on (journal recording). */
async function journalCost(dir: string): Promise<Figure[]> {
  const bare = await startBareBaseline();
  const on = await serve(join(dir, 'on.db'), []);
  const off = await serve(join(dir, 'off.db'), ['--control-plane', 'off']);
  try {
    const onFixture = await seedBenchPortal(on.url, 'bench-portal');
    const offFixture = await seedBenchPortal(off.url, 'bench-portal');
    const offScenarios = scenarios(off.url, offFixture);
    const figures: Figure[] = [];
    for (const s of scenarios(on.url, onFixture).filter((x) => x.kind === 'read')) {
      const reference = {
        server: off,
        scenario: offScenarios.find((x) => x.name === s.name)!,
        token: offFixture.token,
      };
      const result = await runScenario(on, bare, onFixture.token, s, 'small', reference);
      // vsSmall: journal-on req/s over journal-off req/s, per paired round.
      const ratio = 1 / result.vsSmall!.ratio;
      figures.push({
        name: `journal cost: ${s.name} (off/on req/s)`,
        value: ms(ratio),
        unit: 'x',
        max: 1.05,
        pass: ratio <= 1.05,
        detail: 'median of paired rounds, control plane off over on',
        samples: result.vsSmall!.rounds.map((r) => ms(1 / r)),
      });
    }
    return figures;
  } finally {
    for (const server of [bare, on, off]) await stop(server.child);
  }
}

export async function controlPlaneFigures(): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'stageline-control-plane-'));
  try {
    return [...(await timings(dir)), ...(await journalCost(dir))];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
