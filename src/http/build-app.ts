/** Builds the Fastify app without listening: the CLI, the library API and tests share it. */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { ServerOptions } from 'node:http';
import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import { RATE_LIMIT_HEADERS } from './guards.js';
import Fastify from 'fastify';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import type { AuthService } from '../app/auth-service.js';
import type { PipelineService } from '../app/pipeline-service.js';
import type { RateLimiter } from '../app/rate-limiter.js';
import type { RecordService } from '../app/record-service.js';
import { DomainError } from '../domain/errors.js';
import type { Store } from '../domain/ports.js';
import { CORRELATION_HEADER, JSON_TYPE, errorHandler, sendError } from './error-handler.js';
import { escapeRegExp, fastReads } from './fast-reads.js';
import type { FastReads } from './fast-reads.js';
import type { ReadCache } from './read-cache.js';
import { lazyRequestLogger } from './request-logger.js';
import { objectRoutes } from './routes/objects.js';
import { pipelineRoutes } from './routes/pipelines.js';
import { SHARED_SCHEMAS } from './schemas.js';

export interface AppDeps {
  readonly store: Store;
  readonly service: PipelineService;
  readonly records: RecordService;
  readonly auth: AuthService;
  /** Cached pipeline reads; absent when another process may write the same database. */
  readonly cache?: ReadCache;
  /** Per-token rate limits; absent when they are off. */
  readonly limiter?: RateLimiter;
}

export interface AppOptions {
  /** A pino logger config, or false for none. */
  readonly logger: FastifyServerOptions['logger'];
  readonly bodyLimit: number;
  readonly version: string;
  readonly corsOrigins: readonly string[];
  readonly requestTimeoutMs: number;
}

/**
 * Every path the Pipelines API is served under. The same portal data is visible through each;
 * from 2026-09 the validate…BeforeDelete flags default to true.
 */
export const PIPELINE_API_VERSIONS = [
  { name: 'v3', prefix: '/crm/v3/pipelines', deleteChecksDefault: false },
  { name: '2025-09', prefix: '/crm/pipelines/2025-09', deleteChecksDefault: false },
  { name: '2026-03', prefix: '/crm/pipelines/2026-03', deleteChecksDefault: false },
  { name: '2026-09', prefix: '/crm/pipelines/2026-09', deleteChecksDefault: true },
] as const;

/** For a JSON API: never sniffed, framed, cached by intermediaries or sent with a referrer. */
const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/** Answered with a 503 while the server drains for shutdown. */
class ShuttingDown extends Error {
  readonly statusCode = 503;
  constructor() {
    super('the server is shutting down');
  }
}

const TEXT_MESSAGE =
  'Text values may not contain NUL (\\u0000) characters or unpaired surrogates (invalid UTF-16)';

/** Text no backend stores faithfully: NUL, and lone surrogates (they come back as U+FFFD). */
const unstorable = (text: string): boolean => text.includes('\0') || !text.isWellFormed();

function hasUnstorableText(value: unknown): boolean {
  if (typeof value === 'string') return unstorable(value);
  if (Array.isArray(value)) return value.some(hasUnstorableText);
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).some(([k, v]) => unstorable(k) || hasUnstorableText(v));
  }
  return false;
}

interface RoutePattern {
  readonly method: string;
  readonly pattern: RegExp;
}

/** `/crm/v3/pipelines/:objectType` → a regex matching concrete paths, for 405 answers. */
const toPattern = (url: string): RegExp =>
  new RegExp(`^${escapeRegExp(url).replace(/:[A-Za-z]+/g, '[^/]+')}/?$`);

/** The options of Fastify's own HTTP/1 server that a server factory has to apply itself. */
interface HttpServerSettings {
  http?: ServerOptions;
  keepAliveTimeout: number;
  requestTimeout: number;
  connectionTimeout: number;
  maxRequestsPerSocket: number;
}

export async function buildApp(deps: AppDeps, options: AppOptions): Promise<FastifyInstance> {
  /** Set once the app is built, where nothing else has to see each request (see fast-reads). */
  let fast: FastReads | undefined;
  const app = Fastify({
    // Fastify's HTTP/1 server, with cached reads answered in front of it when `fast` is set.
    serverFactory: (handler, settings) => {
      const s = settings as unknown as HttpServerSettings;
      const server = createServer(s.http ?? {}, (req, res) => {
        if (fast === undefined || !fast(req, res)) handler(req, res);
      });
      server.keepAliveTimeout = s.keepAliveTimeout;
      server.requestTimeout = s.requestTimeout;
      server.setTimeout(s.connectionTimeout);
      if (s.maxRequestsPerSocket > 0) server.maxRequestsPerSocket = s.maxRequestsPerSocket;
      return server;
    },
    logger: options.logger,
    bodyLimit: options.bodyLimit,
    // Slow clients cannot hold a connection: headers and the whole request must arrive in time.
    requestTimeout: options.requestTimeoutMs,
    http: {
      headersTimeout: Math.min(options.requestTimeoutMs, 10_000),
      requestTimeout: options.requestTimeoutMs,
      connectionsCheckingInterval: Math.min(options.requestTimeoutMs, 1000),
    },
    genReqId: () => randomUUID(),
    childLoggerFactory: lazyRequestLogger,
    routerOptions: { ignoreTrailingSlash: true },
    // Closing is answered by our own 503 envelope below, not Fastify's default body.
    return503OnClosing: false,
    // Errors raised before routing (a malformed URL, say) get the envelope too.
    frameworkErrors: (error, request, reply) => {
      reply.header(CORRELATION_HEADER, request.id);
      errorHandler(error, request, reply);
    },
    ajv: {
      customOptions: {
        removeAdditional: true,
        coerceTypes: true,
        useDefaults: true,
        allErrors: false,
        allowUnionTypes: true,
      },
    },
  });

  const routes: RoutePattern[] = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, pattern: toPattern(route.url) });
  });

  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Stageline',
        version: options.version,
        description: "Stageline's implementation of HubSpot's CRM Pipelines API.",
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      },
      security: [{ bearer: [] }],
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });

  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  // While draining, every answer closes its connection: a keep-alive client would otherwise
  // hold the process open until its idle timeout (72 s) after the last request.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });

  if (options.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: options.corsOrigins.includes('*') ? '*' : [...options.corsOrigins],
      methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
      exposedHeaders: [CORRELATION_HEADER, ...RATE_LIMIT_HEADERS],
    });
  }

  app.addHook('onRequest', (request, reply, done) => {
    reply.headers(SECURITY_HEADERS);
    reply.header(CORRELATION_HEADER, request.id);
    if (request.url.includes('%00')) return done(new DomainError('VALIDATION_ERROR', TEXT_MESSAGE));
    if (closing) return done(new ShuttingDown());
    done();
  });

  // JSON only: a text/plain body is a 415, as any other non-JSON content type.
  app.removeContentTypeParser('text/plain');
  // Empty bodies (a DELETE sent with a JSON content type) are no body at all. Text may not hold
  // NUL characters or lone surrogates: no backend stores them faithfully.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    if (text.trim() === '') return done(null, undefined);
    // Only escapes can smuggle these in: the body was decoded from UTF-8 already.
    if (!/\\u(0000|d[89a-f])/i.test(text)) return parseJson(request, text, done);
    parseJson(request, text, (err: Error | null, parsed?: unknown) => {
      if (err) return done(err, undefined);
      if (hasUnstorableText(parsed))
        return done(new DomainError('VALIDATION_ERROR', TEXT_MESSAGE), undefined);
      return done(null, parsed);
    });
  });

  app.setErrorHandler(errorHandler);

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const allowed = routes.filter((r) => r.pattern.test(path)).map((r) => r.method);
    if (allowed.length > 0 && !allowed.includes(request.method)) {
      reply.header('allow', [...new Set(allowed)].join(', '));
      return sendError(
        request,
        reply,
        405,
        'VALIDATION_ERROR',
        `Method ${request.method} is not allowed on ${path}`,
      );
    }
    return sendError(request, reply, 404, 'OBJECT_NOT_FOUND', `No route matches ${request.method} ${path}`);
  });

  app.get('/health', { schema: { hide: true } }, async (request, reply) => {
    try {
      await deps.store.ping();
      return reply.type(JSON_TYPE).send({ status: 'ok' });
    } catch {
      return sendError(request, reply, 503, 'SERVICE_UNAVAILABLE', 'The database is not reachable');
    }
  });

  app.get('/openapi.json', { schema: { hide: true } }, async (_request, reply) =>
    reply.type(JSON_TYPE).send(app.swagger()),
  );

  for (const version of PIPELINE_API_VERSIONS) {
    await app.register(pipelineRoutes, {
      prefix: version.prefix,
      service: deps.service,
      auth: deps.auth,
      cache: deps.cache,
      limiter: deps.limiter,
      deleteChecksDefault: version.deleteChecksDefault,
      tag: `Pipelines ${version.name}`,
    });
  }

  // Fastify logs every request at info: those lines need the request to go through it.
  const quiet = options.logger === false || !['trace', 'debug', 'info'].includes(app.log.level);
  if (deps.cache !== undefined && deps.limiter === undefined && options.corsOrigins.length === 0 && quiet) {
    fast = fastReads({
      auth: deps.auth,
      cache: deps.cache,
      prefixes: PIPELINE_API_VERSIONS.map((v) => v.prefix),
      headers: SECURITY_HEADERS,
      closing: () => closing,
    });
  }

  await app.register(objectRoutes, {
    prefix: '/crm/v3/objects',
    records: deps.records,
    auth: deps.auth,
    limiter: deps.limiter,
  });

  return app;
}
