// The control plane over real sockets: the official SDK's own retries against injected 429s and
// 502s, a dropped connection, and the typed portal(token) helpers of startStageline().

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import { Client } from '@hubspot/api-client';

import { StagelineControlError, startStageline } from '../../src/index.js';
import type { RunningStageline } from '../../src/index.js';
import { testDatabase } from '../helpers/backend.js';
import { oneDealPipeline } from '../helpers/seeds.js';

describe('the control plane over HTTP', () => {
  let server: RunningStageline;
  before(async () => {
    server = await startStageline({ database: testDatabase() });
  });
  after(() => server.close());

  const sdk = (token: string, retries?: number) =>
    new Client({ accessToken: token, basePath: server.url, numberOfApiCallRetries: retries });

  it('the SDK with numberOfApiCallRetries retries an injected 502 and succeeds', async () => {
    const token = `cp-${randomUUID()}`;
    const portal = server.portal(token);
    await portal.faults.add({ path: '/crm/v3/pipelines/deals', status: 502, times: 2 });
    const { results } = await sdk(token, 3).crm.pipelines.pipelinesApi.getAll('deals');
    assert.deepEqual(
      results.map((p) => p.id),
      ['default'],
    );
    const seen = await portal.requests({ path: '/crm/v3/pipelines/deals' });
    assert.deepEqual(
      seen.map((e) => e.status),
      [200, 502, 502],
    );
  });

  it('the SDK with numberOfApiCallRetries retries an injected 429 (it waits 10 s) and succeeds', async () => {
    const token = `cp-${randomUUID()}`;
    const portal = server.portal(token);
    await portal.faults.add({ method: 'POST', path: '/crm/v3/objects/deals', status: 429 });
    const created = await sdk(token, 2).crm.deals.basicApi.create({
      properties: { dealname: 'Retried' },
      associations: [],
    });
    assert.equal(created.properties.dealname, 'Retried');
    const posts = await portal.requests({ method: 'POST' });
    assert.deepEqual(
      posts.map((e) => e.status),
      [201, 429],
    );
    assert.equal(posts[1]?.fault?.status, 429);
    // The faulted attempt wrote nothing: one deal.
    const { results } = await sdk(token).crm.deals.basicApi.getPage();
    assert.equal(results.length, 1);
  });

  it('without retries the SDK surfaces the 429 body with its policy', async () => {
    const token = `cp-${randomUUID()}`;
    await server.portal(token).faults.add({ path: '/crm/v3/pipelines', status: 429, policyName: 'DAILY' });
    await assert.rejects(sdk(token).crm.pipelines.pipelinesApi.getAll('deals'), (err: unknown) => {
      const e = err as { code?: number; body?: { policyName?: string; errorType?: string } };
      assert.equal(e.code, 429);
      assert.equal(e.body?.policyName, 'DAILY');
      assert.equal(e.body?.errorType, 'RATE_LIMIT');
      return true;
    });
  });

  it('drop: true destroys the connection, as a network failure would, and the journal says so', async () => {
    const token = `cp-${randomUUID()}`;
    const portal = server.portal(token);
    await portal.faults.add({ path: '/crm/v3/pipelines/deals', drop: true });
    await assert.rejects(
      fetch(`${server.url}/crm/v3/pipelines/deals`, { headers: { authorization: `Bearer ${token}` } }),
      TypeError,
    );
    const [entry] = await portal.requests();
    assert.equal(entry?.status, null);
    assert.equal(entry?.fault?.drop, true);
  });

  it('helpers: seed, snapshot, restore, reset and clear, typed', async () => {
    const token = `cp-${randomUUID()}`;
    const portal = server.portal(token);
    await portal.seed(oneDealPipeline('p', 'P'));
    const client = sdk(token);
    const snapshot = await portal.snapshot();
    await client.crm.pipelines.pipelinesApi.update('deals', 'p', { label: 'Changed' });
    await portal.restore(snapshot);
    assert.equal((await client.crm.pipelines.pipelinesApi.getById('deals', 'p')).label, 'P');
    await client.crm.pipelines.pipelinesApi.update('deals', 'p', { label: 'Changed again' });
    await portal.reset();
    assert.equal((await client.crm.pipelines.pipelinesApi.getById('deals', 'p')).label, 'P');
    await portal.clearRequests();
    assert.deepEqual(await portal.requests(), []);
    await portal.faults.add({ path: '/x', status: 500 });
    await portal.faults.clear();
    assert.deepEqual(await portal.faults.list(), []);
    await assert.rejects(
      portal.faults.remove('404'),
      (err: unknown) => err instanceof StagelineControlError && err.status === 404,
    );
  });
});
