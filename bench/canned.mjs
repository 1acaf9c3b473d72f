// What both baselines answer: per method, the status and body Stageline sent for the scenario
// under test, set with `PUT /__bench` before it runs, and a gzip copy of the body for clients
// that accept gzip when Stageline compressed it too (compressed once, at the level Stageline uses).
// Plain JavaScript, so that a baseline starts without a TypeScript loader, as Stageline does.
import { constants, gzipSync } from 'node:zlib';

import Fastify from 'fastify';

/**
 * @typedef {{ status: number, body: string, gzip?: boolean }} Canned
 * @typedef {import('fastify').FastifyRequest} Request
 * @typedef {import('fastify').FastifyReply} Reply
 */

export function cannedApp() {
  /** @type {Map<string, { status: number, body: string, gzipped?: Buffer }>} */
  const canned = new Map();
  const app = Fastify({ logger: false, bodyLimit: 100 * 1024 * 1024 });
  // Like Stageline, an empty body sent with a JSON content type (a DELETE) is no body.
  const json = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) =>
    String(body).trim() === '' ? done(null, undefined) : json(request, String(body), done),
  );

  app.put('/__bench', async (request) => {
    canned.clear();
    for (const [method, c] of Object.entries(/** @type {Record<string, Canned>} */ (request.body))) {
      const gzipped = c.gzip === true ? gzipSync(c.body, { level: constants.Z_BEST_SPEED }) : undefined;
      canned.set(method, { status: c.status, body: c.body, gzipped });
    }
    return { ok: true };
  });

  /**
   * Sends the canned answer for the request's method.
   * @param {Request} request
   * @param {Reply} reply
   */
  const answer = (request, reply) => {
    const c = canned.get(request.method) ?? { status: 404, body: '{}' };
    if (c.status === 204) return reply.code(204).send();
    reply.code(c.status).type('application/json;charset=utf-8');
    if (c.gzipped !== undefined && /\bgzip\b/.test(request.headers['accept-encoding'] ?? '')) {
      return reply.header('content-encoding', 'gzip').send(c.gzipped);
    }
    return reply.send(c.body);
  };

  return { app, answer };
}

/**
 * Listens on loopback, on the port given as the first argument.
 * @param {import('fastify').FastifyInstance} app
 */
export async function listen(app) {
  await app.listen({ port: Number(process.argv[2] ?? 0), host: '127.0.0.1' });
}
