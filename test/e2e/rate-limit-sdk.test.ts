// HubSpot's rate limits seen through the official SDK: without retries the caller gets the 429;
// with numberOfApiCallRetries the SDK's own retry (it waits 10 s on TEN_SECONDLY_ROLLING) gets
// through once the rolling window has moved on.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import { Client } from '@hubspot/api-client';

import { startStageline } from '../../src/index.js';
import type { RunningStageline } from '../../src/index.js';
import { testDatabase } from '../helpers/backend.js';

describe('rate limits through the official SDK', () => {
  let server: RunningStageline;
  before(async () => {
    server = await startStageline({ rateLimit: '2/10s', database: testDatabase() });
  });
  after(() => server.close());

  it('without retries, the third call in ten seconds is a 429 the caller sees', async () => {
    const client = new Client({ accessToken: `rl-${randomUUID()}`, basePath: server.url });
    await client.crm.pipelines.pipelinesApi.getAll('deals');
    await client.crm.pipelines.pipelinesApi.getAll('deals');
    await assert.rejects(client.crm.pipelines.pipelinesApi.getAll('deals'), (err: unknown) => {
      const e = err as { code?: number; body?: { policyName?: string; errorType?: string } };
      assert.equal(e.code, 429);
      assert.equal(e.body?.policyName, 'TEN_SECONDLY_ROLLING');
      assert.equal(e.body?.errorType, 'RATE_LIMIT');
      return true;
    });
  });

  it('with numberOfApiCallRetries, the SDK waits and its retry succeeds', async () => {
    const client = new Client({
      accessToken: `rl-${randomUUID()}`,
      basePath: server.url,
      numberOfApiCallRetries: 2,
    });
    await client.crm.pipelines.pipelinesApi.getAll('deals');
    await client.crm.pipelines.pipelinesApi.getAll('deals');
    const started = Date.now();
    const third = await client.crm.pipelines.pipelinesApi.getAll('deals');
    const waited = Date.now() - started;
    assert.ok(third.results.some((p) => p.id === 'default'));
    assert.ok(waited >= 9_000, `the SDK should have waited for the window to roll (${waited} ms)`);
  });
});
