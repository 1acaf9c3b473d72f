/** Builds the Fastify app without listening: the CLI, the library API and tests share it. */
import { randomUUID } from 'node:crypto';

import cors from '@fastify/cors';
import Fastify from 'fastify';
import type { FastifyBaseLogger, FastifyInstance, FastifyPluginAsync, FastifyPluginCallback } from 'fastify';
import fp from 'fastify-plugin';

import { AccountService } from '../app/account-service.js';
import type { AuthService } from '../app/auth-service.js';
import type { ControlPlane } from '../app/control-plane.js';
import type { PipelineService } from '../app/pipeline-service.js';
import { PropertyService } from '../app/property-service.js';
import type { RateLimits } from '../app/rate-limiter.js';
import type { RecordService } from '../app/record-service.js';
import type { StorageHealth } from '../app/storage-health.js';
import type { Store } from '../domain/ports.js';
import { AccessLog } from './access-log.js';
import { CORRELATION_HEADER, errorHandler } from './error-handler.js';
import { RATE_LIMIT_HEADERS } from './guards.js';
import { board } from './plugins/board.js';
import { bodyParsing } from './plugins/body-parsing.js';
import { booleanFlags } from './plugins/boolean-flags.js';
import { draining } from './plugins/draining.js';
import { CONTROL_PREFIX, faultsAndJournal } from './plugins/faults-and-journal.js';
import { healthAndOpenApi } from './plugins/health-and-openapi.js';
import { notAllowed } from './plugins/not-allowed.js';
import { securityHeaders } from './plugins/security-headers.js';
import type { ReadCache } from './read-cache.js';
import { accountRoutes } from './routes/account.js';
import { associationDefinitionRoutes, associationRoutes } from './routes/associations.js';
import { controlPlaneRoutes } from './routes/control-plane.js';
import { objectRoutes } from './routes/objects.js';
import { pipelineRoutes } from './routes/pipelines.js';
import { propertyRoutes } from './routes/properties.js';
import { tokenInfoRoutes } from './routes/token-info.js';
import { SCHEMA_COMPILERS } from './schema-compilers.js';
import { SHARED_SCHEMAS } from './schemas.js';

export interface AppDeps {
  readonly store: Store;
  readonly service: PipelineService;
  readonly records: RecordService;
  readonly auth: AuthService;
  /** Cached pipeline reads; absent when another process may write the same database. */
  readonly cache?: ReadCache;
  /** Per-token rate limits; absent when they are off. */
  readonly limiter?: RateLimits;
  /** The emulator control plane; absent when it is off. */
  readonly control?: ControlPlane;
  /** The storage fault in progress, for /health; absent: /health asks the store alone. */
  readonly health?: StorageHealth;
}

/**
 * A Fastify plugin of the embedder's, registered on the app's root before Stageline's routes:
 * a hook it adds sees every request.
 */
export type StagelinePlugin = FastifyPluginAsync | FastifyPluginCallback;

export interface AppOptions {
  /** Where log lines go; none when undefined. */
  readonly logger: FastifyBaseLogger | undefined;
  readonly bodyLimit: number;
  readonly version: string;
  readonly corsOrigins: readonly string[];
  readonly requestTimeoutMs: number;
  readonly plugins?: readonly StagelinePlugin[];
}

/**
 * Every path the Pipelines API is served under. The same portal data is visible through each;
 * from 2026-09 the validate…BeforeDelete flags default to true, and each type has its own flag.
 */
export const PIPELINE_API_VERSIONS = [
  { name: 'v3', prefix: '/crm/v3/pipelines', deleteChecksDefault: false, deleteFlagRule: 'either' },
  { name: '2025-09', prefix: '/crm/pipelines/2025-09', deleteChecksDefault: false, deleteFlagRule: 'either' },
  { name: '2026-03', prefix: '/crm/pipelines/2026-03', deleteChecksDefault: false, deleteFlagRule: 'either' },
  {
    name: '2026-09',
    prefix: '/crm/pipelines/2026-09',
    deleteChecksDefault: true,
    deleteFlagRule: 'per-type',
  },
] as const;

export async function buildApp(deps: AppDeps, options: AppOptions): Promise<FastifyInstance> {
  const accessLog = new AccessLog();
  const app = Fastify({
    loggerInstance: options.logger,
    logController: accessLog,
    bodyLimit: options.bodyLimit,
    // Slow clients cannot hold a connection: headers and the whole request must arrive in time.
    requestTimeout: options.requestTimeoutMs,
    http: {
      headersTimeout: Math.min(options.requestTimeoutMs, 10_000),
      requestTimeout: options.requestTimeoutMs,
      connectionsCheckingInterval: Math.min(options.requestTimeoutMs, 1000),
    },
    genReqId: () => randomUUID(),
    routerOptions: { ignoreTrailingSlash: true },
    // Closing is answered by the draining plugin's 503 envelope, not Fastify's default body.
    return503OnClosing: false,
    // Errors raised before routing (a malformed URL, say) get the envelope too.
    frameworkErrors: (error, request, reply) => {
      reply.header(CORRELATION_HEADER, request.id);
      errorHandler(error, request, reply);
    },
    schemaController: { compilersFactory: SCHEMA_COMPILERS },
    ajv: {
      customOptions: {
        removeAdditional: true,
        coerceTypes: true,
        useDefaults: true,
        allErrors: false,
        allowUnionTypes: true,
        // The schemas are this package's constants, not input: checking them against JSON
        // Schema's meta-schema at every start cost about 90 ms (compiling the meta-schema).
        validateSchema: false,
      },
    },
  });
  app.decorateRequest('principal');
  app.decorateRequest('objectType');
  // Before any route: routes with secret path parameters are redacted in the access log.
  app.addHook('onRoute', (route) => accessLog.noteRoute(route));
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);
  app.setErrorHandler(errorHandler);

  await app.register(notAllowed);
  await app.register(securityHeaders);
  await app.register(draining);
  if (options.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: options.corsOrigins.includes('*') ? '*' : [...options.corsOrigins],
      methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
      exposedHeaders: [CORRELATION_HEADER, ...RATE_LIMIT_HEADERS],
    });
  }
  await app.register(bodyParsing);
  await app.register(booleanFlags);
  await app.register(healthAndOpenApi, {
    store: deps.store,
    health: deps.health,
    version: options.version,
  });
  // The board, its home page and Swagger UI: static files and pages, no data of their own.
  await app.register(board);
  for (const plugin of options.plugins ?? []) await app.register(fp(plugin));
  if (deps.control !== undefined) {
    await app.register(faultsAndJournal, {
      control: deps.control,
      auth: deps.auth,
      policy: deps.limiter?.policy,
    });
    await app.register(controlPlaneRoutes, {
      prefix: CONTROL_PREFIX,
      control: deps.control,
      auth: deps.auth,
    });
  }

  for (const version of PIPELINE_API_VERSIONS) {
    await app.register(pipelineRoutes, {
      prefix: version.prefix,
      service: deps.service,
      auth: deps.auth,
      cache: deps.cache,
      limiter: deps.limiter,
      deleteChecksDefault: version.deleteChecksDefault,
      deleteFlagRule: version.deleteFlagRule,
      tag: `Pipelines ${version.name}`,
    });
  }
  await app.register(objectRoutes, {
    prefix: '/crm/v3/objects',
    records: deps.records,
    auth: deps.auth,
    limiter: deps.limiter,
  });
  const accounts = new AccountService(deps.auth);
  const guarded = { auth: deps.auth, limiter: deps.limiter };
  await app.register(associationRoutes, { prefix: '/crm/v4/objects', records: deps.records, ...guarded });
  await app.register(associationDefinitionRoutes, {
    prefix: '/crm/v4/associations',
    records: deps.records,
    ...guarded,
  });
  await app.register(propertyRoutes, {
    prefix: '/crm/v3/properties',
    properties: new PropertyService(deps.store, accounts),
    ...guarded,
  });
  await app.register(accountRoutes, { accounts, ...guarded });
  await app.register(tokenInfoRoutes, { accounts });
  return app;
}
