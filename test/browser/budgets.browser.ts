// The board's budgets, measured: a board of 20 stages × 500 deals in Chromium (interactive within
// 1 s is the budget), and the JavaScript it loads (at most 250 KB gzipped, checked here).
// The time is measured and printed here, with every card checked; as a time on a shared, noisy
// machine it is judged by the bench (`npm run bench -- --only board`, bench/board.ts), which runs
// this file and reads the timings it writes to STAGELINE_BOARD_TIMINGS.

import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';

import type { Browser, Page } from 'playwright-core';

import { buildStageline } from '../http/support.js';
import type { Stageline } from '../../src/stageline.js';
import {
  BOARD_BUILD,
  assertBoardBuilt,
  browserSkipReason,
  launchChromium,
  newPage,
  screenshot,
} from '../helpers/browser.js';

const STAGES = 20;
const PER_STAGE = 500;
const BUNDLE_GZIP_BYTES = 250 * 1024;

describe('the bundle', () => {
  it('is at most 250 KB of JavaScript, gzipped', () => {
    assertBoardBuilt();
    const html = readFileSync(join(BOARD_BUILD, 'index.html'), 'utf8');
    const scripts = readdirSync(join(BOARD_BUILD, 'assets')).filter((f) => f.endsWith('.js'));
    assert.ok(scripts.length > 0, 'the build has scripts');
    for (const s of scripts)
      assert.ok(html.includes(`/ui/assets/${s}`) || scripts.length > 1, `${s} is loaded`);
    const gzipped = scripts.reduce(
      (sum, s) => sum + gzipSync(readFileSync(join(BOARD_BUILD, 'assets', s)), { level: 9 }).length,
      0,
    );
    console.log(`# board JavaScript: ${(gzipped / 1024).toFixed(1)} KB gzipped (${scripts.length} file(s))`);
    assert.ok(gzipped <= BUNDLE_GZIP_BYTES, `${gzipped} bytes gzipped`);
  });
});

describe('a board of 20 stages × 500 deals', { skip: browserSkipReason() }, () => {
  let stageline: Stageline;
  let base: string;
  let browser: Browser;
  const token = 'budget-portal';
  let pipelineId = '';

  before(async () => {
    assertBoardBuilt();
    stageline = await buildStageline();
    base = await stageline.app.listen({ port: 0, host: '127.0.0.1' });
    browser = await launchChromium();
    const post = async <T>(path: string, body: unknown): Promise<T> => {
      const res = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.ok(res.ok, `${path}: ${res.status} ${await res.clone().text()}`);
      return (await res.json()) as T;
    };
    const pipeline = await post<{ id: string; stages: { id: string }[] }>('/crm/v3/pipelines/deals', {
      label: 'Budget',
      displayOrder: 0,
      stages: Array.from({ length: STAGES }, (_, i) => ({
        label: `Stage ${i + 1}`,
        displayOrder: i,
        metadata: { probability: String(i / (STAGES - 1)) },
      })),
    });
    pipelineId = pipeline.id;
    // Seeded through the public API, 100 deals a batch, as any client would.
    for (let batch = 0; batch < (STAGES * PER_STAGE) / 100; batch++) {
      const inputs = Array.from({ length: 100 }, (_, i) => {
        const n = batch * 100 + i;
        return {
          properties: {
            dealname: `Deal ${n}`,
            amount: String(100 + (n % 900)),
            pipeline: pipeline.id,
            dealstage: pipeline.stages[n % STAGES]!.id,
          },
        };
      });
      await post('/crm/v3/objects/deals/batch/create', { inputs });
    }
  });

  after(async () => {
    await browser?.close();
    await stageline?.close();
  });

  interface Timings {
    /** Cards drawn in every column (the last column has one), ms after navigation start. */
    drawn: number;
    /** From the key press that picks a card up to the card answering it. */
    response: number;
    /** The board usable: drawn, plus how long the drag handle took to answer. */
    interactive: number;
    /** The same moment as the test driver saw it, its own round trips included. */
    driver: number;
    /** Every card loaded and totalled. */
    loaded: number;
    page: Page;
  }

  /**
   * Opens the board as a signed-in tab does (token in sessionStorage). The page itself notes when
   * the last column gets its first card, when Space goes down on a card and when the card says it
   * is picked up, and when every record is loaded, all on its own clock (0 = navigation start).
   */
  async function openBoard(): Promise<Timings> {
    const page = await newPage(browser, { viewport: { width: 1280, height: 800 } });
    await page.addInitScript(
      ({ t, p, stages }) => {
        sessionStorage.setItem('stageline.token', t);
        sessionStorage.setItem('stageline.choice.pipeline.deals', p);
        const seen = window as unknown as Record<string, number | undefined>;
        const note = (name: string) => (seen[name] ??= performance.now());
        new MutationObserver((changes) => {
          if (
            seen.drawn === undefined &&
            document.querySelector(`section.column:nth-of-type(${stages}) .card`)
          )
            note('drawn');
          for (const c of changes) {
            const el = c.target as Element;
            if (c.attributeName === 'aria-pressed' && el.getAttribute('aria-pressed') === 'true')
              note('pickedUp');
            if (c.attributeName === 'data-board-state' && el.getAttribute('data-board-state') === 'ready')
              note('loaded');
          }
        }).observe(document, {
          subtree: true,
          childList: true,
          attributes: true,
          attributeFilter: ['aria-pressed', 'data-board-state'],
        });
        document.addEventListener('keydown', (e) => e.key === ' ' && note('keyDown'), { capture: true });
      },
      { t: token, p: pipelineId, stages: STAGES },
    );
    await page.goto(`${base}/ui/`);
    const seen = (name: string) =>
      page.evaluate((n) => (window as unknown as Record<string, number | undefined>)[n], name);
    await page.waitForFunction(() => (window as unknown as { drawn?: number }).drawn !== undefined, null, {
      timeout: 30_000,
    });
    await page.locator('.card').first().focus();
    await page.keyboard.press('Space');
    await page.waitForFunction(() => (window as unknown as { pickedUp?: number }).pickedUp !== undefined);
    await page.keyboard.press('Escape');
    await page.waitForFunction(() => (window as unknown as { loaded?: number }).loaded !== undefined, null, {
      timeout: 60_000,
    });
    const [drawn, keyDown, pickedUp, loaded] = await Promise.all(
      ['drawn', 'keyDown', 'pickedUp', 'loaded'].map(async (n) => Number(await seen(n))),
    );
    const response = pickedUp! - keyDown!;
    return {
      drawn: drawn!,
      response,
      interactive: drawn! + response,
      driver: pickedUp!,
      loaded: loaded!,
      page,
    };
  }

  it('draws, answers a pick-up, then loads and totals every card; the timings are printed', async () => {
    // One unmeasured visit first: the server compiles a route's schemas on its first call.
    await (await openBoard()).page.close();

    const runs: Timings[] = [];
    for (let i = 0; i < 3; i++) {
      const run = await openBoard();
      runs.push(run);
      if (i < 2) {
        await run.page.close();
        continue;
      }
      const counts = (await run.page.locator('dd[data-total="count"]').allTextContents()).map(Number);
      assert.deepEqual(counts, Array(STAGES).fill(PER_STAGE), 'every column counts its 500 deals');
      assert.equal(
        await run.page
          .locator('section.column')
          .nth(STAGES - 1)
          .locator('.card')
          .count(),
        30,
      );
      await screenshot(run.page, 'budget-20x500');
      await run.page.close();
    }
    const median = (pick: (t: Timings) => number) => [...runs.map(pick)].sort((a, b) => a - b)[1]!;
    const show = (pick: (t: Timings) => number) => runs.map((r) => pick(r).toFixed(0)).join(', ');
    console.log(
      `# 20 x 500 board, ms after navigation (3 runs): interactive ${show((r) => r.interactive)} ` +
        `(cards drawn ${show((r) => r.drawn)} + pick-up answered in ${show((r) => r.response)}); ` +
        `as the driver saw it ${show((r) => r.driver)}; all 10,000 cards loaded ${show((r) => r.loaded)}`,
    );
    for (const r of runs)
      assert.ok(r.drawn > 0 && r.response >= 0 && r.loaded >= r.drawn, 'timings in order');
    const out = process.env.STAGELINE_BOARD_TIMINGS;
    if (out !== undefined) {
      const keep = ({ drawn, response, interactive, driver, loaded }: Timings) => ({
        drawn,
        response,
        interactive,
        driver,
        loaded,
      });
      writeFileSync(
        out,
        JSON.stringify({ runs: runs.map(keep), medianInteractive: median((r) => r.interactive) }),
      );
    }
  });
});
