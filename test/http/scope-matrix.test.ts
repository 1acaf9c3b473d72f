// The scope matrix, derived from the official spec's security blocks: for every operation and
// object type, a token holding exactly one scope the spec lists for that operation, and that
// grants this type, succeeds; a token holding every other scope of that list gets 403
// MISSING_SCOPES. Then a cross-portal sweep: every id of portal A, tried with portal B's token,
// is a 404.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';

import type { Stageline } from '../../src/stageline.js';
import { specAvailable, specPath, specSkipReason } from '../helpers/openapi.js';
import type { WirePipeline } from '../helpers/wire-types.js';
import {
  BASE,
  buildStageline,
  call,
  createPipeline,
  dealPipeline,
  json,
  newToken,
  statePipeline,
  ticketPipeline,
} from './support.js';

interface Operation {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  scopes: string[];
}

/** The 14 operations of the v3 spec with, for each, every scope its security block lists. */
function specOperations(): Operation[] {
  const spec = JSON.parse(readFileSync(specPath, 'utf8')) as {
    paths: Record<string, Record<string, { security?: Record<string, string[]>[] }>>;
  };
  return Object.entries(spec.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({
      method: method.toUpperCase() as Operation['method'],
      path,
      scopes: [...new Set((op.security ?? []).flatMap((s) => Object.values(s).flat()))],
    })),
  );
}

interface TypeCase {
  type: string;
  /** Scopes that grant reads / writes of this type's pipelines (FIDELITY §6). */
  grants: (scope: string, write: boolean) => boolean;
  pipeline: (label: string) => unknown;
  stage: (label: string) => unknown;
}

const standard = (name: string, extraRead: string[] = [], extraWrite: string[] = []) => ({
  grants: (scope: string, write: boolean) =>
    write
      ? scope === `crm.schemas.${name}.write` || extraWrite.includes(scope)
      : [
          `crm.objects.${name}.read`,
          `crm.objects.${name}.write`,
          `crm.schemas.${name}.read`,
          `crm.schemas.${name}.write`,
          ...extraRead,
        ].includes(scope),
});

const CASES: TypeCase[] = [
  {
    type: 'deals',
    ...standard('deals'),
    pipeline: (label) => dealPipeline(label),
    stage: (label) => ({ label, displayOrder: 5, metadata: { probability: 0.3 } }),
  },
  {
    type: 'tickets',
    ...standard('tickets', ['tickets'], ['tickets']),
    pipeline: (label) => ticketPipeline(label),
    stage: (label) => ({ label, displayOrder: 5, metadata: { ticketState: 'OPEN' } }),
  },
  {
    type: 'orders',
    ...standard(
      'orders',
      ['crm.pipelines.orders.read', 'crm.pipelines.orders.write', 'e-commerce'],
      ['crm.pipelines.orders.write', 'e-commerce'],
    ),
    pipeline: (label) => statePipeline(label),
    stage: (label) => ({ label, displayOrder: 5, metadata: { state: 'OPEN' } }),
  },
  {
    type: 'appointments',
    ...standard('appointments'),
    pipeline: (label) => statePipeline(label),
    stage: (label) => ({ label, displayOrder: 5, metadata: { state: 'OPEN' } }),
  },
  {
    type: '2-4242',
    ...standard('custom'),
    pipeline: (label) => statePipeline(label),
    stage: (label) => ({ label, displayOrder: 5, metadata: { state: 'OPEN' } }),
  },
];

/** The request for one operation, on fresh objects made with an all-scopes token. */
async function prepare(s: Stageline, admin: string, portalCase: TypeCase, op: Operation, n: number) {
  const pipeline = await createPipeline(s, admin, portalCase.type, portalCase.pipeline(`Matrix ${n}`));
  const stage = pipeline.stages[0]!;
  const path = op.path
    .replace('/crm/v3/pipelines', BASE)
    .replace('{objectType}', portalCase.type)
    .replace('{pipelineId}', pipeline.id)
    .replace('{stageId}', stage.id);
  const isStage = op.path.includes('{stageId}') || op.path.endsWith('/stages');
  const body =
    op.method === 'POST' && isStage
      ? portalCase.stage(`New stage ${n}`)
      : op.method === 'POST'
        ? portalCase.pipeline(`Created ${n}`)
        : op.method === 'PUT' && isStage
          ? portalCase.stage(`Replaced stage ${n}`)
          : op.method === 'PUT'
            ? portalCase.pipeline(`Replaced ${n}`)
            : op.method === 'PATCH'
              ? { label: `Patched ${n}` }
              : undefined;
  // A stage DELETE needs another live stage to leave behind (and, for tickets, a closed one).
  if (op.method === 'DELETE' && isStage && portalCase.type === 'tickets') {
    const done = pipeline.stages.find((x) => x.metadata.ticketState === 'OPEN')!;
    return { path: path.replace(stage.id, done.id), body };
  }
  return { path, body };
}

const EXPECTED: Record<Operation['method'], number> = {
  GET: 200,
  POST: 201,
  PUT: 200,
  PATCH: 200,
  DELETE: 204,
};

describe('scope matrix from the official spec', { skip: specSkipReason }, () => {
  let s: Stageline;
  const ops = specAvailable ? specOperations() : [];
  before(async () => {
    s = await buildStageline({ auth: 'tokens' });
  });
  after(() => s.close());

  it('covers the 14 operations', () => {
    assert.equal(ops.length, 14);
    assert.ok(ops.every((o) => o.scopes.length > 0));
  });

  for (const c of CASES) {
    it(`${c.type}: exactly one granting scope succeeds, every other listed scope is refused`, async () => {
      const portalId = 10_000 + CASES.indexOf(c);
      const { token: admin } = await s.auth.issueToken({ portalId });
      let n = 0;
      for (const op of ops) {
        const write = op.method !== 'GET';
        const granting = op.scopes.filter((scope) => c.grants(scope, write));
        assert.ok(granting.length > 0, `${op.method} ${op.path}: the spec lists a scope for ${c.type}`);
        for (const scope of granting) {
          const { token } = await s.auth.issueToken({ portalId, scopes: [scope] });
          const req = await prepare(s, admin, c, op, n++);
          const res = await call(s, op.method, req.path, { token, body: req.body });
          assert.equal(
            res.statusCode,
            EXPECTED[op.method],
            `${op.method} ${req.path} with ${scope}: ${res.body}`,
          );
        }
        const others = op.scopes.filter((scope) => !c.grants(scope, write));
        const { token: denied } = await s.auth.issueToken({ portalId, scopes: others });
        const req = await prepare(s, admin, c, op, n++);
        const res = await call(s, op.method, req.path, { token: denied, body: req.body });
        assert.equal(res.statusCode, 403, `${op.method} ${req.path} without a granting scope: ${res.body}`);
        const body = json<{ category: string; errors: { context: { requiredGranularScopes: string[] } }[] }>(
          res,
        );
        assert.equal(body.category, 'MISSING_SCOPES');
        const required = body.errors[0]!.context.requiredGranularScopes;
        assert.ok(
          required.length > 0 && required.every((scope) => c.grants(scope, write)),
          required.join(','),
        );
      }
    });
  }
});

describe('cross-portal sweep', () => {
  let s: Stageline;
  before(async () => {
    s = await buildStageline();
  });
  after(() => s.close());

  it("every id of portal A is a 404 with portal B's token, on every route", async () => {
    const a = newToken();
    const b = newToken();
    const pipelines: { type: string; pipeline: WirePipeline }[] = [];
    for (const [type, body] of [
      ['deals', dealPipeline('Only in A', 1, ['One', 'Two', 'Three'])],
      ['tickets', ticketPipeline('Only in A')],
      ['2-7', statePipeline('Only in A')],
    ] as const) {
      pipelines.push({ type, pipeline: await createPipeline(s, a, type, body) });
    }
    const record = json<{ id: string }>(
      await call(s, 'POST', '/crm/v3/objects/deals', {
        token: a,
        body: { properties: { dealname: 'A deal' } },
      }),
    );
    let tried = 0;
    const expect404 = async (method: Operation['method'], url: string, body?: unknown) => {
      const res = await call(s, method, url, { token: b, body });
      assert.equal(res.statusCode, 404, `${method} ${url}: ${res.body}`);
      tried += 1;
    };
    for (const { type, pipeline } of pipelines) {
      const p = `${BASE}/${type}/${pipeline.id}`;
      await expect404('GET', p);
      await expect404('GET', `${p}/audit`);
      await expect404('GET', `${p}/stages`);
      await expect404('PATCH', p, { label: 'Hijacked' });
      await expect404('PUT', p, dealPipeline('Hijacked'));
      await expect404('POST', `${p}/stages`, {
        label: 'Hijacked',
        displayOrder: 9,
        metadata: { state: 'OPEN' },
      });
      await expect404('DELETE', p);
      for (const stage of pipeline.stages) {
        await expect404('GET', `${p}/stages/${stage.id}`);
        await expect404('GET', `${p}/stages/${stage.id}/audit`);
        await expect404('GET', `${BASE}/${type}/%7BpipelineId%7D/stages/${stage.id}/audit`);
        await expect404('PATCH', `${p}/stages/${stage.id}`, { label: 'Hijacked' });
        await expect404('PUT', `${p}/stages/${stage.id}`, {
          label: 'Hijacked',
          displayOrder: 1,
          metadata: {},
        });
        await expect404('DELETE', `${p}/stages/${stage.id}`);
      }
    }
    await expect404('GET', `/crm/v3/objects/deals/${record.id}`);
    await expect404('PATCH', `/crm/v3/objects/deals/${record.id}`, { properties: { dealname: 'Hijacked' } });
    await expect404('DELETE', `/crm/v3/objects/deals/${record.id}`);
    assert.ok(tried > 60);
    // And nothing of A leaked into B's lists, nor was changed through B.
    const bList = json<{ results: { id: string }[] }>(await call(s, 'GET', `${BASE}/deals`, { token: b }));
    assert.deepEqual(
      bList.results.map((p) => p.id),
      ['default'],
    );
    const still = json<WirePipeline>(
      await call(s, 'GET', `${BASE}/deals/${pipelines[0]!.pipeline.id}`, { token: a }),
    );
    assert.equal(still.label, 'Only in A');
    assert.equal(still.stages.length, 3);
  });
});
