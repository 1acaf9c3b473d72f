/**
 * The checks every API route runs before its handler: the bearer token (401), then the object
 * type and the operation's scope (400, 403), all before the body is read or validated, as
 * HubSpot answers 403 before 400.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { WINDOW_MS } from '../app/rate-limiter.js';
import type { RateLimits } from '../app/rate-limiter.js';
import { requireAnyScope, requireScope } from '../app/auth-service.js';
import type { AuthService, Principal } from '../app/auth-service.js';
import { DomainError } from '../domain/errors.js';
import { resolveObjectType } from '../domain/object-types.js';
import type { Access, ObjectType } from '../domain/object-types.js';
import { AUTH_MESSAGE, JSON_TYPE } from './error-handler.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
    objectType: ObjectType;
  }
  interface FastifyContextConfig {
    /** Which scopes a route under `/{objectType}` needs; the route sets it or `scopes`. */
    access?: Access;
    /** For a route without an object type: any one of these scopes grants access. */
    scopes?: readonly string[];
  }
}

/** `Authorization: Bearer <token>`; the token is the first group. */
export const BEARER = /^Bearer\s+(\S+)\s*$/i;

export const RATE_LIMIT_HEADERS = [
  'x-hubspot-ratelimit-interval-milliseconds',
  'x-hubspot-ratelimit-max',
  'x-hubspot-ratelimit-remaining',
  'x-hubspot-ratelimit-daily',
  'x-hubspot-ratelimit-daily-remaining',
];

const RATE_LIMIT_MESSAGES = {
  TEN_SECONDLY_ROLLING: 'You have reached your ten_secondly_rolling limit.',
  DAILY: 'You have reached your daily limit.',
} as const;

export function addGuards(app: FastifyInstance, auth: AuthService, limiter: RateLimits | undefined): void {
  // One hook, before the body is even read: the token (401), then the object type (400) and
  // the operation's scope (403). Route params are known once routing is done, before onRequest.
  app.addHook('onRequest', async (request, reply) => {
    // Already known when the control plane's journal looked the token up.
    const match = request.principal === undefined ? BEARER.exec(request.headers.authorization ?? '') : null;
    const principal = match ? await auth.authenticate(match[1]!) : request.principal;
    if (principal === undefined) throw new DomainError('INVALID_AUTHENTICATION', AUTH_MESSAGE);
    request.principal = principal;
    if (limiter !== undefined) {
      const d = await limiter.take(principal.tokenId, principal.portalId);
      reply.headers({
        'x-hubspot-ratelimit-interval-milliseconds': WINDOW_MS,
        'x-hubspot-ratelimit-max': limiter.policy.perTenSeconds,
        'x-hubspot-ratelimit-remaining': d.remaining,
        'x-hubspot-ratelimit-daily': limiter.policy.daily,
        'x-hubspot-ratelimit-daily-remaining': d.dailyRemaining,
      });
      if (d.exceeded !== null) {
        // HubSpot's own 429 body, which the official SDK reads to decide whether to retry.
        // Pre-serialized: this body is not the error envelope the 4xx response schema describes.
        return reply
          .code(429)
          .type(JSON_TYPE)
          .send(
            JSON.stringify({
              status: 'error',
              message: RATE_LIMIT_MESSAGES[d.exceeded],
              errorType: 'RATE_LIMIT',
              correlationId: request.id,
              policyName: d.exceeded,
              requestId: randomUUID(),
            }),
          );
      }
    }
    const { access, scopes } = request.routeOptions.config;
    if (scopes !== undefined) return requireAnyScope(principal, scopes);
    const { objectType } = request.params as { objectType?: string };
    // Only the pipelines routes ('read'/'write') speak of a type's pipelines.
    const use = access === 'read' || access === 'write' ? 'pipelines' : 'records';
    request.objectType = resolveObjectType(objectType ?? '', principal.portalId, use);
    if (access === undefined) throw new Error(`route ${request.routeOptions.url} declares no access`);
    requireScope(principal, request.objectType, access);
  });
}
