// Associations over HTTP: given on record create and batch create in HubSpot's shape, read back
// with `associations=` (v3) and from `/crm/v4/objects/{type}/{id}/associations/{toType}`, per
// portal. And the HubSpot object routes Stageline does not have: 404, not 405.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { LightMyRequestResponse } from 'fastify';

import { JSON_TYPE, assertError, json, must, newToken, useStageline } from './support.js';

interface WireRecord {
  id: string;
  properties: Record<string, string | null>;
  associations?: Record<string, { results: { id: string; type: string }[] }>;
}
interface WireV4 {
  results: {
    toObjectId: number;
    associationTypes: { category: string; typeId: number; label: string | null }[];
  }[];
  paging?: { next: { after: string } };
}

const OBJECTS = '/crm/v3/objects';
const V4 = '/crm/v4/objects';
const server = useStageline();

function ok<T>(res: LightMyRequestResponse, status = 200): T {
  assert.equal(res.statusCode, status, res.body);
  assert.equal(res.headers['content-type'], JSON_TYPE);
  return json<T>(res);
}

const spec = (associationTypeId: number, associationCategory = 'HUBSPOT_DEFINED') => ({
  associationCategory,
  associationTypeId,
});

async function create(token: string, type: string, body: unknown): Promise<WireRecord> {
  return ok<WireRecord>(await server.call('POST', `${OBJECTS}/${type}`, { token, body }), 201);
}

const contact = (token: string, email: string) => create(token, 'contacts', { properties: { email } });
const get = async (token: string, path: string) =>
  ok<WireRecord>(await server.call('GET', `${OBJECTS}${path}`, { token }));
const v4 = async (token: string, path: string) =>
  ok<WireV4>(await server.call('GET', `${V4}${path}`, { token }));
const listIds = async (token: string, type: string) =>
  ok<{ results: WireRecord[] }>(
    await server.call('GET', `${OBJECTS}/${type}?limit=100`, { token }),
  ).results.map((r) => r.id);

describe('associations on create', () => {
  it('the SDK’s basicApi.create body: stored, and read back from both records, v3 and v4', async () => {
    const token = newToken();
    const ann = await contact(token, 'ann@example.com');
    const bob = await contact(token, 'bob@example.com');
    const company = await create(token, 'companies', { properties: { name: 'Acme' } });
    // SimplePublicObjectInputForCreate as @hubspot/api-client serialises it.
    const deal = await create(token, 'deals', {
      properties: { dealname: 'Linked' },
      associations: [
        { to: { id: bob.id }, types: [spec(3)] },
        { to: { id: Number(ann.id) }, types: [spec(3)] },
        { to: { id: company.id }, types: [spec(5)] },
      ],
    });
    assert.equal(deal.associations, undefined, 'a create answers no associations');

    // getById(id, properties, undefined, ['contacts']) sends ?properties=…&associations=contacts.
    const read = await get(token, `/deals/${deal.id}?properties=dealname&associations=contacts`);
    assert.equal(read.properties.dealname, 'Linked');
    assert.deepEqual(read.associations, {
      contacts: {
        results: [
          { id: ann.id, type: 'deal_to_contact' },
          { id: bob.id, type: 'deal_to_contact' },
        ].sort((a, b) => Number(a.id) - Number(b.id)),
      },
    });
    const both = await get(token, `/deals/${deal.id}?associations=contacts&associations=companies`);
    assert.deepEqual(both.associations?.companies, {
      results: [
        { id: company.id, type: 'deal_to_company' },
        { id: company.id, type: 'deal_to_company_unlabeled' },
      ],
    });
    // The other side sees the link under its own type.
    const fromAnn = await get(token, `/contacts/${ann.id}?associations=deals`);
    assert.deepEqual(fromAnn.associations, {
      deals: { results: [{ id: deal.id, type: 'contact_to_deal' }] },
    });

    assert.deepEqual(await v4(token, `/deals/${deal.id}/associations/companies`), {
      results: [
        {
          toObjectId: Number(company.id),
          associationTypes: [
            { category: 'HUBSPOT_DEFINED', typeId: 5, label: 'Deal with Primary Company' },
            { category: 'HUBSPOT_DEFINED', typeId: 341, label: null },
          ],
        },
      ],
    });
    assert.deepEqual(await v4(token, `/companies/${company.id}/associations/deals`), {
      results: [
        {
          toObjectId: Number(deal.id),
          associationTypes: [
            { category: 'HUBSPOT_DEFINED', typeId: 6, label: 'Deal with Primary Company' },
            { category: 'HUBSPOT_DEFINED', typeId: 342, label: null },
          ],
        },
      ],
    });
    // By type id, singular names and types with nothing linked.
    const byId = await v4(token, `/0-3/${deal.id}/associations/0-1`);
    assert.deepEqual(
      byId.results.map((r) => r.toObjectId),
      [Number(ann.id), Number(bob.id)].sort((a, b) => a - b),
    );
    assert.deepEqual(await v4(token, `/deals/${deal.id}/associations/tickets`), { results: [] });
    const none = await get(token, `/deals/${deal.id}?associations=tickets`);
    assert.equal(none.associations, undefined);
  });

  it('lists and pages v4 associations by target id', async () => {
    const token = newToken();
    const contacts = [];
    for (const n of [1, 2, 3]) contacts.push(await contact(token, `c${n}@example.com`));
    const deal = await create(token, 'deals', {
      properties: {},
      associations: contacts.map((c) => ({ to: { id: c.id }, types: [spec(3)] })),
    });
    const first = await v4(token, `/deals/${deal.id}/associations/contacts?limit=2`);
    assert.deepEqual(
      first.results.map((r) => String(r.toObjectId)),
      contacts.slice(0, 2).map((c) => c.id),
    );
    const after = must(first.paging?.next.after);
    const second = await v4(token, `/deals/${deal.id}/associations/contacts?limit=2&after=${after}`);
    assert.deepEqual(
      second.results.map((r) => String(r.toObjectId)),
      [must(contacts[2]).id],
    );
    assert.equal(second.paging, undefined);
  });

  it('returns associations on list pages when asked', async () => {
    const token = newToken();
    const c = await contact(token, 'list@example.com');
    const linked = await create(token, 'deals', {
      properties: {},
      associations: [{ to: { id: c.id }, types: [spec(3)] }],
    });
    const plain = await create(token, 'deals', { properties: {} });
    const page = ok<{ results: WireRecord[] }>(
      await server.call('GET', `${OBJECTS}/deals?associations=contacts`, { token }),
    );
    const byId = new Map(page.results.map((r) => [r.id, r]));
    assert.deepEqual(byId.get(linked.id)?.associations, {
      contacts: { results: [{ id: c.id, type: 'deal_to_contact' }] },
    });
    assert.equal(byId.get(plain.id)?.associations, undefined);
  });

  it('batch create takes associations per input, all or none', async () => {
    const token = newToken();
    const c = await contact(token, 'batch@example.com');
    const ok201 = await server.call('POST', `${OBJECTS}/tickets/batch/create`, {
      token,
      body: {
        inputs: [{ properties: { subject: 'T' }, associations: [{ to: { id: c.id }, types: [spec(16)] }] }],
      },
    });
    const ticket = must(ok<{ results: WireRecord[] }>(ok201, 201).results[0]);
    assert.deepEqual((await get(token, `/tickets/${ticket.id}?associations=contacts`)).associations, {
      contacts: { results: [{ id: c.id, type: 'ticket_to_contact' }] },
    });

    const before = await listIds(token, 'tickets');
    const refused = await server.call('POST', `${OBJECTS}/tickets/batch/create`, {
      token,
      body: {
        inputs: [
          { properties: { subject: 'fine' }, associations: [{ to: { id: c.id }, types: [spec(16)] }] },
          { properties: { subject: 'bad' }, associations: [{ to: { id: '999999' }, types: [spec(16)] }] },
        ],
      },
    });
    assertError(refused, 400, 'VALIDATION_ERROR', 'One or more associations are invalid');
    assert.deepEqual(await listIds(token, 'tickets'), before);
  });
});

describe('invalid associations', () => {
  it('a target that does not exist is HubSpot’s 400 naming it, and nothing is created', async () => {
    const token = newToken();
    const res = await server.call('POST', `${OBJECTS}/deals`, {
      token,
      body: { properties: { dealname: 'Nope' }, associations: [{ to: { id: '424242' }, types: [spec(3)] }] },
    });
    const err = assertError(res, 400, 'VALIDATION_ERROR', 'One or more associations are invalid');
    assert.deepEqual(err.context, {
      INVALID_OBJECT_IDS: ['CONTACT=424242 is not valid'],
      objectId: ['424242'],
      objectType: ['CONTACT'],
    });
    assert.deepEqual(await listIds(token, 'deals'), []);
  });

  it('another portal’s record, or an archived one, is no valid target', async () => {
    const mine = newToken();
    const theirs = newToken();
    const foreign = await contact(theirs, 'foreign@example.com');
    const gone = await contact(mine, 'gone@example.com');
    assert.equal(
      (await server.call('DELETE', `${OBJECTS}/contacts/${gone.id}`, { token: mine })).statusCode,
      204,
    );
    for (const id of [foreign.id, gone.id]) {
      const res = await server.call('POST', `${OBJECTS}/deals`, {
        token: mine,
        body: { properties: {}, associations: [{ to: { id }, types: [spec(3)] }] },
      });
      assertError(res, 400, 'VALIDATION_ERROR', 'One or more associations are invalid');
    }
    // The foreign portal sees no link either way.
    assert.deepEqual(await v4(theirs, `/contacts/${foreign.id}/associations/deals`), { results: [] });
  });

  it('an unknown, foreign-direction or non-HubSpot-defined type is a 400', async () => {
    const token = newToken();
    const c = await contact(token, 'types@example.com');
    for (const types of [[spec(999)], [spec(1)], [spec(3, 'USER_DEFINED')], [spec(3, 'MADE_UP')], []]) {
      const res = await server.call('POST', `${OBJECTS}/deals`, {
        token,
        body: { properties: {}, associations: [{ to: { id: c.id }, types }] },
      });
      assertError(res, 400, 'VALIDATION_ERROR');
    }
    assert.deepEqual(await listIds(token, 'deals'), []);
  });

  it('an archived target drops out of reads', async () => {
    const token = newToken();
    const c = await contact(token, 'later-gone@example.com');
    const deal = await create(token, 'deals', {
      properties: {},
      associations: [{ to: { id: c.id }, types: [spec(3)] }],
    });
    assert.equal((await server.call('DELETE', `${OBJECTS}/contacts/${c.id}`, { token })).statusCode, 204);
    assert.equal((await get(token, `/deals/${deal.id}?associations=contacts`)).associations, undefined);
    assert.deepEqual(await v4(token, `/deals/${deal.id}/associations/contacts`), { results: [] });
  });

  it('reads: an unknown association type is a 400; a record that does not exist a 404', async () => {
    const token = newToken();
    const deal = await create(token, 'deals', { properties: {} });
    assertError(
      await server.call('GET', `${OBJECTS}/deals/${deal.id}?associations=widgets`, { token }),
      400,
      'VALIDATION_ERROR',
      'Unable to infer object type from: widgets',
    );
    assertError(
      await server.call('GET', `${V4}/deals/${deal.id}/associations/widgets`, { token }),
      400,
      'VALIDATION_ERROR',
      'Unable to infer object type from: widgets',
    );
    assertError(
      await server.call('GET', `${V4}/deals/999999/associations/contacts`, { token }),
      404,
      'OBJECT_NOT_FOUND',
    );
  });
});

describe('HubSpot object routes Stageline does not have', () => {
  it('answer 404 in HubSpot’s envelope, not 405', async () => {
    const token = newToken();
    for (const [method, path] of [
      ['POST', '/deals/merge'],
      ['POST', '/deals/gdpr-delete'],
      ['POST', '/contacts/gdpr-delete'],
      ['POST', '/deals/batch/upsert'],
      ['POST', '/0-3/merge'],
    ] as const) {
      const res = await server.call(method, `${OBJECTS}${path}`, {
        token,
        body: { primaryObjectId: '1', objectIdToMerge: '2' },
      });
      assertError(res, 404, 'OBJECT_NOT_FOUND');
      assert.equal(res.headers.allow, undefined, path);
    }
  });

  it('a record path called with a method it lacks is still a 405 with Allow', async () => {
    const token = newToken();
    for (const method of ['POST', 'PUT'] as const) {
      const res = await server.call(method, `${OBJECTS}/deals/123`, { token, body: {} });
      assertError(res, 405, 'VALIDATION_ERROR');
      assert.equal(res.headers.allow, 'GET, HEAD, PATCH, DELETE');
    }
  });
});
