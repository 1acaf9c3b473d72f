// Cached reads answered in front of Fastify (src/http/fast-reads.ts) must be indistinguishable
// from Fastify's own answers, and every request the fast path cannot answer exactly must reach
// Fastify. Over a real socket: `inject` never goes through the HTTP server.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import { loadConfig } from '../../src/config.js';
import type { ConfigInput } from '../../src/config.js';
import { createStageline } from '../../src/stageline.js';
import type { Stageline } from '../../src/stageline.js';
import type { WirePipeline } from '../helpers/wire-types.js';
import { UUID } from './support.js';

interface Served {
  /** Requests that reached Fastify since the server started. */
  readonly viaFastify: () => number;
  readonly base: string;
  readonly stageline: Stageline;
}

/** A listening SQLite Stageline counting the requests that reach Fastify. */
async function serve(flags: ConfigInput = {}): Promise<Served> {
  const config = loadConfig(
    { database: ':memory:', auth: 'open', logLevel: 'silent', rateLimit: 'off', port: 0, ...flags },
    {},
  );
  const stageline = await createStageline(config);
  let reached = 0;
  // onResponse runs for every answer Fastify sends, errors from earlier hooks included.
  stageline.app.addHook('onResponse', (_request, _reply, done) => {
    reached += 1;
    done();
  });
  const base = await stageline.app.listen({ port: 0, host: '127.0.0.1' });
  return { viaFastify: () => reached, base, stageline };
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

async function get(base: string, path: string, token: string, method = 'GET'): Promise<Answer> {
  const res = await fetch(base + path, { method, headers: { authorization: `Bearer ${token}` } });
  const answer = { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() };
  // onResponse runs once the answer is handed to the socket: let it run before counting.
  await new Promise((resolve) => setImmediate(resolve));
  return answer;
}

/** What may differ between two answers of the same read: the request id and the clock. */
const comparable = ({ headers, ...rest }: Answer) => {
  const { 'x-hubspot-correlation-id': id, date, ...others } = headers;
  assert.match(id ?? '', UUID);
  assert.ok(date);
  return { ...rest, headers: others };
};

async function seedPipeline(base: string, token: string): Promise<WirePipeline> {
  const res = await fetch(`${base}/crm/v3/pipelines/deals`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      label: 'Fast',
      displayOrder: 1,
      stages: [0, 1, 2].map((i) => ({ label: `S${i}`, displayOrder: i, metadata: { probability: '0.5' } })),
    }),
  });
  assert.equal(res.status, 201);
  return (await res.json()) as WirePipeline;
}

describe('cached reads answered in front of Fastify', () => {
  let s: Served;
  let token: string;
  let pipeline: WirePipeline;
  before(async () => {
    s = await serve();
    token = `fast-${randomUUID()}`;
    pipeline = await seedPipeline(s.base, token);
  });
  after(async () => {
    await s.stageline.close();
  });

  const reads = () => {
    const stage = pipeline.stages[1]!.id;
    return [
      '/crm/v3/pipelines/deals',
      `/crm/v3/pipelines/deals/${pipeline.id}`,
      `/crm/v3/pipelines/0-3/${pipeline.id}/stages`,
      `/crm/v3/pipelines/deals/${pipeline.id}/stages/${stage}`,
      `/crm/pipelines/2026-09/deals/${pipeline.id}/stages/${stage}`,
      `/crm/pipelines/2025-09/tickets`,
    ];
  };

  it('answers a repeated read without Fastify, with the same status, headers and body', async () => {
    for (const path of reads()) {
      const first = await get(s.base, path, token);
      const reached = s.viaFastify();
      const again = await get(s.base, path, token);
      assert.equal(s.viaFastify(), reached, `${path}: the cached answer did not go through Fastify`);
      assert.equal(first.status, 200, `${path}: ${first.body}`);
      assert.deepEqual(comparable(again), comparable(first), path);
      assert.notEqual(again.headers['x-hubspot-correlation-id'], first.headers['x-hubspot-correlation-id']);
    }
  });

  it('never serves what a write has changed', async () => {
    const path = `/crm/v3/pipelines/deals/${pipeline.id}`;
    await get(s.base, path, token);
    const res = await fetch(s.base + path, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ label: 'Renamed' }),
    });
    assert.equal(res.status, 200);
    const after = await get(s.base, path, token);
    assert.equal((JSON.parse(after.body) as WirePipeline).label, 'Renamed');
  });

  it('leaves to Fastify every request it cannot answer exactly as the routes would', async () => {
    const stage = pipeline.stages[0]!.id;
    const cachedPath = `/crm/v3/pipelines/deals/${pipeline.id}/stages/${stage}`;
    await get(s.base, cachedPath, token);
    const cases: [string, () => Promise<Answer>, number][] = [
      ['a query string', () => get(s.base, `${cachedPath}?archived=false`, token), 200],
      ['a trailing slash', () => get(s.base, `${cachedPath}/`, token), 200],
      ['an escaped path', () => get(s.base, cachedPath.replace('deals', 'd%65als'), token), 200],
      ['HEAD', () => get(s.base, cachedPath, token, 'HEAD'), 200],
      ['the audit', () => get(s.base, `${cachedPath}/audit`, token), 200],
      ['a token never seen', () => get(s.base, cachedPath, `fresh-${randomUUID()}`), 404],
      ['another portal', () => get(s.base, '/crm/v3/pipelines/deals', `fresh-${randomUUID()}`), 200],
      ['an unknown object type', () => get(s.base, '/crm/v3/pipelines/widgets', token), 400],
      ['no token', () => get(s.base, cachedPath, ''), 401],
      ['a stage never read', () => get(s.base, `${cachedPath}9`, token), 404],
    ];
    for (const [name, send, status] of cases) {
      const reached = s.viaFastify();
      const res = await send();
      assert.equal(res.status, status, `${name}: ${res.body}`);
      assert.equal(s.viaFastify(), reached + 1, `${name} went through Fastify`);
    }
  });
});

describe('where the fast path stays off', () => {
  const settings: [string, ConfigInput][] = [
    ['rate limits (each request is counted and answers carry the limit headers)', { rateLimit: '100/10s' }],
    ['CORS (answers depend on the Origin header)', { corsOrigins: ['https://app.example'] }],
    ['request logging (each request is logged)', { logLevel: 'info' }],
  ];
  for (const [name, flags] of settings) {
    it(`with ${name}`, async () => {
      const s = await serve(flags);
      try {
        const token = `fast-${randomUUID()}`;
        for (let i = 1; i <= 2; i++) {
          assert.equal((await get(s.base, '/crm/v3/pipelines/deals', token)).status, 200);
          assert.equal(s.viaFastify(), i);
        }
      } finally {
        await s.stageline.close();
      }
    });
  }
});
