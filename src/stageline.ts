/** The one composition root: the CLI, the library API and the tests all build Stageline here. */
import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { AuthService } from './app/auth-service.js';
import { PipelineService } from './app/pipeline-service.js';
import { RateLimiter, parseRateLimit } from './app/rate-limiter.js';
import { RecordService } from './app/record-service.js';
import type { Config } from './config.js';
import type { Store } from './domain/ports.js';
import type { Clock } from './domain/time.js';
import { buildApp } from './http/build-app.js';
import { ReadCache, invalidatingStore } from './http/read-cache.js';
import { PostgresStore } from './storage/postgres/postgres-store.js';
import { SqliteStore } from './storage/sqlite/sqlite-store.js';

export interface Stageline {
  readonly config: Config;
  readonly app: FastifyInstance;
  readonly store: Store;
  readonly auth: AuthService;
  readonly service: PipelineService;
  readonly records: RecordService;
  /** Stops accepting requests, drains in-flight ones, then closes the database. */
  close(): Promise<void>;
}

/** About 64 MB of cached answers at most. */
const READ_CACHE_CHARS = 32 * 1024 * 1024;

export interface BuildOverrides {
  readonly clock?: Clock;
  /** Replaces the pino config derived from `config.logLevel` (tests capture logs this way). */
  readonly logger?: FastifyServerOptions['logger'];
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
  const url = new URL(database);
  const schema = url.searchParams.get('schema') ?? undefined;
  url.searchParams.delete('schema');
  return PostgresStore.open(url.toString(), {
    poolSize: options.poolSize,
    timeoutMs: options.dbTimeoutMs,
    schema,
  });
}

export function loggerOptions(level: string): FastifyServerOptions['logger'] {
  if (level === 'silent') return false;
  return {
    level,
    // Tokens never reach the logs: the default serializers omit headers, and this is the backstop.
    redact: {
      paths: ['req.headers.authorization', 'headers.authorization', 'authorization'],
      censor: '[redacted]',
    },
  };
}

export async function createStageline(config: Config, overrides: BuildOverrides = {}): Promise<Stageline> {
  const clock = overrides.clock ?? Date.now;
  const opened = await openStore(config.database, config);
  const cache =
    opened.externalVersion === undefined
      ? undefined
      : new ReadCache({ maxChars: READ_CACHE_CHARS, externalVersion: opened.externalVersion });
  const store = cache === undefined ? opened : invalidatingStore(opened, cache);
  try {
    const auth = new AuthService(store, config.auth, clock, { externalVersion: opened.externalVersion });
    const service = new PipelineService(store, clock);
    const records = new RecordService(store, clock);
    const policy = parseRateLimit(config.rateLimit);
    const limiter = policy === null ? undefined : new RateLimiter(policy, clock);
    const app = await buildApp(
      { store, service, records, auth, cache, limiter },
      {
        logger: overrides.logger ?? loggerOptions(config.logLevel),
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
    return { config, app, store, auth, service, records, close };
  } catch (err) {
    await store.close();
    throw err;
  }
}
