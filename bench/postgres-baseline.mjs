// Baseline (c), for Stageline on PostgreSQL: Fastify plus one PostgreSQL round trip per request.
// A read is answered with the bytes Stageline sent, fetched by key with one SELECT (a gzip copy
// too when Stageline compressed); a write runs one autocommitted UPDATE, then sends Stageline's
// bytes. The answers are set with `PUT /__bench`, as for the other baselines. Arguments: the port,
// then the database URL (its `schema` parameter names the schema to work in, created if missing).
import { constants, gzipSync } from 'node:zlib';

import Fastify from 'fastify';
import pg from 'pg';

const url = new URL(process.argv[3] ?? 'postgres://postgres@127.0.0.1:5432/postgres');
const schema = url.searchParams.get('schema') ?? 'stageline_bench_baseline';
url.searchParams.delete('schema');
const pool = new pg.Pool({ connectionString: url.toString(), max: 10, options: `-c search_path=${schema}` });
await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
await pool.query(`CREATE TABLE IF NOT EXISTS canned (method text PRIMARY KEY, status integer NOT NULL,
  body text NOT NULL, gzipped bytea)`);
await pool.query('CREATE TABLE IF NOT EXISTS writes (id integer PRIMARY KEY, n bigint NOT NULL)');
await pool.query('INSERT INTO writes VALUES (1, 0) ON CONFLICT DO NOTHING');

/** What writes answer, kept here: the write's round trip is its UPDATE. */
const written = new Map();

const app = Fastify({ logger: false, bodyLimit: 100 * 1024 * 1024 });
const json = app.getDefaultJsonParser('error', 'error');
app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) =>
  String(body).trim() === '' ? done(null, undefined) : json(request, String(body), done),
);

app.put('/__bench', async (request) => {
  await pool.query('DELETE FROM canned');
  written.clear();
  for (const [method, c] of Object.entries(request.body)) {
    const gzipped = c.gzip === true ? gzipSync(c.body, { level: constants.Z_BEST_SPEED }) : null;
    await pool.query('INSERT INTO canned VALUES ($1, $2, $3, $4)', [method, c.status, c.body, gzipped]);
    written.set(method, { status: c.status, body: c.body });
  }
  return { ok: true };
});

const send = (reply, status, body) =>
  status === 204
    ? reply.code(204).send()
    : reply.code(status).type('application/json;charset=utf-8').send(body);

app.get('/*', async (request, reply) => {
  const gzip = /\bgzip\b/.test(request.headers['accept-encoding'] ?? '');
  const { rows } = await pool.query({
    name: gzip ? 'read_gzip' : 'read',
    text: gzip
      ? 'SELECT status, body, gzipped FROM canned WHERE method = $1'
      : 'SELECT status, body, NULL::bytea AS gzipped FROM canned WHERE method = $1',
    values: ['GET'],
  });
  const c = rows[0] ?? { status: 404, body: '{}', gzipped: null };
  if (c.gzipped !== null)
    return reply
      .code(c.status)
      .type('application/json;charset=utf-8')
      .header('content-encoding', 'gzip')
      .send(c.gzipped);
  return send(reply, c.status, c.body);
});

app.route({
  method: ['POST', 'PUT', 'PATCH', 'DELETE'],
  url: '/*',
  handler: async (request, reply) => {
    await pool.query({ name: 'write', text: 'UPDATE writes SET n = n + 1 WHERE id = 1' });
    const c = written.get(request.method) ?? { status: 404, body: '{}' };
    return send(reply, c.status, c.body);
  },
});

await app.listen({ port: Number(process.argv[2] ?? 0), host: '127.0.0.1' });
