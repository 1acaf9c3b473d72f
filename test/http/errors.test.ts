// Errors over HTTP: HubSpot's envelope for every failure (FIDELITY §6) and each validation rule of
// FIDELITY §5, driven through `inject` on an app built by the composition root.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { WirePipeline } from '../helpers/wire-types.js';
import {
  BASE,
  assertError,
  buildStageline,
  call,
  dealPipeline,
  dealStage,
  json,
  newToken,
  statePipeline,
  ticketPipeline,
  useStageline,
} from './support.js';

const server = useStageline();

describe('the error envelope', () => {
  it('carries a fresh correlation id per error, equal to the header', async () => {
    const token = newToken();
    const a = assertError(await server.call('GET', `${BASE}/deals/nope`, { token }), 404, 'OBJECT_NOT_FOUND');
    const b = assertError(await server.call('GET', `${BASE}/deals/nope`, { token }), 404, 'OBJECT_NOT_FOUND');
    assert.notEqual(a.correlationId, b.correlationId);
  });

  it('sends the correlation id header on successes too', async () => {
    const res = await server.call('GET', `${BASE}/deals`, { token: newToken() });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['x-hubspot-correlation-id']), /^[0-9a-f-]{36}$/);
  });
});

describe('deal stage probability', () => {
  it('is required', async () => {
    const token = newToken();
    for (const metadata of [{}, { probability: '' }, { probability: '  ' }, { probability: null }]) {
      const res = await server.call('POST', `${BASE}/deals`, {
        token,
        body: { label: 'P', displayOrder: 1, stages: [{ label: 'A', displayOrder: 0, metadata }] },
      });
      assertError(res, 400, 'VALIDATION_ERROR', 'must specify probability when writing a dealstage');
    }
  });

  it('is required when adding a stage to an existing deal pipeline', async () => {
    const res = await server.call('POST', `${BASE}/deals/default/stages`, {
      token: newToken(),
      body: { label: 'New', displayOrder: 9, metadata: {} },
    });
    assertError(res, 400, 'VALIDATION_ERROR', 'must specify probability when writing a dealstage');
  });

  it('must lie in 0.0..1.0', async () => {
    const token = newToken();
    for (const probability of [1.5, -0.1, '1.01', 'abc', '0x1', 'Infinity', 2]) {
      const res = await server.call('POST', `${BASE}/deals`, {
        token,
        body: { label: 'P', displayOrder: 1, stages: [dealStage('A', 0, probability)] },
      });
      assertError(
        res,
        400,
        'VALIDATION_ERROR',
        'dealstage probability is not valid, must be between 0.0 and 1.0 (inclusive)',
      );
    }
  });

  it('accepts the bounds and any value in between', async () => {
    const token = newToken();
    const p = await server.createPipeline(token, 'deals', {
      label: 'Bounds',
      displayOrder: 1,
      stages: [dealStage('Zero', 0, 0), dealStage('Quarter', 1, 0.25), dealStage('One', 2, '1')],
    });
    assert.deepEqual(
      p.stages.map((st) => st.metadata.probability),
      ['0.0', '0.25', '1.0'],
    );
  });

  it('is rejected out of range in a stage PATCH and PUT too', async () => {
    const token = newToken();
    const patch = await server.call('PATCH', `${BASE}/deals/default/stages/closedwon`, {
      token,
      body: { metadata: { probability: 3 } },
    });
    assertError(patch, 400, 'VALIDATION_ERROR', /^dealstage probability is not valid/);
    const put = await server.call('PUT', `${BASE}/deals/default/stages/closedwon`, {
      token,
      body: { label: 'Closed Won', displayOrder: 5, metadata: {} },
    });
    assertError(put, 400, 'VALIDATION_ERROR', 'must specify probability when writing a dealstage');
  });
});

describe('stage labels', () => {
  it('must be unique within a pipeline, case-insensitively after trimming', async () => {
    const res = await server.call('POST', `${BASE}/deals`, {
      token: newToken(),
      body: { label: 'Dup', displayOrder: 1, stages: [dealStage('Won', 0), dealStage('  wON ', 1)] },
    });
    const body = assertError(res, 400, 'VALIDATION_ERROR', /^Stage with label w?ON already exists$/i);
    assert.equal(body.subCategory, 'PipelineError.STAGE_LABEL_EXISTS');
  });

  it('clash with an existing stage when a stage is added, naming the label sent', async () => {
    const res = await server.call('POST', `${BASE}/deals/default/stages`, {
      token: newToken(),
      body: dealStage('closed WON', 9, 1),
    });
    const body = assertError(res, 400, 'VALIDATION_ERROR', 'Stage with label closed WON already exists');
    assert.equal(body.subCategory, 'PipelineError.STAGE_LABEL_EXISTS');
  });

  it('clash when a stage is renamed by PATCH', async () => {
    const res = await server.call('PATCH', `${BASE}/deals/default/stages/closedlost`, {
      token: newToken(),
      body: { label: 'Closed Won' },
    });
    const body = assertError(res, 400, 'VALIDATION_ERROR', 'Stage with label Closed Won already exists');
    assert.equal(body.subCategory, 'PipelineError.STAGE_LABEL_EXISTS');
  });

  it('may repeat across pipelines', async () => {
    const token = newToken();
    await server.createPipeline(token, 'deals', dealPipeline('Other', 1, ['Closed Won']));
  });
});

describe('pipeline labels', () => {
  it('must be unique among active pipelines of a type', async () => {
    const token = newToken();
    const res = await server.call('POST', `${BASE}/deals`, { token, body: dealPipeline('Sales Pipeline') });
    const body = assertError(
      res,
      400,
      'VALIDATION_ERROR',
      'An active pipeline with label Sales Pipeline already exists.',
    );
    assert.equal(body.category, 'VALIDATION_ERROR');
  });

  it('are compared case-insensitively after trimming', async () => {
    const res = await server.call('POST', `${BASE}/deals`, {
      token: newToken(),
      body: dealPipeline('  sales PIPELINE '),
    });
    assertError(res, 400, 'VALIDATION_ERROR', /^An active pipeline with label .+ already exists\.$/);
  });

  it('clash on rename by PATCH and PUT', async () => {
    const token = newToken();
    const p = await server.createPipeline(token, 'deals', dealPipeline('Second'));
    const patch = await server.call('PATCH', `${BASE}/deals/${p.id}`, {
      token,
      body: { label: 'Sales Pipeline' },
    });
    assertError(
      patch,
      400,
      'VALIDATION_ERROR',
      'An active pipeline with label Sales Pipeline already exists.',
    );
    const put = await server.call('PUT', `${BASE}/deals/${p.id}`, {
      token,
      body: dealPipeline('Sales Pipeline'),
    });
    assertError(put, 400, 'VALIDATION_ERROR', 'An active pipeline with label Sales Pipeline already exists.');
  });

  it('are free again once the holder is archived, and block its restore', async () => {
    const token = newToken();
    const first = await server.createPipeline(token, 'deals', dealPipeline('Recycled'));
    assert.equal((await server.call('DELETE', `${BASE}/deals/${first.id}`, { token })).statusCode, 204);
    await server.createPipeline(token, 'deals', dealPipeline('Recycled'));
    const restore = await server.call('PATCH', `${BASE}/deals/${first.id}`, {
      token,
      body: { archived: false },
    });
    assertError(restore, 400, 'VALIDATION_ERROR', 'An active pipeline with label Recycled already exists.');
  });

  it('may repeat across object types', async () => {
    await server.createPipeline(newToken(), 'orders', statePipeline('Sales Pipeline'));
  });

  it('cannot be empty', async () => {
    const res = await server.call('POST', `${BASE}/deals`, { token: newToken(), body: dealPipeline('   ') });
    assertError(res, 400, 'VALIDATION_ERROR', /label/i);
  });
});

describe('pipeline shape rules', () => {
  it('a pipeline needs at least one stage', async () => {
    const token = newToken();
    const res = await server.call('POST', `${BASE}/deals`, {
      token,
      body: { label: 'Empty', displayOrder: 1, stages: [] },
    });
    assertError(res, 400, 'VALIDATION_ERROR', 'Pipeline must have at least one stage');
    const put = await server.call('PUT', `${BASE}/deals/default`, {
      token,
      body: { label: 'Sales Pipeline', displayOrder: 0, stages: [] },
    });
    assertError(put, 400, 'VALIDATION_ERROR', 'Pipeline must have at least one stage');
  });

  it('the last live stage cannot be deleted', async () => {
    const token = newToken();
    const p = await server.createPipeline(token, 'deals', dealPipeline('Single', 1, ['Only']));
    const stage = p.stages[0];
    assert.ok(stage);
    const res = await server.call('DELETE', `${BASE}/deals/${p.id}/stages/${stage.id}`, { token });
    assertError(res, 400, 'VALIDATION_ERROR', 'Pipeline must have at least one stage');
    assert.equal(
      (await server.call('GET', `${BASE}/deals/${p.id}/stages/${stage.id}`, { token })).statusCode,
      200,
    );
  });

  it('pipeline displayOrder cannot be negative (create, PUT, PATCH)', async () => {
    const token = newToken();
    const create = await server.call('POST', `${BASE}/deals`, { token, body: dealPipeline('Neg', -1) });
    assertError(create, 400, 'VALIDATION_ERROR', 'Pipeline display order cannot be negative');
    const put = await server.call('PUT', `${BASE}/deals/default`, { token, body: dealPipeline('Sales', -5) });
    assertError(put, 400, 'VALIDATION_ERROR', 'Pipeline display order cannot be negative');
    const patch = await server.call('PATCH', `${BASE}/deals/default`, { token, body: { displayOrder: -1 } });
    assertError(patch, 400, 'VALIDATION_ERROR', 'Pipeline display order cannot be negative');
  });

  it('stage displayOrder cannot be negative', async () => {
    const res = await server.call('POST', `${BASE}/deals/default/stages`, {
      token: newToken(),
      body: dealStage('Neg', -1),
    });
    assertError(res, 400, 'VALIDATION_ERROR', /display order cannot be negative/);
  });

  it('a ticket pipeline keeps at least one CLOSED stage', async () => {
    const res = await server.call('POST', `${BASE}/tickets`, {
      token: newToken(),
      body: {
        label: 'No close',
        displayOrder: 1,
        stages: [{ label: 'Open', displayOrder: 0, metadata: { ticketState: 'OPEN' } }],
      },
    });
    assertError(res, 400, 'VALIDATION_ERROR');
  });

  it('ticketState is OPEN or CLOSED, case-sensitively', async () => {
    const body = ticketPipeline('Case');
    const stage = body.stages[1];
    assert.ok(stage);
    stage.metadata.ticketState = 'closed';
    const res = await server.call('POST', `${BASE}/tickets`, { token: newToken(), body });
    assertError(res, 400, 'VALIDATION_ERROR');
  });
});

const stages = (count: number, metadata: Record<string, unknown>) =>
  Array.from({ length: count }, (_, i) => ({ label: `S${i}`, displayOrder: i, metadata }));

describe('stage limits', () => {
  for (const type of ['orders', '0-123', 'leads', 'appointments']) {
    it(`${type}: 30 stages are fine, 31 are not`, async () => {
      const token = newToken();
      const ok = await server.createPipeline(token, type, {
        label: 'Max',
        displayOrder: 1,
        stages: stages(30, {}),
      });
      assert.equal(ok.stages.length, 30);
      const over = await server.call('POST', `${BASE}/${type}`, {
        token,
        body: { label: 'Over', displayOrder: 2, stages: stages(31, {}) },
      });
      assertError(over, 400, 'VALIDATION_ERROR', /at most 30 stages/);
      const add = await server.call('POST', `${BASE}/${type}/${ok.id}/stages`, {
        token,
        body: { label: 'Thirty-first', displayOrder: 31, metadata: {} },
      });
      assertError(add, 400, 'VALIDATION_ERROR', /at most 30 stages/);
    });
  }

  it('deals: 100 stages are fine, 101 are not', async () => {
    const token = newToken();
    const ok = await server.createPipeline(token, 'deals', {
      label: 'Max',
      displayOrder: 1,
      stages: stages(100, { probability: 0.5 }),
    });
    assert.equal(ok.stages.length, 100);
    const over = await server.call('POST', `${BASE}/deals`, {
      token,
      body: { label: 'Over', displayOrder: 2, stages: stages(101, { probability: 0.5 }) },
    });
    assertError(over, 400, 'VALIDATION_ERROR', /at most 100 stages/);
  });

  it('custom objects: 100 stages', async () => {
    const token = newToken();
    await server.createPipeline(token, '2-123', { label: 'Max', displayOrder: 1, stages: stages(100, {}) });
    const over = await server.call('POST', `${BASE}/2-123`, {
      token,
      body: { label: 'Over', displayOrder: 2, stages: stages(101, {}) },
    });
    assertError(over, 400, 'VALIDATION_ERROR', /at most 100 stages/);
  });
});

describe('archived in PATCH', () => {
  it('archived:true in a pipeline PATCH is a 400 and changes nothing', async () => {
    const token = newToken();
    const res = await server.call('PATCH', `${BASE}/deals/default`, { token, body: { archived: true } });
    assertError(res, 400, 'VALIDATION_ERROR');
    const get = await server.call('GET', `${BASE}/deals/default`, { token });
    assert.equal(get.statusCode, 200);
    assert.equal(json<WirePipeline>(get).archived, false);
  });

  it('archived:false on a live pipeline is a 400 too', async () => {
    const res = await server.call('PATCH', `${BASE}/deals/default`, {
      token: newToken(),
      body: { archived: false, label: 'Renamed' },
    });
    assertError(res, 400, 'VALIDATION_ERROR');
  });

  it('archived:true in a stage PATCH is a 400', async () => {
    const res = await server.call('PATCH', `${BASE}/deals/default/stages/closedwon`, {
      token: newToken(),
      body: { archived: true },
    });
    assertError(res, 400, 'VALIDATION_ERROR');
  });
});

describe('object types', () => {
  for (const [method, path] of [
    ['GET', '/x'],
    ['POST', '/x'],
    ['GET', '/x/default'],
    ['DELETE', '/x/default'],
    ['GET', '/x/default/stages'],
    ['GET', '/x/default/audit'],
  ] as const) {
    it(`unknown type: ${method} ${path} answers 400`, async () => {
      const res = await server.call(method, `${BASE}${path}`, {
        token: newToken(),
        body: method === 'POST' ? dealPipeline('X') : undefined,
      });
      assertError(res, 400, 'VALIDATION_ERROR', 'Unable to infer object type from: x');
    });
  }

  it('another portal’s fully qualified custom name is unknown', async () => {
    const res = await server.call('GET', `${BASE}/p1_cars`, { token: newToken() });
    assertError(res, 400, 'VALIDATION_ERROR', 'Unable to infer object type from: p1_cars');
  });

  for (const type of ['contacts', '0-1', 'companies', '0-2']) {
    it(`${type}: the lifecycle pipeline is read-only`, async () => {
      const token = newToken();
      const id =
        type === 'contacts' || type === '0-1'
          ? 'contacts-lifecycle-pipeline'
          : 'companies-lifecycle-pipeline';
      const attempts: Array<[string, string, unknown]> = [
        ['POST', `/${type}`, statePipeline('Mine')],
        ['PUT', `/${type}/${id}`, statePipeline('Lifecycle Stage Pipeline')],
        ['PATCH', `/${type}/${id}`, { label: 'Renamed' }],
        ['DELETE', `/${type}/${id}`, undefined],
        ['POST', `/${type}/${id}/stages`, { label: 'New', displayOrder: 9, metadata: {} }],
        ['PATCH', `/${type}/${id}/stages/lead`, { label: 'Leads' }],
        ['PUT', `/${type}/${id}/stages/lead`, { label: 'Leads', displayOrder: 1, metadata: {} }],
        ['DELETE', `/${type}/${id}/stages/lead`, undefined],
      ];
      for (const [method, path, body] of attempts) {
        const res = await server.call(method as 'POST', `${BASE}${path}`, { token, body });
        assertError(res, 400, 'VALIDATION_ERROR', /read-only/);
      }
      const after = json<WirePipeline>(await server.call('GET', `${BASE}/${type}/${id}`, { token }));
      assert.equal(after.label, 'Lifecycle Stage Pipeline');
      assert.equal(after.stages.length, 8);
    });
  }
});

describe('schema validation', () => {
  it('a missing required field is a 400 with errors[]', async () => {
    const token = newToken();
    for (const [field, body] of [
      ['label', { displayOrder: 1, stages: [dealStage('A', 0)] }],
      ['displayOrder', { label: 'L', stages: [dealStage('A', 0)] }],
      ['stages', { label: 'L', displayOrder: 1 }],
      ['stages[0].metadata', { label: 'L', displayOrder: 1, stages: [{ label: 'A', displayOrder: 0 }] }],
    ] as const) {
      const res = await server.call('POST', `${BASE}/deals`, { token, body });
      const err = assertError(res, 400, 'VALIDATION_ERROR');
      const detail = err.errors?.[0];
      assert.ok(detail, `errors[] for missing ${field}: ${res.body}`);
      assert.equal(detail.in, field);
      assert.equal(detail.code, 'REQUIRED');
      assert.match(detail.message, new RegExp(field.replace(/[[\].]/g, '\\$&')));
      assert.match(err.message, /required/);
    }
  });

  it('a wrong type is a 400 with errors[]', async () => {
    const token = newToken();
    for (const [field, body] of [
      ['displayOrder', { label: 'L', displayOrder: 'first', stages: [dealStage('A', 0)] }],
      ['displayOrder', { label: 'L', displayOrder: 1.5, stages: [dealStage('A', 0)] }],
      ['displayOrder', { label: 'L', displayOrder: 2 ** 40, stages: [dealStage('A', 0)] }],
      ['stages[0]', { label: 'L', displayOrder: 1, stages: ['A'] }],
      [
        'stages[0].metadata',
        { label: 'L', displayOrder: 1, stages: [{ label: 'A', displayOrder: 0, metadata: [] }] },
      ],
      [
        'stages[0].metadata.probability',
        {
          label: 'L',
          displayOrder: 1,
          stages: [{ label: 'A', displayOrder: 0, metadata: { probability: { v: 1 } } }],
        },
      ],
    ] as const) {
      const res = await server.call('POST', `${BASE}/deals`, { token, body });
      const err = assertError(res, 400, 'VALIDATION_ERROR');
      const detail = err.errors?.[0];
      assert.ok(detail, `errors[] for ${field}: ${res.body}`);
      assert.equal(detail.in, field, res.body);
      assert.ok(detail.message.length > 0);
    }
  });

  it('a PATCH body of the wrong type is a 400', async () => {
    const res = await server.call('PATCH', `${BASE}/deals/default`, {
      token: newToken(),
      body: { displayOrder: 'top' },
    });
    const err = assertError(res, 400, 'VALIDATION_ERROR');
    assert.equal(err.errors?.[0]?.in, 'displayOrder');
  });
});

describe('transport errors', () => {
  it('malformed JSON is a 400', async () => {
    const res = await server.call('POST', `${BASE}/deals`, { token: newToken(), raw: '{"label": "x", ' });
    assertError(res, 400, 'VALIDATION_ERROR', /JSON/);
  });

  it('a non-JSON content type is a 415', async () => {
    for (const contentType of ['application/xml', 'application/x-www-form-urlencoded']) {
      const res = await server.call('POST', `${BASE}/deals`, {
        token: newToken(),
        raw: JSON.stringify(dealPipeline('Other')),
        contentType,
      });
      assertError(res, 415, 'VALIDATION_ERROR', new RegExp(contentType.replace('/', '\\/')));
    }
  });

  // Fastify parses text/plain by default: the body reaches validation as a string (400 "body must be
  // object") instead of the 415 the error handler promises for anything but application/json.
  it('a text/plain body is a 415', async () => {
    const res = await server.call('POST', `${BASE}/deals`, {
      token: newToken(),
      raw: JSON.stringify(dealPipeline('Plain')),
      contentType: 'text/plain',
    });
    assertError(res, 415, 'VALIDATION_ERROR', /text\/plain/);
  });

  it('a body over the limit is a 413', async () => {
    const small = await buildStageline({ bodyLimit: 1024 });
    try {
      const token = newToken();
      const fits = await call(small, 'POST', `${BASE}/deals`, { token, body: dealPipeline('Small') });
      assert.equal(fits.statusCode, 201, fits.body);
      const big = dealPipeline('x'.repeat(2000));
      const res = await call(small, 'POST', `${BASE}/deals`, { token, body: big });
      assertError(res, 413, 'VALIDATION_ERROR');
    } finally {
      await small.close();
    }
  });

  it('an unknown route is a 404', async () => {
    for (const url of [
      '/nope',
      '/crm/v3/pipelines',
      '/crm/v3/pipelines/deals/default/stages/a/b/c',
      '/crm/v4/x',
    ]) {
      const res = await server.call('GET', url, { token: newToken() });
      const err = assertError(res, 404, 'OBJECT_NOT_FOUND');
      assert.equal(res.headers.allow, undefined);
      assert.ok(err.message.length > 0);
    }
  });

  it('an unknown route is a 404 even without credentials', async () => {
    assertError(await server.call('GET', '/nope', { token: null }), 404, 'OBJECT_NOT_FOUND');
  });

  it('a known path with the wrong method is a 405 with Allow', async () => {
    const cases: Array<[string, string, string[], string[]]> = [
      ['DELETE', `${BASE}/deals`, ['GET', 'POST'], ['DELETE', 'PUT', 'PATCH']],
      ['POST', `${BASE}/deals/default`, ['GET', 'PUT', 'PATCH', 'DELETE'], ['POST']],
      ['PUT', `${BASE}/deals/default/audit`, ['GET'], ['PUT', 'POST', 'DELETE']],
      ['DELETE', `${BASE}/deals/default/stages`, ['GET', 'POST'], ['DELETE']],
      ['POST', `${BASE}/deals/default/stages/closedwon`, ['GET', 'PUT', 'PATCH', 'DELETE'], ['POST']],
    ];
    for (const [method, url, allowed, refused] of cases) {
      const res = await server.call(method as 'GET', url, { token: newToken() });
      assertError(res, 405, 'VALIDATION_ERROR');
      const allow = String(res.headers.allow ?? '')
        .split(',')
        .map((m) => m.trim());
      for (const m of allowed)
        assert.ok(allow.includes(m), `${method} ${url}: Allow ${allow.join()} lacks ${m}`);
      for (const m of refused)
        assert.ok(!allow.includes(m), `${method} ${url}: Allow ${allow.join()} has ${m}`);
    }
  });

  // Fastify answers FST_ERR_BAD_URL itself (frameworkErrors), with its own body and a bare
  // application/json content type, bypassing the error handler.
  it('a malformed percent-encoding in the path is answered with the envelope', async () => {
    const res = await server.call('GET', `${BASE}/deals/%E0%A4%A`, { token: newToken() });
    assert.ok(res.statusCode >= 400 && res.statusCode < 500, `status ${res.statusCode}`);
    assertError(res, 400, 'VALIDATION_ERROR');
  });
});

describe('missing pipelines and stages', () => {
  it('unknown pipeline ids are 404 on every operation', async () => {
    const token = newToken();
    const attempts: Array<[string, string, unknown]> = [
      ['GET', '/deals/nope', undefined],
      ['PUT', '/deals/nope', dealPipeline('Whatever')],
      ['PATCH', '/deals/nope', { label: 'Whatever' }],
      ['DELETE', '/deals/nope', undefined],
      ['GET', '/deals/nope/audit', undefined],
      ['GET', '/deals/nope/stages', undefined],
      ['POST', '/deals/nope/stages', dealStage('A', 0)],
      ['GET', '/deals/nope/stages/closedwon', undefined],
      ['GET', '/deals/nope/stages/closedwon/audit', undefined],
      ['GET', '/orders/default', undefined],
    ];
    for (const [method, path, body] of attempts) {
      const res = await server.call(method as 'GET', `${BASE}${path}`, { token, body });
      assertError(res, 404, 'OBJECT_NOT_FOUND');
    }
    const res = await server.call('GET', `${BASE}/deals/nope`, { token });
    assertError(res, 404, 'OBJECT_NOT_FOUND', 'Unable to find pipeline nope for object type deals');
  });

  it('unknown stage ids are 404 on every operation', async () => {
    const token = newToken();
    const attempts: Array<[string, unknown]> = [
      ['GET', undefined],
      ['PUT', dealStage('A', 0)],
      ['PATCH', { label: 'A' }],
      ['DELETE', undefined],
    ];
    for (const [method, body] of attempts) {
      const res = await server.call(method as 'GET', `${BASE}/deals/default/stages/nope`, { token, body });
      assertError(res, 404, 'OBJECT_NOT_FOUND');
    }
    assertError(
      await server.call('GET', `${BASE}/deals/default/stages/nope/audit`, { token }),
      404,
      'OBJECT_NOT_FOUND',
    );
  });

  it('a stage of another pipeline is 404 under the wrong pipeline', async () => {
    const token = newToken();
    const p = await server.createPipeline(token, 'deals', dealPipeline('Elsewhere'));
    assertError(
      await server.call('GET', `${BASE}/deals/${p.id}/stages/closedwon`, { token }),
      404,
      'OBJECT_NOT_FOUND',
    );
    assertError(
      await server.call('GET', `${BASE}/deals/${p.id}/stages/closedwon/audit`, { token }),
      404,
      'OBJECT_NOT_FOUND',
    );
  });

  it('an archived pipeline is 404 on GET, PUT and DELETE', async () => {
    const token = newToken();
    const p = await server.createPipeline(token, 'deals', dealPipeline('Gone'));
    assert.equal((await server.call('DELETE', `${BASE}/deals/${p.id}`, { token })).statusCode, 204);
    assertError(await server.call('GET', `${BASE}/deals/${p.id}`, { token }), 404, 'OBJECT_NOT_FOUND');
    assertError(await server.call('DELETE', `${BASE}/deals/${p.id}`, { token }), 404, 'OBJECT_NOT_FOUND');
    assertError(
      await server.call('PUT', `${BASE}/deals/${p.id}`, { token, body: dealPipeline('Gone') }),
      404,
      'OBJECT_NOT_FOUND',
    );
    assertError(
      await server.call('PATCH', `${BASE}/deals/${p.id}`, { token, body: { label: 'Back' } }),
      404,
      'OBJECT_NOT_FOUND',
    );
  });
});

describe('client-chosen ids', () => {
  it('a taken pipelineId is a 409 OBJECT_ALREADY_EXISTS', async () => {
    const token = newToken();
    const raw = (id: string, label: string) => JSON.stringify({ ...dealPipeline(label), pipelineId: id });
    const first = await server.call('POST', `${BASE}/deals`, { token, raw: raw('my-pipe', 'First') });
    assert.equal(first.statusCode, 201, first.body);
    assert.equal(json<WirePipeline>(first).id, 'my-pipe');
    const again = await server.call('POST', `${BASE}/deals`, { token, raw: raw('my-pipe', 'Second') });
    assertError(again, 409, 'OBJECT_ALREADY_EXISTS', /my-pipe/);
    const seeded = await server.call('POST', `${BASE}/deals`, { token, raw: raw('default', 'Third') });
    assertError(seeded, 409, 'OBJECT_ALREADY_EXISTS', /default/);
  });

  it('a pipelineId stays taken after its pipeline is archived', async () => {
    const token = newToken();
    const raw = JSON.stringify({ ...dealPipeline('Once'), pipelineId: 'once' });
    assert.equal((await server.call('POST', `${BASE}/deals`, { token, raw })).statusCode, 201);
    assert.equal((await server.call('DELETE', `${BASE}/deals/once`, { token })).statusCode, 204);
    const raw2 = JSON.stringify({ ...dealPipeline('Twice'), pipelineId: 'once' });
    assertError(
      await server.call('POST', `${BASE}/deals`, { token, raw: raw2 }),
      409,
      'OBJECT_ALREADY_EXISTS',
    );
  });

  it('a taken stageId is a 409, on pipeline create and on stage create', async () => {
    const token = newToken();
    const onCreate = await server.call('POST', `${BASE}/deals`, {
      token,
      raw: JSON.stringify({
        label: 'Ids',
        displayOrder: 1,
        stages: [{ stageId: 'closedwon', label: 'Won', displayOrder: 0, metadata: { probability: 1 } }],
      }),
    });
    assertError(onCreate, 409, 'OBJECT_ALREADY_EXISTS', /closedwon/);
    const onStage = await server.call('POST', `${BASE}/deals/default/stages`, {
      token,
      raw: JSON.stringify({
        stageId: 'contractsent',
        label: 'Another',
        displayOrder: 9,
        metadata: { probability: 0.1 },
      }),
    });
    assertError(onStage, 409, 'OBJECT_ALREADY_EXISTS', /contractsent/);
  });

  it('a client id of the wrong form is a 400', async () => {
    const token = newToken();
    for (const id of ['x'.repeat(37), '../etc', '', ' spaced']) {
      const res = await server.call('POST', `${BASE}/deals`, {
        token,
        raw: JSON.stringify({ ...dealPipeline('Form'), pipelineId: id }),
      });
      assertError(res, 400, 'VALIDATION_ERROR');
    }
  });
});

describe('odd inputs never cause a 5xx', () => {
  const bodies: Array<[string, string]> = [
    ['null', 'null'],
    ['array', '[]'],
    ['array of pipeline', JSON.stringify([dealPipeline('A')])],
    ['string', '"pipeline"'],
    ['number', '42'],
    ['true', 'true'],
    ['empty object', '{}'],
    ['huge label', JSON.stringify(dealPipeline('x'.repeat(200_000)))],
    [
      'huge stage label',
      JSON.stringify({ ...dealPipeline('H'), stages: [dealStage('y'.repeat(100_000), 0)] }),
    ],
    ['unicode label', JSON.stringify(dealPipeline('Übersicht 💼 パイプライン \u200b'))],
    ['lone surrogate', '{"label":"\\ud800","displayOrder":1,"stages":[]}'],
    ['control characters', JSON.stringify(dealPipeline('a\u0000b\u0007c\n'))],
    [
      'nested metadata',
      JSON.stringify({
        ...dealPipeline('N'),
        stages: [{ label: 'A', displayOrder: 0, metadata: { probability: 0.5, deep: { a: [1, { b: 2 }] } } }],
      }),
    ],
    [
      'metadata array',
      JSON.stringify({ ...dealPipeline('M'), stages: [{ label: 'A', displayOrder: 0, metadata: [0.5] }] }),
    ],
    ['stages object', JSON.stringify({ label: 'S', displayOrder: 1, stages: { a: 1 } })],
    ['stages of null', JSON.stringify({ label: 'S', displayOrder: 1, stages: [null] })],
    ['label object', JSON.stringify({ label: { en: 'x' }, displayOrder: 1, stages: [dealStage('A', 0)] })],
    ['label array', JSON.stringify({ label: ['x'], displayOrder: 1, stages: [dealStage('A', 0)] })],
    ['displayOrder huge', JSON.stringify({ ...dealPipeline('D'), displayOrder: 1e300 })],
    ['displayOrder string number', JSON.stringify({ ...dealPipeline('D2'), displayOrder: '3' })],
    ['probability exponent', JSON.stringify({ ...dealPipeline('E'), stages: [dealStage('A', 0, '1e-1')] })],
    [
      'probability boolean',
      JSON.stringify({ ...dealPipeline('B'), stages: [dealStage('A', 0, true as unknown as number)] }),
    ],
    ['deep nesting', `${'['.repeat(2000)}${']'.repeat(2000)}`],
    [
      'proto keys',
      '{"__proto__":{"admin":true},"constructor":{"prototype":{}},"label":"P","displayOrder":1,"stages":[]}',
    ],
    ['duplicate keys', '{"label":"A","label":"B","displayOrder":1,"stages":[]}'],
    ['pipelineId non-string', JSON.stringify({ ...dealPipeline('I'), pipelineId: { id: 1 } })],
    [
      'stageId number',
      JSON.stringify({ ...dealPipeline('I2'), stages: [{ ...dealStage('A', 0), stageId: 12 }] }),
    ],
  ];

  it('POST bodies', async () => {
    const token = newToken();
    for (const [name, raw] of bodies) {
      const res = await server.call('POST', `${BASE}/deals`, { token, raw });
      assert.ok(res.statusCode < 500, `${name}: ${res.statusCode} ${res.body.slice(0, 300)}`);
      if (res.statusCode >= 400) assertError(res, res.statusCode, json<{ category: string }>(res).category);
    }
  });

  it('PUT and PATCH bodies', async () => {
    const token = newToken();
    for (const [name, raw] of bodies) {
      for (const [method, url] of [
        ['PUT', `${BASE}/deals/default`],
        ['PATCH', `${BASE}/deals/default`],
        ['PATCH', `${BASE}/deals/default/stages/closedwon`],
        ['PUT', `${BASE}/deals/default/stages/closedwon`],
        ['POST', `${BASE}/deals/default/stages`],
      ] as const) {
        const res = await server.call(method, url, { token, raw });
        assert.ok(
          res.statusCode < 500,
          `${method} ${url} ${name}: ${res.statusCode} ${res.body.slice(0, 300)}`,
        );
      }
    }
  });

  it('unicode labels round-trip', async () => {
    const token = newToken();
    const label = 'Übersicht 💼 パイプライン';
    const p = await server.createPipeline(token, 'deals', dealPipeline(label, 1, ['Ωmega', '✓ Done']));
    assert.equal(p.label, label);
    assert.deepEqual(
      p.stages.map((st) => st.label),
      ['Ωmega', '✓ Done'],
    );
    const got = json<WirePipeline>(await server.call('GET', `${BASE}/deals/${p.id}`, { token }));
    assert.equal(got.label, label);
  });

  it('odd paths and queries', async () => {
    const token = newToken();
    const urls = [
      `${BASE}/${'d'.repeat(5000)}`,
      `${BASE}/deals/${'p'.repeat(5000)}`,
      `${BASE}/deals/%00`,
      `${BASE}/deals/..%2F..%2Fetc`,
      `${BASE}/deals/default/stages/%F0%9F%92%BC`,
      `${BASE}/%7BobjectType%7D`,
      `${BASE}/deals?archived=maybe&x[]=1`,
      `${BASE}/deals/default?validateReferencesBeforeDelete[]=true`,
      `${BASE}/deals/default/stages/%E0%A4%A`,
    ];
    for (const url of urls) {
      for (const method of ['GET', 'DELETE', 'PATCH'] as const) {
        const res = await server.call(method, url, {
          token,
          body: method === 'PATCH' ? { label: 'x' } : undefined,
        });
        assert.ok(
          res.statusCode < 500,
          `${method} ${url.slice(0, 80)}: ${res.statusCode} ${res.body.slice(0, 200)}`,
        );
      }
    }
  });
});
