/**
 * The CRM objects API for records in pipelines, wire-compatible with HubSpot's
 * `/crm/v3/objects/{objectType}` (the SDK's crm.deals / crm.tickets / crm.objects clients).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RateLimiter } from '../../app/rate-limiter.js';
import type { AuthService } from '../../app/auth-service.js';
import type { PropertySelection, RecordService, RecordView } from '../../app/record-service.js';
import { invalid } from '../../domain/errors.js';
import type { SearchFilter, SearchQuery, SearchSort } from '../../domain/record-search.js';
import type { PropertiesInput } from '../../domain/records.js';
import { JSON_TYPE } from '../error-handler.js';
import { addGuards } from '../guards.js';
import * as S from '../schemas.js';

export interface ObjectRoutesOptions {
  records: RecordService;
  auth: AuthService;
  limiter?: RateLimiter;
}

interface Params {
  objectType: string;
  recordId: string;
}

interface RecordQuery {
  properties?: string | string[];
  archived?: boolean;
  limit?: number;
  after?: string;
  idProperty?: string;
  propertiesWithHistory?: string | string[];
  associations?: string | string[];
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
function rejectUnsupported(query: RecordQuery): void {
  for (const name of ['propertiesWithHistory', 'associations'] as const) {
    if (propertySelection(query[name]) !== undefined) throw invalid(`${name} is not supported by Stageline`);
  }
}

function rejectIdProperty(idProperty: string | undefined): void {
  if (idProperty !== undefined && idProperty !== 'hs_object_id') {
    throw invalid(`idProperty ${idProperty} is not supported: records are addressed by hs_object_id`);
  }
}

interface SearchBody {
  filterGroups?: { filters: SearchFilter[] }[];
  sorts?: (string | { propertyName: string; direction?: SearchSort['direction'] })[];
  properties?: string[];
  limit?: number;
  after?: string;
  query?: string;
}

function toSearchQuery(body: SearchBody): SearchQuery {
  if (body.query !== undefined && body.query.trim() !== '') {
    throw invalid('Full-text query is not supported by Stageline: use filterGroups');
  }
  return {
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

const properties = { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] };
const typeParams = {
  type: 'object',
  required: ['objectType'],
  properties: { objectType: { type: 'string' } },
};
const recordParams = {
  type: 'object',
  required: ['objectType', 'recordId'],
  properties: { objectType: { type: 'string' }, recordId: { type: 'string' } },
};

export async function objectRoutes(app: FastifyInstance, opts: ObjectRoutesOptions): Promise<void> {
  const { records } = opts;
  addGuards(app, opts.auth, opts.limiter);
  for (const schema of S.RECORD_SCHEMAS) app.addSchema(schema);

  type Req = FastifyRequest<{ Params: Params; Body: unknown; Querystring: RecordQuery }>;
  const send = (reply: FastifyReply, status: number, body: unknown) =>
    reply.code(status).type(JSON_TYPE).send(body);
  const ok = (status: number | string, schema: object) => ({ [status]: schema, ...S.errorResponses });
  const tags = ['Objects v3'];
  const read = { access: 'recordRead' as const };
  const write = { access: 'recordWrite' as const };
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
  const noun = (req: Req) => req.objectType.name.replace(/s$/, '').toUpperCase();

  app.get('/:objectType', {
    config: read,
    schema: {
      tags,
      summary: 'List records, paged with `after`',
      params: typeParams,
      querystring: {
        type: 'object',
        properties: {
          limit: { type: 'integer', minimum: 1, maximum: 100, default: 10 },
          after: { type: 'string' },
          properties,
          propertiesWithHistory: properties,
          associations: properties,
          archived: { type: 'boolean', default: false },
        },
      },
      response: ok(200, S.RecordPage),
    },
    handler: async (req: Req, reply) => {
      rejectUnsupported(req.query);
      const page = await records.list(
        req.principal,
        req.objectType,
        { limit: req.query.limit ?? 10, after: req.query.after, archived: req.query.archived ?? false },
        propertySelection(req.query.properties),
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
      params: typeParams,
      body: S.RecordCreateInput,
      response: ok(201, { $ref: 'SimplePublicObject#' }),
    },
    handler: async (req: Req, reply) =>
      send(
        reply,
        201,
        await records.create(
          req.principal,
          req.objectType,
          (req.body as { properties: PropertiesInput }).properties,
        ),
      ),
  });

  app.get('/:objectType/:recordId', {
    config: read,
    schema: {
      tags,
      summary: 'Get a record',
      params: recordParams,
      querystring: {
        type: 'object',
        properties: {
          properties,
          archived: { type: 'boolean', default: false },
          idProperty: { type: 'string' },
        },
      },
      response: ok(200, { $ref: 'SimplePublicObject#' }),
    },
    handler: async (req: Req, reply) => {
      rejectIdProperty(req.query.idProperty);
      rejectUnsupported(req.query);
      const view = await records.get(
        req.principal,
        req.objectType,
        req.params.recordId,
        propertySelection(req.query.properties),
        req.query.archived ?? false,
      );
      return send(reply, 200, view);
    },
  });

  app.patch('/:objectType/:recordId', {
    config: write,
    schema: {
      tags,
      summary: 'Update a record (moves it between stages when the stage property changes)',
      params: recordParams,
      querystring: { type: 'object', properties: { idProperty: { type: 'string' } } },
      body: S.RecordUpdateInput,
      response: ok(200, { $ref: 'SimplePublicObject#' }),
    },
    handler: async (req: Req, reply) => {
      rejectIdProperty(req.query.idProperty);
      const input = (req.body as { properties: PropertiesInput }).properties;
      return send(
        reply,
        200,
        await records.update(req.principal, req.objectType, req.params.recordId, input),
      );
    },
  });

  app.delete('/:objectType/:recordId', {
    config: write,
    schema: { tags, summary: 'Archive a record', params: recordParams, response: ok(204, { type: 'null' }) },
    handler: async (req: Req, reply) => {
      await records.archive(req.principal, req.objectType, req.params.recordId);
      return reply.code(204).send();
    },
  });

  app.post('/:objectType/batch/read', {
    config: read,
    schema: {
      tags,
      summary: 'Read records by id',
      params: typeParams,
      querystring: { type: 'object', properties: { archived: { type: 'boolean', default: false } } },
      body: S.BatchReadInput,
      response: { ...ok(200, S.BatchResponse), 207: S.BatchResponse },
    },
    handler: async (req: Req, reply) => {
      const startedAt = new Date();
      const body = req.body as { inputs: { id: string }[]; properties?: string[] };
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
      params: typeParams,
      body: S.BatchCreateInput,
      response: ok(201, S.BatchResponse),
    },
    handler: async (req: Req, reply) => {
      const startedAt = new Date();
      const body = req.body as { inputs: { properties: PropertiesInput }[] };
      const results = await records.batchCreate(
        req.principal,
        req.objectType,
        body.inputs.map((i) => i.properties),
      );
      return send(reply, 201, batchResult(startedAt, results, [], noun(req)).body);
    },
  });

  app.post('/:objectType/batch/update', {
    config: write,
    schema: {
      tags,
      summary: 'Update records by id',
      params: typeParams,
      body: S.BatchUpdateInput,
      response: { ...ok(200, S.BatchResponse), 207: S.BatchResponse },
    },
    handler: async (req: Req, reply) => {
      const startedAt = new Date();
      const body = req.body as { inputs: { id: string; properties: PropertiesInput }[] };
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
      params: typeParams,
      body: S.BatchArchiveInput,
      response: ok(204, { type: 'null' }),
    },
    handler: async (req: Req, reply) => {
      const body = req.body as { inputs: { id: string }[] };
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
      params: typeParams,
      body: S.SearchInput,
      response: ok(200, S.SearchPage),
    },
    handler: async (req: Req, reply) => {
      const body = (req.body ?? {}) as SearchBody;
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
