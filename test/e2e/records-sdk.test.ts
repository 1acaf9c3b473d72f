// End-to-end: records in pipelines (the CRM objects API, `/crm/v3/objects/{objectType}`) driven
// through HubSpot's official Node SDK 13.5 (`crm.deals`, `crm.tickets`, `crm.objects`), and the
// reference-checked deletes of the Pipelines API (STAGE_ID_IN_USE, FIDELITY §5).
//
// Every SDK call passes `p.wire()`, which captures the raw response and checks it before the SDK
// deserialises it (status codes, record shapes, error envelope; see test/helpers/wire.ts). Each test
// works in its own portal (a fresh random bearer token in open mode).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import type { Pipeline } from '@hubspot/api-client/lib/codegen/crm/pipelines/index.js';
import {
  AssociationSpecAssociationCategoryEnum,
  FilterOperatorEnum,
} from '@hubspot/api-client/lib/codegen/crm/deals/index.js';
import type { FilterGroup } from '@hubspot/api-client/lib/codegen/crm/deals/index.js';

import { startStageline, type RunningStageline } from '../../src/index.js';
import { HUBSPOT_DEFAULTS } from '../helpers/hubspot-defaults.js';
import {
  assertStageInUse,
  auditSnapshot,
  byNumericId,
  parseBracketList,
  sleep,
  type WireBatch,
  type WireRecord,
  type WireRecordPage,
  type WireSearchPage,
} from '../helpers/records.js';
import { expectApiError, must, openPortal, type Portal } from '../helpers/wire.js';
import type { WireError, WirePipeline } from '../helpers/wire-types.js';
import { HUBSPOT_DEFAULT_PROPERTIES } from '../helpers/hubspot-defaults.js';

let server: RunningStageline;

before(async () => {
  server = await startStageline({ host: '127.0.0.1', port: 0 });
});

after(async () => {
  await server?.close();
});

interface RecordsPortal extends Portal {
  deals: Portal['client']['crm']['deals'];
  tickets: Portal['client']['crm']['tickets'];
  objects: Portal['client']['crm']['objects'];
  /**
   * p.wire() for the deals / tickets / objects clients: each SDK client declares its own (identical)
   * options type, so the checked-and-captured options are handed over under the type expected.
   */
  rw<T>(): T;
}

function portal(): RecordsPortal {
  const p = openPortal(server.url);
  return {
    ...p,
    deals: p.client.crm.deals,
    tickets: p.client.crm.tickets,
    objects: p.client.crm.objects,
    rw: <T>() => p.wire() as unknown as T,
  };
}

const DEAL_DEFAULT_PROPERTIES = [...HUBSPOT_DEFAULT_PROPERTIES.deals];

const entered = (stageId: string) => `hs_date_entered_${stageId}`;
const exited = (stageId: string) => `hs_date_exited_${stageId}`;

function stageIdsOf(pipeline: Pipeline): string[] {
  return pipeline.stages.map((s) => s.id);
}

/** A custom deal pipeline with three stages, returned with its stage ids in display order. */
async function customDealPipeline(p: Portal, label: string): Promise<{ id: string; stages: string[] }> {
  const created = await p.pipelines.create(
    'deals',
    {
      label,
      displayOrder: 3,
      stages: [
        { label: 'Lead', displayOrder: 0, metadata: { probability: '0.1' } },
        { label: 'Demo', displayOrder: 1, metadata: { probability: '0.5' } },
        { label: 'Signed', displayOrder: 2, metadata: { probability: '1.0' } },
      ],
    },
    p.wire(),
  );
  assert.deepEqual(
    created.stages.map((s) => s.label),
    ['Lead', 'Demo', 'Signed'],
  );
  return { id: created.id, stages: stageIdsOf(created) };
}

async function customTicketPipeline(p: Portal, label: string): Promise<{ id: string; stages: string[] }> {
  const created = await p.pipelines.create(
    'tickets',
    {
      label,
      displayOrder: 3,
      stages: [
        { label: 'Queued', displayOrder: 0, metadata: { ticketState: 'OPEN' } },
        { label: 'Working', displayOrder: 1, metadata: { ticketState: 'OPEN' } },
        { label: 'Solved', displayOrder: 2, metadata: { ticketState: 'CLOSED' } },
      ],
    },
    p.wire(),
  );
  return { id: created.id, stages: stageIdsOf(created) };
}

async function createDeal(p: RecordsPortal, properties: Record<string, string>): Promise<WireRecord> {
  const info = await p.deals.basicApi.createWithHttpInfo({ properties }, p.rw());
  assert.equal(info.httpStatusCode, 201);
  return p.lastJson<WireRecord>();
}

async function createTicket(p: RecordsPortal, properties: Record<string, string>): Promise<WireRecord> {
  const info = await p.tickets.basicApi.createWithHttpInfo({ properties }, p.rw());
  assert.equal(info.httpStatusCode, 201);
  return p.lastJson<WireRecord>();
}

async function getDeal(p: RecordsPortal, id: string, properties?: string[]): Promise<WireRecord> {
  await p.deals.basicApi.getById(id, properties, undefined, undefined, undefined, undefined, p.rw());
  return p.lastJson<WireRecord>();
}

async function getTicket(p: RecordsPortal, id: string, properties?: string[]): Promise<WireRecord> {
  await p.tickets.basicApi.getById(id, properties, undefined, undefined, undefined, undefined, p.rw());
  return p.lastJson<WireRecord>();
}

async function moveDeal(
  p: RecordsPortal,
  id: string,
  properties: Record<string, string>,
): Promise<WireRecord> {
  await p.deals.basicApi.update(id, { properties }, undefined, p.rw());
  return p.lastJson<WireRecord>();
}

/** Creates `count` deals in one stage with batch creates (100 at most per call); ids ascending. */
async function createDealsIn(p: RecordsPortal, count: number, properties: Record<string, string>) {
  const ids: string[] = [];
  for (let start = 0; start < count; start += 100) {
    const n = Math.min(100, count - start);
    const inputs = Array.from({ length: n }, (_, i) => ({
      properties: { ...properties, dealname: `Deal ${start + i}` },
    }));
    const res = await p.deals.batchApi.createWithHttpInfo({ inputs }, p.rw());
    assert.equal(res.httpStatusCode, 201);
    const body = p.lastJson<WireBatch>();
    assert.equal(body.results.length, n);
    ids.push(...body.results.map((r) => r.id));
  }
  return byNumericId(ids);
}

function ms(value: string | null | undefined, what: string): number {
  const text = must(value, what);
  const parsed = Date.parse(text);
  assert.ok(Number.isFinite(parsed), `${what} does not parse: ${text}`);
  return parsed;
}

function stageFilter(property: string, operator: FilterOperatorEnum, value: string | string[]): FilterGroup {
  return {
    filters: [
      Array.isArray(value)
        ? { propertyName: property, operator, values: value }
        : { propertyName: property, operator, value },
    ],
  };
}

/** Runs a search through the SDK, following paging.next.after to the end; checks total on each page. */
async function searchAll(
  p: RecordsPortal,
  objectType: 'deals' | 'tickets',
  filterGroups: FilterGroup[],
  limit = 100,
): Promise<{ ids: string[]; total: number; pages: number }> {
  const ids: string[] = [];
  let after: string | undefined;
  let total: number | undefined;
  let pages = 0;
  do {
    const api = objectType === 'deals' ? p.deals.searchApi : p.tickets.searchApi;
    const res = await api.doSearch(
      {
        filterGroups,
        limit,
        properties: ['dealstage', 'hs_pipeline_stage'],
        sorts: [],
        ...(after && { after }),
      },
      p.rw(),
    );
    const raw = p.lastJson<WireSearchPage>();
    if (total === undefined) total = raw.total;
    assert.equal(raw.total, total, 'total is the same on every page');
    assert.equal(res.total, raw.total);
    assert.ok(raw.results.length <= limit, 'a page holds at most `limit` results');
    ids.push(...raw.results.map((r) => r.id));
    after = raw.paging?.next.after;
    pages += 1;
    assert.ok(pages < 50, 'paging never ends');
  } while (after !== undefined);
  assert.equal(new Set(ids).size, ids.length, 'paging never repeats a record');
  return { ids, total: must(total, 'total'), pages };
}

describe('records: create into pipelines and stages', () => {
  it('places a deal with no pipeline in the default pipeline’s first stage and shows the default properties', async () => {
    const p = portal();
    const info = await p.deals.basicApi.createWithHttpInfo(
      { properties: { dealname: 'Default placement' } },
      p.rw(),
    );
    assert.equal(info.httpStatusCode, 201);
    const raw = p.lastJson<WireRecord>();
    assert.equal(info.data.id, raw.id);
    assert.deepEqual(Object.keys(raw.properties).sort(), DEAL_DEFAULT_PROPERTIES);
    assert.equal(raw.properties.pipeline, HUBSPOT_DEFAULTS.deals.id);
    assert.equal(raw.properties.dealstage, HUBSPOT_DEFAULTS.deals.stages[0]![0]);
    assert.equal(raw.properties.dealname, 'Default placement');
    assert.equal(raw.properties.amount, null, 'an unset default property is null');
    assert.equal(raw.archived, false);
    assert.equal(ms(raw.properties.createdate, 'createdate'), Date.parse(raw.createdAt));
    assert.equal(ms(raw.properties.hs_lastmodifieddate, 'hs_lastmodifieddate'), Date.parse(raw.updatedAt));
    assert.ok(Math.abs(Date.parse(raw.createdAt) - Date.now()) < 60_000, 'createdAt is about now');

    // Requested properties: set ones as strings, unset ones as null, the stage entry date readable.
    const got = await p.deals.basicApi.getById(
      raw.id,
      [
        'dealname',
        'amount',
        'no_such_property',
        entered('appointmentscheduled'),
        exited('appointmentscheduled'),
      ],
      undefined,
      undefined,
      undefined,
      undefined,
      p.rw(),
    );
    assert.equal(got.id, raw.id);
    const props = p.lastJson<WireRecord>().properties;
    assert.equal(props.dealname, 'Default placement');
    assert.equal(props.amount, null);
    assert.equal(props.no_such_property, null);
    assert.equal(props[entered('appointmentscheduled')], raw.properties.createdate);
    assert.equal(props[exited('appointmentscheduled')], null);
    assert.equal(props.hs_object_id, raw.id);
  });

  it('honours a pipeline and stage, infers the pipeline from a stage, and takes a pipeline’s first stage', async () => {
    const p = portal();
    const custom = await customDealPipeline(p, 'Partner deals');
    const [lead, demo, signed] = custom.stages;

    const explicit = await createDeal(p, { dealname: 'Explicit', pipeline: custom.id, dealstage: demo! });
    assert.equal(explicit.properties.pipeline, custom.id);
    assert.equal(explicit.properties.dealstage, demo);

    const stageOnly = await createDeal(p, { dealname: 'Stage only', dealstage: signed! });
    assert.equal(stageOnly.properties.pipeline, custom.id, 'a stage alone implies its pipeline');
    assert.equal(stageOnly.properties.dealstage, signed);

    const defaultStageOnly = await createDeal(p, { dealname: 'Default stage', dealstage: 'qualifiedtobuy' });
    assert.equal(defaultStageOnly.properties.pipeline, 'default');
    assert.equal(defaultStageOnly.properties.dealstage, 'qualifiedtobuy');

    const pipelineOnly = await createDeal(p, { dealname: 'Pipeline only', pipeline: custom.id });
    assert.equal(pipelineOnly.properties.dealstage, lead, 'a pipeline alone means its first stage');

    const fetched = await getDeal(p, explicit.id, ['pipeline', 'dealstage', entered(demo!)]);
    assert.equal(fetched.properties.pipeline, custom.id);
    assert.equal(fetched.properties.dealstage, demo);
    assert.equal(fetched.properties[entered(demo!)], explicit.properties.createdate);
  });

  it('refuses stages outside the record’s pipeline, unknown ones and archived ones with a clear 400', async () => {
    const p = portal();
    const custom = await customDealPipeline(p, 'Strict');
    const [lead, demo] = custom.stages;

    const mismatch = await expectApiError(
      p.deals.basicApi.create({ properties: { pipeline: 'default', dealstage: lead! } }, p.rw()),
      400,
    );
    assert.equal(mismatch.category, 'VALIDATION_ERROR');
    assert.ok(mismatch.message.includes(lead!), `the message names the stage: ${mismatch.message}`);

    const unknownStage = await expectApiError(
      p.deals.basicApi.create({ properties: { dealstage: 'no-such-stage' } }, p.rw()),
      400,
    );
    assert.ok(unknownStage.message.includes('no-such-stage'), unknownStage.message);

    const unknownPipeline = await expectApiError(
      p.deals.basicApi.create({ properties: { pipeline: 'no-such-pipeline' } }, p.rw()),
      400,
    );
    assert.ok(unknownPipeline.message.includes('no-such-pipeline'), unknownPipeline.message);

    // A ticket stage is not a deal stage, and a ticket pipeline not a deal pipeline.
    await expectApiError(p.deals.basicApi.create({ properties: { dealstage: '2' } }, p.rw()), 400);
    await expectApiError(
      p.deals.basicApi.create({ properties: { pipeline: HUBSPOT_DEFAULTS.tickets.id } }, p.rw()),
      400,
    );

    // An archived stage is refused, on create and on update.
    await p.stages.archive('deals', custom.id, demo!, p.wire());
    const archived = await expectApiError(
      p.deals.basicApi.create({ properties: { dealstage: demo! } }, p.rw()),
      400,
    );
    assert.ok(archived.message.includes(demo!), archived.message);
    const record = await createDeal(p, { dealname: 'Stays put', pipeline: custom.id, dealstage: lead! });
    await expectApiError(
      p.deals.basicApi.update(record.id, { properties: { dealstage: demo! } }, undefined, p.rw()),
      400,
    );
    await expectApiError(
      p.deals.basicApi.update(
        record.id,
        { properties: { pipeline: 'default', dealstage: lead! } },
        undefined,
        p.rw(),
      ),
      400,
    );
    const unchanged = await getDeal(p, record.id);
    assert.equal(unchanged.properties.pipeline, custom.id, 'a refused move changes nothing');
    assert.equal(unchanged.properties.dealstage, lead);
    assert.equal(unchanged.updatedAt, record.updatedAt);

    // The search shows that nothing was created by the refused writes.
    const all = await searchAll(p, 'deals', []);
    assert.deepEqual(all.ids, [record.id]);
  });

  it('places tickets with hs_pipeline / hs_pipeline_stage, default pipeline "0" stage "1"', async () => {
    const p = portal();
    const plain = await createTicket(p, { subject: 'Printer on fire' });
    assert.equal(plain.properties.hs_pipeline, HUBSPOT_DEFAULTS.tickets.id);
    assert.equal(plain.properties.hs_pipeline_stage, HUBSPOT_DEFAULTS.tickets.stages[0]![0]);
    assert.equal(plain.properties.subject, 'Printer on fire');
    assert.equal(plain.properties.dealstage, undefined, 'tickets do not have deal properties');

    const waiting = await createTicket(p, { subject: 'Waiting', hs_pipeline_stage: '3' });
    assert.equal(waiting.properties.hs_pipeline, '0');
    assert.equal(waiting.properties.hs_pipeline_stage, '3');

    const helpdesk = await customTicketPipeline(p, 'Helpdesk');
    const custom = await createTicket(p, {
      hs_pipeline: helpdesk.id,
      hs_pipeline_stage: helpdesk.stages[1]!,
    });
    assert.equal(custom.properties.hs_pipeline, helpdesk.id);
    assert.equal(custom.properties.hs_pipeline_stage, helpdesk.stages[1]);
    const pipelineOnly = await createTicket(p, { hs_pipeline: helpdesk.id });
    assert.equal(pipelineOnly.properties.hs_pipeline_stage, helpdesk.stages[0]);

    const mismatch = await expectApiError(
      p.tickets.basicApi.create(
        { properties: { hs_pipeline: '0', hs_pipeline_stage: helpdesk.stages[2]! } },
        p.rw(),
      ),
      400,
    );
    assert.equal(mismatch.category, 'VALIDATION_ERROR');
    await expectApiError(
      p.tickets.basicApi.create({ properties: { hs_pipeline_stage: 'appointmentscheduled' } }, p.rw()),
      400,
    );

    const fetched = await getTicket(p, custom.id, ['hs_pipeline', 'hs_pipeline_stage', 'subject']);
    assert.equal(fetched.properties.subject, null);
    assert.equal(fetched.properties.hs_pipeline_stage, helpdesk.stages[1]);
  });
});

describe('records: moving between stages', () => {
  it('stamps hs_date_entered / hs_date_exited in order and writes no pipeline audit entries', async () => {
    const p = portal();
    const custom = await customDealPipeline(p, 'Moves');
    const [lead, demo, signed] = custom.stages as [string, string, string];
    const auditBefore = await auditSnapshot(server.url, p.token, 'deals', custom.id, custom.stages);

    const created = await createDeal(p, { dealname: 'Mover', pipeline: custom.id, dealstage: lead });
    await sleep(5);
    const toDemo = await moveDeal(p, created.id, { dealstage: demo });
    assert.equal(toDemo.properties.dealstage, demo);
    assert.equal(toDemo.properties.pipeline, custom.id);
    await sleep(5);
    const toSigned = await moveDeal(p, created.id, { dealstage: signed });
    await sleep(5);
    // Writing the same stage again is not a move.
    const same = await moveDeal(p, created.id, { dealstage: signed, amount: '1200' });
    assert.equal(same.properties.amount, '1200');

    const dates = [lead, demo, signed].flatMap((s) => [entered(s), exited(s)]);
    const now = await getDeal(p, created.id, ['dealstage', 'pipeline', ...dates, entered('closedwon')]);
    const d = now.properties;
    assert.equal(d.dealstage, signed);
    const t0 = ms(d[entered(lead)], 'entered lead');
    const t1 = ms(d[entered(demo)], 'entered demo');
    const t2 = ms(d[entered(signed)], 'entered signed');
    assert.equal(t0, Date.parse(created.createdAt), 'entered the first stage when created');
    assert.equal(ms(d[exited(lead)], 'exited lead'), t1, 'left lead the moment it entered demo');
    assert.equal(ms(d[exited(demo)], 'exited demo'), t2, 'left demo the moment it entered signed');
    assert.equal(d[exited(signed)], null, 'not exited the stage it is in');
    assert.equal(d[entered('closedwon')], null, 'never entered closedwon');
    assert.ok(t0 < t1 && t1 < t2, `entries are ordered: ${t0} < ${t1} < ${t2}`);
    assert.equal(t1, Date.parse(toDemo.updatedAt));
    assert.equal(t2, Date.parse(toSigned.updatedAt));
    assert.equal(d[entered(signed)], toSigned.properties.hs_lastmodifieddate);
    assert.ok(Date.parse(now.updatedAt) > t2, 'the later non-move update still bumps updatedAt');

    // A stage of another pipeline alone moves the record across pipelines.
    await sleep(5);
    const across = await moveDeal(p, created.id, { dealstage: 'closedwon' });
    assert.equal(across.properties.pipeline, 'default');
    assert.equal(across.properties.dealstage, 'closedwon');
    const after = await getDeal(p, created.id, [exited(signed), entered('closedwon')]);
    assert.equal(after.properties[exited(signed)], after.properties[entered('closedwon')]);
    assert.ok(ms(after.properties[entered('closedwon')], 'entered closedwon') > t2);

    // A pipeline alone moves the record to that pipeline's first stage.
    const back = await moveDeal(p, created.id, { pipeline: custom.id });
    assert.equal(back.properties.dealstage, lead);

    // Moves are record changes, not pipeline changes: the pipeline and stage audits are untouched.
    const auditAfter = await auditSnapshot(server.url, p.token, 'deals', custom.id, custom.stages);
    assert.deepEqual(auditAfter, auditBefore);
  });

  it('moves tickets through hs_pipeline_stage and stamps their stage dates', async () => {
    const p = portal();
    const ticket = await createTicket(p, { subject: 'Move me' });
    await sleep(5);
    await p.tickets.basicApi.update(ticket.id, { properties: { hs_pipeline_stage: '2' } }, undefined, p.rw());
    await sleep(5);
    await p.tickets.basicApi.update(ticket.id, { properties: { hs_pipeline_stage: '4' } }, undefined, p.rw());
    const got = await getTicket(p, ticket.id, [
      'hs_pipeline_stage',
      entered('1'),
      exited('1'),
      entered('2'),
      exited('2'),
      entered('4'),
      exited('4'),
      entered('3'),
    ]);
    const t = got.properties;
    assert.equal(t.hs_pipeline_stage, '4');
    assert.equal(t[entered('3')], null);
    assert.equal(t[exited('4')], null);
    assert.equal(t[exited('1')], t[entered('2')]);
    assert.equal(t[exited('2')], t[entered('4')]);
    assert.ok(ms(t[entered('1')], 'e1') < ms(t[entered('2')], 'e2'));
    assert.ok(ms(t[entered('2')], 'e2') < ms(t[entered('4')], 'e4'));
  });
});

describe('records: derived stage properties and associations through the SDK', () => {
  it('Activepieces’ deal-stage trigger: its doSearch call finds the deals that entered the stage since its last poll', async () => {
    const p = portal();
    const early = await createDeal(p, { dealname: 'early' });
    await p.deals.basicApi.update(early.id, { properties: { dealstage: 'closedwon' } }, undefined, p.rw());
    await sleep(5);
    const lastFetchEpochMS = Date.now();
    await sleep(5);
    const late = await createDeal(p, { dealname: 'late' });
    await p.deals.basicApi.update(late.id, { properties: { dealstage: 'closedwon' } }, undefined, p.rw());
    await createDeal(p, { dealname: 'elsewhere' });

    // As the trigger calls it (activepieces, pieces/community/hubspot triggers/deal-stage-updated.ts).
    const poll = (since: number) =>
      p.deals.searchApi.doSearch(
        {
          limit: since === 0 ? 10 : 200,
          properties: [
            'dealname',
            'createdate',
            'hs_object_id',
            'hs_lastmodifieddate',
            'hs_v2_date_entered_current_stage',
          ],
          sorts: ['-hs_v2_date_entered_current_stage'],
          after: undefined,
          filterGroups: [
            {
              filters: [
                { propertyName: 'pipeline', operator: FilterOperatorEnum.Eq, value: 'default' },
                { propertyName: 'dealstage', operator: FilterOperatorEnum.Eq, value: 'closedwon' },
                {
                  propertyName: 'hs_v2_date_entered_current_stage',
                  operator: FilterOperatorEnum.Gt,
                  value: since.toString(),
                },
              ],
            },
          ],
        },
        p.rw(),
      );
    const all = await poll(0);
    assert.deepEqual(
      all.results.map((r) => r.properties.dealname),
      ['late', 'early'],
    );
    const since = await poll(lastFetchEpochMS);
    assert.deepEqual(
      since.results.map((r) => r.properties.dealname),
      ['late'],
    );
    // The trigger turns the property into its dedupe time with dayjs(value).valueOf().
    const entered = Date.parse(
      must(since.results[0]?.properties.hs_v2_date_entered_current_stage, 'hs_v2_date_entered_current_stage'),
    );
    assert.ok(entered > lastFetchEpochMS);
  });

  it('basicApi.create with associations, then getById(id, props, undefined, ["contacts"]) and v4 getPage', async () => {
    const p = portal();
    const contact = await p.client.crm.contacts.basicApi.create(
      { properties: { email: 'sdk@example.com' }, associations: [] },
      p.rw(),
    );
    const info = await p.deals.basicApi.createWithHttpInfo(
      {
        properties: { dealname: 'With contact' },
        associations: [
          {
            to: { id: contact.id },
            types: [
              {
                associationCategory: AssociationSpecAssociationCategoryEnum.HubspotDefined,
                associationTypeId: 3,
              },
            ],
          },
        ],
      },
      p.rw(),
    );
    assert.equal(info.httpStatusCode, 201);
    const deal = info.data;
    const read = await p.deals.basicApi.getById(
      deal.id,
      ['dealname', 'hs_is_closed'],
      undefined,
      ['contacts'],
      false,
      undefined,
      p.rw(),
    );
    assert.equal(read.properties.dealname, 'With contact');
    assert.equal(read.properties.hs_is_closed, 'false');
    assert.deepEqual(
      read.associations?.contacts?.results.map((a) => ({ id: a.id, type: a.type })),
      [{ id: contact.id, type: 'deal_to_contact' }],
    );

    const page = await p.client.crm.associations.v4.basicApi.getPage('deals', deal.id, 'contacts');
    assert.equal(page.results.length, 1);
    assert.equal(String(page.results[0]?.toObjectId), contact.id);
    assert.deepEqual(
      page.results[0]?.associationTypes.map((t) => ({ ...t })),
      [{ category: 'HUBSPOT_DEFINED', typeId: 3, label: null }],
    );
  });
});

describe('records: search, paging, batch', () => {
  it('searches deals by stage with EQ, NEQ and IN, with total and paging', async () => {
    const p = portal();
    const custom = await customDealPipeline(p, 'Searchable');
    const appointment = await createDealsIn(p, 5, { dealstage: 'appointmentscheduled' });
    const qualified = await createDealsIn(p, 4, { dealstage: 'qualifiedtobuy' });
    const won = await createDealsIn(p, 3, { dealstage: 'closedwon' });
    const partner = await createDealsIn(p, 2, { dealstage: must(custom.stages[1], 'demo') });
    // Tickets never show up in a deal search, even in stage "1"-like ids.
    await createTicket(p, { subject: 'Not a deal' });

    const eq = await searchAll(p, 'deals', [
      stageFilter('dealstage', FilterOperatorEnum.Eq, 'qualifiedtobuy'),
    ]);
    assert.equal(eq.total, 4);
    assert.deepEqual(byNumericId(eq.ids), qualified);

    const neq = await searchAll(p, 'deals', [
      stageFilter('dealstage', FilterOperatorEnum.Neq, 'appointmentscheduled'),
    ]);
    assert.equal(neq.total, 9);
    assert.deepEqual(byNumericId(neq.ids), byNumericId([...qualified, ...won, ...partner]));

    const inStages = await searchAll(p, 'deals', [
      stageFilter('dealstage', FilterOperatorEnum.In, ['qualifiedtobuy', 'closedwon']),
    ]);
    assert.equal(inStages.total, 7);
    assert.deepEqual(byNumericId(inStages.ids), byNumericId([...qualified, ...won]));

    const byPipeline = await searchAll(p, 'deals', [
      stageFilter('pipeline', FilterOperatorEnum.Eq, custom.id),
    ]);
    assert.deepEqual(byNumericId(byPipeline.ids), partner);
    const notDefault = await searchAll(p, 'deals', [
      stageFilter('pipeline', FilterOperatorEnum.Neq, 'default'),
    ]);
    assert.deepEqual(byNumericId(notDefault.ids), partner);

    // AND within a group, OR across groups.
    const combined = await searchAll(p, 'deals', [
      {
        filters: [
          { propertyName: 'pipeline', operator: FilterOperatorEnum.Eq, value: 'default' },
          { propertyName: 'dealstage', operator: FilterOperatorEnum.In, values: ['closedwon', 'closedlost'] },
        ],
      },
      stageFilter('dealstage', FilterOperatorEnum.Eq, must(custom.stages[1], 'demo')),
    ]);
    assert.deepEqual(byNumericId(combined.ids), byNumericId([...won, ...partner]));

    // Paging: 5 matches, 2 per page → 3 pages, every id once, total on every page.
    const paged = await searchAll(
      p,
      'deals',
      [stageFilter('dealstage', FilterOperatorEnum.Eq, 'appointmentscheduled')],
      2,
    );
    assert.equal(paged.total, 5);
    assert.equal(paged.pages, 3);
    assert.deepEqual(byNumericId(paged.ids), appointment);

    // The search follows moves and archives.
    const moved = must(appointment[0], 'a deal');
    await moveDeal(p, moved, { dealstage: 'closedwon' });
    await p.deals.basicApi.archive(must(won[0], 'a won deal'), p.rw());
    const wonNow = await searchAll(p, 'deals', [
      stageFilter('dealstage', FilterOperatorEnum.Eq, 'closedwon'),
    ]);
    assert.deepEqual(byNumericId(wonNow.ids), byNumericId([moved, ...won.slice(1)]));

    // Tickets search with hs_pipeline_stage.
    const tickets = await searchAll(p, 'tickets', [
      stageFilter('hs_pipeline_stage', FilterOperatorEnum.Eq, '1'),
    ]);
    assert.equal(tickets.total, 1);
    const noTickets = await searchAll(p, 'tickets', [
      stageFilter('hs_pipeline_stage', FilterOperatorEnum.In, ['2', '3', '4']),
    ]);
    assert.equal(noTickets.total, 0);
    assert.deepEqual(noTickets.ids, []);
  });

  it('search paging always moves forward (limit 0 hands back no cursor to the same place)', async () => {
    const p = portal();
    await createDealsIn(p, 3, { dealstage: 'qualifiedtobuy' });
    const res = await p.raw<WireSearchPage>('POST', '/crm/v3/objects/deals/search', { limit: 0 });
    if (res.status === 200) {
      assert.equal(res.json.total, 3);
      assert.deepEqual(res.json.results, []);
      assert.notEqual(
        res.json.paging?.next.after,
        '0',
        'a cursor equal to the current position makes a client that follows paging loop forever',
      );
    } else {
      assert.equal(res.status, 400, res.text);
    }
  });

  it('pages through 250 deals with getPage: limit 100 → 3 pages, every id once', async () => {
    const p = portal();
    const ids = await createDealsIn(p, 250, { dealstage: 'presentationscheduled' });
    assert.equal(new Set(ids).size, 250);

    const seen: string[] = [];
    const pageSizes: number[] = [];
    let after: string | undefined;
    do {
      const page = await p.deals.basicApi.getPage(
        100,
        after,
        ['dealname', 'dealstage'],
        undefined,
        undefined,
        false,
        p.rw(),
      );
      const raw = p.lastJson<WireRecordPage>();
      assert.equal(page.results.length, raw.results.length);
      pageSizes.push(raw.results.length);
      for (const r of raw.results) {
        assert.equal(r.properties.dealstage, 'presentationscheduled');
        assert.match(must(r.properties.dealname, 'dealname'), /^Deal \d+$/);
      }
      seen.push(...raw.results.map((r) => r.id));
      after = raw.paging?.next.after;
      assert.equal(page.paging?.next?.after, after);
      assert.ok(pageSizes.length <= 5, 'paging never ends');
    } while (after !== undefined);
    assert.deepEqual(pageSizes, [100, 100, 50]);
    assert.equal(new Set(seen).size, seen.length, 'no record appears twice');
    assert.deepEqual(byNumericId(seen), ids, 'every record was seen');

    // The default page size is 10, and more than 100 per page is served as 100, as HubSpot does.
    await p.deals.basicApi.getPage(undefined, undefined, undefined, undefined, undefined, undefined, p.rw());
    assert.equal(p.lastJson<WireRecordPage>().results.length, 10);
    const capped = await p.deals.basicApi.getPage(
      200,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      p.rw(),
    );
    assert.equal(capped.results.length, 100);
    assert.equal(capped.paging?.next?.after, seen.length > 100 ? byNumericId(seen)[99] : undefined);
  });

  it('batch creates, reads (reporting a missing id), updates and archives', async () => {
    const p = portal();
    const custom = await customDealPipeline(p, 'Batch');
    const created = await p.deals.batchApi.createWithHttpInfo(
      {
        inputs: [
          { properties: { dealname: 'B1' } },
          { properties: { dealname: 'B2', dealstage: 'contractsent' } },
          {
            properties: { dealname: 'B3', pipeline: custom.id, dealstage: must(custom.stages[2], 'signed') },
          },
        ],
      },
      p.rw(),
    );
    assert.equal(created.httpStatusCode, 201);
    const raw = p.lastJson<WireBatch>();
    assert.equal(raw.status, 'COMPLETE');
    assert.deepEqual(
      raw.results.map((r) => [r.properties.dealname, r.properties.pipeline, r.properties.dealstage]).sort(),
      [
        ['B1', 'default', 'appointmentscheduled'],
        ['B2', 'default', 'contractsent'],
        ['B3', custom.id, custom.stages[2]],
      ],
    );
    const byName = new Map(raw.results.map((r) => [r.properties.dealname, r.id]));
    const [b1, b2, b3] = ['B1', 'B2', 'B3'].map((n) => must(byName.get(n), n)) as [string, string, string];

    // Read with one id that does not exist: 207, the found ones, and an error naming the missing id.
    const missing = '999999999999';
    const read = await p.deals.batchApi.readWithHttpInfo(
      {
        inputs: [{ id: b1 }, { id: missing }, { id: b3 }],
        properties: ['dealname', 'dealstage', 'amount'],
        propertiesWithHistory: [],
      },
      undefined,
      p.rw(),
    );
    assert.equal(read.httpStatusCode, 207);
    const readRaw = p.lastJson<WireBatch>();
    assert.deepEqual(readRaw.results.map((r) => r.id).sort(), [b1, b3].sort());
    for (const r of readRaw.results) assert.equal(r.properties.amount, null);
    assert.equal(readRaw.numErrors, 1);
    const error = must(readRaw.errors?.[0], 'batch read error');
    assert.equal(error.category, 'OBJECT_NOT_FOUND');
    assert.deepEqual(error.context?.ids, [missing]);
    assert.ok('errors' in read.data && read.data.errors?.length === 1, 'the SDK surfaces the errors');

    // All found: 200 without errors.
    const readAll = await p.deals.batchApi.readWithHttpInfo(
      { inputs: [{ id: b1 }, { id: b2 }], properties: ['dealstage'], propertiesWithHistory: [] },
      undefined,
      p.rw(),
    );
    assert.equal(readAll.httpStatusCode, 200);

    // Update: move two deals; the new stage's entry date is readable afterwards.
    const updated = await p.deals.batchApi.updateWithHttpInfo(
      {
        inputs: [
          { id: b1, properties: { dealstage: 'closedwon' } },
          { id: b2, properties: { dealstage: 'closedlost', amount: '10' } },
        ],
      },
      p.rw(),
    );
    assert.equal(updated.httpStatusCode, 200);
    const updRaw = p.lastJson<WireBatch>();
    assert.deepEqual(
      updRaw.results.map((r) => [r.id, r.properties.dealstage]).sort(),
      [
        [b1, 'closedwon'],
        [b2, 'closedlost'],
      ].sort(),
    );
    const b1Now = await getDeal(p, b1, [entered('closedwon'), exited('appointmentscheduled')]);
    assert.equal(b1Now.properties[entered('closedwon')], b1Now.properties[exited('appointmentscheduled')]);
    assert.notEqual(b1Now.properties[entered('closedwon')], null);

    // An invalid stage anywhere in the batch fails the whole batch: nothing is changed.
    await expectApiError(
      p.deals.batchApi.update(
        {
          inputs: [
            { id: b1, properties: { dealstage: 'qualifiedtobuy' } },
            { id: b2, properties: { dealstage: 'no-such-stage' } },
          ],
        },
        p.rw(),
      ),
      400,
    );
    assert.equal((await getDeal(p, b1)).properties.dealstage, 'closedwon');
    await expectApiError(
      p.deals.batchApi.create(
        { inputs: [{ properties: { dealname: 'ok' } }, { properties: { dealstage: 'no-such-stage' } }] },
        p.rw(),
      ),
      400,
    );
    await p.deals.basicApi.getPage(100, undefined, undefined, undefined, undefined, false, p.rw());
    assert.equal(p.lastJson<WireRecordPage>().results.length, 3, 'the failed batch create left nothing');

    // Archive: 204, then gone from reads, listed with archived=true.
    const archived = await p.deals.batchApi.archiveWithHttpInfo({ inputs: [{ id: b1 }, { id: b3 }] }, p.rw());
    assert.equal(archived.httpStatusCode, 204);
    await expectApiError(
      p.deals.basicApi.getById(b1, undefined, undefined, undefined, undefined, undefined, p.rw()),
      404,
    );
    const afterArchive = await p.deals.batchApi.readWithHttpInfo(
      { inputs: [{ id: b1 }, { id: b2 }, { id: b3 }], properties: [], propertiesWithHistory: [] },
      undefined,
      p.rw(),
    );
    assert.equal(afterArchive.httpStatusCode, 207);
    const aaRaw = p.lastJson<WireBatch>();
    assert.deepEqual(
      aaRaw.results.map((r) => r.id),
      [b2],
    );
    assert.deepEqual(must(aaRaw.errors?.[0], 'error').context?.ids?.slice().sort(), [b1, b3].sort());
    await p.deals.basicApi.getPage(100, undefined, ['dealstage'], undefined, undefined, true, p.rw());
    const archivedPage = p.lastJson<WireRecordPage>();
    assert.deepEqual(archivedPage.results.map((r) => r.id).sort(), [b1, b3].sort());
    for (const r of archivedPage.results) assert.equal(r.archived, true);
  });

  it('serves crm.objects.basicApi by type id "0-3" and by name "tickets"', async () => {
    const p = portal();
    const info = await p.objects.basicApi.createWithHttpInfo(
      '0-3',
      { properties: { dealname: 'Via objects', dealstage: 'decisionmakerboughtin' } },
      p.rw(),
    );
    assert.equal(info.httpStatusCode, 201);
    const deal = p.lastJson<WireRecord>();
    assert.equal(deal.properties.pipeline, 'default');
    const viaDeals = await getDeal(p, deal.id, ['dealname', 'dealstage']);
    assert.equal(viaDeals.properties.dealname, 'Via objects');
    assert.equal(viaDeals.properties.dealstage, 'decisionmakerboughtin');
    await p.objects.basicApi.getById(
      'deals',
      deal.id,
      ['dealstage'],
      undefined,
      undefined,
      undefined,
      undefined,
      p.rw(),
    );
    assert.equal(p.lastJson<WireRecord>().properties.dealstage, 'decisionmakerboughtin');

    await p.objects.basicApi.update(
      '0-3',
      deal.id,
      { properties: { dealstage: 'contractsent' } },
      undefined,
      p.rw(),
    );
    assert.equal(p.lastJson<WireRecord>().properties.dealstage, 'contractsent');
    const page = await p.objects.basicApi.getPage(
      '0-3',
      10,
      undefined,
      ['dealstage'],
      undefined,
      undefined,
      false,
      p.rw(),
    );
    assert.deepEqual(
      page.results.map((r) => r.id),
      [deal.id],
    );

    const ticket = await p.objects.basicApi.create(
      'tickets',
      { properties: { subject: 'Via objects', hs_pipeline_stage: '2' } },
      p.rw(),
    );
    const viaTickets = await getTicket(p, ticket.id, ['subject', 'hs_pipeline', 'hs_pipeline_stage']);
    assert.deepEqual(viaTickets.properties.hs_pipeline, '0');
    assert.deepEqual(viaTickets.properties.hs_pipeline_stage, '2');
    const search = await p.objects.searchApi.doSearch(
      '0-5',
      { filterGroups: [stageFilter('hs_pipeline_stage', FilterOperatorEnum.Eq, '2')], limit: 10 },
      p.rw(),
    );
    assert.equal(search.total, 1);
    assert.equal(search.results[0]?.id, ticket.id);
    const batch = await p.objects.batchApi.readWithHttpInfo(
      'tickets',
      { inputs: [{ id: ticket.id }], properties: ['subject'], propertiesWithHistory: [] },
      undefined,
      p.rw(),
    );
    assert.equal(batch.httpStatusCode, 200);

    const archive = await p.objects.basicApi.archiveWithHttpInfo('tickets', ticket.id, p.rw());
    assert.equal(archive.httpStatusCode, 204);
    await expectApiError(
      p.tickets.basicApi.getById(ticket.id, undefined, undefined, undefined, undefined, undefined, p.rw()),
      404,
    );

    // A deal id is not a ticket id; an unknown type is HubSpot's 400.
    await expectApiError(
      p.objects.basicApi.getById(
        'tickets',
        deal.id,
        undefined,
        undefined,
        undefined,
        undefined,
        undefined,
        p.rw(),
      ),
      404,
    );
    await expectApiError(
      p.objects.basicApi.create('widgets', { properties: {} }, p.rw()),
      400,
      'Unable to infer object type from: widgets',
    );
  });
});

/** A custom deal pipeline with records: two in the first stage, one in the third, none in the second. */
async function occupiedDealPipeline(p: RecordsPortal, label: string) {
  const pipeline = await customDealPipeline(p, label);
  const [lead, demo, signed] = pipeline.stages as [string, string, string];
  const r1 = await createDeal(p, { dealname: 'r1', dealstage: lead });
  const r2 = await createDeal(p, { dealname: 'r2', dealstage: signed });
  const r3 = await createDeal(p, { dealname: 'r3', dealstage: lead });
  // Records elsewhere never count against this pipeline.
  await createDeal(p, { dealname: 'elsewhere', dealstage: 'closedwon' });
  return { ...pipeline, lead, demo, signed, records: byNumericId([r1.id, r2.id, r3.id]), r1, r2, r3 };
}

async function occupiedTicketPipeline(p: RecordsPortal, label: string) {
  const pipeline = await customTicketPipeline(p, label);
  const [queued, working, solved] = pipeline.stages as [string, string, string];
  const t1 = await createTicket(p, { subject: 't1', hs_pipeline_stage: working });
  await createTicket(p, { subject: 'elsewhere', hs_pipeline_stage: '1' });
  return { ...pipeline, queued, working, solved, t1 };
}

async function pipelineJson(p: Portal, type: string, id: string): Promise<WirePipeline> {
  const res = await p.raw<WirePipeline>('GET', `/crm/v3/pipelines/${type}/${id}`);
  assert.equal(res.status, 200, `pipeline ${id} is still there: ${res.text}`);
  return res.json;
}

describe('reference-checked deletes (STAGE_ID_IN_USE)', () => {
  for (const flag of ['validateReferencesBeforeDelete', 'validateDealStageUsagesBeforeDelete'] as const) {
    it(`deals, ${flag}: refuses pipeline DELETE, PUT and stage DELETE while records sit in a stage`, async () => {
      const p = portal();
      const occ = await occupiedDealPipeline(p, `Occupied ${flag}`);
      const before = await pipelineJson(p, 'deals', occ.id);
      const audits = await auditSnapshot(server.url, p.token, 'deals', occ.id, occ.stages);
      const refs = flag === 'validateReferencesBeforeDelete' ? true : undefined;
      const usages = flag === 'validateDealStageUsagesBeforeDelete' ? true : undefined;

      // Pipeline DELETE through the SDK.
      const del = await expectApiError(p.pipelines.archive('deals', occ.id, refs, usages, p.wire()), 400);
      // Every stage being removed is listed, the empty one too.
      assertStageInUse(del, occ.stages, occ.records, 'pipeline DELETE');

      // PUT through the SDK: 13.5 cannot send stageId, so every current stage would be removed.
      const put = await expectApiError(
        p.pipelines.replace(
          'deals',
          occ.id,
          {
            label: 'Replaced',
            displayOrder: 4,
            stages: [{ label: 'Fresh', displayOrder: 0, metadata: { probability: '0.5' } }],
          },
          refs,
          usages,
          p.wire(),
        ),
        400,
      );
      assertStageInUse(put, occ.stages, occ.records, 'pipeline PUT');

      // PUT (plain HTTP, keeping stages by stageId) that removes only the occupied stage "signed".
      const putRaw = await p.raw<WireError>('PUT', `/crm/v3/pipelines/deals/${occ.id}?${flag}=true`, {
        label: 'Replaced',
        displayOrder: 4,
        stages: [
          { stageId: occ.lead, label: 'Lead', displayOrder: 0, metadata: { probability: '0.1' } },
          { stageId: occ.demo, label: 'Demo', displayOrder: 1, metadata: { probability: '0.5' } },
        ],
      });
      assert.equal(putRaw.status, 400);
      assertStageInUse(putRaw.json, [occ.signed], [occ.r2.id], 'pipeline PUT removing one stage');

      // Stage DELETE (the SDK's stage archive sends no flags, so this is plain HTTP).
      const stageDel = await p.raw<WireError>(
        'DELETE',
        `/crm/v3/pipelines/deals/${occ.id}/stages/${occ.lead}?${flag}=true`,
      );
      assert.equal(stageDel.status, 400, `stage DELETE with ${flag}: ${stageDel.text}`);
      assertStageInUse(stageDel.json, [occ.lead], byNumericId([occ.r1.id, occ.r3.id]), 'stage DELETE');

      // Nothing changed and nothing was audited.
      assert.deepEqual(await pipelineJson(p, 'deals', occ.id), before, 'a refused delete changes nothing');
      assert.deepEqual(await auditSnapshot(server.url, p.token, 'deals', occ.id, occ.stages), audits);

      // The empty stage can go even with the flag; the PUT that keeps the occupied stages too.
      const emptyDel = await p.raw(
        'DELETE',
        `/crm/v3/pipelines/deals/${occ.id}/stages/${occ.demo}?${flag}=true`,
      );
      assert.equal(emptyDel.status, 204, `deleting the empty stage with ${flag}: ${emptyDel.text}`);
      const keep = await p.raw<WirePipeline>('PUT', `/crm/v3/pipelines/deals/${occ.id}?${flag}=true`, {
        label: 'Kept',
        displayOrder: 4,
        stages: [
          { stageId: occ.lead, label: 'Lead', displayOrder: 0, metadata: { probability: '0.1' } },
          { stageId: occ.signed, label: 'Signed', displayOrder: 1, metadata: { probability: '1.0' } },
        ],
      });
      assert.equal(keep.status, 200, keep.text);

      // Once the records leave (moved or archived), the flagged delete goes through.
      await moveDeal(p, occ.r1.id, { dealstage: 'qualifiedtobuy' });
      await p.deals.basicApi.archive(occ.r3.id, p.rw());
      const stillSigned = await expectApiError(
        p.pipelines.archive('deals', occ.id, refs, usages, p.wire()),
        400,
      );
      // Both remaining stages are being removed; only `signed` still holds a record.
      assertStageInUse(stillSigned, [occ.lead, occ.signed], [occ.r2.id]);
      await p.deals.batchApi.archive({ inputs: [{ id: occ.r2.id }] }, p.rw());
      const ok = await p.pipelines.archiveWithHttpInfo('deals', occ.id, refs, usages, p.wire());
      assert.equal(ok.httpStatusCode, 204);
      await expectApiError(p.pipelines.getById('deals', occ.id, p.wire()), 404);
    });
  }

  it('deals: a deal stage DELETE with validateDealStageUsagesBeforeDelete alone is refused too', async () => {
    // The issue lists validateDealStageUsagesBeforeDelete for stage DELETE of deals as well.
    const p = portal();
    const occ = await occupiedDealPipeline(p, 'Usages on stage delete');
    const res = await p.raw<WireError>(
      'DELETE',
      `/crm/v3/pipelines/deals/${occ.id}/stages/${occ.signed}?validateDealStageUsagesBeforeDelete=true`,
    );
    assert.equal(res.status, 400, `deal stage DELETE with validateDealStageUsagesBeforeDelete: ${res.text}`);
    assertStageInUse(res.json, [occ.signed], [occ.r2.id]);
  });

  it('tickets: validateReferencesBeforeDelete refuses; validateDealStageUsagesBeforeDelete alone does not', async () => {
    const p = portal();
    const occ = await occupiedTicketPipeline(p, 'Ticket refs');
    const before = await pipelineJson(p, 'tickets', occ.id);
    const audits = await auditSnapshot(server.url, p.token, 'tickets', occ.id, occ.stages);

    const del = await expectApiError(p.pipelines.archive('tickets', occ.id, true, undefined, p.wire()), 400);
    assertStageInUse(del, occ.stages, [occ.t1.id], 'ticket pipeline DELETE');
    const put = await expectApiError(
      p.pipelines.replace(
        'tickets',
        occ.id,
        {
          label: 'Replaced',
          displayOrder: 3,
          stages: [{ label: 'Only', displayOrder: 0, metadata: { ticketState: 'CLOSED' } }],
        },
        true,
        undefined,
        p.wire(),
      ),
      400,
    );
    assertStageInUse(put, occ.stages, [occ.t1.id], 'ticket pipeline PUT');
    const stageDel = await p.raw<WireError>(
      'DELETE',
      `/crm/v3/pipelines/tickets/${occ.id}/stages/${occ.working}?validateReferencesBeforeDelete=true`,
    );
    assert.equal(stageDel.status, 400);
    assertStageInUse(stageDel.json, [occ.working], [occ.t1.id], 'ticket stage DELETE');
    assert.deepEqual(await pipelineJson(p, 'tickets', occ.id), before);
    assert.deepEqual(await auditSnapshot(server.url, p.token, 'tickets', occ.id, occ.stages), audits);

    // The deal-only flag does not apply to tickets: the delete proceeds, the ticket keeps its values.
    const ok = await p.pipelines.archiveWithHttpInfo('tickets', occ.id, undefined, true, p.wire());
    assert.equal(ok.httpStatusCode, 204);
    await expectApiError(p.pipelines.getById('tickets', occ.id, p.wire()), 404);
    const ticket = await getTicket(p, occ.t1.id, ['hs_pipeline', 'hs_pipeline_stage']);
    assert.equal(ticket.properties.hs_pipeline, occ.id);
    assert.equal(ticket.properties.hs_pipeline_stage, occ.working);
    const audit = await p.audits.getAudit('tickets', occ.id, p.wire());
    assert.equal(audit.results[0]?.action, 'DELETE', 'the delete that went through is audited');

    // The same for a PUT that removes the occupied stage of another pipeline.
    const occ2 = await occupiedTicketPipeline(p, 'Ticket refs 2');
    const replaced = await p.pipelines.replace(
      'tickets',
      occ2.id,
      {
        label: 'Replaced 2',
        displayOrder: 3,
        stages: [{ label: 'Only', displayOrder: 0, metadata: { ticketState: 'CLOSED' } }],
      },
      undefined,
      true,
      p.wire(),
    );
    assert.deepEqual(
      replaced.stages.map((s) => s.label),
      ['Only'],
    );
    assert.equal(
      (await getTicket(p, occ2.t1.id, ['hs_pipeline_stage'])).properties.hs_pipeline_stage,
      occ2.working,
    );
  });

  it('without flags the deletes proceed and records keep their pipeline and stage values', async () => {
    const p = portal();
    const occ = await occupiedDealPipeline(p, 'No flags');

    // Stage DELETE without flags (SDK).
    const stageDel = await p.stages.archiveWithHttpInfo('deals', occ.id, occ.signed, p.wire());
    assert.equal(stageDel.httpStatusCode, 204);
    await expectApiError(p.stages.getById('deals', occ.id, occ.signed, p.wire()), 404);
    const r2 = await getDeal(p, occ.r2.id, [
      'pipeline',
      'dealstage',
      entered(occ.signed),
      exited(occ.signed),
    ]);
    assert.equal(r2.properties.pipeline, occ.id);
    assert.equal(r2.properties.dealstage, occ.signed, 'the record keeps the deleted stage as its value');
    assert.equal(r2.properties[exited(occ.signed)], null, 'deleting a stage is not a move');
    assert.equal(r2.updatedAt, occ.r2.updatedAt, 'deleting a stage does not touch the record');

    // Explicit false flags are the same as none.
    const putNoCheck = await p.raw<WirePipeline>(
      'PUT',
      `/crm/v3/pipelines/deals/${occ.id}?validateReferencesBeforeDelete=false&validateDealStageUsagesBeforeDelete=false`,
      {
        label: 'No flags',
        displayOrder: 4,
        stages: [
          { stageId: occ.demo, label: 'Demo', displayOrder: 0, metadata: { probability: '0.5' } },
          { label: 'New', displayOrder: 1, metadata: { probability: '0.7' } },
        ],
      },
    );
    assert.equal(putNoCheck.status, 200, putNoCheck.text);
    assert.deepEqual(
      putNoCheck.json.stages.map((s) => s.id).includes(occ.lead),
      false,
      'the occupied stage was removed',
    );
    const r1 = await getDeal(p, occ.r1.id, ['dealstage']);
    assert.equal(r1.properties.dealstage, occ.lead);

    // Pipeline DELETE without flags (SDK).
    const del = await p.pipelines.archiveWithHttpInfo('deals', occ.id, undefined, undefined, p.wire());
    assert.equal(del.httpStatusCode, 204);
    await expectApiError(p.pipelines.getById('deals', occ.id, p.wire()), 404);
    const r3 = await getDeal(p, occ.r3.id, ['pipeline', 'dealstage']);
    assert.equal(r3.properties.pipeline, occ.id, 'the record keeps the deleted pipeline as its value');
    assert.equal(r3.properties.dealstage, occ.lead);

    // A record sitting in a deleted stage can still be moved into a live one.
    const moved = await moveDeal(p, occ.r2.id, { dealstage: 'qualifiedtobuy' });
    assert.equal(moved.properties.pipeline, 'default');
    const after = await getDeal(p, occ.r2.id, [exited(occ.signed)]);
    assert.notEqual(after.properties[exited(occ.signed)], null);
  });

  it('explicit false flags are the same as no flags (v3)', async () => {
    const p = portal();
    const occ = await occupiedDealPipeline(p, 'False flags');
    const off = 'validateReferencesBeforeDelete=false&validateDealStageUsagesBeforeDelete=false';
    const put = await p.raw<WirePipeline>('PUT', `/crm/v3/pipelines/deals/${occ.id}?${off}`, {
      label: 'False flags',
      displayOrder: 4,
      stages: [
        { stageId: occ.lead, label: 'Lead', displayOrder: 0, metadata: { probability: '0.1' } },
        { stageId: occ.demo, label: 'Demo', displayOrder: 1, metadata: { probability: '0.5' } },
      ],
    });
    assert.equal(put.status, 200, `PUT removing the occupied "signed" with both flags false: ${put.text}`);
    const usagesOff = await p.raw(
      'DELETE',
      `/crm/v3/pipelines/deals/${occ.id}/stages/${occ.lead}?validateDealStageUsagesBeforeDelete=false`,
    );
    assert.equal(
      usagesOff.status,
      204,
      `deal stage DELETE with validateDealStageUsagesBeforeDelete=false: ${usagesOff.text}`,
    );
    assert.equal((await getDeal(p, occ.r1.id, ['dealstage'])).properties.dealstage, occ.lead);
    const del = await p.pipelines.archiveWithHttpInfo('deals', occ.id, false, false, p.wire());
    assert.equal(del.httpStatusCode, 204);
  });

  it('lists at most 100 referencing object ids', async () => {
    const p = portal();
    const pipeline = await customDealPipeline(p, 'Crowded');
    const [lead] = pipeline.stages as [string];
    const ids = await createDealsIn(p, 105, { dealstage: lead });
    const err = await expectApiError(
      p.pipelines.archive('deals', pipeline.id, true, undefined, p.wire()),
      400,
    );
    assert.equal(err.subCategory, 'PipelineError.STAGE_ID_IN_USE');
    const listed = parseBracketList(err.context?.objectIds?.[0]);
    assert.equal(listed.length, 100, 'exactly 100 object ids are listed');
    assert.equal(new Set(listed).size, 100, 'no id is listed twice');
    for (const id of listed) assert.ok(ids.includes(id), `${id} is one of the referencing records`);
    assertStageInUse(err, pipeline.stages, listed);
  });
});
