/**
 * The one document format of the emulator: seed files (`serve --seed`, `PUT /_stageline/seed`)
 * and snapshots (`GET`/`PUT /_stageline/snapshot`). YAML or JSON, checked against SEED_SCHEMA;
 * an error names the file, the line and the path in the document.
 *
 * An item that gives `createdAt` is taken as stored (a snapshot's items); one without it is a
 * seed item, checked and completed as the API would on a create at that moment.
 */
import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { LineCounter, isNode, parseDocument } from 'yaml';

import { DomainError } from '../domain/errors.js';

export const SEED_SCHEMA_ID = 'StagelineSeedDocument';

type Scalar = string | number | boolean;

export interface SeedStage {
  readonly id: string;
  readonly label: string;
  readonly displayOrder: number;
  readonly metadata?: Readonly<Record<string, Scalar>>;
  readonly writePermissions?: 'CRM_PERMISSIONS_ENFORCEMENT' | 'INTERNAL_ONLY' | 'READ_ONLY';
  readonly createdAt?: string;
  readonly updatedAt?: string;
  readonly archivedAt?: string | null;
}

export interface SeedPipeline {
  readonly id: string;
  readonly label: string;
  readonly displayOrder: number;
  readonly stages: readonly SeedStage[];
  readonly createdAt?: string;
  readonly updatedAt?: string;
  readonly archivedAt?: string | null;
}

export interface SeedRecord {
  /** Generated when absent. */
  readonly id?: string;
  readonly pipeline?: string;
  readonly stage?: string;
  readonly properties?: Readonly<Record<string, Scalar | null>>;
  readonly createdAt?: string;
  readonly updatedAt?: string;
  readonly archivedAt?: string | null;
}

export interface SeedObjectType {
  /** Keep HubSpot's default pipelines of the type beside the listed ones (default: false). */
  readonly keepDefaultPipelines?: boolean;
  /** Absent: HubSpot's default pipelines of the type. */
  readonly pipelines?: readonly SeedPipeline[];
  readonly records?: readonly SeedRecord[];
}

export interface SeedAssociation {
  readonly fromType: string;
  readonly fromId: string;
  readonly toType: string;
  readonly toId: string;
  readonly category: 'HUBSPOT_DEFINED' | 'USER_DEFINED' | 'INTEGRATOR_DEFINED';
  readonly typeId: number;
}

export interface SeedAuditEntry {
  readonly objectType: string;
  readonly kind: 'pipeline' | 'stage';
  readonly objectId: string;
  readonly action: 'CREATE' | 'UPDATE' | 'DELETE';
  readonly message: string;
  /** The JSON text the audit endpoints answer as `rawObject`. */
  readonly rawObject: string;
  readonly userId: number;
  readonly timestamp: string;
}

export interface SeedDocument {
  readonly $schema?: string;
  readonly version?: 1;
  /** By object type name (`deals`, `tickets`) or id (`0-3`, `2-123` for a custom type). */
  readonly objectTypes: Readonly<Record<string, SeedObjectType>>;
  /** Snapshots: the portal's next generated id. */
  readonly nextId?: number;
  /** Snapshots: links between records, one row per direction. */
  readonly associations?: readonly SeedAssociation[];
  /** Snapshots: the audit trail, oldest first. */
  readonly audit?: readonly SeedAuditEntry[];
}

const ID = { type: 'string', minLength: 1, maxLength: 100 } as const;
const TIME = { type: 'string', minLength: 1, description: 'ISO-8601 time' } as const;
const SCALAR = { type: ['string', 'number', 'boolean'] } as const;

const STAGE = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'label', 'displayOrder'],
  properties: {
    id: ID,
    label: { type: 'string', minLength: 1, maxLength: 255 },
    displayOrder: { type: 'integer' },
    metadata: {
      type: 'object',
      description: 'deals: probability; tickets: ticketState; other types: state',
      additionalProperties: SCALAR,
    },
    writePermissions: { enum: ['CRM_PERMISSIONS_ENFORCEMENT', 'INTERNAL_ONLY', 'READ_ONLY'] },
    createdAt: TIME,
    updatedAt: TIME,
    archivedAt: { type: ['string', 'null'] },
  },
} as const;

const PIPELINE = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'label', 'displayOrder', 'stages'],
  properties: {
    id: ID,
    label: { type: 'string', minLength: 1, maxLength: 255 },
    displayOrder: { type: 'integer' },
    stages: { type: 'array', items: STAGE },
    createdAt: TIME,
    updatedAt: TIME,
    archivedAt: { type: ['string', 'null'] },
  },
} as const;

const RECORD = {
  type: 'object',
  additionalProperties: false,
  properties: {
    id: { type: 'string', pattern: '^[1-9][0-9]{0,15}$' },
    pipeline: ID,
    stage: ID,
    properties: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean', 'null'] } },
    createdAt: TIME,
    updatedAt: TIME,
    archivedAt: { type: ['string', 'null'] },
  },
} as const;

/** The published JSON Schema of seed documents and snapshots (draft-07). */
export const SEED_SCHEMA = {
  $id: SEED_SCHEMA_ID,
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'Stageline seed document',
  description:
    "A portal's pipelines, stages and records per object type; snapshots add the next generated id, associations and the audit trail.",
  type: 'object',
  additionalProperties: false,
  required: ['objectTypes'],
  properties: {
    $schema: { type: 'string' },
    version: { const: 1 },
    objectTypes: {
      type: 'object',
      propertyNames: { pattern: '^[A-Za-z0-9_-]{1,100}$' },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: {
          keepDefaultPipelines: { type: 'boolean' },
          pipelines: { type: 'array', items: PIPELINE },
          records: { type: 'array', items: RECORD },
        },
      },
    },
    nextId: { type: 'integer', minimum: 1, maximum: 9_007_199_254_740_991 },
    associations: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['fromType', 'fromId', 'toType', 'toId', 'category', 'typeId'],
        properties: {
          fromType: ID,
          fromId: RECORD.properties.id,
          toType: ID,
          toId: RECORD.properties.id,
          category: { enum: ['HUBSPOT_DEFINED', 'USER_DEFINED', 'INTEGRATOR_DEFINED'] },
          typeId: { type: 'integer' },
        },
      },
    },
    audit: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['objectType', 'kind', 'objectId', 'action', 'message', 'rawObject', 'userId', 'timestamp'],
        properties: {
          objectType: ID,
          kind: { enum: ['pipeline', 'stage'] },
          objectId: ID,
          action: { enum: ['CREATE', 'UPDATE', 'DELETE'] },
          message: { type: 'string' },
          rawObject: { type: 'string' },
          userId: { type: 'integer' },
          timestamp: TIME,
        },
      },
    },
  },
} as const;

/** Where in a document a problem is, as a list of keys and indexes. */
export type DocumentPath = readonly (string | number)[];

/** `['objectTypes', 'deals', 'pipelines', 0, 'label']` → `objectTypes.deals.pipelines[0].label` */
export function formatPath(path: DocumentPath): string {
  return path.reduce<string>(
    (text, part) => (typeof part === 'number' ? `${text}[${part}]` : text ? `${text}.${part}` : part),
    '',
  );
}

/**
 * A document that is not a valid seed document: where, and why. Over HTTP, a 400 whose
 * `errors[0].in` is the path.
 */
export class SeedError extends DomainError {
  constructor(
    readonly path: DocumentPath,
    readonly problem: string,
    /** The file and line, when the document came from a file. */
    readonly location?: { readonly file: string; readonly line?: number },
  ) {
    const where = formatPath(path);
    const line = location?.line === undefined ? '' : `:${location.line}`;
    const at = location === undefined ? '' : `${location.file}${line}: `;
    // "x.y is required", "x.y must be integer"; other problems are sentences of their own.
    const joined = /^(is|must) /.test(problem)
      ? `${where || 'the document'} ${problem}`
      : `${where || 'the document'}: ${problem}`;
    super('VALIDATION_ERROR', `Invalid seed document: ${at}${joined}`, {
      errors: [{ message: joined, in: where, code: 'INVALID_VALUE' }],
    });
    this.name = 'SeedError';
  }

  /** The same error, placed in a file. */
  at(file: string, line: number | undefined): SeedError {
    return new SeedError(this.path, this.problem, { file, line });
  }
}

/**
 * Compiled on first use: compiling takes about 90 ms, which every command and every server start
 * would pay at import, seed or no seed.
 */
let compiled: ValidateFunction<SeedDocument> | undefined;
const validator = (): ValidateFunction<SeedDocument> =>
  (compiled ??= new Ajv({ allErrors: false, strict: false }).compile<SeedDocument>(SEED_SCHEMA));

/** An Ajv error's place: `/objectTypes/deals/pipelines/0` plus the missing property. */
function errorPath(error: ErrorObject): (string | number)[] {
  const parts: (string | number)[] = error.instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  const { missingProperty, additionalProperty } = error.params as Record<string, unknown>;
  if (typeof missingProperty === 'string') parts.push(missingProperty);
  if (typeof additionalProperty === 'string') parts.push(additionalProperty);
  return parts;
}

function describe(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return 'is required';
    case 'additionalProperties':
      return 'is not a field of this object';
    case 'enum':
      return `must be one of ${(params.allowedValues as unknown[]).join(', ')}`;
    default:
      return error.message ?? 'is invalid';
  }
}

/** Checks a parsed document against the schema; throws the first problem as a SeedError. */
export function checkSeedDocument(value: unknown): SeedDocument {
  const validate = validator();
  if (validate(value)) return value;
  const error = validate.errors![0]!;
  throw new SeedError(errorPath(error), describe(error));
}

/**
 * Parses a seed file's text (YAML, of which JSON is a subset) and checks it. Errors name the
 * file, the line and the path; `locate` turns a later SeedError's path into its line.
 */
export function parseSeedText(
  text: string,
  file: string,
): { document: SeedDocument; locate: (error: SeedError) => SeedError } {
  const lines = new LineCounter();
  const parsed = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const syntax = parsed.errors[0];
  if (syntax !== undefined) {
    const { line, col } = lines.linePos(syntax.pos[0]);
    const problem = `not valid YAML or JSON (line ${line}, column ${col}): ${syntax.message.split('\n')[0]}`;
    throw new SeedError([], problem, { file, line });
  }
  const locate = (error: SeedError): SeedError => {
    // The deepest node that exists along the path: a missing field is reported at its parent.
    for (let depth = error.path.length; depth >= 0; depth--) {
      const node: unknown = parsed.getIn(error.path.slice(0, depth), true);
      if (isNode(node) && node.range) return error.at(file, lines.linePos(node.range[0]).line);
    }
    return error.at(file, undefined);
  };
  try {
    return { document: checkSeedDocument(parsed.toJS()), locate };
  } catch (err) {
    if (err instanceof SeedError) throw locate(err);
    throw err;
  }
}
