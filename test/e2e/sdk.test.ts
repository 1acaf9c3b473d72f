// End-to-end: Stageline driven through HubSpot's official Node SDK (@hubspot/api-client 13.5).
//
// Every SDK call passes `p.wire()`, which captures the raw response and checks it (status code,
// error envelope, timestamp format, official OpenAPI schema) before the SDK deserialises it; see
// test/helpers/wire.ts. Each test works in its own portal (a fresh random bearer token in open mode).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import type { Pipeline, PipelineStage } from '@hubspot/api-client/lib/codegen/crm/pipelines/index.js';

import { startStageline, type RunningStageline } from '../../src/index.js';
import { COMPRESS_FROM_CHARS } from '../../src/http/compression.js';
import { HUBSPOT_DEFAULTS } from '../helpers/hubspot-defaults.js';
import { schemaValidationCount, specSkipReason } from '../helpers/openapi.js';
import {
  assertIsoTimestamp,
  expectApiError,
  isRecord,
  must,
  num,
  openPortal,
  parseRawObject,
  rawRequest,
  type Portal,
} from '../helpers/wire.js';
import type { WireAudit, WireCollection, WirePipeline, WireStage } from '../helpers/wire-types.js';
import { testDatabase } from '../helpers/backend.js';

const NUMERIC_ID = /^\d+$/;

function dealStage(label: string, displayOrder: number, probability: string) {
  return { label, displayOrder, metadata: { probability } };
}

function findStage(pipeline: { stages: PipelineStage[] }, label: string): PipelineStage {
  return must(
    pipeline.stages.find((s) => s.label === label),
    `stage "${label}"`,
  );
}

function summary(stages: PipelineStage[]): Array<[string, number, Record<string, string> | undefined]> {
  return stages.map((s) => [s.label, s.displayOrder, s.metadata]);
}

let server: RunningStageline;

before(async () => {
  server = await startStageline({ host: '127.0.0.1', port: 0, database: testDatabase() });
});

after(async () => {
  await server?.close();
});

function portal(): Portal {
  return openPortal(server.url);
}

async function createDealPipeline(p: Portal, label: string, displayOrder = 1): Promise<Pipeline> {
  return p.pipelines.create(
    'deals',
    {
      label,
      displayOrder,
      stages: [dealStage('Open', 0, '0.3'), dealStage('Won', 1, '1.0'), dealStage('Lost', 2, '0.0')],
    },
    p.wire(),
  );
}

describe('default pipelines', () => {
  it('seeds the deal pipeline "default" exactly as FIDELITY §4 lists it', async () => {
    const p = portal();
    const list = await p.pipelines.getAll('deals', p.wire());
    const rawList = p.lastJson<WireCollection<WirePipeline>>();
    assert.deepEqual(
      list.results.map((x) => x.id),
      [HUBSPOT_DEFAULTS.deals.id],
      'a new portal has exactly one deal pipeline',
    );
    const def = must(list.results[0], 'default pipeline');
    assert.equal(def.label, HUBSPOT_DEFAULTS.deals.label);
    assert.equal(def.displayOrder, HUBSPOT_DEFAULTS.deals.displayOrder);
    assert.equal(def.archived, false);
    assert.equal(def.createdAt.getTime(), 0);
    assert.equal(def.updatedAt.getTime(), 0);
    const rawDef = must(rawList.results[0], 'raw default pipeline');
    assert.equal(rawDef.createdAt, HUBSPOT_DEFAULTS.timestamp);
    assert.equal(rawDef.updatedAt, HUBSPOT_DEFAULTS.timestamp);
    assert.equal('archivedAt' in rawDef, false);

    assert.deepEqual(
      def.stages.map((s) => [s.id, s.label, s.metadata?.probability, s.metadata?.isClosed]),
      HUBSPOT_DEFAULTS.deals.stages.map((s) => [...s]),
    );
    assert.deepEqual(
      def.stages.map((s) => s.displayOrder),
      [0, 1, 2, 3, 4, 5, 6],
    );
    for (const stage of def.stages) {
      assert.equal(stage.writePermissions, 'CRM_PERMISSIONS_ENFORCEMENT');
      assert.equal(stage.archived, false);
      assert.deepEqual(Object.keys(stage.metadata ?? {}).sort(), ['isClosed', 'probability']);
    }

    const byId = await p.pipelines.getById('deals', HUBSPOT_DEFAULTS.deals.id, p.wire());
    assert.deepEqual(p.lastJson<WirePipeline>(), rawDef, 'GET by id returns the same object as the list');
    assert.equal(byId.label, HUBSPOT_DEFAULTS.deals.label);

    const stages = await p.stages.getAll('deals', HUBSPOT_DEFAULTS.deals.id, p.wire());
    assert.deepEqual(
      stages.results.map((s) => s.id),
      HUBSPOT_DEFAULTS.deals.stages.map((s) => s[0]),
    );
    const won = await p.stages.getById('deals', HUBSPOT_DEFAULTS.deals.id, 'closedwon', p.wire());
    assert.equal(won.label, 'Closed Won');
    assert.deepEqual(won.metadata, { probability: '1.0', isClosed: 'true' });
    assert.equal(p.lastJson<WireStage>().createdAt, HUBSPOT_DEFAULTS.timestamp);
  });

  it('seeds the ticket pipeline "0" (Support Pipeline) with stages 1..4', async () => {
    const p = portal();
    const list = await p.pipelines.getAll('tickets', p.wire());
    assert.deepEqual(
      list.results.map((x) => [x.id, x.label]),
      [[HUBSPOT_DEFAULTS.tickets.id, HUBSPOT_DEFAULTS.tickets.label]],
    );
    const support = await p.pipelines.getById('tickets', HUBSPOT_DEFAULTS.tickets.id, p.wire());
    assert.deepEqual(
      support.stages.map((s) => [s.id, s.label, s.metadata]),
      HUBSPOT_DEFAULTS.tickets.stages.map(([id, label, ticketState]) => [id, label, { ticketState }]),
    );
    const closed = await p.stages.getById('tickets', HUBSPOT_DEFAULTS.tickets.id, '4', p.wire());
    assert.deepEqual(closed.metadata, { ticketState: 'CLOSED' });
  });

  it('serves the read-only contact and company lifecycle pipelines and refuses writes with 400', async () => {
    const p = portal();
    const contacts = await p.pipelines.getById('contacts', HUBSPOT_DEFAULTS.lifecycle.ids.contacts, p.wire());
    assert.equal(contacts.label, HUBSPOT_DEFAULTS.lifecycle.label);
    assert.deepEqual(
      contacts.stages.map((s) => s.id),
      HUBSPOT_DEFAULTS.lifecycle.stageIds,
    );
    const other = must(
      contacts.stages.find((s) => s.id === 'other'),
      'lifecycle stage other',
    );
    assert.equal(other.metadata?.isClosed, 'true');
    assert.equal(other.metadata?.state, 'CLOSED');

    const companies = await p.pipelines.getAll('companies', p.wire());
    assert.ok(companies.results.some((x) => x.id === HUBSPOT_DEFAULTS.lifecycle.ids.companies));

    await expectApiError(
      p.pipelines.create(
        'contacts',
        { label: 'Mine', displayOrder: 1, stages: [{ label: 'A', displayOrder: 0, metadata: {} }] },
        p.wire(),
      ),
      400,
    );
    await expectApiError(
      p.pipelines.update(
        'contacts',
        HUBSPOT_DEFAULTS.lifecycle.ids.contacts,
        { label: 'Renamed' },
        undefined,
        undefined,
        p.wire(),
      ),
      400,
    );
    await expectApiError(
      p.stages.create(
        'companies',
        HUBSPOT_DEFAULTS.lifecycle.ids.companies,
        { label: 'Extra', displayOrder: 99, metadata: {} },
        p.wire(),
      ),
      400,
    );
    const again = await p.pipelines.getById('contacts', HUBSPOT_DEFAULTS.lifecycle.ids.contacts, p.wire());
    assert.equal(again.label, HUBSPOT_DEFAULTS.lifecycle.label, 'the refused writes changed nothing');
  });
});

describe('pipelines API', () => {
  it('creates a deal pipeline from numeric probabilities and returns normalised, ordered stages', async () => {
    const p = portal();
    const info = await p.pipelines.createWithHttpInfo(
      'deals',
      {
        label: 'Enterprise',
        displayOrder: 3,
        stages: [
          { label: 'Won', displayOrder: 2, metadata: { probability: num(1) } },
          // A sent isClosed is stored as sent (else derived); unknown keys are dropped.
          {
            label: 'Beta',
            displayOrder: 1,
            metadata: { probability: num(0.5), isClosed: 'true', colour: 'red' },
          },
          { label: 'Alpha', displayOrder: 1, metadata: { probability: num(0.1) } },
          { label: 'Lost', displayOrder: 3, metadata: { probability: num(0) } },
        ],
      },
      p.wire(),
    );
    assert.equal(info.httpStatusCode, 201);
    const created = info.data;
    const rawCreated = p.lastJson<WirePipeline>();
    assert.match(created.id, NUMERIC_ID);
    assert.equal(created.label, 'Enterprise');
    assert.equal(created.displayOrder, 3);
    assert.equal(created.archived, false);
    assert.equal(created.archivedAt, undefined);
    assert.ok(Math.abs(created.createdAt.getTime() - Date.now()) < 60_000, 'createdAt is about now');
    assertIsoTimestamp(rawCreated.createdAt, 'createdAt');
    assert.deepEqual(summary(created.stages), [
      ['Alpha', 1, { probability: '0.1', isClosed: 'false' }],
      ['Beta', 1, { probability: '0.5', isClosed: 'true' }],
      ['Won', 2, { probability: '1.0', isClosed: 'true' }],
      ['Lost', 3, { probability: '0.0', isClosed: 'true' }],
    ]);
    const stageIds = created.stages.map((s) => s.id);
    for (const id of stageIds) assert.match(id, NUMERIC_ID);
    assert.equal(new Set(stageIds).size, stageIds.length, 'stage ids are unique');
    for (const stage of created.stages) {
      assert.equal(stage.writePermissions, 'CRM_PERMISSIONS_ENFORCEMENT');
      assert.equal(stage.archived, false);
    }

    await p.pipelines.getById('deals', created.id, p.wire());
    assert.deepEqual(p.lastJson<WirePipeline>(), rawCreated, 'create returns the stored object');

    const list = await p.pipelines.getAll('deals', p.wire());
    assert.deepEqual(
      list.results.map((x) => x.label),
      ['Sales Pipeline', 'Enterprise'],
    );
  });

  it('orders pipelines by displayOrder, then label', async () => {
    const p = portal();
    await createDealPipeline(p, 'Zulu', 0);
    await createDealPipeline(p, 'Late', 5);
    await createDealPipeline(p, 'Alpha', 0);
    const list = await p.pipelines.getAll('deals', p.wire());
    assert.deepEqual(
      list.results.map((x) => x.label),
      ['Alpha', 'Sales Pipeline', 'Zulu', 'Late'],
    );
  });

  it('creates ticket pipelines with ticketState defaulting to OPEN and no isClosed unless sent', async () => {
    const p = portal();
    const created = await p.pipelines.create(
      'tickets',
      {
        label: 'Helpdesk',
        displayOrder: 2,
        stages: [
          { label: 'Open', displayOrder: 0, metadata: { ticketState: 'OPEN' } },
          { label: 'Triaged', displayOrder: 1, metadata: {} },
          { label: 'Done', displayOrder: 2, metadata: { ticketState: 'CLOSED', probability: '0.5' } },
        ],
      },
      p.wire(),
    );
    assert.match(created.id, NUMERIC_ID);
    assert.deepEqual(summary(created.stages), [
      ['Open', 0, { ticketState: 'OPEN' }],
      ['Triaged', 1, { ticketState: 'OPEN' }],
      ['Done', 2, { ticketState: 'CLOSED' }],
    ]);
    const list = await p.pipelines.getAll('tickets', p.wire());
    assert.deepEqual(
      list.results.map((x) => x.label),
      ['Support Pipeline', 'Helpdesk'],
    );
    await expectApiError(
      p.pipelines.create(
        'tickets',
        {
          label: 'Lowercase state',
          displayOrder: 3,
          stages: [{ label: 'Done', displayOrder: 0, metadata: { ticketState: 'closed' } }],
        },
        p.wire(),
      ),
      400,
    );
  });

  it('PATCH changes only the fields sent', async () => {
    const p = portal();
    const created = await createDealPipeline(p, 'Patch me', 1);
    const rawCreated = p.lastJson<WirePipeline>();

    const renamed = await p.pipelines.update(
      'deals',
      created.id,
      { label: 'Patched' },
      undefined,
      undefined,
      p.wire(),
    );
    const rawRenamed = p.lastJson<WirePipeline>();
    assert.equal(renamed.id, created.id);
    assert.equal(renamed.label, 'Patched');
    assert.equal(renamed.displayOrder, 1);
    assert.deepEqual(rawRenamed.stages, rawCreated.stages, 'stages are untouched by a pipeline PATCH');
    assert.equal(rawRenamed.createdAt, rawCreated.createdAt);
    assert.ok(renamed.updatedAt.getTime() >= created.updatedAt.getTime());

    const moved = await p.pipelines.update(
      'deals',
      created.id,
      { displayOrder: 4 },
      undefined,
      undefined,
      p.wire(),
    );
    const rawMoved = p.lastJson<WirePipeline>();
    assert.equal(moved.label, 'Patched');
    assert.equal(moved.displayOrder, 4);

    const fetched = await p.pipelines.getById('deals', created.id, p.wire());
    assert.deepEqual(p.lastJson<WirePipeline>(), rawMoved, 'PATCH returns the stored object');
    assert.equal(fetched.label, 'Patched');

    await expectApiError(
      p.pipelines.update('deals', created.id, { archived: true }, undefined, undefined, p.wire()),
      400,
    );
    await expectApiError(
      p.pipelines.update('deals', created.id, { displayOrder: -1 }, undefined, undefined, p.wire()),
      400,
      'Pipeline display order cannot be negative',
    );
    await expectApiError(
      p.pipelines.update('deals', created.id, { label: 'Sales Pipeline' }, undefined, undefined, p.wire()),
      400,
      'An active pipeline with label Sales Pipeline already exists.',
    );
    const unchanged = await p.pipelines.getById('deals', created.id, p.wire());
    assert.deepEqual([unchanged.label, unchanged.displayOrder, unchanged.archived], ['Patched', 4, false]);
  });

  it('PUT replaces the definition; stages named by stageId keep their id, others are created or removed', async () => {
    const p = portal();
    const created = await p.pipelines.create(
      'deals',
      {
        label: 'Replace me',
        displayOrder: 1,
        stages: [dealStage('A', 0, '0.1'), dealStage('B', 1, '0.5'), dealStage('C', 2, '1.0')],
      },
      p.wire(),
    );
    const a = findStage(created, 'A');
    const b = findStage(created, 'B');
    const c = findStage(created, 'C');
    const rawCreated = p.lastJson<WirePipeline>();
    const rawA = must(
      rawCreated.stages.find((s) => s.id === a.id),
      'raw stage A',
    );

    // SDK 13.5 cannot send stageId (its serializer drops unknown keys), so this PUT is plain HTTP.
    const put = await p.raw<WirePipeline>('PUT', `/crm/v3/pipelines/deals/${created.id}`, {
      label: 'Replaced',
      displayOrder: 2,
      stages: [
        { stageId: a.id, label: 'A renamed', displayOrder: 1, metadata: { probability: 0.3 } },
        { label: 'D', displayOrder: 0, metadata: { probability: '0.0' } },
      ],
    });
    assert.equal(put.status, 200);
    assert.equal(put.json.id, created.id);
    assert.equal(put.json.label, 'Replaced');
    assert.equal(put.json.displayOrder, 2);
    assert.equal(put.json.createdAt, rawCreated.createdAt, 'PUT keeps createdAt');
    assert.deepEqual(
      put.json.stages.map((s) => [s.label, s.displayOrder, s.metadata]),
      [
        ['D', 0, { probability: '0.0', isClosed: 'true' }],
        ['A renamed', 1, { probability: '0.3', isClosed: 'false' }],
      ],
    );
    const [d, aRenamed] = put.json.stages;
    assert.equal(must(aRenamed, 'A renamed').id, a.id, 'a stage named by stageId keeps its id');
    assert.equal(must(aRenamed, 'A renamed').createdAt, rawA.createdAt, 'a kept stage keeps its createdAt');
    assert.match(must(d, 'stage D').id, NUMERIC_ID);
    assert.ok(![a.id, b.id, c.id].includes(must(d, 'stage D').id), 'a stage without stageId gets a new id');

    for (const removed of [b, c]) {
      await expectApiError(p.stages.getById('deals', created.id, removed.id, p.wire()), 404);
    }
    const stages = await p.stages.getAll('deals', created.id, p.wire());
    assert.deepEqual(
      stages.results.map((s) => s.label),
      ['D', 'A renamed'],
    );

    // Through the SDK (no stageIds): every stage is replaced by a new one.
    const replaced = await p.pipelines.replace(
      'deals',
      created.id,
      {
        label: 'Replaced twice',
        displayOrder: 2,
        stages: [dealStage('X', 0, '0.2'), dealStage('Y', 1, '1.0')],
      },
      undefined,
      undefined,
      p.wire(),
    );
    assert.equal(replaced.id, created.id);
    assert.equal(replaced.label, 'Replaced twice');
    assert.deepEqual(
      replaced.stages.map((s) => s.label),
      ['X', 'Y'],
    );
    for (const stage of replaced.stages) {
      assert.ok(
        ![a.id, b.id, c.id, must(d, 'stage D').id].includes(stage.id),
        `stage ${stage.label} has a new id`,
      );
    }
    await expectApiError(p.stages.getById('deals', created.id, a.id, p.wire()), 404);
    const fetched = await p.pipelines.getById('deals', created.id, p.wire());
    assert.deepEqual(
      fetched.stages.map((s) => s.id),
      replaced.stages.map((s) => s.id),
    );

    await expectApiError(
      p.pipelines.replace(
        'deals',
        'no-such-pipeline',
        { label: 'Ghost', displayOrder: 0, stages: [dealStage('X', 0, '0.2')] },
        undefined,
        undefined,
        p.wire(),
      ),
      404,
    );
  });

  it('DELETE archives: 404 afterwards, gone from lists, restorable with PATCH {archived:false}', async () => {
    const p = portal();
    const created = await createDealPipeline(p, 'Temporary', 2);
    const rawCreated = p.lastJson<WirePipeline>();

    const deleted = await p.pipelines.archiveWithHttpInfo('deals', created.id, true, true, p.wire());
    assert.equal(deleted.httpStatusCode, 204);

    const notFound = await expectApiError(p.pipelines.getById('deals', created.id, p.wire()), 404);
    assert.equal(notFound.category, 'OBJECT_NOT_FOUND');
    await expectApiError(
      p.stages.getById('deals', created.id, must(created.stages[0], 'stage').id, p.wire()),
      404,
    );
    const list = await p.pipelines.getAll('deals', p.wire());
    assert.ok(!list.results.some((x) => x.id === created.id), 'an archived pipeline drops out of the list');

    const restored = await p.pipelines.update(
      'deals',
      created.id,
      { archived: false },
      undefined,
      undefined,
      p.wire(),
    );
    const rawRestored = p.lastJson<WirePipeline>();
    assert.equal(restored.archived, false);
    assert.equal(restored.archivedAt, undefined);
    assert.equal(restored.label, 'Temporary');
    assert.deepEqual(
      rawRestored.stages.map((s) => [s.id, s.label, s.metadata]),
      rawCreated.stages.map((s) => [s.id, s.label, s.metadata]),
      'restoring brings the stages back',
    );
    const fetched = await p.pipelines.getById('deals', created.id, p.wire());
    assert.equal(fetched.archived, false);
    const relisted = await p.pipelines.getAll('deals', p.wire());
    assert.deepEqual(
      relisted.results.map((x) => x.label),
      ['Sales Pipeline', 'Temporary'],
    );
  });

  it('frees the label of an archived pipeline (labels are unique among active pipelines only)', async () => {
    const p = portal();
    const first = await createDealPipeline(p, 'Reusable');
    await expectApiError(
      createDealPipeline(p, 'Reusable'),
      400,
      'An active pipeline with label Reusable already exists.',
    );
    await p.pipelines.archive('deals', first.id, undefined, undefined, p.wire());
    const second = await createDealPipeline(p, 'Reusable');
    assert.notEqual(second.id, first.id);
    // The same label is fine for another object type.
    const tickets = await p.pipelines.create(
      'tickets',
      {
        label: 'Reusable',
        displayOrder: 1,
        stages: [{ label: 'Closed', displayOrder: 0, metadata: { ticketState: 'CLOSED' } }],
      },
      p.wire(),
    );
    assert.equal(tickets.label, 'Reusable');
  });

  it('accepts object type ids (0-3 deals, 0-5 tickets) exactly like names', async () => {
    const p = portal();
    await p.pipelines.getAll('deals', p.wire());
    const byName = p.lastJson<WireCollection<WirePipeline>>();
    await p.pipelines.getAll('0-3', p.wire());
    assert.deepEqual(p.lastJson<WireCollection<WirePipeline>>(), byName);

    const viaId = await createDealPipeline(p, 'Made via 0-3');
    const dealsList = await p.pipelines.getAll('0-3', p.wire());
    assert.ok(dealsList.results.some((x) => x.id === viaId.id));
    const stage = await p.stages.create(
      '0-3',
      viaId.id,
      { label: 'Via id', displayOrder: 5, metadata: { probability: '0.4' } },
      p.wire(),
    );
    const sameStage = await p.stages.getById('deals', viaId.id, stage.id, p.wire());
    assert.equal(sameStage.label, 'Via id');

    const ticket = await p.pipelines.create(
      '0-5',
      {
        label: 'Tickets by id',
        displayOrder: 1,
        stages: [{ label: 'Closed', displayOrder: 0, metadata: { ticketState: 'CLOSED' } }],
      },
      p.wire(),
    );
    const fetched = await p.pipelines.getById('tickets', ticket.id, p.wire());
    assert.equal(fetched.label, 'Tickets by id');
    const support = await p.pipelines.getById('0-5', '0', p.wire());
    assert.equal(support.label, 'Support Pipeline');
    await expectApiError(p.pipelines.getById('0-5', viaId.id, p.wire()), 404);

    const unknown = await expectApiError(
      p.pipelines.getAll('widgets', p.wire()),
      400,
      'Unable to infer object type from: widgets',
    );
    assert.equal(typeof unknown.category, 'string');
  });
  it('honours client-chosen pipelineId/stageId (plain HTTP: SDK 13.5 cannot send them)', async () => {
    const p = portal();
    const created = await p.raw<WirePipeline>('POST', '/crm/v3/pipelines/deals', {
      pipelineId: 'my-pipeline',
      label: 'Chosen ids',
      displayOrder: 1,
      stages: [
        { stageId: 'my-first-stage', label: 'First', displayOrder: 0, metadata: { probability: '0.50' } },
        { label: 'Second', displayOrder: 1, metadata: { probability: 0.25 } },
      ],
    });
    assert.equal(created.status, 201);
    assert.equal(created.json.id, 'my-pipeline');
    assert.deepEqual(
      created.json.stages.map((s) => [s.label, s.metadata.probability]),
      [
        ['First', '0.5'],
        ['Second', '0.25'],
      ],
    );
    assert.equal(must(created.json.stages[0], 'First').id, 'my-first-stage');
    assert.match(must(created.json.stages[1], 'Second').id, NUMERIC_ID);

    const patched = await p.pipelines.update(
      'deals',
      'my-pipeline',
      { label: 'Chosen ids!' },
      undefined,
      undefined,
      p.wire(),
    );
    assert.equal(patched.id, 'my-pipeline', 'PATCH never changes an id');
    const stage = await p.stages.update('deals', 'my-pipeline', 'my-first-stage', { label: 'Uno' }, p.wire());
    assert.equal(stage.id, 'my-first-stage');

    const tooLong = await p.raw('POST', '/crm/v3/pipelines/deals', {
      pipelineId: 'p'.repeat(37),
      label: 'Long id',
      displayOrder: 1,
      stages: [dealStage('A', 0, '0.5')],
    });
    assert.equal(tooLong.status, 400);
    const stageTooLong = await p.raw('POST', '/crm/v3/pipelines/deals/my-pipeline/stages', {
      stageId: 's'.repeat(101),
      ...dealStage('Long stage id', 5, '0.5'),
    });
    assert.equal(stageTooLong.status, 400);
  });
});

describe('pipeline stages API', () => {
  it('creates, lists, gets, PATCHes (metadata merged), PUTs (replaced) and orders stages', async () => {
    const p = portal();
    const pipeline = await p.pipelines.create(
      'deals',
      {
        label: 'Stage CRUD',
        displayOrder: 1,
        stages: [dealStage('First', 0, '0.1'), dealStage('Last', 5, '1.0')],
      },
      p.wire(),
    );

    const createdInfo = await p.stages.createWithHttpInfo(
      'deals',
      pipeline.id,
      { label: 'Middle', displayOrder: 2, metadata: { probability: '0.5' } },
      p.wire(),
    );
    assert.equal(createdInfo.httpStatusCode, 201);
    const middle = createdInfo.data;
    const rawMiddle = p.lastJson<WireStage>();
    assert.match(middle.id, NUMERIC_ID);
    assert.ok(!pipeline.stages.some((s) => s.id === middle.id));
    assert.equal(middle.label, 'Middle');
    assert.equal(middle.displayOrder, 2);
    assert.deepEqual(middle.metadata, { probability: '0.5', isClosed: 'false' });
    assert.equal(middle.writePermissions, 'CRM_PERMISSIONS_ENFORCEMENT');
    assert.equal(middle.archived, false);

    await p.stages.getById('deals', pipeline.id, middle.id, p.wire());
    assert.deepEqual(p.lastJson<WireStage>(), rawMiddle, 'create returns the stored stage');

    let list = await p.stages.getAll('deals', pipeline.id, p.wire());
    assert.deepEqual(
      list.results.map((s) => s.label),
      ['First', 'Middle', 'Last'],
    );

    // PATCH: only the fields sent change.
    const renamed = await p.stages.update(
      'deals',
      pipeline.id,
      middle.id,
      { label: 'Middle (renamed)' },
      p.wire(),
    );
    assert.equal(renamed.label, 'Middle (renamed)');
    assert.equal(renamed.displayOrder, 2);
    assert.deepEqual(renamed.metadata, { probability: '0.5', isClosed: 'false' });

    const closing = await p.stages.update(
      'deals',
      pipeline.id,
      middle.id,
      { metadata: { probability: num(1) } },
      p.wire(),
    );
    assert.equal(closing.label, 'Middle (renamed)');
    assert.deepEqual(closing.metadata, { probability: '1.0', isClosed: 'true' });

    const moved = await p.stages.update(
      'deals',
      pipeline.id,
      middle.id,
      { displayOrder: 9, metadata: {} },
      p.wire(),
    );
    assert.deepEqual(
      moved.metadata,
      { probability: '1.0', isClosed: 'true' },
      'an empty metadata patch keeps it',
    );
    list = await p.stages.getAll('deals', pipeline.id, p.wire());
    assert.deepEqual(
      list.results.map((s) => s.label),
      ['First', 'Last', 'Middle (renamed)'],
    );

    // PUT: the whole stage definition is replaced.
    const replaced = await p.stages.replace(
      'deals',
      pipeline.id,
      middle.id,
      { label: 'Middle', displayOrder: 3, metadata: { probability: '1' } },
      p.wire(),
    );
    assert.equal(replaced.id, middle.id);
    assert.equal(replaced.label, 'Middle');
    assert.equal(replaced.displayOrder, 3);
    assert.deepEqual(replaced.metadata, { probability: '1.0', isClosed: 'true' });
    assert.equal(replaced.createdAt.getTime(), middle.createdAt.getTime());
    await expectApiError(
      p.stages.replace(
        'deals',
        pipeline.id,
        middle.id,
        { label: 'Middle', displayOrder: 3, metadata: {} },
        p.wire(),
      ),
      400,
      'must specify probability when writing a dealstage',
    );

    const fetched = await p.pipelines.getById('deals', pipeline.id, p.wire());
    assert.deepEqual(
      fetched.stages.map((s) => [s.label, s.displayOrder]),
      [
        ['First', 0],
        ['Middle', 3],
        ['Last', 5],
      ],
    );
  });

  it('merges ticket stage metadata on PATCH and resets it on PUT', async () => {
    const p = portal();
    const pipeline = await p.pipelines.create(
      'tickets',
      {
        label: 'Ticket stages',
        displayOrder: 1,
        stages: [
          { label: 'Waiting', displayOrder: 0, metadata: { ticketState: 'OPEN' } },
          { label: 'Solved', displayOrder: 1, metadata: { ticketState: 'CLOSED' } },
        ],
      },
      p.wire(),
    );
    const waiting = findStage(pipeline, 'Waiting');
    const closed = await p.stages.update(
      'tickets',
      pipeline.id,
      waiting.id,
      { metadata: { ticketState: 'CLOSED' } },
      p.wire(),
    );
    assert.equal(closed.label, 'Waiting');
    assert.deepEqual(closed.metadata, { ticketState: 'CLOSED' });
    const relabelled = await p.stages.update(
      'tickets',
      pipeline.id,
      waiting.id,
      { label: 'On hold' },
      p.wire(),
    );
    assert.deepEqual(relabelled.metadata, { ticketState: 'CLOSED' });
    const reset = await p.stages.replace(
      'tickets',
      pipeline.id,
      waiting.id,
      { label: 'Waiting', displayOrder: 0, metadata: {} },
      p.wire(),
    );
    assert.deepEqual(reset.metadata, { ticketState: 'OPEN' });
  });

  it('rejects stage labels that already exist in the pipeline, case-insensitively', async () => {
    const p = portal();
    const pipeline = await createDealPipeline(p, 'Unique labels');
    const dup = await expectApiError(
      p.stages.create('deals', pipeline.id, dealStage('WON', 7, '1.0'), p.wire()),
      400,
      /^Stage with label WON already exists$/i,
    );
    assert.equal(dup.subCategory, 'PipelineError.STAGE_LABEL_EXISTS');
    const open = findStage(pipeline, 'Open');
    const renameDup = await expectApiError(
      p.stages.update('deals', pipeline.id, open.id, { label: 'lost' }, p.wire()),
      400,
      /^Stage with label lost already exists$/i,
    );
    assert.equal(renameDup.subCategory, 'PipelineError.STAGE_LABEL_EXISTS');
    const inCreate = await expectApiError(
      p.pipelines.create(
        'deals',
        {
          label: 'Twins',
          displayOrder: 1,
          stages: [dealStage('Same', 0, '0.1'), dealStage('same', 1, '0.2')],
        },
        p.wire(),
      ),
      400,
      /^Stage with label same already exists$/i,
    );
    assert.equal(inCreate.subCategory, 'PipelineError.STAGE_LABEL_EXISTS');
    // Labels are compared after trimming (FIDELITY §5).
    const padded = await expectApiError(
      p.stages.create('deals', pipeline.id, dealStage('  open  ', 8, '0.3'), p.wire()),
      400,
      /^Stage with label .+ already exists$/,
    );
    assert.equal(padded.subCategory, 'PipelineError.STAGE_LABEL_EXISTS');
    // A label only has to be unique within its own pipeline.
    const elsewhere = await p.stages.create('deals', 'default', dealStage('Open', 9, '0.3'), p.wire());
    assert.equal(elsewhere.label, 'Open');
  });

  it('DELETE archives a stage: 404 afterwards, gone from lists, restorable with PATCH {archived:false}', async () => {
    const p = portal();
    const pipeline = await createDealPipeline(p, 'Stage delete');
    const open = findStage(pipeline, 'Open');
    const rawOpen = must(
      p.lastJson<WirePipeline>().stages.find((s) => s.id === open.id),
      'raw Open stage',
    );

    const deleted = await p.stages.archiveWithHttpInfo('deals', pipeline.id, open.id, p.wire());
    assert.equal(deleted.httpStatusCode, 204);

    const notFound = await expectApiError(p.stages.getById('deals', pipeline.id, open.id, p.wire()), 404);
    assert.equal(notFound.category, 'OBJECT_NOT_FOUND');
    const stages = await p.stages.getAll('deals', pipeline.id, p.wire());
    assert.deepEqual(
      stages.results.map((s) => s.label),
      ['Won', 'Lost'],
    );
    const parent = await p.pipelines.getById('deals', pipeline.id, p.wire());
    assert.ok(!parent.stages.some((s) => s.id === open.id), 'the archived stage drops out of its pipeline');

    const restored = await p.stages.update('deals', pipeline.id, open.id, { archived: false }, p.wire());
    const rawRestored = p.lastJson<WireStage>();
    assert.equal(restored.archived, false);
    assert.equal(restored.archivedAt, undefined);
    assert.deepEqual(
      [rawRestored.id, rawRestored.label, rawRestored.displayOrder, rawRestored.metadata],
      [rawOpen.id, rawOpen.label, rawOpen.displayOrder, rawOpen.metadata],
    );
    await p.stages.getById('deals', pipeline.id, open.id, p.wire());
    const back = await p.stages.getAll('deals', pipeline.id, p.wire());
    assert.deepEqual(
      back.results.map((s) => s.label),
      ['Open', 'Won', 'Lost'],
    );
  });

  it('keeps pipelines valid: at least one stage, a CLOSED ticket stage, no negative order, at most 100 stages', async () => {
    const p = portal();
    const pipeline = await p.pipelines.create(
      'deals',
      {
        label: 'Two stages',
        displayOrder: 1,
        stages: [dealStage('One', 0, '0.5'), dealStage('Two', 1, '1.0')],
      },
      p.wire(),
    );
    const [one, two] = pipeline.stages;
    await p.stages.archive('deals', pipeline.id, must(one, 'stage One').id, p.wire());
    await expectApiError(
      p.stages.archive('deals', pipeline.id, must(two, 'stage Two').id, p.wire()),
      400,
      'Pipeline must have at least one stage',
    );
    await expectApiError(
      p.stages.update('deals', pipeline.id, must(two, 'stage Two').id, { archived: true }, p.wire()),
      400,
    );
    await expectApiError(
      p.stages.create('deals', pipeline.id, dealStage('Negative', -1, '0.5'), p.wire()),
      400,
    );
    await expectApiError(
      p.pipelines.create(
        'tickets',
        {
          label: 'Never closes',
          displayOrder: 1,
          stages: [{ label: 'Open', displayOrder: 0, metadata: { ticketState: 'OPEN' } }],
        },
        p.wire(),
      ),
      400,
    );
    const tooMany = Array.from({ length: 101 }, (_, i) => dealStage(`Stage ${i}`, i, '0.5'));
    await expectApiError(
      p.pipelines.create('deals', { label: 'Too many', displayOrder: 1, stages: tooMany }, p.wire()),
      400,
    );
    const hundred = await p.pipelines.create(
      'deals',
      { label: 'Exactly 100', displayOrder: 1, stages: tooMany.slice(0, 100) },
      p.wire(),
    );
    assert.equal(hundred.stages.length, 100);
  });

  it('answers 404 for a stage id that belongs to another pipeline', async () => {
    const p = portal();
    const pipeline = await createDealPipeline(p, 'Elsewhere');
    const body = await expectApiError(p.stages.getById('deals', pipeline.id, 'closedwon', p.wire()), 404);
    assert.equal(body.category, 'OBJECT_NOT_FOUND');
    await expectApiError(p.stages.getAll('deals', 'no-such-pipeline', p.wire()), 404);
  });
});

describe('audit', () => {
  it('records pipeline CREATE/UPDATE/DELETE newest first, with the state after each change', async () => {
    const p = portal();
    const created = await createDealPipeline(p, 'Audited', 1);
    await p.pipelines.update(
      'deals',
      created.id,
      { label: 'Audited (renamed)' },
      undefined,
      undefined,
      p.wire(),
    );
    await p.pipelines.update('deals', created.id, { displayOrder: 9 }, undefined, undefined, p.wire());
    await p.pipelines.archive('deals', created.id, undefined, undefined, p.wire());

    const audit = await p.audits.getAudit('deals', created.id, p.wire());
    const raw = p.lastJson<WireCollection<WireAudit>>();
    assert.deepEqual(
      audit.results.map((e) => e.action),
      ['DELETE', 'UPDATE', 'UPDATE', 'CREATE'],
      'audit survives the delete and lists newest first',
    );
    const portalId = must(audit.results[0], 'audit entry').portalId;
    assert.ok(Number.isInteger(portalId));
    for (const [i, entry] of raw.results.entries()) {
      assert.equal(entry.portalId, portalId);
      assert.equal(entry.identifier, `${portalId}:${created.id}`);
      assert.ok(Number.isInteger(entry.fromUserId), `results[${i}].fromUserId is an integer`);
      assert.equal(typeof entry.message, 'string');
      assertIsoTimestamp(entry.timestamp, `results[${i}].timestamp`);
    }
    const times = raw.results.map((e) => Date.parse(must(e.timestamp, 'timestamp')));
    for (let i = 1; i < times.length; i += 1) {
      assert.ok(must(times[i - 1], 't') >= must(times[i], 't'), 'timestamps never increase down the list');
    }
    const sdkFirst = must(audit.results[0], 'SDK audit entry');
    assert.ok(sdkFirst.timestamp instanceof Date && !Number.isNaN(sdkFirst.timestamp.getTime()));
    assert.equal(typeof sdkFirst.rawObject, 'string', 'the SDK hands rawObject through as a string');

    const states = raw.results.map((e, i) => parseRawObject(e, `results[${i}].rawObject`));
    const [deletedState, movedState, renamedState, createdState] = states;
    // rawObject is HubSpot's internal model: pipelineId, version, active, epoch-ms times.
    assert.deepEqual(
      [createdState?.pipelineId, createdState?.label, createdState?.displayOrder, createdState?.version],
      [created.id, 'Audited', 1, 1],
    );
    assert.deepEqual([renamedState?.label, renamedState?.displayOrder], ['Audited (renamed)', 1]);
    assert.deepEqual([movedState?.label, movedState?.displayOrder], ['Audited (renamed)', 9]);
    assert.equal(deletedState?.active, false);
    assert.equal(deletedState?.version, 4);
    assert.equal(typeof deletedState?.updatedAt, 'number');
  });

  it('reads a long audit that arrives gzip-compressed, as the SDK asks for it', async () => {
    const p = portal();
    const created = await createDealPipeline(p, 'Long audit');
    const renames = 150;
    for (let i = 0; i < renames; i++) {
      await p.pipelines.update(
        'deals',
        created.id,
        { label: `Long audit ${i}` },
        undefined,
        undefined,
        p.wire(),
      );
    }
    const audit = await p.audits.getAudit('deals', created.id, p.wire());
    const exchange = must(p.exchanges[p.exchanges.length - 1], 'audit exchange');
    assert.ok(exchange.text.length >= COMPRESS_FROM_CHARS, `${exchange.text.length} characters`);
    assert.equal(exchange.header('content-encoding'), 'gzip');
    assert.equal(audit.results.length, renames + 1);
    assert.equal(
      JSON.parse(must(audit.results[0], 'newest').rawObject as string).label,
      `Long audit ${renames - 1}`,
    );
  });

  it('records stage history, also through the SDK path with a literal {pipelineId}', async () => {
    const p = portal();
    const pipeline = await createDealPipeline(p, 'Stage audit');
    const seeded = findStage(pipeline, 'Open');
    const stage = await p.stages.create('deals', pipeline.id, dealStage('Audited stage', 3, '0.4'), p.wire());
    await p.stages.update('deals', pipeline.id, stage.id, { metadata: { probability: '0.6' } }, p.wire());
    await p.stages.replace(
      'deals',
      pipeline.id,
      stage.id,
      { label: 'Audited stage v2', displayOrder: 4, metadata: { probability: '0.7' } },
      p.wire(),
    );
    await p.stages.archive('deals', pipeline.id, stage.id, p.wire());

    // SDK 13.5 requests /crm/v3/pipelines/deals/%7BpipelineId%7D/stages/<id>/audit.
    const viaSdk = await p.stageAudits.getAudit('deals', stage.id, p.wire());
    const sdkExchange = must(p.exchanges[p.exchanges.length - 1], 'stage audit exchange');
    assert.match(sdkExchange.url, /\/%7BpipelineId%7D\/stages\//);
    const rawSdk = p.lastJson<WireCollection<WireAudit>>();
    assert.deepEqual(
      viaSdk.results.map((e) => e.action),
      ['DELETE', 'UPDATE', 'UPDATE', 'CREATE'],
    );
    const portalId = must(viaSdk.results[0], 'entry').portalId;
    for (const entry of rawSdk.results) {
      assert.equal(entry.identifier, `${portalId}:${stage.id}`);
      assert.ok(Number.isInteger(entry.fromUserId));
    }
    const states = rawSdk.results.map((e, i) => parseRawObject(e, `results[${i}].rawObject`));
    assert.deepEqual(
      states.map((s) => [s.label, isRecord(s.metadata) ? s.metadata.probability : undefined]),
      [
        ['Audited stage v2', '0.7'],
        ['Audited stage v2', '0.7'],
        ['Audited stage', '0.6'],
        ['Audited stage', '0.4'],
      ],
    );
    assert.equal(states[0]?.active, false);
    assert.equal(states[0]?.stageId, stage.id);

    // The same history through the documented path with the real pipeline id.
    const direct = await p.raw<WireCollection<WireAudit>>(
      'GET',
      `/crm/v3/pipelines/deals/${pipeline.id}/stages/${stage.id}/audit`,
    );
    assert.deepEqual(direct.json, rawSdk);

    // A stage created with its pipeline has a CREATE entry too.
    const seededAudit = await p.stageAudits.getAuditWithHttpInfo('deals', seeded.id, p.wire());
    assert.equal(seededAudit.httpStatusCode, 200);
    const oldest = must(seededAudit.data.results[seededAudit.data.results.length - 1], 'oldest entry');
    assert.equal(oldest.action, 'CREATE');
    assert.equal(oldest.identifier, `${portalId}:${seeded.id}`);

    // Pipeline audit through WithHttpInfo as well.
    const pipelineAudit = await p.audits.getAuditWithHttpInfo('deals', pipeline.id, p.wire());
    assert.equal(pipelineAudit.httpStatusCode, 200);
    assert.equal(pipelineAudit.data.results[pipelineAudit.data.results.length - 1]?.action, 'CREATE');
  });
});

describe('errors through the SDK', () => {
  it('reports 404 as ApiException with a valid HubSpot error body', async () => {
    const p = portal();
    const body = await expectApiError(p.pipelines.getById('deals', 'does-not-exist', p.wire()), 404);
    assert.equal(body.category, 'OBJECT_NOT_FOUND');
    await expectApiError(p.stages.getById('deals', 'default', 'does-not-exist', p.wire()), 404);
    await expectApiError(p.pipelines.archive('deals', 'does-not-exist', undefined, undefined, p.wire()), 404);
    await expectApiError(
      p.stages.update('deals', 'default', 'does-not-exist', { label: 'x' }, p.wire()),
      404,
    );
    await expectApiError(p.stages.archive('tickets', '0', 'does-not-exist', p.wire()), 404);

    const raw = await rawRequest(server.url, 'GET', '/crm/v3/pipelines/deals/does-not-exist', {
      token: p.token,
    });
    assert.equal(raw.status, 404);
    assert.equal(raw.headers.get('content-type'), 'application/json;charset=utf-8');
  });

  it('validates deal stage probabilities and pipeline shape with HubSpot messages', async () => {
    const p = portal();
    const missing = await expectApiError(
      p.pipelines.create(
        'deals',
        { label: 'No probability', displayOrder: 1, stages: [{ label: 'A', displayOrder: 0, metadata: {} }] },
        p.wire(),
      ),
      400,
      'must specify probability when writing a dealstage',
    );
    assert.equal(missing.category, 'VALIDATION_ERROR');
    await expectApiError(
      p.pipelines.create(
        'deals',
        {
          label: 'Too likely',
          displayOrder: 1,
          stages: [{ label: 'A', displayOrder: 0, metadata: { probability: num(1.5) } }],
        },
        p.wire(),
      ),
      400,
      'dealstage probability is not valid, must be between 0.0 and 1.0 (inclusive)',
    );
    await expectApiError(
      p.stages.create(
        'deals',
        'default',
        { label: 'No probability', displayOrder: 9, metadata: {} },
        p.wire(),
      ),
      400,
      'must specify probability when writing a dealstage',
    );
    await expectApiError(
      p.pipelines.create('deals', { label: 'Empty', displayOrder: 1, stages: [] }, p.wire()),
      400,
      'Pipeline must have at least one stage',
    );
    await expectApiError(
      createDealPipeline(p, 'Sales Pipeline'),
      400,
      'An active pipeline with label Sales Pipeline already exists.',
    );
    const list = await p.pipelines.getAll('deals', p.wire());
    assert.deepEqual(
      list.results.map((x) => x.id),
      ['default'],
      'failed writes leave nothing behind',
    );
    const stages = await p.stages.getAll('deals', 'default', p.wire());
    assert.equal(stages.results.length, HUBSPOT_DEFAULTS.deals.stages.length);
  });
});

describe('portal isolation (open auth)', () => {
  it('still needs some bearer token: 401 without one', async () => {
    const res = await rawRequest<{ category: string; message: string }>(
      server.url,
      'GET',
      '/crm/v3/pipelines/deals',
    );
    assert.equal(res.status, 401);
    assert.equal(res.json.category, 'INVALID_AUTHENTICATION');
    assert.ok(res.json.message.startsWith('Authentication credentials not found.'), res.json.message);
    assert.equal(res.headers.get('x-hubspot-auth-failure'), '401 Unauthorized');
  });

  it('never lets one token see or change another token’s pipelines', async () => {
    const alice = portal();
    const bob = portal();
    const secret = await createDealPipeline(alice, 'Alice only');

    const bobList = await bob.pipelines.getAll('deals', bob.wire());
    assert.deepEqual(
      bobList.results.map((x) => x.id),
      ['default'],
    );
    await expectApiError(bob.pipelines.getById('deals', secret.id, bob.wire()), 404);
    await expectApiError(bob.stages.getAll('deals', secret.id, bob.wire()), 404);
    await expectApiError(
      bob.pipelines.update('deals', secret.id, { label: 'Stolen' }, undefined, undefined, bob.wire()),
      404,
    );
    await expectApiError(bob.pipelines.archive('deals', secret.id, undefined, undefined, bob.wire()), 404);

    await bob.pipelines.update(
      'deals',
      'default',
      { label: 'Bob pipeline' },
      undefined,
      undefined,
      bob.wire(),
    );
    const aliceDefault = await alice.pipelines.getById('deals', 'default', alice.wire());
    assert.equal(aliceDefault.label, 'Sales Pipeline');
    const aliceList = await alice.pipelines.getAll('deals', alice.wire());
    assert.deepEqual(
      aliceList.results.map((x) => x.label),
      ['Sales Pipeline', 'Alice only'],
    );
    // Bob may use the label Alice already has.
    const bobsOwn = await createDealPipeline(bob, 'Alice only');
    assert.equal(bobsOwn.label, 'Alice only');
  });
});

describe('token auth mode', () => {
  let secured: RunningStageline;

  before(async () => {
    secured = await startStageline({ host: '127.0.0.1', port: 0, auth: 'tokens', database: testDatabase() });
  });

  after(async () => {
    await secured?.close();
  });

  it('answers 401 INVALID_AUTHENTICATION without a token or with an unknown one', async () => {
    const res = await rawRequest<{ category: string; message: string }>(
      secured.url,
      'GET',
      '/crm/v3/pipelines/deals',
    );
    assert.equal(res.status, 401);
    assert.equal(res.json.category, 'INVALID_AUTHENTICATION');
    assert.ok(res.json.message.startsWith('Authentication credentials not found.'), res.json.message);
    assert.equal(res.headers.get('x-hubspot-auth-failure'), '401 Unauthorized');

    const anonymous = openPortal(secured.url, undefined);
    const noToken = await expectApiError(anonymous.pipelines.getAll('deals', anonymous.wire()), 401);
    assert.equal(noToken.category, 'INVALID_AUTHENTICATION');

    const bogus = openPortal(secured.url, 'not-a-real-token');
    const unknown = await expectApiError(
      bogus.pipelines.create(
        'deals',
        {
          label: 'Nope',
          displayOrder: 1,
          stages: [dealStage('A', 0, '0.5')],
        },
        bogus.wire(),
      ),
      401,
    );
    assert.equal(unknown.category, 'INVALID_AUTHENTICATION');
  });

  it('answers 403 MISSING_SCOPES with the required granular scopes, per object type', async () => {
    const portalId = 4_242_001;
    const readerToken = await secured.issueToken({
      portalId,
      scopes: ['crm.objects.deals.read'],
      userId: 71,
    });
    const reader = openPortal(secured.url, readerToken);
    const list = await reader.pipelines.getAll('deals', reader.wire());
    assert.ok(list.results.some((x) => x.id === 'default'));
    await reader.stages.getAll('0-3', 'default', reader.wire());

    const denied = await expectApiError(
      createDealPipeline(reader, 'Not allowed'),
      403,
      "This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.",
    );
    assert.equal(denied.category, 'MISSING_SCOPES');
    const required = must(
      denied.errors?.[0]?.context?.requiredGranularScopes,
      'errors[0].context.requiredGranularScopes',
    );
    assert.ok(required.includes('crm.schemas.deals.write'), `required scopes: ${required.join(', ')}`);

    // Deal scopes say nothing about tickets.
    const ticketsDenied = await expectApiError(reader.pipelines.getAll('tickets', reader.wire()), 403);
    assert.equal(ticketsDenied.category, 'MISSING_SCOPES');

    // A writer in the same portal can create; the reader then sees it; the audit names portal and user.
    const writerToken = await secured.issueToken({
      portalId,
      scopes: ['crm.schemas.deals.write'],
      userId: 72,
    });
    const writer = openPortal(secured.url, writerToken);
    const created = await createDealPipeline(writer, 'Written with scope');
    const seen = await reader.pipelines.getById('deals', created.id, reader.wire());
    assert.equal(seen.label, 'Written with scope');
    const audit = await writer.audits.getAudit('deals', created.id, writer.wire());
    const entry = must(audit.results[0], 'audit entry');
    assert.equal(entry.action, 'CREATE');
    assert.equal(entry.portalId, portalId);
    assert.equal(entry.fromUserId, 72);
    assert.equal(entry.identifier, `${portalId}:${created.id}`);

    // The legacy `tickets` scope allows ticket pipeline writes.
    const ticketToken = await secured.issueToken({ portalId, scopes: ['tickets'], userId: 73 });
    const ticketWriter = openPortal(secured.url, ticketToken);
    const ticketPipeline = await ticketWriter.pipelines.create(
      'tickets',
      {
        label: 'Scoped tickets',
        displayOrder: 1,
        stages: [{ label: 'Closed', displayOrder: 0, metadata: { ticketState: 'CLOSED' } }],
      },
      ticketWriter.wire(),
    );
    assert.equal(ticketPipeline.label, 'Scoped tickets');

    // Another portal sees none of it.
    const strangerToken = await secured.issueToken({
      portalId: 4_242_002,
      scopes: ['crm.schemas.deals.write'],
    });
    const stranger = openPortal(secured.url, strangerToken);
    await expectApiError(stranger.pipelines.getById('deals', created.id, stranger.wire()), 404);
  });
});

it(
  'validated the captured response bodies against the official OpenAPI schemas',
  { skip: specSkipReason },
  () => {
    assert.ok(
      schemaValidationCount() > 100,
      `only ${schemaValidationCount()} bodies were validated against the official schemas`,
    );
  },
);
