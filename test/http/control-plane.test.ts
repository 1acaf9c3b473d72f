// The emulator control plane through `app.inject`: seeds, resets, snapshots, faults, the journal,
// access per auth mode, and isolation between portals.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { LightMyRequestResponse } from 'fastify';

import type { SeedDocument } from '../../src/seed/seed-document.js';
import { oneDealPipeline } from '../helpers/seeds.js';
import {
  assertError,
  assertMissingScopes,
  assertUnauthenticated,
  buildStageline,
  call,
  json,
  newToken,
  useStageline,
} from './support.js';

const CP = '/_stageline';

const SEED: SeedDocument = {
  objectTypes: {
    deals: {
      pipelines: [
        {
          id: 'sales',
          label: 'Sales',
          displayOrder: 0,
          stages: [
            { id: 'new', label: 'New', displayOrder: 0, metadata: { probability: 0.1 } },
            { id: 'won', label: 'Won', displayOrder: 1, metadata: { probability: '1.0' } },
          ],
        },
      ],
      records: [{ stage: 'new', properties: { dealname: 'Acme' } }],
    },
  },
};

const ids = (res: LightMyRequestResponse): string[] =>
  json<{ results: { id: string }[] }>(res).results.map((r) => r.id);

describe('seed, reset and snapshots', () => {
  const s = useStageline();

  it('a seed replaces the listed types, and a reset returns to it with ids restarting and no audit', async () => {
    const token = newToken();
    assert.equal((await s.call('PUT', `${CP}/seed`, { token, body: SEED })).statusCode, 204);
    assert.deepEqual(ids(await s.call('GET', '/crm/v3/pipelines/deals', { token })), ['sales']);
    // Tickets were not listed: HubSpot's default pipeline stays.
    assert.deepEqual(ids(await s.call('GET', '/crm/v3/pipelines/tickets', { token })), ['0']);
    const deals = await s.call('GET', '/crm/v3/objects/deals?properties=dealname,dealstage,pipeline', {
      token,
    });
    const [acme] = json<{ results: { id: string; properties: Record<string, string> }[] }>(deals).results;
    assert.equal(acme?.id, '100000001');
    assert.equal(acme?.properties.dealstage, 'new');
    assert.equal(acme?.properties.pipeline, 'sales');

    const created = await s.call('POST', '/crm/v3/pipelines/deals', {
      token,
      body: {
        label: 'Other',
        displayOrder: 1,
        stages: [{ label: 'A', displayOrder: 0, metadata: { probability: '0.5' } }],
      },
    });
    assert.equal(created.statusCode, 201);
    const otherId = json<{ id: string }>(created).id;
    assert.equal(
      json<{ results: unknown[] }>(await s.call('GET', `/crm/v3/pipelines/deals/${otherId}/audit`, { token }))
        .results.length,
      1,
    );

    assert.equal((await s.call('POST', `${CP}/reset`, { token })).statusCode, 204);
    assert.deepEqual(ids(await s.call('GET', '/crm/v3/pipelines/deals', { token })), ['sales']);
    assertError(
      await s.call('GET', `/crm/v3/pipelines/deals/${otherId}/audit`, { token }),
      404,
      'OBJECT_NOT_FOUND',
    );
    assert.deepEqual(ids(await s.call('GET', '/crm/v3/objects/deals', { token })), ['100000001']);
    // Generated ids start over: the same create gets the same id again.
    const again = await s.call('POST', '/crm/v3/pipelines/deals', {
      token,
      body: {
        label: 'Other',
        displayOrder: 1,
        stages: [{ label: 'A', displayOrder: 0, metadata: { probability: '0.5' } }],
      },
    });
    assert.equal(json<{ id: string }>(again).id, otherId);
  });

  it('a seed naming a type by another name replaces the earlier seed of that type', async () => {
    const token = newToken();
    assert.equal((await s.call('PUT', `${CP}/seed`, { token, body: SEED })).statusCode, 204);
    const other = oneDealPipeline('p2', 'P2', 0.5);
    const byId = { objectTypes: { '0-3': other.objectTypes.deals! } };
    assert.equal((await s.call('PUT', `${CP}/seed`, { token, body: byId })).statusCode, 204);
    assert.equal((await s.call('POST', `${CP}/reset`, { token })).statusCode, 204);
    // The starting state holds the type once: the later seed, not both.
    assert.deepEqual(ids(await s.call('GET', '/crm/v3/pipelines/deals', { token })), ['p2']);
  });

  it("a reset without a seed goes back to HubSpot's defaults", async () => {
    const token = newToken();
    await s.call('PATCH', '/crm/v3/pipelines/deals/default', { token, body: { label: 'Renamed' } });
    await s.call('POST', `${CP}/reset`, { token });
    const pipeline = json<{ label: string }>(
      await s.call('GET', '/crm/v3/pipelines/deals/default', { token }),
    );
    assert.equal(pipeline.label, 'Sales Pipeline');
    const audit = json<{ results: unknown[] }>(
      await s.call('GET', '/crm/v3/pipelines/deals/default/audit', { token }),
    );
    assert.deepEqual(audit.results, []);
  });

  it('a snapshot restored answers every GET byte for byte as before, correlation ids aside', async () => {
    const token = newToken();
    await s.call('PUT', `${CP}/seed`, { token, body: SEED });
    const made = await s.call('POST', '/crm/v3/pipelines/tickets', {
      token,
      body: {
        label: 'Escalations',
        displayOrder: 2,
        stages: [
          { label: 'Open', displayOrder: 0, metadata: { ticketState: 'OPEN' } },
          { label: 'Done', displayOrder: 1, metadata: { ticketState: 'CLOSED' } },
        ],
      },
    });
    const ticketPipeline = json<{ id: string; stages: { id: string }[] }>(made);
    await s.call(
      'PATCH',
      `/crm/v3/pipelines/tickets/${ticketPipeline.id}/stages/${ticketPipeline.stages[0]!.id}`,
      {
        token,
        body: { label: 'Opened' },
      },
    );
    const deal = json<{ id: string }>(
      await s.call('POST', '/crm/v3/objects/deals', {
        token,
        body: { properties: { dealname: 'Beta', dealstage: 'new' } },
      }),
    );
    await s.call('PATCH', `/crm/v3/objects/deals/${deal.id}`, {
      token,
      body: { properties: { dealstage: 'won' } },
    });
    const ticket = json<{ id: string }>(
      await s.call('POST', '/crm/v3/objects/tickets', {
        token,
        body: {
          properties: { subject: 'Help', hs_pipeline_stage: '1' },
          associations: [
            {
              to: { id: deal.id },
              types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 28 }],
            },
          ],
        },
      }),
    );
    await s.call('DELETE', '/crm/v3/objects/deals/100000001', { token });

    const gets = [
      '/crm/v3/pipelines/deals',
      '/crm/v3/pipelines/tickets',
      '/crm/v3/pipelines/deals/sales',
      '/crm/v3/pipelines/deals/sales/stages',
      '/crm/v3/pipelines/deals/sales/audit',
      '/crm/v3/pipelines/deals/sales/stages/new/audit',
      `/crm/v3/pipelines/tickets/${ticketPipeline.id}`,
      `/crm/v3/pipelines/tickets/${ticketPipeline.id}/audit`,
      `/crm/v3/pipelines/tickets/${ticketPipeline.id}/stages/${ticketPipeline.stages[0]!.id}/audit`,
      '/crm/v3/objects/deals?properties=dealname,dealstage,hs_date_entered_won,hs_v2_date_entered_new&associations=tickets',
      '/crm/v3/objects/deals?archived=true',
      `/crm/v3/objects/deals/${deal.id}?properties=dealstage,closedate,hs_is_closed_won`,
      `/crm/v3/objects/tickets/${ticket.id}?associations=deals`,
      `/crm/v4/objects/tickets/${ticket.id}/associations/deals`,
      '/crm/v3/properties/deals/dealstage',
    ];
    const answers = async () => {
      const out: string[] = [];
      for (const url of gets) {
        const res = await s.call('GET', url, { token });
        out.push(`${res.statusCode} ${res.body.replace(/"correlationId":"[^"]+"/g, '')}`);
      }
      return out;
    };
    const before = await answers();
    const snapshot = json<SeedDocument>(await s.call('GET', `${CP}/snapshot`, { token }));
    assert.ok((snapshot.audit ?? []).length > 0);
    assert.ok((snapshot.associations ?? []).length > 0);

    await s.call('DELETE', '/crm/v3/pipelines/deals/sales', { token });
    await s.call('PATCH', `/crm/v3/objects/tickets/${ticket.id}`, {
      token,
      body: { properties: { subject: 'Changed' } },
    });
    await s.call('POST', '/crm/v3/pipelines/deals', {
      token,
      body: {
        label: 'New one',
        displayOrder: 0,
        stages: [{ label: 'X', displayOrder: 0, metadata: { probability: '0.5' } }],
      },
    });
    assert.notDeepEqual(await answers(), before);

    assert.equal((await s.call('PUT', `${CP}/snapshot`, { token, body: snapshot })).statusCode, 204);
    assert.deepEqual(await answers(), before);
    // The next generated id is restored too.
    assert.equal(
      json<SeedDocument>(await s.call('GET', `${CP}/snapshot`, { token })).nextId,
      snapshot.nextId,
    );
  });

  it('bad input is a 400 naming the field, and a failing seed or restore changes nothing', async () => {
    const token = newToken();
    await s.call('PUT', `${CP}/seed`, { token, body: SEED });
    const before = (await s.call('GET', `${CP}/snapshot`, { token })).body;

    const missing = assertError(
      await s.call('PUT', `${CP}/seed`, {
        token,
        body: { objectTypes: { deals: { pipelines: [{ id: 'x', displayOrder: 0, stages: [] }] } } },
      }),
      400,
      'VALIDATION_ERROR',
    );
    assert.equal(missing.errors?.[0]?.in, 'objectTypes.deals.pipelines[0].label');

    const unknownField = assertError(
      await s.call('PUT', `${CP}/seed`, { token, body: { objectTypes: { deals: { keepDefaults: true } } } }),
      400,
      'VALIDATION_ERROR',
    );
    assert.equal(unknownField.errors?.[0]?.in, 'objectTypes.deals.keepDefaults');

    // Valid pipelines, then a record in a stage that does not exist: nothing of it is kept.
    const badRecord = assertError(
      await s.call('PUT', `${CP}/seed`, {
        token,
        body: oneDealPipeline('p2', 'P2', 0.5, [{ stage: 'nope' }]),
      }),
      400,
      'VALIDATION_ERROR',
    );
    assert.match(badRecord.errors?.[0]?.in ?? '', /^objectTypes\.deals\.records\[0\]/);
    const badProbability = assertError(
      await s.call('PUT', `${CP}/seed`, { token, body: oneDealPipeline('p', 'P', 3) }),
      400,
      'VALIDATION_ERROR',
    );
    assert.equal(badProbability.errors?.[0]?.in, 'objectTypes.deals.pipelines[0].stages[0].metadata');

    // One type under two of its names would be applied twice.
    const twice = assertError(
      await s.call('PUT', `${CP}/seed`, {
        token,
        body: { objectTypes: { deals: SEED.objectTypes.deals!, '0-3': SEED.objectTypes.deals! } },
      }),
      400,
      'VALIDATION_ERROR',
    );
    assert.equal(twice.errors?.[0]?.in, 'objectTypes.0-3');
    assert.match(twice.message, /same object type as objectTypes\.deals/);

    const snapshot = JSON.parse(before) as SeedDocument;
    const broken = {
      ...snapshot,
      audit: [
        ...(snapshot.audit ?? []),
        {
          objectType: 'nope-type',
          kind: 'pipeline',
          objectId: 'x',
          action: 'CREATE',
          message: 'm',
          rawObject: '{}',
          userId: 1,
          timestamp: '2024-01-01T00:00:00Z',
        },
      ],
    };
    const badRestore = assertError(
      await s.call('PUT', `${CP}/snapshot`, { token, body: broken }),
      400,
      'VALIDATION_ERROR',
    );
    assert.equal(badRestore.errors?.[0]?.in, `audit[${(snapshot.audit ?? []).length}].objectType`);
    const { nextId: _nextId, ...notASnapshot } = snapshot;
    assert.equal(
      assertError(
        await s.call('PUT', `${CP}/snapshot`, { token, body: notASnapshot }),
        400,
        'VALIDATION_ERROR',
      ).errors?.[0]?.in,
      'nextId',
    );

    assert.equal((await s.call('GET', `${CP}/snapshot`, { token })).body, before);
  });

  it('publishes the JSON Schema, and tags every control-plane operation in /openapi.json', async () => {
    const schema = json<{ title: string; required: string[] }>(
      await s.call('GET', `${CP}/seed-schema.json`, { token: null }),
    );
    assert.deepEqual(schema.required, ['objectTypes']);
    const doc = json<{ paths: Record<string, Record<string, { tags?: string[] }>> }>(
      await s.call('GET', '/openapi.json'),
    );
    const operations = Object.entries(doc.paths).filter(([path]) => path.startsWith(CP));
    assert.ok(operations.length >= 8, operations.map(([p]) => p).join(', '));
    for (const [path, methods] of operations) {
      for (const op of Object.values(methods)) assert.deepEqual(op.tags, ['Stageline control plane'], path);
    }
  });
});

describe('faults', () => {
  const s = useStageline();

  it("answers an injected 429 with HubSpot's body and headers, once by default", async () => {
    const token = newToken();
    const added = await s.call('POST', `${CP}/faults`, {
      token,
      body: { path: '/crm/v3/pipelines/deals', status: 429 },
    });
    assert.equal(added.statusCode, 201);
    assert.ok(json<{ id: string }>(added).id);
    const res = await s.call('GET', '/crm/v3/pipelines/deals/default', { token });
    assert.equal(res.statusCode, 429);
    const body = json<Record<string, string>>(res);
    assert.equal(body.errorType, 'RATE_LIMIT');
    assert.equal(body.policyName, 'TEN_SECONDLY_ROLLING');
    assert.equal(body.message, 'You have reached your ten_secondly_rolling limit.');
    assert.equal(body.correlationId, res.headers['x-hubspot-correlation-id']);
    assert.equal(res.headers['x-hubspot-ratelimit-remaining'], '0');
    assert.equal((await s.call('GET', '/crm/v3/pipelines/deals/default', { token })).statusCode, 200);
    assert.deepEqual(
      json<{ results: unknown[] }>(await s.call('GET', `${CP}/faults`, { token })).results,
      [],
    );
  });

  it('matches method and route patterns, applies `times` times, and a faulted write writes nothing', async () => {
    const token = newToken();
    await s.call('POST', `${CP}/faults`, {
      token,
      body: { method: 'post', path: '/crm/v3/pipelines/*', status: 502, times: 2 },
    });
    assert.equal((await s.call('GET', '/crm/v3/pipelines/deals', { token })).statusCode, 200);
    const body = {
      label: 'X',
      displayOrder: 0,
      stages: [{ label: 'A', displayOrder: 0, metadata: { probability: '0.5' } }],
    };
    const failed = await s.call('POST', '/crm/v3/pipelines/deals', { token, body });
    assertError(failed, 502, 'INTERNAL_ERROR');
    assert.equal((await s.call('POST', '/crm/v3/pipelines/deals', { token, body })).statusCode, 502);
    assert.deepEqual(ids(await s.call('GET', '/crm/v3/pipelines/deals', { token })), ['default']);
    assert.equal((await s.call('POST', '/crm/v3/pipelines/deals', { token, body })).statusCode, 201);
  });

  it('takes a custom body, headers and a delay; delayMs alone slows the answer', async () => {
    const token = newToken();
    await s.call('POST', `${CP}/faults`, {
      token,
      body: {
        path: '/crm/v3/objects/deals',
        status: 503,
        body: { custom: true },
        headers: { 'retry-after': '3' },
        delayMs: 30,
      },
    });
    const started = performance.now();
    const res = await s.call('GET', '/crm/v3/objects/deals', { token });
    assert.ok(performance.now() - started >= 25);
    assert.equal(res.statusCode, 503);
    assert.deepEqual(json(res), { custom: true });
    assert.equal(res.headers['retry-after'], '3');
    await s.call('POST', `${CP}/faults`, {
      token,
      body: { path: '/crm/v3/objects/deals', delayMs: 40, times: null },
    });
    for (let i = 0; i < 2; i++) {
      const t0 = performance.now();
      assert.equal((await s.call('GET', '/crm/v3/objects/deals', { token })).statusCode, 200);
      assert.ok(performance.now() - t0 >= 35);
    }
    assert.equal(
      json<{ results: { applied: number; remaining: null }[] }>(
        await s.call('GET', `${CP}/faults`, { token }),
      ).results[0]?.applied,
      2,
    );
  });

  it('draws `probability` from a seeded generator: the same seed fails the same requests', async () => {
    const pattern = async () => {
      const token = newToken();
      await s.call('POST', `${CP}/faults`, {
        token,
        body: { path: '/crm/v3/pipelines', status: 500, probability: 0.5, seed: 42, times: null },
      });
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++)
        statuses.push((await s.call('GET', '/crm/v3/pipelines/deals', { token })).statusCode);
      return statuses;
    };
    const first = await pattern();
    assert.deepEqual(await pattern(), first);
    assert.ok(first.includes(500) && first.includes(200), first.join(','));
  });

  it('removes one fault or all, and refuses bad specs with a 400 naming the field', async () => {
    const token = newToken();
    const a = json<{ id: string }>(
      await s.call('POST', `${CP}/faults`, { token, body: { path: '/a', status: 500 } }),
    );
    await s.call('POST', `${CP}/faults`, { token, body: { path: '/b', status: 500 } });
    assert.equal((await s.call('DELETE', `${CP}/faults/${a.id}`, { token })).statusCode, 204);
    assertError(await s.call('DELETE', `${CP}/faults/${a.id}`, { token }), 404, 'OBJECT_NOT_FOUND');
    assert.equal(
      json<{ results: unknown[] }>(await s.call('GET', `${CP}/faults`, { token })).results.length,
      1,
    );
    assert.equal((await s.call('DELETE', `${CP}/faults`, { token })).statusCode, 204);
    assert.deepEqual(
      json<{ results: unknown[] }>(await s.call('GET', `${CP}/faults`, { token })).results,
      [],
    );

    const noPath = assertError(
      await s.call('POST', `${CP}/faults`, { token, body: { status: 500 } }),
      400,
      'VALIDATION_ERROR',
    );
    assert.equal(noPath.errors?.[0]?.in, 'path');
    const noEffect = assertError(
      await s.call('POST', `${CP}/faults`, { token, body: { path: '/x' } }),
      400,
      'VALIDATION_ERROR',
    );
    assert.equal(noEffect.errors?.[0]?.in, 'status');
    const badStatus = assertError(
      await s.call('POST', `${CP}/faults`, { token, body: { path: '/x', status: 99 } }),
      400,
      'VALIDATION_ERROR',
    );
    assert.equal(badStatus.errors?.[0]?.in, 'status');
    const badProbability = assertError(
      await s.call('POST', `${CP}/faults`, { token, body: { path: '/x', status: 500, probability: 2 } }),
      400,
      'VALIDATION_ERROR',
    );
    assert.equal(badProbability.errors?.[0]?.in, 'probability');
  });
});

describe('the request journal', () => {
  const s = useStageline({ journalSize: 3 });

  it('records requests newest first, without the authorization header, and never control-plane calls', async () => {
    const token = newToken();
    await s.call('GET', '/crm/v3/pipelines/deals?archived=false', { token, headers: { 'x-test': 'yes' } });
    await s.call('POST', '/crm/v3/objects/deals', { token, body: { properties: { dealname: 'J' } } });
    await s.call('POST', `${CP}/faults`, { token, body: { path: '/crm/v3/objects', status: 500 } });
    await s.call('GET', '/crm/v3/objects/deals', { token });
    const entries = json<{ results: Record<string, unknown>[] }>(
      await s.call('GET', `${CP}/requests`, { token }),
    ).results;
    assert.deepEqual(
      entries.map((e) => [e.method, e.path, e.status]),
      [
        ['GET', '/crm/v3/objects/deals', 500],
        ['POST', '/crm/v3/objects/deals', 201],
        ['GET', '/crm/v3/pipelines/deals', 200],
      ],
    );
    const [faulted, created, listed] = entries;
    assert.equal((faulted!.fault as { status: number }).status, 500);
    assert.deepEqual(created!.body, { properties: { dealname: 'J' } });
    assert.equal((created!.responseBody as { properties: { dealname: string } }).properties.dealname, 'J');
    assert.equal(created!.fault, null);
    assert.deepEqual(listed!.query, { archived: 'false' });
    assert.equal((listed!.headers as Record<string, string>)['x-test'], 'yes');
    for (const e of entries) {
      assert.equal((e.headers as Record<string, string>).authorization, undefined);
      assert.ok(!JSON.stringify(e).includes(token));
      assert.equal(typeof e.durationMs, 'number');
      assert.match(e.correlationId as string, /^[0-9a-f-]{36}$/);
      assert.ok(!Number.isNaN(Date.parse(e.at as string)));
    }
  });

  it('filters by method, path and status, limits, keeps a bounded ring, and empties on DELETE', async () => {
    const token = newToken();
    for (const type of ['deals', 'tickets', 'deals', 'tickets'])
      await s.call('GET', `/crm/v3/pipelines/${type}`, { token });
    await s.call('GET', '/crm/v3/pipelines/nope', { token });
    const all = json<{ results: { path: string }[] }>(
      await s.call('GET', `${CP}/requests`, { token }),
    ).results;
    assert.deepEqual(
      all.map((e) => e.path),
      ['/crm/v3/pipelines/nope', '/crm/v3/pipelines/tickets', '/crm/v3/pipelines/deals'],
    );
    const list = async (query: string) =>
      json<{ results: { path: string; status: number }[] }>(
        await s.call('GET', `${CP}/requests?${query}`, { token }),
      ).results;
    assert.deepEqual(
      (await list('status=400')).map((e) => e.path),
      ['/crm/v3/pipelines/nope'],
    );
    assert.deepEqual(
      (await list('path=/crm/v3/pipelines/deals')).map((e) => e.path),
      ['/crm/v3/pipelines/deals'],
    );
    assert.equal((await list('method=get&limit=1')).length, 1);
    assert.equal((await list('method=POST')).length, 0);
    assert.equal(
      assertError(await s.call('GET', `${CP}/requests?limit=0`, { token }), 400, 'VALIDATION_ERROR')
        .errors?.[0]?.in,
      'limit',
    );
    assert.equal((await s.call('DELETE', `${CP}/requests`, { token })).statusCode, 204);
    assert.deepEqual(await list(''), []);
  });

  it('cuts response bodies at 64 KB', async () => {
    const token = newToken();
    const stages = Array.from({ length: 100 }, (_, i) => ({
      label: `Stage ${i} ${'x'.repeat(200)}`,
      displayOrder: i,
      metadata: { probability: '0.5' },
    }));
    for (let i = 0; i < 4; i++) {
      await s.call('POST', '/crm/v3/pipelines/deals', {
        token,
        body: { label: `Big ${i}`, displayOrder: i, stages },
      });
    }
    await s.call('GET', '/crm/v3/pipelines/deals', { token, headers: { 'accept-encoding': 'gzip' } });
    const [entry] = json<{ results: { responseBody: unknown; responseTruncated: boolean }[] }>(
      await s.call('GET', `${CP}/requests?limit=1`, { token }),
    ).results;
    assert.equal(entry?.responseTruncated, true);
    assert.equal((entry?.responseBody as string).length, 64 * 1024);
    assert.ok((entry?.responseBody as string).startsWith('{"results":[{"id":'));
  });
});

describe('access', () => {
  it('needs a token; control-plane calls are neither rate limited nor counted', async () => {
    const s = await buildStageline({ rateLimit: '2/10s' });
    try {
      assertUnauthenticated(await call(s, 'POST', `${CP}/reset`, { token: null }));
      const token = newToken();
      for (let i = 0; i < 5; i++)
        assert.equal((await call(s, 'GET', `${CP}/faults`, { token })).statusCode, 200);
      assert.equal((await call(s, 'GET', '/crm/v3/pipelines/deals', { token })).statusCode, 200);
      assert.equal((await call(s, 'GET', '/crm/v3/pipelines/deals', { token })).statusCode, 200);
      assert.equal((await call(s, 'GET', '/crm/v3/pipelines/deals', { token })).statusCode, 429);
    } finally {
      await s.close();
    }
  });

  it('is off in tokens mode unless asked; then it needs the stageline.admin scope', async () => {
    const off = await buildStageline({ auth: 'tokens' });
    try {
      const { token } = await off.auth.issueToken({ portalId: 7 });
      assertError(await call(off, 'POST', `${CP}/reset`, { token }), 404, 'OBJECT_NOT_FOUND');
    } finally {
      await off.close();
    }
    const on = await buildStageline({ auth: 'tokens', controlPlane: 'on' });
    try {
      const { token: plain } = await on.auth.issueToken({ portalId: 7, scopes: ['crm.schemas.deals.read'] });
      assertMissingScopes(await call(on, 'POST', `${CP}/reset`, { token: plain }), ['stageline.admin']);
      const { token: admin } = await on.auth.issueToken({ portalId: 7, scopes: ['stageline.admin'] });
      assert.equal((await call(on, 'POST', `${CP}/reset`, { token: admin })).statusCode, 204);
      assertUnauthenticated(await call(on, 'POST', `${CP}/reset`, { token: 'unknown' }));
    } finally {
      await on.close();
    }
  });
});

describe('isolation', () => {
  const s = useStageline();

  it("one portal's faults, journal, seeds and resets never touch another's, run concurrently", async () => {
    const tokens = Array.from({ length: 6 }, () => newToken());
    await Promise.all(
      tokens.map(async (token, i) => {
        const label = `Portal ${i}`;
        await s.call('PUT', `${CP}/seed`, { token, body: oneDealPipeline(`p${i}`, label) });
        await s.call('POST', `${CP}/faults`, {
          token,
          body: { path: '/crm/v3/pipelines/tickets', status: 500 + i },
        });
        for (let n = 0; n < 3; n++) {
          await s.call('PATCH', `/crm/v3/pipelines/deals/p${i}`, {
            token,
            body: { label: `${label} v${n}` },
          });
          if (n === 1 && i % 2 === 0) await s.call('POST', `${CP}/reset`, { token });
        }
        assert.equal((await s.call('GET', '/crm/v3/pipelines/tickets', { token })).statusCode, 500 + i);
        assert.deepEqual(ids(await s.call('GET', '/crm/v3/pipelines/deals', { token })), [`p${i}`]);
        const journal = json<{ results: { path: string; status: number }[] }>(
          await s.call('GET', `${CP}/requests`, { token }),
        ).results;
        assert.equal(journal.length, 5);
        assert.ok(
          journal.every((e) => e.path.endsWith(`p${i}`) || e.status === 500 + i || e.path.endsWith('deals')),
        );
      }),
    );
  });
});

describe('the clock', () => {
  const s = useStageline();
  const limited = useStageline({ rateLimit: '2/10s' });
  const stage = { label: 'A', displayOrder: 0, metadata: { probability: '0.5' } };

  it('frozen, it stamps pipelines, stages, audits and records; advanced, it moves on; only its portal', async () => {
    const token = newToken();
    const other = newToken();
    const frozen = await s.call('PUT', `${CP}/clock`, { token, body: { now: '2030-01-02T03:04:05.678Z' } });
    assert.deepEqual(json(frozen), { mode: 'frozen', now: '2030-01-02T03:04:05.678Z' });
    const created = json<{ id: string; createdAt: string; stages: { id: string; createdAt: string }[] }>(
      await s.call('POST', '/crm/v3/pipelines/deals', {
        token,
        body: { label: 'T', displayOrder: 1, stages: [stage] },
      }),
    );
    assert.equal(created.createdAt, '2030-01-02T03:04:05.678Z');
    assert.equal(created.stages[0]?.createdAt, '2030-01-02T03:04:05.678Z');

    assert.deepEqual(json(await s.call('PUT', `${CP}/clock`, { token, body: { advanceMs: 60_000 } })), {
      mode: 'frozen',
      now: '2030-01-02T03:05:05.678Z',
    });
    const updated = json<{ updatedAt: string }>(
      await s.call('PATCH', `/crm/v3/pipelines/deals/${created.id}`, { token, body: { label: 'T2' } }),
    );
    assert.equal(updated.updatedAt, '2030-01-02T03:05:05.678Z');
    const audit = json<{ results: { timestamp: string }[] }>(
      await s.call('GET', `/crm/v3/pipelines/deals/${created.id}/audit`, { token }),
    );
    assert.deepEqual(
      audit.results.map((e) => e.timestamp),
      ['2030-01-02T03:05:05.678Z', '2030-01-02T03:04:05.678Z'],
    );

    const deal = json<{ id: string }>(
      await s.call('POST', '/crm/v3/objects/deals', {
        token,
        body: { properties: { dealname: 'D', dealstage: created.stages[0]!.id } },
      }),
    );
    await s.call('PUT', `${CP}/clock`, { token, body: { advanceMs: 1000 } });
    await s.call('DELETE', `/crm/v3/objects/deals/${deal.id}`, { token });
    const archived = json<{ createdAt: string; archivedAt: string; properties: Record<string, string> }>(
      await s.call(
        'GET',
        `/crm/v3/objects/deals/${deal.id}?archived=true&properties=hs_date_entered_${created.stages[0]!.id}`,
        { token },
      ),
    );
    assert.equal(archived.createdAt, '2030-01-02T03:05:05.678Z');
    assert.equal(archived.archivedAt, '2030-01-02T03:05:06.678Z');
    assert.equal(archived.properties[`hs_date_entered_${created.stages[0]!.id}`], '2030-01-02T03:05:05.678Z');

    // Another portal keeps the system's time.
    const theirs = json<{ createdAt: string }>(
      await s.call('POST', '/crm/v3/pipelines/deals', {
        token: other,
        body: { label: 'T', displayOrder: 1, stages: [stage] },
      }),
    );
    assert.ok(Math.abs(Date.parse(theirs.createdAt) - Date.now()) < 60_000);
    assert.equal(json<{ mode: string }>(await s.call('GET', `${CP}/clock`, { token: other })).mode, 'system');

    assert.equal(
      json<{ mode: string }>(await s.call('PUT', `${CP}/clock`, { token, body: { mode: 'system' } })).mode,
      'system',
    );
  });

  it("drives the portal's rate-limit window", async () => {
    const token = newToken();
    await limited.call('PUT', `${CP}/clock`, { token, body: { now: '2030-01-01T00:00:00Z' } });
    assert.equal((await limited.call('GET', '/crm/v3/pipelines/deals', { token })).statusCode, 200);
    assert.equal((await limited.call('GET', '/crm/v3/pipelines/deals', { token })).statusCode, 200);
    assert.equal((await limited.call('GET', '/crm/v3/pipelines/deals', { token })).statusCode, 429);
    await limited.call('PUT', `${CP}/clock`, { token, body: { advanceMs: 10_001 } });
    assert.equal((await limited.call('GET', '/crm/v3/pipelines/deals', { token })).statusCode, 200);
  });

  it('refuses bad input with a 400 naming the field', async () => {
    const token = newToken();
    const field = async (body: unknown) =>
      assertError(await s.call('PUT', `${CP}/clock`, { token, body }), 400, 'VALIDATION_ERROR').errors?.[0]
        ?.in;
    assert.equal(await field({ now: 'yesterday' }), 'now');
    assert.equal(await field({ advanceMs: 5 }), 'advanceMs');
    assert.equal(await field({ advanceMs: -5 }), 'advanceMs');
    assert.equal(await field({ mode: 'frozen' }), 'mode');
    assert.equal(await field({}), 'now');
  });
});
