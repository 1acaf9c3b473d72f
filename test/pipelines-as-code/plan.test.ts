// The plan, pure: matching by id then label, field-by-field changes, reorders, archives, and
// the types left alone.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  computePlan,
  countPlan,
  hasChanges,
  labelsHeldByArchives,
  planWarnings,
} from '../../src/pipelines-as-code/plan.js';
import type { CurrentType } from '../../src/pipelines-as-code/plan.js';
import { emptyIdMap } from '../../src/pipelines-as-code/map.js';
import { planJson, renderPlan } from '../../src/pipelines-as-code/render.js';
import type { SeedDocument, SeedPipeline } from '../../src/seed/seed-document.js';

const stage = (id: string, label: string, displayOrder: number, probability = '0.5') => ({
  id,
  label,
  displayOrder,
  metadata: { probability },
});

const sales: SeedPipeline = {
  id: 'sales',
  label: 'Sales',
  displayOrder: 0,
  stages: [stage('lead', 'Lead', 0, '0.1'), stage('won', 'Won', 1, '1.0')],
};

const doc = (...pipelines: SeedPipeline[]): SeedDocument => ({ objectTypes: { deals: { pipelines } } });
const current = (...pipelines: SeedPipeline[]) => new Map<string, CurrentType>([['deals', { pipelines }]]);

describe('computePlan', () => {
  it('finds nothing to do when the portal matches, numbers compared as numbers', () => {
    const wanted: SeedPipeline = {
      ...sales,
      stages: [
        { ...sales.stages[0]!, metadata: { probability: 0.1 } },
        { ...sales.stages[1]!, metadata: { probability: 1 } },
      ],
    };
    const plan = computePlan(doc(wanted), current(sales));
    assert.equal(hasChanges(plan), false);
    assert.deepEqual(countPlan(plan), { create: 0, update: 0, reorder: 0, archive: 0 });
  });

  it('creates what the portal lacks, with its stages', () => {
    const plan = computePlan(doc(sales), current());
    const [step] = plan.types[0]!.pipelines;
    assert.equal(step?.action, 'create');
    assert.equal(step?.pipeline?.stages.length, 2);
    assert.deepEqual(emptyIdMap(plan), {
      deals: { pipelines: { sales: null }, stages: { lead: null, won: null } },
    });
  });

  it('matches by id first: a new label is a rename, reported before → after', () => {
    const plan = computePlan(doc({ ...sales, label: 'Sales EMEA' }), current(sales));
    const [step] = plan.types[0]!.pipelines;
    assert.equal(step?.action, 'update');
    assert.deepEqual(step?.changes, [{ field: 'label', before: 'Sales', after: 'Sales EMEA' }]);
    // Its stages still match: no warning.
    assert.equal(step?.warning, undefined);
    assert.deepEqual(planWarnings(plan), []);
  });

  it('warns of an id match with nothing else in common (two Stagelines hand out the same ids), and keeps it', () => {
    const theirs: SeedPipeline = {
      id: '100000001',
      label: 'Renewals',
      displayOrder: 1,
      stages: [stage('100000002', 'Due', 0), stage('100000003', 'Renewed', 1)],
    };
    const ours: SeedPipeline = {
      id: '100000001',
      label: 'Partners',
      displayOrder: 1,
      stages: [stage('100000002', 'Intro', 0), stage('100000003', 'Signed', 1)],
    };
    const plan = computePlan(doc(ours), current(theirs));
    const [step] = plan.types[0]!.pipelines;
    assert.equal(step?.targetId, '100000001');
    assert.equal(step?.action, 'update');
    const warning =
      'matched by id 100000001 alone: "Renewals" shares neither its label nor a stage label with "Partners"; if they are unrelated pipelines that happen to share an id, this rewrites one into the other';
    assert.equal(step?.warning, warning);
    assert.match(renderPlan(plan, false), /\(100000001\)\n {6}! warning: matched by id 100000001 alone: /);
    const json = JSON.parse(planJson(plan)) as {
      warnings: string[];
      types: { pipelines: { warning?: string }[] }[];
    };
    assert.deepEqual(json.warnings, [`deals/Partners: ${warning}`]);
    assert.equal(json.types[0]!.pipelines[0]!.warning, warning);

    // One stage label in common is enough to take the match as meant.
    const kin = { ...ours, stages: [ours.stages[0]!, { ...ours.stages[1]!, label: 'renewed' }] };
    assert.deepEqual(planWarnings(computePlan(doc(kin), current(theirs))), []);
  });

  it('matches by label, case-insensitive, when the ids differ, and maps the ids', () => {
    const there: SeedPipeline = {
      ...sales,
      id: '1234',
      label: 'SALES ',
      stages: [stage('77', 'lead', 0, '0.1'), stage('78', 'Won', 1, '1.0')],
    };
    const plan = computePlan(doc(sales), current(there));
    const [step] = plan.types[0]!.pipelines;
    assert.equal(step?.targetId, '1234');
    assert.deepEqual(
      step?.changes.map((c) => c.field),
      ['label'],
    );
    assert.deepEqual(emptyIdMap(plan).deals, {
      pipelines: { sales: '1234' },
      stages: { lead: '77', won: '78' },
    });
  });

  it('tells reorders from updates, and lists metadata changes key by key', () => {
    const wanted: SeedPipeline = {
      ...sales,
      stages: [
        { ...sales.stages[0]!, displayOrder: 5 },
        { ...sales.stages[1]!, metadata: { probability: '0.9', isClosed: 'true' } },
      ],
    };
    const plan = computePlan(doc(wanted), current(sales));
    const [step] = plan.types[0]!.pipelines;
    assert.equal(step?.action, 'update');
    assert.deepEqual(
      step?.stages.map((s) => [s.action, s.changes]),
      [
        ['reorder', [{ field: 'displayOrder', before: 0, after: 5 }]],
        [
          'update',
          [
            { field: 'metadata.isClosed', before: undefined, after: 'true' },
            { field: 'metadata.probability', before: '1.0', after: '0.9' },
          ],
        ],
      ],
    );
    assert.deepEqual(countPlan(plan), { create: 0, update: 1, reorder: 1, archive: 0 });
  });

  it('archives the pipelines and stages the document leaves out', () => {
    const other: SeedPipeline = { ...sales, id: 'other', label: 'Other' };
    const plan = computePlan(doc({ ...sales, stages: [sales.stages[0]!] }), current(sales, other));
    const steps = plan.types[0]!.pipelines;
    assert.deepEqual(
      steps.map((p) => [
        p.action,
        p.targetId,
        p.stages.filter((s) => s.action !== 'none').map((s) => s.action),
      ]),
      [
        ['update', 'sales', ['archive']],
        ['archive', 'other', []],
      ],
    );
    assert.equal(countPlan(plan).archive, 2);
  });

  it('names each label the plan gives while an item it archives holds it, and nothing else', () => {
    const other: SeedPipeline = { ...sales, id: 'other', label: 'Other', stages: [] };
    // "sales" (matched by id) takes the label "Other" of a pipeline the document leaves out, and
    // its stage "lead" the label "Won" of its stage "won", which the document leaves out too.
    const wanted = { ...sales, label: 'other ', stages: [{ ...sales.stages[0]!, label: 'WON' }] };
    const plan = computePlan(doc(wanted), current(sales, other));
    assert.deepEqual(labelsHeldByArchives(plan), [
      'deals/other : pipeline other holds this label and the file leaves it out',
      'deals/other : stage won holds the label "WON" and the file leaves it out',
    ]);
    // Archives alone, or renames to free labels, hold nothing.
    assert.deepEqual(
      labelsHeldByArchives(computePlan(doc({ ...sales, stages: [] }), current(sales, other))),
      [],
    );
    assert.deepEqual(
      labelsHeldByArchives(computePlan(doc({ ...sales, label: 'New' }), current(sales, other))),
      [],
    );
  });

  it("leaves HubSpot's default pipeline alone when the document keeps default pipelines", () => {
    const defaultPipeline: SeedPipeline = { ...sales, id: 'default', label: 'Sales Pipeline' };
    const mine: SeedPipeline = { ...sales, id: 'mine', label: 'Mine' };
    const keep: SeedDocument = { objectTypes: { deals: { keepDefaultPipelines: true, pipelines: [sales] } } };
    const plan = computePlan(keep, current(sales, defaultPipeline, mine));
    assert.deepEqual(
      plan.types[0]!.pipelines.filter((p) => p.action === 'archive').map((p) => p.targetId),
      ['mine'],
    );
  });

  it('skips lifecycle pipelines and types the portal refused, and leaves out types without pipelines', () => {
    const plan = computePlan(
      {
        objectTypes: {
          contacts: { pipelines: [sales] },
          widgets: { pipelines: [sales] },
          tickets: { records: [] },
        },
      },
      new Map([['widgets', { refused: 'HTTP 400: Unable to infer object type from: widgets' }]]),
    );
    assert.deepEqual(
      plan.types.map((t) => [t.objectType, t.skipped]),
      [
        ['contacts', 'lifecycle pipelines are read-only in HubSpot'],
        ['widgets', 'HTTP 400: Unable to infer object type from: widgets'],
      ],
    );
    assert.equal(hasChanges(plan), false);
  });
});
