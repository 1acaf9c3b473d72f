/**
 * JSON schemas of the wire format (HubSpot's v3 Pipelines shapes). Request schemas validate
 * input; response schemas are compiled into the serializers and feed /openapi.json.
 */
import { SEARCH_OPERATORS } from '../domain/record-search.js';

const int32 = { type: 'integer', minimum: -2147483648, maximum: 2147483647 } as const;
const timestamp = { type: 'string', format: 'date-time' } as const;

const metadataOut = { type: 'object', additionalProperties: { type: 'string' } } as const;
/** Clients may send numbers (`"probability": 0.5`) as well as strings. */
const metadataIn = {
  type: 'object',
  additionalProperties: { type: ['string', 'number', 'boolean'] },
} as const;

export const PipelineStage = {
  $id: 'PipelineStage',
  type: 'object',
  required: ['id', 'label', 'displayOrder', 'metadata', 'createdAt', 'updatedAt', 'archived'],
  properties: {
    id: { type: 'string' },
    label: { type: 'string' },
    displayOrder: int32,
    metadata: metadataOut,
    createdAt: timestamp,
    updatedAt: timestamp,
    archived: { type: 'boolean' },
    archivedAt: timestamp,
    writePermissions: { type: 'string', enum: ['CRM_PERMISSIONS_ENFORCEMENT', 'INTERNAL_ONLY', 'READ_ONLY'] },
  },
} as const;

export const Pipeline = {
  $id: 'Pipeline',
  type: 'object',
  required: ['id', 'label', 'displayOrder', 'stages', 'createdAt', 'updatedAt', 'archived'],
  properties: {
    id: { type: 'string' },
    label: { type: 'string' },
    displayOrder: int32,
    stages: { type: 'array', items: { $ref: 'PipelineStage#' } },
    createdAt: timestamp,
    updatedAt: timestamp,
    archived: { type: 'boolean' },
    archivedAt: timestamp,
  },
} as const;

export const PublicAuditInfo = {
  $id: 'PublicAuditInfo',
  type: 'object',
  required: ['portalId', 'identifier', 'action'],
  properties: {
    portalId: int32,
    identifier: { type: 'string' },
    action: { type: 'string' },
    timestamp,
    message: { type: 'string' },
    rawObject: {
      type: 'string',
      description: 'The object after the change, JSON-encoded (as HubSpot sends it).',
    },
    fromUserId: int32,
  },
} as const;

const stringArrayMap = {
  type: 'object',
  additionalProperties: { type: 'array', items: { type: 'string' } },
} as const;

export const ErrorSchema = {
  $id: 'Error',
  type: 'object',
  required: ['status', 'message', 'correlationId', 'category'],
  properties: {
    status: { type: 'string' },
    message: { type: 'string' },
    correlationId: { type: 'string', format: 'uuid' },
    category: { type: 'string' },
    subCategory: { type: 'string' },
    context: stringArrayMap,
    links: { type: 'object', additionalProperties: { type: 'string' } },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        required: ['message'],
        properties: {
          message: { type: 'string' },
          in: { type: 'string' },
          code: { type: 'string' },
          subCategory: { type: 'string' },
          context: stringArrayMap,
        },
      },
    },
  },
} as const;

export const SHARED_SCHEMAS = [PipelineStage, Pipeline, PublicAuditInfo, ErrorSchema];

export const PipelineRef = { $ref: 'Pipeline#' } as const;
export const PipelineStageRef = { $ref: 'PipelineStage#' } as const;
/** The response of a 204. */
export const NoContent = { type: 'null' } as const;

const collection = (ref: string) =>
  ({
    type: 'object',
    required: ['results'],
    properties: { results: { type: 'array', items: { $ref: `${ref}#` } } },
  }) as const;

export const PipelineCollection = collection('Pipeline');
export const StageCollection = collection('PipelineStage');
export const AuditCollection = collection('PublicAuditInfo');

export const PipelineStageInput = {
  type: 'object',
  required: ['label', 'displayOrder', 'metadata'],
  properties: {
    stageId: { type: 'string' },
    label: { type: 'string' },
    displayOrder: int32,
    metadata: metadataIn,
  },
} as const;

export const PipelineInput = {
  type: 'object',
  required: ['label', 'displayOrder', 'stages'],
  properties: {
    pipelineId: { type: 'string' },
    label: { type: 'string' },
    displayOrder: int32,
    stages: { type: 'array', items: PipelineStageInput },
  },
} as const;

export const PipelinePatchInput = {
  type: 'object',
  properties: {
    label: { type: 'string' },
    displayOrder: int32,
    archived: { type: 'boolean' },
  },
} as const;

export const PipelineStagePatchInput = {
  type: 'object',
  properties: {
    label: { type: 'string' },
    displayOrder: int32,
    metadata: metadataIn,
    archived: { type: 'boolean' },
  },
} as const;

export const deleteChecksQuery = (defaultValue: boolean) =>
  ({
    type: 'object',
    properties: {
      validateReferencesBeforeDelete: { type: 'boolean', default: defaultValue },
      validateDealStageUsagesBeforeDelete: { type: 'boolean', default: defaultValue },
    },
  }) as const;

export const errorResponses = {
  '4xx': { $ref: 'Error#' },
  '5xx': { $ref: 'Error#' },
} as const;

/** A route's responses: its success status with its schema, and HubSpot's error envelope. */
export const responses = <const Status extends number | string, const Schema>(
  status: Status,
  schema: Schema,
) => ({ [status]: schema, ...errorResponses }) as { [K in Status]: Schema } & typeof errorResponses;

/** The path parameters of a route under `/{objectType}`. */
export const TypeParams = {
  type: 'object',
  required: ['objectType'],
  properties: { objectType: { type: 'string' } },
} as const;

// --- CRM objects (records) ---

/** `{ results: [item…] }`, HubSpot's collection shape. */
const resultsOf = <const Item>(item: Item) =>
  ({
    type: 'object',
    required: ['results'],
    properties: { results: { type: 'array', items: item } },
  }) as const;

/** A read's `associations`: per target type, `{ results: [{ id, type }] }` (the SDK's AssociatedId). */
const associationsOut = {
  type: 'object',
  additionalProperties: resultsOf({
    type: 'object',
    required: ['id', 'type'],
    properties: { id: { type: 'string' }, type: { type: 'string' } },
  }),
} as const;

export const SimplePublicObject = {
  $id: 'SimplePublicObject',
  type: 'object',
  required: ['id', 'properties', 'createdAt', 'updatedAt', 'archived'],
  properties: {
    id: { type: 'string' },
    properties: { type: 'object', additionalProperties: { type: ['string', 'null'] } },
    createdAt: timestamp,
    updatedAt: timestamp,
    archived: { type: 'boolean' },
    archivedAt: timestamp,
    associations: associationsOut,
  },
} as const;

export const RECORD_SCHEMAS = [SimplePublicObject];
export const SimplePublicObjectRef = { $ref: 'SimplePublicObject#' } as const;

/** The `paging` of a forward-paged collection: `{ next: { after } }` while more follow. */
export const paging = {
  type: 'object',
  properties: {
    next: {
      type: 'object',
      required: ['after'],
      properties: { after: { type: 'string' }, link: { type: 'string' } },
    },
  },
} as const;

const objectList = { type: 'array', items: { $ref: 'SimplePublicObject#' } } as const;

export const RecordPage = {
  type: 'object',
  required: ['results'],
  properties: { results: objectList, paging },
} as const;

export const SearchPage = {
  type: 'object',
  required: ['total', 'results'],
  properties: { total: { type: 'integer' }, results: objectList, paging },
} as const;

const standardError = {
  type: 'object',
  required: ['status', 'category', 'message', 'context', 'links', 'errors'],
  properties: {
    status: { type: 'string' },
    id: { type: 'string' },
    category: { type: 'string' },
    subCategory: { type: 'string' },
    message: { type: 'string' },
    context: stringArrayMap,
    links: { type: 'object', additionalProperties: { type: 'string' } },
    errors: { type: 'array', items: { type: 'object', additionalProperties: true } },
  },
} as const;

export const BatchResponse = {
  type: 'object',
  required: ['status', 'results', 'startedAt', 'completedAt'],
  properties: {
    status: { type: 'string', enum: ['PENDING', 'PROCESSING', 'CANCELED', 'COMPLETE'] },
    results: objectList,
    numErrors: { type: 'integer' },
    errors: { type: 'array', items: standardError },
    requestedAt: timestamp,
    startedAt: timestamp,
    completedAt: timestamp,
  },
} as const;

/** Property values: strings, numbers or booleans are stored as strings; null or "" clears. */
const propertiesIn = {
  type: 'object',
  additionalProperties: { type: ['string', 'number', 'boolean', 'null'] },
} as const;

/** One association of a create: `{ to: { id }, types: [{ associationCategory, associationTypeId }] }`. */
const associationIn = {
  type: 'object',
  required: ['to', 'types'],
  properties: {
    to: {
      type: 'object',
      required: ['id'],
      properties: { id: { type: ['string', 'integer'] } },
    },
    types: {
      type: 'array',
      minItems: 1,
      maxItems: 10,
      items: {
        type: 'object',
        required: ['associationCategory', 'associationTypeId'],
        properties: {
          associationCategory: {
            type: 'string',
            enum: ['HUBSPOT_DEFINED', 'USER_DEFINED', 'INTEGRATOR_DEFINED'],
          },
          associationTypeId: int32,
        },
      },
    },
  },
} as const;

/** HubSpot's `associations` of a create. */
const associationsIn = { type: 'array', maxItems: 100, items: associationIn } as const;

/** HubSpot's v4 batch create of associations between existing records. */
export const AssociationBatchCreateInput = {
  type: 'object',
  required: ['inputs'],
  properties: {
    inputs: {
      type: 'array',
      maxItems: 100,
      items: {
        ...associationIn,
        required: ['from', ...associationIn.required],
        properties: { from: associationIn.properties.to, ...associationIn.properties },
      },
    },
  },
} as const;

export const RecordCreateInput = {
  type: 'object',
  required: ['properties'],
  properties: { properties: propertiesIn, associations: associationsIn },
} as const;

export const RecordUpdateInput = {
  type: 'object',
  required: ['properties'],
  properties: { properties: propertiesIn },
} as const;

const batch = <const Item>(item: Item) =>
  ({
    type: 'object',
    required: ['inputs'],
    properties: { inputs: { type: 'array', maxItems: 100, items: item } },
  }) as const;

const idInput = { type: 'object', required: ['id'], properties: { id: { type: 'string' } } } as const;
const propertyList = { type: 'array', items: { type: 'string' } } as const;

export const BatchReadInput = {
  type: 'object',
  required: ['inputs'],
  properties: {
    inputs: { type: 'array', maxItems: 100, items: idInput },
    properties: propertyList,
    propertiesWithHistory: { ...propertyList, maxItems: 0 },
    idProperty: { type: 'string', enum: ['hs_object_id'] },
  },
} as const;

export const BatchCreateInput = batch(RecordCreateInput);
export const BatchUpdateInput = batch({
  type: 'object',
  required: ['id', 'properties'],
  properties: {
    id: { type: 'string' },
    properties: propertiesIn,
    idProperty: { type: 'string', enum: ['hs_object_id'] },
  },
});
export const BatchArchiveInput = batch(idInput);

/** HubSpot's v4 list of a record's associations with records of one type. */
/** An association type as v4 names it: `{ category, typeId, label }`. */
const associationType = {
  type: 'object',
  required: ['category', 'typeId', 'label'],
  properties: {
    category: { type: 'string' },
    typeId: { type: 'integer' },
    label: { type: ['string', 'null'] },
  },
} as const;
const associationTargets = resultsOf({
  type: 'object',
  required: ['toObjectId', 'associationTypes'],
  properties: {
    toObjectId: { type: 'integer' },
    associationTypes: { type: 'array', items: associationType },
  },
});
export const AssociationPage = {
  ...associationTargets,
  properties: { ...associationTargets.properties, paging },
} as const;
/** The association types from one object type to another (v4 labels). */
export const AssociationLabels = resultsOf(associationType);
/** The answer of a v4 batch create: the pairs linked, with the labels of their types. */
export const AssociationBatchResponse = {
  type: 'object',
  required: ['status', 'results', 'startedAt', 'completedAt'],
  properties: {
    status: { type: 'string' },
    results: {
      type: 'array',
      items: {
        type: 'object',
        required: ['fromObjectTypeId', 'fromObjectId', 'toObjectTypeId', 'toObjectId', 'labels'],
        properties: {
          fromObjectTypeId: { type: 'string' },
          fromObjectId: { type: 'integer' },
          toObjectTypeId: { type: 'string' },
          toObjectId: { type: 'integer' },
          labels: { type: 'array', items: { type: 'string' } },
        },
      },
    },
    startedAt: timestamp,
    completedAt: timestamp,
  },
} as const;

export const SearchInput = {
  type: 'object',
  properties: {
    filterGroups: {
      type: 'array',
      maxItems: 5,
      items: {
        type: 'object',
        required: ['filters'],
        properties: {
          filters: {
            type: 'array',
            maxItems: 6,
            items: {
              type: 'object',
              required: ['propertyName', 'operator'],
              properties: {
                propertyName: { type: 'string' },
                operator: { type: 'string', enum: [...SEARCH_OPERATORS] },
                value: { type: 'string' },
                highValue: { type: 'string' },
                values: { type: 'array', items: { type: 'string' } },
              },
            },
          },
        },
      },
    },
    sorts: {
      type: 'array',
      items: {
        anyOf: [
          { type: 'string' },
          {
            type: 'object',
            required: ['propertyName'],
            properties: {
              propertyName: { type: 'string' },
              direction: { type: 'string', enum: ['ASCENDING', 'DESCENDING'] },
            },
          },
        ],
      },
    },
    properties: propertyList,
    limit: { type: 'integer', minimum: 0, maximum: 200, default: 10 },
    after: { type: 'string', pattern: '^[0-9]{1,9}$' },
    query: { type: 'string' },
  },
} as const;
