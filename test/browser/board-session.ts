// What the board's browser tests share: a JSON client of the API (the tests check every change
// through it), a fresh portal with a pipeline, polling until a condition holds, and signing in
// through the board's form as a person would.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';

import type { Browser, Page } from 'playwright-core';

import { assertBoardBuilt, launchChromium, newPage } from '../helpers/browser.js';
import { buildStageline } from '../http/support.js';
import type { Stageline } from '../../src/stageline.js';

export interface Stage {
  id: string;
  label: string;
  displayOrder: number;
  metadata: Record<string, string>;
  createdAt?: string;
}
export interface Pipeline {
  id: string;
  label: string;
  displayOrder: number;
  stages: Stage[];
}

/** The API of the Stageline at `base`: a failed call fails the test, with its status and body. */
export function apiClient(base: string) {
  return async function api<T>(token: string, method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  };
}

export type ApiClient = ReturnType<typeof apiClient>;

/** A Stageline listening on a real socket, a Chromium, and the API client of that Stageline. */
export interface BoardSession {
  stageline: Stageline;
  base: string;
  browser: Browser;
  api: ApiClient;
  close(): Promise<void>;
}

/** Starts a board session (the board must be built): open mode unless `flags` say otherwise. */
export async function startBoard(...args: Parameters<typeof buildStageline>): Promise<BoardSession> {
  assertBoardBuilt();
  const stageline = await buildStageline(...args);
  try {
    const base = await stageline.app.listen({ port: 0, host: '127.0.0.1' });
    const browser = await launchChromium();
    return {
      stageline,
      base,
      browser,
      api: apiClient(base),
      close: async () => {
        await browser.close();
        await stageline.close();
      },
    };
  } catch (err) {
    await stageline.close();
    throw err;
  }
}

/**
 * Collects the page's content security policy violations, from its next navigation on: the
 * returned list grows as they happen.
 */
export async function watchCspViolations(page: Page): Promise<string[]> {
  const violations: string[] = [];
  await page.exposeFunction('reportViolation', (v: string) => violations.push(v));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      (window as unknown as { reportViolation(v: string): void }).reportViolation(
        `${e.violatedDirective} ${e.blockedURI}`,
      );
    });
  });
  return violations;
}

/** A fresh portal with one deal pipeline (first in display order) of the given stages. */
export async function portalWithPipeline(api: ApiClient, stageLabels: string[], label = 'Board test') {
  const token = `board-${randomUUID()}`;
  const pipeline = await api<Pipeline>(token, 'POST', '/crm/v3/pipelines/deals', {
    label,
    displayOrder: 0,
    stages: stageLabels.map((l, i) => ({
      label: l,
      displayOrder: i,
      metadata: { probability: i === stageLabels.length - 1 ? '1.0' : String((i + 1) / 10) },
    })),
  });
  return { token, pipeline };
}

/** What `read` answers once `done` holds, or after 10 s its last answer (for the assertion). */
export async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const until = Date.now() + 10_000;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > until) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Opens the board at `base` and signs in through the form, as a person would. */
export async function signIn(
  browser: Browser,
  base: string,
  token: string,
  width = 1280,
  height = 800,
): Promise<Page> {
  const page = await newPage(browser, { viewport: { width, height } });
  await page.goto(`${base}/ui/`);
  await page.getByLabel('Access token').fill(token);
  await page.getByRole('button', { name: 'Open board' }).click();
  await page.locator('[data-board-state="ready"]').waitFor();
  return page;
}

/** Texts whose colour against their backdrop falls below WCAG's 4.5:1 (runs in the page). */
export function lowContrastTexts(): string[] {
  const parse = (c: string): number[] => (c.match(/[\d.]+/g) ?? []).map(Number);
  const lum = ([r, g, b]: number[]) => {
    const f = (v: number) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * f(r!) + 0.7152 * f(g!) + 0.0722 * f(b!);
  };
  const backdrop = (el: Element | null): number[] => {
    for (let e = el; e !== null; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3]! > 0.5)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const bad: string[] = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n !== null; n = walker.nextNode()) {
    const el = n.parentElement;
    if (el === null || n.textContent?.trim() === '' || el.closest('[aria-live], [id^="DndDescribedBy"]'))
      continue;
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || Number(style.opacity) < 0.9) continue;
    const fg = lum(parse(style.color));
    const bg = lum(backdrop(el));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    if (ratio < 4.5) bad.push(`${n.textContent?.trim().slice(0, 30)} (${ratio.toFixed(2)})`);
  }
  return bad;
}
