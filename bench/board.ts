/**
 * The board's time budget: a board of 20 stages × 500 deals is interactive within 1 s in Chromium.
 * The browser test measures it on the page's own clock (test/browser/budgets.browser.ts); this
 * runs that file alone and judges the median of its three runs.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import type { Figure } from './emulator.js';

const run = promisify(execFile);
const INTERACTIVE_MS = 1000;

interface BoardTimings {
  runs: { drawn: number; response: number; interactive: number; loaded: number }[];
  medianInteractive: number;
}

export async function boardFigures(): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'stageline-board-'));
  const out = join(dir, 'timings.json');
  try {
    await run(process.execPath, ['--import', 'tsx', '--test', 'test/browser/budgets.browser.ts'], {
      env: { ...process.env, STAGELINE_BOARD_TIMINGS: out },
      maxBuffer: 16 * 1024 * 1024,
    });
    const timings = JSON.parse(readFileSync(out, 'utf8')) as BoardTimings;
    const show = (pick: (r: BoardTimings['runs'][number]) => number) =>
      timings.runs.map((r) => pick(r).toFixed(0)).join(', ');
    return [
      {
        name: 'board 20 × 500: interactive after navigation',
        value: timings.medianInteractive,
        unit: 'ms',
        max: INTERACTIVE_MS,
        pass: timings.medianInteractive <= INTERACTIVE_MS,
        detail: `median of 3 (${show((r) => r.interactive)}: cards drawn ${show((r) => r.drawn)} + pick-up answered ${show((r) => r.response)}); all 10,000 cards loaded ${show((r) => r.loaded)}`,
        samples: timings.runs.map((r) => r.interactive),
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
