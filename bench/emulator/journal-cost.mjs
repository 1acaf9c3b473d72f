// Run by the bench in a fresh Node process: what the request journal costs the read scenarios.
// Two servers in this process, the control plane on (open mode's default) and off, hold the same
// portal; batches of the same GET alternate between them, through Fastify's whole lifecycle
// (`inject`: no socket, so the journal's share comes out larger, not smaller). On a shared
// machine a batch's time swings with other work by far more than 5 %, so each side's fastest
// batch, the least disturbed, is what the sides are compared by; every pair's ratio is kept too.
// Argument: batches per side. Prints JSON.
import { createStageline, loadConfig } from '../../dist/index.js';

const batches = Number(process.argv[2] ?? 30);
const PER_BATCH = 200;
const TOKEN = 'bench-journal';
const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

const make = (controlPlane) =>
  createStageline(
    loadConfig(
      { database: ':memory:', auth: 'open', logLevel: 'silent', rateLimit: 'off', controlPlane },
      {},
    ),
  );
const servers = { on: await make('on'), off: await make('off') };

/** The bench portal in small: 21 deal pipelines, one of them with 1,000 audit entries. */
async function seed(app) {
  const call = async (method, url, payload) => {
    const res = await app.inject({ method, url, headers, payload });
    if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
    return res.json();
  };
  let first;
  for (let p = 0; p < 20; p++) {
    const stages = Array.from({ length: 10 }, (_, s) => ({
      label: `Stage ${s}`,
      displayOrder: s,
      metadata: { probability: '0.5' },
    }));
    const created = await call('POST', '/crm/v3/pipelines/deals', {
      label: `Pipeline ${p}`,
      displayOrder: p,
      stages,
    });
    first ??= created;
  }
  for (let i = 0; i < 999; i++)
    await call('PATCH', `/crm/v3/pipelines/deals/${first.id}`, { label: `Pipeline 0 v${i}` });
  return { pipelineId: first.id, stageId: first.stages[0].id };
}

const fixture = await seed(servers.on.app);
const fixtureOff = await seed(servers.off.app);
if (fixture.pipelineId !== fixtureOff.pipelineId) throw new Error('the two portals differ');

const scenarios = [
  { name: 'list deal pipelines (21)', url: '/crm/v3/pipelines/deals' },
  { name: 'get pipeline', url: `/crm/v3/pipelines/deals/${fixture.pipelineId}` },
  { name: 'get stage', url: `/crm/v3/pipelines/deals/${fixture.pipelineId}/stages/${fixture.stageId}` },
  {
    name: 'pipeline audit (1,000 entries), gzip',
    url: `/crm/v3/pipelines/deals/${fixture.pipelineId}/audit`,
    extra: { 'accept-encoding': 'gzip' },
  },
];

/** Microseconds per request for one batch. */
async function batch(app, scenario) {
  const before = process.hrtime.bigint();
  for (let i = 0; i < PER_BATCH; i++) {
    const res = await app.inject({
      method: 'GET',
      url: scenario.url,
      headers: { ...headers, ...scenario.extra },
    });
    if (res.statusCode !== 200) throw new Error(`${scenario.url}: ${res.statusCode}`);
  }
  return Number(process.hrtime.bigint() - before) / 1000 / PER_BATCH;
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const results = [];
for (const scenario of scenarios) {
  for (let i = 0; i < 3; i++) for (const side of ['on', 'off']) await batch(servers[side].app, scenario); // warm-up
  const on = [];
  const off = [];
  for (let i = 0; i < batches; i++) {
    // The order turns from pair to pair, so a drift of the machine weighs on both sides alike.
    const order = i % 2 === 0 ? ['on', 'off'] : ['off', 'on'];
    for (const side of order) (side === 'on' ? on : off).push(await batch(servers[side].app, scenario));
  }
  const ratios = on.map((u, i) => u / off[i]);
  results.push({
    name: scenario.name,
    onUs: Math.min(...on),
    offUs: Math.min(...off),
    medianOnUs: median(on),
    medianOffUs: median(off),
    ratios,
  });
}
await servers.on.close();
await servers.off.close();
process.stdout.write(JSON.stringify(results));
