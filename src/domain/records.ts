/**
 * CRM records (deals, tickets, …) as far as pipelines care: their properties, the pipeline and
 * stage they sit in, and HubSpot's stage-entry bookkeeping. Pure: callers pass `now` and the
 * pipeline lookups.
 */
import { invalid } from './errors.js';
import type { ErrorDetail } from './errors.js';
import type { ObjectType } from './object-types.js';
import {
  DERIVED_PROPERTY,
  currentStageProperties,
  propertyTimestamp,
  stampClosing,
  stampStageMove,
} from './stage-properties.js';
import type { StageFacts } from './stage-properties.js';

export interface CrmRecord {
  readonly id: string;
  /** Every stored property, as strings, system ones included. */
  readonly properties: Readonly<Record<string, string>>;
  /** Copies of the pipeline and stage properties, kept for the in-use checks. */
  readonly pipelineId: string | null;
  readonly stageId: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly archivedAt: number | null;
}

/** Property values as clients send them; null or "" clears a property. */
export type PropertiesInput = Readonly<Record<string, unknown>>;

export interface RecordPropertyNames {
  /** null for contacts and companies: their one lifecycle pipeline is implied. */
  readonly pipeline: string | null;
  readonly stage: string;
  readonly created: string;
  readonly modified: string;
  /** Returned when a request names no properties. */
  readonly defaults: readonly string[];
  /** What a search `query` is matched against: HubSpot's default searchable properties. */
  readonly searchable: readonly string[];
}

// `searchable`: the default searchable properties of HubSpot's CRM search guide ("Search default
// searchable properties"); types the guide does not list search their name and stage [D].
const NAMES: Record<string, Omit<RecordPropertyNames, 'defaults'> & { extra: string[] }> = {
  deals: {
    pipeline: 'pipeline',
    stage: 'dealstage',
    created: 'createdate',
    modified: 'hs_lastmodifieddate',
    extra: ['amount', 'closedate', 'dealname'],
    searchable: ['dealname', 'pipeline', 'dealstage', 'description', 'dealtype'],
  },
  tickets: {
    pipeline: 'hs_pipeline',
    stage: 'hs_pipeline_stage',
    created: 'createdate',
    modified: 'hs_lastmodifieddate',
    extra: ['content', 'hs_ticket_category', 'hs_ticket_priority', 'subject'],
    searchable: ['subject', 'content', 'hs_pipeline_stage', 'hs_ticket_category', 'hs_ticket_id'],
  },
  contacts: {
    pipeline: null,
    stage: 'lifecyclestage',
    created: 'createdate',
    modified: 'lastmodifieddate',
    extra: ['email', 'firstname', 'lastname'],
    searchable: [
      'firstname',
      'lastname',
      'email',
      'phone',
      'hs_additional_emails',
      'fax',
      'mobilephone',
      'company',
      'hs_marketable_until_renewal',
    ],
  },
  companies: {
    pipeline: null,
    stage: 'lifecyclestage',
    created: 'createdate',
    modified: 'hs_lastmodifieddate',
    extra: ['domain', 'name'],
    searchable: ['website', 'phone', 'name', 'domain'],
  },
};

const GENERIC = {
  pipeline: 'hs_pipeline',
  stage: 'hs_pipeline_stage',
  created: 'hs_createdate',
  modified: 'hs_lastmodifieddate',
  extra: [],
  searchable: ['name', 'hs_pipeline_stage'],
};

export function propertyNames(type: ObjectType): RecordPropertyNames {
  const n = NAMES[type.name] ?? GENERIC;
  const defaults = [
    n.created,
    n.modified,
    'hs_object_id',
    n.stage,
    ...(n.pipeline ? [n.pipeline] : []),
    ...n.extra,
  ];
  return {
    pipeline: n.pipeline,
    stage: n.stage,
    created: n.created,
    modified: n.modified,
    defaults: defaults.sort(),
    searchable: n.searchable,
  };
}

const PROPERTY_NAME = /^[A-Za-z0-9_]{1,100}$/;
const isSystemProperty = (name: string): boolean => name === 'hs_object_id' || DERIVED_PROPERTY.test(name);

export interface PropertyChanges {
  /** Properties to set (strings). */
  readonly set: Readonly<Record<string, string>>;
  /** Properties to clear. */
  readonly clear: readonly string[];
  readonly pipeline: string | undefined;
  readonly stage: string | undefined;
}

/** Validates client property input and separates the pipeline/stage values from the rest. */
export function readPropertyInput(type: ObjectType, input: PropertiesInput): PropertyChanges {
  const names = propertyNames(type);
  const set: Record<string, string> = {};
  const clear: string[] = [];
  const errors: ErrorDetail[] = [];
  let pipeline: string | undefined;
  let stage: string | undefined;
  for (const [name, raw] of Object.entries(input)) {
    if (!PROPERTY_NAME.test(name)) {
      errors.push({
        message: `Property "${name}" is not a valid property name`,
        in: name,
        code: 'INVALID_PROPERTY',
      });
      continue;
    }
    if (isSystemProperty(name) || name === names.created || name === names.modified) {
      errors.push({ message: `Property "${name}" is read-only`, in: name, code: 'READ_ONLY_VALUE' });
      continue;
    }
    if (raw !== null && typeof raw === 'object') {
      errors.push({ message: `Property "${name}" must be a string`, in: name, code: 'INVALID_TYPE' });
      continue;
    }
    const value = raw === null || raw === undefined ? '' : String(raw);
    if (name === names.pipeline || name === names.stage) {
      if (value === '') {
        errors.push({ message: `Property "${name}" cannot be cleared`, in: name, code: 'INVALID_OPTION' });
      } else if (name === names.pipeline) pipeline = value;
      else stage = value;
      continue;
    }
    if (value === '') clear.push(name);
    else set[name] = value;
  }
  if (errors.length > 0) {
    throw invalid(`Property values were not valid: ${errors.map((e) => e.message).join('; ')}`, { errors });
  }
  return { set, clear, pipeline, stage };
}

/** Where a record sits after a write, as resolved by the service. */
export interface Placement {
  readonly pipelineId: string;
  readonly stageId: string;
  /** Whether that stage is closed, from its metadata (absent: open). */
  readonly closed?: boolean;
}

export const invalidPlacement = (property: string, message: string) =>
  invalid(`Property values were not valid: ${message}`, {
    errors: [{ message, in: property, code: 'INVALID_OPTION' }],
  });

/**
 * The record after a create (current undefined) or an update: properties merged, system
 * properties refreshed, the stage it entered or left stamped, and a close date set when it
 * enters a closed stage.
 */
export function applyRecordWrite(
  type: ObjectType,
  current: CrmRecord | undefined,
  id: string,
  changes: PropertyChanges,
  placement: Placement | null,
  now: number,
): CrmRecord {
  const names = propertyNames(type);
  const properties: Record<string, string> = { ...current?.properties, ...changes.set };
  for (const name of changes.clear) delete properties[name];
  const stamp = propertyTimestamp(now);
  properties.hs_object_id = id;
  properties[names.created] = current?.properties[names.created] ?? stamp;
  properties[names.modified] = stamp;
  const previousStage = current?.stageId ?? null;
  if (placement !== null) {
    if (names.pipeline) properties[names.pipeline] = placement.pipelineId;
    properties[names.stage] = placement.stageId;
    if (placement.stageId !== previousStage) {
      stampStageMove(properties, previousStage, placement.stageId, now);
      if (placement.closed === true) stampClosing(type, properties, current?.createdAt ?? now, now);
    }
  }
  return {
    id,
    properties,
    pipelineId: placement?.pipelineId ?? current?.pipelineId ?? null,
    stageId: placement?.stageId ?? previousStage,
    createdAt: current?.createdAt ?? now,
    updatedAt: now,
    archivedAt: current?.archivedAt ?? null,
  };
}

/**
 * The record as reads and searches see it: its stored properties plus those computed from its
 * current stage (`facts` undefined when the stage is unknown).
 */
export function withStageProperties(
  type: ObjectType,
  record: CrmRecord,
  facts: StageFacts | undefined,
): CrmRecord {
  const derived = currentStageProperties(type, record.stageId, record.properties, facts);
  return { ...record, properties: { ...record.properties, ...derived } };
}

/** The properties a response shows: those asked for (null when unset) plus the system ones. */
export function selectProperties(
  type: ObjectType,
  record: CrmRecord,
  requested: readonly string[] | undefined,
): Record<string, string | null> {
  const names = propertyNames(type);
  const wanted = requested ?? names.defaults;
  const out: Record<string, string | null> = {};
  for (const name of [...wanted, names.created, names.modified, 'hs_object_id']) {
    out[name] = record.properties[name] ?? null;
  }
  return out;
}
