/**
 * HubSpot's properties API, read-only: `/crm/v3/properties/{objectType}` (the SDK's
 * `crm.properties.coreApi` and `groupsApi` reads). Writes answer 405: Stageline's property
 * definitions are its own.
 */
import type { FastifyInstance } from 'fastify';
import type { RateLimits } from '../../app/rate-limiter.js';
import type { AuthService } from '../../app/auth-service.js';
import type { PropertyService } from '../../app/property-service.js';
import { JSON_TYPE } from '../error-handler.js';
import { addGuards } from '../guards.js';
import * as S from '../schemas.js';
import type { RequestTypesFromSchemas } from '../type-provider.js';

export interface PropertyRoutesOptions {
  properties: PropertyService;
  auth: AuthService;
  limiter?: RateLimits;
}

// Every schema is a module constant: compiled once per process (see schema-compilers.ts).
const option = {
  type: 'object',
  required: ['label', 'value', 'displayOrder', 'hidden'],
  properties: {
    label: { type: 'string' },
    value: { type: 'string' },
    description: { type: 'string' },
    displayOrder: { type: 'integer' },
    hidden: { type: 'boolean' },
  },
} as const;
const timestamp = { type: 'string', format: 'date-time' } as const;
const property = {
  type: 'object',
  required: ['name', 'label', 'type', 'fieldType', 'description', 'groupName', 'options'],
  properties: {
    name: { type: 'string' },
    label: { type: 'string' },
    type: { type: 'string' },
    fieldType: { type: 'string' },
    description: { type: 'string' },
    groupName: { type: 'string' },
    options: { type: 'array', items: option },
    displayOrder: { type: 'integer' },
    calculated: { type: 'boolean' },
    externalOptions: { type: 'boolean' },
    hasUniqueValue: { type: 'boolean' },
    hidden: { type: 'boolean' },
    hubspotDefined: { type: 'boolean' },
    formField: { type: 'boolean' },
    modificationMetadata: {
      type: 'object',
      required: ['archivable', 'readOnlyDefinition', 'readOnlyValue'],
      properties: {
        archivable: { type: 'boolean' },
        readOnlyDefinition: { type: 'boolean' },
        readOnlyValue: { type: 'boolean' },
        readOnlyOptions: { type: 'boolean' },
      },
    },
    referencedObjectType: { type: 'string' },
    showCurrencySymbol: { type: 'boolean' },
    createdAt: timestamp,
    updatedAt: timestamp,
    archived: { type: 'boolean' },
  },
} as const;
const group = {
  type: 'object',
  required: ['name', 'label', 'displayOrder', 'archived'],
  properties: {
    name: { type: 'string' },
    label: { type: 'string' },
    displayOrder: { type: 'integer' },
    archived: { type: 'boolean' },
  },
} as const;
const collection = <const Item>(item: Item) =>
  ({
    type: 'object',
    required: ['results'],
    properties: { results: { type: 'array', items: item } },
  }) as const;

const propertyParams = {
  type: 'object',
  required: ['objectType', 'propertyName'],
  properties: { objectType: { type: 'string' }, propertyName: { type: 'string' } },
} as const;
const groupParams = {
  type: 'object',
  required: ['objectType', 'groupName'],
  properties: { objectType: { type: 'string' }, groupName: { type: 'string' } },
} as const;
const readQuery = {
  type: 'object',
  properties: {
    archived: { type: 'boolean', default: false },
    // HubSpot's MCP server sends it; no Stageline property is hidden, so it changes nothing.
    includeHidden: { type: 'boolean', default: false },
    /** Comma-separated property names: the list answers only these. */
    properties: { type: 'string' },
  },
} as const;
const PROPERTIES = S.responses(200, collection(property));
const PROPERTY = S.responses(200, property);
const GROUPS = S.responses(200, collection(group));
const GROUP = S.responses(200, group);

/** `?properties=a,b`: the names to keep, or undefined for all. */
function nameFilter(value: string | undefined): Set<string> | undefined {
  const names = (value ?? '')
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n !== '');
  return names.length === 0 ? undefined : new Set(names);
}

export async function propertyRoutes(base: FastifyInstance, opts: PropertyRoutesOptions): Promise<void> {
  const app = base.withTypeProvider<RequestTypesFromSchemas>();
  const { properties } = opts;
  addGuards(app, opts.auth, opts.limiter);
  const tags = ['Properties v3'];
  const config = { access: 'propertyRead' as const };

  app.get('/:objectType', {
    config,
    schema: {
      tags,
      summary: "List the type's properties",
      params: S.TypeParams,
      querystring: readQuery,
      response: PROPERTIES,
    },
    handler: async (req, reply) => {
      const all = await properties.list(req.principal, req.objectType, req.query.archived ?? false);
      const wanted = nameFilter(req.query.properties);
      const results = wanted === undefined ? all : all.filter((p) => wanted.has(p.name));
      return reply.code(200).type(JSON_TYPE).send({ results });
    },
  });

  app.get('/:objectType/groups', {
    config,
    schema: { tags, summary: "List the type's property groups", params: S.TypeParams, response: GROUPS },
    handler: async (req, reply) =>
      reply
        .code(200)
        .type(JSON_TYPE)
        .send({ results: properties.groups(req.objectType) }),
  });

  app.get('/:objectType/groups/:groupName', {
    config,
    schema: { tags, summary: 'Get a property group', params: groupParams, response: GROUP },
    handler: async (req, reply) =>
      reply.code(200).type(JSON_TYPE).send(properties.group(req.objectType, req.params.groupName)),
  });

  app.get('/:objectType/:propertyName', {
    config,
    schema: {
      tags,
      summary: 'Get a property',
      params: propertyParams,
      querystring: readQuery,
      response: PROPERTY,
    },
    handler: async (req, reply) => {
      const found = await properties.get(
        req.principal,
        req.objectType,
        req.params.propertyName,
        req.query.archived ?? false,
      );
      return reply.code(200).type(JSON_TYPE).send(found);
    },
  });
}
