// An apply of 30 pipelines × 20 stages against a target with HubSpot's rate limit (100 calls per
// rolling 10 s): the target's budget is spent first, so the apply meets 429s, and the SDK's retries
// carry it through. One window's wait (about 10 s) is the price of this test.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { startStageline } from '../../src/index.js';
import type { RunningStageline } from '../../src/index.js';
import { applyPlan } from '../../src/pipelines-as-code/apply.js';
import { connectPortal } from '../../src/pipelines-as-code/client.js';
import { countPlan } from '../../src/pipelines-as-code/plan.js';
import { planAgainst } from '../../src/pipelines-as-code/pull.js';
import type { SeedDocument } from '../../src/seed/seed-document.js';

const TOKEN = 'rate-limited';

const document: SeedDocument = {
  objectTypes: {
    deals: {
      pipelines: Array.from({ length: 30 }, (_, p) => ({
        id: `pipeline-${p}`,
        label: `Pipeline ${p}`,
        displayOrder: p + 1,
        stages: Array.from({ length: 20 }, (_, s) => ({
          id: `pipeline-${p}-stage-${s}`,
          label: `Stage ${s}`,
          displayOrder: s,
          metadata: { probability: String(s / 20) },
        })),
      })),
    },
  },
};

describe('apply under HubSpot rate limits', () => {
  let server: RunningStageline;
  before(async () => {
    server = await startStageline({ rateLimit: 'hubspot' });
  });
  after(() => server?.close());

  it('completes 30 pipelines × 20 stages through the SDK retries, with no failure', async () => {
    // Spend 95 of the window's 100 calls.
    for (let i = 0; i < 95; i++) {
      const res = await fetch(`${server.url}/crm/v3/pipelines/tickets`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      assert.equal(res.status, 200);
    }
    const port = connectPortal({ url: server.url, token: TOKEN });
    const plan = await planAgainst(port, document);
    const progress: number[] = [];
    const { done } = await applyPlan(port, plan, { prune: false, onProgress: (n) => progress.push(n) });
    assert.equal(done.length, 30);
    assert.deepEqual(
      progress,
      Array.from({ length: 30 }, (_, i) => i + 1),
    );

    const limited = await server.portal(TOKEN).requests({ status: 429 });
    assert.ok(limited.length > 0, 'the apply met the rate limit');
    const pipelines = (await port.list('deals')).filter((p) => p.id.startsWith('pipeline-'));
    assert.equal(pipelines.length, 30);
    assert.ok(pipelines.every((p) => p.stages.length === 20));
    // Left: only the default pipeline the document leaves out, for a --prune to archive.
    assert.deepEqual(countPlan(await planAgainst(port, document)), {
      create: 0,
      update: 0,
      reorder: 0,
      archive: 1,
    });
  });

  it('goes through a 502 by the SDK retries', async () => {
    const token = 'flaky';
    await server.portal(token).faults.add({ method: 'POST', path: '/crm/v3/pipelines/deals', status: 502 });
    const port = connectPortal({ url: server.url, token });
    const one: SeedDocument = {
      objectTypes: { deals: { pipelines: document.objectTypes.deals!.pipelines!.slice(0, 1) } },
    };
    const { done } = await applyPlan(port, await planAgainst(port, one), { prune: false });
    assert.equal(done.length, 1);
    const statuses = (await server.portal(token).requests({ method: 'POST' })).map((r) => r.status);
    assert.deepEqual(statuses, [201, 502]);
  });
});
