import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';

import Database from 'better-sqlite3';

import type { Pipeline } from '../../src/domain/model.js';
import { StorageUnavailableError } from '../../src/domain/ports.js';
import type { Repository } from '../../src/domain/ports.js';
import { loadMigrations } from '../../src/storage/migrations.js';
import { Checkpointer } from '../../src/storage/sqlite/checkpointer.js';
import { CHECKPOINT_EVERY, SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import type { OpenOutcome } from './open-store-process.js';
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

  it("keeps a snapshot's view while another connection (another process's) commits", async () => {
    const file = tempDatabase();
    const exporting = new SqliteStore(file);
    const serving = new SqliteStore(file);
    const entry = (objectId: string) => ({
      portalId: 7,
      objectTypeKey: '0-3',
      kind: 'pipeline' as const,
      objectId,
      action: 'CREATE' as const,
      message: 'created',
      rawObject: '{}',
      userId: 3,
      timestamp: 1_000,
    });
    try {
      await serving.write(async (repo) => {
        await repo.ensurePortal(7, 1_000);
        await repo.appendAudit([entry('a'), entry('b')]);
      });
      const seen = await exporting.snapshot(async (repo) => {
        const first = await repo.portalAuditPage(7, 0, 1);
        // WAL mode: the other connection commits while this read transaction is open.
        await serving.write((w) => w.appendAudit([entry('c')]));
        const rest = await repo.portalAuditPage(7, first[0]!.seq, 10);
        return { ids: [...first, ...rest].map((e) => e.entry.objectId), counts: await repo.portalCounts(7) };
      });
      assert.deepEqual(seen, { ids: ['a', 'b'], counts: { records: 0, associations: 0, audit: 2 } });
      assert.equal((await exporting.read((repo) => repo.portalCounts(7))).audit, 3);
    } finally {
      await exporting.close();
      await serving.close();
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

describe('SqliteStore: connections that open one new database file at the same moment', () => {
  const PROCESSES = 4;
  const ROUNDS = 20;

  /** The child's next message; rejects should it exit first. */
  function nextMessage<T>(child: ChildProcess): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const exited = (code: number | null) => reject(new Error(`an opener exited (code ${code})`));
      child.once('exit', exited);
      child.once('message', (message) => {
        child.off('exit', exited);
        resolve(message as T);
      });
    });
  }

  it('switches a new file to WAL while another connection holds its write lock for a moment', async () => {
    const file = tempDatabase();
    // In rollback mode, as a new file is until some connection switches it.
    const holder = new Worker(
      `const Database = require('better-sqlite3');
       const { parentPort, workerData } = require('node:worker_threads');
       const db = new Database(workerData);
       db.exec('BEGIN IMMEDIATE');
       parentPort.postMessage('locked');
       Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
       db.exec('COMMIT');
       db.close();`,
      { eval: true, workerData: file },
    );
    const exited = new Promise((resolve) => holder.once('exit', resolve));
    try {
      await new Promise((resolve, reject) => {
        holder.once('message', resolve);
        holder.once('error', reject);
      });
      const store = new SqliteStore(file);
      try {
        assert.equal(await store.write((repo) => repo.ensurePortal(1, 1_000)), true);
      } finally {
        await store.close();
      }
    } finally {
      await exited;
    }
    const db = new Database(file, { readonly: true });
    try {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    } finally {
      db.close();
    }
  });

  it('all open it from several processes, and each migration is applied once', async () => {
    const script = new URL('./open-store-process.ts', import.meta.url);
    // Their stdout stays out of the test runner's; what they answer comes over IPC.
    const openers = Array.from({ length: PROCESSES }, () =>
      fork(script, { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }),
    );
    try {
      // Started once and reused: each round's openers are all waiting when its file is named.
      await Promise.all(openers.map((child) => nextMessage(child)));
      const expected = loadMigrations('sqlite').map((m) => m.version);
      const failures = new Map<string, number>();
      for (let round = 0; round < ROUNDS; round++) {
        const file = tempDatabase();
        const outcomes = await Promise.all(
          openers.map((child) => {
            const outcome = nextMessage<OpenOutcome>(child);
            child.send(file);
            return outcome;
          }),
        );
        for (const o of outcomes) if (!o.ok) failures.set(o.error, (failures.get(o.error) ?? 0) + 1);
        const db = new Database(file, { readonly: true });
        try {
          const versions = db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all();
          assert.deepEqual(versions, expected);
        } finally {
          db.close();
        }
      }
      assert.deepEqual(Object.fromEntries(failures), {}, `opens that failed, of ${PROCESSES * ROUNDS}`);
    } finally {
      await Promise.all(
        openers.map((child) => {
          if (child.exitCode !== null || child.signalCode !== null) return undefined;
          const exited = new Promise((resolve) => child.once('exit', resolve));
          child.kill();
          return exited;
        }),
      );
    }
  });
});

describe('SqliteStore durability: the write-ahead log is synced before a write is acknowledged', () => {
  /** A sync the test finishes by hand. */
  function manualSync() {
    const calls: { fd: number; finish: (err?: Error) => void }[] = [];
    const syncLog = (fd: number) =>
      new Promise<void>((resolve, reject) =>
        calls.push({ fd, finish: (err) => (err ? reject(err) : resolve()) }),
      );
    return { calls, syncLog };
  }
  const turns = async (n: number) => {
    for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
  };

  it('answers a write only once the sync started after its commit has finished', async () => {
    const { calls, syncLog } = manualSync();
    const store = new SqliteStore(tempDatabase(), { syncLog });
    try {
      let answered = false;
      const writes = Promise.all([1, 2, 3].map((id) => store.write((repo) => repo.ensurePortal(id, 1_000))));
      void writes.then(() => (answered = true));
      await turns(5);
      assert.equal(calls.length, 1, 'three writes in one turn share one commit and one sync');
      assert.equal(answered, false, 'no write is answered before its sync');
      calls[0]!.finish();
      assert.deepEqual(await writes, [true, true, true]);
    } finally {
      const closing = store.close();
      for (const call of calls) call.finish();
      await closing;
    }
  });

  it('runs the next writes while a sync runs, and commits and syncs them together once it ends', async () => {
    const { calls, syncLog } = manualSync();
    const file = tempDatabase();
    const store = new SqliteStore(file, { syncLog });
    // Another connection sees only what is committed.
    const other = new Database(file, { readonly: true });
    const committed = (id: number) =>
      other.prepare('SELECT 1 FROM portals WHERE id = ?').get(id) !== undefined;
    try {
      const answered: number[] = [];
      const write = (id: number) =>
        store.write((repo) => repo.ensurePortal(id, 1_000)).then((v) => (answered.push(id), v));
      const first = write(1);
      await turns(3);
      assert.equal(committed(1), true, 'the first write commits at once: no sync was running');
      const second = write(2);
      await turns(3);
      const third = write(3);
      await turns(3);
      assert.equal(calls.length, 1, 'one sync at a time');
      assert.deepEqual(
        await store.read(async (repo) => [await repo.portalExists(2), await repo.portalExists(3)]),
        [true, true],
        'the later writes ran without waiting for the first sync, and the store reads them',
      );
      assert.deepEqual([committed(2), committed(3)], [false, false], 'they commit only when it ends');
      calls[0]!.finish();
      await first;
      await turns(3);
      assert.deepEqual([committed(2), committed(3)], [true, true], 'committed together after the sync');
      assert.deepEqual(answered, [1], 'the later writes wait for a sync that started after their commit');
      assert.equal(calls.length, 2, 'the writes run during the first sync share the second');
      calls[1]!.finish();
      assert.deepEqual(await Promise.all([first, second, third]), [true, true, true]);
      assert.equal(calls.length, 2);
    } finally {
      other.close();
      const closing = store.close();
      for (const call of calls) call.finish();
      await closing;
    }
  });

  it('fails the write and then every request when a sync fails, as the data may not be on disk', async () => {
    const { calls, syncLog } = manualSync();
    const file = tempDatabase();
    const store = new SqliteStore(file, { syncLog });
    try {
      const write = store.write((repo) => repo.ensurePortal(1, 1_000));
      await turns(3);
      const waiting = store.write((repo) => repo.ensurePortal(3, 1_000));
      await turns(3);
      calls[0]!.finish(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
      await assert.rejects(write, StorageUnavailableError);
      // Run while the failed sync ran, so it was waiting for the next one: never answered ok,
      // and rolled back rather than committed.
      await assert.rejects(waiting, StorageUnavailableError);
      const other = new Database(file, { readonly: true });
      try {
        assert.equal(other.prepare('SELECT 1 FROM portals WHERE id = 3').get(), undefined);
      } finally {
        other.close();
      }
      assert.equal(calls.length, 1, 'no sync is attempted after a failed one');
      await assert.rejects(
        store.write((repo) => repo.ensurePortal(2, 1_000)),
        StorageUnavailableError,
      );
      await assert.rejects(
        store.read((repo) => repo.portalExists(1)),
        StorageUnavailableError,
      );
      await assert.rejects(store.ping(), StorageUnavailableError);
    } finally {
      await store.close();
    }
  });

  it('lets another connection write while it is under constant write load', async () => {
    const file = tempDatabase();
    const store = new SqliteStore(file);
    let running = true;
    let written = 0;
    // Ten writers that never pause: the store holds its transaction open through every sync.
    const writers = Array.from({ length: 10 }, async (_, w) => {
      for (let i = 0; running; i++) {
        await store.write((repo) => repo.ensurePortal(1_000 + ((w * 100_000 + i) % 1_000_000), 1));
        written++;
      }
    });
    try {
      while (written < 200) await new Promise((resolve) => setTimeout(resolve, 5));
      const atStart = written;
      // An admin command: another connection in another thread (its busy wait blocks that thread).
      const admin = new Worker(
        `const Database = require('better-sqlite3');
         const { parentPort, workerData } = require('node:worker_threads');
         const db = new Database(workerData, { timeout: 5000 });
         const started = Date.now();
         try {
           db.prepare('INSERT INTO portals (id, next_id, created_at) VALUES (7, 1, 1)').run();
           parentPort.postMessage({ ok: true, ms: Date.now() - started });
         } catch (err) {
           parentPort.postMessage({ ok: false, error: String(err) });
         } finally {
           db.close();
         }`,
        { eval: true, workerData: file },
      );
      const outcome = await new Promise<{ ok: boolean; error?: string }>((resolve, reject) => {
        admin.once('message', resolve);
        admin.once('error', reject);
      });
      assert.equal(outcome.ok, true, outcome.error);
      assert.ok(written > atStart, 'the load went on while the other connection wrote');
      running = false;
      await Promise.all(writers);
      // The store sees the other connection's row.
      assert.equal(await store.read((repo) => repo.portalExists(7)), true);
    } finally {
      running = false;
      await Promise.all(writers);
      await store.close();
    }
  });

  it('holds writes, not reads, while a checkpoint runs', async () => {
    const checkpoints: (() => void)[] = [];
    const file = tempDatabase();
    const store = new SqliteStore(file, {
      syncLog: async () => undefined,
      checkpoint: () => new Promise<void>((resolve) => checkpoints.push(resolve)),
    });
    const other = new Database(file, { readonly: true });
    try {
      for (let i = 1; i <= CHECKPOINT_EVERY; i++) await store.write((repo) => repo.ensurePortal(i, i));
      assert.equal(checkpoints.length, 1, `one checkpoint after ${CHECKPOINT_EVERY} commits`);
      const held = store.write((repo) => repo.ensurePortal(100_000, 1));
      await turns(5);
      assert.equal(await store.read((repo) => repo.portalExists(1)), true, 'reads go on');
      assert.equal(other.prepare('SELECT 1 FROM portals WHERE id = 100000').get(), undefined);
      checkpoints[0]!();
      assert.equal(await held, true, 'the write runs once the checkpoint is over');
      assert.notEqual(other.prepare('SELECT 1 FROM portals WHERE id = 100000').get(), undefined);
    } finally {
      other.close();
      const closing = store.close();
      for (const finish of checkpoints) finish();
      await closing;
    }
  });

  it('checkpoints the log itself, so it is reused instead of growing, and keeps every write', async () => {
    const file = tempDatabase();
    const store = new SqliteStore(file);
    const writes = 500;
    for (let i = 1; i <= writes; i++) await store.write((repo) => repo.ensurePortal(i, i));
    // Each batch appends at least one 4 KiB page; without checkpoints the log would hold them all.
    assert.ok(
      statSync(`${file}-wal`).size < writes * 4096,
      `the log holds ${statSync(`${file}-wal`).size} bytes after ${writes} batches`,
    );
    await store.close();
    const reopened = new SqliteStore(file);
    try {
      const portals = await reopened.read((repo) => repo.listPortals());
      assert.equal(portals.length, writes);
    } finally {
      await reopened.close();
    }
  });
});

describe('SqliteStore: the live pipelines it keeps between requests stay exact', () => {
  const stage = (id: string, label: string, createdAt = 1_000) => ({
    id,
    label,
    displayOrder: 0,
    metadata: { probability: '0.5' },
    writePermissions: 'CRM_PERMISSIONS_ENFORCEMENT' as const,
    createdAt,
    updatedAt: createdAt,
    archivedAt: null,
  });
  const pipeline: Pipeline = {
    id: 'p1',
    label: 'Pipeline',
    displayOrder: 0,
    createdAt: 1_000,
    updatedAt: 1_000,
    archivedAt: null,
    stages: [stage('a', 'A'), stage('b', 'B')],
  };
  const live = (repo: Repository) => repo.getPipeline(7, '0-3', 'p1', { archivedStages: false });

  async function seeded(file = tempDatabase()) {
    const store = new SqliteStore(file);
    await store.write(async (repo) => {
      await repo.ensurePortal(7, 1_000);
      await repo.savePipeline(7, '0-3', pipeline);
      await repo.saveStages(7, '0-3', 'p1', pipeline.stages);
    });
    return store;
  }

  it('forgets what a write rolled back, for the next write of the same batch', async () => {
    const store = await seeded();
    try {
      await store.read(live); // warm: the pipeline is now kept
      const failing = store.write(async (repo) => {
        await live(repo);
        await repo.saveStages(7, '0-3', 'p1', [stage('a', 'Renamed')]);
        assert.equal((await live(repo))!.stages.find((s) => s.id === 'a')!.label, 'Renamed');
        throw new Error('refused after saving');
      });
      const next = store.write(async (repo) => (await live(repo))!.stages.find((s) => s.id === 'a')!.label);
      await assert.rejects(failing, /refused after saving/);
      assert.equal(await next, 'A');
    } finally {
      await store.close();
    }
  });

  it('sees what another connection committed', async () => {
    const file = tempDatabase();
    const mine = await seeded(file);
    const other = new SqliteStore(file);
    try {
      assert.equal((await mine.read(live))!.label, 'Pipeline');
      await other.write((repo) => repo.saveStages(7, '0-3', 'p1', [stage('b', 'Changed elsewhere')]));
      const seenByRead = await mine.read(live);
      assert.equal(seenByRead!.stages.find((s) => s.id === 'b')!.label, 'Changed elsewhere');
      await other.write((repo) =>
        repo.saveStages(7, '0-3', 'p1', [{ ...stage('b', 'B'), archivedAt: 2_000 }]),
      );
      const seenByWrite = await mine.write(live);
      assert.deepEqual(
        seenByWrite!.stages.map((s) => s.id),
        ['a'],
      );
    } finally {
      await other.close();
      await mine.close();
    }
  });

  it('holds what is stored: an update keeps the stored createdAt, an archived stage leaves', async () => {
    const file = tempDatabase();
    const store = await seeded(file);
    try {
      await store.read(live);
      await store.write((repo) =>
        repo.saveStages(7, '0-3', 'p1', [stage('a', 'A2', 5_000), stage('c', 'C', 6_000)]),
      );
      await store.write((repo) =>
        repo.saveStages(7, '0-3', 'p1', [{ ...stage('b', 'B'), archivedAt: 7_000 }]),
      );
      const kept = await store.read(live);
      const fresh = new SqliteStore(file);
      try {
        const stored = await fresh.read(live);
        const byId = (p: Pipeline | undefined) => [...p!.stages].sort((x, y) => x.id.localeCompare(y.id));
        assert.deepEqual(byId(kept), byId(stored));
        assert.equal(byId(kept)[0]!.createdAt, 1_000);
      } finally {
        await fresh.close();
      }
    } finally {
      await store.close();
    }
  });

  it('hands out frozen pipelines, so no caller can change what the next one reads', async () => {
    const store = await seeded();
    try {
      const p = (await store.read(live))!;
      assert.ok(Object.isFrozen(p) && Object.isFrozen(p.stages) && Object.isFrozen(p.stages[0]));
      assert.throws(() => (p.stages as Pipeline['stages'][number][]).push(stage('x', 'X')), TypeError);
    } finally {
      await store.close();
    }
  });
});

describe('Checkpointer: copies the log into the database file from a worker thread', () => {
  /** A WAL database whose log holds 200 rows that the database file does not have yet. */
  function withLog() {
    const file = tempDatabase();
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('wal_autocheckpoint = 0');
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    for (let i = 0; i < 200; i++) insert.run('x'.repeat(500));
    return { file, db };
  }

  it("checkpoints in the worker, not on the caller's connection", async () => {
    const { file, db } = withLog();
    let here = 0;
    const checkpointer = new Checkpointer(file, async () => void here++);
    try {
      const before = statSync(file).size;
      await checkpointer.checkpoint();
      assert.ok(statSync(file).size > before + 50_000, 'the rows are now in the database file');
      assert.equal(here, 0);
    } finally {
      await checkpointer.close();
      db.close();
    }
  });

  // Writes wait for every checkpoint: one that never settled would hold them forever.
  const failingWorkers = [
    ['fails', "throw new Error('the worker cannot start')"],
    [
      'exits without an error',
      "require('node:worker_threads').parentPort.on('message', () => process.exit(0));",
    ],
  ];
  for (const [how, source] of failingWorkers) {
    it(`checkpoints on the caller's connection when the worker ${how}`, async () => {
      const { file, db } = withLog();
      let here = 0;
      const checkpointer = new Checkpointer(file, async () => void here++, source);
      try {
        await checkpointer.checkpoint();
        assert.equal(here, 1);
        await checkpointer.checkpoint();
        assert.equal(here, 2, 'and from then on');
      } finally {
        await checkpointer.close();
        db.close();
      }
    });
  }
});
