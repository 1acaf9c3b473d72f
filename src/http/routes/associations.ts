/**
 * HubSpot's v4 associations read, `GET /crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType}`
 * (the SDK's `crm.associations.v4.basicApi.getPage`): a record's links to records of one type.
 * Links are made by the `associations` of a record create (routes/objects.ts).
 */
import type { FastifyInstance } from 'fastify';
import type { AuthService } from '../../app/auth-service.js';
import type { RateLimiter } from '../../app/rate-limiter.js';
import type { RecordService } from '../../app/record-service.js';
import { resolveObjectType } from '../../domain/object-types.js';
import { JSON_TYPE } from '../error-handler.js';
import { addGuards } from '../guards.js';
import * as S from '../schemas.js';
import type { RequestTypesFromSchemas } from '../type-provider.js';
import { RECORD_ID_PARAM } from './objects.js';

export interface AssociationRoutesOptions {
  records: RecordService;
  auth: AuthService;
  limiter?: RateLimiter;
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
      const toType = resolveObjectType(req.params.toObjectType, req.principal.portalId);
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
