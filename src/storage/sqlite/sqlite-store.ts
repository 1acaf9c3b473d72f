import { closeSync, fdatasync, openSync } from 'node:fs';

import Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import { ExternalChanges } from '../../domain/external-changes.js';
import { StorageUnavailableError } from '../../domain/ports.js';
import type { Repository, Store } from '../../domain/ports.js';
import { Mutex } from '../mutex.js';
import { Checkpointer } from './checkpointer.js';
import { asStorageError } from './sqlite-faults.js';
import { PipelineCache } from './pipeline-cache.js';
import { migrate } from './sqlite-migrate.js';
import { SqliteRepository } from './sqlite-repository.js';

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
  /**
   * Runs on the connection once it is open and migrated. Tests cap the database's size or make
   * it read-only this way, to meet SQLite's own errors.
   */
  readonly configure?: (db: Database.Database) => void;
}

const fdatasyncInPool = (fd: number) =>
  new Promise<void>((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));

/**
 * SQLite through better-sqlite3, the unit of work: one connection in WAL mode, its transactions,
 * savepoints and group commit, the syncs and the checkpoints. The SQL is SqliteRepository's,
 * the schema sqlite-migrate's.
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
    options.configure?.(this.db);
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
    this.external = new ExternalChanges(this.externalVersion);
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
      this.pending.push({
        work,
        resolve: resolve as (value: unknown) => void,
        // A full disk, an I/O error, a read-only file, a lock held too long: a storage fault.
        reject: (reason) => reject(asStorageError(reason)),
      });
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
          // SQLite rolls the whole transaction back on some errors (SQLITE_FULL, SQLITE_IOERR…):
          // then every write in it, those done and those to come, fails with that error.
          if (!this.db.inTransaction) throw err;
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
      fault: 'not-durable',
    });
  }

  /** SQLite's data_version changes when another connection (another process) commits. */
  readonly externalVersion = (): number => this.dataVersion.get() as number;

  /** One read transaction around the work: its queries share one snapshot and one lock. */
  read<T>(work: (repo: Repository) => Promise<T>): Promise<T> {
    if (this.failure !== undefined) return Promise.reject(this.unavailable());
    const reading = this.lock.run(async () => {
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
    return reading.catch((err: unknown) => Promise.reject(asStorageError(err)));
  }

  /**
   * `read` runs its work once already: under the lock, in one read transaction. In WAL mode that
   * transaction's snapshot is fixed by its first statement, so other processes' commits meanwhile
   * stay unseen (the log grows until it ends); this process's writes wait for the lock.
   */
  snapshot<T>(work: (repo: Repository) => Promise<T>): Promise<T> {
    return this.read(work);
  }

  async ping(): Promise<void> {
    if (this.failure !== undefined) throw this.unavailable();
    try {
      this.db.prepare('SELECT 1').get();
    } catch (err) {
      throw asStorageError(err);
    }
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
