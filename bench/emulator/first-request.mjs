// Run by the bench in a fresh Node process: the server time of a new open-mode token's first
// request (a read: it writes nothing and answers the starting state from memory), and of a
// repeated request from a known token (one whose portal its first write created).
//
// Server time is taken inside the server, from the HTTP server's `request` event to the
// response's `finish`, so the client's side of the loopback does not count. A Fastify
// `onResponse` hook records `reply.elapsedTime` too, for comparison; it does not see a cached
// read from a known token, which Stageline answers before Fastify when logs are off.
// Argument: how many new portals. Prints the figures as JSON.
import { createStageline, loadConfig } from '../../dist/index.js';

const newPortals = Number(process.argv[2] ?? 50);
const WARM_UP = 10;
const REPEATS = 50;
const PATH = '/crm/v3/pipelines/deals';

const stageline = await createStageline(
  loadConfig({ database: ':memory:', auth: 'open', logLevel: 'silent', rateLimit: 'off', port: 0 }, {}),
);
/** Per request, by its `x-bench-request` header: server time, and Fastify's elapsed time. */
const serverMs = new Map();
const fastifyMs = new Map();
stageline.app.server.prependListener('request', (req, res) => {
  const began = process.hrtime.bigint();
  res.once('finish', () => {
    serverMs.set(req.headers['x-bench-request'], Number(process.hrtime.bigint() - began) / 1e6);
  });
});
stageline.app.addHook('onResponse', async (request, reply) => {
  fastifyMs.set(request.headers['x-bench-request'], reply.elapsedTime);
});
await stageline.app.listen({ port: 0, host: '127.0.0.1' });
const { port } = /** @type {import('node:net').AddressInfo} */ (stageline.app.server.address());

let sent = 0;
/** One GET, sent after the previous one was answered; resolves once its time is recorded. */
async function get(token) {
  const id = String(sent++);
  const res = await fetch(`http://127.0.0.1:${port}${PATH}`, {
    headers: { authorization: `Bearer ${token}`, 'x-bench-request': id },
  });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`GET ${PATH}: ${res.status}`);
  while (!serverMs.has(id)) await new Promise((resolve) => setImmediate(resolve));
  return id;
}

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
};

// New portals with tokens not measured, so that creating one runs compiled code.
for (let i = 0; i < WARM_UP; i++) await get(`warm-up-${i}`);
const first = [];
for (let i = 0; i < newPortals; i++) first.push(await get(`new-portal-${i}`));
// The token's first write creates its portal; its reads are then cached like any portal's.
const created = await fetch(`http://127.0.0.1:${port}/crm/v3/objects/contacts`, {
  method: 'POST',
  headers: { authorization: 'Bearer new-portal-0', 'content-type': 'application/json' },
  body: JSON.stringify({ properties: { email: 'bench@example.com' } }),
});
if (created.status !== 201) throw new Error(`POST contact: ${created.status}`);
await get('new-portal-0');
const repeated = [];
for (let i = 0; i < REPEATS; i++) repeated.push(await get('new-portal-0'));
await stageline.close();

const times = (ids, of) => ids.map((id) => of.get(id)).filter((ms) => ms !== undefined);
process.stdout.write(
  JSON.stringify({
    firstMedianMs: percentile(times(first, serverMs), 0.5),
    firstP90Ms: percentile(times(first, serverMs), 0.9),
    firstFastifyMedianMs: percentile(times(first, fastifyMs), 0.5),
    repeatedMedianMs: percentile(times(repeated, serverMs), 0.5),
    firstMs: times(first, serverMs),
  }),
);
