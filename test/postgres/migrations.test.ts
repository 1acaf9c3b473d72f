// Migrations on PostgreSQL when several processes start at once: the schema is created if
// missing, migrations run under an advisory lock, each is recorded exactly once, and a later
// open applies nothing.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import pg from 'pg';

import { DEFAULTS } from '../../src/config.js';
import type { Store } from '../../src/domain/ports.js';
import { loadMigrations } from '../../src/storage/migrations.js';
import { openStore } from '../../src/stageline.js';
import { POSTGRES_URL, freshPostgresUrl, postgresSkipReason } from '../helpers/postgres.js';

const skip = await postgresSkipReason();
const OPENS = 10;
// One connection each is all a store needs to migrate: keep the total well under max_connections.
const OPTIONS = { ...DEFAULTS, poolSize: 2 };

interface MigrationRow {
  version: number;
  name: string;
  applied_at: string;
}

async function migrationRows(url: string): Promise<MigrationRow[]> {
  const schema = new URL(url).searchParams.get('schema');
  assert.ok(schema);
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    const r = await client.query<MigrationRow>(
      `SELECT version, name, applied_at::text FROM "${schema}".schema_migrations ORDER BY version`,
    );
    return r.rows;
  } finally {
    await client.end();
  }
}

async function createSchema(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA "${new URL(url).searchParams.get('schema')}"`);
  } finally {
    await client.end();
  }
}

async function closeAll(stores: readonly Store[]): Promise<void> {
  await Promise.all(stores.map((s) => s.close()));
}

describe('PostgreSQL migrations under concurrent starts', { skip }, () => {
  const expected = loadMigrations('postgres').map((m) => ({ version: m.version, name: m.name }));

  it('has migrations to run', () => {
    assert.ok(expected.length > 0, 'no PostgreSQL migration files found');
    assert.equal(new Set(expected.map((m) => m.version)).size, expected.length, 'duplicate versions');
  });

  // A few rounds each, to give races a chance to show: on a schema that does not exist yet (the
  // opens also race to create it), and on one that exists but is empty (only the migrations race).
  const cases = [
    { where: 'a missing schema', precreate: false, rounds: 5 },
    { where: 'an existing empty schema', precreate: true, rounds: 2 },
  ];
  for (const { where, precreate, rounds } of cases)
    for (let round = 1; round <= rounds; round++) {
      it(`${where}, round ${round}: ${OPENS} opens at once all succeed, each migration recorded once`, async () => {
        const url = freshPostgresUrl();
        if (precreate) await createSchema(url);
        const outcomes = await Promise.allSettled(
          Array.from({ length: OPENS }, () => openStore(url, OPTIONS)),
        );
        const stores = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
        try {
          const failures = outcomes.flatMap((o) =>
            o.status === 'rejected'
              ? [`${(o.reason as Error).message} (cause: ${String((o.reason as Error).cause)})`]
              : [],
          );
          assert.deepEqual(failures, [], 'every concurrent open succeeds');
          assert.equal(stores.length, OPENS);

          const rows = await migrationRows(url);
          assert.deepEqual(
            rows.map((r) => ({ version: r.version, name: r.name })),
            expected,
            'exactly one row per migration file',
          );

          // Every store works on the migrated schema.
          await Promise.all(stores.map((s) => s.ping()));
          await Promise.all(
            stores.map((s, i) =>
              s.write(async (repo) => {
                assert.equal(await repo.ensurePortal(1000 + i, Date.now()), true);
              }),
            ),
          );
          const portals = await stores[0]!.read(async (repo) => {
            const seen: number[] = [];
            for (let i = 0; i < OPENS; i++) if (await repo.portalExists(1000 + i)) seen.push(1000 + i);
            return seen;
          });
          assert.equal(portals.length, OPENS, 'each store wrote to the same schema');
        } finally {
          await closeAll(stores);
        }

        // Opened again later (one, then several at once): nothing new is applied.
        const before = await migrationRows(url);
        const again = await openStore(url, OPTIONS);
        await again.close();
        const more = await Promise.all(Array.from({ length: 3 }, () => openStore(url, OPTIONS)));
        await closeAll(more);
        assert.deepEqual(await migrationRows(url), before, 're-opening applied or re-recorded a migration');
      });
    }
});
