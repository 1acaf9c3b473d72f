// The control plane's figures: reset, and snapshot plus restore, of a 20-pipeline portal (server
// time, in a fresh process, in memory as test suites run it, and on a file), and what the request
// journal costs a read without a socket (bench/emulator/journal-cost.mjs), in microseconds.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { script } from './emulator.js';
import type { Figure } from './emulator.js';
import { QUICK } from './settings.js';

const ms = (n: number) => Math.round(n * 1000) / 1000;

async function timings(dir: string): Promise<Figure[]> {
  const r = await script<{
    resetMs: number;
    roundTripMs: number;
    snapshotBytes: number;
    resetFileMs: number;
    roundTripFileMs: number;
    resets: number[];
    roundTrips: number[];
  }>('control-plane.mjs', QUICK ? 20 : 100, dir);
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

/** Each read scenario: time per request with the journal recording, over without. */
async function journalCost(): Promise<Figure[]> {
  const results = await script<
    {
      name: string;
      onUs: number;
      offUs: number;
      medianOnUs: number;
      medianOffUs: number;
      ratios: number[];
    }[]
  >('journal-cost.mjs', QUICK ? 6 : 30);
  return results.map((r) => {
    const ratio = r.onUs / r.offUs;
    // No target here: the journal's target is judged on the read scenarios over HTTP (run.ts);
    // without a socket, its few microseconds a request weigh more than users ever see.
    return {
      name: `journal: ${r.name}, on over off, inject`,
      value: ms(ratio),
      unit: 'x' as const,
      detail: `fastest batch per side: ${ms(r.onUs)} vs ${ms(r.offUs)} µs a request (medians ${ms(r.medianOnUs)} vs ${ms(r.medianOffUs)}); samples: each pair's ratio`,
      samples: r.ratios.map(ms),
    };
  });
}

export async function controlPlaneFigures(): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'stageline-control-plane-'));
  try {
    return [...(await timings(dir)), ...(await journalCost())];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
