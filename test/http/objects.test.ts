// The CRM objects API for records in pipelines over `inject`: status codes, placement in pipelines
// and stages, reads and paging, batches, search, scopes, portal isolation, and the STAGE_ID_IN_USE
// refusal of reference-checked deletes with many occupying records.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import type { LightMyRequestResponse } from 'fastify';

import type { Stageline } from '../../src/stageline.js';
import { HUBSPOT_DEFAULT_PROPERTIES } from '../helpers/hubspot-defaults.js';
import type { WirePipeline } from '../helpers/wire-types.js';
import {
  BASE,
  ISO_UTC,
  JSON_TYPE,
  MISSING_SCOPES_MESSAGE,
  assertError,
  buildStageline,
  call,
  createPipeline,
  dealPipeline,
  json,
  must,
  newToken,
  useStageline,
} from './support.js';

const OBJECTS = '/crm/v3/objects';

interface WireRecord {
  id: string;
  properties: Record<string, string | null>;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  archivedAt?: string;
}

interface WirePage {
  total?: number;
  results: WireRecord[];
  paging?: { next: { after: string } };
}

interface WireBatch {
  status: string;
  results: WireRecord[];
  numErrors?: number;
  errors?: Array<{ status: string; category: string; message: string; context: Record<string, string[]> }>;
  startedAt: string;
  completedAt: string;
}

type Properties = Record<string, string | number | boolean | null>;

const server = useStageline();

function ok<T>(res: LightMyRequestResponse, status: number, what: string): T {
  assert.equal(res.statusCode, status, `${what}: ${res.body}`);
  assert.equal(res.headers['content-type'], JSON_TYPE, what);
  return json<T>(res);
}

async function create(token: string, properties: Properties = {}, type = 'deals'): Promise<WireRecord> {
  const res = await server.call('POST', `${OBJECTS}/${type}`, { token, body: { properties } });
  return ok<WireRecord>(res, 201, `create ${type}`);
}

async function createMany(token: string, inputs: Properties[], type = 'deals'): Promise<WireRecord[]> {
  const res = await server.call('POST', `${OBJECTS}/${type}/batch/create`, {
    token,
    body: { inputs: inputs.map((properties) => ({ properties })) },
  });
  return ok<WireBatch>(res, 201, `batch create ${type}`).results;
}

async function read(token: string, path: string): Promise<WireRecord> {
  return ok<WireRecord>(await server.call('GET', `${OBJECTS}${path}`, { token }), 200, `GET ${path}`);
}

async function listIds(token: string, type = 'deals', query = ''): Promise<string[]> {
  const page = ok<WirePage>(
    await server.call('GET', `${OBJECTS}/${type}?limit=100${query}`, { token }),
    200,
    `list ${type}`,
  );
  return page.results.map((r) => r.id);
}

const ids = (records: WireRecord[]) => records.map((r) => r.id);
const byNumber = (a: string, b: string) => Number(a) - Number(b);
const sortedKeys = (o: object) => Object.keys(o).sort();

/** A new deal pipeline with the given stages, in display order. */
const newDealPipeline = (
  token: string,
  label: string,
  stages = ['Open', 'Middle', 'Won'],
  displayOrder = 1,
) => server.createPipeline(token, 'deals', dealPipeline(label, displayOrder, stages));

function assertInputError(res: LightMyRequestResponse, property: string, code: string): void {
  const err = assertError(res, 400, 'VALIDATION_ERROR');
  const detail = err.errors?.find((e) => e.in === property);
  assert.ok(detail, `no error about ${property} in ${res.body}`);
  assert.equal(detail.code, code, res.body);
}

describe('status codes', () => {
  it('POST 201, GET 200, PATCH 200, DELETE 204 with an empty body', async () => {
    const token = newToken();
    const created = await create(token, { dealname: 'Codes', amount: 10 });
    assert.match(created.id, /^\d+$/);
    assert.equal(created.archived, false);
    assert.match(created.createdAt, ISO_UTC);
    assert.equal(created.createdAt, created.updatedAt);
    assert.equal(created.properties.dealname, 'Codes');
    assert.equal(created.properties.amount, '10');
    assert.equal(created.properties.hs_object_id, created.id);

    const got = await read(token, `/deals/${created.id}`);
    assert.deepEqual(got, created);

    const patched = ok<WireRecord>(
      await server.call('PATCH', `${OBJECTS}/deals/${created.id}`, {
        token,
        body: { properties: { amount: 20 } },
      }),
      200,
      'PATCH',
    );
    assert.equal(patched.properties.amount, '20');
    assert.equal(patched.properties.dealname, 'Codes');
    assert.equal(patched.createdAt, created.createdAt);

    const deleted = await server.call('DELETE', `${OBJECTS}/deals/${created.id}`, { token });
    assert.equal(deleted.statusCode, 204);
    assert.equal(deleted.body, '');
    assertError(
      await server.call('GET', `${OBJECTS}/deals/${created.id}`, { token }),
      404,
      'OBJECT_NOT_FOUND',
    );
  });

  it('PATCH and DELETE of an unknown record are 404s in the envelope', async () => {
    const token = newToken();
    const patch = await server.call('PATCH', `${OBJECTS}/deals/999999`, { token, body: { properties: {} } });
    assertError(patch, 404, 'OBJECT_NOT_FOUND');
    assertError(await server.call('DELETE', `${OBJECTS}/deals/999999`, { token }), 404, 'OBJECT_NOT_FOUND');
    assertError(
      await server.call('DELETE', `${OBJECTS}/deals/not-a-number`, { token }),
      404,
      'OBJECT_NOT_FOUND',
    );
  });

  it('a PATCH of an archived record is a 404 and changes nothing', async () => {
    const token = newToken();
    const r = await create(token, { dealname: 'Gone' });
    await server.call('DELETE', `${OBJECTS}/deals/${r.id}`, { token });
    const patch = await server.call('PATCH', `${OBJECTS}/deals/${r.id}`, {
      token,
      body: { properties: { dealname: 'Back' } },
    });
    assertError(patch, 404, 'OBJECT_NOT_FOUND');
    assert.equal((await read(token, `/deals/${r.id}?archived=true`)).properties.dealname, 'Gone');
  });

  it('refuses an unknown object type with HubSpot’s message', async () => {
    const res = await server.call('POST', `${OBJECTS}/widgets`, {
      token: newToken(),
      body: { properties: {} },
    });
    assertError(res, 400, 'VALIDATION_ERROR', 'Unable to infer object type from: widgets');
  });
});

describe('placement in pipelines and stages', () => {
  it('puts a new deal in the first stage of the default pipeline', async () => {
    const token = newToken();
    const r = await create(token, { dealname: 'Defaults' });
    assert.equal(r.properties.pipeline, 'default');
    assert.equal(r.properties.dealstage, 'appointmentscheduled');
    const stamps = await read(token, `/deals/${r.id}?properties=hs_date_entered_appointmentscheduled`);
    assert.equal(stamps.properties.hs_date_entered_appointmentscheduled, r.properties.createdate);
  });

  it('puts a new ticket in stage 1 of pipeline 0, also addressed by type id', async () => {
    const token = newToken();
    const t = await create(token, { subject: 'Help' }, 'tickets');
    assert.equal(t.properties.hs_pipeline, '0');
    assert.equal(t.properties.hs_pipeline_stage, '1');
    assert.equal(t.properties.subject, 'Help');
    assert.equal((await read(token, `/0-5/${t.id}`)).id, t.id);
  });

  it('uses the first live pipeline by display order when the default one is deleted', async () => {
    const token = newToken();
    await newDealPipeline(token, 'Later', ['L1', 'L2'], 7);
    const first = await newDealPipeline(token, 'First', ['F1', 'F2'], 2);
    const del = await server.call('DELETE', `${BASE}/deals/default`, { token });
    assert.equal(del.statusCode, 204, del.body);
    const r = await create(token, { dealname: 'Moved on' });
    assert.equal(r.properties.pipeline, first.id);
    assert.equal(r.properties.dealstage, must(first.stages[0]).id);
  });

  it('a stage alone implies its pipeline', async () => {
    const token = newToken();
    const p = await newDealPipeline(token, 'Implied');
    const middle = must(p.stages[1]);
    const r = await create(token, { dealname: 'x', dealstage: middle.id });
    assert.equal(r.properties.pipeline, p.id);
    assert.equal(r.properties.dealstage, middle.id);
    // And moving to a stage of another pipeline moves the record there.
    const moved = ok<WireRecord>(
      await server.call('PATCH', `${OBJECTS}/deals/${r.id}`, {
        token,
        body: { properties: { dealstage: 'closedwon' } },
      }),
      200,
      'PATCH',
    );
    assert.equal(moved.properties.pipeline, 'default');
    assert.equal(moved.properties.dealstage, 'closedwon');
  });

  it('a pipeline alone takes its first stage, or keeps the current one when it belongs there', async () => {
    const token = newToken();
    const p = await newDealPipeline(token, 'Alone');
    const r = await create(token, { pipeline: p.id });
    assert.equal(r.properties.pipeline, p.id);
    assert.equal(r.properties.dealstage, must(p.stages[0]).id);

    const patch = (properties: Properties) =>
      server.call('PATCH', `${OBJECTS}/deals/${r.id}`, { token, body: { properties } });
    await patch({ dealstage: must(p.stages[2]).id });
    const same = ok<WireRecord>(await patch({ pipeline: p.id }), 200, 'PATCH same pipeline');
    assert.equal(same.properties.dealstage, must(p.stages[2]).id);
    const back = ok<WireRecord>(await patch({ pipeline: 'default' }), 200, 'PATCH other pipeline');
    assert.equal(back.properties.dealstage, 'appointmentscheduled');
  });

  it('an unknown stage or pipeline is a 400 with errors[], and nothing is created', async () => {
    const token = newToken();
    const p = await newDealPipeline(token, 'Strict');
    assertInputError(
      await server.call('POST', `${OBJECTS}/deals`, { token, body: { properties: { dealstage: 'nope' } } }),
      'dealstage',
      'INVALID_OPTION',
    );
    assertInputError(
      await server.call('POST', `${OBJECTS}/deals`, { token, body: { properties: { pipeline: 'nope' } } }),
      'pipeline',
      'INVALID_OPTION',
    );
    // A stage of another pipeline than the one named.
    assertInputError(
      await server.call('POST', `${OBJECTS}/deals`, {
        token,
        body: { properties: { pipeline: p.id, dealstage: 'closedwon' } },
      }),
      'dealstage',
      'INVALID_OPTION',
    );
    // A ticket stage is no deal stage.
    assertInputError(
      await server.call('POST', `${OBJECTS}/deals`, { token, body: { properties: { dealstage: '4' } } }),
      'dealstage',
      'INVALID_OPTION',
    );
    assert.deepEqual(await listIds(token), []);
  });

  it('an unknown stage in a PATCH is a 400 and leaves the record where it was', async () => {
    const token = newToken();
    const r = await create(token, { dealstage: 'contractsent' });
    assertInputError(
      await server.call('PATCH', `${OBJECTS}/deals/${r.id}`, {
        token,
        body: { properties: { dealstage: 'nope', dealname: 'changed' } },
      }),
      'dealstage',
      'INVALID_OPTION',
    );
    const got = await read(token, `/deals/${r.id}`);
    assert.equal(got.properties.dealstage, 'contractsent');
    assert.equal(got.properties.dealname, null);
  });

  it('refuses an archived stage and the stages of an archived pipeline', async () => {
    const token = newToken();
    const p = await newDealPipeline(token, 'Shrinking');
    const gone = must(p.stages[1]);
    const del = await server.call('DELETE', `${BASE}/deals/${p.id}/stages/${gone.id}`, { token });
    assert.equal(del.statusCode, 204, del.body);
    assertInputError(
      await server.call('POST', `${OBJECTS}/deals`, { token, body: { properties: { dealstage: gone.id } } }),
      'dealstage',
      'INVALID_OPTION',
    );
    const r = await create(token, { dealstage: must(p.stages[0]).id });
    assertInputError(
      await server.call('PATCH', `${OBJECTS}/deals/${r.id}`, {
        token,
        body: { properties: { dealstage: gone.id } },
      }),
      'dealstage',
      'INVALID_OPTION',
    );

    const q = await newDealPipeline(token, 'Deleted', ['Q1', 'Q2']);
    assert.equal((await server.call('DELETE', `${BASE}/deals/${q.id}`, { token })).statusCode, 204);
    assertInputError(
      await server.call('POST', `${OBJECTS}/deals`, { token, body: { properties: { pipeline: q.id } } }),
      'pipeline',
      'INVALID_OPTION',
    );
    assertError(
      await server.call('POST', `${OBJECTS}/deals`, {
        token,
        body: { properties: { dealstage: must(q.stages[0]).id } },
      }),
      400,
      'VALIDATION_ERROR',
    );
    assert.deepEqual(await listIds(token), [r.id]);
  });

  it('refuses clearing the stage and writing read-only properties', async () => {
    const token = newToken();
    const r = await create(token);
    assertInputError(
      await server.call('PATCH', `${OBJECTS}/deals/${r.id}`, {
        token,
        body: { properties: { dealstage: null } },
      }),
      'dealstage',
      'INVALID_OPTION',
    );
    for (const name of ['hs_object_id', 'createdate', 'hs_lastmodifieddate', 'hs_date_entered_closedwon']) {
      assertInputError(
        await server.call('POST', `${OBJECTS}/deals`, { token, body: { properties: { [name]: '1' } } }),
        name,
        'READ_ONLY_VALUE',
      );
    }
    assert.deepEqual(await listIds(token), [r.id]);
  });

  it('stamps the stages a record enters and leaves', async () => {
    const token = newToken();
    const r = await create(token);
    const move = (dealstage: string) =>
      server.call('PATCH', `${OBJECTS}/deals/${r.id}`, { token, body: { properties: { dealstage } } });
    ok(await move('closedwon'), 200, 'move to closedwon');
    const stamps =
      '?properties=hs_date_entered_appointmentscheduled,hs_date_exited_appointmentscheduled,hs_date_entered_closedwon,hs_date_exited_closedwon';
    const moved = await read(token, `/deals/${r.id}${stamps}`);
    assert.match(must(moved.properties.hs_date_entered_appointmentscheduled), ISO_UTC);
    assert.match(must(moved.properties.hs_date_exited_appointmentscheduled), ISO_UTC);
    assert.match(must(moved.properties.hs_date_entered_closedwon), ISO_UTC);
    assert.equal(moved.properties.hs_date_exited_closedwon, null);

    ok(await move('appointmentscheduled'), 200, 'move back');
    const back = await read(token, `/deals/${r.id}${stamps}`);
    assert.equal(back.properties.hs_date_exited_appointmentscheduled, null);
    assert.match(must(back.properties.hs_date_exited_closedwon), ISO_UTC);
  });

  it('accepts numbers and booleans as values, returns strings, and clears with null or ""', async () => {
    const token = newToken();
    const r = await create(token, { amount: 12.5, hot: true, dealname: 'N' });
    const got = await read(token, `/deals/${r.id}?properties=amount,hot,dealname`);
    assert.equal(got.properties.amount, '12.5');
    assert.equal(got.properties.hot, 'true');
    await server.call('PATCH', `${OBJECTS}/deals/${r.id}`, {
      token,
      body: { properties: { amount: null, hot: '' } },
    });
    const cleared = await read(token, `/deals/${r.id}?properties=amount,hot,dealname`);
    assert.equal(cleared.properties.amount, null);
    assert.equal(cleared.properties.hot, null);
    assert.equal(cleared.properties.dealname, 'N');
  });

  it('accepts an empty associations list', async () => {
    const token = newToken();
    const res = await server.call('POST', `${OBJECTS}/deals`, {
      token,
      body: { properties: {}, associations: [] },
    });
    assert.equal(res.statusCode, 201, res.body);
  });
});

describe('reading records', () => {
  it('parses properties=a,b and repeated properties=a&properties=b alike', async () => {
    const token = newToken();
    const r = await create(token, { dealname: 'Props', amount: 5, closedate: '2030-01-01' });
    const expected = {
      dealname: 'Props',
      amount: '5',
      createdate: r.properties.createdate,
      hs_lastmodifieddate: r.properties.hs_lastmodifieddate,
      hs_object_id: r.id,
    };
    for (const query of [
      'properties=dealname,amount',
      'properties=dealname&properties=amount',
      'properties=dealname,%20amount',
      'properties=dealname,amount,dealname',
    ]) {
      assert.deepEqual((await read(token, `/deals/${r.id}?${query}`)).properties, expected, query);
    }
    const mixed = await read(
      token,
      `/deals/${r.id}?properties=dealname,amount&properties=closedate&properties=nothing`,
    );
    assert.deepEqual(mixed.properties, { ...expected, closedate: '2030-01-01', nothing: null });
    // The list takes the same parameter.
    const page = ok<WirePage>(
      await server.call('GET', `${OBJECTS}/deals?properties=dealname&properties=amount`, { token }),
      200,
      'list',
    );
    assert.deepEqual(must(page.results[0]).properties, expected);
  });

  it('shows the type’s default properties when none are named', async () => {
    const token = newToken();
    const r = await create(token, { dealname: 'Defaults', custom_thing: 'hidden' });
    for (const query of ['', '?properties=', '?properties=,']) {
      const got = await read(token, `/deals/${r.id}${query}`);
      assert.deepEqual(sortedKeys(got.properties), [...HUBSPOT_DEFAULT_PROPERTIES.deals], query);
    }
    const ticket = await create(token, {}, 'tickets');
    assert.deepEqual(sortedKeys(ticket.properties), [...HUBSPOT_DEFAULT_PROPERTIES.tickets]);
  });

  it('an unknown, malformed or archived id is a 404; archived=true returns archived records only', async () => {
    const token = newToken();
    const live = await create(token, { dealname: 'Live' });
    const gone = await create(token, { dealname: 'Gone' });
    assert.equal((await server.call('DELETE', `${OBJECTS}/deals/${gone.id}`, { token })).statusCode, 204);

    for (const id of ['999999999999', 'abc', '0', String(Number(gone.id) + 1000)]) {
      const res = await server.call('GET', `${OBJECTS}/deals/${id}`, { token });
      assertError(res, 404, 'OBJECT_NOT_FOUND');
    }
    assertError(await server.call('GET', `${OBJECTS}/deals/${gone.id}`, { token }), 404, 'OBJECT_NOT_FOUND');

    const archived = await read(token, `/deals/${gone.id}?archived=true`);
    assert.equal(archived.archived, true);
    assert.match(must(archived.archivedAt), ISO_UTC);
    assert.equal(archived.properties.dealname, 'Gone');
    assertError(
      await server.call('GET', `${OBJECTS}/deals/${live.id}?archived=true`, { token }),
      404,
      'OBJECT_NOT_FOUND',
    );
    // A deal id is no ticket id.
    assertError(
      await server.call('GET', `${OBJECTS}/tickets/${live.id}`, { token }),
      404,
      'OBJECT_NOT_FOUND',
    );
  });

  it('lists records in pages, following paging.next.after, live and archived apart', async () => {
    const token = newToken();
    const made = await createMany(token, [
      { dealname: 'a' },
      { dealname: 'b' },
      { dealname: 'c' },
      { dealname: 'd' },
    ]);
    const [a, b, c, d] = made.map((r) => r.id).sort(byNumber);
    await server.call('DELETE', `${OBJECTS}/deals/${must(b)}`, { token });

    const first = ok<WirePage>(
      await server.call('GET', `${OBJECTS}/deals?limit=2`, { token }),
      200,
      'page 1',
    );
    assert.deepEqual(ids(first.results), [a, c]);
    const after = must(first.paging?.next.after);
    const second = ok<WirePage>(
      await server.call('GET', `${OBJECTS}/deals?limit=2&after=${after}`, { token }),
      200,
      'page 2',
    );
    assert.deepEqual(ids(second.results), [d]);
    assert.equal(second.paging, undefined);

    const exact = ok<WirePage>(await server.call('GET', `${OBJECTS}/deals?limit=3`, { token }), 200, 'exact');
    assert.equal(exact.results.length, 3);
    assert.equal(exact.paging, undefined);

    const archived = ok<WirePage>(
      await server.call('GET', `${OBJECTS}/deals?archived=true`, { token }),
      200,
      'archived',
    );
    assert.deepEqual(ids(archived.results), [b]);
    assert.equal(must(archived.results[0]).archived, true);
  });

  it('serves a limit above 100 as 100, as HubSpot caps its list pages', async () => {
    const token = newToken();
    const inputs = Array.from({ length: 100 }, (_, i) => ({ dealname: `d${i}` }));
    const made = [...(await createMany(token, inputs)), ...(await createMany(token, inputs.slice(0, 5)))];
    const all = made.map((r) => r.id).sort(byNumber);
    for (const limit of [101, 250, 100000]) {
      const page = ok<WirePage>(
        await server.call('GET', `${OBJECTS}/deals?limit=${limit}`, { token }),
        200,
        `limit=${limit}`,
      );
      assert.deepEqual(ids(page.results), all.slice(0, 100), `limit=${limit}`);
      const rest = ok<WirePage>(
        await server.call('GET', `${OBJECTS}/deals?limit=${limit}&after=${must(page.paging?.next.after)}`, {
          token,
        }),
        200,
        'second page',
      );
      assert.deepEqual(ids(rest.results), all.slice(100));
      assert.equal(rest.paging, undefined);
    }
  });

  it('refuses a limit below 1 and an after that is no cursor', async () => {
    const token = newToken();
    for (const query of ['limit=0', 'limit=-1', 'limit=abc', 'after=abc', 'after=-1', 'after=1.5']) {
      const res = await server.call('GET', `${OBJECTS}/deals?${query}`, { token });
      assertError(res, 400, 'VALIDATION_ERROR');
    }
    assert.equal((await server.call('GET', `${OBJECTS}/deals?limit=100`, { token })).statusCode, 200);
  });
});

describe('batches', () => {
  it('batch read answers 207 naming the missing ids in errors[0].context.ids', async () => {
    const token = newToken();
    const [x, y] = await createMany(token, [{ dealname: 'x' }, { dealname: 'y' }]);
    const gone = await create(token, { dealname: 'gone' });
    await server.call('DELETE', `${OBJECTS}/deals/${gone.id}`, { token });

    const res = await server.call('POST', `${OBJECTS}/deals/batch/read`, {
      token,
      body: {
        inputs: [{ id: must(x).id }, { id: '424242' }, { id: must(y).id }, { id: gone.id }],
        properties: ['dealname'],
      },
    });
    const body = ok<WireBatch>(res, 207, 'batch read');
    assert.equal(body.status, 'COMPLETE');
    assert.deepEqual(ids(body.results).sort(byNumber), [must(x).id, must(y).id].sort(byNumber));
    for (const r of body.results) {
      assert.deepEqual(sortedKeys(r.properties), [
        'createdate',
        'dealname',
        'hs_lastmodifieddate',
        'hs_object_id',
      ]);
    }
    assert.equal(body.numErrors, 1);
    const error = must(body.errors?.[0]);
    assert.equal(error.status, 'error');
    assert.equal(error.category, 'OBJECT_NOT_FOUND');
    assert.deepEqual([...must(error.context.ids)].sort(), ['424242', gone.id].sort());
    assert.match(body.startedAt, ISO_UTC);
    assert.match(body.completedAt, ISO_UTC);

    const all = ok<WireBatch>(
      await server.call('POST', `${OBJECTS}/deals/batch/read`, {
        token,
        body: { inputs: [{ id: must(x).id }] },
      }),
      200,
      'batch read, all found',
    );
    assert.equal(all.errors, undefined);
    assert.deepEqual(ids(all.results), [must(x).id]);

    const archived = ok<WireBatch>(
      await server.call('POST', `${OBJECTS}/deals/batch/read?archived=true`, {
        token,
        body: { inputs: [{ id: gone.id }] },
      }),
      200,
      'batch read archived',
    );
    assert.deepEqual(ids(archived.results), [gone.id]);
  });

  it('batch create is all or nothing: one invalid input is a 400 and nothing is created', async () => {
    const token = newToken();
    const res = await server.call('POST', `${OBJECTS}/deals/batch/create`, {
      token,
      body: {
        inputs: [
          { properties: { dealname: 'one' } },
          { properties: { dealname: 'two' } },
          { properties: { dealname: 'three', dealstage: 'no-such-stage' } },
        ],
      },
    });
    assertError(res, 400, 'VALIDATION_ERROR');
    assert.deepEqual(await listIds(token), []);

    const made = await createMany(token, [{ dealname: 'one' }, { dealname: 'two', dealstage: 'closedwon' }]);
    assert.equal(made.length, 2);
    assert.equal(new Set(ids(made)).size, 2);
    assert.deepEqual((await listIds(token)).sort(byNumber), ids(made).sort(byNumber));
    assert.deepEqual(
      made.map((r) => r.properties.dealstage),
      ['appointmentscheduled', 'closedwon'],
    );
  });

  it('batch update applies what it can and answers 207 for missing ids', async () => {
    const token = newToken();
    const [a, b] = await createMany(token, [{ dealname: 'a' }, { dealname: 'b' }]);
    const res = await server.call('POST', `${OBJECTS}/deals/batch/update`, {
      token,
      body: {
        inputs: [
          { id: must(a).id, properties: { dealname: 'A2', dealstage: 'closedwon' } },
          { id: '77777777', properties: { dealname: 'ghost' } },
          { id: must(b).id, properties: { amount: 3 } },
        ],
      },
    });
    const body = ok<WireBatch>(res, 207, 'batch update');
    assert.deepEqual(ids(body.results).sort(byNumber), [must(a).id, must(b).id].sort(byNumber));
    assert.deepEqual(must(body.errors?.[0]).context.ids, ['77777777']);
    assert.equal(must(body.errors?.[0]).category, 'OBJECT_NOT_FOUND');
    const gotA = await read(token, `/deals/${must(a).id}`);
    assert.equal(gotA.properties.dealname, 'A2');
    assert.equal(gotA.properties.dealstage, 'closedwon');
    assert.equal((await read(token, `/deals/${must(b).id}`)).properties.amount, '3');
    assert.deepEqual((await listIds(token)).length, 2);
  });

  it('batch update with one invalid input is a 400 and applies nothing', async () => {
    const token = newToken();
    const [a, b] = await createMany(token, [{ dealname: 'a' }, { dealname: 'b' }]);
    const res = await server.call('POST', `${OBJECTS}/deals/batch/update`, {
      token,
      body: {
        inputs: [
          { id: must(a).id, properties: { dealname: 'changed' } },
          { id: must(b).id, properties: { dealstage: 'nope' } },
        ],
      },
    });
    assertError(res, 400, 'VALIDATION_ERROR');
    assert.equal((await read(token, `/deals/${must(a).id}`)).properties.dealname, 'a');
  });

  it('batch archive ignores unknown and archived ids and archives the rest', async () => {
    const token = newToken();
    const [a, b, c] = await createMany(token, [{ dealname: 'a' }, { dealname: 'b' }, { dealname: 'c' }]);
    await server.call('DELETE', `${OBJECTS}/deals/${must(c).id}`, { token });
    const res = await server.call('POST', `${OBJECTS}/deals/batch/archive`, {
      token,
      body: {
        inputs: [
          { id: must(a).id },
          { id: '123456789' },
          { id: 'junk' },
          { id: must(c).id },
          { id: must(a).id },
        ],
      },
    });
    assert.equal(res.statusCode, 204, res.body);
    assert.equal(res.body, '');
    assert.deepEqual(await listIds(token), [must(b).id]);
    assert.deepEqual(
      (await listIds(token, 'deals', '&archived=true')).sort(byNumber),
      [must(a).id, must(c).id].sort(byNumber),
    );
  });

  it('more than 100 inputs is a 400 for every batch, and nothing happens', async () => {
    const token = newToken();
    const r = await create(token, { dealname: 'kept' });
    const ids101 = Array.from({ length: 101 }, () => ({ id: r.id }));
    const cases: Array<[string, unknown]> = [
      ['read', { inputs: ids101 }],
      ['create', { inputs: Array.from({ length: 101 }, () => ({ properties: { dealname: 'x' } })) }],
      ['update', { inputs: ids101.map((i) => ({ ...i, properties: { dealname: 'changed' } })) }],
      ['archive', { inputs: ids101 }],
    ];
    for (const [op, body] of cases) {
      assertError(
        await server.call('POST', `${OBJECTS}/deals/batch/${op}`, { token, body }),
        400,
        'VALIDATION_ERROR',
      );
    }
    assert.deepEqual(await listIds(token), [r.id]);
    assert.equal((await read(token, `/deals/${r.id}`)).properties.dealname, 'kept');
    // Exactly 100 is fine.
    const hundred = await server.call('POST', `${OBJECTS}/deals/batch/read`, {
      token,
      body: { inputs: ids101.slice(1) },
    });
    assert.equal(hundred.statusCode, 200, hundred.body);
  });
});

describe('search', () => {
  async function search(token: string, body: unknown): Promise<WirePage> {
    return ok<WirePage>(await server.call('POST', `${OBJECTS}/deals/search`, { token, body }), 200, 'search');
  }

  it('filters, sorts and pages by offset, without archived records', async () => {
    const token = newToken();
    const made = await createMany(
      token,
      [5, 50, 20, 40, 30, 10].map((amount) => ({
        dealname: `d${amount}`,
        amount,
        dealstage: amount >= 30 ? 'closedwon' : 'qualifiedtobuy',
      })),
    );
    const gone = await create(token, { amount: 45, dealstage: 'closedwon' });
    await server.call('DELETE', `${OBJECTS}/deals/${gone.id}`, { token });

    const body = {
      filterGroups: [{ filters: [{ propertyName: 'amount', operator: 'GTE', value: '10' }] }],
      sorts: [{ propertyName: 'amount', direction: 'DESCENDING' }],
      properties: ['amount'],
      limit: 2,
    };
    const first = await search(token, body);
    assert.equal(first.total, 5);
    assert.deepEqual(
      first.results.map((r) => r.properties.amount),
      ['50', '40'],
    );
    assert.deepEqual(sortedKeys(must(first.results[0]).properties), [
      'amount',
      'createdate',
      'hs_lastmodifieddate',
      'hs_object_id',
    ]);
    const next = must(first.paging?.next.after);
    const second = await search(token, { ...body, after: next });
    assert.deepEqual(
      second.results.map((r) => r.properties.amount),
      ['30', '20'],
    );
    const last = await search(token, { ...body, after: must(second.paging?.next.after) });
    assert.deepEqual(
      last.results.map((r) => r.properties.amount),
      ['10'],
    );
    assert.equal(last.paging, undefined);

    // OR across groups; the string shorthand of a sort.
    const either = await search(token, {
      filterGroups: [
        {
          filters: [
            { propertyName: 'dealstage', operator: 'EQ', value: 'CLOSEDWON' },
            { propertyName: 'amount', operator: 'LT', value: '45' },
          ],
        },
        { filters: [{ propertyName: 'amount', operator: 'EQ', value: '5' }] },
      ],
      sorts: ['-amount'],
      properties: ['amount'],
    });
    assert.equal(either.total, 3);
    assert.deepEqual(
      either.results.map((r) => r.properties.amount),
      ['40', '30', '5'],
    );
    // No filters: every live record.
    assert.equal((await search(token, {})).total, made.length);
  });

  it('refuses a limit above 200 and a non-numeric after', async () => {
    const token = newToken();
    for (const body of [{ limit: 201 }, { limit: -1 }, { after: 'abc' }]) {
      assertError(
        await server.call('POST', `${OBJECTS}/deals/search`, { token, body }),
        400,
        'VALIDATION_ERROR',
      );
    }
    assert.equal((await search(token, { limit: 200 })).total, 0);
    assert.equal((await search(token, { query: 'acme' })).total, 0);
    assert.equal((await search(token, { query: '  ' })).total, 0);
  });

  it('refuses an unknown operator', async () => {
    const res = await server.call('POST', `${OBJECTS}/deals/search`, {
      token: newToken(),
      body: { filterGroups: [{ filters: [{ propertyName: 'amount', operator: 'ABOUT', value: '1' }] }] },
    });
    assertError(res, 400, 'VALIDATION_ERROR');
  });

  it('refuses a filter without its value, whether or not any record has the property', async () => {
    // The same malformed request must be a 400 in an empty portal too, not a 200 that depends on data.
    const token = newToken();
    const filterGroups = [{ filters: [{ propertyName: 'amount', operator: 'EQ' }] }];
    const withData = newToken();
    await create(withData, { amount: 1 });
    assertError(
      await server.call('POST', `${OBJECTS}/deals/search`, { token: withData, body: { filterGroups } }),
      400,
      'VALIDATION_ERROR',
    );
    assertError(
      await server.call('POST', `${OBJECTS}/deals/search`, { token, body: { filterGroups } }),
      400,
      'VALIDATION_ERROR',
    );
  });
});

describe('portal isolation', () => {
  it('a record created with token A does not exist for token B', async () => {
    const a = newToken();
    const b = newToken();
    const r = await create(a, { dealname: 'Only in A' });
    assertError(await server.call('GET', `${OBJECTS}/deals/${r.id}`, { token: b }), 404, 'OBJECT_NOT_FOUND');
    assertError(
      await server.call('PATCH', `${OBJECTS}/deals/${r.id}`, {
        token: b,
        body: { properties: { dealname: 'B' } },
      }),
      404,
      'OBJECT_NOT_FOUND',
    );
    assertError(
      await server.call('DELETE', `${OBJECTS}/deals/${r.id}`, { token: b }),
      404,
      'OBJECT_NOT_FOUND',
    );
    const batch = await server.call('POST', `${OBJECTS}/deals/batch/read`, {
      token: b,
      body: { inputs: [{ id: r.id }] },
    });
    assert.deepEqual(must(ok<WireBatch>(batch, 207, 'batch read by B').errors?.[0]).context.ids, [r.id]);
    const archive = await server.call('POST', `${OBJECTS}/deals/batch/archive`, {
      token: b,
      body: { inputs: [{ id: r.id }] },
    });
    assert.equal(archive.statusCode, 204);
    assert.deepEqual(await listIds(b), []);
    const found = await server.call('POST', `${OBJECTS}/deals/search`, { token: b, body: {} });
    assert.equal(ok<WirePage>(found, 200, 'search by B').total, 0);

    // A still sees its record, unchanged.
    const got = await read(a, `/deals/${r.id}`);
    assert.equal(got.properties.dealname, 'Only in A');
    assert.equal(got.archived, false);
  });
});

describe('scopes in tokens mode', () => {
  let s: Stageline;
  let portal = 500;
  before(async () => {
    s = await buildStageline({ auth: 'tokens' });
  });
  after(async () => {
    await s.close();
  });

  const issue = async (portalId: number, scopes?: string[]) =>
    (await s.auth.issueToken(scopes === undefined ? { portalId } : { portalId, scopes })).token;

  function assertMissing(res: LightMyRequestResponse, required: string, absent?: string): string[] {
    const err = assertError(res, 403, 'MISSING_SCOPES', MISSING_SCOPES_MESSAGE);
    const scopes = must(err.errors?.[0]?.context?.requiredGranularScopes, 'requiredGranularScopes');
    assert.ok(scopes.includes(required), `${required} not in ${scopes.join(', ')}`);
    if (absent !== undefined) assert.ok(!scopes.includes(absent), `${absent} in ${scopes.join(', ')}`);
    return scopes;
  }

  it('crm.objects.deals.read can read deal records but not write them', async () => {
    const portalId = ++portal;
    const admin = await issue(portalId);
    const reader = await issue(portalId, ['crm.objects.deals.read']);
    const created = await call(s, 'POST', `${OBJECTS}/deals`, {
      token: admin,
      body: { properties: { dealname: 'R' } },
    });
    const r = ok<WireRecord>(created, 201, 'create as admin');

    assert.equal((await call(s, 'GET', `${OBJECTS}/deals/${r.id}`, { token: reader })).statusCode, 200);
    assert.equal((await call(s, 'GET', `${OBJECTS}/deals`, { token: reader })).statusCode, 200);
    assert.equal(
      (await call(s, 'POST', `${OBJECTS}/deals/search`, { token: reader, body: {} })).statusCode,
      200,
    );
    const batchRead = await call(s, 'POST', `${OBJECTS}/deals/batch/read`, {
      token: reader,
      body: { inputs: [{ id: r.id }] },
    });
    assert.equal(batchRead.statusCode, 200, batchRead.body);

    const writes: Array<[string, string, unknown]> = [
      ['POST', '/deals', { properties: { dealname: 'W' } }],
      ['POST', '/deals', { nonsense: true }],
      ['PATCH', `/deals/${r.id}`, { properties: { dealname: 'W' } }],
      ['DELETE', `/deals/${r.id}`, undefined],
      ['POST', '/deals/batch/create', { inputs: [{ properties: {} }] }],
      ['POST', '/deals/batch/update', { inputs: [{ id: r.id, properties: { dealname: 'W' } }] }],
      ['POST', '/deals/batch/archive', { inputs: [{ id: r.id }] }],
    ];
    for (const [method, path, body] of writes) {
      const res = await call(s, method as 'POST', `${OBJECTS}${path}`, { token: reader, body });
      assertMissing(res, 'crm.objects.deals.write', 'crm.objects.deals.read');
    }
    const after = ok<WireRecord>(
      await call(s, 'GET', `${OBJECTS}/deals/${r.id}`, { token: admin }),
      200,
      'GET',
    );
    assert.equal(after.properties.dealname, 'R');
    assert.equal(after.archived, false);
  });

  it('crm.schemas.deals.write alone grants pipeline writes but no record access', async () => {
    const token = await issue(++portal, ['crm.schemas.deals.write']);
    await createPipeline(s, token, 'deals', dealPipeline('Schema only'));
    assertMissing(
      await call(s, 'POST', `${OBJECTS}/deals`, { token, body: { properties: { dealname: 'x' } } }),
      'crm.objects.deals.write',
      'crm.schemas.deals.write',
    );
    assertMissing(await call(s, 'GET', `${OBJECTS}/deals`, { token }), 'crm.objects.deals.read');
  });

  it('crm.objects.deals.write can read and write deal records, but no tickets', async () => {
    const token = await issue(++portal, ['crm.objects.deals.write']);
    const r = ok<WireRecord>(
      await call(s, 'POST', `${OBJECTS}/deals`, { token, body: { properties: {} } }),
      201,
      'create',
    );
    assert.equal((await call(s, 'GET', `${OBJECTS}/deals/${r.id}`, { token })).statusCode, 200);
    assertMissing(await call(s, 'GET', `${OBJECTS}/tickets`, { token }), 'crm.objects.tickets.read');
    assertMissing(
      await call(s, 'POST', `${OBJECTS}/0-5`, { token, body: { properties: {} } }),
      'crm.objects.tickets.write',
    );
  });

  it('the legacy `tickets` scope covers ticket records', async () => {
    const token = await issue(++portal, ['tickets']);
    const created = await call(s, 'POST', `${OBJECTS}/tickets`, {
      token,
      body: { properties: { subject: 'Help' } },
    });
    const t = ok<WireRecord>(created, 201, 'create a ticket with the tickets scope');
    assert.equal((await call(s, 'GET', `${OBJECTS}/tickets/${t.id}`, { token })).statusCode, 200);
    assertMissing(await call(s, 'GET', `${OBJECTS}/deals`, { token }), 'crm.objects.deals.read');
  });

  it('crm.objects.custom.write covers custom object records', async () => {
    const token = await issue(++portal, ['crm.objects.custom.write']);
    const r = ok<WireRecord>(
      await call(s, 'POST', `${OBJECTS}/2-77`, { token, body: { properties: { name: 'c' } } }),
      201,
      'create a custom record',
    );
    assert.equal(r.properties.hs_object_id, r.id);
    assertMissing(await call(s, 'GET', `${OBJECTS}/deals`, { token }), 'crm.objects.deals.read');
  });

  it('records of one portal are 404 with a token of another', async () => {
    const a = await issue(++portal);
    const b = await issue(++portal);
    const r = ok<WireRecord>(
      await call(s, 'POST', `${OBJECTS}/deals`, { token: a, body: { properties: {} } }),
      201,
      'create',
    );
    assertError(await call(s, 'GET', `${OBJECTS}/deals/${r.id}`, { token: b }), 404, 'OBJECT_NOT_FOUND');
    const sameportal = await issue(portal - 1, ['crm.objects.deals.read']);
    assert.equal((await call(s, 'GET', `${OBJECTS}/deals/${r.id}`, { token: sameportal })).statusCode, 200);
  });
});

describe('STAGE_ID_IN_USE with many occupying records', () => {
  const checked = '?validateReferencesBeforeDelete=true';

  /** Parses `[a, b]`. */
  const items = (value: string | undefined): string[] => {
    const text = must(value, 'bracketed list');
    assert.match(text, /^\[.*\]$/);
    const inner = text.slice(1, -1);
    return inner === '' ? [] : inner.split(', ');
  };

  it('lists every stage being removed but only the first 100 record ids, by id', async () => {
    const token = newToken();
    const p = await newDealPipeline(token, 'Crowded', ['A', 'B', 'C']);
    const [stageA, stageB, stageC] = p.stages.map((st) => st.id);
    const inB = (n: number) => Array.from({ length: n }, () => ({ dealstage: must(stageB) }));
    const early = await createMany(token, inB(3));
    const crowd = await createMany(
      token,
      Array.from({ length: 100 }, () => ({ dealstage: must(stageA) })),
    );
    const late = await createMany(token, inB(2));
    // An archived record never counts.
    const archivedId = must(early[0]).id;
    assert.equal((await server.call('DELETE', `${OBJECTS}/deals/${archivedId}`, { token })).statusCode, 204);
    // Records elsewhere never count either.
    await createMany(token, [{ dealstage: 'closedwon' }]);

    const live = [...early.slice(1), ...crowd, ...late].map((r) => r.id).sort(byNumber);
    assert.equal(live.length, 104);
    const firstHundred = live.slice(0, 100);

    const res = await server.call('DELETE', `${BASE}/deals/${p.id}${checked}`, { token });
    const err = assertError(res, 400, 'VALIDATION_ERROR');
    assert.equal(err.subCategory, 'PipelineError.STAGE_ID_IN_USE');
    const stageIds = items(err.context?.stageIds?.[0]);
    const objectIds = items(err.context?.objectIds?.[0]);
    assert.equal(err.context?.stageIds?.length, 1);
    assert.equal(err.context?.objectIds?.length, 1);
    // Every stage being removed, the empty one too (the seed guide's example).
    assert.deepEqual([...stageIds].sort(), [must(stageA), must(stageB), must(stageC)].sort());
    assert.equal(objectIds.length, 100);
    assert.deepEqual(objectIds, firstHundred);
    assert.ok(!objectIds.includes(archivedId));
    assert.equal(
      err.message,
      `Stage IDs: ${must(err.context?.stageIds?.[0])} are being referenced by object IDs: ${must(err.context?.objectIds?.[0])}`,
    );

    // One stage: only its records.
    const one = await server.call('DELETE', `${BASE}/deals/${p.id}/stages/${must(stageB)}${checked}`, {
      token,
    });
    const oneErr = assertError(one, 400, 'VALIDATION_ERROR');
    assert.deepEqual(oneErr.context, {
      stageIds: [`[${must(stageB)}]`],
      objectIds: [
        `[${[...early.slice(1), ...late]
          .map((r) => r.id)
          .sort(byNumber)
          .join(', ')}]`,
      ],
    });

    // Nothing was removed; the free stage goes, and without the flag the pipeline goes too.
    const still = ok<WirePipeline>(
      await server.call('GET', `${BASE}/deals/${p.id}`, { token }),
      200,
      'GET pipeline',
    );
    assert.equal(still.stages.length, 3);
    const free = await server.call('DELETE', `${BASE}/deals/${p.id}/stages/${must(stageC)}${checked}`, {
      token,
    });
    assert.equal(free.statusCode, 204, free.body);
    const unchecked = await server.call('DELETE', `${BASE}/deals/${p.id}`, { token });
    assert.equal(unchecked.statusCode, 204, unchecked.body);
  });
});
