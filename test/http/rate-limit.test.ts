// Rate limits over HTTP: HubSpot's headers on every authenticated answer, and its exact 429.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import type { Stageline } from '../../src/stageline.js';
import { buildStageline, JSON_TYPE, UUID } from './support.js';

describe('rate limits', () => {
  let s: Stageline;
  before(async () => {
    s = await buildStageline({ rateLimit: '3/10s' });
  });
  after(() => s.close());

  const get = (token: string) =>
    s.app.inject({
      method: 'GET',
      url: '/crm/v3/pipelines/deals',
      headers: { authorization: `Bearer ${token}` },
    });

  it('sends the HubSpot headers, counting down', async () => {
    const remaining: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await get('headers-token');
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['x-hubspot-ratelimit-interval-milliseconds'], '10000');
      assert.equal(res.headers['x-hubspot-ratelimit-max'], '3');
      assert.equal(res.headers['x-hubspot-ratelimit-daily'], '250000');
      assert.equal(res.headers['x-hubspot-ratelimit-daily-remaining'], String(250000 - i - 1));
      remaining.push(String(res.headers['x-hubspot-ratelimit-remaining']));
    }
    assert.deepEqual(remaining, ['2', '1', '0']);
  });

  it('answers HubSpot’s 429 once the window is spent, for that token only', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await get('spent-token')).statusCode, 200);
    const res = await get('spent-token');
    assert.equal(res.statusCode, 429);
    assert.equal(res.headers['content-type'], JSON_TYPE);
    const body = res.json<Record<string, string>>();
    assert.deepEqual(Object.keys(body).sort(), [
      'correlationId',
      'errorType',
      'message',
      'policyName',
      'requestId',
      'status',
    ]);
    assert.equal(body.status, 'error');
    assert.equal(body.message, 'You have reached your ten_secondly_rolling limit.');
    assert.equal(body.errorType, 'RATE_LIMIT');
    assert.equal(body.policyName, 'TEN_SECONDLY_ROLLING');
    assert.match(body.correlationId!, UUID);
    assert.equal(res.headers['x-hubspot-correlation-id'], body.correlationId);
    assert.match(body.requestId!, UUID);
    assert.equal(res.headers['x-hubspot-ratelimit-remaining'], '0');
    assert.equal((await get('another-token')).statusCode, 200, 'other tokens are not affected');
  });

  it('is off unless asked for in the test harness, and hubspot by default for the server', async () => {
    const off = await buildStageline();
    try {
      const res = await off.app.inject({
        method: 'GET',
        url: '/crm/v3/pipelines/deals',
        headers: { authorization: 'Bearer x' },
      });
      assert.equal(res.headers['x-hubspot-ratelimit-max'], undefined);
    } finally {
      await off.close();
    }
    const server = await buildStageline({ rateLimit: 'hubspot' });
    try {
      const res = await server.app.inject({
        method: 'GET',
        url: '/crm/v3/pipelines/deals',
        headers: { authorization: 'Bearer x' },
      });
      assert.equal(res.headers['x-hubspot-ratelimit-max'], '100');
    } finally {
      await server.close();
    }
  });
});
