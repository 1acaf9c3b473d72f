// Pipelines as code between two Stageline servers in tokens mode, through the official SDK: pull
// A, apply to B, pull B; diffs that write nothing; idempotence; --prune; STAGE_ID_IN_USE.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { startStageline } from '../../src/index.js';
import type { RunningStageline } from '../../src/index.js';
import { ApplyError, applyPlan } from '../../src/pipelines-as-code/apply.js';
import { connectPortal } from '../../src/pipelines-as-code/client.js';
import type { PipelinesPort } from '../../src/pipelines-as-code/client.js';
import type { IdMap } from '../../src/pipelines-as-code/map.js';
import { countPlan, hasChanges } from '../../src/pipelines-as-code/plan.js';
import { planAgainst, pullDocument } from '../../src/pipelines-as-code/pull.js';
import type { SeedDocument } from '../../src/seed/seed-document.js';

const TYPES = ['deals', 'tickets'];
const stages = (...labels: string[]) =>
  labels.map((label, i) => ({
    label,
    displayOrder: i,
    metadata: { probability: String(i / labels.length) },
  }));

/** The document with B's ids written back as A's, through the map. */
function inSourceIds(doc: SeedDocument, map: IdMap): SeedDocument {
  const back = (ids: Record<string, string | null>) =>
    new Map(Object.entries(ids).flatMap(([source, target]) => (target === null ? [] : [[target, source]])));
  const objectTypes = Object.fromEntries(
    Object.entries(doc.objectTypes).map(([type, entry]) => {
      const pipelines = back(map[type]?.pipelines ?? {});
      const stageIds = back(map[type]?.stages ?? {});
      return [
        type,
        {
          ...entry,
          pipelines: entry.pipelines?.map((p) => ({
            ...p,
            id: pipelines.get(p.id) ?? p.id,
            stages: p.stages.map((s) => ({ ...s, id: stageIds.get(s.id) ?? s.id })),
          })),
        },
      ];
    }),
  );
  return { ...doc, objectTypes };
}

describe('pipelines as code between two Stageline servers', () => {
  let a: RunningStageline;
  let b: RunningStageline;
  let source: PipelinesPort;
  let target: PipelinesPort;
  let tokenB: string;
  let pulledA: SeedDocument;
  let generatedByB: string;

  before(async () => {
    [a, b] = await Promise.all([
      startStageline({ auth: 'tokens' }),
      startStageline({ auth: 'tokens', controlPlane: 'on' }),
    ]);
    source = connectPortal({ url: a.url, token: await a.issueToken({ portalId: 101 }) });
    tokenB = await b.issueToken({ portalId: 202 });
    target = connectPortal({ url: b.url, token: tokenB });

    // Both portals generate ids from the same start: A's first ones go to a pipeline it drops.
    await source.archivePipeline(
      'deals',
      (await source.createPipeline('deals', { label: 'Gone', displayOrder: 9, stages: stages('x') })).id,
    );
    // A: two deal pipelines of its own, a renamed default stage, a ticket pipeline.
    await source.createPipeline('deals', {
      label: 'Enterprise',
      displayOrder: 1,
      stages: stages('Qualify', 'Pilot', 'Won'),
    });
    await source.createPipeline('deals', {
      label: 'Renewals',
      displayOrder: 2,
      stages: stages('Due', 'Renewed'),
    });
    await source.updateStage('deals', 'default', 'contractsent', { label: 'Contract out' });
    await source.createPipeline('tickets', {
      label: 'Escalations',
      displayOrder: 1,
      stages: [
        { label: 'Open', displayOrder: 0, metadata: { ticketState: 'OPEN' } },
        { label: 'Done', displayOrder: 1, metadata: { ticketState: 'CLOSED' } },
      ],
    });
    // B already has an "enterprise" pipeline, under an id of its own: matched by label.
    generatedByB = (
      await target.createPipeline('deals', {
        label: 'enterprise',
        displayOrder: 1,
        stages: stages('qualify'),
      })
    ).id;
    pulledA = await pullDocument(source, { types: TYPES });
  });

  after(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  it('pull A, apply to B, pull B: the same document apart from the ids B generated', async () => {
    const plan = await planAgainst(target, pulledA);
    // Pipelines: Renewals and Escalations; stages: Pilot and Won in B's enterprise. Updates: its
    // label and its stage's, and the renamed default stage.
    assert.deepEqual(countPlan(plan), { create: 4, update: 3, reorder: 0, archive: 0 });
    const { map } = await applyPlan(target, plan, { prune: false });
    const enterpriseA = pulledA.objectTypes.deals!.pipelines!.find((p) => p.label === 'Enterprise')!;
    assert.equal(map.deals!.pipelines[enterpriseA.id], generatedByB);
    // Ids B was free to take are kept.
    const renewals = pulledA.objectTypes.deals!.pipelines!.find((p) => p.label === 'Renewals')!;
    assert.equal(map.deals!.pipelines[renewals.id], renewals.id);

    const pulledB = await pullDocument(target, { types: TYPES });
    assert.notDeepEqual(pulledB, pulledA);
    assert.deepEqual(inSourceIds(pulledB, map), pulledA);
    assert.equal(hasChanges(await planAgainst(target, pulledA)), false);
  });

  it('a pull reports a type the portal refuses and leaves it out; the plan skips it', async () => {
    const refused: string[] = [];
    const doc = await pullDocument(source, {
      types: ['tickets', 'widgets'],
      onRefused: (type, message) => refused.push(`${type}: ${message}`),
    });
    assert.deepEqual(Object.keys(doc.objectTypes), ['tickets']);
    assert.deepEqual(refused, [
      'widgets: the portal refused it: HTTP 400: Unable to infer object type from: widgets',
    ]);
    const plan = await planAgainst(target, { objectTypes: { widgets: { pipelines: [] } } });
    assert.deepEqual(plan.types, [
      {
        objectType: 'widgets',
        skipped: 'the portal refused it: HTTP 400: Unable to infer object type from: widgets',
        pipelines: [],
      },
    ]);
  });

  it('a second apply finds nothing to do', async () => {
    const plan = await planAgainst(target, pulledA);
    assert.equal(hasChanges(plan), false);
    const { done } = await applyPlan(target, plan, { prune: true });
    assert.equal(done.length, 0);
  });

  it('a diff only reads: no write in the request journal, the audit trail unchanged', async () => {
    const control = b.portal(tokenB);
    const changed: SeedDocument = {
      objectTypes: {
        ...pulledA.objectTypes,
        deals: {
          pipelines: pulledA.objectTypes.deals!.pipelines!.map((p) => ({ ...p, label: `${p.label} 2` })),
        },
      },
    };
    const auditBefore = (await control.snapshot()).audit;
    await control.clearRequests();
    const plan = await planAgainst(target, changed);
    assert.equal(hasChanges(plan), true);
    const requests = await control.requests();
    assert.ok(requests.length > 0);
    assert.deepEqual([...new Set(requests.map((r) => r.method))], ['GET']);
    assert.deepEqual((await control.snapshot()).audit, auditBefore);
  });

  it('archives only with prune; STAGE_ID_IN_USE names the records and what was left undone', async () => {
    const deals = pulledA.objectTypes.deals!.pipelines!;
    const renewals = deals.find((p) => p.label === 'Renewals')!;
    const dropped = renewals.stages[1]!;
    const trimmed: SeedDocument = {
      objectTypes: {
        deals: {
          pipelines: deals
            .filter((p) => p.label !== 'Enterprise')
            .map((p) => (p === renewals ? { ...p, stages: [renewals.stages[0]!] } : p)),
        },
      },
    };
    const plan = await planAgainst(target, trimmed);
    assert.equal(countPlan(plan).archive, 2);
    assert.equal((await applyPlan(target, plan, { prune: false })).done.length, 0);
    assert.equal((await target.list('deals')).length, 3);

    // A deal sits in the stage to archive.
    const response = await fetch(`${b.url}/crm/v3/objects/deals`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokenB}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        properties: { dealname: 'Held', pipeline: renewals.id, dealstage: dropped.id },
      }),
    });
    assert.equal(response.status, 201);
    const deal = (await response.json()) as { id: string };
    const err = await applyPlan(target, plan, { prune: true }).then(
      () => assert.fail('the archive should be refused'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ApplyError);
    assert.match(err.reason, /STAGE_ID_IN_USE/);
    assert.match(err.reason, new RegExp(`\\b${deal.id}\\b`));
    assert.match(err.failed.description, /Renewals: archive stage "Renewed"/);
    assert.equal(err.remaining.length + err.done.length + 1, 2);

    // Moved out of the way, the prune goes through and a new plan is empty.
    await fetch(`${b.url}/crm/v3/objects/deals/${deal.id}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${tokenB}`, 'content-type': 'application/json' },
      body: JSON.stringify({ properties: { dealstage: renewals.stages[0]!.id } }),
    });
    await applyPlan(target, await planAgainst(target, trimmed), { prune: true });
    assert.equal(hasChanges(await planAgainst(target, trimmed)), false);
    assert.deepEqual(
      (await target.list('deals')).map((p) => p.label),
      ['Sales Pipeline', 'Renewals'],
    );
  });

  it("an id taken by an archived pipeline or another pipeline's stage: the target generates one", async () => {
    const partners: SeedDocument = {
      objectTypes: {
        deals: {
          pipelines: [
            {
              id: 'partners',
              label: 'Partners',
              displayOrder: 5,
              stages: [
                { id: 'partner-new', label: 'New', displayOrder: 0, metadata: { probability: 0.1 } },
                { id: 'partner-won', label: 'Won', displayOrder: 1, metadata: { probability: 1 } },
              ],
            },
          ],
        },
      },
    };
    assert.equal(
      (await applyPlan(target, await planAgainst(target, partners), { prune: false })).map.deals!.pipelines
        .partners,
      'partners',
    );
    await target.archivePipeline('deals', 'partners');

    // Its ids stay taken: the create goes through without them, and the map gives the new ones.
    const { map } = await applyPlan(target, await planAgainst(target, partners), { prune: false });
    const created = (await target.list('deals')).find((p) => p.label === 'Partners')!;
    assert.notEqual(created.id, 'partners');
    assert.equal(map.deals!.pipelines.partners, created.id);
    const stageIds = Object.fromEntries(created.stages.map((s) => [s.label, s.id]));
    assert.deepEqual(map.deals!.stages, { 'partner-new': stageIds.New, 'partner-won': stageIds.Won });
    assert.ok(!['partner-new', 'partner-won'].includes(stageIds.New!));
    // The next plan matches them by label: nothing to do (B's other pipelines aside).
    const partnersStep = async (doc: SeedDocument) =>
      (await planAgainst(target, doc)).types[0]!.pipelines.find((p) => p.label === 'Partners')!;
    assert.deepEqual(await partnersStep(partners), {
      action: 'none',
      label: 'Partners',
      sourceId: 'partners',
      targetId: created.id,
      changes: [],
      stages: [
        { action: 'none', label: 'New', sourceId: 'partner-new', targetId: stageIds.New, changes: [] },
        { action: 'none', label: 'Won', sourceId: 'partner-won', targetId: stageIds.Won, changes: [] },
      ],
    });

    // A new stage under the id of a stage of another pipeline of the type.
    const taken = (await target.list('deals')).find((p) => p.label === 'Sales Pipeline')!.stages[0]!.id;
    const wanted = partners.objectTypes.deals!.pipelines![0]!;
    const more: SeedDocument = {
      objectTypes: {
        deals: {
          pipelines: [
            {
              ...wanted,
              stages: [
                ...wanted.stages,
                { id: taken, label: 'Lapsed', displayOrder: 2, metadata: { probability: 0 } },
              ],
            },
          ],
        },
      },
    };
    const applied = await applyPlan(target, await planAgainst(target, more), { prune: false });
    const lapsed = (await target.list('deals'))
      .find((p) => p.label === 'Partners')!
      .stages.find((s) => s.label === 'Lapsed')!;
    assert.notEqual(lapsed.id, taken);
    assert.equal(applied.map.deals!.stages[taken], lapsed.id);
    assert.equal((await partnersStep(more)).action, 'none');
  });

  it('a label held by an item the file leaves out: refused before any change without --prune, done with it', async () => {
    const [one, two] = await Promise.all(
      ['Q One', 'Q Two'].map((label, i) =>
        target.createPipeline('deals', { label, displayOrder: 20 + i, stages: stages('Open', 'Done') }),
      ),
    );
    const pulled = (await pullDocument(target, { types: ['deals'] })).objectTypes.deals!.pipelines!;
    // "Q One" takes the label of "Q Two", which the file leaves out; its stage "Open" takes "Done"'s.
    const wanted: SeedDocument = {
      objectTypes: {
        deals: {
          pipelines: pulled
            .filter((p) => p.id !== two!.id)
            .map((p) =>
              p.id === one!.id ? { ...p, label: 'Q Two', stages: [{ ...p.stages[0]!, label: 'Done' }] } : p,
            ),
        },
      },
    };
    const before = await target.list('deals');
    await assert.rejects(
      applyPlan(target, await planAgainst(target, wanted), { prune: false }),
      (err: Error) => {
        assert.equal(err.name, 'PlanConflictError');
        assert.match(err.message, /^nothing applied: /);
        assert.match(err.message, new RegExp(`deals/Q Two: pipeline ${two!.id} holds this label`));
        assert.match(err.message, /deals\/Q Two: stage \S+ holds the label "Done"/);
        return true;
      },
    );
    assert.deepEqual(await target.list('deals'), before, 'nothing changed');

    await applyPlan(target, await planAgainst(target, wanted), { prune: true });
    const after = await target.list('deals');
    assert.deepEqual(
      after.filter((p) => p.id === one!.id).map((p) => [p.label, ...p.stages.map((st) => st.label)]),
      [['Q Two', 'Done']],
    );
    assert.equal(
      after.find((p) => p.id === two!.id),
      undefined,
    );
    assert.equal(after.length, before.length - 1, 'the other pipelines stay');
  });

  it('renames that swap labels, of pipelines and of stages, go through a temporary label', async () => {
    const [one, two] = await Promise.all(
      ['P One', 'P Two'].map((label, i) =>
        target.createPipeline('deals', {
          label,
          displayOrder: 10 + i,
          stages: stages('One', 'Two', 'Three'),
        }),
      ),
    );
    const pulled = (await pullDocument(target, { types: ['deals'] })).objectTypes.deals!.pipelines!;
    const relabel = (id: string, label: string, stageLabels: string[]) => {
      const p = pulled.find((x) => x.id === id)!;
      return { ...p, label, stages: p.stages.map((st, i) => ({ ...st, label: stageLabels[i]! })) };
    };
    // The pipelines swap labels; in one the stages swap, in the other they move along a chain.
    const swapped: SeedDocument = {
      objectTypes: {
        deals: {
          pipelines: [
            relabel(one!.id, 'P Two', ['Two', 'One', 'Three']),
            relabel(two!.id, 'P One', ['Two', 'Three', 'Four']),
          ],
        },
      },
    };
    await applyPlan(target, await planAgainst(target, swapped), { prune: false });
    const after = await target.list('deals');
    const labels = (id: string) => {
      const p = after.find((x) => x.id === id)!;
      return [p.label, ...p.stages.map((st) => st.label)];
    };
    assert.deepEqual(labels(one!.id), ['P Two', 'Two', 'One', 'Three']);
    assert.deepEqual(labels(two!.id), ['P One', 'Two', 'Three', 'Four']);
    const again = await planAgainst(target, swapped);
    assert.deepEqual(
      again.types[0]!.pipelines.filter((p) => p.sourceId !== undefined).map((p) => p.action),
      ['none', 'none'],
    );
  });
});
