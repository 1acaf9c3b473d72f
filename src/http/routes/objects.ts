/**
 * The CRM objects API for records in pipelines, wire-compatible with HubSpot's
 * `/crm/v3/objects/{objectType}` (the SDK's crm.deals / crm.tickets / crm.objects clients).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { FromSchema } from 'json-schema-to-ts';
import type { RateLimits } from '../../app/rate-limiter.js';
import type { AuthService } from '../../app/auth-service.js';
import type {
  AssociationSelection,
  PropertySelection,
  RecordSearch,
  RecordService,
  RecordView,
} from '../../app/record-service.js';
import { invalid } from '../../domain/errors.js';
import { RECORD_ID_SOURCE } from '../../domain/ids.js';
import { resolveObjectType } from '../../domain/object-types.js';
import type { ObjectType } from '../../domain/object-types.js';
import { JSON_TYPE } from '../error-handler.js';
import { addGuards } from '../guards.js';
import * as S from '../schemas.js';
import type { RequestTypesFromSchemas } from '../type-provider.js';

export interface ObjectRoutesOptions {
  records: RecordService;
  auth: AuthService;
  limiter?: RateLimits;
}

/** `?properties=a,b` and `?properties=a&properties=b` both work, as on HubSpot. */
function propertySelection(value: string | readonly string[] | undefined): PropertySelection {
  if (value === undefined) return undefined;
  const names = [value]
    .flat()
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
  return names.length === 0 ? undefined : [...new Set(names)];
}

/** Features Stageline does not have are refused, never silently ignored. */
function rejectUnsupported(query: { propertiesWithHistory?: string | string[] }): void {
  if (propertySelection(query.propertiesWithHistory) !== undefined) {
    throw invalid('propertiesWithHistory is not supported by Stageline');
  }
}

/** `?associations=contacts,companies`: the target types, each once; an unknown name is a 400. */
function associationSelection(
  value: string | readonly string[] | undefined,
  portalId: number,
): AssociationSelection {
  const byKey = new Map<string, ObjectType>();
  for (const name of propertySelection(value) ?? []) {
    const type = resolveObjectType(name, portalId, 'records');
    byKey.set(type.key, type);
  }
  return [...byKey.values()];
}

/**
 * A list `limit` above 100 is served as 100, as HubSpot's list endpoints cap their pages at 100
 * records (README, "Records in pipelines").
 */
export const MAX_LIST_LIMIT = 100;

function rejectIdProperty(idProperty: string | undefined): void {
  if (idProperty !== undefined && idProperty !== 'hs_object_id') {
    throw invalid(`idProperty ${idProperty} is not supported: records are addressed by hs_object_id`);
  }
}

type SearchBody = FromSchema<typeof S.SearchInput>;

function toSearchQuery(body: SearchBody): RecordSearch {
  return {
    ...(body.query !== undefined && body.query.trim() !== '' && { text: body.query }),
    filterGroups: body.filterGroups ?? [],
    sorts: (body.sorts ?? []).map((s) =>
      typeof s === 'string'
        ? { propertyName: s.replace(/^-/, ''), direction: s.startsWith('-') ? 'DESCENDING' : 'ASCENDING' }
        : { propertyName: s.propertyName, direction: s.direction ?? 'ASCENDING' },
    ),
    limit: body.limit ?? 10,
    after: body.after === undefined ? 0 : Number(body.after),
  };
}

// Every schema is a module constant: compiled once per process (see schema-compilers.ts).
const properties = { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] } as const;
const recordParams = {
  type: 'object',
  required: ['objectType', 'recordId'],
  properties: { objectType: { type: 'string' }, recordId: { type: 'string' } },
} as const;
const listQuery = {
  type: 'object',
  properties: {
    limit: { type: 'integer', minimum: 1, default: 10 },
    after: { type: 'string' },
    properties,
    propertiesWithHistory: properties,
    associations: properties,
    archived: { type: 'boolean', default: false },
  },
} as const;
const getQuery = {
  type: 'object',
  properties: {
    properties,
    propertiesWithHistory: properties,
    associations: properties,
    archived: { type: 'boolean', default: false },
    idProperty: { type: 'string' },
  },
} as const;
const idPropertyQuery = { type: 'object', properties: { idProperty: { type: 'string' } } } as const;
const archivedQuery = {
  type: 'object',
  properties: { archived: { type: 'boolean', default: false } },
} as const;
/** Routes on one record: its id is a record id, never a word like `merge` (see not-allowed.ts). */
export const RECORD_ID_PARAM = { recordId: RECORD_ID_SOURCE } as const;

const PAGE = S.responses(200, S.RecordPage);
const RECORD = S.responses(200, S.SimplePublicObjectRef);
const CREATED_RECORD = S.responses(201, S.SimplePublicObjectRef);
const NO_CONTENT = S.responses(204, S.NoContent);
const BATCH = { ...S.responses(200, S.BatchResponse), 207: S.BatchResponse } as const;
const CREATED_BATCH = S.responses(201, S.BatchResponse);
const SEARCH = S.responses(200, S.SearchPage);

export async function objectRoutes(base: FastifyInstance, opts: ObjectRoutesOptions): Promise<void> {
  const app = base.withTypeProvider<RequestTypesFromSchemas>();
  const { records } = opts;
  addGuards(app, opts.auth, opts.limiter);
  for (const schema of S.RECORD_SCHEMAS) app.addSchema(schema);

  const send = (reply: FastifyReply, status: number, body: unknown) =>
    reply.code(status).type(JSON_TYPE).send(body);
  const tags = ['Objects v3'];
  const read = { access: 'recordRead' as const };
  const write = { access: 'recordWrite' as const };
  const readOne = { ...read, paramPatterns: RECORD_ID_PARAM };
  const writeOne = { ...write, paramPatterns: RECORD_ID_PARAM };
  const batchResult = (startedAt: Date, results: RecordView[], missing: string[], noun: string) => {
    const body = {
      status: 'COMPLETE',
      results,
      startedAt: startedAt.toISOString(),
      completedAt: new Date().toISOString(),
      ...(missing.length > 0 && {
        numErrors: 1,
        errors: [
          {
            status: 'error',
            category: 'OBJECT_NOT_FOUND',
            message: `Could not get some ${noun} objects, they may be deleted or not exist. Check that ids are valid.`,
            context: { ids: missing },
            links: {},
            errors: [],
          },
        ],
      }),
    };
    return { status: missing.length > 0 ? 207 : 200, body };
  };
  const noun = (req: { objectType: { singular: string } }) => req.objectType.singular.toUpperCase();

  app.get('/:objectType', {
    config: read,
    schema: {
      tags,
      summary: 'List records, paged with `after`',
      params: S.TypeParams,
      querystring: listQuery,
      response: PAGE,
    },
    handler: async (req, reply) => {
      rejectUnsupported(req.query);
      const limit = Math.min(req.query.limit ?? 10, MAX_LIST_LIMIT);
      const page = await records.list(
        req.principal,
        req.objectType,
        { limit, after: req.query.after, archived: req.query.archived ?? false },
        {
          properties: propertySelection(req.query.properties),
          associations: associationSelection(req.query.associations, req.principal.portalId),
        },
      );
      return send(reply, 200, {
        results: page.results,
        ...(page.nextAfter !== undefined && { paging: { next: { after: page.nextAfter } } }),
      });
    },
  });

  app.post('/:objectType', {
    config: write,
    schema: {
      tags,
      summary: 'Create a record',
      params: S.TypeParams,
      body: S.RecordCreateInput,
      response: CREATED_RECORD,
    },
    handler: async (req, reply) =>
      send(reply, 201, await records.create(req.principal, req.objectType, req.body)),
  });

  app.get('/:objectType/:recordId', {
    config: readOne,
    schema: {
      tags,
      summary: 'Get a record',
      params: recordParams,
      querystring: getQuery,
      response: RECORD,
    },
    handler: async (req, reply) => {
      rejectIdProperty(req.query.idProperty);
      rejectUnsupported(req.query);
      const view = await records.get(
        req.principal,
        req.objectType,
        req.params.recordId,
        {
          properties: propertySelection(req.query.properties),
          associations: associationSelection(req.query.associations, req.principal.portalId),
        },
        req.query.archived ?? false,
      );
      return send(reply, 200, view);
    },
  });

  app.patch('/:objectType/:recordId', {
    config: writeOne,
    schema: {
      tags,
      summary: 'Update a record (moves it between stages when the stage property changes)',
      params: recordParams,
      querystring: idPropertyQuery,
      body: S.RecordUpdateInput,
      response: RECORD,
    },
    handler: async (req, reply) => {
      rejectIdProperty(req.query.idProperty);
      const input = req.body.properties;
      return send(
        reply,
        200,
        await records.update(req.principal, req.objectType, req.params.recordId, input),
      );
    },
  });

  app.delete('/:objectType/:recordId', {
    config: writeOne,
    schema: { tags, summary: 'Archive a record', params: recordParams, response: NO_CONTENT },
    handler: async (req, reply) => {
      await records.archive(req.principal, req.objectType, req.params.recordId);
      return reply.code(204).send();
    },
  });

  app.post('/:objectType/batch/read', {
    config: read,
    schema: {
      tags,
      summary: 'Read records by id',
      params: S.TypeParams,
      querystring: archivedQuery,
      body: S.BatchReadInput,
      response: BATCH,
    },
    handler: async (req, reply) => {
      const startedAt = new Date();
      const body = req.body;
      const { results, missing } = await records.batchRead(
        req.principal,
        req.objectType,
        body.inputs.map((i) => i.id),
        propertySelection(body.properties),
        req.query.archived ?? false,
      );
      const out = batchResult(startedAt, results, missing, noun(req));
      return send(reply, out.status, out.body);
    },
  });

  app.post('/:objectType/batch/create', {
    config: write,
    schema: {
      tags,
      summary: 'Create records, all or none',
      params: S.TypeParams,
      body: S.BatchCreateInput,
      response: CREATED_BATCH,
    },
    handler: async (req, reply) => {
      const startedAt = new Date();
      const body = req.body;
      const results = await records.batchCreate(req.principal, req.objectType, body.inputs);
      return send(reply, 201, batchResult(startedAt, results, [], noun(req)).body);
    },
  });

  app.post('/:objectType/batch/update', {
    config: write,
    schema: {
      tags,
      summary: 'Update records by id',
      params: S.TypeParams,
      body: S.BatchUpdateInput,
      response: BATCH,
    },
    handler: async (req, reply) => {
      const startedAt = new Date();
      const body = req.body;
      const { results, missing } = await records.batchUpdate(req.principal, req.objectType, body.inputs);
      const out = batchResult(startedAt, results, missing, noun(req));
      return send(reply, out.status, out.body);
    },
  });

  app.post('/:objectType/batch/archive', {
    config: write,
    schema: {
      tags,
      summary: 'Archive records by id',
      params: S.TypeParams,
      body: S.BatchArchiveInput,
      response: NO_CONTENT,
    },
    handler: async (req, reply) => {
      const body = req.body;
      await records.batchArchive(
        req.principal,
        req.objectType,
        body.inputs.map((i) => i.id),
      );
      return reply.code(204).send();
    },
  });

  app.post('/:objectType/search', {
    config: read,
    schema: {
      tags,
      summary: 'Search records',
      params: S.TypeParams,
      body: S.SearchInput,
      response: SEARCH,
    },
    handler: async (req, reply) => {
      const body = req.body ?? {};
      const page = await records.search(
        req.principal,
        req.objectType,
        toSearchQuery(body),
        propertySelection(body.properties),
      );
      return send(reply, 200, {
        total: page.total,
        results: page.results,
        ...(page.nextAfter !== undefined && { paging: { next: { after: page.nextAfter } } }),
      });
    },
  });
}
