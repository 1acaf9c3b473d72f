// Security headers on every answer, CORS off unless configured, and slow clients cut off.

import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';

import { buildStageline } from './support.js';

const auth = { authorization: 'Bearer hardening' };

describe('security headers', () => {
  it('are on answers of every kind', async () => {
    const s = await buildStageline();
    try {
      for (const req of [
        { method: 'GET' as const, url: '/crm/v3/pipelines/deals', headers: auth },
        { method: 'GET' as const, url: '/crm/v3/pipelines/deals' },
        { method: 'GET' as const, url: '/nowhere', headers: auth },
        { method: 'GET' as const, url: '/health' },
      ]) {
        const res = await s.app.inject(req);
        assert.equal(res.headers['x-content-type-options'], 'nosniff', req.url);
        assert.equal(res.headers['x-frame-options'], 'DENY');
        assert.equal(res.headers['content-security-policy'], "default-src 'none'; frame-ancestors 'none'");
        assert.equal(res.headers['referrer-policy'], 'no-referrer');
        assert.equal(res.headers['cache-control'], 'no-store');
      }
    } finally {
      await s.close();
    }
  });
});

describe('CORS', () => {
  const preflight = {
    method: 'OPTIONS' as const,
    url: '/crm/v3/pipelines/deals',
    headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' },
  };

  it('is off by default', async () => {
    const s = await buildStageline();
    try {
      const res = await s.app.inject(preflight);
      assert.equal(res.headers['access-control-allow-origin'], undefined);
      const get = await s.app.inject({
        method: 'GET',
        url: '/crm/v3/pipelines/deals',
        headers: { ...auth, origin: 'https://app.example.com' },
      });
      assert.equal(get.statusCode, 200);
      assert.equal(get.headers['access-control-allow-origin'], undefined);
    } finally {
      await s.close();
    }
  });

  it('answers the configured origins only', async () => {
    const s = await buildStageline({ corsOrigins: 'https://app.example.com' });
    try {
      const ok = await s.app.inject(preflight);
      assert.equal(ok.statusCode, 204);
      assert.equal(ok.headers['access-control-allow-origin'], 'https://app.example.com');
      const get = await s.app.inject({
        method: 'GET',
        url: '/crm/v3/pipelines/deals',
        headers: { ...auth, origin: 'https://app.example.com' },
      });
      assert.equal(get.headers['access-control-allow-origin'], 'https://app.example.com');
      assert.match(String(get.headers['access-control-expose-headers']), /x-hubspot-correlation-id/);
      const other = await s.app.inject({
        ...preflight,
        headers: { ...preflight.headers, origin: 'https://evil.test' },
      });
      assert.equal(other.headers['access-control-allow-origin'], undefined);
    } finally {
      await s.close();
    }
  });

  it('refuses a malformed origin at start', async () => {
    await assert.rejects(buildStageline({ corsOrigins: 'not a url' }), /Invalid CORS origin/);
  });
});

describe('slow clients', () => {
  it('are disconnected when the request does not arrive in time', async () => {
    const s = await buildStageline({ requestTimeoutMs: 500 });
    try {
      await s.app.listen({ port: 0, host: '127.0.0.1' });
      const address = s.app.server.address();
      assert.ok(address !== null && typeof address === 'object');
      const started = Date.now();
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(address.port, '127.0.0.1', () => {
          // Headers begun but never finished.
          socket.write('GET /crm/v3/pipelines/deals HTTP/1.1\r\nHost: localhost\r\n');
        });
        let data = '';
        socket.on('data', (chunk) => (data += chunk.toString()));
        socket.on('close', () => resolve(data));
        socket.on('error', reject);
        setTimeout(() => reject(new Error('still connected after 5 s')), 5000).unref();
      });
      const elapsed = Date.now() - started;
      assert.ok(elapsed < 4000, `cut off after ${elapsed} ms`);
      assert.match(answer, /^HTTP\/1\.1 408/);
    } finally {
      await s.close();
    }
  });
});
