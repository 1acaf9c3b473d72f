/** The one composition root: the CLI, the library API and the tests all build Stageline here. */
import { readFileSync } from 'node:fs';
import type { Writable } from 'node:stream';

import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { AuthService } from './app/auth-service.js';
import { openPortalStore } from './app/open-portals.js';
import type { IssuedToken } from './app/auth-service.js';
import { ControlPlane, loadSeedFile } from './app/control-plane.js';
import { PipelineService } from './app/pipeline-service.js';
import { RateLimiter, SharedRateLimiter, parseRateLimit } from './app/rate-limiter.js';
import { RecordService } from './app/record-service.js';
import type { Config } from './config.js';
import type { Store } from './domain/ports.js';
import type { DataVersionWatch, MonotonicClock } from './domain/external-changes.js';
import type { Clock } from './domain/time.js';
import { buildApp } from './http/build-app.js';
import type { StagelinePlugin } from './http/build-app.js';
import { ReadCache, invalidatingStore } from './http/read-cache.js';
import { createLogger } from './logging.js';
import { StorageHealth, watchedStore } from './app/storage-health.js';
import type { SeedDocument } from './seed/seed-document.js';
import { SqliteStore } from './storage/sqlite/sqlite-store.js';

export interface Stageline {
  readonly config: Config;
  readonly app: FastifyInstance;
  readonly store: Store;
  readonly auth: AuthService;
  readonly service: PipelineService;
  readonly records: RecordService;
  /** Resets, seeds, snapshots, clocks, faults and the journal of each portal. */
  readonly control: ControlPlane;
  /**
   * First start of a tokens-mode server: portal 1 and an admin token (returned, to print once),
   * and `--seed` applied to `--seed-portal` when that portal is new.
   */
  bootstrap(): Promise<IssuedToken | undefined>;
  /** The process's logger; undefined at log level `silent`. */
  readonly log: Logger | undefined;
  /** Stops accepting requests, drains in-flight ones, then closes the database. */
  close(): Promise<void>;
}

/** About 64 MB of cached answers at most. */
const READ_CACHE_CHARS = 32 * 1024 * 1024;

export interface BuildOverrides {
  /** The system clock (each portal's clock follows it unless frozen through the control plane). */
  readonly clock?: () => number;
  /** Measures how long ago the caches asked the store for other connections' commits. */
  readonly monotonicClock?: MonotonicClock;
  /** An opened store to serve from, instead of opening `config.database`; closed with the app. */
  readonly store?: Store;
  /** Log lines go here instead of stdout, at `config.logLevel` (tests capture logs this way). */
  readonly logStream?: Writable;
  /**
   * Fastify plugins registered on the app's root before Stageline's routes: hooks they add see
   * every request.
   */
  readonly plugins?: readonly StagelinePlugin[];
  /** A seed document, instead of reading `config.seed`. */
  readonly seed?: SeedDocument;
}

export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export const isPostgresUrl = (database: string): boolean => /^postgres(ql)?:\/\//i.test(database);

/**
 * The storage a `database` setting names: a `postgres://` URL (a `schema` query parameter picks
 * the schema) or a SQLite file / `:memory:`.
 */
export async function openStore(
  database: string,
  options: Pick<Config, 'poolSize' | 'dbTimeoutMs'>,
): Promise<Store> {
  if (!isPostgresUrl(database)) return new SqliteStore(database);
  // Loaded only when used: the driver costs about 70 ms of start-up.
  const { PostgresStore } = await import('./storage/postgres/postgres-store.js');
  const url = new URL(database);
  const schema = url.searchParams.get('schema') ?? undefined;
  url.searchParams.delete('schema');
  return PostgresStore.open(url.toString(), {
    poolSize: options.poolSize,
    timeoutMs: options.dbTimeoutMs,
    schema,
  });
}

export async function createStageline(config: Config, overrides: BuildOverrides = {}): Promise<Stageline> {
  const systemClock = overrides.clock ?? Date.now;
  const seed = overrides.seed ?? (config.seed === undefined ? undefined : await loadSeedFile(config.seed));
  const raw = overrides.store ?? (await openStore(config.database, config));
  const log = createLogger({
    level: config.logLevel,
    format: config.logFormat,
    stream: overrides.logStream,
  });
  // Storage faults are logged once per episode, and /health reports the one in progress.
  const health = new StorageHealth(log, systemClock);
  const opened = watchedStore(raw, health);
  const external: DataVersionWatch | undefined =
    opened.externalVersion === undefined
      ? undefined
      : { version: opened.externalVersion, now: overrides.monotonicClock ?? (() => performance.now()) };
  // SQLite: other connections' commits seen through its data version; PostgreSQL: through
  // LISTEN/NOTIFY. A store with neither gets no cache.
  const feed = opened.changes;
  const cache =
    external === undefined && feed === undefined
      ? undefined
      : new ReadCache({ maxChars: READ_CACHE_CHARS, external, feed });
  const cached = cache === undefined ? opened : invalidatingStore(opened, cache);
  const open = config.auth === 'open';
  // Open mode: a token's portal is created by its first write; until then its reads are answered
  // from an in-memory copy of the starting state.
  const store = open
    ? openPortalStore(cached, {
        openTemplate: () => new SqliteStore(':memory:'),
        startingState: (repo, portalId, now) => auth.startingState(repo, portalId, now),
        createPortal: (repo, actor) => auth.createOpenPortal(repo, actor),
      })
    : cached;
  let auth: AuthService;
  try {
    const control = new ControlPlane(store, {
      seed: open ? seed : undefined,
      journalSize: config.journalSize,
      clock: systemClock,
    });
    // Each portal's time: the system's, unless its tests froze it through the control plane.
    const clock: Clock = control.clocks.now;
    auth = new AuthService(cached, config.auth, clock, {
      external,
      feed,
      startPortal: open && seed !== undefined ? control.startPortal : undefined,
      stampedAt: systemClock(),
      maxPortals: open ? config.maxPortals : undefined,
    });
    const service = new PipelineService(store, clock);
    const records = new RecordService(store, clock);
    const policy = parseRateLimit(config.rateLimit);
    // Several processes on one PostgreSQL database count in it, together.
    const limiter =
      policy === null
        ? undefined
        : opened.takeRate === undefined
          ? new RateLimiter(policy, clock)
          : new SharedRateLimiter(policy, clock, opened.takeRate);
    const app = await buildApp(
      {
        store,
        service,
        records,
        auth,
        cache,
        limiter,
        control: config.controlPlane === 'on' ? control : undefined,
        health,
      },
      {
        logger: log,
        plugins: overrides.plugins,
        bodyLimit: config.bodyLimit,
        version: VERSION,
        corsOrigins: config.corsOrigins,
        requestTimeoutMs: config.requestTimeoutMs,
      },
    );
    let closed: Promise<void> | undefined;
    const close = () =>
      (closed ??= (async () => {
        await app.close();
        await store.close();
      })());
    const bootstrap = async () => {
      const seedPortal = !open && seed !== undefined ? config.seedPortal : undefined;
      const isNew = seedPortal !== undefined && !(await store.read((repo) => repo.portalExists(seedPortal)));
      const issued = await auth.bootstrap();
      if (seedPortal !== undefined) await control.seedPortalOnce(seedPortal, seed!, isNew);
      return issued;
    };
    return { config, app, store, auth, service, records, control, bootstrap, log, close };
  } catch (err) {
    await store.close();
    throw err;
  }
}
