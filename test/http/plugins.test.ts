// The embedder's extension point: Fastify plugins given to startStageline() are registered on the
// root, before Stageline's routes, so their hooks see every request, cached reads included. Over
// a real socket, since `inject` never goes through the HTTP server.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { FastifyPluginAsync } from 'fastify';

import { startStageline } from '../../src/index.js';
import { newToken } from './support.js';

describe('startStageline({ plugins })', () => {
  it('runs the hooks of a plugin for every request, whatever answers it', async () => {
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
    const get = async (path: string, auth: string | null = token, method = 'GET') => {
      const res = await fetch(stageline.url + path, {
        method,
        headers: auth === null ? {} : { authorization: `Bearer ${auth}` },
      });
      await res.arrayBuffer();
      assert.equal(res.headers.get('x-embedder'), 'seen', `${method} ${path}`);
      return res.status;
    };
    try {
      const statuses = [
        await get('/crm/v3/pipelines/deals'),
        // Answered from the read cache.
        await get('/crm/v3/pipelines/deals'),
        await get('/crm/v3/pipelines/deals/default'),
        await get('/crm/v3/pipelines/deals/default'),
        await get('/crm/v3/pipelines/deals', null),
        await get('/crm/v3/pipelines/deals/missing'),
        await get('/crm/v3/pipelines/deals', token, 'DELETE'),
        await get('/nowhere'),
        await get('/health', null),
      ];
      assert.deepEqual(statuses, [200, 200, 200, 200, 401, 404, 405, 404, 200]);
      // onResponse runs once the answer is handed to the socket.
      await new Promise((resolve) => setTimeout(resolve, 20));
      const expected = [
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
