// Run by the bench in a fresh Node process: the server time of the control plane's reset, and of
// a snapshot and its restore, on a portal with 20 deal pipelines of 5 stages (their audit
// trails and 20 deals included), as a test suite's startStageline() runs it (in memory) and on
// a SQLite file. Arguments: how many timed calls, and a directory for the file. Prints JSON.
import { join } from 'node:path';

import { createStageline, loadConfig } from '../../dist/index.js';

const repeats = Number(process.argv[2] ?? 50);
const dir = process.argv[3];
const WARM_UP = 10;
const TOKEN = 'bench-control-plane';

const pipelines = Array.from({ length: 20 }, (_, p) => ({
  id: `p${p}`,
  label: `Pipeline ${p}`,
  displayOrder: p,
  stages: Array.from({ length: 5 }, (_, s) => ({
    id: `p${p}s${s}`,
    label: `Stage ${s}`,
    displayOrder: s,
    metadata: { probability: String(s / 5) },
  })),
}));
const SEED = {
  objectTypes: {
    deals: {
      pipelines,
      records: pipelines.map((p, i) => ({ stage: p.stages[0].id, properties: { dealname: `Deal ${i}` } })),
    },
  },
};

async function measure(database) {
  const stageline = await createStageline(
    loadConfig({ database, auth: 'open', logLevel: 'silent', rateLimit: 'off', port: 0 }, {}),
  );
  const serverMs = new Map();
  stageline.app.server.prependListener('request', (req, res) => {
    const began = process.hrtime.bigint();
    res.once('finish', () => {
      serverMs.set(req.headers['x-bench-request'], Number(process.hrtime.bigint() - began) / 1e6);
    });
  });
  const url = await stageline.app.listen({ port: 0, host: '127.0.0.1' });
  let sent = 0;
  /** One call; resolves with its server time and its body. */
  const call = async (method, path, body) => {
    const id = String(sent++);
    const res = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        'x-bench-request': id,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body,
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    while (!serverMs.has(id)) await new Promise((resolve) => setImmediate(resolve));
    return { ms: serverMs.get(id), text };
  };
  await call('PUT', '/_stageline/seed', JSON.stringify(SEED));
  // Writes through the API, so the snapshot carries audit trails as a test's portal would.
  for (const p of pipelines)
    await call('PATCH', `/crm/v3/pipelines/deals/${p.id}`, JSON.stringify({ label: `${p.label}!` }));

  const resets = [];
  for (let i = 0; i < WARM_UP + repeats; i++) {
    const { ms } = await call('POST', '/_stageline/reset');
    if (i >= WARM_UP) resets.push(ms);
  }
  for (const p of pipelines)
    await call('PATCH', `/crm/v3/pipelines/deals/${p.id}`, JSON.stringify({ label: `${p.label}!` }));
  const roundTrips = [];
  let bytes = 0;
  for (let i = 0; i < WARM_UP + repeats; i++) {
    const snapshot = await call('GET', '/_stageline/snapshot');
    const restore = await call('PUT', '/_stageline/snapshot', snapshot.text);
    bytes = snapshot.text.length;
    if (i >= WARM_UP) roundTrips.push(snapshot.ms + restore.ms);
  }
  await stageline.close();
  return { resets, roundTrips, bytes };
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const memory = await measure(':memory:');
const file = dir === undefined ? undefined : await measure(join(dir, 'control-plane.db'));
process.stdout.write(
  JSON.stringify({
    resetMs: median(memory.resets),
    roundTripMs: median(memory.roundTrips),
    snapshotBytes: memory.bytes,
    resetFileMs: file && median(file.resets),
    roundTripFileMs: file && median(file.roundTrips),
    resets: memory.resets,
    roundTrips: memory.roundTrips,
  }),
);
