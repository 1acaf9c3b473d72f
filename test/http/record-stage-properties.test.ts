// The pipeline-derived record properties over HTTP, with the service's clock moved by hand: what a
// read returns, what search filters and sorts on, and the request Activepieces' "Updated Deal Stage"
// trigger sends (its body is copied field for field below).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import type { LightMyRequestResponse } from 'fastify';

import type { Stageline } from '../../src/stageline.js';
import {
  JSON_TYPE,
  assertError,
  buildStageline,
  call,
  createPipeline,
  json,
  must,
  newToken,
} from './support.js';

interface WireRecord {
  id: string;
  properties: Record<string, string | null>;
}
interface WirePage {
  total: number;
  results: WireRecord[];
  paging?: { next: { after: string } };
}

const OBJECTS = '/crm/v3/objects';
const T0 = Date.parse('2026-03-02T09:00:00.000Z');
const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

let now = T0;
let s: Stageline;
before(async () => {
  s = await buildStageline({}, { clock: () => now });
});
after(async () => {
  await s.close();
});

function ok<T>(res: LightMyRequestResponse, status = 200): T {
  assert.equal(res.statusCode, status, res.body);
  assert.equal(res.headers['content-type'], JSON_TYPE);
  return json<T>(res);
}

const create = async (token: string, properties: Record<string, string>, type = 'deals') =>
  ok<WireRecord>(await call(s, 'POST', `${OBJECTS}/${type}`, { token, body: { properties } }), 201);

async function move(
  token: string,
  id: string,
  properties: Record<string, string>,
  at: number,
  type = 'deals',
) {
  now = at;
  return ok<WireRecord>(await call(s, 'PATCH', `${OBJECTS}/${type}/${id}`, { token, body: { properties } }));
}

const read = async (token: string, id: string, names: string[], type = 'deals') =>
  ok<WireRecord>(await call(s, 'GET', `${OBJECTS}/${type}/${id}?properties=${names.join(',')}`, { token }))
    .properties;

/** A deal pipeline whose stages are open (0.5), won (1.0, closed) and lost (0.0, closed). */
async function dealPipeline(token: string) {
  const p = await createPipeline(s, token, 'deals', {
    label: 'Derived',
    displayOrder: 1,
    stages: [
      { label: 'Open', displayOrder: 0, metadata: { probability: '0.5' } },
      { label: 'Won', displayOrder: 1, metadata: { probability: '1.0', isClosed: 'true' } },
      { label: 'Lost', displayOrder: 2, metadata: { probability: '0.0', isClosed: 'true' } },
    ],
  });
  const [open, won, lost] = p.stages.map((st) => st.id);
  return { id: p.id, open: must(open), won: must(won), lost: must(lost) };
}

describe('deal properties derived from the pipeline stage', () => {
  it('answers closed/won state and probability from the current stage’s metadata', async () => {
    const token = newToken();
    const p = await dealPipeline(token);
    now = T0;
    const deal = await create(token, { dealname: 'Derived', dealstage: p.open });
    const names = [
      'hs_is_closed',
      'hs_is_closed_won',
      'hs_is_closed_lost',
      'hs_deal_stage_probability',
      'closedate',
    ];
    assert.deepEqual(await read(token, deal.id, names), {
      hs_is_closed: 'false',
      hs_is_closed_won: 'false',
      hs_is_closed_lost: 'false',
      hs_deal_stage_probability: '0.5',
      closedate: null,
      createdate: iso(T0),
      hs_lastmodifieddate: iso(T0),
      hs_object_id: deal.id,
    });

    await move(token, deal.id, { dealstage: p.won }, T0 + 2 * HOUR);
    const won = await read(token, deal.id, names);
    assert.equal(won.hs_is_closed, 'true');
    assert.equal(won.hs_is_closed_won, 'true');
    assert.equal(won.hs_is_closed_lost, 'false');
    assert.equal(won.hs_deal_stage_probability, '1');
    // closedate: set when the deal first entered a closed stage.
    assert.equal(won.closedate, iso(T0 + 2 * HOUR));

    await move(token, deal.id, { dealstage: p.lost }, T0 + 3 * HOUR);
    const lost = await read(token, deal.id, names);
    assert.deepEqual(
      [lost.hs_is_closed, lost.hs_is_closed_won, lost.hs_is_closed_lost, lost.hs_deal_stage_probability],
      ['true', 'false', 'true', '0'],
    );
    assert.equal(lost.closedate, iso(T0 + 2 * HOUR));
  });

  it('follows a change of the stage’s probability after the deal entered it', async () => {
    const token = newToken();
    const p = await dealPipeline(token);
    const deal = await create(token, { dealstage: p.open });
    const patched = await call(s, 'PATCH', `/crm/v3/pipelines/deals/${p.id}/stages/${p.open}`, {
      token,
      body: { metadata: { probability: '0.7' } },
    });
    assert.equal(patched.statusCode, 200, patched.body);
    assert.equal(
      (await read(token, deal.id, ['hs_deal_stage_probability'])).hs_deal_stage_probability,
      '0.7',
    );
  });

  it('keeps a close date the client set', async () => {
    const token = newToken();
    const p = await dealPipeline(token);
    const deal = await create(token, { dealstage: p.open, closedate: '2030-06-30T00:00:00.000Z' });
    await move(token, deal.id, { dealstage: p.won }, T0 + HOUR);
    assert.equal((await read(token, deal.id, ['closedate'])).closedate, '2030-06-30T00:00:00.000Z');
  });

  it('stamps hs_v2_ entry, exit, latest and cumulative times (ms) of each stage', async () => {
    const token = newToken();
    now = T0;
    const deal = await create(token, { dealstage: 'appointmentscheduled' });
    await move(token, deal.id, { dealstage: 'qualifiedtobuy' }, T0 + HOUR);
    await move(token, deal.id, { dealstage: 'appointmentscheduled' }, T0 + 3 * HOUR);
    await move(token, deal.id, { dealstage: 'qualifiedtobuy' }, T0 + 4 * HOUR);
    const names = [
      'hs_v2_date_entered_appointmentscheduled',
      'hs_v2_date_exited_appointmentscheduled',
      'hs_v2_latest_time_in_appointmentscheduled',
      'hs_v2_cumulative_time_in_appointmentscheduled',
      'hs_v2_date_entered_qualifiedtobuy',
      'hs_v2_cumulative_time_in_qualifiedtobuy',
      'hs_v2_date_entered_current_stage',
      'hs_v2_time_in_current_stage',
    ];
    const got = await read(token, deal.id, names);
    assert.deepEqual(
      names.map((n) => got[n]),
      [
        iso(T0 + 3 * HOUR),
        iso(T0 + 4 * HOUR),
        String(HOUR),
        String(2 * HOUR),
        iso(T0 + 4 * HOUR),
        String(2 * HOUR),
        iso(T0 + 4 * HOUR),
        iso(T0 + 4 * HOUR),
      ],
    );
  });

  it('refuses writes of derived properties', async () => {
    const token = newToken();
    for (const name of [
      'hs_is_closed',
      'hs_v2_date_entered_current_stage',
      'hs_v2_cumulative_time_in_closedwon',
    ]) {
      const res = await call(s, 'POST', `${OBJECTS}/deals`, { token, body: { properties: { [name]: 'x' } } });
      const err = assertError(res, 400, 'VALIDATION_ERROR');
      assert.equal(err.errors?.[0]?.code, 'READ_ONLY_VALUE', res.body);
    }
  });
});

describe('tickets', () => {
  it('get closed_date, time_to_close (ms) and hs_is_closed from a closed ticket stage', async () => {
    const token = newToken();
    now = T0;
    const ticket = await create(token, { subject: 'Help' }, 'tickets');
    assert.equal((await read(token, ticket.id, ['hs_is_closed'], 'tickets')).hs_is_closed, 'false');
    await move(token, ticket.id, { hs_pipeline_stage: '4' }, T0 + 5 * HOUR, 'tickets');
    const closed = await read(
      token,
      ticket.id,
      ['closed_date', 'time_to_close', 'hs_is_closed', 'hs_v2_date_entered_4', 'hs_v2_cumulative_time_in_1'],
      'tickets',
    );
    assert.equal(closed.closed_date, iso(T0 + 5 * HOUR));
    assert.equal(closed.time_to_close, String(5 * HOUR));
    assert.equal(closed.hs_is_closed, 'true');
    assert.equal(closed.hs_v2_date_entered_4, iso(T0 + 5 * HOUR));
    assert.equal(closed.hs_v2_cumulative_time_in_1, String(5 * HOUR));
  });
});

/** A pipeline of another type whose stages are open, done and cancelled (both `state` CLOSED). */
async function statePipeline(token: string, type: string) {
  const p = await createPipeline(s, token, type, {
    label: 'Fulfilment',
    displayOrder: 1,
    stages: [
      { label: 'Open', displayOrder: 0, metadata: { state: 'OPEN' } },
      { label: 'Done', displayOrder: 1, metadata: { state: 'CLOSED' } },
      { label: 'Cancelled', displayOrder: 2, metadata: { state: 'CLOSED' } },
    ],
  });
  const [open, done, cancelled] = p.stages.map((st) => st.id);
  return { id: p.id, open: must(open), done: must(done), cancelled: must(cancelled) };
}

describe('other pipeline types (orders, leads, …, custom objects)', () => {
  for (const type of ['orders', 'leads', 'appointments', '2-7']) {
    it(`${type}: closed_date, time_to_close and hs_is_closed as tickets get them`, async () => {
      const token = newToken();
      const p = await statePipeline(token, type);
      now = T0;
      const record = await create(token, { hs_pipeline: p.id, hs_pipeline_stage: p.open }, type);
      const names = ['closed_date', 'time_to_close', 'hs_is_closed', 'hs_v2_date_entered_current_stage'];
      const open = await read(token, record.id, names, type);
      assert.deepEqual([open.closed_date, open.time_to_close, open.hs_is_closed], [null, null, 'false']);

      await move(token, record.id, { hs_pipeline_stage: p.done }, T0 + 7 * HOUR, type);
      const done = await read(token, record.id, names, type);
      assert.equal(done.closed_date, iso(T0 + 7 * HOUR));
      assert.equal(done.time_to_close, String(7 * HOUR));
      assert.equal(done.hs_is_closed, 'true');
      assert.equal(done.hs_v2_date_entered_current_stage, iso(T0 + 7 * HOUR));

      // Moving on to another closed stage keeps the first close; reopening keeps it too.
      await move(token, record.id, { hs_pipeline_stage: p.cancelled }, T0 + 9 * HOUR, type);
      await move(token, record.id, { hs_pipeline_stage: p.open }, T0 + 10 * HOUR, type);
      const reopened = await read(token, record.id, names, type);
      assert.deepEqual(
        [reopened.closed_date, reopened.time_to_close, reopened.hs_is_closed],
        [iso(T0 + 7 * HOUR), String(7 * HOUR), 'false'],
      );
    });
  }

  it('refuses a write of time_to_close or hs_is_closed', async () => {
    const token = newToken();
    for (const name of ['time_to_close', 'hs_is_closed']) {
      const res = await call(s, 'POST', `${OBJECTS}/orders`, {
        token,
        body: { properties: { [name]: '1' } },
      });
      const err = assertError(res, 400, 'VALIDATION_ERROR');
      assert.equal(err.errors?.[0]?.code, 'READ_ONLY_VALUE', res.body);
    }
  });

  it('contacts in a closed lifecycle stage get no close stamps', async () => {
    const token = newToken();
    const contact = await create(token, { email: 'a@example.com', lifecyclestage: 'other' }, 'contacts');
    const got = await read(token, contact.id, ['closed_date', 'time_to_close', 'hs_is_closed'], 'contacts');
    assert.deepEqual([got.closed_date, got.time_to_close, got.hs_is_closed], [null, null, null]);
  });
});

describe('search on derived properties', () => {
  /** Activepieces' hubspot piece, triggers/deal-stage-updated.ts: the properties it asks for. */
  const ACTIVEPIECES_DEAL_PROPERTIES = [
    'dealtype',
    'dealname',
    'amount',
    'description',
    'closedate',
    'createdate',
    'num_associated_contacts',
    'hs_forecast_amount',
    'hs_forecast_probability',
    'hs_manual_forecast_category',
    'hs_next_step',
    'hs_object_id',
    'hs_lastmodifieddate',
    'hubspot_owner_id',
    'hubspot_team_id',
  ];

  /** The trigger's search body: `limit` 10 on its test run (lastFetchEpochMS 0), else 200. */
  const triggerBody = (pipelineId: string, stageId: string, lastFetchEpochMS: number) => ({
    limit: lastFetchEpochMS === 0 ? 10 : 200,
    properties: [...ACTIVEPIECES_DEAL_PROPERTIES, 'hs_v2_date_entered_current_stage'],
    sorts: ['-hs_v2_date_entered_current_stage'],
    filterGroups: [
      {
        filters: [
          { propertyName: 'pipeline', operator: 'EQ', value: pipelineId },
          { propertyName: 'dealstage', operator: 'EQ', value: stageId },
          {
            propertyName: 'hs_v2_date_entered_current_stage',
            operator: 'GT',
            value: lastFetchEpochMS.toString(),
          },
        ],
      },
    ],
  });

  const search = async (token: string, body: unknown, type = 'deals') =>
    ok<WirePage>(await call(s, 'POST', `${OBJECTS}/${type}/search`, { token, body }));

  it('serves Activepieces’ deal-stage trigger: deals that entered the stage since the last poll, newest first', async () => {
    const token = newToken();
    now = T0;
    const [a, b, c, d] = [
      await create(token, { dealname: 'A' }),
      await create(token, { dealname: 'B' }),
      await create(token, { dealname: 'C' }),
      await create(token, { dealname: 'D' }),
    ];
    await move(token, must(a).id, { dealstage: 'closedwon' }, T0 + HOUR);
    await move(token, must(b).id, { dealstage: 'closedwon' }, T0 + 3 * HOUR);
    await move(token, must(c).id, { dealstage: 'closedwon' }, T0 + 2 * HOUR);
    await move(token, must(d).id, { dealstage: 'closedlost' }, T0 + 4 * HOUR);

    // The test run: everything in the stage, newest entry first.
    const first = await search(token, triggerBody('default', 'closedwon', 0));
    assert.equal(first.total, 3);
    assert.deepEqual(
      first.results.map((r) => r.properties.dealname),
      ['B', 'C', 'A'],
    );
    const top = must(first.results[0]);
    assert.equal(top.properties.hs_v2_date_entered_current_stage, iso(T0 + 3 * HOUR));
    assert.deepEqual(
      Object.keys(top.properties).sort(),
      [...ACTIVEPIECES_DEAL_PROPERTIES, 'hs_v2_date_entered_current_stage'].sort(),
    );

    // A poll after the first move: only the deals that entered since, compared as instants.
    const poll = await search(token, triggerBody('default', 'closedwon', T0 + HOUR));
    assert.deepEqual(
      poll.results.map((r) => r.properties.dealname),
      ['B', 'C'],
    );
    assert.equal(poll.paging, undefined);
    assert.equal((await search(token, triggerBody('default', 'closedwon', T0 + 3 * HOUR))).total, 0);
  });

  it('filters and sorts on closed state, probability and time in stage', async () => {
    const token = newToken();
    now = T0;
    const open = await create(token, { dealname: 'open', dealstage: 'contractsent' });
    const won = await create(token, { dealname: 'won', dealstage: 'closedwon' });
    const lost = await create(token, { dealname: 'lost', dealstage: 'closedlost' });
    const names = (page: WirePage) => page.results.map((r) => r.properties.dealname);
    const filter = (propertyName: string, operator: string, value: string) => ({
      filterGroups: [{ filters: [{ propertyName, operator, value }] }],
      properties: ['dealname'],
    });
    assert.deepEqual(names(await search(token, filter('hs_is_closed', 'EQ', 'true'))), ['won', 'lost']);
    assert.deepEqual(names(await search(token, filter('hs_is_closed_won', 'EQ', 'true'))), ['won']);
    assert.deepEqual(names(await search(token, filter('hs_deal_stage_probability', 'GTE', '0.9'))), [
      'open',
      'won',
    ]);
    const byProbability = await search(token, {
      sorts: [{ propertyName: 'hs_deal_stage_probability', direction: 'DESCENDING' }],
      properties: ['dealname'],
    });
    assert.deepEqual(names(byProbability), ['won', 'open', 'lost']);
    await move(token, lost.id, { dealstage: 'appointmentscheduled' }, T0 + HOUR);
    const since = filter('hs_v2_time_in_current_stage', 'LT', String(T0 + HOUR));
    assert.deepEqual(names(await search(token, since)), ['open', 'won']);
    assert.ok(open.id && won.id);
  });

  it('matches a full-text query against the type’s default searchable properties', async () => {
    const token = newToken();
    await create(token, { dealname: 'Renewal for ACME Corp' });
    await create(token, { dealname: 'Globex', description: 'acme referral' });
    await create(token, { dealname: 'Initech', note: 'acme' });
    await create(token, { subject: 'ACME printer jam' }, 'tickets');
    const names = (page: WirePage) => page.results.map((r) => r.properties.dealname);
    const found = await search(token, { query: 'acme', properties: ['dealname'] });
    assert.equal(found.total, 2);
    assert.deepEqual(names(found), ['Renewal for ACME Corp', 'Globex']);
    assert.deepEqual(names(await search(token, { query: 'Acme renew', properties: ['dealname'] })), [
      'Renewal for ACME Corp',
    ]);
    // dealstage is searchable too: the stage id of where a deal sits.
    assert.equal((await search(token, { query: 'appointmentscheduled' })).total, 3);
    const tickets = await search(token, { query: 'printer' }, 'tickets');
    assert.equal(tickets.total, 1);
  });

  it('filters and sorts tickets on closed_date and time_to_close', async () => {
    const token = newToken();
    now = T0;
    const early = await create(token, { subject: 'early' }, 'tickets');
    const late = await create(token, { subject: 'late' }, 'tickets');
    await create(token, { subject: 'open' }, 'tickets');
    await move(token, early.id, { hs_pipeline_stage: '4' }, T0 + 5 * HOUR, 'tickets');
    await move(token, late.id, { hs_pipeline_stage: '4' }, T0 + 6 * HOUR, 'tickets');
    const subjects = (page: WirePage) => page.results.map((r) => r.properties.subject);
    const closedSince = await search(
      token,
      {
        filterGroups: [
          { filters: [{ propertyName: 'closed_date', operator: 'GTE', value: String(T0 + 6 * HOUR) }] },
        ],
        properties: ['subject'],
      },
      'tickets',
    );
    assert.deepEqual(subjects(closedSince), ['late']);
    const byTime = await search(
      token,
      {
        filterGroups: [{ filters: [{ propertyName: 'time_to_close', operator: 'HAS_PROPERTY' }] }],
        sorts: [{ propertyName: 'time_to_close', direction: 'DESCENDING' }],
        properties: ['subject', 'time_to_close'],
      },
      'tickets',
    );
    assert.deepEqual(subjects(byTime), ['late', 'early']);
    assert.deepEqual(
      byTime.results.map((r) => r.properties.time_to_close),
      [String(6 * HOUR), String(5 * HOUR)],
    );
    const byDate = await search(
      token,
      { sorts: [{ propertyName: 'closed_date', direction: 'ASCENDING' }], properties: ['subject'] },
      'tickets',
    );
    // Records without the property sort last.
    assert.deepEqual(subjects(byDate), ['early', 'late', 'open']);
  });

  it('filters and sorts orders on their closed_date, time_to_close and hs_is_closed', async () => {
    const token = newToken();
    const p = await statePipeline(token, 'orders');
    now = T0;
    const a = await create(
      token,
      { hs_order_name: 'a', hs_pipeline: p.id, hs_pipeline_stage: p.open },
      'orders',
    );
    now = T0 + HOUR;
    const b = await create(
      token,
      { hs_order_name: 'b', hs_pipeline: p.id, hs_pipeline_stage: p.open },
      'orders',
    );
    await create(token, { hs_order_name: 'c', hs_pipeline: p.id, hs_pipeline_stage: p.open }, 'orders');
    await move(token, a.id, { hs_pipeline_stage: p.done }, T0 + 4 * HOUR, 'orders');
    await move(token, b.id, { hs_pipeline_stage: p.cancelled }, T0 + 3 * HOUR, 'orders');
    const names = (page: WirePage) => page.results.map((r) => r.properties.hs_order_name);
    const closed = await search(
      token,
      {
        filterGroups: [{ filters: [{ propertyName: 'hs_is_closed', operator: 'EQ', value: 'true' }] }],
        sorts: [{ propertyName: 'closed_date', direction: 'DESCENDING' }],
        properties: ['hs_order_name'],
      },
      'orders',
    );
    assert.deepEqual(names(closed), ['a', 'b']);
    const quick = await search(
      token,
      {
        filterGroups: [
          { filters: [{ propertyName: 'time_to_close', operator: 'LT', value: String(3 * HOUR) }] },
        ],
        properties: ['hs_order_name'],
      },
      'orders',
    );
    assert.deepEqual(names(quick), ['b']);
    const byTime = await search(
      token,
      { sorts: [{ propertyName: 'time_to_close', direction: 'ASCENDING' }], properties: ['hs_order_name'] },
      'orders',
    );
    assert.deepEqual(names(byTime), ['b', 'a', 'c']);
  });
});
