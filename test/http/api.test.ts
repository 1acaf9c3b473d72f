// The happy paths of the 14 operations over `inject`: status codes, default pipelines, type ids,
// ordering, PUT/PATCH semantics, delete and restore, audit, and the service endpoints.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { HUBSPOT_DEFAULTS } from '../helpers/hubspot-defaults.js';
import type {
  RawPipeline,
  RawStage,
  WireAudit,
  WireCollection,
  WirePipeline,
  WireStage,
} from '../helpers/wire-types.js';
import {
  BASE,
  ISO_UTC,
  JSON_TYPE,
  assertError,
  dealPipeline,
  dealStage,
  json,
  must,
  newToken,
  useStageline,
} from './support.js';

const server = useStageline();

async function get<T>(token: string, path: string): Promise<T> {
  const res = await server.call('GET', `${BASE}${path}`, { token });
  assert.equal(res.statusCode, 200, `GET ${path}: ${res.body}`);
  assert.equal(res.headers['content-type'], JSON_TYPE);
  return json<T>(res);
}

const list = async (token: string, type = 'deals') =>
  (await get<WireCollection<WirePipeline>>(token, `/${type}`)).results;

const audit = async (token: string, path: string) =>
  (await get<WireCollection<WireAudit>>(token, path)).results;

const ids = (items: Array<{ id: string }>) => items.map((i) => i.id);
const labels = (items: Array<{ label: string }>) => items.map((i) => i.label);

describe('status codes', () => {
  it('POST 201, GET/PUT/PATCH 200, DELETE 204 with an empty body', async () => {
    const token = newToken();
    const created = await server.call('POST', `${BASE}/deals`, { token, body: dealPipeline('Codes') });
    assert.equal(created.statusCode, 201, created.body);
    assert.equal(created.headers['content-type'], JSON_TYPE);
    const p = json<WirePipeline>(created);
    assert.match(p.id, /^\d+$/);
    for (const st of p.stages) assert.match(st.id, /^\d+$/);
    assert.equal(new Set([p.id, ...ids(p.stages)]).size, 3);

    const steps: Array<[string, string, unknown, number]> = [
      ['GET', `/deals/${p.id}`, undefined, 200],
      ['GET', `/deals/${p.id}/stages`, undefined, 200],
      ['GET', `/deals/${p.id}/audit`, undefined, 200],
      ['PUT', `/deals/${p.id}`, dealPipeline('Codes 2'), 200],
      ['PATCH', `/deals/${p.id}`, { label: 'Codes 3' }, 200],
      ['POST', `/deals/${p.id}/stages`, dealStage('Extra', 5), 201],
    ];
    for (const [method, path, body, status] of steps) {
      const res = await server.call(method as 'GET', `${BASE}${path}`, { token, body });
      assert.equal(res.statusCode, status, `${method} ${path}: ${res.body}`);
      assert.equal(res.headers['content-type'], JSON_TYPE);
    }
    const stage = must(
      (await get<WirePipeline>(token, `/deals/${p.id}`)).stages.find((x) => x.label === 'Extra'),
    );
    const stageSteps: Array<[string, string, unknown, number]> = [
      ['GET', `/deals/${p.id}/stages/${stage.id}`, undefined, 200],
      ['PUT', `/deals/${p.id}/stages/${stage.id}`, dealStage('Extra 2', 6, 0.3), 200],
      ['PATCH', `/deals/${p.id}/stages/${stage.id}`, { label: 'Extra 3' }, 200],
      ['GET', `/deals/${p.id}/stages/${stage.id}/audit`, undefined, 200],
    ];
    for (const [method, path, body, status] of stageSteps) {
      const res = await server.call(method as 'GET', `${BASE}${path}`, { token, body });
      assert.equal(res.statusCode, status, `${method} ${path}: ${res.body}`);
    }

    const delStage = await server.call('DELETE', `${BASE}/deals/${p.id}/stages/${stage.id}`, { token });
    assert.equal(delStage.statusCode, 204, delStage.body);
    assert.equal(delStage.body, '');
    const delPipeline = await server.call('DELETE', `${BASE}/deals/${p.id}`, { token });
    assert.equal(delPipeline.statusCode, 204, delPipeline.body);
    assert.equal(delPipeline.body, '');
    assert.equal(delPipeline.headers['content-length'] ?? '0', '0');
  });

  it('a DELETE sent with a JSON content type and no body is fine', async () => {
    const token = newToken();
    const p = await server.createPipeline(token, 'deals', dealPipeline('Empty body'));
    const res = await server.call('DELETE', `${BASE}/deals/${p.id}`, {
      token,
      raw: '',
      contentType: 'application/json',
    });
    assert.equal(res.statusCode, 204, res.body);
  });

  it('responses carry the stored, normalised object', async () => {
    const token = newToken();
    const p = await server.createPipeline(token, 'deals', {
      label: '  Trimmed  ',
      displayOrder: 3,
      stages: [
        { label: ' Half ', displayOrder: 0, metadata: { probability: 0.5, isClosed: true, colour: 'red' } },
        { label: 'Won', displayOrder: 1, metadata: { probability: '1' } },
        { label: 'Lost', displayOrder: 2, metadata: { probability: 0 } },
      ],
    });
    assert.equal(p.label, 'Trimmed');
    assert.equal(p.displayOrder, 3);
    assert.equal(p.archived, false);
    assert.equal(p.archivedAt, undefined);
    assert.match(p.createdAt, ISO_UTC);
    assert.equal(p.createdAt, p.updatedAt);
    assert.deepEqual(
      p.stages.map((st) => [st.label, st.metadata]),
      [
        // A sent isClosed is stored as sent, whatever the probability.
        ['Half', { isClosed: 'true', probability: '0.5' }],
        ['Won', { isClosed: 'true', probability: '1.0' }],
        ['Lost', { isClosed: 'true', probability: '0.0' }],
      ],
    );
    for (const st of p.stages) {
      assert.equal(st.writePermissions, 'CRM_PERMISSIONS_ENFORCEMENT');
      assert.equal(st.archived, false);
      assert.match(st.createdAt, ISO_UTC);
    }
    assert.deepEqual(await get<WirePipeline>(token, `/deals/${p.id}`), p);
  });
});

describe('default pipelines of a new portal', () => {
  it('deals: `default`, Sales Pipeline, 7 stages with HubSpot’s probabilities', async () => {
    const token = newToken();
    const pipelines = await list(token, 'deals');
    assert.equal(pipelines.length, 1);
    const p = must(pipelines[0]);
    assert.equal(p.id, HUBSPOT_DEFAULTS.deals.id);
    assert.equal(p.label, HUBSPOT_DEFAULTS.deals.label);
    assert.equal(p.displayOrder, HUBSPOT_DEFAULTS.deals.displayOrder);
    assert.equal(p.archived, false);
    assert.equal(p.createdAt, HUBSPOT_DEFAULTS.timestamp);
    assert.equal(p.updatedAt, HUBSPOT_DEFAULTS.timestamp);
    assert.deepEqual(
      p.stages.map((st) => [st.id, st.label, st.metadata.probability, st.metadata.isClosed]),
      HUBSPOT_DEFAULTS.deals.stages,
    );
    assert.deepEqual(
      p.stages.map((st) => st.displayOrder),
      [0, 1, 2, 3, 4, 5, 6],
    );
    for (const st of p.stages) {
      assert.equal(st.writePermissions, 'CRM_PERMISSIONS_ENFORCEMENT');
      assert.deepEqual(Object.keys(st.metadata).sort(), ['isClosed', 'probability']);
      assert.equal(st.createdAt, HUBSPOT_DEFAULTS.timestamp);
    }
    assert.deepEqual(
      (await get<WireCollection<WireStage>>(token, '/deals/default/stages')).results,
      p.stages,
    );
  });

  it('tickets: `0`, Support Pipeline, stages 1-4', async () => {
    const pipelines = await list(newToken(), 'tickets');
    assert.deepEqual(ids(pipelines), [HUBSPOT_DEFAULTS.tickets.id]);
    const p = must(pipelines[0]);
    assert.equal(p.label, HUBSPOT_DEFAULTS.tickets.label);
    assert.deepEqual(
      p.stages.map((st) => [st.id, st.label, st.metadata]),
      HUBSPOT_DEFAULTS.tickets.stages.map(([id, label, ticketState]) => [id, label, { ticketState }]),
    );
  });

  for (const type of ['contacts', 'companies'] as const) {
    it(`${type}: the read-only lifecycle pipeline`, async () => {
      const pipelines = await list(newToken(), type);
      assert.deepEqual(ids(pipelines), [HUBSPOT_DEFAULTS.lifecycle.ids[type]]);
      const p = must(pipelines[0]);
      assert.equal(p.label, HUBSPOT_DEFAULTS.lifecycle.label);
      assert.deepEqual(ids(p.stages), HUBSPOT_DEFAULTS.lifecycle.stageIds);
      for (const st of p.stages) {
        const closed = st.id === 'other';
        assert.deepEqual(st.metadata, { isClosed: String(closed), state: closed ? 'CLOSED' : 'OPEN' });
      }
    });
  }

  it('other types start empty', async () => {
    const token = newToken();
    for (const type of ['orders', 'leads', 'services', 'courses', 'listings', 'appointments', '2-77']) {
      assert.deepEqual(await list(token, type), [], type);
    }
  });

  it('a default pipeline has no audit history', async () => {
    assert.deepEqual(await audit(newToken(), '/deals/default/audit'), []);
  });
});

describe('object type ids and names', () => {
  const pairs = [
    ['deals', '0-3'],
    ['tickets', '0-5'],
    ['orders', '0-123'],
    ['leads', '0-136'],
    ['contacts', '0-1'],
  ] as const;

  it('a type id and its name address the same pipelines', async () => {
    const token = newToken();
    const p = await server.createPipeline(token, '0-3', dealPipeline('Via id'));
    assert.deepEqual(await get<WirePipeline>(token, `/deals/${p.id}`), p);
    const q = await server.createPipeline(token, 'deals', dealPipeline('Via name'));
    assert.deepEqual(await get<WirePipeline>(token, `/0-3/${q.id}`), q);
    for (const [name, id] of pairs) assert.deepEqual(await list(token, id), await list(token, name), name);
  });

  it('a change through one spelling shows through the other', async () => {
    const token = newToken();
    const patched = await server.call('PATCH', `${BASE}/0-5/0`, { token, body: { label: 'Help desk' } });
    assert.equal(patched.statusCode, 200, patched.body);
    assert.equal((await get<WirePipeline>(token, '/tickets/0')).label, 'Help desk');
    const entries = await audit(token, '/tickets/0/audit');
    assert.equal(entries.length, 1);
  });

  it('custom types are separate from each other', async () => {
    const token = newToken();
    const p = await server.createPipeline(token, '2-10', {
      label: 'Custom',
      displayOrder: 0,
      stages: [{ label: 'A', displayOrder: 0, metadata: { state: 'OPEN' } }],
    });
    assert.deepEqual(ids(await list(token, '2-10')), [p.id]);
    assert.deepEqual(await list(token, '2-11'), []);
    assertError(await server.call('GET', `${BASE}/2-11/${p.id}`, { token }), 404, 'OBJECT_NOT_FOUND');
  });
});

describe('ordering', () => {
  it('pipelines by displayOrder, then label', async () => {
    const token = newToken();
    for (const [label, order] of [
      ['Zed', 1],
      ['Late', 5],
      ['Beta', 1],
      ['Alpha', 1],
      ['Early', 0],
    ] as const) {
      await server.createPipeline(token, 'deals', dealPipeline(label, order));
    }
    assert.deepEqual(labels(await list(token)), ['Early', 'Sales Pipeline', 'Alpha', 'Beta', 'Zed', 'Late']);
  });

  it('stages by displayOrder, then label, in every view', async () => {
    const token = newToken();
    const p = await server.createPipeline(token, 'deals', {
      label: 'Ordered',
      displayOrder: 1,
      stages: [
        dealStage('Zulu', 2),
        dealStage('Mike', 1),
        dealStage('Bravo', 2),
        dealStage('Alpha', 2),
        dealStage('First', 0),
      ],
    });
    const expected = ['First', 'Mike', 'Alpha', 'Bravo', 'Zulu'];
    assert.deepEqual(labels(p.stages), expected);
    assert.deepEqual(labels((await get<WirePipeline>(token, `/deals/${p.id}`)).stages), expected);
    assert.deepEqual(
      labels((await get<WireCollection<WireStage>>(token, `/deals/${p.id}/stages`)).results),
      expected,
    );

    const moved = await server.call('PATCH', `${BASE}/deals/${p.id}/stages/${must(p.stages[4]).id}`, {
      token,
      body: { displayOrder: 0 },
    });
    assert.equal(moved.statusCode, 200);
    assert.deepEqual(labels((await get<WirePipeline>(token, `/deals/${p.id}`)).stages), [
      'First',
      'Zulu',
      'Mike',
      'Alpha',
      'Bravo',
    ]);
  });
});

describe('PUT replaces a pipeline', () => {
  it('keeps stages named by stageId, creates the others, archives those left out', async () => {
    const token = newToken();
    const p = await server.createPipeline(token, 'deals', dealPipeline('Replace me', 1, ['A', 'B', 'C']));
    const [a, b, c] = p.stages;
    assert.ok(a && b && c);

    const res = await server.call('PUT', `${BASE}/deals/${p.id}`, {
      token,
      raw: JSON.stringify({
        label: 'Replaced',
        displayOrder: 4,
        stages: [
          { stageId: a.id, label: 'A renamed', displayOrder: 1, metadata: { probability: 0.7 } },
          { label: 'D', displayOrder: 0, metadata: { probability: 0.1 } },
        ],
      }),
    });
    assert.equal(res.statusCode, 200, res.body);
    const q = json<WirePipeline>(res);
    assert.equal(q.id, p.id);
    assert.equal(q.label, 'Replaced');
    assert.equal(q.displayOrder, 4);
    assert.equal(q.createdAt, p.createdAt);
    assert.deepEqual(labels(q.stages), ['D', 'A renamed']);
    const [d, kept] = q.stages;
    assert.ok(d && kept);
    assert.equal(kept.id, a.id);
    assert.equal(kept.createdAt, a.createdAt);
    assert.equal(kept.metadata.probability, '0.7');
    assert.match(d.id, /^\d+$/);
    assert.ok(![a.id, b.id, c.id].includes(d.id));

    assert.deepEqual(await get<WirePipeline>(token, `/deals/${p.id}`), q);
    for (const gone of [b, c]) {
      assertError(
        await server.call('GET', `${BASE}/deals/${p.id}/stages/${gone.id}`, { token }),
        404,
        'OBJECT_NOT_FOUND',
      );
      const entries = await audit(token, `/deals/${p.id}/stages/${gone.id}/audit`);
      assert.deepEqual(
        entries.map((e) => e.action),
        ['DELETE', 'CREATE'],
      );
      const raw = JSON.parse(must(entries[0]).rawObject) as RawStage;
      assert.equal(raw.stageId, gone.id);
      assert.equal(raw.active, false);
    }
    const aAudit = await audit(token, `/deals/${p.id}/stages/${a.id}/audit`);
    assert.deepEqual(
      aAudit.map((e) => e.action),
      ['UPDATE', 'CREATE'],
    );
    assert.equal((JSON.parse(must(aAudit[0]).rawObject) as RawStage).label, 'A renamed');
    const dAudit = await audit(token, `/deals/${p.id}/stages/${d.id}/audit`);
    assert.deepEqual(
      dAudit.map((e) => e.action),
      ['CREATE'],
    );
    const pAudit = await audit(token, `/deals/${p.id}/audit`);
    assert.deepEqual(
      pAudit.map((e) => e.action),
      ['UPDATE', 'CREATE'],
    );
  });

  it('a stage archived by PUT comes back when named again', async () => {
    const token = newToken();
    const p = await server.createPipeline(token, 'deals', dealPipeline('Comeback', 1, ['A', 'B']));
    const [a, b] = p.stages;
    assert.ok(a && b);
    const drop = await server.call('PUT', `${BASE}/deals/${p.id}`, {
      token,
      raw: JSON.stringify({
        label: 'Comeback',
        displayOrder: 1,
        stages: [{ ...dealStage('A', 0), stageId: a.id }],
      }),
    });
    assert.equal(drop.statusCode, 200, drop.body);
    assert.deepEqual(ids(json<WirePipeline>(drop).stages), [a.id]);
    const back = await server.call('PUT', `${BASE}/deals/${p.id}`, {
      token,
      raw: JSON.stringify({
        label: 'Comeback',
        displayOrder: 1,
        stages: [
          { ...dealStage('A', 0), stageId: a.id },
          { ...dealStage('B', 1), stageId: b.id },
        ],
      }),
    });
    assert.equal(back.statusCode, 200, back.body);
    assert.deepEqual(ids(json<WirePipeline>(back).stages), [a.id, b.id]);
    assert.equal((await get<WireStage>(token, `/deals/${p.id}/stages/${b.id}`)).archived, false);
  });

  it('PUT of a single stage replaces it and keeps its id', async () => {
    const token = newToken();
    const res = await server.call('PUT', `${BASE}/deals/default/stages/contractsent`, {
      token,
      raw: JSON.stringify({
        stageId: 'ignored',
        label: 'Contract out',
        displayOrder: 9,
        metadata: { probability: 0 },
      }),
    });
    assert.equal(res.statusCode, 200, res.body);
    const st = json<WireStage>(res);
    assert.equal(st.id, 'contractsent');
    assert.equal(st.label, 'Contract out');
    assert.equal(st.displayOrder, 9);
    assert.deepEqual(st.metadata, { isClosed: 'true', probability: '0.0' });
    assert.equal(st.createdAt, '1970-01-01T00:00:00Z');
    assert.notEqual(st.updatedAt, st.createdAt);
    assertError(
      await server.call('GET', `${BASE}/deals/default/stages/ignored`, { token }),
      404,
      'OBJECT_NOT_FOUND',
    );
  });
});

describe('PATCH merges', () => {
  it('a pipeline PATCH changes only the fields sent', async () => {
    const token = newToken();
    const p = await server.createPipeline(token, 'deals', dealPipeline('Patch me', 2));
    const label = json<WirePipeline>(
      await server.call('PATCH', `${BASE}/deals/${p.id}`, { token, body: { label: 'Patched' } }),
    );
    assert.equal(label.label, 'Patched');
    assert.equal(label.displayOrder, 2);
    assert.deepEqual(label.stages, p.stages);
    assert.equal(label.createdAt, p.createdAt);

    const order = json<WirePipeline>(
      await server.call('PATCH', `${BASE}/deals/${p.id}`, { token, body: { displayOrder: 7 } }),
    );
    assert.equal(order.label, 'Patched');
    assert.equal(order.displayOrder, 7);

    const empty = await server.call('PATCH', `${BASE}/deals/${p.id}`, { token, body: {} });
    assert.equal(empty.statusCode, 200);
    assert.equal(json<WirePipeline>(empty).label, 'Patched');
    assert.equal(json<WirePipeline>(empty).displayOrder, 7);
  });

  it('a pipeline PATCH never changes its id', async () => {
    const token = newToken();
    const res = await server.call('PATCH', `${BASE}/deals/default`, {
      token,
      raw: JSON.stringify({ pipelineId: 'other', id: 'other', label: 'Same id' }),
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(json<WirePipeline>(res).id, 'default');
    assertError(await server.call('GET', `${BASE}/deals/other`, { token }), 404, 'OBJECT_NOT_FOUND');
  });

  it('a stage PATCH keeps what is not sent and merges metadata', async () => {
    const token = newToken();
    const url = `${BASE}/deals/default/stages/qualifiedtobuy`;
    const renamed = json<WireStage>(await server.call('PATCH', url, { token, body: { label: 'Qualified' } }));
    assert.equal(renamed.label, 'Qualified');
    assert.equal(renamed.displayOrder, 1);
    assert.deepEqual(renamed.metadata, { isClosed: 'false', probability: '0.4' });

    // An empty metadata map keeps the stored probability (a replace would have failed).
    const kept = await server.call('PATCH', url, { token, body: { metadata: {} } });
    assert.equal(kept.statusCode, 200, kept.body);
    assert.deepEqual(json<WireStage>(kept).metadata, { isClosed: 'false', probability: '0.4' });

    const closed = json<WireStage>(
      await server.call('PATCH', url, { token, body: { metadata: { probability: 1 } } }),
    );
    assert.deepEqual(closed.metadata, { isClosed: 'true', probability: '1.0' });
    assert.equal(closed.label, 'Qualified');

    const moved = json<WireStage>(await server.call('PATCH', url, { token, body: { displayOrder: 12 } }));
    assert.equal(moved.displayOrder, 12);
    assert.equal(moved.label, 'Qualified');
    assert.deepEqual(moved.metadata, { isClosed: 'true', probability: '1.0' });
    assert.deepEqual(await get<WireStage>(token, '/deals/default/stages/qualifiedtobuy'), moved);
  });

  it('a ticket stage PATCH merges ticketState', async () => {
    const token = newToken();
    const res = await server.call('PATCH', `${BASE}/tickets/0/stages/3`, {
      token,
      body: { metadata: { ticketState: 'CLOSED' } },
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(json<WireStage>(res).metadata, { ticketState: 'CLOSED' });
    assert.equal(json<WireStage>(res).label, 'Waiting on us');
  });
});

describe('delete and restore', () => {
  it('a deleted pipeline leaves lists, answers 404, keeps its audit and can be restored', async () => {
    const token = newToken();
    const p = await server.createPipeline(token, 'deals', dealPipeline('Short-lived'));
    assert.equal((await server.call('DELETE', `${BASE}/deals/${p.id}`, { token })).statusCode, 204);
    assert.deepEqual(ids(await list(token)), ['default']);
    assertError(await server.call('GET', `${BASE}/deals/${p.id}`, { token }), 404, 'OBJECT_NOT_FOUND');
    assertError(await server.call('GET', `${BASE}/deals/${p.id}/stages`, { token }), 404, 'OBJECT_NOT_FOUND');

    const entries = await audit(token, `/deals/${p.id}/audit`);
    assert.deepEqual(
      entries.map((e) => e.action),
      ['DELETE', 'CREATE'],
    );
    const archived = JSON.parse(must(entries[0]).rawObject) as RawPipeline;
    assert.equal(archived.pipelineId, p.id);
    assert.equal(archived.active, false);

    const restored = await server.call('PATCH', `${BASE}/deals/${p.id}`, {
      token,
      body: { archived: false },
    });
    assert.equal(restored.statusCode, 200, restored.body);
    const r = json<WirePipeline>(restored);
    assert.equal(r.archived, false);
    assert.equal(r.archivedAt, undefined);
    assert.deepEqual(ids(r.stages), ids(p.stages));
    assert.deepEqual(ids(await list(token)), ['default', p.id]);
    assert.equal((await get<WirePipeline>(token, `/deals/${p.id}`)).label, 'Short-lived');
    assert.deepEqual(
      (await audit(token, `/deals/${p.id}/audit`)).map((e) => e.action),
      ['UPDATE', 'DELETE', 'CREATE'],
    );
  });

  it('a deleted stage leaves the pipeline, answers 404 and can be restored', async () => {
    const token = newToken();
    const del = await server.call('DELETE', `${BASE}/deals/default/stages/contractsent`, { token });
    assert.equal(del.statusCode, 204, del.body);
    assert.equal(del.body, '');
    const p = await get<WirePipeline>(token, '/deals/default');
    assert.ok(!ids(p.stages).includes('contractsent'));
    assert.equal(p.stages.length, 6);
    assertError(
      await server.call('GET', `${BASE}/deals/default/stages/contractsent`, { token }),
      404,
      'OBJECT_NOT_FOUND',
    );
    const entries = await audit(token, '/deals/default/stages/contractsent/audit');
    assert.deepEqual(
      entries.map((e) => e.action),
      ['DELETE'],
    );

    const restored = await server.call('PATCH', `${BASE}/deals/default/stages/contractsent`, {
      token,
      body: { archived: false },
    });
    assert.equal(restored.statusCode, 200, restored.body);
    const st = json<WireStage>(restored);
    assert.equal(st.archived, false);
    assert.equal(st.archivedAt, undefined);
    assert.equal(st.label, 'Contract Sent');
    assert.equal((await get<WirePipeline>(token, '/deals/default')).stages.length, 7);
  });

  it('the default pipeline can be deleted like any other', async () => {
    const token = newToken();
    assert.equal((await server.call('DELETE', `${BASE}/deals/default`, { token })).statusCode, 204);
    assert.deepEqual(await list(token), []);
  });
});

describe('audit', () => {
  it('pipeline audit: newest first, rawObject is the JSON state after each change', async () => {
    const token = newToken();
    const p = await server.createPipeline(token, 'deals', dealPipeline('Audit v1'));
    await server.call('PATCH', `${BASE}/deals/${p.id}`, { token, body: { label: 'Audit v2' } });
    await server.call('PATCH', `${BASE}/deals/${p.id}`, {
      token,
      body: { label: 'Audit v3', displayOrder: 9 },
    });

    const entries = await audit(token, `/deals/${p.id}/audit`);
    assert.deepEqual(
      entries.map((e) => [e.action, e.message]),
      [
        ['UPDATE', 'Pipeline update'],
        ['UPDATE', 'Pipeline update'],
        ['CREATE', 'User defined. pipeline created'],
      ],
    );
    const raw = entries.map((e) => {
      assert.equal(typeof e.rawObject, 'string');
      return JSON.parse(e.rawObject) as RawPipeline;
    });
    assert.deepEqual(
      raw.map((r) => [r.pipelineId, r.label, r.displayOrder, r.version]),
      [
        [p.id, 'Audit v3', 9, 3],
        [p.id, 'Audit v2', 1, 2],
        [p.id, 'Audit v1', 1, 1],
      ],
    );
    const created = must(raw[2]);
    assert.equal(created.createdAt, Date.parse(p.createdAt));
    assert.deepEqual(
      created.stages.map((s) => [s.stageId, s.label, s.displayOrder, s.metadata]),
      p.stages.map((s) => [s.id, s.label, s.displayOrder, s.metadata]),
    );
    const portalId = must(entries[0]).portalId;
    for (const e of entries) {
      assert.ok(Number.isInteger(e.portalId));
      assert.equal(e.portalId, portalId);
      assert.equal(e.identifier, `${portalId}:${p.id}`);
      assert.match(e.timestamp, ISO_UTC);
      assert.ok(Number.isInteger(e.fromUserId));
    }
  });

  it('stage audit: identifier, messages, and the SDK’s literal %7BpipelineId%7D path', async () => {
    const token = newToken();
    const p = await server.createPipeline(token, 'deals', dealPipeline('Stage audit', 1, ['One', 'Two']));
    const st = must(p.stages[0]);
    await server.call('PATCH', `${BASE}/deals/${p.id}/stages/${st.id}`, { token, body: { label: 'Uno' } });

    const direct = await audit(token, `/deals/${p.id}/stages/${st.id}/audit`);
    assert.deepEqual(
      direct.map((e) => [e.action, e.message]),
      [
        ['UPDATE', 'Stage update'],
        ['CREATE', 'User defined. stage created'],
      ],
    );
    const first = must(direct[0]);
    assert.equal(first.identifier, `${first.portalId}:${st.id}`);
    assert.equal((JSON.parse(first.rawObject) as RawStage).label, 'Uno');

    const viaSdkPath = await audit(token, `/deals/%7BpipelineId%7D/stages/${st.id}/audit`);
    assert.deepEqual(viaSdkPath, direct);
    const viaTypeId = await audit(token, `/0-3/%7BpipelineId%7D/stages/${st.id}/audit`);
    assert.deepEqual(viaTypeId, direct);
    assertError(
      await server.call('GET', `${BASE}/deals/%7BpipelineId%7D/stages/nope/audit`, { token }),
      404,
      'OBJECT_NOT_FOUND',
    );
    assertError(
      await server.call('GET', `${BASE}/deals/default/stages/${st.id}/audit`, { token }),
      404,
      'OBJECT_NOT_FOUND',
    );
  });

  it('a default stage’s audit is reachable through the SDK path', async () => {
    const token = newToken();
    await server.call('PATCH', `${BASE}/deals/default/stages/closedwon`, { token, body: { label: 'Won' } });
    const entries = await audit(token, '/deals/%7BpipelineId%7D/stages/closedwon/audit');
    assert.equal(entries.length, 1);
    assert.equal(must(entries[0]).action, 'UPDATE');
  });
});

describe('delete-check flags', () => {
  const flags = '?validateReferencesBeforeDelete=true&validateDealStageUsagesBeforeDelete=false';

  it('are accepted on pipeline DELETE, PUT and PATCH and on stage DELETE', async () => {
    const token = newToken();
    const p = await server.createPipeline(token, 'deals', dealPipeline('Flags', 1, ['A', 'B']));
    const put = await server.call('PUT', `${BASE}/deals/${p.id}${flags}`, {
      token,
      body: dealPipeline('Flags 2'),
    });
    assert.equal(put.statusCode, 200, put.body);
    const patch = await server.call('PATCH', `${BASE}/deals/${p.id}${flags}`, {
      token,
      body: { label: 'Flags 3' },
    });
    assert.equal(patch.statusCode, 200, patch.body);
    const stage = must(json<WirePipeline>(patch).stages[0]);
    const delStage = await server.call(
      'DELETE',
      `${BASE}/deals/${p.id}/stages/${stage.id}?validateReferencesBeforeDelete=false`,
      {
        token,
      },
    );
    assert.equal(delStage.statusCode, 204, delStage.body);
    const del = await server.call(
      'DELETE',
      `${BASE}/deals/${p.id}?validateDealStageUsagesBeforeDelete=true`,
      {
        token,
      },
    );
    assert.equal(del.statusCode, 204, del.body);
  });

  it('a non-boolean value is a 400 naming the parameter', async () => {
    const token = newToken();
    const cases: Array<[string, string, unknown]> = [
      ['DELETE', '/deals/default?validateReferencesBeforeDelete=maybe', undefined],
      ['DELETE', '/deals/default?validateDealStageUsagesBeforeDelete=yes please', undefined],
      ['PUT', '/deals/default?validateReferencesBeforeDelete=2', dealPipeline('Sales Pipeline', 0)],
      ['PATCH', '/deals/default?validateDealStageUsagesBeforeDelete=nope', { label: 'X' }],
      ['DELETE', '/deals/default/stages/closedwon?validateReferencesBeforeDelete=perhaps', undefined],
    ];
    for (const [method, path, body] of cases) {
      const res = await server.call(method as 'GET', `${BASE}${encodeURI(path)}`, { token, body });
      const err = assertError(res, 400, 'VALIDATION_ERROR');
      assert.match(err.message, /validate(References|DealStageUsages)BeforeDelete/);
      assert.match(must(err.errors?.[0]?.in), /^validate(References|DealStageUsages)BeforeDelete$/);
    }
    // Nothing was changed by the refused calls.
    const p = await get<WirePipeline>(token, '/deals/default');
    assert.equal(p.label, 'Sales Pipeline');
    assert.equal(p.stages.length, 7);
  });
});

describe('service endpoints', () => {
  it('GET /health answers 200 without credentials', async () => {
    const res = await server.call('GET', '/health', { token: null });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], JSON_TYPE);
    assert.deepEqual(json(res), { status: 'ok' });
  });

  it('GET /openapi.json is an OpenAPI 3 document of the pipelines API', async () => {
    const res = await server.call('GET', '/openapi.json', { token: null });
    assert.equal(res.statusCode, 200);
    const doc = json<{ openapi: string; paths: Record<string, Record<string, unknown>> }>(res);
    assert.match(doc.openapi, /^3\./);
    const expected: Record<string, string[]> = {
      '/crm/v3/pipelines/{objectType}': ['get', 'post'],
      '/crm/v3/pipelines/{objectType}/{pipelineId}': ['delete', 'get', 'patch', 'put'],
      '/crm/v3/pipelines/{objectType}/{pipelineId}/audit': ['get'],
      '/crm/v3/pipelines/{objectType}/{pipelineId}/stages': ['get', 'post'],
      '/crm/v3/pipelines/{objectType}/{pipelineId}/stages/{stageId}': ['delete', 'get', 'patch', 'put'],
      '/crm/v3/pipelines/{objectType}/{pipelineId}/stages/{stageId}/audit': ['get'],
    };
    let operations = 0;
    for (const [path, methods] of Object.entries(expected)) {
      const item = must(doc.paths[path], path);
      const present = Object.keys(item)
        .filter((k) => ['get', 'post', 'put', 'patch', 'delete'].includes(k))
        .sort();
      assert.deepEqual(present, methods, path);
      operations += present.length;
    }
    assert.equal(operations, 14);
    assert.ok(!('/health' in doc.paths));
  });
});
