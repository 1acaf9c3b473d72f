/**
 * The calls clients make before the CRM ones, behind the bearer token like every API route:
 * `GET /account-info/v3/details` and the owners API (`/crm/v3/owners`).
 */
import type { FastifyInstance } from 'fastify';
import { ACCOUNT_SCOPES, OWNER_SCOPES } from '../../app/account-service.js';
import type { AccountService } from '../../app/account-service.js';
import type { AuthService } from '../../app/auth-service.js';
import type { RateLimits } from '../../app/rate-limiter.js';
import { notFound } from '../../domain/errors.js';
import { matchesOwner } from '../../domain/owners.js';
import { JSON_TYPE } from '../error-handler.js';
import { addGuards } from '../guards.js';
import * as S from '../schemas.js';
import type { RequestTypesFromSchemas } from '../type-provider.js';

export interface AccountRoutesOptions {
  accounts: AccountService;
  auth: AuthService;
  limiter?: RateLimits;
}

// Every schema is a module constant: compiled once per process (see schema-compilers.ts).
const details = {
  type: 'object',
  required: [
    'portalId',
    'accountType',
    'timeZone',
    'companyCurrency',
    'additionalCurrencies',
    'utcOffset',
    'utcOffsetMilliseconds',
    'uiDomain',
    'dataHostingLocation',
  ],
  properties: {
    portalId: { type: 'integer' },
    accountType: { type: 'string' },
    timeZone: { type: 'string' },
    companyCurrency: { type: 'string' },
    additionalCurrencies: { type: 'array', items: { type: 'string' } },
    utcOffset: { type: 'string' },
    utcOffsetMilliseconds: { type: 'integer' },
    uiDomain: { type: 'string' },
    dataHostingLocation: { type: 'string' },
  },
} as const;
const timestamp = { type: 'string', format: 'date-time' } as const;
const owner = {
  type: 'object',
  required: ['id', 'type', 'createdAt', 'updatedAt', 'archived'],
  properties: {
    id: { type: 'string' },
    email: { type: 'string' },
    type: { type: 'string' },
    firstName: { type: 'string' },
    lastName: { type: 'string' },
    userId: { type: 'integer' },
    userIdIncludingInactive: { type: 'integer' },
    createdAt: timestamp,
    updatedAt: timestamp,
    archived: { type: 'boolean' },
    teams: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'name', 'primary'],
        properties: { id: { type: 'string' }, name: { type: 'string' }, primary: { type: 'boolean' } },
      },
    },
  },
} as const;
const ownerPage = {
  type: 'object',
  required: ['results'],
  properties: {
    results: { type: 'array', items: owner },
    paging: S.paging,
  },
} as const;
const ownersQuery = {
  type: 'object',
  properties: {
    email: { type: 'string' },
    after: { type: 'string', pattern: '^[0-9]{1,9}$' },
    limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
    archived: { type: 'boolean', default: false },
  },
} as const;
const ownerParams = {
  type: 'object',
  required: ['ownerId'],
  properties: { ownerId: { type: 'string' } },
} as const;
const ownerQuery = {
  type: 'object',
  properties: {
    idProperty: { type: 'string', enum: ['id', 'userId'], default: 'id' },
    archived: { type: 'boolean', default: false },
  },
} as const;
const DETAILS = S.responses(200, details);
/** Custom object schemas: Stageline keeps none (a custom type exists by its id alone). */
const SCHEMAS = S.responses(200, {
  type: 'object',
  required: ['results'],
  properties: { results: { type: 'array', maxItems: 0 } },
});
const SCHEMA_SCOPES = ['crm.schemas.custom.read', 'crm.objects.custom.read', 'crm.objects.custom.write'];
const OWNERS = S.responses(200, ownerPage);
const OWNER = S.responses(200, owner);

export async function accountRoutes(base: FastifyInstance, opts: AccountRoutesOptions): Promise<void> {
  const app = base.withTypeProvider<RequestTypesFromSchemas>();
  const { accounts } = opts;
  addGuards(app, opts.auth, opts.limiter);

  app.get('/account-info/v3/details', {
    config: { scopes: ACCOUNT_SCOPES },
    schema: { tags: ['Account'], summary: "The token's account", response: DETAILS },
    handler: async (req, reply) =>
      reply.code(200).type(JSON_TYPE).send(accounts.details(req.principal, req.host)),
  });

  app.get('/crm-object-schemas/v3/schemas', {
    config: { scopes: SCHEMA_SCOPES },
    schema: { tags: ['Schemas v3'], summary: 'List custom object schemas: always none', response: SCHEMAS },
    handler: async (_req, reply) => reply.code(200).type(JSON_TYPE).send({ results: [] }),
  });

  const tags = ['Owners v3'];
  const config = { scopes: OWNER_SCOPES };

  app.get('/crm/v3/owners', {
    config,
    schema: { tags, summary: 'List owners, paged with `after`', querystring: ownersQuery, response: OWNERS },
    handler: async (req, reply) => {
      const { email, archived = false, limit = 100 } = req.query;
      // Stageline has no archived owners.
      const all = archived ? [] : accounts.owners(req.principal);
      const matching = email === undefined ? all : all.filter((o) => o.email === email);
      const start = Number(req.query.after ?? 0);
      const end = start + limit;
      return reply
        .code(200)
        .type(JSON_TYPE)
        .send({
          results: matching.slice(start, end),
          ...(end < matching.length && { paging: { next: { after: String(end) } } }),
        });
    },
  });

  app.get('/crm/v3/owners/:ownerId', {
    config,
    schema: { tags, summary: 'Get an owner', params: ownerParams, querystring: ownerQuery, response: OWNER },
    handler: async (req, reply) => {
      const { ownerId } = req.params;
      const { idProperty = 'id', archived = false } = req.query;
      const found = archived
        ? undefined
        : accounts.owners(req.principal).find((o) => matchesOwner(o, ownerId, idProperty));
      if (found === undefined) throw notFound(`Owner ${ownerId} does not exist`);
      return reply.code(200).type(JSON_TYPE).send(found);
    },
  });
}
