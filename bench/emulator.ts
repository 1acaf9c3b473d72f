// Stageline as an emulator in an integration's test suite: how long it takes to start through
// the library API and as `stageline serve`, and what a new portal's first request costs.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { medianOf } from './measure.js';
import {
  BARE_BASELINE,
  SERVER_ENV,
  anyAnswer,
  freePort,
  probe,
  sleep,
  spawnServer,
  serveArgs,
  stop,
} from './servers.js';
import { NEW_PORTALS, REPEATED_STARTS, ROOT, SPAWNS, chosen } from './settings.js';

/** One figure, with its target when it has one. */
export interface Figure {
  name: string;
  value: number;
  unit: 'ms' | 'x';
  /** The figure passes at or below this. */
  max?: number;
  pass?: boolean;
  /** What the value is (a median, a ratio of medians...) and the samples behind it. */
  detail: string;
  samples?: number[];
}

const run = promisify(execFile);
const ms = (n: number) => Math.round(n * 1000) / 1000;

function figure(name: string, value: number, unit: Figure['unit'], detail: string, max?: number): Figure {
  const f: Figure = { name, value: ms(value), unit, detail };
  if (max !== undefined) Object.assign(f, { max, pass: value <= max });
  return f;
}

/** Runs one of the emulator scripts in a fresh Node process and returns what it prints. */
export async function script<T>(file: string, ...args: (string | number)[]): Promise<T> {
  const { stdout } = await run(process.execPath, [join(ROOT, 'bench/emulator', file), ...args.map(String)], {
    env: SERVER_ENV,
    maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(stdout) as T;
}

const libraryStarts = {
  name: 'emulator: startStageline()',
  measure: async (): Promise<Figure[]> => {
    const r = await script<{ importMs: number; firstMs: number; startsMs: number[] }>(
      'start-times.mjs',
      REPEATED_STARTS,
    );
    return [
      figure('import of dist/index.js', r.importMs, 'ms', 'in a fresh Node process'),
      figure('first startStageline()', r.firstMs, 'ms', 'its defaults: in memory, open auth', 300),
      {
        ...figure(
          'startStageline() again',
          medianOf(r.startsMs),
          'ms',
          `median of ${r.startsMs.length}, each closed before the next`,
          50,
        ),
        samples: r.startsMs.map(ms),
      },
    ];
  },
};

const firstRequests = {
  name: 'emulator: first request',
  measure: async (): Promise<Figure[]> => {
    const r = await script<{
      firstMedianMs: number;
      firstP90Ms: number;
      firstFastifyMedianMs: number;
      repeatedMedianMs: number;
      firstMs: number[];
    }>('first-request.mjs', NEW_PORTALS);
    return [
      {
        ...figure(
          "a new portal's first request",
          r.firstMedianMs,
          'ms',
          `server time, median of ${r.firstMs.length} new open-mode tokens, GET /crm/v3/pipelines/deals`,
          1,
        ),
        samples: r.firstMs.map(ms),
      },
      figure("a new portal's first request, p90", r.firstP90Ms, 'ms', 'server time'),
      figure(
        "a new portal's first request, Fastify's time",
        r.firstFastifyMedianMs,
        'ms',
        'median of reply.elapsedTime in an onResponse hook',
      ),
      figure('the same request of a known token', r.repeatedMedianMs, 'ms', 'server time, median'),
    ];
  },
};

/** Milliseconds from spawning `node <args>` until `port` answers `path` with a status `ok` accepts. */
async function spawnToAnswer(
  args: string[],
  port: number,
  path: string,
  ok: (status: number) => boolean,
): Promise<number> {
  const began = performance.now();
  const spawned = spawnServer(args);
  try {
    for (;;) {
      if (spawned.child.exitCode !== null)
        throw new Error(`node ${args.join(' ')} exited:\n${spawned.output()}`);
      if (await probe(port, path, ok)) return performance.now() - began;
      await sleep(2);
    }
  } finally {
    await stop(spawned.child);
  }
}

/**
 * `stageline serve --database :memory:` (its defaults otherwise, with open auth) until `/health`
 * answers 200, against the bare Fastify baseline until it answers at all. Both are plain
 * JavaScript run with the same flags (see servers.ts). The order turns from pair to pair.
 */
const serveSpawns = {
  name: 'emulator: spawn',
  measure: async (): Promise<Figure[]> => {
    const stageline: number[] = [];
    const baseline: number[] = [];
    const spawnStageline = async () => {
      const port = await freePort();
      stageline.push(await spawnToAnswer(serveArgs(port, ':memory:'), port, '/health', (s) => s === 200));
    };
    const spawnBaseline = async () => {
      const port = await freePort();
      baseline.push(await spawnToAnswer([BARE_BASELINE, String(port)], port, '/__probe', anyAnswer));
    };
    for (let pair = 0; pair < SPAWNS; pair++) {
      for (const spawnOne of pair % 2 === 0
        ? [spawnStageline, spawnBaseline]
        : [spawnBaseline, spawnStageline])
        await spawnOne();
    }
    const ours = medianOf(stageline);
    const theirs = medianOf(baseline);
    return [
      {
        ...figure('stageline serve, spawn to /health', ours, 'ms', `median of ${SPAWNS}`),
        samples: stageline.map(ms),
      },
      {
        ...figure('bare Fastify, spawn to listening', theirs, 'ms', `median of ${SPAWNS}`),
        samples: baseline.map(ms),
      },
      figure('stageline serve spawn over bare Fastify', ours / theirs, 'x', 'ratio of the medians', 1.5),
    ];
  },
};

/** The emulator figures `--only` leaves in (the text `emulator` keeps them all). */
export async function emulatorFigures(): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const group of [libraryStarts, firstRequests, serveSpawns].filter(chosen))
    figures.push(...(await group.measure()));
  return figures;
}
