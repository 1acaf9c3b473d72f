// The browser tests' Chromium: Debian's, driven by playwright-core (no Playwright browser
// download). Outside CI a missing Chromium skips those tests with a printed reason; in CI
// (CI=true) it is a failure, since .ci/run installs it.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';

import { decodePng, pixelStats } from './png.js';
import type { PixelStats } from './png.js';

/** Debian's Chromium by default; CHROMIUM_PATH names another. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BOARD_BUILD = join(ROOT, 'dist/ui');
/** Screenshots land here (gitignored), kept after the run as test artifacts. */
export const ARTIFACTS = join(ROOT, 'test-artifacts/browser');

/** undefined when the browser tests can run; otherwise why they are skipped. */
export function browserSkipReason(): string | undefined {
  if (existsSync(CHROMIUM_PATH)) return undefined;
  const reason = `Chromium not found at ${CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM_PATH)`;
  if (process.env.CI === 'true') throw new Error(`${reason}. In CI the browser tests are required.`);
  console.log(`# skipping browser tests: ${reason}`);
  return reason;
}

function newestIn(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestIn(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Fails unless the board is built, and built from the sources as they are now. */
export function assertBoardBuilt(): void {
  const index = join(BOARD_BUILD, 'index.html');
  assert.ok(existsSync(index), `the board is not built (${index} is missing): run npm run build`);
  const sources = Math.max(newestIn(join(ROOT, 'ui/src')), statSync(join(ROOT, 'ui/index.html')).mtimeMs);
  assert.ok(
    statSync(index).mtimeMs >= sources,
    'the board build is older than its sources in ui/: run npm run build',
  );
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true });
}

/**
 * A page of its own context. Functions the tests hand to `page.evaluate` are compiled by tsx,
 * which wraps named functions in a `__name` helper that exists only in Node: the page gets a
 * stand-in that does nothing.
 */
export async function newPage(browser: Browser, options: BrowserContextOptions = {}): Promise<Page> {
  const page = await browser.newPage(options);
  // A step that has not happened in 10 s will not: fail it rather than wait Playwright's 30 s.
  page.setDefaultTimeout(10_000);
  await page.addInitScript('globalThis.__name = (target) => target;');
  return page;
}

/**
 * Saves a screenshot of the page as a test artifact and asserts it is not blank: a drawn page
 * has many colours and varied luminance, a blank one a single colour.
 */
export async function screenshot(page: Page, name: string): Promise<PixelStats> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const png = await page.screenshot({ fullPage: false });
  writeFileSync(join(ARTIFACTS, `${name}.png`), png);
  const stats = pixelStats(decodePng(png));
  assert.ok(stats.colours >= 16, `screenshot ${name} looks blank: ${stats.colours} colours`);
  assert.ok(
    stats.luminanceStdDev >= 4,
    `screenshot ${name} looks blank: luminance σ ${stats.luminanceStdDev}`,
  );
  return stats;
}
