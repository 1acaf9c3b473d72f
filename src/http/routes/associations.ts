/**
 * HubSpot's v4 associations read, `GET /crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType}`
 * (the SDK's `crm.associations.v4.basicApi.getPage`): a record's links to records of one type.
 * Links are made by the `associations` of a record create (routes/objects.ts).
 */
import type { FastifyInstance } from 'fastify';
import type { AuthService } from '../../app/auth-service.js';
import type { RateLimits } from '../../app/rate-limiter.js';
import type { RecordService } from '../../app/record-service.js';
import { associationLabels } from '../../domain/associations.js';
import { resolveObjectType } from '../../domain/object-types.js';
import { JSON_TYPE } from '../error-handler.js';
import { addGuards } from '../guards.js';
import * as S from '../schemas.js';
import type { RequestTypesFromSchemas } from '../type-provider.js';
import { RECORD_ID_PARAM } from './objects.js';

export interface AssociationRoutesOptions {
  records: RecordService;
  auth: AuthService;
  limiter?: RateLimits;
}

/** HubSpot's page size for this read: 500 by default and at most ("Limit 500 per call"). */
const MAX_ASSOCIATIONS_PAGE = 500;

const params = {
  type: 'object',
  required: ['objectType', 'recordId', 'toObjectType'],
  properties: {
    objectType: { type: 'string' },
    recordId: { type: 'string' },
    toObjectType: { type: 'string' },
  },
} as const;
const query = {
  type: 'object',
  properties: {
    limit: { type: 'integer', minimum: 1, default: MAX_ASSOCIATIONS_PAGE },
    after: { type: 'string' },
  },
} as const;
const PAGE = S.responses(200, S.AssociationPage);

export async function associationRoutes(
  base: FastifyInstance,
  opts: AssociationRoutesOptions,
): Promise<void> {
  const app = base.withTypeProvider<RequestTypesFromSchemas>();
  addGuards(app, opts.auth, opts.limiter);

  app.get('/:objectType/:recordId/associations/:toObjectType', {
    config: { access: 'recordRead', paramPatterns: RECORD_ID_PARAM },
    schema: {
      tags: ['Associations v4'],
      summary: 'List a record’s associations with records of another type',
      params,
      querystring: query,
      response: PAGE,
    },
    handler: async (req, reply) => {
      const toType = resolveObjectType(req.params.toObjectType, req.principal.portalId, 'records');
      const page = await opts.records.associations(
        req.principal,
        req.objectType,
        req.params.recordId,
        toType,
        {
          limit: Math.min(req.query.limit ?? MAX_ASSOCIATIONS_PAGE, MAX_ASSOCIATIONS_PAGE),
          after: req.query.after,
        },
      );
      return reply
        .code(200)
        .type(JSON_TYPE)
        .send({
          results: page.results,
          ...(page.nextAfter !== undefined && { paging: { next: { after: page.nextAfter } } }),
        });
    },
  });
}

const pairParams = {
  type: 'object',
  required: ['objectType', 'toObjectType'],
  properties: { objectType: { type: 'string' }, toObjectType: { type: 'string' } },
} as const;
const LABELS = S.responses(200, S.AssociationLabels);
const CREATED_LINKS = S.responses(201, S.AssociationBatchResponse);

/**
 * HubSpot's v4 association definitions, `/crm/v4/associations/{fromObjectType}/{toObjectType}/…`:
 * the labels (types) between two object types, and a batch create of links between existing
 * records (HubSpot's MCP server calls both).
 */
export async function associationDefinitionRoutes(
  base: FastifyInstance,
  opts: AssociationRoutesOptions,
): Promise<void> {
  const app = base.withTypeProvider<RequestTypesFromSchemas>();
  addGuards(app, opts.auth, opts.limiter);
  const tags = ['Associations v4'];
  const toType = (req: { params: { toObjectType: string }; principal: { portalId: number } }) =>
    resolveObjectType(req.params.toObjectType, req.principal.portalId, 'records');

  app.get('/:objectType/:toObjectType/labels', {
    config: { access: 'recordRead' },
    schema: {
      tags,
      summary: 'List the association types between two object types',
      params: pairParams,
      response: LABELS,
    },
    handler: async (req, reply) =>
      reply
        .code(200)
        .type(JSON_TYPE)
        .send({ results: associationLabels(req.objectType, toType(req)) }),
  });

  app.post('/:objectType/:toObjectType/batch/create', {
    config: { access: 'recordWrite' },
    schema: {
      tags,
      summary: 'Associate existing records, all or none',
      params: pairParams,
      body: S.AssociationBatchCreateInput,
      response: CREATED_LINKS,
    },
    handler: async (req, reply) => {
      const startedAt = new Date().toISOString();
      const results = await opts.records.createAssociations(
        req.principal,
        req.objectType,
        toType(req),
        req.body.inputs,
      );
      return reply
        .code(201)
        .type(JSON_TYPE)
        .send({ status: 'COMPLETE', results, startedAt, completedAt: new Date().toISOString() });
    },
  });
}
