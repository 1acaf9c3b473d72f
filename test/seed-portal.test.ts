// Tokens mode with --seed: the seed applies to --seed-portal when that portal is created, on the
// server's first start, and never again; other portals start from HubSpot's defaults.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { buildStageline, call, json } from './http/support.js';

const seed = fileURLToPath(new URL('./fixtures/seeds/pipelines.yaml', import.meta.url));
const ids = (body: string) => (JSON.parse(body) as { results: { id: string }[] }).results.map((p) => p.id);

describe('tokens mode with --seed', () => {
  it('seeds --seed-portal on its first start only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stageline-seed-portal-'));
    const database = join(dir, 'stageline.db');
    try {
      const first = await buildStageline({ auth: 'tokens', database, seed, controlPlane: 'on' });
      let admin: string;
      try {
        const issued = await first.bootstrap();
        assert.ok(issued, 'the first start issues the admin token');
        admin = issued.token;
        assert.deepEqual(ids((await call(first, 'GET', '/crm/v3/pipelines/deals', { token: admin })).body), [
          'sales',
        ]);
        // The portal's starting state is the seed: a reset returns to it.
        await call(first, 'PATCH', '/crm/v3/pipelines/deals/sales', {
          token: admin,
          body: { label: 'Changed' },
        });
        assert.equal((await call(first, 'POST', '/_stageline/reset', { token: admin })).statusCode, 204);
        assert.equal(
          json<{ label: string }>(await call(first, 'GET', '/crm/v3/pipelines/deals/sales', { token: admin }))
            .label,
          'Sales',
        );
        await call(first, 'PATCH', '/crm/v3/pipelines/deals/sales', {
          token: admin,
          body: { label: 'Kept' },
        });
        const { token: other } = await first.auth.issueToken({ portalId: 9 });
        assert.deepEqual(ids((await call(first, 'GET', '/crm/v3/pipelines/deals', { token: other })).body), [
          'default',
        ]);
      } finally {
        await first.close();
      }
      const second = await buildStageline({ auth: 'tokens', database, seed });
      try {
        assert.equal(await second.bootstrap(), undefined);
        const kept = await call(second, 'GET', '/crm/v3/pipelines/deals/sales', { token: admin });
        assert.equal(json<{ label: string }>(kept).label, 'Kept');
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
