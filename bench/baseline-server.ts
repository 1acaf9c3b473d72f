// The baseline: a bare Fastify server answering any path with a static, pre-serialised JSON
// body of the size Stageline sends for the scenario under test. `PUT /__bench` sets, per
// method, the status and body to answer with, and whether to keep a gzip copy for clients
// that accept it (compressed once, at the level Stageline uses).
import { constants, gzipSync } from 'node:zlib';

import Fastify from 'fastify';

interface Canned {
  status: number;
  body: string;
  gzip?: boolean;
  gzipped?: Buffer;
}

const canned = new Map<string, Canned>();
const app = Fastify({ logger: false, bodyLimit: 100 * 1024 * 1024 });
// Like Stageline, an empty body sent with a JSON content type (a DELETE) is no body.
const json = app.getDefaultJsonParser('error', 'error');
app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) =>
  (body as string).trim() === '' ? done(null, undefined) : json(request, body as string, done),
);

app.put('/__bench', async (request) => {
  canned.clear();
  for (const [method, c] of Object.entries(request.body as Record<string, Canned>)) {
    if (c.gzip === true) c.gzipped = gzipSync(c.body, { level: constants.Z_BEST_SPEED });
    canned.set(method, c);
  }
  return { ok: true };
});

app.route({
  method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
  url: '/*',
  handler: async (request, reply) => {
    const c = canned.get(request.method) ?? { status: 404, body: '{}' };
    if (c.status === 204) return reply.code(204).send();
    reply.code(c.status).type('application/json;charset=utf-8');
    if (c.gzipped !== undefined && /\bgzip\b/.test(request.headers['accept-encoding'] ?? '')) {
      return reply.header('content-encoding', 'gzip').send(c.gzipped);
    }
    return reply.send(c.body);
  },
});

const port = Number(process.argv[2] ?? 0);
await app.listen({ port, host: '127.0.0.1' });
console.log(`baseline listening on ${port}`);
