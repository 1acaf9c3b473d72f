import { STATUS_CODES } from 'node:http';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

import type { AuthService, Principal } from '../../app/auth-service.js';
import type { ControlPlane } from '../../app/control-plane.js';
import type { Fault, PolicyName } from '../../app/faults.js';
import type { JournalFault } from '../../app/journal.js';
import { HUBSPOT_POLICY } from '../../app/rate-limiter.js';
import type { RateLimitPolicy } from '../../app/rate-limiter.js';
import { CORRELATION_HEADER, JSON_TYPE } from '../error-handler.js';
import { BEARER } from '../guards.js';

/** The control plane's own prefix: its calls are neither faulted nor journaled. */
export const CONTROL_PREFIX = '/_stageline';

interface Pending {
  readonly portalId: number;
  readonly at: number;
  fault: JournalFault | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set for a request the journal records. */
    journaled: Pending | undefined;
  }
}

const RATE_LIMIT_MESSAGES: Record<PolicyName, string> = {
  TEN_SECONDLY_ROLLING: 'You have reached your ten_secondly_rolling limit.',
  SECONDLY: 'You have reached your secondly limit.',
  DAILY: 'You have reached your daily limit.',
};

const CATEGORIES: Record<number, string> = {
  400: 'VALIDATION_ERROR',
  401: 'INVALID_AUTHENTICATION',
  403: 'MISSING_SCOPES',
  404: 'OBJECT_NOT_FOUND',
  409: 'OBJECT_ALREADY_EXISTS',
  500: 'INTERNAL_ERROR',
  503: 'SERVICE_UNAVAILABLE',
};

/** HubSpot's body and headers for a status: its 429, or its error envelope. */
function defaultAnswer(
  fault: Fault,
  status: number,
  correlationId: string,
  policy: RateLimitPolicy,
): { body: unknown; headers: Record<string, string | number> } {
  if (status === 429) {
    const policyName = fault.policyName ?? 'TEN_SECONDLY_ROLLING';
    return {
      body: {
        status: 'error',
        message: RATE_LIMIT_MESSAGES[policyName],
        errorType: 'RATE_LIMIT',
        correlationId,
        policyName,
        requestId: randomUUID(),
      },
      headers: {
        'x-hubspot-ratelimit-interval-milliseconds': policyName === 'SECONDLY' ? 1000 : 10_000,
        'x-hubspot-ratelimit-max': policy.perTenSeconds,
        'x-hubspot-ratelimit-remaining': 0,
        'x-hubspot-ratelimit-daily': policy.daily,
        'x-hubspot-ratelimit-daily-remaining': policyName === 'DAILY' ? 0 : policy.daily,
      },
    };
  }
  if (status < 400) return { body: undefined, headers: {} };
  const reason = STATUS_CODES[status] ?? 'Error';
  return {
    body: {
      status: 'error',
      message: status >= 500 ? `${reason}: the service is temporarily unavailable` : reason,
      correlationId,
      category: CATEGORIES[status] ?? (status >= 500 ? 'INTERNAL_ERROR' : 'VALIDATION_ERROR'),
    },
    headers: status === 401 ? { 'x-hubspot-auth-failure': '401 Unauthorized' } : {},
  };
}

const summary = (f: Fault): JournalFault => ({
  id: f.id,
  ...(f.status === undefined ? {} : { status: f.status }),
  ...(f.delayMs === undefined ? {} : { delayMs: f.delayMs }),
  ...(f.drop === true ? { drop: true } : {}),
});

export interface FaultsAndJournalOptions {
  readonly control: ControlPlane;
  readonly auth: AuthService;
  /** The rate limits in force, for a fault's 429 headers; HubSpot's when limits are off. */
  readonly policy?: RateLimitPolicy;
}

/**
 * Root-level hooks, so they see every request of the API: the request journal, and injected
 * faults, which answer before any route runs (a faulted request writes nothing).
 */
const plugin: FastifyPluginCallback<FaultsAndJournalOptions> = (app, { control, auth, policy }, done) => {
  app.decorateRequest('journaled', undefined);

  /**
   * Adds the request to its portal's journal, as its answer leaves (compressed answers are
   * compressed by then); status null: the connection was dropped.
   */
  const record = (request: FastifyRequest, reply: FastifyReply, status: number | null, payload?: unknown) => {
    const pending = request.journaled!;
    request.journaled = undefined;
    control.journal.add(pending.portalId, {
      method: request.method,
      url: request.url,
      query: (request.query ?? {}) as Record<string, unknown>,
      headers: request.headers,
      body: request.body ?? null,
      status,
      response: typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : undefined,
      gzip: reply.getHeader('content-encoding') === 'gzip',
      durationMs: Math.round(reply.elapsedTime * 1000) / 1000,
      at: pending.at,
      correlationId: request.id,
      fault: pending.fault,
    });
  };

  const applyFault = async (request: FastifyRequest, reply: FastifyReply, fault: Fault) => {
    request.journaled!.fault = summary(fault);
    if (fault.delayMs !== undefined) await sleep(fault.delayMs);
    if (fault.drop === true) {
      record(request, reply, null);
      reply.hijack();
      request.raw.socket.destroy();
      return reply;
    }
    if (fault.status === undefined) return undefined; // slow, not failing
    const answer = defaultAnswer(fault, fault.status, request.id, policy ?? HUBSPOT_POLICY);
    const body = fault.body === undefined ? answer.body : fault.body;
    reply.code(fault.status).headers(answer.headers).header(CORRELATION_HEADER, request.id);
    if (fault.headers !== undefined) reply.headers(fault.headers);
    if (body === undefined) return reply.send();
    return reply.type(JSON_TYPE).send(typeof body === 'string' ? body : JSON.stringify(body));
  };

  /** Journals the request of a known principal, and answers with its portal's fault if one applies. */
  const admit = (request: FastifyRequest, reply: FastifyReply, principal: Principal) => {
    // The guards use it, instead of authenticating the token again.
    request.principal = principal;
    const { portalId } = principal;
    request.journaled = { portalId, at: control.clocks.now(portalId), fault: null };
    if (!control.faults.has(portalId)) return undefined;
    const fault = control.faults.take(portalId, request.method, request.url.split('?')[0]!);
    return fault === undefined ? undefined : applyFault(request, reply, fault);
  };

  // Callback style, with no promise in the common case: a token this process knows already.
  app.addHook('onRequest', (request, reply, next) => {
    if (request.url.startsWith(CONTROL_PREFIX)) return next();
    const match = BEARER.exec(request.headers.authorization ?? '');
    if (match === null) return next();
    const token = match[1]!;
    const known = auth.knownPrincipal(token);
    const admitted = (principal: Principal | undefined) => {
      const faulted = principal === undefined ? undefined : admit(request, reply, principal);
      if (faulted === undefined) return next();
      faulted.then((answered) => answered === undefined && next(), next);
    };
    if (known !== undefined) return admitted(known);
    auth.authenticate(token).then(admitted, next);
  });

  app.addHook('onSend', (request, reply, payload, next) => {
    if (request.journaled !== undefined) record(request, reply, reply.statusCode, payload);
    next(null, payload);
  });
  done();
};

export const faultsAndJournal = fp(plugin, { name: 'stageline-faults-and-journal' });
