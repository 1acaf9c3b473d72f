// The rules real HubSpot clients rely on, with the exact requests they send: singular type names
// (Activepieces, Pipedream, Supaglue), `=True` flags (HubSpot's Python SDK), the delete flags of
// each API version, STAGE_ID_IN_USE naming every removed stage, metadata as sent, and the audit
// model of the seed guide's example (stage changes are pipeline changes; HubSpot's internal model).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { assertStageInUse } from '../helpers/records.js';
import type {
  RawPipeline,
  RawStage,
  WireAudit,
  WireCollection,
  WirePipeline,
  WireStage,
} from '../helpers/wire-types.js';
import { BASE, assertError, dealPipeline, json, must, newToken, useStageline } from './support.js';

const server = useStageline();

async function ok<T>(method: 'GET' | 'POST' | 'PATCH' | 'PUT', url: string, token: string, body?: unknown) {
  const res = await server.call(method, url, { token, body });
  assert.ok(
    res.statusCode === 200 || res.statusCode === 201,
    `${method} ${url}: ${res.statusCode} ${res.body}`,
  );
  return json<T>(res);
}

const pipelineAudit = async (token: string, type: string, id: string) =>
  (await ok<WireCollection<WireAudit>>('GET', `${BASE}/${type}/${id}/audit`, token)).results;

const rawPipeline = (entry: WireAudit | undefined) => JSON.parse(must(entry).rawObject) as RawPipeline;

/** A deal sitting in a stage of a pipeline, through the objects API. */
async function dealIn(token: string, pipeline: string, stage: string): Promise<string> {
  const created = await ok<{ id: string }>('POST', '/crm/v3/objects/deals', token, {
    properties: { dealname: `Deal in ${stage}`, pipeline, dealstage: stage },
  });
  return created.id;
}

describe('object type names', () => {
  it('deal, deals and 0-3 address the same pipelines, on every path', async () => {
    const token = newToken();
    const p = await server.createPipeline(token, 'deal', dealPipeline('Singular'));
    for (const type of ['deal', 'deals', '0-3', 'DEAL']) {
      const listed = await ok<WireCollection<WirePipeline>>('GET', `${BASE}/${type}`, token);
      assert.deepEqual(
        listed.results.map((x) => x.id),
        ['default', p.id],
        type,
      );
      assert.equal(
        (await ok<WirePipeline>('GET', `/crm/pipelines/2026-03/${type}/${p.id}`, token)).label,
        'Singular',
      );
    }
    const deal = await dealIn(token, p.id, must(p.stages[0]).id);
    const viaSingular = await ok<{ properties: Record<string, string> }>(
      'GET',
      `/crm/v3/objects/deal/${deal}`,
      token,
    );
    assert.equal(viaSingular.properties.pipeline, p.id);
    const property = await ok<{ name: string }>('GET', '/crm/v3/properties/deal/dealstage', token);
    assert.equal(property.name, 'dealstage');
  });

  it('ticket, company and contact work like their plural names', async () => {
    const token = newToken();
    for (const [singular, plural] of [
      ['ticket', 'tickets'],
      ['company', 'companies'],
      ['contact', 'contacts'],
    ]) {
      assert.deepEqual(
        await ok<unknown>('GET', `${BASE}/${singular}`, token),
        await ok<unknown>('GET', `${BASE}/${plural}`, token),
      );
    }
  });

  it('a HubSpot type without pipelines is named as such, an unknown one is not inferred', async () => {
    const token = newToken();
    const invoices = await server.call('GET', `${BASE}/invoices`, { token });
    assertError(invoices, 400, 'VALIDATION_ERROR');
    assert.equal(
      json<{ message: string }>(invoices).message,
      'Object type 0-53 (invoices) does not support pipelines',
    );
    const quote = await server.call('GET', `${BASE}/quote`, { token });
    assert.equal(
      json<{ message: string }>(quote).message,
      'Object type 0-14 (quotes) does not support pipelines',
    );
    const unknown = await server.call('GET', `${BASE}/widgets`, { token });
    assert.equal(json<{ message: string }>(unknown).message, 'Unable to infer object type from: widgets');
  });

  it('on the objects, properties and associations paths a type without pipelines is not served, and its message says nothing of pipelines', async () => {
    const token = newToken();
    for (const [method, url, body] of [
      ['GET', '/crm/v3/objects/invoices', undefined],
      ['GET', '/crm/v3/objects/0-53/123', undefined],
      ['POST', '/crm/v3/objects/quotes/search', {}],
      ['POST', '/crm/v3/objects/invoice', { properties: {} }],
      ['GET', '/crm/v3/properties/invoices', undefined],
      ['GET', '/crm/v3/properties/line_items/name', undefined],
      ['GET', '/crm/v4/associations/invoices/deals/labels', undefined],
    ] as const) {
      const res = await server.call(method, url, { token, body });
      assertError(res, 400, 'VALIDATION_ERROR');
      const name = must(url.split('/')[4]);
      assert.equal(
        json<{ message: string }>(res).message,
        `Unable to infer object type from: ${name}`,
        `${method} ${url}`,
      );
    }
    const deal = await ok<{ id: string }>('POST', '/crm/v3/objects/deals', token, { properties: {} });
    for (const url of [
      `/crm/v3/objects/deals/${deal.id}?associations=invoices`,
      `/crm/v4/objects/deals/${deal.id}/associations/invoices`,
    ]) {
      const res = await server.call('GET', url, { token });
      assertError(res, 400, 'VALIDATION_ERROR');
      assert.equal(json<{ message: string }>(res).message, 'Unable to infer object type from: invoices', url);
    }
  });
});

describe('boolean query flags', () => {
  it("take True/FALSE in any case (HubSpot's Python SDK) and refuse anything else", async () => {
    const token = newToken();
    const p = await server.createPipeline(token, 'deals', dealPipeline('Flags'));
    const stage = must(p.stages[0]).id;
    const deal = await dealIn(token, p.id, stage);
    const refused = await server.call('DELETE', `${BASE}/deals/${p.id}?validateReferencesBeforeDelete=True`, {
      token,
    });
    assertStageInUse(
      json(refused),
      p.stages.map((s) => s.id),
      [deal],
    );
    assert.equal(refused.statusCode, 400);
    const bad = await server.call('DELETE', `${BASE}/deals/${p.id}?validateReferencesBeforeDelete=yes`, {
      token,
    });
    assertError(bad, 400, 'VALIDATION_ERROR');
    assert.match(json<{ message: string }>(bad).message, /validateReferencesBeforeDelete/);
    const allowed = await server.call(
      'DELETE',
      `${BASE}/deals/${p.id}?validateReferencesBeforeDelete=FALSE`,
      {
        token,
      },
    );
    assert.equal(allowed.statusCode, 204, allowed.body);
  });

  it('apply to the objects API too (archived=True)', async () => {
    const token = newToken();
    const res = await server.call('GET', '/crm/v3/objects/deals?archived=True', { token });
    assert.equal(res.statusCode, 200, res.body);
  });
});

describe('delete flags by API version', () => {
  const deleteStage = (token: string, prefix: string, pipeline: string, stage: string, query: string) =>
    server.call('DELETE', `${prefix}/deals/${pipeline}/stages/${stage}${query}`, { token });

  async function occupiedStage(token: string) {
    const p = await server.createPipeline(token, 'deals', dealPipeline('Occupied', 1, ['A', 'B']));
    const stage = must(p.stages[0]).id;
    return { p, stage, deal: await dealIn(token, p.id, stage) };
  }

  it('v3: either flag set to true checks a deal pipeline', async () => {
    const token = newToken();
    const { p, stage } = await occupiedStage(token);
    for (const query of [
      '?validateReferencesBeforeDelete=true',
      '?validateDealStageUsagesBeforeDelete=true',
    ]) {
      assert.equal((await deleteStage(token, BASE, p.id, stage, query)).statusCode, 400, query);
    }
    assert.equal((await deleteStage(token, BASE, p.id, stage, '')).statusCode, 204);
  });

  it('2026-09: deals follow validateDealStageUsagesBeforeDelete alone (both default to true)', async () => {
    const token = newToken();
    const prefix = '/crm/pipelines/2026-09';
    const { p, stage } = await occupiedStage(token);
    assert.equal((await deleteStage(token, prefix, p.id, stage, '')).statusCode, 400);
    assert.equal(
      (await deleteStage(token, prefix, p.id, stage, '?validateReferencesBeforeDelete=false')).statusCode,
      400,
    );
    // HubSpot's own bypass example.
    const bypass = await deleteStage(
      token,
      prefix,
      p.id,
      stage,
      '?validateDealStageUsagesBeforeDelete=false',
    );
    assert.equal(bypass.statusCode, 204, bypass.body);
  });

  it('2026-09: other types follow validateReferencesBeforeDelete', async () => {
    const token = newToken();
    const prefix = '/crm/pipelines/2026-09';
    const ticket = await ok<{ id: string }>('POST', '/crm/v3/objects/tickets', token, {
      properties: { subject: 'Help', hs_pipeline: '0', hs_pipeline_stage: '2' },
    });
    assert.ok(ticket.id);
    const kept = await server.call(
      'DELETE',
      `${prefix}/tickets/0/stages/2?validateDealStageUsagesBeforeDelete=false`,
      {
        token,
      },
    );
    assert.equal(kept.statusCode, 400, kept.body);
    const removed = await server.call(
      'DELETE',
      `${prefix}/tickets/0/stages/2?validateReferencesBeforeDelete=false`,
      {
        token,
      },
    );
    assert.equal(removed.statusCode, 204, removed.body);
  });
});

describe('STAGE_ID_IN_USE', () => {
  it('lists every stage being removed and the records found, as in the seed example', async () => {
    const token = newToken();
    const p = await server.createPipeline(token, 'deals', dealPipeline('Five', 1, ['A', 'B', 'C', 'D', 'E']));
    const deal = await dealIn(token, p.id, must(p.stages[2]).id);
    const res = await server.call('DELETE', `${BASE}/deals/${p.id}?validateReferencesBeforeDelete=true`, {
      token,
    });
    assert.equal(res.statusCode, 400);
    assertStageInUse(
      json(res),
      p.stages.map((s) => s.id),
      [deal],
    );
  });
});

describe('stage metadata as sent', () => {
  it("keeps a deal stage's isClosed as sent and derives it only when absent", async () => {
    const token = newToken();
    const p = await server.createPipeline(token, 'deals', {
      label: 'As sent',
      displayOrder: 1,
      stages: [
        { label: 'Closed won', displayOrder: 0, metadata: { probability: '0.8', isClosed: 'true' } },
        { label: 'Won', displayOrder: 1, metadata: { probability: 1 } },
      ],
    });
    assert.deepEqual(
      p.stages.map((s) => s.metadata),
      [
        { isClosed: 'true', probability: '0.8' },
        { isClosed: 'true', probability: '1.0' },
      ],
    );
    const reopened = await ok<WireStage>(
      'PATCH',
      `${BASE}/deals/${p.id}/stages/${must(p.stages[0]).id}`,
      token,
      {
        metadata: { isClosed: false },
      },
    );
    assert.deepEqual(reopened.metadata, { isClosed: 'false', probability: '0.8' });
  });

  it('gives ticket stages ticketState, and isClosed only when it was sent', async () => {
    const token = newToken();
    const p = await server.createPipeline(token, 'tickets', {
      label: 'Support 2',
      displayOrder: 1,
      stages: [
        { label: 'Open', displayOrder: 0, metadata: { ticketState: 'OPEN' } },
        { label: 'Done', displayOrder: 1, metadata: { ticketState: 'CLOSED', isClosed: 'true' } },
      ],
    });
    assert.deepEqual(
      p.stages.map((s) => s.metadata),
      [{ ticketState: 'OPEN' }, { ticketState: 'CLOSED', isClosed: 'true' }],
    );
  });
});

describe("audit: HubSpot's model", () => {
  it('a stage change is a pipeline change: an UPDATE entry holding the stage, and a new updatedAt', async () => {
    const token = newToken();
    const p = await server.createPipeline(token, 'deals', dealPipeline('Audited', 1, ['One', 'Two']));
    const [one, two] = [must(p.stages[0]), must(p.stages[1])];
    await new Promise((r) => setTimeout(r, 5));
    const renamed = await ok<WireStage>('PATCH', `${BASE}/deals/${p.id}/stages/${one.id}`, token, {
      label: 'Uno',
    });
    const added = await ok<WireStage>('POST', `${BASE}/deals/${p.id}/stages`, token, {
      label: 'Three',
      displayOrder: 2,
      metadata: { probability: 0.5 },
    });
    await ok<WireStage>('PATCH', `${BASE}/deals/${p.id}/stages/${two.id}`, token, { displayOrder: 5 });
    assert.equal(
      (await server.call('DELETE', `${BASE}/deals/${p.id}/stages/${added.id}`, { token })).statusCode,
      204,
    );

    const after = await ok<WirePipeline>('GET', `${BASE}/deals/${p.id}`, token);
    assert.notEqual(after.updatedAt, p.updatedAt);
    assert.ok(after.updatedAt >= renamed.updatedAt);

    const entries = await pipelineAudit(token, 'deals', p.id);
    assert.deepEqual(
      entries.map((e) => [e.action, e.message]),
      [
        ['UPDATE', 'Pipeline update'],
        ['UPDATE', 'Pipeline update'],
        ['UPDATE', 'Pipeline update'],
        ['UPDATE', 'Pipeline update'],
        ['CREATE', 'User defined. pipeline created'],
      ],
    );
    const raws = entries.map(rawPipeline);
    assert.deepEqual(
      raws.map((r) => r.version),
      [5, 4, 3, 2, 1],
    );
    assert.deepEqual(
      raws.map((r) => r.stages.map((s) => s.label)),
      [
        ['Uno', 'Two'],
        ['Uno', 'Three', 'Two'],
        ['Uno', 'Two', 'Three'],
        ['Uno', 'Two'],
        ['One', 'Two'],
      ],
    );
    assert.equal(must(raws[0]).updatedAt, Date.parse(after.updatedAt));
    // The stage keeps its own entries too.
    const stageEntries = (
      await ok<WireCollection<WireAudit>>('GET', `${BASE}/deals/${p.id}/stages/${one.id}/audit`, token)
    ).results;
    assert.deepEqual(
      stageEntries.map((e) => e.message),
      ['Stage update', 'User defined. stage created'],
    );
  });

  it("rawObject is HubSpot's internal model, field for field", async () => {
    const token = newToken();
    const p = await server.createPipeline(token, 'deals', dealPipeline('Internal', 3, ['Only']));
    const [entry] = await pipelineAudit(token, 'deals', p.id);
    const raw = rawPipeline(entry);
    assert.deepEqual(Object.keys(raw), [
      'displayOrder',
      'pipelineId',
      'portalId',
      'objectType',
      'objectTypeId',
      'version',
      'label',
      'active',
      'stages',
      'createdBy',
      'updatedBy',
      'createdAt',
      'updatedAt',
      'limitExempt',
      'autoCloseDateEnabled',
      'clearCloseDateWhenMovingClosedToOpen',
      'permission',
      'createStageId',
      'inactiveDefaultPipeline',
      'default',
    ]);
    const e = must(entry);
    assert.deepEqual(
      [raw.pipelineId, raw.portalId, raw.objectType, raw.objectTypeId, raw.version, raw.active, raw.default],
      [p.id, e.portalId, 'DEAL', '0-3', 1, true, false],
    );
    assert.equal(raw.createdBy, e.fromUserId);
    assert.equal(raw.updatedBy, e.fromUserId);
    assert.equal(raw.createdAt, Date.parse(p.createdAt));
    const stage: RawStage = must(raw.stages[0]);
    assert.deepEqual(Object.keys(stage), [
      'displayOrder',
      'portalId',
      'objectTypeId',
      'pipelineId',
      'stageId',
      'label',
      'metadata',
      'maxVisibleVersion',
      'createdBy',
      'updatedBy',
      'createdAt',
      'updatedAt',
      'writePermissions',
      'internalWriteOnly',
      'active',
      'isApprovalStage',
    ]);
    assert.deepEqual(
      [stage.stageId, stage.pipelineId, stage.portalId, stage.objectTypeId, stage.createdBy, stage.active],
      [must(p.stages[0]).id, p.id, e.portalId, '0-3', e.fromUserId, true],
    );

    const tickets = await pipelineAudit(
      token,
      'tickets',
      (
        await server.createPipeline(token, 'ticket', {
          label: 'T',
          displayOrder: 1,
          stages: [{ label: 'Closed', displayOrder: 0, metadata: { ticketState: 'CLOSED' } }],
        })
      ).id,
    );
    assert.deepEqual(
      [rawPipeline(tickets[0]).objectType, rawPipeline(tickets[0]).objectTypeId],
      ['TICKET', '0-5'],
    );
  });

  it('the default pipeline is marked default once it has history', async () => {
    const token = newToken();
    await ok<WirePipeline>('PATCH', `${BASE}/deals/default`, token, { label: 'Renamed' });
    const raw = rawPipeline((await pipelineAudit(token, 'deals', 'default'))[0]);
    assert.equal(raw.default, true);
    assert.equal(raw.version, 1);
    assert.equal(raw.createdBy, null);
  });
});

describe('association definitions and object schemas (calls of HubSpot’s MCP server)', () => {
  it('lists the HubSpot-defined types between two object types', async () => {
    const token = newToken();
    const toContacts = await ok<WireCollection<{ category: string; typeId: number; label: string | null }>>(
      'GET',
      '/crm/v4/associations/deals/contacts/labels',
      token,
    );
    assert.deepEqual(toContacts.results, [{ category: 'HUBSPOT_DEFINED', typeId: 3, label: null }]);
    const toCompanies = await ok<WireCollection<{ typeId: number; label: string | null }>>(
      'GET',
      '/crm/v4/associations/deal/0-2/labels',
      token,
    );
    assert.deepEqual(
      toCompanies.results.map((r) => [r.typeId, r.label]),
      [
        [5, 'Deal with Primary Company'],
        [341, null],
      ],
    );
  });

  it('associates existing records in one batch, all or none', async () => {
    const token = newToken();
    const deal = await dealIn(token, 'default', 'qualifiedtobuy');
    const contact = (await ok<{ id: string }>('POST', '/crm/v3/objects/contacts', token, { properties: {} }))
      .id;
    const types = [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 3 }];
    const wrongType = await server.call('POST', '/crm/v4/associations/deals/contacts/batch/create', {
      token,
      body: {
        inputs: [
          { from: { id: deal }, to: { id: contact }, types: [{ ...must(types[0]), associationTypeId: 5 }] },
        ],
      },
    });
    assertError(wrongType, 400, 'VALIDATION_ERROR');
    const missing = await server.call('POST', '/crm/v4/associations/deals/contacts/batch/create', {
      token,
      body: { inputs: [{ from: { id: deal }, to: { id: '999999' }, types }] },
    });
    assertError(missing, 400, 'VALIDATION_ERROR');
    const none = await ok<WireCollection<unknown>>(
      'GET',
      `/crm/v4/objects/deals/${deal}/associations/contacts`,
      token,
    );
    assert.deepEqual(none.results, []);

    const made = await server.call('POST', '/crm/v4/associations/deals/contacts/batch/create', {
      token,
      body: { inputs: [{ from: { id: deal }, to: { id: contact }, types }] },
    });
    assert.equal(made.statusCode, 201, made.body);
    const body = json<{ status: string; results: unknown[] }>(made);
    assert.equal(body.status, 'COMPLETE');
    assert.deepEqual(body.results, [
      {
        fromObjectTypeId: '0-3',
        fromObjectId: Number(deal),
        toObjectTypeId: '0-1',
        toObjectId: Number(contact),
        labels: [],
      },
    ]);
    const fromContact = await ok<WireCollection<{ toObjectId: number }>>(
      'GET',
      `/crm/v4/objects/contacts/${contact}/associations/deals`,
      token,
    );
    assert.deepEqual(
      fromContact.results.map((r) => String(r.toObjectId)),
      [deal],
    );
  });

  it('lists no custom object schemas', async () => {
    assert.deepEqual(await ok<unknown>('GET', '/crm-object-schemas/v3/schemas', newToken()), { results: [] });
  });
});

describe('the properties API lists what the objects API derives', () => {
  for (const [type, pipeline, from, to, closing] of [
    [
      'deals',
      'default',
      'qualifiedtobuy',
      'closedwon',
      ['closedate', 'hs_is_closed_won', 'hs_is_closed_lost'],
    ],
    ['tickets', '0', '1', '4', ['closed_date', 'time_to_close']],
  ] as const) {
    it(`${type}: every derived property a moved record has is in the catalogue`, async () => {
      const token = newToken();
      const [pipelineProp, stageProp] =
        type === 'deals' ? ['pipeline', 'dealstage'] : ['hs_pipeline', 'hs_pipeline_stage'];
      const created = await ok<{ id: string }>('POST', `/crm/v3/objects/${type}`, token, {
        properties: { [pipelineProp]: pipeline, [stageProp]: from },
      });
      await ok<unknown>('PATCH', `/crm/v3/objects/${type}/${created.id}`, token, {
        properties: { [stageProp]: to },
      });
      const derived = [
        'hs_v2_date_entered_current_stage',
        'hs_v2_time_in_current_stage',
        'hs_is_closed',
        ...closing,
        ...[from, to].flatMap((s) => [
          `hs_v2_date_entered_${s}`,
          `hs_v2_date_exited_${s}`,
          `hs_v2_latest_time_in_${s}`,
          `hs_v2_cumulative_time_in_${s}`,
          `hs_date_entered_${s}`,
        ]),
      ];
      const record = await ok<{ properties: Record<string, string | null> }>(
        'GET',
        `/crm/v3/objects/${type}/${created.id}?properties=${derived.join(',')}`,
        token,
      );
      const present = derived.filter((name) => record.properties[name] != null);
      assert.ok(present.length >= 8, `the record has derived values: ${present.join(', ')}`);
      const catalogue = await ok<WireCollection<{ name: string; calculated: boolean }>>(
        'GET',
        `/crm/v3/properties/${type}`,
        token,
      );
      const listed = new Map(catalogue.results.map((p) => [p.name, p]));
      for (const name of present) {
        assert.ok(listed.has(name), `${name} is listed`);
        // closedate is the deal's own, writable close date: stamped when none is set, not calculated.
        if (name !== 'closedate')
          assert.equal(must(listed.get(name)).calculated, true, `${name} is calculated`);
      }
    });
  }
});
