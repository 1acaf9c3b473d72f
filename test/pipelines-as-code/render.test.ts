// How plans read: colour only on a terminal without NO_COLOR; field-by-field changes; JSON.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { computePlan } from '../../src/pipelines-as-code/plan.js';
import type { CurrentType } from '../../src/pipelines-as-code/plan.js';
import { planJson, renderPlan, useColour } from '../../src/pipelines-as-code/render.js';
import type { SeedPipeline } from '../../src/seed/seed-document.js';

const pipeline: SeedPipeline = {
  id: 'sales',
  label: 'Sales',
  displayOrder: 0,
  stages: [{ id: 'won', label: 'Won', displayOrder: 0, metadata: { probability: '1.0' } }],
};
const plan = computePlan(
  { objectTypes: { deals: { pipelines: [{ ...pipeline, label: 'Sales EMEA' }] } } },
  new Map<string, CurrentType>([['deals', { pipelines: [pipeline] }]]),
);

describe('plan rendering', () => {
  it('colours only a terminal, and never with NO_COLOR set', () => {
    assert.equal(useColour({ isTTY: true }, {}), true);
    assert.equal(useColour({ isTTY: true }, { NO_COLOR: '1' }), false);
    assert.equal(useColour({ isTTY: false }, {}), false);
    assert.equal(useColour({}, {}), false);
  });

  it('shows each changed field as before → after', () => {
    assert.equal(
      renderPlan(plan, false),
      [
        'deals:',
        '  ~ update pipeline "Sales EMEA" (sales)',
        '      label: "Sales" → "Sales EMEA"',
        '',
        'Plan: 0 to create, 1 to update, 0 to reorder, 0 to archive.',
        '',
      ].join('\n'),
    );
    assert.ok(renderPlan(plan, true).startsWith('deals:\n\u001b[33m  ~ update pipeline'));
  });

  it('gives machines the whole plan as JSON', () => {
    const parsed = JSON.parse(planJson(plan)) as { changes: boolean; types: { pipelines: unknown[] }[] };
    assert.equal(parsed.changes, true);
    assert.deepEqual(parsed.types[0]!.pipelines[0], {
      action: 'update',
      label: 'Sales EMEA',
      sourceId: 'sales',
      targetId: 'sales',
      changes: [{ field: 'label', before: 'Sales', after: 'Sales EMEA' }],
      stages: [{ action: 'none', label: 'Won', sourceId: 'won', targetId: 'won', changes: [] }],
    });
  });
});
