import { closeSync, fdatasync, openSync } from 'node:fs';

import Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import { ExternalChanges } from '../../domain/external-changes.js';
import type { Metadata } from '../../domain/metadata.js';
import type { AuditEntry, AuditKind, Pipeline, Stage, WritePermission } from '../../domain/model.js';
import { labelKey } from '../../domain/pipeline-rules.js';
import { StorageUnavailableError } from '../../domain/ports.js';
import type { PortalRecord, Repository, Store, TokenRecord } from '../../domain/ports.js';
import type { CrmRecord } from '../../domain/records.js';
import { loadMigrations } from '../migrations.js';
import { Mutex } from '../mutex.js';
import { Checkpointer } from './checkpointer.js';
import { PipelineCache } from './pipeline-cache.js';
import {
  groupPipelines,
  groupTypedPipelines,
  toAudit,
  toPortal,
  toRecord,
  toStage,
  toToken,
} from '../rows.js';
import type {
  AuditRow,
  PipelineStageRow,
  PortalRow,
  RecordRow,
  StageRow,
  TokenRow,
  TypedPipelineStageRow,
} from '../rows.js';

/** First generated id of every portal: HubSpot's generated ids are long numeric strings. */
const FIRST_GENERATED_ID = 100_000_001;

/** Pipelines joined with their stages: every stage, or through the partial index, the live ones. */
const pipelinesWithStages = (live: boolean) => `
  SELECT p.id AS p_id, p.label AS p_label, p.display_order AS p_display_order,
         p.created_at AS p_created_at, p.updated_at AS p_updated_at, p.archived_at AS p_archived_at,
         s.id, s.label, s.display_order, s.metadata, s.write_permissions,
         s.created_at, s.updated_at, s.archived_at
  FROM pipelines p
  LEFT JOIN stages s ${live ? 'INDEXED BY stages_live_by_pipeline' : ''}
    ON s.portal_id = p.portal_id AND s.object_type = p.object_type AND s.pipeline_id = p.id
   ${live ? 'AND s.archived_at IS NULL' : ''}`;
const PIPELINE_WITH_STAGES = pipelinesWithStages(false);
const PIPELINE_WITH_LIVE_STAGES = pipelinesWithStages(true);

/** How long a statement waits for another connection's lock before failing with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

/** Most writes run in one go, so that reads and requests get a turn in between. */
const MAX_GROUP = 64;

/** Commits between two checkpoints of the write-ahead log into the database file. */
export const CHECKPOINT_EVERY = 200;

/** Live pipelines the repository keeps at hand (about 3 KB each with ten stages). */
const CACHED_PIPELINES = 10_000;

interface PendingWrite {
  work: (repo: Repository) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
}

interface Outcome {
  ok: boolean;
  value: unknown;
}

function settle(writes: readonly [PendingWrite, Outcome][]): void {
  for (const [item, outcome] of writes) {
    if (outcome.ok) item.resolve(outcome.value);
    else item.reject(outcome.value);
  }
}

export interface SqliteStoreOptions {
  /**
   * Makes what the write-ahead log holds durable: `fdatasync` in libuv's thread pool unless
   * given. Tests pass a slow or failing one.
   */
  readonly syncLog?: (fd: number) => Promise<void>;
  /**
   * Copies the log into the database file (resolves, never rejects, when it is over): a
   * worker thread's connection unless given. Tests pass one they finish by hand.
   */
  readonly checkpoint?: () => Promise<void>;
}

const fdatasyncInPool = (fd: number) =>
  new Promise<void>((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));

/**
 * SQLite through better-sqlite3: one connection, WAL, statements prepared once.
 *
 * Durability without blocking the event loop: on a file database SQLite commits with
 * `synchronous = OFF` and this class then calls `fdatasync` on the WAL file in the thread pool;
 * a write is acknowledged only once that sync (started after its commit) has finished. While
 * it runs, the event loop parses the next requests and runs their writes, which commit when it
 * ends. SQLite's own checkpoints are switched off because with `synchronous = OFF` they would
 * not sync the database file before the log is reused; instead a worker thread with its own
 * connection checkpoints every CHECKPOINT_EVERY commits with `synchronous = FULL`, which syncs
 * the log before copying it and the database file after. A read may see a write whose sync has
 * not finished yet; no one has been told that write succeeded yet.
 */
export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly lock = new Mutex();
  private readonly repo: SqliteRepository;
  private readonly begin: Statement;
  private readonly beginRead: Statement;
  private readonly commit: Statement;
  private readonly rollback: Statement;
  private readonly dataVersion: Statement;
  private readonly savepoint: Statement;
  private readonly release: Statement;
  private readonly rollbackToSavepoint: Statement;
  private readonly pending: PendingWrite[] = [];
  private readonly settling = new Set<Promise<void>>();
  /** The write transaction begun and not yet committed, with the outcomes of the writes in it. */
  private open: [PendingWrite, Outcome][] | undefined;
  /** A sync of the log is running; what commits meanwhile waits for the next one. */
  private syncing = false;
  private readonly syncLog: (fd: number) => Promise<void>;
  /** The WAL file, synced after each commit; undefined when SQLite syncs by itself (memory). */
  private readonly walFd: number | undefined;
  /** Copies the log into the database file now and then, from a worker thread (files only). */
  private readonly checkpointer: Pick<Checkpointer, 'checkpoint' | 'close'> | undefined;
  private checkpointing = false;
  private commitsSinceCheckpoint = 0;
  /** Another connection's commits, checked at the start of every transaction. */
  private readonly external: ExternalChanges;
  /** Set when a sync failed: what the database holds may not be on disk, so nothing is served. */
  private failure: Error | undefined;

  constructor(filename: string, options: SqliteStoreOptions = {}) {
    // The busy timeout is set as the connection opens, before anything that takes a lock.
    this.db = new Database(filename, { timeout: BUSY_TIMEOUT_MS });
    const mode = switchToWal(this.db);
    // FULL while migrating and closing; ordinary commits are synced as described above.
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    migrate(this.db);
    this.syncLog = options.syncLog ?? fdatasyncInPool;
    this.walFd = mode === 'wal' ? openSync(`${this.db.name}-wal`, 'r') : undefined;
    if (this.walFd !== undefined) {
      this.db.pragma('wal_autocheckpoint = 0');
      this.db.pragma('synchronous = OFF');
      const { checkpoint } = options;
      this.checkpointer =
        checkpoint === undefined
          ? new Checkpointer(this.db.name, () => this.lock.run(async () => this.checkpointHere()))
          : { checkpoint, close: async () => undefined };
    }
    this.repo = new SqliteRepository(this.db, new PipelineCache(CACHED_PIPELINES));
    this.begin = this.db.prepare('BEGIN IMMEDIATE');
    this.beginRead = this.db.prepare('BEGIN');
    this.commit = this.db.prepare('COMMIT');
    this.rollback = this.db.prepare('ROLLBACK');
    this.dataVersion = this.db.prepare('PRAGMA data_version').pluck();
    this.savepoint = this.db.prepare('SAVEPOINT write');
    this.release = this.db.prepare('RELEASE write');
    this.rollbackToSavepoint = this.db.prepare('ROLLBACK TO write');
    this.external = new ExternalChanges(this.externalVersion, 0);
  }

  /** Inside a transaction: what the repository caches goes if another connection committed. */
  private checkExternalCommits(): void {
    if (this.external.changed()) this.repo.cache.clear();
  }

  /**
   * Group commit: writes that arrive while the event loop is busy are run one after another,
   * each in its own savepoint, inside one transaction with one sync. A write whose work fails
   * is rolled back to its savepoint alone; every write is acknowledged only after the sync.
   *
   * While a sync runs, the transaction stays open: writes that arrive meanwhile run in it at
   * once and commit together when the sync ends, which starts the next sync. Under load that
   * is one BEGIN, one COMMIT and one sync for everything that arrived during a sync.
   */
  write<T>(work: (repo: Repository) => Promise<T>): Promise<T> {
    if (this.failure !== undefined) return Promise.reject(this.unavailable());
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (this.pending.length === 1) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    this.track(this.lock.run(() => this.runPending()));
  }

  /** Keeps what is still to settle, so that closing can wait for it. */
  private track(work: Promise<void>): void {
    this.settling.add(work);
    void work.finally(() => this.settling.delete(work));
  }

  /** Runs the next writes in the open transaction (begun if need be); commits unless a sync runs. */
  private async runPending(): Promise<void> {
    if (this.checkpointing && this.open === undefined) return; // flushed once it is over
    const batch = this.pending.splice(0, MAX_GROUP);
    if (this.pending.length > 0) setImmediate(() => this.flush());
    if (batch.length === 0) return;
    try {
      if (this.failure !== undefined) throw this.unavailable();
      if (this.open === undefined) {
        this.begin.run();
        this.open = [];
        this.checkExternalCommits();
      }
      const cache = this.repo.cache;
      for (const item of batch) {
        this.savepoint.run();
        cache.beginSavepoint();
        try {
          const value = await item.work(this.repo);
          this.release.run();
          cache.releaseSavepoint();
          this.open.push([item, { ok: true, value }]);
        } catch (err) {
          this.rollbackToSavepoint.run();
          this.release.run();
          cache.rollbackSavepoint();
          this.open.push([item, { ok: false, value: err }]);
        }
      }
    } catch (err) {
      this.abortOpen(err, batch);
      return;
    }
    if (!this.syncing) this.commitOpen();
  }

  /** Rolls the open transaction back: its writes, and those given, fail with `err`. */
  private abortOpen(err: unknown, others: readonly PendingWrite[] = []): void {
    if (this.db.inTransaction) this.rollback.run();
    this.repo.cache.clear();
    for (const [item] of this.open ?? []) item.reject(err);
    for (const item of others) item.reject(err);
    this.open = undefined;
  }

  /** Commits the open transaction (the lock is held, no write is half done) and syncs it. */
  private commitOpen(): void {
    const committed = this.open ?? [];
    try {
      this.commit.run();
    } catch (err) {
      this.abortOpen(err);
      return;
    }
    this.open = undefined;
    if (this.walFd === undefined) {
      settle(committed);
      return;
    }
    // After the commit, outside its error handling: the writes are committed whatever happens here.
    if (++this.commitsSinceCheckpoint >= CHECKPOINT_EVERY) this.startCheckpoint();
    this.syncing = true;
    this.track(
      this.syncLog(this.walFd).then(
        () => {
          this.syncing = false;
          settle(committed);
          return this.afterSync();
        },
        (err: unknown) => {
          // As PostgreSQL does after a failed fsync: the data's fate on disk is unknown, so stop.
          this.failure ??= err instanceof Error ? err : new Error(String(err));
          this.syncing = false;
          for (const [item] of committed) item.reject(this.unavailable());
          return this.afterSync();
        },
      ),
    );
  }

  /**
   * Writes wait while a checkpoint runs (reads do not): a checkpoint that a commit overtakes
   * cannot copy the whole log, and the log is started over only after one that did.
   */
  private startCheckpoint(): void {
    this.commitsSinceCheckpoint = 0;
    this.checkpointing = true;
    this.track(
      this.checkpointer!.checkpoint().then(() => {
        this.checkpointing = false;
        if (this.pending.length > 0) this.flush();
      }),
    );
  }

  /** What ran during the sync commits now (or, after a failed sync, is rolled back). */
  private afterSync(): Promise<void> | undefined {
    if (this.open === undefined) return undefined;
    return this.lock.run(async () => {
      if (this.open === undefined || this.syncing) return;
      if (this.failure !== undefined) this.abortOpen(this.unavailable());
      else this.commitOpen();
    });
  }

  /**
   * The fallback should the checkpointer's worker fail: the same checkpoint on this connection
   * (the lock is held, no transaction), with the event loop standing still through it. Its
   * failure loses nothing either.
   */
  private checkpointHere(): void {
    try {
      this.db.pragma('synchronous = FULL');
      this.db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // retried after CHECKPOINT_EVERY more commits
    } finally {
      this.db.pragma('synchronous = OFF');
    }
  }

  private unavailable(): StorageUnavailableError {
    return new StorageUnavailableError('The database could not make a write durable; restart the server', {
      cause: this.failure,
    });
  }

  /** SQLite's data_version changes when another connection (another process) commits. */
  readonly externalVersion = (): number => this.dataVersion.get() as number;

  /** One read transaction around the work: its queries share one snapshot and one lock. */
  read<T>(work: (repo: Repository) => Promise<T>): Promise<T> {
    if (this.failure !== undefined) return Promise.reject(this.unavailable());
    return this.lock.run(async () => {
      // Inside the write transaction a sync keeps open: it sees the writes in it, as a read
      // may already see a commit whose sync is still running.
      if (this.open !== undefined) return work(this.repo);
      this.beginRead.run();
      try {
        this.checkExternalCommits();
        return await work(this.repo);
      } finally {
        this.commit.run();
      }
    });
  }

  async ping(): Promise<void> {
    if (this.failure !== undefined) throw this.unavailable();
    this.db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    // Writes already accepted are committed, synced and answered before the database closes.
    while (this.pending.length > 0 || this.settling.size > 0) {
      if (this.pending.length > 0) this.flush();
      await Promise.all(this.settling);
    }
    await this.lock.run(async () => {
      if (!this.db.open) return;
      // The last connection to close checkpoints the log into the database file (and deletes
      // it): this one, with full syncs, like every checkpoint.
      await this.checkpointer?.close();
      if (this.walFd !== undefined) {
        this.db.pragma('synchronous = FULL');
        closeSync(this.walFd);
      }
      this.db.close();
    });
  }
}

/**
 * Sets WAL mode; returns the journal mode now in force ('memory' for an in-memory database).
 *
 * Switching a new file takes a read lock and then upgrades it to write the header. SQLite fails
 * that upgrade at once, busy timeout or not, when another connection holds a write lock meanwhile
 * (another process switching the same new file, say), as waiting in a read transaction could
 * deadlock. No lock is held between attempts, so retrying until the busy timeout is safe, and
 * finds the file in WAL mode once the other connection has switched it.
 */
function switchToWal(db: Database.Database): string {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      return db.pragma('journal_mode = WAL', { simple: true }) as string;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      const busy = typeof code === 'string' && code.startsWith('SQLITE_BUSY');
      if (!busy || Date.now() >= deadline) throw err;
      Atomics.wait(pause, 0, 0, 5); // the constructor is synchronous, as the busy timeout's waits are
    }
  }
}

/**
 * Applies the migrations not yet applied, each in its own write transaction. Safe when several
 * processes open one new file together: whether a migration is applied is decided under the
 * write lock that applies it, so a second opener waits for the first and then skips it.
 */
function migrate(db: Database.Database): void {
  // An autocommit write: it waits for the write lock, and if another connection created the
  // table meanwhile SQLite prepares it again and it does nothing.
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
  const isApplied = db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?').pluck();
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const m of loadMigrations('sqlite')) {
    // A migration once applied stays applied: skipping it needs no lock, so opening a database
    // that is up to date takes no write lock.
    if (isApplied.get(m.version) !== undefined) continue;
    db.transaction(() => {
      if (isApplied.get(m.version) !== undefined) return; // applied by another connection meanwhile
      db.exec(m.sql);
      record.run(m.version, m.name, Date.now());
    }).immediate();
  }
}

class SqliteRepository implements Repository {
  private readonly s;

  constructor(
    db: Database.Database,
    readonly cache: PipelineCache,
  ) {
    this.s = {
      insertPortal: db.prepare(
        'INSERT INTO portals (id, next_id, created_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING',
      ),
      portalExists: db.prepare('SELECT 1 FROM portals WHERE id = ?').pluck(),
      // No RETURNING on hot writes: SQLite builds a temporary table for it (about 3 µs here).
      reserveIds: db.prepare('UPDATE portals SET next_id = next_id + ? WHERE id = ?'),
      nextId: db.prepare('SELECT next_id FROM portals WHERE id = ?').pluck(),
      idUsed: db
        .prepare(
          `SELECT EXISTS (SELECT 1 FROM pipelines WHERE portal_id = @portalId AND id = @id)
               OR EXISTS (SELECT 1 FROM stages WHERE portal_id = @portalId AND id = @id)`,
        )
        .pluck(),
      listPipelines: db.prepare(
        `${PIPELINE_WITH_LIVE_STAGES} WHERE p.portal_id = ? AND p.object_type = ? AND p.archived_at IS NULL ORDER BY p.id`,
      ),
      getPipeline: db.prepare(
        `${PIPELINE_WITH_STAGES} WHERE p.portal_id = ? AND p.object_type = ? AND p.id = ?`,
      ),
      pipelineRow: db.prepare(
        `SELECT id, label, display_order, created_at, updated_at, archived_at FROM pipelines
         WHERE portal_id = ? AND object_type = ? AND id = ?`,
      ),
      // Column order is LIVE_STAGE_COLUMNS: rows come back as arrays, the cheapest to read.
      liveStages: db
        .prepare(
          `SELECT id, label, display_order, metadata, write_permissions, created_at, updated_at
           FROM stages INDEXED BY stages_live_by_pipeline
           WHERE portal_id = ? AND object_type = ? AND pipeline_id = ? AND archived_at IS NULL`,
        )
        .raw(true),
      findStage: db.prepare('SELECT * FROM stages WHERE portal_id = ? AND object_type = ? AND id = ?'),
      livePipelineByLabel: db
        .prepare(
          'SELECT id FROM pipelines WHERE portal_id = ? AND object_type = ? AND label_key = ? AND archived_at IS NULL',
        )
        .pluck(),
      pipelineIdExists: db
        .prepare('SELECT 1 FROM pipelines WHERE portal_id = ? AND object_type = ? AND id = ?')
        .pluck(),
      stageIdExists: db
        .prepare('SELECT 1 FROM stages WHERE portal_id = ? AND object_type = ? AND id = ?')
        .pluck(),
      savePipeline: db.prepare(
        `INSERT INTO pipelines (portal_id, object_type, id, label, label_key, display_order, created_at, updated_at, archived_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (portal_id, object_type, id) DO UPDATE SET
           label = excluded.label, label_key = excluded.label_key, display_order = excluded.display_order,
           updated_at = excluded.updated_at, archived_at = excluded.archived_at`,
      ),
      // An update keeps the stored created_at. It changes nothing (0 rows) when the stage is in
      // another pipeline or was created at another time than given: saveStages then looks.
      // No RETURNING: SQLite builds a temporary table for it, which cost 6–10 µs a stage here.
      saveStage: db.prepare(
        `INSERT INTO stages (portal_id, object_type, id, pipeline_id, label, display_order, metadata,
                             write_permissions, created_at, updated_at, archived_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (portal_id, object_type, id) DO UPDATE SET
           label = excluded.label, display_order = excluded.display_order, metadata = excluded.metadata,
           write_permissions = excluded.write_permissions, updated_at = excluded.updated_at,
           archived_at = excluded.archived_at
         WHERE stages.pipeline_id = excluded.pipeline_id AND stages.created_at = excluded.created_at`,
      ),
      appendAudit: db.prepare(
        `INSERT INTO audit (portal_id, object_type, kind, object_id, action, message, raw_object, user_id, ts)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      listAudit: db.prepare(
        `SELECT * FROM audit WHERE portal_id = ? AND object_type = ? AND kind = ? AND object_id = ? ORDER BY seq DESC`,
      ),
      saveRecord: db.prepare(
        `INSERT INTO records (portal_id, object_type, id, pipeline_id, stage_id, properties, created_at, updated_at, archived_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (portal_id, object_type, id) DO UPDATE SET
           pipeline_id = excluded.pipeline_id, stage_id = excluded.stage_id, properties = excluded.properties,
           updated_at = excluded.updated_at, archived_at = excluded.archived_at`,
      ),
      getRecord: db.prepare('SELECT * FROM records WHERE portal_id = ? AND object_type = ? AND id = ?'),
      listLiveRecords: db.prepare(
        `SELECT * FROM records WHERE portal_id = ? AND object_type = ? AND id > ? AND archived_at IS NULL
         ORDER BY id LIMIT ?`,
      ),
      listArchivedRecords: db.prepare(
        `SELECT * FROM records WHERE portal_id = ? AND object_type = ? AND id > ? AND archived_at IS NOT NULL
         ORDER BY id LIMIT ?`,
      ),
      liveRecords: db.prepare(
        'SELECT * FROM records WHERE portal_id = ? AND object_type = ? AND archived_at IS NULL ORDER BY id',
      ),
      usedStages: db
        .prepare(
          `SELECT DISTINCT stage_id FROM records
           WHERE portal_id = ? AND object_type = ? AND archived_at IS NULL
             AND stage_id IN (SELECT value FROM json_each(?))`,
        )
        .pluck(),
      // Without INDEXED BY the planner walks every record of the type in id order (0.5 ms for
      // 5,000 records); with it, only the records of the stages asked about, then sorts them.
      recordsInStages: db
        .prepare(
          `SELECT id FROM records INDEXED BY records_live_by_stage
           WHERE portal_id = ? AND object_type = ? AND archived_at IS NULL
             AND stage_id IN (SELECT value FROM json_each(?))
           ORDER BY id LIMIT ?`,
        )
        .pluck(),
      listPortals: db.prepare('SELECT id, next_id, created_at FROM portals ORDER BY id'),
      putPortal: db.prepare(
        `INSERT INTO portals (id, next_id, created_at) VALUES (?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET next_id = max(next_id, excluded.next_id)`,
      ),
      portalPipelines: db.prepare(
        `${PIPELINE_WITH_STAGES.replace('SELECT ', 'SELECT p.object_type AS p_object_type, ')}
         WHERE p.portal_id = ? ORDER BY p.object_type, p.id`,
      ),
      portalRecords: db.prepare('SELECT * FROM records WHERE portal_id = ? ORDER BY object_type, id'),
      portalAudit: db.prepare('SELECT * FROM audit WHERE portal_id = ? ORDER BY seq'),
      insertToken: db.prepare(
        `INSERT INTO tokens (id, hash, portal_id, user_id, scopes, created_at, revoked_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      tokenByHash: db.prepare('SELECT * FROM tokens WHERE hash = ?'),
      listTokens: db.prepare('SELECT * FROM tokens ORDER BY created_at, id'),
      revokeToken: db.prepare('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
      countTokens: db.prepare('SELECT count(*) FROM tokens').pluck(),
    };
  }

  async ensurePortal(portalId: number, now: number): Promise<boolean> {
    return this.s.insertPortal.run(portalId, FIRST_GENERATED_ID, now).changes === 1;
  }

  async portalExists(portalId: number): Promise<boolean> {
    return this.s.portalExists.get(portalId) !== undefined;
  }

  async allocateIds(portalId: number, count: number): Promise<string[]> {
    const ids: string[] = [];
    while (ids.length < count) {
      // Reserve what is still missing; numbers a client already chose as ids are skipped.
      const wanted = count - ids.length;
      if (this.s.reserveIds.run(wanted, portalId).changes === 0) {
        throw new Error(`portal ${portalId} does not exist`);
      }
      const end = this.s.nextId.get(portalId) as number;
      for (let n = end - wanted; n < end; n++) {
        const id = String(n);
        if (this.s.idUsed.get({ portalId, id }) === 0) ids.push(id);
      }
    }
    return ids;
  }

  async listPipelines(portalId: number, typeKey: string): Promise<Pipeline[]> {
    return groupPipelines(this.s.listPipelines.all(portalId, typeKey) as PipelineStageRow[]);
  }

  async getPipeline(
    portalId: number,
    typeKey: string,
    pipelineId: string,
    options: { archivedStages?: boolean } = {},
  ): Promise<Pipeline | undefined> {
    if (options.archivedStages !== false) {
      return groupPipelines(this.s.getPipeline.all(portalId, typeKey, pipelineId) as PipelineStageRow[])[0];
    }
    // The path of every write: from the cache, or two small queries with stages read as arrays.
    const key = PipelineCache.key(portalId, typeKey, pipelineId);
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;
    const p = this.s.pipelineRow.get(portalId, typeKey, pipelineId) as
      | {
          id: string;
          label: string;
          display_order: number;
          created_at: number;
          updated_at: number;
          archived_at: number | null;
        }
      | undefined;
    if (p === undefined) return undefined;
    const rows = this.s.liveStages.all(portalId, typeKey, pipelineId) as [
      string,
      string,
      number,
      string,
      string,
      number,
      number,
    ][];
    return this.cache.set(key, {
      id: p.id,
      label: p.label,
      displayOrder: p.display_order,
      createdAt: p.created_at,
      updatedAt: p.updated_at,
      archivedAt: p.archived_at,
      stages: rows.map(([id, label, displayOrder, metadata, writePermissions, createdAt, updatedAt]) => ({
        id,
        label,
        displayOrder,
        metadata: JSON.parse(metadata) as Metadata,
        writePermissions: writePermissions as WritePermission,
        createdAt,
        updatedAt,
        archivedAt: null,
      })),
    });
  }

  async findStage(portalId: number, typeKey: string, stageId: string) {
    const row = this.s.findStage.get(portalId, typeKey, stageId) as StageRow | undefined;
    return row === undefined ? undefined : { pipelineId: row.pipeline_id, stage: toStage(row) };
  }

  async findLivePipelineByLabel(portalId: number, typeKey: string, key: string): Promise<string | undefined> {
    return this.s.livePipelineByLabel.get(portalId, typeKey, key) as string | undefined;
  }

  async pipelineIdExists(portalId: number, typeKey: string, pipelineId: string): Promise<boolean> {
    return this.s.pipelineIdExists.get(portalId, typeKey, pipelineId) !== undefined;
  }

  async stageIdExists(portalId: number, typeKey: string, stageId: string): Promise<boolean> {
    return this.s.stageIdExists.get(portalId, typeKey, stageId) !== undefined;
  }

  async savePipeline(portalId: number, typeKey: string, p: Pipeline): Promise<void> {
    this.cache.drop(PipelineCache.key(portalId, typeKey, p.id));
    this.s.savePipeline.run(
      portalId,
      typeKey,
      p.id,
      p.label,
      labelKey(p.label),
      p.displayOrder,
      p.createdAt,
      p.updatedAt,
      p.archivedAt,
    );
  }

  async saveStages(
    portalId: number,
    typeKey: string,
    pipelineId: string,
    stages: readonly Stage[],
  ): Promise<void> {
    const stored: Stage[] = [];
    const save = (s: Stage): boolean =>
      this.s.saveStage.run(
        portalId,
        typeKey,
        s.id,
        pipelineId,
        s.label,
        s.displayOrder,
        JSON.stringify(s.metadata),
        s.writePermissions,
        s.createdAt,
        s.updatedAt,
        s.archivedAt,
      ).changes === 1;
    for (const s of stages) {
      if (save(s)) {
        stored.push(s);
        continue;
      }
      const row = this.s.findStage.get(portalId, typeKey, s.id) as StageRow;
      if (row.pipeline_id !== pipelineId) throw new Error(`stage ${s.id} belongs to another pipeline`);
      // The stored creation time stays, and the cache holds what is stored.
      const kept = { ...s, createdAt: row.created_at };
      save(kept);
      stored.push(kept);
    }
    this.cache.applyStages(PipelineCache.key(portalId, typeKey, pipelineId), stored);
  }

  async appendAudit(entries: readonly AuditEntry[]): Promise<void> {
    for (const e of entries) {
      this.s.appendAudit.run(
        e.portalId,
        e.objectTypeKey,
        e.kind,
        e.objectId,
        e.action,
        e.message,
        e.rawObject,
        e.userId,
        e.timestamp,
      );
    }
  }

  async listAudit(
    portalId: number,
    typeKey: string,
    kind: AuditKind,
    objectId: string,
  ): Promise<AuditEntry[]> {
    return (this.s.listAudit.all(portalId, typeKey, kind, objectId) as AuditRow[]).map(toAudit);
  }

  async saveRecord(portalId: number, typeKey: string, r: CrmRecord): Promise<void> {
    this.s.saveRecord.run(
      portalId,
      typeKey,
      Number(r.id),
      r.pipelineId,
      r.stageId,
      JSON.stringify(r.properties),
      r.createdAt,
      r.updatedAt,
      r.archivedAt,
    );
  }

  async getRecord(portalId: number, typeKey: string, id: string): Promise<CrmRecord | undefined> {
    if (!/^[1-9][0-9]{0,15}$/.test(id)) return undefined;
    const row = this.s.getRecord.get(portalId, typeKey, Number(id)) as RecordRow | undefined;
    return row === undefined ? undefined : toRecord(row);
  }

  async listRecords(
    portalId: number,
    typeKey: string,
    page: { archived: boolean; afterId: number; limit: number },
  ): Promise<CrmRecord[]> {
    const statement = page.archived ? this.s.listArchivedRecords : this.s.listLiveRecords;
    return (statement.all(portalId, typeKey, page.afterId, page.limit) as RecordRow[]).map(toRecord);
  }

  async liveRecords(portalId: number, typeKey: string): Promise<CrmRecord[]> {
    return (this.s.liveRecords.all(portalId, typeKey) as RecordRow[]).map(toRecord);
  }

  async stagesInUse(portalId: number, typeKey: string, stageIds: readonly string[], limit: number) {
    const used = new Set(this.s.usedStages.all(portalId, typeKey, JSON.stringify(stageIds)) as string[]);
    // The common case, stages that hold no record, needs no second query.
    if (used.size === 0) return { stageIds: [], objectIds: [] };
    const inUse = stageIds.filter((id) => used.has(id));
    const objectIds = (
      this.s.recordsInStages.all(portalId, typeKey, JSON.stringify(inUse), limit) as number[]
    ).map(String);
    return { stageIds: inUse, objectIds };
  }

  async listPortals(): Promise<PortalRecord[]> {
    return (this.s.listPortals.all() as PortalRow[]).map(toPortal);
  }

  async putPortal(p: PortalRecord): Promise<void> {
    this.s.putPortal.run(p.id, p.nextId, p.createdAt);
  }

  async portalPipelines(portalId: number) {
    return groupTypedPipelines(this.s.portalPipelines.all(portalId) as TypedPipelineStageRow[]);
  }

  async portalRecords(portalId: number) {
    return (this.s.portalRecords.all(portalId) as (RecordRow & { object_type: string })[]).map((r) => ({
      objectTypeKey: r.object_type,
      record: toRecord(r),
    }));
  }

  async portalAudit(portalId: number): Promise<AuditEntry[]> {
    return (this.s.portalAudit.all(portalId) as AuditRow[]).map(toAudit);
  }

  async insertToken(t: TokenRecord): Promise<void> {
    this.s.insertToken.run(
      t.id,
      t.hash,
      t.portalId,
      t.userId,
      t.scopes === null ? null : JSON.stringify(t.scopes),
      t.createdAt,
      t.revokedAt,
    );
  }

  async findTokenByHash(hash: string): Promise<TokenRecord | undefined> {
    const row = this.s.tokenByHash.get(hash) as TokenRow | undefined;
    return row === undefined ? undefined : toToken(row);
  }

  async listTokens(): Promise<TokenRecord[]> {
    return (this.s.listTokens.all() as TokenRow[]).map(toToken);
  }

  async revokeToken(id: string, now: number): Promise<boolean> {
    return this.s.revokeToken.run(now, id).changes === 1;
  }

  async countTokens(): Promise<number> {
    return this.s.countTokens.get() as number;
  }
}
