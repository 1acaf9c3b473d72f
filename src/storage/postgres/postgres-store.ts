/**
 * PostgreSQL through `pg`: a connection pool shared by every request, so several Stageline
 * processes can serve one database. Invariants hold across processes because every write
 * locks its portal's row first (writers of one portal are serialised by the database, never
 * by this process), labels are unique by deferred constraints, and transient conflicts
 * (serialization failures, deadlocks, a unique race) re-run the whole transaction.
 */
import pg from 'pg';
import type { PoolClient, QueryResultRow } from 'pg';
import { FIRST_GENERATED_ID, isRecordId } from '../../domain/ids.js';
import type { AuditEntry, AuditKind, Pipeline, Stage } from '../../domain/model.js';
import { DomainError } from '../../domain/errors.js';
import { labelKey } from '../../domain/pipeline-rules.js';
import { StorageUnavailableError } from '../../domain/ports.js';
import type { StorageFault } from '../../domain/storage-faults.js';
import type { RecordAssociation } from '../../domain/associations.js';
import type {
  PortalCounts,
  PortalRecord,
  RateCount,
  RateTake,
  Repository,
  Store,
  TokenRecord,
  WriteScope,
} from '../../domain/ports.js';
import type { CrmRecord } from '../../domain/records.js';
import { loadMigrations } from '../migrations.js';
import {
  associationKey,
  groupPipelines,
  groupTypedPipelines,
  toAssociation,
  toAudit,
  toPortal,
  toRecord,
  toStage,
  toToken,
} from '../rows.js';
import type {
  AssociationRow,
  AuditRow,
  PipelineStageRow,
  PortalRow,
  RecordRow,
  StageRow,
  TokenRow,
  TypedPipelineStageRow,
} from '../rows.js';
import { selectPipelinesWithStages } from '../select-pipelines-with-stages.js';
import { PostgresChangeFeed, changeChannel, changePayload } from './change-feed.js';
import type { ChangeFeedOptions } from './change-feed.js';

export interface PostgresOptions {
  /** Connections in the pool. */
  readonly poolSize: number;
  /** Connect, statement and lock timeout, in ms: requests fail fast instead of hanging. */
  readonly timeoutMs: number;
  /** Work in this schema (created if missing) instead of the user's default search path. */
  readonly schema?: string;
  /** The LISTEN connection's reconnect and heartbeat timings (defaults: CHANGE_FEED). */
  readonly changeFeed?: Partial<ChangeFeedOptions>;
}

/** Reconnects after 100 ms, then 200, 400… up to 2 s; a heartbeat query every 5 s. */
const CHANGE_FEED: Omit<ChangeFeedOptions, 'timeoutMs'> = {
  retryMs: 100,
  maxRetryMs: 2_000,
  heartbeatMs: 5_000,
};

/** Any constant: the advisory lock that serialises migrations across starting processes. */
const MIGRATION_LOCK = 7_364_001;
/** Another: the transaction-level lock that write transactions counting portals take in turn. */
const PORTAL_COUNT_LOCK = 7_364_002;
const RETRYABLE = new Set(['40001', '40P01', '23505', '23P01']);
const MAX_ATTEMPTS = 12;

const BIGINT_OID = 20;
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === BIGINT_OID
      ? (v: string) => Number(v)
      : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/**
 * PostgreSQL's SQLSTATEs that mean the database, not the request, failed, by cause. Connection
 * exceptions (class 08) are `unreachable` too.
 */
const SQLSTATE_FAULTS: Readonly<Record<string, StorageFault>> = {
  '53100': 'full', // disk_full
  '25006': 'read-only', // read_only_sql_transaction: default_transaction_read_only, a hot standby
  '53300': 'too-many-connections',
  '57P03': 'recovering', // cannot_connect_now: starting up, shutting down, crash recovery
  '57P01': 'unreachable', // admin_shutdown
  '57P02': 'unreachable', // crash_shutdown
  '57014': 'timeout', // query_canceled: the statement timeout
  '55P03': 'busy', // lock_not_available: the lock timeout
};
/** Node's socket errors. */
const SOCKET_FAULTS: Readonly<Record<string, StorageFault>> = {
  ECONNREFUSED: 'unreachable',
  ECONNRESET: 'unreachable',
  EHOSTUNREACH: 'unreachable',
  ENOTFOUND: 'unreachable',
  EPIPE: 'unreachable',
  ETIMEDOUT: 'timeout',
};
/**
 * The errors node-pg and its pool raise without a code: a dropped connection, a client that is no
 * longer usable, the pool's connect timeout and the driver's own query timeout.
 */
const DRIVER_MESSAGES: readonly [string, StorageFault][] = [
  ['Connection terminated', 'unreachable'],
  ['Client has encountered a connection error and is not queryable', 'unreachable'],
  ['timeout exceeded when trying to connect', 'timeout'],
  ['Query read timeout', 'timeout'],
];

/**
 * Why the database failed the request, or undefined when it did not (the request was bad, or a
 * bug of ours). PostgreSQL's errors count by SQLSTATE and the socket's by code; only the
 * driver's own code-less errors by message, and never an error of Stageline's own, whatever its
 * message says (a pipeline called "timeout" is not an outage).
 */
export function storageFault(err: unknown): StorageFault | undefined {
  if (!(err instanceof Error) || err instanceof DomainError) return undefined;
  if (err instanceof StorageUnavailableError) return err.fault;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (code.startsWith('08')) return 'unreachable';
    return SQLSTATE_FAULTS[code] ?? SOCKET_FAULTS[code];
  }
  return DRIVER_MESSAGES.find(([m]) => err.message.startsWith(m))?.[1];
}

/** The faults after which a connection is not to be trusted: it is dropped, not rolled back. */
const CONNECTION_FAULTS: ReadonlySet<StorageFault> = new Set<StorageFault>([
  'unreachable',
  'timeout',
  'recovering',
  'too-many-connections',
]);

/**
 * Whether an error means the database is away (unreachable, too slow, recovering, out of
 * connection slots), not that it refused this write (full, read-only, a lock) or that the
 * request was bad.
 */
export function isUnavailable(err: unknown): boolean {
  const fault = storageFault(err);
  return fault !== undefined && CONNECTION_FAULTS.has(fault);
}

/** A storage fault as a StorageUnavailableError carrying its cause; any other error as it is. */
function unavailable(err: unknown): never {
  const fault = storageFault(err);
  if (fault === undefined || err instanceof StorageUnavailableError) throw err;
  const what = CONNECTION_FAULTS.has(fault) ? 'The database is not reachable' : `PostgreSQL: ${fault}`;
  throw new StorageUnavailableError(`${what}: ${(err as Error).message}`, { cause: err, fault });
}

/**
 * Each distinct SQL text of the repository gets one statement name, so node-pg prepares it once
 * per connection and PostgreSQL stops planning it on every call: planning the pipeline read
 * took 2 ms, executing it 0.15 ms. The texts are a fixed set (the audit insert varies with its
 * number of rows, at most one per stage plus one).
 */
const statementNames = new Map<string, string>();
function named(text: string, values?: unknown[]): pg.QueryConfig {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `stageline_${statementNames.size + 1}`;
    statementNames.set(text, name);
  }
  return { name, text, values };
}

const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** Which portals a write transaction touched, announced to every process on commit. */
class Touched {
  readonly portals = new Set<number>();
  all = false;
  add(portalId: number): void {
    this.portals.add(portalId);
  }
  /** The NOTIFY payload, or undefined when nothing was written. */
  payload(): string | undefined {
    if (this.all) return changePayload('all');
    return this.portals.size === 0 ? undefined : changePayload(this.portals);
  }
}

/** Thrown into a read's work when it issues a second statement: it re-runs in a snapshot. */
class NeedsSnapshot extends Error {}

/** A portal id inlined in SQL text: an integer, checked. */
const sqlInt = (n: number): string => {
  if (!Number.isSafeInteger(n)) throw new RangeError(`not an integer: ${n}`);
  return String(n);
};

/** The statement that opens a portal's write transaction: BEGIN, then the portal's row lock. */
const lockPortal = (portalId: number): string =>
  `BEGIN; SELECT 1 FROM portals WHERE id = ${sqlInt(portalId)} FOR UPDATE`;

/** At most this many writes of one portal share a transaction, so that none waits too long. */
const MAX_GROUP = 64;

interface QueuedWrite {
  work: (repo: Repository) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; value: unknown };

const sqlState = (err: unknown): string | undefined => {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
};

/** The owner of a group's own statements (BEGIN, its rollbacks, COMMIT), not of one write. */
const GROUP = -1;

/**
 * The statements of one transaction on a pipelining connection, and the first of them that
 * failed, in the order sent, with the write of a group that sent it.
 */
class Session {
  /** The statements sent and not answered yet (a long import must not keep every answer). */
  private readonly sent = new Set<Promise<unknown>>();
  failed: { err: unknown; owner: number } | undefined;
  /** Which write of a group the statements sent now belong to. */
  owner = GROUP;

  constructor(private readonly client: PoolClient) {}

  send<R extends QueryResultRow>(q: string | pg.QueryConfig): Promise<pg.QueryResult<R>> {
    const answer = this.client.query<R>(q);
    this.sent.add(answer);
    const owner = this.owner;
    // Answers arrive in order, so the first failure recorded is the first statement's.
    answer.then(
      () => this.sent.delete(answer),
      (err: unknown) => {
        this.sent.delete(answer);
        this.failed ??= { err, owner };
      },
    );
    return answer;
  }

  /** Waits until every statement sent so far has its answer. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.sent]);
  }
}

export class PostgresStore implements Store {
  private readonly pool: pg.Pool;
  private readonly feed: PostgresChangeFeed;
  readonly changes: PostgresChangeFeed;
  /** Per portal, the writes waiting for its transaction in flight to end. */
  private readonly queues = new Map<number, QueuedWrite[]>();

  private constructor(pool: pg.Pool, feed: PostgresChangeFeed) {
    this.pool = pool;
    this.feed = feed;
    this.changes = feed;
  }

  /** Connects, creates the schema if asked, and runs pending migrations under an advisory lock. */
  static async open(connectionString: string, options: PostgresOptions): Promise<PostgresStore> {
    const schema = options.schema;
    const pool = new pg.Pool({
      connectionString,
      max: options.poolSize,
      connectionTimeoutMillis: options.timeoutMs,
      statement_timeout: options.timeoutMs,
      query_timeout: options.timeoutMs,
      lock_timeout: options.timeoutMs,
      idle_in_transaction_session_timeout: options.timeoutMs * 2,
      // Each query is sent at once, without waiting for the answers to those before it (they come
      // back in order): a write transaction's statements share round trips (see `transaction`).
      pipeline: true,
      types,
      ...(schema !== undefined && { options: `-c search_path=${quoteIdent(schema)}` }),
    });
    // An idle connection dropped by the server must not crash the process; the pool replaces it.
    pool.on('error', () => undefined);
    // The server processes of this pool's connections: their notifications are this process's own.
    const ownPids = new Set<number>();
    const serverPid = (client: PoolClient) => (client as PoolClient & { processID?: number }).processID;
    pool.on('connect', (client) => {
      const pid = serverPid(client);
      if (pid !== undefined) ownPids.add(pid);
    });
    pool.on('remove', (client) => {
      const pid = serverPid(client);
      if (pid !== undefined) ownPids.delete(pid);
    });
    const feed = new PostgresChangeFeed(
      {
        connectionString,
        types,
        ...(schema !== undefined && { options: `-c search_path=${quoteIdent(schema)}` }),
      },
      changeChannel(schema),
      { ...CHANGE_FEED, timeoutMs: options.timeoutMs, ...options.changeFeed },
      (pid) => ownPids.has(pid),
    );
    const store = new PostgresStore(pool, feed);
    try {
      await store.migrate(schema);
    } catch (err) {
      await pool.end();
      unavailable(err);
    }
    // Not live until LISTEN has answered: until then caches are bypassed, not wrong.
    await feed.start();
    return store;
  }

  private async migrate(schema: string | undefined): Promise<void> {
    const client = await this.pool.connect();
    const ignore = () => undefined; // a drop surfaces as the failing query's error
    client.on('error', ignore);
    try {
      // Under the lock: CREATE SCHEMA IF NOT EXISTS itself races when processes start together.
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      try {
        if (schema !== undefined) await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
        await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
          version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)`);
        const done = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
        const applied = new Set(done.rows.map((r) => r.version));
        for (const m of loadMigrations('postgres')) {
          if (applied.has(m.version)) continue;
          await client.query('BEGIN');
          try {
            await client.query(m.sql);
            await client.query(
              'INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)',
              [m.version, m.name, Date.now()],
            );
            await client.query('COMMIT');
          } catch (err) {
            await client.query('ROLLBACK');
            throw err;
          }
        }
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
      }
    } finally {
      client.off('error', ignore);
      client.release();
    }
  }

  /**
   * A write with a portal joins that portal's queue: the writes that arrive while one of its
   * transactions is open go together in the next one (a group commit, as SQLite's store does),
   * each in its own savepoint, so they share one lock and one COMMIT. Other writes run alone.
   */
  write<T>(work: (repo: Repository) => Promise<T>, scope: WriteScope = {}): Promise<T> {
    const portalId = scope.portalId;
    if (portalId === undefined) return this.alone('BEGIN', undefined, work);
    return new Promise<T>((resolve, reject) => {
      const item: QueuedWrite = { work, resolve: resolve as (v: unknown) => void, reject };
      const queue = this.queues.get(portalId);
      if (queue !== undefined) return void queue.push(item);
      this.queues.set(portalId, [item]);
      void this.drain(portalId);
    });
  }

  /** Runs a portal's queued writes, a group at a time, until none is left. */
  private async drain(portalId: number): Promise<void> {
    const queue = this.queues.get(portalId)!;
    while (queue.length > 0) await this.runGroup(portalId, queue.splice(0, MAX_GROUP));
    this.queues.delete(portalId);
  }

  /** Settles every write of a group; never throws. */
  private async runGroup(portalId: number, items: readonly QueuedWrite[]): Promise<void> {
    const begin = lockPortal(portalId);
    if (items.length === 1) {
      const [item] = items;
      return this.alone(begin, portalId, item!.work).then(item!.resolve, item!.reject);
    }
    let outcomes: Outcome[];
    try {
      outcomes = await this.group(begin, portalId, items);
    } catch (err) {
      // The database failed the whole group (it is away, full, read-only, or the lock timed out):
      // each write would have met the same. Anything else, such as a deferred constraint at
      // COMMIT, belongs to one of them: the group rolled back, so each runs again alone.
      if (storageFault(err) !== undefined) return items.forEach((item) => item.reject(err));
      for (const item of items) await this.alone(begin, portalId, item.work).then(item.resolve, item.reject);
      return;
    }
    for (const [i, item] of items.entries()) {
      const outcome = outcomes[i]!;
      if (outcome.ok) item.resolve(outcome.value);
      // A conflict that re-running cures (see RETRYABLE): again, alone, with its retries.
      else if (RETRYABLE.has(sqlState(outcome.value) ?? '')) {
        await this.alone(begin, portalId, item.work).then(item.resolve, item.reject);
      } else item.reject(outcome.value);
    }
  }

  /**
   * One transaction for several writes of one portal, each in its own savepoint. A write that
   * throws, or whose statements fail, is rolled back to its savepoint and gets its error; as its
   * failed statements surface only when a later answer arrives, the writes run after it in the
   * meantime are rolled back with it and run again. Outcomes are kept until COMMIT succeeds.
   */
  private group(begin: string, portalId: number, items: readonly QueuedWrite[]): Promise<Outcome[]> {
    return this.transaction(begin, async (session) => {
      const touched = new Touched();
      touched.add(portalId);
      const query: Query = (text, values) => session.send(named(text, values));
      const outcomes: Outcome[] = [];
      let i = 0;
      while (i < items.length) {
        session.owner = i;
        void session.send(`SAVEPOINT w${i}`);
        let outcome: Outcome;
        try {
          outcome = { ok: true, value: await items[i]!.work(new PostgresRepository(query, touched)) };
        } catch (err) {
          outcome = { ok: false, value: err };
        }
        if (outcome.ok && session.failed === undefined) {
          outcomes[i++] = outcome;
          continue;
        }
        await session.settled();
        session.owner = GROUP;
        const failed = session.failed;
        if (failed === undefined) {
          // The write refused by its own rules; its statements, if any, went through.
          await session.send(`ROLLBACK TO SAVEPOINT w${i}`);
          outcomes[i++] = outcome;
          continue;
        }
        if (failed.owner === GROUP || storageFault(failed.err) !== undefined) throw failed.err;
        session.failed = undefined;
        await session.send(`ROLLBACK TO SAVEPOINT w${failed.owner}`);
        outcomes[failed.owner] = { ok: false, value: failed.err };
        outcomes.length = failed.owner + 1;
        i = failed.owner + 1;
      }
      session.owner = GROUP;
      return { result: outcomes, end: this.commitFor(touched) };
    });
  }

  /** One write in its own transaction, run again on a conflict that re-running cures. */
  private async alone<T>(
    begin: string,
    portalId: number | undefined,
    work: (repo: Repository) => Promise<T>,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.transaction(begin, async (session) => {
          const touched = new Touched();
          if (portalId !== undefined) touched.add(portalId);
          const repo = new PostgresRepository((text, values) => session.send(named(text, values)), touched);
          const result = await work(repo);
          return { result, end: this.commitFor(touched) };
        });
      } catch (err) {
        if (RETRYABLE.has(sqlState(err) ?? '') && attempt < MAX_ATTEMPTS) {
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
          continue;
        }
        throw err;
      }
    }
  }

  /** COMMIT, announcing first the portals the transaction wrote, if any. */
  private commitFor(touched: Touched): string {
    const payload = touched.payload();
    return payload === undefined
      ? 'COMMIT'
      : `SELECT pg_notify('${this.feed.channel}', '${payload}'); COMMIT`;
  }

  /**
   * One transaction on a borrowed connection: `begin`, the body, then the statement the body ends
   * with. The connection pipelines: `begin` is not awaited, so it travels with the body's first
   * statements, and writes whose answer nothing needs are not awaited either (the repository's),
   * so they travel with `end`. The transaction fails with the first statement that failed, in the
   * order sent (a later one only says the transaction was aborted; COMMIT then rolls back), unless
   * the body recovered from it (a group's savepoints). A failure rolls back before the connection
   * goes back to the pool; a connection that dropped or got stuck is not rolled back (the server
   * does) but thrown away.
   */
  private async transaction<T>(
    begin: string,
    body: (session: Session) => Promise<{ result: T; end: string }>,
  ): Promise<T> {
    const client = await this.borrow();
    // A borrowed connection that drops emits 'error'; unheard, it would crash the process.
    let dropped: unknown;
    const onError = (err: unknown) => (dropped = err);
    client.on('error', onError);
    const session = new Session(client);
    let discard: Error | undefined;
    try {
      void session.send(begin);
      const { result, end } = await body(session);
      await session.send(end);
      if (session.failed !== undefined) throw session.failed.err;
      return result;
    } catch (thrown) {
      await session.settled();
      const err = session.failed?.err ?? thrown;
      if (dropped !== undefined || isUnavailable(err)) {
        discard = err instanceof Error ? err : new Error(String(err));
        this.unavailable(dropped ?? err);
      }
      await client.query('ROLLBACK').catch((rollbackError: unknown) => {
        discard = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      });
      // A full disk, a read-only database, a lock not granted: rolled back, answered by cause.
      unavailable(err);
    } finally {
      client.off('error', onError);
      client.release(discard);
    }
  }

  /**
   * As `unavailable`, and an outage seen by any request also takes the change feed down at once:
   * its connection may be as dead as this one, and caches must not wait for its heartbeat.
   */
  private unavailable(err: unknown): never {
    if (isUnavailable(err)) this.feed.reconnect();
    unavailable(err);
  }

  private async borrow(): Promise<PoolClient> {
    try {
      return await this.pool.connect();
    } catch (err) {
      this.unavailable(err);
    }
  }

  /**
   * A read of one statement runs on the pool as it is: one round trip, no transaction. A read
   * that issues a second statement is stopped there and run again, whole, in one
   * REPEATABLE READ READ ONLY transaction, so all its statements see one snapshot.
   */
  async read<T>(work: (repo: Repository) => Promise<T>): Promise<T> {
    let statements = 0;
    const single = new PostgresRepository((text, values) => {
      statements += 1;
      if (statements > 1) return Promise.reject(new NeedsSnapshot());
      return this.pool.query(named(text, values));
    });
    let result: { value: T } | undefined;
    try {
      result = { value: await work(single) };
    } catch (err) {
      if (statements <= 1) this.unavailable(err);
    }
    // A run cut short at its second statement proves nothing, whatever it returned or threw.
    return result !== undefined && statements <= 1 ? result.value : this.snapshot(work);
  }

  /**
   * Runs `work` once, in one REPEATABLE READ READ ONLY transaction: every statement, one snapshot.
   * Never re-run (unlike `read`'s first try), so work with outside effects (an export) may use it.
   */
  snapshot<T>(work: (repo: Repository) => Promise<T>): Promise<T> {
    return this.transaction('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', async (session) => ({
      result: await work(new PostgresRepository((text, values) => session.send(named(text, values)))),
      end: 'COMMIT',
    }));
  }

  /** One autocommitted call of rate_limit_take (migration 007): the token's row is locked meanwhile. */
  readonly takeRate = async (t: RateTake): Promise<RateCount> => {
    try {
      const { rows } = await this.pool.query<{
        exceeded: RateCount['exceeded'];
        remaining: number;
        daily_remaining: number;
      }>(
        named('SELECT * FROM rate_limit_take($1, $2, $3, $4, $5, $6)', [
          t.key,
          t.now,
          t.day,
          t.windowMs,
          t.perWindow,
          t.daily,
        ]),
      );
      const r = rows[0]!;
      return { exceeded: r.exceeded, remaining: r.remaining, dailyRemaining: r.daily_remaining };
    } catch (err) {
      this.unavailable(err);
    }
  };

  async ping(): Promise<void> {
    try {
      await this.pool.query('SELECT 1');
    } catch (err) {
      this.unavailable(err);
    }
  }

  private closed: Promise<void> | undefined;

  /** Idempotent, as the SQLite store's: a second close waits for the first. */
  close(): Promise<void> {
    return (this.closed ??= Promise.all([this.feed.close(), this.pool.end()]).then(() => undefined));
  }
}

type Query = <R extends QueryResultRow>(text: string, values?: unknown[]) => Promise<pg.QueryResult<R>>;

const PIPELINES_WITH_STAGES = selectPipelinesWithStages({ stages: 'all' });
const PIPELINES_WITH_LIVE_STAGES = selectPipelinesWithStages({ stages: 'live' });
const TYPED_PIPELINES_WITH_STAGES = selectPipelinesWithStages({ stages: 'all', objectType: true });

type Nullable<R> = { [K in keyof R]: R[K] | null };

/** The audit rows of a LEFT JOIN: a row without a kind is the "no entries" row. */
const entriesOf = (rows: readonly Nullable<AuditRow>[]): AuditEntry[] =>
  rows.filter((r): r is AuditRow => r.kind !== null).map(toAudit);

class PostgresRepository implements Repository {
  /** `touched`: for a write, records the portals it changes. */
  constructor(
    private readonly query: Query,
    private readonly touched?: Touched,
  ) {}

  private touch(portalId: number): void {
    this.touched?.add(portalId);
  }

  private async rows<R extends QueryResultRow>(text: string, values: unknown[]): Promise<R[]> {
    return (await this.query<R>(text, values)).rows;
  }

  private async exists(text: string, values: unknown[]): Promise<boolean> {
    return (await this.query(text, values)).rowCount! > 0;
  }

  /** The writes sent and not yet awaited. */
  private pending: Promise<unknown>[] = [];

  /**
   * A write whose answer nothing needs. In a write transaction it is sent and not awaited: the
   * statements after it follow at once on the pipelined connection, and should it fail, the
   * transaction fails with its error (see PostgresStore's `transaction`).
   */
  private async send(text: string, values: unknown[]): Promise<void> {
    const answer = this.query(text, values);
    if (this.touched === undefined) await answer;
    else this.pending.push(answer);
  }

  async settled(): Promise<void> {
    // Answers come in order: the first rejection is the first failed write's.
    await Promise.all(this.pending.splice(0));
  }

  async ensurePortal(portalId: number, now: number): Promise<boolean> {
    this.touch(portalId);
    const r = await this.query(
      'INSERT INTO portals (id, next_id, created_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING',
      [portalId, FIRST_GENERATED_ID, now],
    );
    return r.rowCount === 1;
  }

  portalExists(portalId: number): Promise<boolean> {
    return this.exists('SELECT 1 FROM portals WHERE id = $1', [portalId]);
  }

  async allocateIds(portalId: number, count: number): Promise<string[]> {
    this.touch(portalId);
    const ids: string[] = [];
    while (ids.length < count) {
      const need = count - ids.length;
      // One statement: take the next ids, and keep those no pipeline or stage of the portal uses.
      const [taken] = await this.rows<{ first: number; free: string[] }>(
        `WITH taken AS (
           UPDATE portals SET next_id = next_id + $2 WHERE id = $1 RETURNING next_id - $2 AS first)
         SELECT first, ARRAY(
           SELECT c.id FROM generate_series(first, first + $2 - 1) AS n, LATERAL (SELECT n::text AS id) c
           WHERE NOT EXISTS (SELECT 1 FROM pipelines WHERE portal_id = $1 AND id = c.id)
             AND NOT EXISTS (SELECT 1 FROM stages WHERE portal_id = $1 AND id = c.id)
           ORDER BY n) AS free
         FROM taken`,
        [portalId, need],
      );
      if (taken === undefined) throw new Error(`portal ${portalId} does not exist`);
      ids.push(...taken.free);
    }
    return ids;
  }

  async listPipelines(portalId: number, typeKey: string): Promise<Pipeline[]> {
    return groupPipelines(
      await this.rows<PipelineStageRow>(
        `${PIPELINES_WITH_LIVE_STAGES} WHERE p.portal_id = $1 AND p.object_type = $2 AND p.archived_at IS NULL ORDER BY p.id`,
        [portalId, typeKey],
      ),
    );
  }

  async getPipeline(
    portalId: number,
    typeKey: string,
    pipelineId: string,
    options: { archivedStages?: boolean } = {},
  ): Promise<Pipeline | undefined> {
    const join = options.archivedStages === false ? PIPELINES_WITH_LIVE_STAGES : PIPELINES_WITH_STAGES;
    const rows = await this.rows<PipelineStageRow>(
      `${join} WHERE p.portal_id = $1 AND p.object_type = $2 AND p.id = $3`,
      [portalId, typeKey, pipelineId],
    );
    return groupPipelines(rows)[0];
  }

  async findStage(portalId: number, typeKey: string, stageId: string) {
    const [row] = await this.rows<StageRow>(
      'SELECT * FROM stages WHERE portal_id = $1 AND object_type = $2 AND id = $3',
      [portalId, typeKey, stageId],
    );
    return row === undefined ? undefined : { pipelineId: row.pipeline_id, stage: toStage(row) };
  }

  async findLivePipelineByLabel(portalId: number, typeKey: string, key: string): Promise<string | undefined> {
    const [row] = await this.rows<{ id: string }>(
      'SELECT id FROM pipelines WHERE portal_id = $1 AND object_type = $2 AND label_key = $3 AND archived_at IS NULL',
      [portalId, typeKey, key],
    );
    return row?.id;
  }

  pipelineIdExists(portalId: number, typeKey: string, pipelineId: string): Promise<boolean> {
    return this.exists('SELECT 1 FROM pipelines WHERE portal_id = $1 AND object_type = $2 AND id = $3', [
      portalId,
      typeKey,
      pipelineId,
    ]);
  }

  stageIdExists(portalId: number, typeKey: string, stageId: string): Promise<boolean> {
    return this.exists('SELECT 1 FROM stages WHERE portal_id = $1 AND object_type = $2 AND id = $3', [
      portalId,
      typeKey,
      stageId,
    ]);
  }

  async savePipeline(portalId: number, typeKey: string, p: Pipeline): Promise<void> {
    this.touch(portalId);
    await this.send(
      `INSERT INTO pipelines (portal_id, object_type, id, label, label_key, display_order, created_at, updated_at, archived_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (portal_id, object_type, id) DO UPDATE SET
         label = excluded.label, label_key = excluded.label_key, display_order = excluded.display_order,
         updated_at = excluded.updated_at, archived_at = excluded.archived_at`,
      [
        portalId,
        typeKey,
        p.id,
        p.label,
        labelKey(p.label),
        p.displayOrder,
        p.createdAt,
        p.updatedAt,
        p.archivedAt,
      ],
    );
  }

  /**
   * One statement for any number of stages, as appendAudit. A stage id that belongs to another
   * pipeline would get a null pipeline_id: its NOT NULL constraint fails the statement, and so
   * the transaction, whether or not anyone awaits it.
   */
  async saveStages(
    portalId: number,
    typeKey: string,
    pipelineId: string,
    stages: readonly Stage[],
  ): Promise<void> {
    if (stages.length === 0) return;
    this.touch(portalId);
    const column = <T>(pick: (s: Stage) => T): T[] => stages.map(pick);
    await this.send(
      `INSERT INTO stages (portal_id, object_type, id, pipeline_id, label, label_key, display_order, metadata,
                           write_permissions, created_at, updated_at, archived_at)
       SELECT $1, $2, id, $3, label, label_key, display_order, metadata, write_permissions, created_at,
              updated_at, archived_at
       FROM unnest($4::text[], $5::text[], $6::text[], $7::integer[], $8::text[], $9::text[], $10::bigint[],
                   $11::bigint[], $12::bigint[])
            WITH ORDINALITY AS s(id, label, label_key, display_order, metadata, write_permissions, created_at,
                                 updated_at, archived_at, n)
       ORDER BY n
       ON CONFLICT (portal_id, object_type, id) DO UPDATE SET
         pipeline_id = CASE WHEN stages.pipeline_id = excluded.pipeline_id THEN stages.pipeline_id END,
         label = excluded.label, label_key = excluded.label_key, display_order = excluded.display_order,
         metadata = excluded.metadata, write_permissions = excluded.write_permissions,
         updated_at = excluded.updated_at, archived_at = excluded.archived_at`,
      [
        portalId,
        typeKey,
        pipelineId,
        column((s) => s.id),
        column((s) => s.label),
        column((s) => labelKey(s.label)),
        column((s) => s.displayOrder),
        column((s) => JSON.stringify(s.metadata)),
        column((s) => s.writePermissions),
        column((s) => s.createdAt),
        column((s) => s.updatedAt),
        column((s) => s.archivedAt),
      ],
    );
  }

  /**
   * One statement for any number of entries: nine arrays, unnested in order. (A VALUES row per
   * entry took nine parameters each, past PostgreSQL's 65,535 at 7,282 entries, and made a new
   * prepared statement for every count.)
   */
  async appendAudit(entries: readonly AuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    for (const e of entries) this.touch(e.portalId);
    const column = <T>(pick: (e: AuditEntry) => T): T[] => entries.map(pick);
    await this.send(
      `INSERT INTO audit (portal_id, object_type, kind, object_id, action, message, raw_object, user_id, ts)
       SELECT portal_id, object_type, kind, object_id, action, message, raw_object, user_id, ts
       FROM unnest($1::integer[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                   $8::integer[], $9::bigint[])
            WITH ORDINALITY AS e(portal_id, object_type, kind, object_id, action, message, raw_object, user_id, ts, n)
       ORDER BY n`,
      [
        column((e) => e.portalId),
        column((e) => e.objectTypeKey),
        column((e) => e.kind),
        column((e) => e.objectId),
        column((e) => e.action),
        column((e) => e.message),
        column((e) => e.rawObject),
        column((e) => e.userId),
        column((e) => e.timestamp),
      ],
    );
  }

  async listAudit(
    portalId: number,
    typeKey: string,
    kind: AuditKind,
    objectId: string,
  ): Promise<AuditEntry[]> {
    const rows = await this.rows<AuditRow>(
      `SELECT * FROM audit WHERE portal_id = $1 AND object_type = $2 AND kind = $3 AND object_id = $4
       ORDER BY seq DESC`,
      [portalId, typeKey, kind, objectId],
    );
    return rows.map(toAudit);
  }

  /**
   * The pipeline's row joined with its audit: no row, no pipeline; one row of nulls, a pipeline
   * without entries. One round trip instead of an existence check and a list.
   */
  async pipelineAudit(portalId: number, typeKey: string, pipelineId: string) {
    const rows = await this.rows<Nullable<AuditRow>>(
      `SELECT e.* FROM pipelines p
       LEFT JOIN audit e ON e.portal_id = p.portal_id AND e.object_type = p.object_type
         AND e.kind = 'pipeline' AND e.object_id = p.id
       WHERE p.portal_id = $1 AND p.object_type = $2 AND p.id = $3
       ORDER BY e.seq DESC`,
      [portalId, typeKey, pipelineId],
    );
    return rows.length === 0 ? undefined : entriesOf(rows);
  }

  /** The stage's row joined with its audit, as pipelineAudit: one round trip. */
  async stageAudit(portalId: number, typeKey: string, stageId: string) {
    const rows = await this.rows<Nullable<AuditRow> & { stage_pipeline_id: string }>(
      `SELECT s.pipeline_id AS stage_pipeline_id, e.* FROM stages s
       LEFT JOIN audit e ON e.portal_id = s.portal_id AND e.object_type = s.object_type
         AND e.kind = 'stage' AND e.object_id = s.id
       WHERE s.portal_id = $1 AND s.object_type = $2 AND s.id = $3
       ORDER BY e.seq DESC`,
      [portalId, typeKey, stageId],
    );
    return rows[0] === undefined
      ? undefined
      : { pipelineId: rows[0].stage_pipeline_id, entries: entriesOf(rows) };
  }

  async latestAudit(
    portalId: number,
    typeKey: string,
    kind: AuditKind,
    objectId: string,
  ): Promise<AuditEntry | undefined> {
    const rows = await this.rows<AuditRow>(
      `SELECT * FROM audit WHERE portal_id = $1 AND object_type = $2 AND kind = $3 AND object_id = $4
       ORDER BY seq DESC LIMIT 1`,
      [portalId, typeKey, kind, objectId],
    );
    return rows[0] === undefined ? undefined : toAudit(rows[0]);
  }

  async saveRecord(portalId: number, typeKey: string, r: CrmRecord): Promise<void> {
    this.touch(portalId);
    await this.send(
      `INSERT INTO records (portal_id, object_type, id, pipeline_id, stage_id, properties, created_at, updated_at, archived_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (portal_id, object_type, id) DO UPDATE SET
         pipeline_id = excluded.pipeline_id, stage_id = excluded.stage_id, properties = excluded.properties,
         updated_at = excluded.updated_at, archived_at = excluded.archived_at`,
      [
        portalId,
        typeKey,
        Number(r.id),
        r.pipelineId,
        r.stageId,
        JSON.stringify(r.properties),
        r.createdAt,
        r.updatedAt,
        r.archivedAt,
      ],
    );
  }

  async getRecord(portalId: number, typeKey: string, id: string): Promise<CrmRecord | undefined> {
    if (!isRecordId(id)) return undefined;
    const [row] = await this.rows<RecordRow>(
      'SELECT * FROM records WHERE portal_id = $1 AND object_type = $2 AND id = $3',
      [portalId, typeKey, Number(id)],
    );
    return row === undefined ? undefined : toRecord(row);
  }

  async listRecords(
    portalId: number,
    typeKey: string,
    page: { archived: boolean; afterId: number; limit: number },
  ) {
    const rows = await this.rows<RecordRow>(
      `SELECT * FROM records WHERE portal_id = $1 AND object_type = $2 AND id > $3
         AND (archived_at IS NOT NULL) = $4
       ORDER BY id LIMIT $5`,
      [portalId, typeKey, page.afterId, page.archived, page.limit],
    );
    return rows.map(toRecord);
  }

  async liveRecords(portalId: number, typeKey: string): Promise<CrmRecord[]> {
    const rows = await this.rows<RecordRow>(
      'SELECT * FROM records WHERE portal_id = $1 AND object_type = $2 AND archived_at IS NULL ORDER BY id',
      [portalId, typeKey],
    );
    return rows.map(toRecord);
  }

  async stagesInUse(portalId: number, typeKey: string, stageIds: readonly string[], limit: number) {
    const used = await this.rows<{ stage_id: string }>(
      `SELECT DISTINCT stage_id FROM records
       WHERE portal_id = $1 AND object_type = $2 AND archived_at IS NULL AND stage_id = ANY($3)`,
      [portalId, typeKey, stageIds],
    );
    // The common case, stages that hold no record, needs no second round trip.
    if (used.length === 0) return { stageIds: [], objectIds: [] };
    const inUse = new Set(used.map((u) => u.stage_id));
    const usedIds = stageIds.filter((id) => inUse.has(id));
    const objects = await this.rows<{ id: number }>(
      `SELECT id FROM records
       WHERE portal_id = $1 AND object_type = $2 AND archived_at IS NULL AND stage_id = ANY($3)
       ORDER BY id LIMIT $4`,
      [portalId, typeKey, usedIds, limit],
    );
    return { stageIds: usedIds, objectIds: objects.map((o) => String(o.id)) };
  }

  /** One statement for any number of links, as appendAudit. */
  async saveAssociations(portalId: number, links: readonly RecordAssociation[]): Promise<void> {
    if (links.length === 0) return;
    this.touch(portalId);
    const column = <T>(pick: (a: RecordAssociation) => T): T[] => links.map(pick);
    await this.send(
      `INSERT INTO associations (portal_id, from_type, from_id, to_type, to_id, category, type_id)
       SELECT $1, from_type, from_id, to_type, to_id, category, type_id
       FROM unnest($2::text[], $3::bigint[], $4::text[], $5::bigint[], $6::text[], $7::integer[])
            WITH ORDINALITY AS a(from_type, from_id, to_type, to_id, category, type_id, n)
       ORDER BY n
       ON CONFLICT DO NOTHING`,
      [
        portalId,
        column((a) => a.fromTypeKey),
        column((a) => Number(a.fromId)),
        column((a) => a.toTypeKey),
        column((a) => Number(a.toId)),
        column((a) => a.category),
        column((a) => a.typeId),
      ],
    );
  }

  async listAssociations(
    portalId: number,
    fromTypeKey: string,
    fromId: string,
    toTypeKey: string,
  ): Promise<RecordAssociation[]> {
    if (!isRecordId(fromId)) return [];
    const rows = await this.rows<AssociationRow>(
      `SELECT a.from_type, a.from_id, a.to_type, a.to_id, a.category, a.type_id FROM associations a
       JOIN records r ON r.portal_id = a.portal_id AND r.object_type = a.to_type AND r.id = a.to_id
       WHERE a.portal_id = $1 AND a.from_type = $2 AND a.from_id = $3 AND a.to_type = $4 AND r.archived_at IS NULL
       ORDER BY a.to_id, a.category, a.type_id`,
      [portalId, fromTypeKey, Number(fromId), toTypeKey],
    );
    return rows.map(toAssociation);
  }

  async portalAssociations(portalId: number): Promise<RecordAssociation[]> {
    const rows = await this.rows<AssociationRow>(
      `SELECT from_type, from_id, to_type, to_id, category, type_id FROM associations WHERE portal_id = $1
       ORDER BY from_type, from_id, to_type, to_id, category, type_id`,
      [portalId],
    );
    return rows.map(toAssociation);
  }

  async listPortals(): Promise<PortalRecord[]> {
    return (await this.rows<PortalRow>('SELECT id, next_id, created_at FROM portals ORDER BY id', [])).map(
      toPortal,
    );
  }

  async putPortal(p: PortalRecord): Promise<void> {
    this.touch(p.id);
    await this.send(
      `INSERT INTO portals (id, next_id, created_at) VALUES ($1, $2, $3)
       ON CONFLICT (id) DO UPDATE SET next_id = greatest(portals.next_id, excluded.next_id)`,
      [p.id, p.nextId, p.createdAt],
    );
  }

  async portalPipelines(portalId: number) {
    const rows = await this.rows<TypedPipelineStageRow>(
      `${TYPED_PIPELINES_WITH_STAGES}
       WHERE p.portal_id = $1 ORDER BY p.object_type, p.id`,
      [portalId],
    );
    return groupTypedPipelines(rows);
  }

  async portalRecords(portalId: number) {
    const rows = await this.rows<RecordRow & { object_type: string }>(
      'SELECT * FROM records WHERE portal_id = $1 ORDER BY object_type, id',
      [portalId],
    );
    return rows.map((r) => ({ objectTypeKey: r.object_type, record: toRecord(r) }));
  }

  async portalAudit(portalId: number): Promise<AuditEntry[]> {
    return (
      await this.rows<AuditRow>('SELECT * FROM audit WHERE portal_id = $1 ORDER BY seq', [portalId])
    ).map(toAudit);
  }

  async portalCounts(portalId: number): Promise<PortalCounts> {
    const [row] = await this.rows<PortalCounts>(
      `SELECT (SELECT count(*)::integer FROM records WHERE portal_id = $1) AS records,
              (SELECT count(*)::integer FROM associations WHERE portal_id = $1) AS associations,
              (SELECT count(*)::integer FROM audit WHERE portal_id = $1) AS audit`,
      [portalId],
    );
    return row!;
  }

  // The export's pages: keyset on each table's order, so a page costs its own rows only. A first
  // page starts after a key lower than any: '' sorts before every text, -1 before every id.
  async portalRecordsPage(
    portalId: number,
    after: { objectTypeKey: string; id: string } | undefined,
    limit: number,
  ) {
    const rows = await this.rows<RecordRow & { object_type: string }>(
      `SELECT * FROM records WHERE portal_id = $1 AND (object_type, id) > ($2::text, $3::bigint)
       ORDER BY object_type, id LIMIT $4`,
      [portalId, after?.objectTypeKey ?? '', after === undefined ? -1 : Number(after.id), limit],
    );
    return rows.map((r) => ({ objectTypeKey: r.object_type, record: toRecord(r) }));
  }

  async portalAssociationsPage(
    portalId: number,
    after: RecordAssociation | undefined,
    limit: number,
  ): Promise<RecordAssociation[]> {
    const key = associationKey(after);
    const rows = await this.rows<AssociationRow>(
      `SELECT from_type, from_id, to_type, to_id, category, type_id FROM associations
       WHERE portal_id = $1
         AND (from_type, from_id, to_type, to_id, category, type_id)
           > ($2::text, $3::bigint, $4::text, $5::bigint, $6::text, $7::integer)
       ORDER BY from_type, from_id, to_type, to_id, category, type_id LIMIT $8`,
      [portalId, ...key, limit],
    );
    return rows.map(toAssociation);
  }

  async portalAuditPage(portalId: number, afterSeq: number, limit: number) {
    const rows = await this.rows<AuditRow & { seq: number }>(
      'SELECT * FROM audit WHERE portal_id = $1 AND seq > $2 ORDER BY seq LIMIT $3',
      [portalId, afterSeq, limit],
    );
    return rows.map((r) => ({ seq: r.seq, entry: toAudit(r) }));
  }

  async insertToken(t: TokenRecord): Promise<void> {
    this.touch(t.portalId);
    await this.send(
      `INSERT INTO tokens (id, hash, portal_id, user_id, scopes, created_at, revoked_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [
        t.id,
        t.hash,
        t.portalId,
        t.userId,
        t.scopes === null ? null : JSON.stringify(t.scopes),
        t.createdAt,
        t.revokedAt,
      ],
    );
  }

  async findTokenByHash(hash: string): Promise<TokenRecord | undefined> {
    const [row] = await this.rows<TokenRow>('SELECT * FROM tokens WHERE hash = $1', [hash]);
    return row === undefined ? undefined : toToken(row);
  }

  async listTokens(): Promise<TokenRecord[]> {
    return (await this.rows<TokenRow>('SELECT * FROM tokens ORDER BY created_at, id', [])).map(toToken);
  }

  async revokeToken(id: string, now: number): Promise<boolean> {
    // Principals are cached by token, not by portal: every process forgets them all.
    if (this.touched !== undefined) this.touched.all = true;
    const r = await this.query('UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [
      now,
      id,
    ]);
    return r.rowCount === 1;
  }

  async countTokens(): Promise<number> {
    const [row] = await this.rows<{ n: number }>('SELECT count(*)::integer AS n FROM tokens', []);
    return row?.n ?? 0;
  }

  /**
   * In a write, after a lock that every other write counting portals holds until it ends: the
   * count then includes the portals those created, in any process. (Without it, new tokens'
   * first writes running together each saw their own new portal and not the others', and all
   * passed --max-portals.)
   */
  async countPortals(): Promise<number> {
    if (this.touched !== undefined) await this.query('SELECT pg_advisory_xact_lock($1)', [PORTAL_COUNT_LOCK]);
    const [row] = await this.rows<{ n: number }>('SELECT count(*)::integer AS n FROM portals', []);
    return row?.n ?? 0;
  }

  async clearPortal(portalId: number, typeKeys?: readonly string[]): Promise<void> {
    this.touch(portalId);
    const types = typeKeys === undefined ? null : [...typeKeys];
    // Stages before pipelines: they reference them.
    for (const [table, column] of [
      ['stages', 'object_type'],
      ['pipelines', 'object_type'],
      ['records', 'object_type'],
      ['audit', 'object_type'],
    ]) {
      await this.send(
        `DELETE FROM ${table} WHERE portal_id = $1 AND ($2::text[] IS NULL OR ${column} = ANY($2))`,
        [portalId, types],
      );
    }
    await this.send(
      `DELETE FROM associations WHERE portal_id = $1
         AND ($2::text[] IS NULL OR from_type = ANY($2) OR to_type = ANY($2))`,
      [portalId, types],
    );
  }

  async getPortal(portalId: number): Promise<PortalRecord | undefined> {
    const [row] = await this.rows<PortalRow>('SELECT id, next_id, created_at FROM portals WHERE id = $1', [
      portalId,
    ]);
    return row === undefined ? undefined : toPortal(row);
  }

  async setNextId(portalId: number, nextId: number): Promise<void> {
    this.touch(portalId);
    const r = await this.query('UPDATE portals SET next_id = $2 WHERE id = $1', [portalId, nextId]);
    if (r.rowCount !== 1) throw new Error(`portal ${portalId} does not exist`);
  }

  async portalSeed(portalId: number): Promise<string | undefined> {
    const [row] = await this.rows<{ document: string }>(
      'SELECT document FROM portal_seeds WHERE portal_id = $1',
      [portalId],
    );
    return row?.document;
  }

  async setPortalSeed(portalId: number, document: string): Promise<void> {
    this.touch(portalId);
    await this.send(
      `INSERT INTO portal_seeds (portal_id, document) VALUES ($1, $2)
       ON CONFLICT (portal_id) DO UPDATE SET document = excluded.document`,
      [portalId, document],
    );
  }

  async writeHealthProbe(at: number): Promise<void> {
    await this.send(
      'INSERT INTO health_probe (id, at) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET at = excluded.at',
      [at],
    );
  }
}
