import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import Database from 'better-sqlite3';

import type { Pipeline } from '../../src/domain/model.js';
import { loadMigrations } from '../../src/storage/migrations.js';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import { runRepositoryContract } from './repository-contract.js';

const files: string[] = [];

function tempDatabase(): string {
  const file = join(tmpdir(), `stageline-contract-${randomUUID()}.db`);
  files.push(file);
  return file;
}

after(() => {
  for (const file of files) {
    for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(file + suffix, { force: true });
    assert.equal(existsSync(file), false);
  }
});

runRepositoryContract('SqliteStore :memory:', () => new SqliteStore(':memory:'));
runRepositoryContract('SqliteStore on a temporary file', () => new SqliteStore(tempDatabase()));

describe('SqliteStore on a file', () => {
  const sales: Pipeline = {
    id: 'sales',
    label: 'Sales',
    displayOrder: 2,
    createdAt: 1_000,
    updatedAt: 2_000,
    archivedAt: null,
    stages: [
      {
        id: 'won',
        label: 'Won',
        displayOrder: 0,
        metadata: { isClosed: 'true', probability: '1.0' },
        writePermissions: 'CRM_PERMISSIONS_ENFORCEMENT',
        createdAt: 1_000,
        updatedAt: 2_000,
        archivedAt: null,
      },
    ],
  };

  it('keeps committed data across close and reopen', async () => {
    const file = tempDatabase();
    const first = new SqliteStore(file);
    const ids = await first.write(async (repo) => {
      await repo.ensurePortal(7, 1_000);
      await repo.savePipeline(7, '0-3', sales);
      await repo.saveStages(7, '0-3', 'sales', sales.stages);
      await repo.appendAudit([
        {
          portalId: 7,
          objectTypeKey: '0-3',
          kind: 'pipeline',
          objectId: 'sales',
          action: 'CREATE',
          message: 'created',
          rawObject: '{}',
          userId: 3,
          timestamp: 1_000,
        },
      ]);
      return repo.allocateIds(7, 2);
    });
    await first.close();

    const second = new SqliteStore(file);
    try {
      await second.read(async (repo) => {
        assert.equal(await repo.portalExists(7), true);
        assert.deepEqual(await repo.getPipeline(7, '0-3', 'sales'), sales);
        assert.equal((await repo.listAudit(7, '0-3', 'pipeline', 'sales')).length, 1);
      });
      assert.equal(await second.write((repo) => repo.ensurePortal(7, 5_000)), false);
      const more = await second.write((repo) => repo.allocateIds(7, 2));
      assert.equal(new Set([...ids, ...more]).size, 4, 'ids allocated before the reopen came back');
    } finally {
      await second.close();
    }
  });

  it('applies each migration once and does not re-run them on reopen', async () => {
    const file = tempDatabase();
    await new SqliteStore(file).close();

    const applied = () => {
      const db = new Database(file, { readonly: true });
      try {
        return db.prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version').all();
      } finally {
        db.close();
      }
    };
    const before = applied();
    const expected = loadMigrations('sqlite');
    assert.ok(expected.length > 0);
    assert.deepEqual(
      before.map((r) => (r as { version: number }).version),
      expected.map((m) => m.version),
    );

    const reopened = new SqliteStore(file);
    await reopened.ping();
    await reopened.close();
    assert.deepEqual(applied(), before);
  });
});
