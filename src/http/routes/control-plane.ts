/**
 * The emulator control plane, under `/_stageline` beside the API (HubSpot serves nothing
 * there): seeds, resets, snapshots, the clock, faults and the request journal of the caller's
 * portal. Not rate limited, never journaled or faulted; errors in HubSpot's envelope.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';

import { requireAnyScope } from '../../app/auth-service.js';
import type { AuthService } from '../../app/auth-service.js';
import type { ControlPlane } from '../../app/control-plane.js';
import { pathPattern } from '../../app/faults.js';
import { DomainError, invalid, notFound } from '../../domain/errors.js';
import { SEED_SCHEMA, checkSeedDocument } from '../../seed/seed-document.js';
import { AUTH_MESSAGE, JSON_TYPE } from '../error-handler.js';
import { BEARER } from '../guards.js';
import type { RequestTypesFromSchemas } from '../type-provider.js';

/** The scope a tokens-mode token needs to use the control plane. */
export const ADMIN_SCOPE = 'stageline.admin';

export const CONTROL_TAG = 'Stageline control plane';

export interface ControlPlaneRoutesOptions {
  control: ControlPlane;
  auth: AuthService;
}

const { $id: _id, $schema: _schema, ...seedBody } = SEED_SCHEMA;

/** Seed documents are checked by the seed module (strict: unknown fields are errors), not coerced. */
const acceptAsIs = () => () => true;

const faultSpec = {
  type: 'object',
  required: ['path'],
  additionalProperties: false,
  properties: {
    method: {
      type: 'string',
      enum: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'get', 'post', 'put', 'patch', 'delete'],
    },
    path: { type: 'string', minLength: 1, pattern: '^/' },
    status: { type: 'integer', minimum: 200, maximum: 599 },
    body: {},
    headers: { type: 'object', additionalProperties: { type: 'string' } },
    delayMs: { type: 'integer', minimum: 0, maximum: 120_000 },
    times: { type: ['integer', 'null'], minimum: 1 },
    probability: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
    seed: { type: 'integer' },
    drop: { type: 'boolean' },
    policyName: { type: 'string', enum: ['TEN_SECONDLY_ROLLING', 'SECONDLY', 'DAILY'] },
  },
} as const;

const clockBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    now: { type: 'string', minLength: 1 },
    advanceMs: { type: 'integer', minimum: 0 },
    mode: { type: 'string', enum: ['system'] },
  },
} as const;

const journalQuery = {
  type: 'object',
  properties: {
    method: { type: 'string' },
    path: { type: 'string', pattern: '^/' },
    status: { type: 'integer', minimum: 100, maximum: 599 },
    limit: { type: 'integer', minimum: 1, maximum: 100_000 },
  },
} as const;

const faultParams = {
  type: 'object',
  required: ['faultId'],
  properties: { faultId: { type: 'string' } },
} as const;

const done = (reply: FastifyReply) => reply.code(204).send();
const json = (reply: FastifyReply, value: unknown, status = 200) =>
  reply.code(status).type(JSON_TYPE).send(JSON.stringify(value));

function fieldError(field: string, message: string): DomainError {
  return invalid(`Invalid input JSON: ${field} ${message}`, {
    errors: [{ message: `${field} ${message}`, in: field, code: 'INVALID_VALUE' }],
  });
}

export async function controlPlaneRoutes(app: FastifyInstance, opts: ControlPlaneRoutesOptions) {
  const { control, auth } = opts;

  app.get(
    '/seed-schema.json',
    { schema: { tags: [CONTROL_TAG], summary: 'The JSON Schema of seed documents and snapshots' } },
    async (_request, reply) => json(reply, SEED_SCHEMA),
  );

  await app.register(async (base) => {
    const guarded = base.withTypeProvider<RequestTypesFromSchemas>();
    guarded.addHook('onRequest', async (request) => {
      const match = BEARER.exec(request.headers.authorization ?? '');
      const principal = match ? await auth.authenticate(match[1]!) : undefined;
      if (principal === undefined) throw new DomainError('INVALID_AUTHENTICATION', AUTH_MESSAGE);
      requireAnyScope(principal, [ADMIN_SCOPE]);
      request.principal = principal;
    });
    const tags = [CONTROL_TAG];
    const portal = (request: { principal: { portalId: number } }) => request.principal.portalId;

    guarded.post(
      '/reset',
      {
        schema: {
          tags,
          summary: "Puts the portal back to its starting state (the seed or HubSpot's defaults)",
        },
      },
      async (request, reply) => {
        await control.reset(request.principal);
        return done(reply);
      },
    );

    guarded.put(
      '/seed',
      {
        schema: {
          tags,
          summary: 'Replaces the pipelines and records of the types the document lists',
          body: seedBody,
        },
        validatorCompiler: acceptAsIs,
      },
      async (request, reply) => {
        await control.applySeed(request.principal, checkSeedDocument(request.body));
        return done(reply);
      },
    );

    guarded.get(
      '/snapshot',
      {
        schema: {
          tags,
          summary: 'The portal as a seed document, with records, audit trails and the next ids',
        },
      },
      async (request, reply) => json(reply, await control.snapshot(portal(request))),
    );

    guarded.put(
      '/snapshot',
      {
        schema: { tags, summary: 'Restores a snapshot exactly', body: seedBody },
        validatorCompiler: acceptAsIs,
      },
      async (request, reply) => {
        const doc = checkSeedDocument(request.body);
        if (doc.nextId === undefined) throw fieldError('nextId', 'is required in a snapshot');
        await control.restore(request.principal, doc);
        return done(reply);
      },
    );

    guarded.get('/clock', { schema: { tags, summary: "The portal's clock" } }, async (request, reply) =>
      json(reply, control.clocks.state(portal(request))),
    );

    guarded.put(
      '/clock',
      { schema: { tags, summary: 'Freezes, advances or releases the portal clock', body: clockBody } },
      async (request, reply) => {
        const { body } = request;
        const given = (['now', 'advanceMs', 'mode'] as const).filter((k) => body[k] !== undefined);
        if (given.length !== 1) throw fieldError('now', 'or advanceMs or mode (exactly one) is required');
        const portalId = portal(request);
        if (body.now !== undefined) {
          const at = Date.parse(body.now);
          if (!Number.isFinite(at)) throw fieldError('now', 'must be an ISO-8601 time');
          // Only a portal in the database has a clock of its own (an unfrozen one cannot be advanced).
          await control.ensurePortal(request.principal);
          control.clocks.freeze(portalId, at);
        } else if (body.advanceMs !== undefined) control.clocks.advance(portalId, body.advanceMs);
        else control.clocks.useSystem(portalId);
        return json(reply, control.clocks.state(portalId));
      },
    );

    guarded.post(
      '/faults',
      { schema: { tags, summary: 'Injects a fault into matching requests of the portal', body: faultSpec } },
      async (request, reply) => {
        const spec = request.body;
        if (spec.status === undefined && spec.drop !== true && spec.delayMs === undefined) {
          throw fieldError('status', 'is required (or drop, or delayMs alone for a slow answer)');
        }
        const method = spec.method?.toUpperCase();
        await control.ensurePortal(request.principal);
        const fault = control.faults.add(portal(request), { ...spec, ...(method && { method }) });
        return json(reply, fault, 201);
      },
    );

    guarded.get('/faults', { schema: { tags, summary: "The portal's faults" } }, async (request, reply) =>
      json(reply, { results: control.faults.list(portal(request)) }),
    );

    guarded.delete(
      '/faults',
      { schema: { tags, summary: "Removes the portal's faults" } },
      async (request, reply) => {
        control.faults.remove(portal(request));
        return done(reply);
      },
    );

    guarded.delete(
      '/faults/:faultId',
      { schema: { tags, summary: 'Removes one fault', params: faultParams } },
      async (request, reply) => {
        const { faultId } = request.params;
        if (!control.faults.remove(portal(request), faultId)) throw notFound(`No fault with id ${faultId}`);
        return done(reply);
      },
    );

    guarded.get(
      '/requests',
      { schema: { tags, summary: "The portal's requests, newest first", querystring: journalQuery } },
      async (request, reply) => {
        const q = request.query;
        const results = control.journal.list(portal(request), {
          method: q.method?.toUpperCase(),
          path: q.path === undefined ? undefined : pathPattern(q.path),
          status: q.status,
          limit: q.limit,
        });
        return json(reply, { results });
      },
    );

    guarded.delete(
      '/requests',
      { schema: { tags, summary: "Empties the portal's journal" } },
      async (request, reply) => {
        control.journal.clear(portal(request));
        return done(reply);
      },
    );
  });
}
