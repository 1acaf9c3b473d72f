// Bounded open mode: a token that only reads writes nothing, its portal is created by its first
// write (in that write's transaction) with the starting state its reads showed, and
// --max-portals refuses creating portals past the limit.

import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';

import type { Stageline } from '../../src/stageline.js';
import { assertError, buildStageline, call, json, newToken } from './support.js';

const SEED = fileURLToPath(new URL('../fixtures/seeds/pipelines.yaml', import.meta.url));

/** What is in the database, whoever reads it. */
async function stored(s: Stageline, portalId: number) {
  return s.store.read(async (repo) => ({
    portals: await repo.countPortals(),
    tokens: await repo.countTokens(),
    exists: await repo.portalExists(portalId),
  }));
}

async function portalOf(s: Stageline, token: string): Promise<number> {
  const res = await call(s, 'GET', '/account-info/v3/details', { token });
  assert.equal(res.statusCode, 200, res.body);
  return json<{ portalId: number }>(res).portalId;
}

/** Every read a client can make of a portal's pipelines, records and properties, as answered. */
async function reads(s: Stageline, token: string): Promise<Record<string, unknown>> {
  const get = async (url: string) => {
    const res = await call(s, 'GET', url, { token });
    assert.equal(res.statusCode, 200, `${url}: ${res.body}`);
    return json<unknown>(res);
  };
  const deals = (await get('/crm/v3/pipelines/deals')) as {
    results: { id: string; stages: { id: string }[] }[];
  };
  const pipeline = deals.results[0]!;
  const stage = pipeline.stages[0]!;
  const records = (await get('/crm/v3/objects/deals?properties=dealname,amount,dealstage')) as {
    results: { id: string }[];
  };
  const answers: Record<string, unknown> = {
    deals,
    tickets: await get('/crm/v3/pipelines/tickets'),
    pipeline: await get(`/crm/v3/pipelines/deals/${pipeline.id}`),
    stages: await get(`/crm/v3/pipelines/deals/${pipeline.id}/stages`),
    stage: await get(`/crm/v3/pipelines/deals/${pipeline.id}/stages/${stage.id}`),
    pipelineAudit: await get(`/crm/v3/pipelines/deals/${pipeline.id}/audit`),
    stageAudit: await get(`/crm/v3/pipelines/deals/${pipeline.id}/stages/${stage.id}/audit`),
    versioned: await get(`/crm/pipelines/2026-09/deals/${pipeline.id}`),
    records,
    properties: await get('/crm/v3/properties/deals'),
    dealstage: await get('/crm/v3/properties/deals/dealstage'),
  };
  for (const r of records.results) answers[`record ${r.id}`] = await get(`/crm/v3/objects/deals/${r.id}`);
  return answers;
}

for (const seeded of [false, true]) {
  describe(`an open-mode token that only reads (${seeded ? 'with --seed' : "HubSpot's defaults"})`, () => {
    let s: Stageline;
    before(async () => {
      s = await buildStageline(seeded ? { seed: SEED } : {});
    });
    after(() => s.close());

    it('writes nothing, and its first write creates the portal its reads showed', async () => {
      const token = newToken();
      const empty = await s.store.read(async (repo) => [await repo.countPortals(), await repo.countTokens()]);
      const portalId = await portalOf(s, token);
      const before = await reads(s, token);
      const snapshot = await call(s, 'GET', '/_stageline/snapshot', { token });
      assert.equal(snapshot.statusCode, 200, snapshot.body);
      if (seeded) {
        assert.deepEqual(
          (before.deals as { results: { id: string }[] }).results.map((p) => p.id),
          ['sales'],
        );
        assert.equal((before.records as { results: unknown[] }).results.length, 1);
      } else {
        assert.deepEqual((before.stages as { results: unknown[] }).results.length, 7);
      }
      assert.deepEqual(await stored(s, portalId), {
        portals: empty[0],
        tokens: empty[1],
        exists: false,
      });
      // The same portal id on every request until then.
      assert.equal(await portalOf(s, token), portalId);
      // Reads sent as a POST write nothing either.
      const search = await call(s, 'POST', '/crm/v3/objects/deals/search', { token, body: {} });
      assert.equal(search.statusCode, 200, search.body);
      assert.equal(json<{ total: number }>(search).total, seeded ? 1 : 0);
      const batch = await call(s, 'POST', '/crm/v3/objects/deals/batch/read', {
        token,
        body: { inputs: [{ id: '1' }] },
      });
      assert.ok([200, 207].includes(batch.statusCode), batch.body);
      assert.equal((await stored(s, portalId)).exists, false);

      // The first write: a contact, which none of the reads above shows.
      const created = await call(s, 'POST', '/crm/v3/objects/contacts', {
        token,
        body: { properties: { email: 'first@example.com' } },
      });
      assert.equal(created.statusCode, 201, created.body);
      assert.deepEqual(await stored(s, portalId), {
        portals: empty[0]! + 1,
        tokens: empty[1]! + 1,
        exists: true,
      });
      assert.equal(await portalOf(s, token), portalId);
      assert.deepEqual(await reads(s, token), before);
    });

    it('a snapshot before the first write equals one after it (the clock set through the control plane)', async () => {
      const token = newToken();
      const portalId = await portalOf(s, token);
      const before = json<unknown>(await call(s, 'GET', '/_stageline/snapshot', { token }));
      assert.equal((await stored(s, portalId)).exists, false);
      const frozen = await call(s, 'PUT', '/_stageline/clock', {
        token,
        body: { now: '2030-01-01T00:00:00.000Z' },
      });
      assert.equal(frozen.statusCode, 200, frozen.body);
      assert.equal((await stored(s, portalId)).exists, true);
      assert.deepEqual(json<unknown>(await call(s, 'GET', '/_stageline/snapshot', { token })), before);
    });

    it('a first write that fails creates nothing', async () => {
      const token = newToken();
      const portalId = await portalOf(s, token);
      const counts = await stored(s, portalId);
      const label = seeded ? 'Sales' : 'Sales Pipeline';
      const res = await call(s, 'POST', '/crm/v3/pipelines/deals', {
        token,
        body: {
          label,
          displayOrder: 5,
          stages: [{ label: 'A', displayOrder: 0, metadata: { probability: 0.1 } }],
        },
      });
      assertError(res, 400, 'VALIDATION_ERROR', `An active pipeline with label ${label} already exists.`);
      assert.deepEqual(await stored(s, portalId), counts);
    });

    it('concurrent first writes of one token create one portal, holding every write', async () => {
      const token = newToken();
      const portalId = await portalOf(s, token);
      const { portals } = await stored(s, portalId);
      const answers = await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          call(s, 'POST', '/crm/v3/objects/contacts', {
            token,
            body: { properties: { email: `c${i}@example.com` } },
          }),
        ),
      );
      assert.deepEqual(
        answers.map((a) => a.statusCode),
        [201, 201, 201, 201, 201],
      );
      assert.equal((await stored(s, portalId)).portals, portals + 1);
      const list = json<{ results: unknown[] }>(await call(s, 'GET', '/crm/v3/objects/contacts', { token }));
      assert.equal(list.results.length, 5);
    });
  });
}

describe('--max-portals', () => {
  let s: Stageline;
  before(async () => {
    s = await buildStageline({ maxPortals: 2 });
  });
  after(() => s.close());

  it('refuses a new portal past the limit with a 403; existing portals and reads keep working', async () => {
    const [first, second, third] = [newToken(), newToken(), newToken()];
    for (const token of [first, second]) {
      const res = await call(s, 'POST', '/crm/v3/objects/contacts', { token, body: { properties: {} } });
      assert.equal(res.statusCode, 201, res.body);
    }
    const refused = await call(s, 'POST', '/crm/v3/objects/contacts', {
      token: third,
      body: { properties: {} },
    });
    const body = assertError(
      refused,
      403,
      'FORBIDDEN',
      'This server already holds its limit of 2 portals (--max-portals), so this access token cannot create one: its portal would be created by this write. Tokens that already have a portal keep working.',
    );
    assert.equal(body.subCategory, 'Stageline.PORTAL_LIMIT');
    assert.deepEqual(body.context, { maxPortals: ['2'] });
    // The control plane's changes create portals too, so they are refused alike.
    assertError(
      await call(s, 'POST', '/_stageline/faults', { token: third, body: { path: '/crm', status: 500 } }),
      403,
      'FORBIDDEN',
    );
    assertError(await call(s, 'POST', '/_stageline/reset', { token: third }), 403, 'FORBIDDEN');
    assertError(
      await call(s, 'PUT', '/_stageline/seed', { token: third, body: { objectTypes: {} } }),
      403,
      'FORBIDDEN',
    );
    const snapshot = json<Record<string, unknown>>(
      await call(s, 'GET', '/_stageline/snapshot', { token: third }),
    );
    assertError(
      await call(s, 'PUT', '/_stageline/snapshot', { token: third, body: snapshot }),
      403,
      'FORBIDDEN',
    );
    assertError(
      await call(s, 'PUT', '/_stageline/clock', { token: third, body: { now: '2030-01-01T00:00:00Z' } }),
      403,
      'FORBIDDEN',
    );
    // Reads write nothing, so they still answer the starting state.
    const deals = await call(s, 'GET', '/crm/v3/pipelines/deals', { token: third });
    assert.equal(deals.statusCode, 200);
    assert.equal(json<{ results: { id: string }[] }>(deals).results[0]!.id, 'default');
    const again = await call(s, 'POST', '/crm/v3/objects/contacts', {
      token: first,
      body: { properties: {} },
    });
    assert.equal(again.statusCode, 201, again.body);
    assert.equal(await s.store.read((repo) => repo.countPortals()), 2);
  });
});
