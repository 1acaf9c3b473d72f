// HubSpot's per-token rate limits enforced by several processes together: the counts live in
// PostgreSQL, so three processes admit what one would. 150 requests of one token, spread over
// three real `stageline serve` processes within ten seconds: exactly 100 succeed.

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import { startServeProcesses, stopProcesses, type ServeProcess } from '../helpers/cli-process.js';
import { freshPostgresUrl, postgresSkipReason } from '../helpers/postgres.js';

const skip = await postgresSkipReason();
const PROCESSES = 3;

describe(`rate limits shared by ${PROCESSES} processes on one PostgreSQL schema`, { skip }, () => {
  const database = skip === undefined ? freshPostgresUrl() : '';
  const children: ChildProcess[] = [];
  const servers: ServeProcess[] = [];

  before(async () => {
    servers.push(...(await startServeProcesses(PROCESSES, database, ['--rate-limit', 'hubspot'], children)));
  });
  after(() => stopProcesses(children));

  it('150 requests of one token within 10 s: exactly 100 succeed, the rest are 429', async () => {
    const token = `limited-${randomUUID()}`;
    const started = performance.now();
    const replies = await Promise.all(
      Array.from({ length: 150 }, async (_, i) => {
        const res = await fetch(`${servers[i % PROCESSES]!.url}/crm/v3/pipelines/deals`, {
          headers: { authorization: `Bearer ${token}` },
        });
        const body = (await res.json()) as { policyName?: string };
        return { status: res.status, body, remaining: res.headers.get('x-hubspot-ratelimit-remaining') };
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    assert.ok(seconds < 10, `took ${seconds.toFixed(1)} s: the window would have rolled`);
    const ok = replies.filter((r) => r.status === 200);
    const limited = replies.filter((r) => r.status === 429);
    assert.equal(ok.length, 100, `statuses: ${replies.map((r) => r.status).join(' ')}`);
    assert.equal(limited.length, 50);
    for (const r of limited) assert.equal(r.body.policyName, 'TEN_SECONDLY_ROLLING');
    // Every admitted request saw its own place in the shared window.
    const remaining = ok.map((r) => Number(r.remaining)).sort((a, b) => a - b);
    assert.deepEqual(
      remaining,
      Array.from({ length: 100 }, (_, i) => i),
    );
    console.log(`# 150 requests over ${PROCESSES} processes in ${seconds.toFixed(2)} s: 100 × 200, 50 × 429`);
  });

  it('another token has its own budget', async () => {
    const res = await fetch(`${servers[1]!.url}/crm/v3/pipelines/deals`, {
      headers: { authorization: `Bearer other-${randomUUID()}` },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-hubspot-ratelimit-remaining'), '99');
  });
});
