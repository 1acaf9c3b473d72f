/**
 * Cached pipeline reads answered before Fastify sees the request.
 *
 * A cached read is a map lookup, yet going through Fastify costs it routing, a request and a
 * reply object, two hook chains, parameter validation and a promise for the auth hook: a good
 * share of its time (answered here, a stage GET ran about 15 % more requests per second). This
 * path answers only what it can answer exactly as the routes would: a GET of a list, pipeline,
 * stages or stage path with no query string and no escapes, from an open-mode token already
 * known, whose answer is cached and small enough not to be compressed. Anything else (an unknown
 * token, a scope or object type error, a miss) goes to Fastify unchanged.
 *
 * It is only installed where nothing else has to see each request: no rate limits, no CORS and
 * no per-request log lines (a level above `info`). `test/http/fast-reads.test.ts` checks that
 * its answers carry the same status, headers and body as Fastify's.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

import { requireScope } from '../app/auth-service.js';
import type { AuthService } from '../app/auth-service.js';
import { resolveObjectType } from '../domain/object-types.js';
import { COMPRESS_FROM_CHARS } from './compression.js';
import { CORRELATION_HEADER, JSON_TYPE } from './error-handler.js';
import { BEARER } from './guards.js';
import { readKey } from './read-cache.js';
import type { ReadCache } from './read-cache.js';

/** The text as a regular expression that matches it literally. */
export const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export interface FastReadDeps {
  readonly auth: AuthService;
  readonly cache: ReadCache;
  /** Where the Pipelines API is served, `/crm/v3/pipelines` and the dated paths. */
  readonly prefixes: readonly string[];
  /** Headers every API answer carries besides the correlation id. */
  readonly headers: Readonly<Record<string, string>>;
  /** True once the server drains for shutdown: Fastify then answers, and closes connections. */
  readonly closing: () => boolean;
}

/** Answers the request and returns true, or leaves it alone and returns false. */
export type FastReads = (req: IncomingMessage, res: ServerResponse) => boolean;

export function fastReads(deps: FastReadDeps): FastReads {
  const { auth, cache } = deps;
  // `{prefix}/{objectType}[/{pipelineId}[/stages[/{stageId}]]]`, as the routes declare them.
  const readPath = new RegExp(
    `^(?:${deps.prefixes.map(escapeRegExp).join('|')})/([^/]+)(?:/([^/]+)(?:/(stages)(?:/([^/]+))?)?)?$`,
  );
  const fixed = Object.entries(deps.headers).flat();
  return (req, res) => {
    const url = req.url ?? '';
    if (req.method !== 'GET' || url.includes('?') || url.includes('%')) return false;
    const match = readPath.exec(url);
    if (match === null) return false;
    const token = BEARER.exec(req.headers.authorization ?? '')?.[1];
    const principal = token === undefined ? undefined : auth.knownOpenPrincipal(token);
    if (principal === undefined || deps.closing()) return false;
    const [, typeName, pipelineId, stages, stageId] = match;
    let typeKey: string;
    try {
      const type = resolveObjectType(typeName!, principal.portalId);
      requireScope(principal, type, 'read');
      typeKey = type.key;
    } catch {
      return false;
    }
    const op =
      pipelineId === undefined
        ? 'pipelines'
        : stages === undefined
          ? 'pipeline'
          : stageId === undefined
            ? 'stages'
            : 'stage';
    const hit = cache.get(principal.portalId, readKey(op, typeKey, pipelineId, stageId));
    if (hit === undefined || hit.body.length >= COMPRESS_FROM_CHARS) return false;
    res.writeHead(200, [
      ...fixed,
      CORRELATION_HEADER,
      randomUUID(),
      'content-type',
      JSON_TYPE,
      'content-length',
      String(Buffer.byteLength(hit.body)),
    ]);
    res.end(hit.body);
    return true;
  };
}
