// The embedder's extension point: Fastify plugins given to startStageline() are registered on the
// root, before Stageline's routes, so their hooks see every request, cached reads included. Over
// a real socket, since `inject` never goes through the HTTP server.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { FastifyPluginAsync } from 'fastify';

import { startStageline } from '../../src/index.js';
import { cacheHits } from '../helpers/cache-hits.js';
import { newToken } from './support.js';

describe('startStageline({ plugins })', () => {
  it('runs the hooks of a plugin for every request, whatever answers it', async (t) => {
    const hits = cacheHits(t);
    const seen: string[] = [];
    const answered: string[] = [];
    const recorder: FastifyPluginAsync = async (app) => {
      app.addHook('onRequest', async (request) => {
        seen.push(`${request.method} ${request.url}`);
      });
      // A hook can change any answer, a cached one too: it is in the request's lifecycle.
      app.addHook('onSend', async (_request, reply, payload) => {
        reply.header('x-embedder', 'seen');
        return payload;
      });
      app.addHook('onResponse', async (request, reply) => {
        answered.push(`${request.method} ${request.url} ${reply.statusCode}`);
      });
    };
    const stageline = await startStageline({ plugins: [recorder] });
    const token = newToken();
    const cached: boolean[] = [];
    const call = async (path: string, auth: string | null = token, method = 'GET', body?: object) => {
      const before = hits();
      const res = await fetch(stageline.url + path, {
        method,
        headers: {
          ...(auth === null ? {} : { authorization: `Bearer ${auth}` }),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      await res.arrayBuffer();
      assert.equal(res.headers.get('x-embedder'), 'seen', `${method} ${path}`);
      cached.push(hits() > before);
      return res.status;
    };
    try {
      const statuses = [
        // An open-mode token's reads are cached once it has written.
        await call('/crm/v3/pipelines/deals/default', token, 'PATCH', { label: 'Written once' }),
        await call('/crm/v3/pipelines/deals'),
        await call('/crm/v3/pipelines/deals'),
        await call('/crm/v3/pipelines/deals/default'),
        await call('/crm/v3/pipelines/deals/default'),
        await call('/crm/v3/pipelines/deals', null),
        await call('/crm/v3/pipelines/deals/missing'),
        await call('/crm/v3/pipelines/deals', token, 'DELETE'),
        await call('/nowhere'),
        await call('/health', null),
      ];
      assert.deepEqual(statuses, [200, 200, 200, 200, 200, 401, 404, 405, 404, 200]);
      // The second of each pair of reads is answered from the read cache.
      assert.deepEqual(cached, [false, false, true, false, true, false, false, false, false, false]);
      // onResponse runs once the answer is handed to the socket.
      await new Promise((resolve) => setTimeout(resolve, 20));
      const expected = [
        'PATCH /crm/v3/pipelines/deals/default',
        'GET /crm/v3/pipelines/deals',
        'GET /crm/v3/pipelines/deals',
        'GET /crm/v3/pipelines/deals/default',
        'GET /crm/v3/pipelines/deals/default',
        'GET /crm/v3/pipelines/deals',
        'GET /crm/v3/pipelines/deals/missing',
        'DELETE /crm/v3/pipelines/deals',
        'GET /nowhere',
        'GET /health',
      ];
      assert.deepEqual(seen, expected);
      assert.deepEqual(
        answered,
        expected.map((line, i) => `${line} ${statuses[i]}`),
      );
    } finally {
      await stageline.close();
    }
  });
});
