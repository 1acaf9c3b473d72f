// The board's emulator panel in Chromium, against a Stageline on a real socket: what the panel
// does through the control plane is checked through the public API or the control plane itself.
// Run by `npm run test:browser`.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import type { Browser, Locator, Page } from 'playwright-core';

import { buildStageline } from '../http/support.js';
import { browserSkipReason, newPage, screenshot } from '../helpers/browser.js';
import {
  eventually,
  lowContrastTexts,
  portalWithPipeline,
  signIn as signInPage,
  startBoard,
  watchCspViolations,
} from './board-session.js';
import type { ApiClient, BoardSession, Pipeline } from './board-session.js';

const skip = browserSkipReason();

const UNAVAILABLE = 'Service Unavailable: the service is temporarily unavailable';

describe('the emulator panel in Chromium', { skip }, () => {
  let base: string;
  let browser: Browser;
  let api: ApiClient;

  let board: BoardSession | undefined;
  before(async () => {
    board = await startBoard();
    ({ base, browser, api } = board);
  });
  after(() => board?.close());

  const signIn = (token: string, width?: number, height?: number) =>
    signInPage(browser, base, token, width, height);

  /** One of the panel's sections: "Request journal", "Faults", "Clock" or "Portal state". */
  const section = (page: Page, name: string): Locator =>
    page.getByRole('region', { name: 'Emulator' }).getByRole('region', { name, exact: true });

  /** The journal's rows as "METHOD path status", top (newest) first. */
  const journalRows = async (page: Page): Promise<string[]> =>
    section(page, 'Request journal')
      .locator('tbody tr')
      .evaluateAll((rows) =>
        rows
          .map((r) => [...r.querySelectorAll('td')].slice(1, 4).map((td) => td.textContent ?? ''))
          .filter((cells) => cells.length === 3)
          .map((cells) => cells.join(' ')),
      );

  /** Waits until the journal's rows satisfy `done`; fails with the rows shown last. */
  async function journalUntil(page: Page, what: string, done: (rows: string[]) => boolean) {
    // The panel reads the journal while it is on screen.
    await section(page, 'Request journal').scrollIntoViewIfNeeded();
    const rows = await eventually(() => journalRows(page), done);
    assert.ok(done(rows), `${what}; the journal shows ${JSON.stringify(rows)}`);
    return rows;
  }

  async function createPipelineOnBoard(page: Page, label: string) {
    await page.getByLabel('New pipeline').fill(label);
    await page.getByRole('button', { name: 'Create', exact: true }).click();
  }

  const pipelineLabels = async (token: string) =>
    (await api<{ results: Pipeline[] }>(token, 'GET', '/crm/v3/pipelines/deals')).results.map((p) => p.label);

  it("shows the board's requests in the journal, newest first, and filters them", async () => {
    const { token } = await portalWithPipeline(api, ['Lead', 'Won'], 'Journal test');
    const page = await signIn(token);
    // The board's own first reads are there.
    await journalUntil(page, 'the board read its pipelines', (rows) =>
      rows.includes('GET /crm/v3/pipelines/deals 200'),
    );
    const journal = section(page, 'Request journal');
    await journal.getByLabel('Path').fill('/crm/v3/owners');
    const owners = await journalUntil(
      page,
      'only the owners path',
      (rows) => rows.length > 0 && rows.every((r) => r.includes(' /crm/v3/owners ')),
    );
    assert.ok(owners.every((r) => r === 'GET /crm/v3/owners 200'));
    await journal.getByLabel('Path').fill('');

    // Emptied, then a change made on the board arrives live, at the top.
    await journal.getByRole('button', { name: 'Empty journal' }).click();
    await journal.getByText('No requests yet.').waitFor();
    await createPipelineOnBoard(page, 'Seen in the journal');
    await journalUntil(
      page,
      'the create is the newest entry',
      (rows) => rows[0] === 'POST /crm/v3/pipelines/deals 201',
    );
    await page.getByRole('button', { name: 'Rename pipeline Seen in the journal' }).click();
    await page.getByLabel('New name of Seen in the journal').fill('Renamed in the journal');
    await page.getByRole('button', { name: 'Save' }).click();
    const both = await journalUntil(page, 'the rename is newest', (rows) => rows.length === 2);
    assert.match(both[0]!, /^PATCH \/crm\/v3\/pipelines\/deals\/\S+ 200$/);
    assert.equal(both[1], 'POST /crm/v3/pipelines/deals 201');

    await journal.getByLabel('Method').selectOption('POST');
    const posts = await journalUntil(page, 'only POSTs', (rows) => rows.every((r) => r.startsWith('POST ')));
    assert.deepEqual(posts, ['POST /crm/v3/pipelines/deals 201']);
    await journal.getByLabel('Method').selectOption('');
    await journal.getByLabel('Status').fill('201');
    await journalUntil(page, 'only the 201', (rows) => rows.join() === 'POST /crm/v3/pipelines/deals 201');
    await journal.getByLabel('Status').fill('404');
    await journal.getByText('No request matches the filter.').waitFor();

    // The panel's filter is the journal's own: the control plane answers the same.
    const direct = await api<{ results: Array<{ method: string; path: string }> }>(
      token,
      'GET',
      '/_stageline/requests?method=POST',
    );
    assert.deepEqual(
      direct.results.map((e) => `${e.method} ${e.path}`),
      ['POST /crm/v3/pipelines/deals'],
    );
    await screenshot(page, 'emulator-journal');
    await page.close();
  });

  it("injects a 503 from the panel, shows HubSpot's error on the board's next call, and removes it", async () => {
    const { token } = await portalWithPipeline(api, ['Lead', 'Won'], 'Fault test');
    const page = await signIn(token);
    const faults = section(page, 'Faults');
    await faults.getByLabel('Method').selectOption('POST');
    await faults.getByLabel('Path').fill('/crm/v3/pipelines/deals');
    await faults.getByLabel('Status').fill('503');
    await faults.getByLabel('Times (empty: until removed)').fill('2');
    await faults.getByRole('button', { name: 'Add fault' }).click();
    const item = faults.getByRole('listitem').filter({ hasText: '503 on POST /crm/v3/pipelines/deals' });
    await item.filter({ hasText: '2 left' }).waitFor();

    const listed = await api<{
      results: Array<{ id: string; status: number; method: string; times: number }>;
    }>(token, 'GET', '/_stageline/faults');
    assert.equal(listed.results.length, 1);
    const fault = listed.results[0]!;
    assert.deepEqual([fault.method, fault.status, fault.times], ['POST', 503, 2]);

    await createPipelineOnBoard(page, 'Refused by the fault');
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.equal((await alert.locator('span').textContent())?.trim(), UNAVAILABLE);
    assert.ok(
      !(await pipelineLabels(token)).includes('Refused by the fault'),
      'a faulted request writes nothing',
    );
    await item.filter({ hasText: '1 left, applied 1×' }).waitFor();
    // The journal has the refused request, naming the fault that answered it.
    const faulted = section(page, 'Request journal')
      .locator('tbody tr')
      .filter({ hasText: 'POST/crm/v3/pipelines/deals503' });
    await section(page, 'Request journal').scrollIntoViewIfNeeded();
    await faulted.waitFor();
    assert.equal(await faulted.locator('td').last().textContent(), `#${fault.id}`, 'the row names the fault');
    await faults.scrollIntoViewIfNeeded();
    await screenshot(page, 'emulator-fault');

    await faults.getByRole('button', { name: `Remove fault ${fault.id}` }).click();
    await faults.getByText('No faults.').waitFor();
    assert.deepEqual((await api<{ results: unknown[] }>(token, 'GET', '/_stageline/faults')).results, []);
    await page.getByRole('button', { name: 'Dismiss the error' }).click();
    await createPipelineOnBoard(page, 'Made after the fault');
    await page.getByRole('button', { name: 'Made after the fault', exact: true }).waitFor();
    assert.ok((await pipelineLabels(token)).includes('Made after the fault'));
    assert.equal(await page.getByRole('alert').count(), 0);
    await page.close();
  });

  it('freezes the clock: a stage added on the board is created at the frozen time; advances and releases it', async () => {
    const { token, pipeline } = await portalWithPipeline(api, ['First', 'Won'], 'Clock test');
    const page = await signIn(token);
    const clock = section(page, 'Clock');
    await clock.getByText(/^System time/).waitFor();
    const frozen = '2030-01-02T03:04:05.000Z';
    await clock.getByLabel('Freeze at').fill(frozen);
    await clock.getByRole('button', { name: 'Freeze' }).click();
    await clock.getByText(`Frozen at ${frozen}`).waitFor();

    await page.getByRole('button', { name: '+ Add stage' }).click();
    const form = page.getByRole('region', { name: 'Add a stage' });
    await form.getByLabel('Stage label').fill('Frozen stage');
    await form.getByLabel('Probability (0 to 1)').fill('0.5');
    await form.getByRole('button', { name: 'Add stage' }).click();
    await page.getByRole('heading', { name: 'Frozen stage', exact: true }).waitFor();
    const p = await api<Pipeline>(token, 'GET', `/crm/v3/pipelines/deals/${pipeline.id}`);
    const stage = p.stages.find((s) => s.label === 'Frozen stage');
    assert.ok(stage?.createdAt, 'the stage was created');
    assert.equal(new Date(stage.createdAt).toISOString(), frozen, 'created at the frozen time');

    await clock.getByLabel('Advance by (ms)').fill('90000');
    await clock.getByRole('button', { name: 'Advance' }).click();
    await clock.getByText('Frozen at 2030-01-02T03:05:35.000Z').waitFor();
    assert.deepEqual(await api(token, 'GET', '/_stageline/clock'), {
      mode: 'frozen',
      now: '2030-01-02T03:05:35.000Z',
    });

    await clock.getByRole('button', { name: 'Use system time' }).click();
    await clock.getByText(/^System time/).waitFor();
    const state = await api<{ mode: string; now: string }>(token, 'GET', '/_stageline/clock');
    assert.equal(state.mode, 'system');
    assert.ok(Math.abs(Date.parse(state.now) - Date.now()) < 60_000, 'back on the system clock');
    await page.close();
  });

  it('downloads a snapshot, resets the portal, and restores the snapshot from the file', async () => {
    const { token } = await portalWithPipeline(api, ['Lead', 'Won'], 'Kept in the snapshot');
    const page = await newPage(browser, { viewport: { width: 1280, height: 800 } });
    const violations = await watchCspViolations(page);
    await page.goto(`${base}/ui/`);
    await page.getByLabel('Access token').fill(token);
    await page.getByRole('button', { name: 'Open board' }).click();
    await page.locator('[data-board-state="ready"][data-emulator="on"]').waitFor();
    const state = section(page, 'Portal state');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      state.getByRole('button', { name: 'Download snapshot' }).click(),
    ]);
    assert.match(
      download.suggestedFilename(),
      /^stageline-portal-\d+-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ\.json$/,
    );
    const file = await download.path();
    assert.ok(file, 'the snapshot was saved');

    await createPipelineOnBoard(page, 'Made in the browser');
    await page.getByRole('button', { name: 'Made in the browser', exact: true }).waitFor();
    assert.ok((await pipelineLabels(token)).includes('Made in the browser'));

    const asked: string[] = [];
    page.once('dialog', (dialog) => {
      asked.push(dialog.message());
      void dialog.accept();
    });
    await state.getByRole('button', { name: 'Reset portal' }).click();
    await page
      .getByRole('button', { name: 'Made in the browser', exact: true })
      .waitFor({ state: 'detached' });
    assert.match(asked[0] ?? '', /^Reset the portal\?/);
    assert.deepEqual(await pipelineLabels(token), ['Sales Pipeline'], "back to HubSpot's default pipeline");
    await page.getByRole('region', { name: 'Emulator' }).getByText('Portal reset').waitFor();

    await state.getByLabel('Restore a snapshot').setInputFiles(file);
    await page.getByRole('button', { name: 'Kept in the snapshot', exact: true }).waitFor();
    const restored = await pipelineLabels(token);
    assert.ok(restored.includes('Kept in the snapshot'), 'the snapshot came back');
    assert.ok(!restored.includes('Made in the browser'), 'made after the snapshot: gone');
    assert.deepEqual(violations, []);
    await screenshot(page, 'emulator-reset');
    await page.close();
  });

  for (const [width, height] of [
    [1280, 800],
    [375, 740],
  ] as const) {
    it(`lays the panel out at ${width} px wide, labelled and readable`, async () => {
      const { token } = await portalWithPipeline(api, ['Lead', 'Won'], 'Layout test');
      const page = await signIn(token, width, height);
      const panel = page.getByRole('region', { name: 'Emulator' });
      await section(page, 'Clock')
        .getByText(/^System time/)
        .waitFor();
      await journalUntil(page, 'the journal is filled', (rows) => rows.length > 0);
      await panel.scrollIntoViewIfNeeded();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow} px`);
      // Every control of the panel has a name a screen reader can say.
      const unnamed = await panel.locator('input, select, button').evaluateAll((els) =>
        els
          .filter((el) => {
            const labelled = (el as HTMLInputElement).labels?.length ?? 0;
            return labelled === 0 && !el.getAttribute('aria-label') && (el.textContent ?? '').trim() === '';
          })
          .map((el) => el.outerHTML.slice(0, 80)),
      );
      assert.deepEqual(unnamed, []);
      assert.deepEqual(await page.evaluate(lowContrastTexts), [], 'text below 4.5:1 contrast');
      // The panel is reachable from the keyboard: Tab gets to the reset button.
      await section(page, 'Portal state').getByRole('button', { name: 'Reset portal' }).focus();
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Download snapshot');
      await screenshot(page, `emulator-layout-${width}`);
      await page.close();
    });
  }

  it('is absent when the control plane is off (tokens mode without --control-plane)', async () => {
    const tokens = await buildStageline({ auth: 'tokens' });
    try {
      const url = await tokens.app.listen({ port: 0, host: '127.0.0.1' });
      const issued = await tokens.auth.issueToken({ portalId: 5151 });
      const probe = await fetch(`${url}/_stageline/clock`, {
        headers: { authorization: `Bearer ${issued.token}` },
      });
      assert.equal(probe.status, 404, 'the control plane is off');
      const page = await signInPage(browser, url, issued.token);
      await page.locator('[data-emulator="off"]').waitFor();
      assert.equal(await page.getByRole('region', { name: 'Emulator' }).count(), 0);
      assert.equal(await page.getByRole('link', { name: 'Emulator' }).count(), 0);
      assert.equal(await page.locator('.portal').textContent(), 'Portal 5151');
      await page.close();
    } finally {
      await tokens.close();
    }
  });
});
