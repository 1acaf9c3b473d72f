// End-to-end over plain HTTP: the date-versioned Pipelines paths `/crm/pipelines/2025-09/…`,
// `/crm/pipelines/2026-03/…` and `/crm/pipelines/2026-09/…`.
//
// Every response goes through `checkExchange` (test/helpers/wire.ts): for 2026-03 and 2026-09 the
// operation, its documented status and its response schema are looked up in the official spec file
// of that version, and the body is validated against that schema (2025-09 has no file here and is
// checked against v3). When the shared reference folder is absent the schema checks are skipped and
// the last tests of this file say so.
//
// They serve the same operations and the same portal data as v3; from 2026-09 the
// validate…BeforeDelete flags default to true (FIDELITY §1, §5).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { startStageline, type RunningStageline } from '../../src/index.js';
import { HUBSPOT_DEFAULTS } from '../helpers/hubspot-defaults.js';
import { schemaValidationCount, specSkipReasonFor } from '../helpers/openapi.js';
import { assertStageInUse, auditSnapshot, byNumericId, type WireRecord } from '../helpers/records.js';
import { must, randomToken, rawRequest, type RawResponse } from '../helpers/wire.js';
import type { WireAudit, WireCollection, WireError, WirePipeline, WireStage } from '../helpers/wire-types.js';

let server: RunningStageline;

before(async () => {
  server = await startStageline({ host: '127.0.0.1', port: 0 });
});

after(async () => {
  await server?.close();
});

type Version = 'v3' | '2025-09' | '2026-03' | '2026-09';

const prefix = (version: Version): string =>
  version === 'v3' ? '/crm/v3/pipelines' : `/crm/pipelines/${version}`;

interface Client {
  token: string;
  /** A checked request (see checkExchange) to `<prefix of version><path>`. */
  call<T = unknown>(version: Version, method: string, path: string, body?: unknown): Promise<RawResponse<T>>;
  /** A checked request to any path (the objects API). */
  raw<T = unknown>(method: string, path: string, body?: unknown): Promise<RawResponse<T>>;
}

function client(): Client {
  const token = randomToken();
  return {
    token,
    call: (version, method, path, body) =>
      rawRequest(server.url, method, `${prefix(version)}${path}`, { token, body }),
    raw: (method, path, body) => rawRequest(server.url, method, path, { token, body }),
  };
}

function expectStatus(res: RawResponse, status: number, what: string): void {
  assert.equal(res.status, status, `${what}: expected ${status}, got ${res.status} ${res.text}`);
}

const dealStages = [
  { label: 'Lead', displayOrder: 0, metadata: { probability: '0.1' } },
  { label: 'Demo', displayOrder: 1, metadata: { probability: 0.5 } },
  { label: 'Signed', displayOrder: 2, metadata: { probability: '1.0' } },
];

async function createDealPipeline(c: Client, version: Version, type: string, label: string) {
  const res = await c.call<WirePipeline>(version, 'POST', `/${type}`, {
    label,
    displayOrder: 2,
    stages: dealStages,
  });
  expectStatus(res, 201, `create ${label} via ${version}`);
  return res.json;
}

async function createDeal(c: Client, dealstage: string): Promise<string> {
  const res = await c.raw<WireRecord>('POST', '/crm/v3/objects/deals', { properties: { dealstage } });
  expectStatus(res, 201, 'create deal');
  return res.json.id;
}

async function createTicket(c: Client, stage: string): Promise<string> {
  const res = await c.raw<WireRecord>('POST', '/crm/v3/objects/tickets', {
    properties: { hs_pipeline_stage: stage },
  });
  expectStatus(res, 201, 'create ticket');
  return res.json.id;
}

async function recordProps(c: Client, type: string, id: string, properties: string[]) {
  const res = await c.raw<WireRecord>(
    'GET',
    `/crm/v3/objects/${type}/${id}?properties=${properties.join(',')}`,
  );
  expectStatus(res, 200, `get ${type} ${id}`);
  return res.json.properties;
}

for (const version of ['2026-03', '2026-09'] as const) {
  describe(`${version}: the 14 operations`, () => {
    it('creates, reads, replaces, patches and deletes pipelines and stages, by type name and type id', async () => {
      const c = client();

      // List and get the seeded pipeline, by name and by id: the same bodies as v3.
      const v3List = await c.call<WireCollection<WirePipeline>>('v3', 'GET', '/deals');
      const list = await c.call<WireCollection<WirePipeline>>(version, 'GET', '/deals');
      expectStatus(list, 200, 'list deals');
      assert.deepEqual(list.json, v3List.json);
      assert.deepEqual(
        list.json.results.map((p) => p.id),
        [HUBSPOT_DEFAULTS.deals.id],
      );
      const byTypeId = await c.call<WireCollection<WirePipeline>>(version, 'GET', '/0-3');
      assert.deepEqual(byTypeId.json, list.json, '0-3 is deals');
      const tickets = await c.call<WireCollection<WirePipeline>>(version, 'GET', '/0-5');
      assert.deepEqual(
        tickets.json.results.map((p) => [p.id, p.label]),
        [[HUBSPOT_DEFAULTS.tickets.id, HUBSPOT_DEFAULTS.tickets.label]],
      );
      const def = await c.call<WirePipeline>(version, 'GET', '/deals/default');
      assert.deepEqual(def.json, must(list.json.results[0], 'default'));

      // Create (by type id), then read by name.
      const created = await createDealPipeline(c, version, '0-3', `Created via ${version}`);
      assert.deepEqual(
        created.stages.map((s) => [s.label, s.metadata.probability]),
        [
          ['Lead', '0.1'],
          ['Demo', '0.5'],
          ['Signed', '1.0'],
        ],
      );
      const got = await c.call<WirePipeline>(version, 'GET', `/deals/${created.id}`);
      assert.deepEqual(got.json, created);
      const [lead, demo, signed] = created.stages as [WireStage, WireStage, WireStage];

      // PUT: keep "Lead" by stageId, drop the rest, add one.
      const put = await c.call<WirePipeline>(version, 'PUT', `/deals/${created.id}`, {
        label: `Replaced via ${version}`,
        displayOrder: 3,
        stages: [
          { stageId: lead.id, label: 'Lead', displayOrder: 0, metadata: { probability: '0.2' } },
          { label: 'Closing', displayOrder: 1, metadata: { probability: '0.9' } },
        ],
      });
      expectStatus(put, 200, 'PUT pipeline');
      assert.equal(put.json.stages[0]?.id, lead.id);
      assert.equal(put.json.stages[0]?.metadata.probability, '0.2');
      assert.equal(put.json.stages.length, 2);
      expectStatus(
        await c.call(version, 'GET', `/deals/${created.id}/stages/${demo.id}`),
        404,
        'removed stage',
      );
      expectStatus(
        await c.call(version, 'GET', `/0-3/${created.id}/stages/${signed.id}`),
        404,
        'removed stage',
      );

      // PATCH the pipeline (by type id).
      const patched = await c.call<WirePipeline>(version, 'PATCH', `/0-3/${created.id}`, {
        label: 'Patched',
      });
      expectStatus(patched, 200, 'PATCH pipeline');
      assert.equal(patched.json.label, 'Patched');
      assert.equal(patched.json.displayOrder, 3);

      // Stages: list, create, get, replace, patch, audit, delete.
      const stages = await c.call<WireCollection<WireStage>>(version, 'GET', `/deals/${created.id}/stages`);
      assert.deepEqual(stages.json.results, patched.json.stages);
      const stage = await c.call<WireStage>(version, 'POST', `/deals/${created.id}/stages`, {
        label: 'Extra',
        displayOrder: 5,
        metadata: { probability: 0.3 },
      });
      expectStatus(stage, 201, 'create stage');
      assert.deepEqual(stage.json.metadata, { probability: '0.3', isClosed: 'false' });
      const stagePath = `/deals/${created.id}/stages/${stage.json.id}`;
      const stageGot = await c.call<WireStage>(version, 'GET', stagePath);
      assert.deepEqual(stageGot.json, stage.json);
      const replacedStage = await c.call<WireStage>(version, 'PUT', stagePath, {
        label: 'Extra replaced',
        displayOrder: 6,
        metadata: { probability: '1.0' },
      });
      expectStatus(replacedStage, 200, 'PUT stage');
      assert.deepEqual(replacedStage.json.metadata, { probability: '1.0', isClosed: 'true' });
      const patchedStage = await c.call<WireStage>(
        version,
        'PATCH',
        `/0-3/${created.id}/stages/${stage.json.id}`,
        {
          label: 'Extra patched',
          metadata: {},
        },
      );
      expectStatus(patchedStage, 200, 'PATCH stage');
      assert.equal(patchedStage.json.label, 'Extra patched');
      assert.equal(patchedStage.json.displayOrder, 6);
      expectStatus(await c.call(version, 'DELETE', stagePath), 204, 'DELETE empty stage');
      expectStatus(await c.call(version, 'GET', stagePath), 404, 'deleted stage');
      const stageAudit = await c.call<WireCollection<WireAudit>>(version, 'GET', `${stagePath}/audit`);
      expectStatus(stageAudit, 200, 'stage audit');
      assert.deepEqual(
        stageAudit.json.results.map((e) => e.action),
        ['DELETE', 'UPDATE', 'UPDATE', 'CREATE'],
      );

      // Pipeline audit, newest first; then delete the (empty) pipeline: 204, then 404, audit kept.
      const audit = await c.call<WireCollection<WireAudit>>(version, 'GET', `/deals/${created.id}/audit`);
      // PUT, PATCH, and each of the four stage changes (a stage change is a pipeline change).
      assert.deepEqual(
        audit.json.results.map((e) => e.action),
        ['UPDATE', 'UPDATE', 'UPDATE', 'UPDATE', 'UPDATE', 'UPDATE', 'CREATE'],
      );
      expectStatus(await c.call(version, 'DELETE', `/0-3/${created.id}`), 204, 'DELETE pipeline');
      const gone = await c.call<WireError>(version, 'GET', `/deals/${created.id}`);
      expectStatus(gone, 404, 'deleted pipeline');
      assert.equal(gone.json.category, 'OBJECT_NOT_FOUND');
      const afterDelete = await c.call<WireCollection<WireAudit>>(
        version,
        'GET',
        `/deals/${created.id}/audit`,
      );
      assert.equal(afterDelete.json.results[0]?.action, 'DELETE');
      const relisted = await c.call<WireCollection<WirePipeline>>(version, 'GET', '/deals');
      assert.deepEqual(
        relisted.json.results.map((p) => p.id),
        ['default'],
      );

      // Tickets by name and id.
      const helpdesk = await c.call<WirePipeline>(version, 'POST', '/tickets', {
        label: 'Helpdesk',
        displayOrder: 1,
        stages: [
          { label: 'Open', displayOrder: 0, metadata: {} },
          { label: 'Done', displayOrder: 1, metadata: { ticketState: 'CLOSED' } },
        ],
      });
      expectStatus(helpdesk, 201, 'create ticket pipeline');
      const viaId = await c.call<WirePipeline>(version, 'GET', `/0-5/${helpdesk.json.id}`);
      assert.deepEqual(viaId.json, helpdesk.json);

      // Errors carry HubSpot's envelope (validated against the version's Error schema).
      const bad = await c.call<WireError>(version, 'POST', '/deals', {
        label: 'No probability',
        displayOrder: 1,
        stages: [{ label: 'A', displayOrder: 0, metadata: {} }],
      });
      expectStatus(bad, 400, 'invalid create');
      assert.equal(bad.json.message, 'must specify probability when writing a dealstage');
      const unknownType = await c.call<WireError>(version, 'GET', '/widgets');
      expectStatus(unknownType, 400, 'unknown object type');
    });
  });
}

describe('one portal, every path', () => {
  it('shows data written through v3 on every versioned path and vice versa', async () => {
    const c = client();
    const viaV3 = await createDealPipeline(c, 'v3', 'deals', 'Written via v3');
    for (const version of ['2025-09', '2026-03', '2026-09'] as const) {
      const got = await c.call<WirePipeline>(version, 'GET', `/deals/${viaV3.id}`);
      expectStatus(got, 200, `GET via ${version}`);
      assert.deepEqual(got.json, viaV3, `${version} sees the v3 pipeline`);
      const audit = await c.call<WireCollection<WireAudit>>(version, 'GET', `/deals/${viaV3.id}/audit`);
      const v3Audit = await c.call<WireCollection<WireAudit>>('v3', 'GET', `/deals/${viaV3.id}/audit`);
      assert.deepEqual(audit.json, v3Audit.json);
    }

    const via0926 = await createDealPipeline(c, '2026-09', 'deals', 'Written via 2026-09');
    const seenByV3 = await c.call<WirePipeline>('v3', 'GET', `/deals/${via0926.id}`);
    assert.deepEqual(seenByV3.json, via0926);

    // A PATCH through 2026-03 is what v3 and 2026-09 read next; a stage added via 2025-09 too.
    await c.call('2026-03', 'PATCH', `/deals/${via0926.id}`, { label: 'Renamed via 2026-03' });
    const stage = await c.call<WireStage>('2025-09', 'POST', `/deals/${via0926.id}/stages`, {
      label: 'Added via 2025-09',
      displayOrder: 9,
      metadata: { probability: '0.0' },
    });
    expectStatus(stage, 201, 'create stage via 2025-09');
    const v3Now = await c.call<WirePipeline>('v3', 'GET', `/deals/${via0926.id}`);
    assert.equal(v3Now.json.label, 'Renamed via 2026-03');
    assert.ok(v3Now.json.stages.some((s) => s.id === stage.json.id));
    const lists = await Promise.all(
      (['v3', '2025-09', '2026-03', '2026-09'] as const).map((v) => c.call<unknown>(v, 'GET', '/deals')),
    );
    for (const l of lists) assert.deepEqual(l.json, must(lists[0], 'v3 list').json);
    const auditV3 = await c.call<WireCollection<WireAudit>>('v3', 'GET', `/deals/${via0926.id}/audit`);
    // The rename, then the stage created (a stage change is a pipeline change).
    assert.deepEqual(
      auditV3.json.results.map((e) => e.action),
      ['UPDATE', 'UPDATE', 'CREATE'],
    );

    // Records created through the objects API can sit in a pipeline created through 2026-09.
    const dealId = await createDeal(c, must(via0926.stages[1], 'stage').id);
    const props = await recordProps(c, 'deals', dealId, ['pipeline']);
    assert.equal(props.pipeline, via0926.id);

    // Another portal sees none of it, whichever path it uses.
    const other = client();
    for (const version of ['v3', '2025-09', '2026-03', '2026-09'] as const) {
      expectStatus(
        await other.call(version, 'GET', `/deals/${via0926.id}`),
        404,
        `other portal via ${version}`,
      );
    }
  });

  it('2025-09 smoke: list, get, stage create/patch/delete, audit', async () => {
    const c = client();
    const list = await c.call<WireCollection<WirePipeline>>('2025-09', 'GET', '/tickets');
    expectStatus(list, 200, 'list');
    assert.deepEqual(
      list.json.results.map((p) => p.id),
      ['0'],
    );
    const support = await c.call<WirePipeline>('2025-09', 'GET', '/0-5/0');
    assert.deepEqual(
      support.json.stages.map((s) => s.id),
      HUBSPOT_DEFAULTS.tickets.stages.map((s) => s[0]),
    );
    const stage = await c.call<WireStage>('2025-09', 'POST', '/tickets/0/stages', {
      label: 'Escalated',
      displayOrder: 3,
      metadata: { ticketState: 'OPEN' },
    });
    expectStatus(stage, 201, 'create stage');
    const patched = await c.call<WireStage>('2025-09', 'PATCH', `/tickets/0/stages/${stage.json.id}`, {
      label: 'Escalated!',
      metadata: {},
    });
    expectStatus(patched, 200, 'patch stage');
    expectStatus(
      await c.call('2025-09', 'DELETE', `/tickets/0/stages/${stage.json.id}`),
      204,
      'delete stage',
    );
    const audit = await c.call<WireCollection<WireAudit>>(
      '2025-09',
      'GET',
      `/tickets/0/stages/${stage.json.id}/audit`,
    );
    assert.deepEqual(
      audit.json.results.map((e) => e.action),
      ['DELETE', 'UPDATE', 'CREATE'],
    );
  });
});

/** A deal pipeline (created via v3) with one record in "Lead" and one in "Signed"; "Demo" is empty. */
async function occupiedDeals(c: Client, label: string) {
  const pipeline = await createDealPipeline(c, 'v3', 'deals', label);
  const [lead, demo, signed] = pipeline.stages.map((s) => s.id) as [string, string, string];
  const inLead = await createDeal(c, lead);
  const inSigned = await createDeal(c, signed);
  return { id: pipeline.id, lead, demo, signed, inLead, inSigned, stageIds: [lead, demo, signed] };
}

async function occupiedTickets(c: Client, label: string) {
  const res = await c.call<WirePipeline>('v3', 'POST', '/tickets', {
    label,
    displayOrder: 2,
    stages: [
      { label: 'Open', displayOrder: 0, metadata: { ticketState: 'OPEN' } },
      { label: 'Done', displayOrder: 1, metadata: { ticketState: 'CLOSED' } },
    ],
  });
  expectStatus(res, 201, 'create ticket pipeline');
  const [open, done] = res.json.stages.map((s) => s.id) as [string, string];
  const ticket = await createTicket(c, open);
  return { id: res.json.id, open, done, ticket, stageIds: [open, done] };
}

const BOTH_OFF = 'validateReferencesBeforeDelete=false&validateDealStageUsagesBeforeDelete=false';

describe('2026-09: reference checks on by default', () => {
  it('refuses DELETE and PUT of occupied deal stages without any flag, then lets them through with the flags off', async () => {
    const c = client();
    const occ = await occupiedDeals(c, 'Occupied 2026-09');
    const snapshot = await auditSnapshot(server.url, c.token, 'deals', occ.id, occ.stageIds);
    const before = await c.call<WirePipeline>('v3', 'GET', `/deals/${occ.id}`);

    const del = await c.call<WireError>('2026-09', 'DELETE', `/deals/${occ.id}`);
    expectStatus(del, 400, 'pipeline DELETE without flags');
    // Every stage being removed is named, the empty one too.
    assertStageInUse(del.json, occ.stageIds, byNumericId([occ.inLead, occ.inSigned]));
    const delById = await c.call<WireError>('2026-09', 'DELETE', `/0-3/${occ.id}`);
    expectStatus(delById, 400, 'pipeline DELETE via 0-3 without flags');
    assert.deepEqual(delById.json.context, del.json.context);

    const stageDel = await c.call<WireError>('2026-09', 'DELETE', `/deals/${occ.id}/stages/${occ.lead}`);
    expectStatus(stageDel, 400, 'stage DELETE without flags');
    assertStageInUse(stageDel.json, [occ.lead], [occ.inLead]);

    const put = await c.call<WireError>('2026-09', 'PUT', `/deals/${occ.id}`, {
      label: 'Occupied 2026-09',
      displayOrder: 2,
      stages: [{ stageId: occ.lead, label: 'Lead', displayOrder: 0, metadata: { probability: '0.1' } }],
    });
    expectStatus(put, 400, 'PUT removing occupied stages without flags');
    assertStageInUse(put.json, [occ.demo, occ.signed], [occ.inSigned]);

    // For deals, validateDealStageUsagesBeforeDelete alone decides (HubSpot's 2026-09 guide):
    // turning off only validateReferencesBeforeDelete changes nothing.
    const refsOff = await c.call<WireError>(
      '2026-09',
      'DELETE',
      `/deals/${occ.id}?validateReferencesBeforeDelete=false`,
    );
    expectStatus(refsOff, 400, 'deals pipeline DELETE with only validateReferencesBeforeDelete=false');
    assertStageInUse(refsOff.json, occ.stageIds, byNumericId([occ.inLead, occ.inSigned]));

    // The empty stage goes without flags; refused deletes left no trace.
    assert.deepEqual((await c.call('v3', 'GET', `/deals/${occ.id}`)).json, before.json);
    assert.deepEqual(await auditSnapshot(server.url, c.token, 'deals', occ.id, occ.stageIds), snapshot);
    expectStatus(
      await c.call('2026-09', 'DELETE', `/deals/${occ.id}/stages/${occ.demo}`),
      204,
      'empty stage',
    );

    // Both flags off: the PUT, the stage DELETE and the pipeline DELETE go through.
    const putOff = await c.call<WirePipeline>('2026-09', 'PUT', `/deals/${occ.id}?${BOTH_OFF}`, {
      label: 'Occupied 2026-09',
      displayOrder: 2,
      stages: [
        { stageId: occ.lead, label: 'Lead', displayOrder: 0, metadata: { probability: '0.1' } },
        { label: 'Other', displayOrder: 1, metadata: { probability: '0.4' } },
      ],
    });
    expectStatus(putOff, 200, 'PUT with both flags off');
    // HubSpot's bypass example: the deal flag alone set to false.
    expectStatus(
      await c.call('2026-09', 'DELETE', `/deals/${occ.id}?validateDealStageUsagesBeforeDelete=false`),
      204,
      'pipeline DELETE with validateDealStageUsagesBeforeDelete=false',
    );
    expectStatus(await c.call('2026-09', 'GET', `/deals/${occ.id}`), 404, 'deleted pipeline');

    // The records keep their values.
    const leadProps = await recordProps(c, 'deals', occ.inLead, ['pipeline', 'dealstage']);
    assert.equal(leadProps.pipeline, occ.id);
    assert.equal(leadProps.dealstage, occ.lead);
    assert.equal((await recordProps(c, 'deals', occ.inSigned, ['dealstage'])).dealstage, occ.signed);
  });

  it('deals: a stage DELETE with both flags off goes through and the record keeps its stage', async () => {
    const c = client();
    const occ = await occupiedDeals(c, 'Stage flags off 2026-09');
    const res = await c.call('2026-09', 'DELETE', `/deals/${occ.id}/stages/${occ.lead}?${BOTH_OFF}`);
    expectStatus(res, 204, 'deal stage DELETE with both flags off');
    expectStatus(await c.call('2026-09', 'GET', `/deals/${occ.id}/stages/${occ.lead}`), 404, 'deleted stage');
    assert.equal((await recordProps(c, 'deals', occ.inLead, ['dealstage'])).dealstage, occ.lead);
  });

  it('tickets: refused without flags, let through with validateReferencesBeforeDelete=false', async () => {
    const c = client();
    const occ = await occupiedTickets(c, 'Tickets 2026-09');
    const snapshot = await auditSnapshot(server.url, c.token, 'tickets', occ.id, occ.stageIds);

    const del = await c.call<WireError>('2026-09', 'DELETE', `/0-5/${occ.id}`);
    expectStatus(del, 400, 'ticket pipeline DELETE without flags');
    assertStageInUse(del.json, occ.stageIds, [occ.ticket]);
    const stageDel = await c.call<WireError>('2026-09', 'DELETE', `/tickets/${occ.id}/stages/${occ.open}`);
    expectStatus(stageDel, 400, 'ticket stage DELETE without flags');
    assertStageInUse(stageDel.json, [occ.open], [occ.ticket]);
    // The deal-only flag means nothing for tickets: turning it off changes nothing.
    const dealFlagOff = await c.call<WireError>(
      '2026-09',
      'DELETE',
      `/tickets/${occ.id}?validateDealStageUsagesBeforeDelete=false`,
    );
    expectStatus(dealFlagOff, 400, 'ticket pipeline DELETE with only the deal flag off');
    assert.deepEqual(await auditSnapshot(server.url, c.token, 'tickets', occ.id, occ.stageIds), snapshot);

    expectStatus(
      await c.call(
        '2026-09',
        'DELETE',
        `/tickets/${occ.id}/stages/${occ.open}?validateReferencesBeforeDelete=false`,
      ),
      204,
      'ticket stage DELETE with validateReferencesBeforeDelete=false',
    );
    expectStatus(
      await c.call('2026-09', 'DELETE', `/tickets/${occ.id}?validateReferencesBeforeDelete=false`),
      204,
      'ticket pipeline DELETE with validateReferencesBeforeDelete=false',
    );
    const props = await recordProps(c, 'tickets', occ.ticket, ['hs_pipeline', 'hs_pipeline_stage']);
    assert.equal(props.hs_pipeline, occ.id);
    assert.equal(props.hs_pipeline_stage, occ.open);
  });
});

describe('2026-03 and 2025-09: reference checks off by default', () => {
  for (const version of ['2026-03', '2025-09'] as const) {
    it(`${version}: deletes occupied stages and pipelines without flags; refuses them with the flag`, async () => {
      const c = client();
      const occ = await occupiedDeals(c, `Occupied ${version}`);

      const flagged = await c.call<WireError>(
        version,
        'DELETE',
        `/deals/${occ.id}/stages/${occ.lead}?validateReferencesBeforeDelete=true`,
      );
      expectStatus(flagged, 400, 'stage DELETE with the flag');
      assertStageInUse(flagged.json, [occ.lead], [occ.inLead]);
      const flaggedPipeline = await c.call<WireError>(
        version,
        'DELETE',
        `/0-3/${occ.id}?validateDealStageUsagesBeforeDelete=true`,
      );
      expectStatus(flaggedPipeline, 400, 'pipeline DELETE with the deal flag');

      expectStatus(
        await c.call(version, 'DELETE', `/deals/${occ.id}/stages/${occ.lead}`),
        204,
        'stage DELETE',
      );
      expectStatus(await c.call(version, 'DELETE', `/deals/${occ.id}`), 204, 'pipeline DELETE');
      expectStatus(await c.call(version, 'GET', `/deals/${occ.id}`), 404, 'deleted pipeline');
      assert.equal((await recordProps(c, 'deals', occ.inLead, ['dealstage'])).dealstage, occ.lead);
      assert.equal((await recordProps(c, 'deals', occ.inSigned, ['pipeline'])).pipeline, occ.id);

      const tickets = await occupiedTickets(c, `Tickets ${version}`);
      expectStatus(await c.call(version, 'DELETE', `/0-5/${tickets.id}`), 204, 'ticket pipeline DELETE');
    });
  }
});

for (const version of ['2026-03', '2026-09'] as const) {
  it(
    `validated the versioned responses against the official ${version} schemas`,
    { skip: specSkipReasonFor(version) },
    () => {
      assert.ok(
        schemaValidationCount(version) > 30,
        `only ${schemaValidationCount(version)} bodies were validated against the ${version} schemas`,
      );
    },
  );
}
