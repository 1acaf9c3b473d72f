import { invalid } from './errors.js';

/** How a type's stage metadata is validated and which keys it keeps. */
export type StageRules = 'deal' | 'ticket' | 'state';

export interface ObjectType {
  /** Canonical storage key: the type id (`0-3`) or the custom type as given (`2-12`, `p123_cars`). */
  readonly key: string;
  /** The name used in scopes and messages (`deals`, `custom`). */
  readonly name: string;
  /** Its singular (`deal`, `company`; `custom` for custom types). */
  readonly singular: string;
  readonly stageLimit: number;
  readonly rules: StageRules;
  /** Contacts and companies expose one lifecycle pipeline that cannot be changed. */
  readonly readOnly: boolean;
  /** Any one of these grants read access. */
  readonly readScopes: readonly string[];
  /** Any one of these grants write access. */
  readonly writeScopes: readonly string[];
  /** The same for the type's records (the CRM objects API). */
  readonly recordReadScopes: readonly string[];
  readonly recordWriteScopes: readonly string[];
  /** Any one of these grants reading the type's property definitions (the properties API). */
  readonly propertyReadScopes: readonly string[];
}

/** What an operation does, for the scope check. */
export type Access = 'read' | 'write' | 'recordRead' | 'recordWrite' | 'propertyRead';

export const scopesFor = (type: ObjectType, access: Access): readonly string[] =>
  ({
    read: type.readScopes,
    write: type.writeScopes,
    recordRead: type.recordReadScopes,
    recordWrite: type.recordWriteScopes,
    propertyRead: type.propertyReadScopes,
  })[access];

interface StandardType {
  id: string;
  name: string;
  /** The singular name clients also use (`deal` for `deals`). */
  singular: string;
  stageLimit: number;
  rules: StageRules;
  readOnly?: boolean;
  extraRead?: string[];
  extraWrite?: string[];
  /** Scopes that also grant access to the type's records (`tickets`, `e-commerce`). */
  extraRecord?: string[];
  /** Scopes that also grant reading the type's property definitions. */
  extraPropertyRead?: string[];
}

const STANDARD: StandardType[] = [
  { id: '0-1', name: 'contacts', singular: 'contact', stageLimit: 100, rules: 'state', readOnly: true },
  { id: '0-2', name: 'companies', singular: 'company', stageLimit: 100, rules: 'state', readOnly: true },
  { id: '0-3', name: 'deals', singular: 'deal', stageLimit: 100, rules: 'deal' },
  {
    id: '0-5',
    name: 'tickets',
    singular: 'ticket',
    stageLimit: 100,
    rules: 'ticket',
    extraRead: ['tickets'],
    extraWrite: ['tickets'],
    extraRecord: ['tickets'],
  },
  {
    id: '0-123',
    name: 'orders',
    singular: 'order',
    stageLimit: 30,
    rules: 'state',
    extraRead: ['crm.pipelines.orders.read', 'crm.pipelines.orders.write', 'e-commerce'],
    extraWrite: ['crm.pipelines.orders.write', 'e-commerce'],
    extraRecord: ['e-commerce'],
    extraPropertyRead: ['crm.pipelines.orders.read'],
  },
  { id: '0-136', name: 'leads', singular: 'lead', stageLimit: 30, rules: 'state' },
  { id: '0-162', name: 'services', singular: 'service', stageLimit: 30, rules: 'state' },
  { id: '0-410', name: 'courses', singular: 'course', stageLimit: 30, rules: 'state' },
  { id: '0-420', name: 'listings', singular: 'listing', stageLimit: 30, rules: 'state' },
  { id: '0-421', name: 'appointments', singular: 'appointment', stageLimit: 30, rules: 'state' },
];

const readScopesFor = (name: string): string[] => [
  `crm.objects.${name}.read`,
  `crm.objects.${name}.write`,
  `crm.schemas.${name}.read`,
  `crm.schemas.${name}.write`,
];

/** HubSpot's Properties API reads accept the type's object scopes and its schema read scope. */
const propertyReadScopesFor = (name: string): string[] => [
  `crm.objects.${name}.read`,
  `crm.objects.${name}.write`,
  `crm.schemas.${name}.read`,
];

const toObjectType = (t: StandardType): ObjectType =>
  Object.freeze({
    key: t.id,
    name: t.name,
    singular: t.singular,
    stageLimit: t.stageLimit,
    rules: t.rules,
    readOnly: t.readOnly ?? false,
    readScopes: Object.freeze([...readScopesFor(t.name), ...(t.extraRead ?? [])]),
    writeScopes: Object.freeze([`crm.schemas.${t.name}.write`, ...(t.extraWrite ?? [])]),
    recordReadScopes: Object.freeze([
      `crm.objects.${t.name}.read`,
      `crm.objects.${t.name}.write`,
      ...(t.extraRecord ?? []),
    ]),
    recordWriteScopes: Object.freeze([`crm.objects.${t.name}.write`, ...(t.extraRecord ?? [])]),
    propertyReadScopes: Object.freeze([
      ...propertyReadScopesFor(t.name),
      ...(t.extraRecord ?? []),
      ...(t.extraPropertyRead ?? []),
    ]),
  });

const BY_NAME_OR_ID = new Map<string, ObjectType>();
for (const t of STANDARD) {
  const type = toObjectType(t);
  BY_NAME_OR_ID.set(t.id, type);
  BY_NAME_OR_ID.set(t.name, type);
  BY_NAME_OR_ID.set(t.singular, type);
}

/**
 * HubSpot types that exist in its scope lists but have no pipelines: they are named in the
 * error a client gets, instead of "Unable to infer object type".
 */
const WITHOUT_PIPELINES: readonly (readonly [id: string, name: string, singular: string])[] = [
  ['0-7', 'products', 'product'],
  ['0-8', 'line_items', 'line_item'],
  ['0-14', 'quotes', 'quote'],
  ['0-18', 'communications', 'communication'],
  ['0-19', 'feedback_submissions', 'feedback_submission'],
  ['0-27', 'tasks', 'task'],
  ['0-46', 'notes', 'note'],
  ['0-47', 'meetings', 'meeting'],
  ['0-48', 'calls', 'call'],
  ['0-49', 'emails', 'email'],
  ['0-53', 'invoices', 'invoice'],
  ['0-54', 'marketing_events', 'marketing_event'],
  ['0-69', 'subscriptions', 'subscription'],
  ['0-101', 'payments', 'payment'],
  ['0-115', 'users', 'user'],
  ['0-116', 'postal_mail', 'postal_mail'],
];
const PIPELINELESS = new Map<string, { id: string; name: string }>();
for (const [id, name, singular] of WITHOUT_PIPELINES) {
  for (const key of [id, name, singular]) PIPELINELESS.set(key, { id, name });
}

/** All standard types that have pipelines, in type-id order. */
export const STANDARD_TYPES: readonly ObjectType[] = STANDARD.map((t) => BY_NAME_OR_ID.get(t.id)!);

const CUSTOM_ID = /^2-[1-9][0-9]{0,17}$/;
const CUSTOM_NAME = /^p([1-9][0-9]{0,9})_[a-z][a-z0-9_]{0,99}$/;

const customType = (key: string): ObjectType =>
  Object.freeze({
    key,
    name: 'custom',
    singular: 'custom',
    stageLimit: 100,
    rules: 'state' as const,
    readOnly: false,
    readScopes: Object.freeze(readScopesFor('custom')),
    writeScopes: Object.freeze(['crm.schemas.custom.write']),
    recordReadScopes: Object.freeze(['crm.objects.custom.read', 'crm.objects.custom.write']),
    recordWriteScopes: Object.freeze(['crm.objects.custom.write']),
    propertyReadScopes: Object.freeze(propertyReadScopesFor('custom')),
  });

/** What a type is resolved for: the pipelines API, or records and their properties. */
export type TypeUse = 'pipelines' | 'records';

/**
 * Resolves the `{objectType}` path segment: a standard name (plural or singular, any case) or
 * type id, a custom type id
 * (`2-<n>`), or a fully qualified custom name (`p<portalId>_<name>`) of the caller's portal.
 * A HubSpot type without pipelines (invoices, quotes, …) is named as such on the pipelines API;
 * for records and properties Stageline does not serve it, and answers as HubSpot does for a type
 * it cannot resolve.
 */
export function resolveObjectType(value: string, portalId: number, use: TypeUse = 'pipelines'): ObjectType {
  const known = BY_NAME_OR_ID.get(value) ?? BY_NAME_OR_ID.get(value.toLowerCase());
  if (known) return known;
  if (CUSTOM_ID.test(value)) return customType(value);
  const named = CUSTOM_NAME.exec(value.toLowerCase());
  if (named && Number(named[1]) === portalId) return customType(value.toLowerCase());
  const pipelineless = PIPELINELESS.get(value.toLowerCase());
  if (pipelineless !== undefined && use === 'pipelines') {
    throw invalid(`Object type ${pipelineless.id} (${pipelineless.name}) does not support pipelines`);
  }
  throw invalid(`Unable to infer object type from: ${value}`);
}
