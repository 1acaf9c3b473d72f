/**
 * JSON schemas of the wire format (HubSpot's v3 Pipelines shapes). Request schemas validate
 * input; response schemas are compiled into the serializers and feed /openapi.json.
 */
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
