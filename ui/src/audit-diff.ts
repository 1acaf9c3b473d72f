/**
 * Audit timelines, pure: each entry's `rawObject` (a JSON string of the object after the change)
 * parsed, and a field-level diff between consecutive versions.
 */
import type { AuditEntry } from './model.js';

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export interface FieldChange {
  /** `label`, `metadata.probability`, `stages[id=123].label`, … */
  path: string;
  kind: 'added' | 'removed' | 'changed';
  before?: Json;
  after?: Json;
}

export interface AuditVersion {
  entry: AuditEntry;
  /** The parsed rawObject; undefined when it is not JSON. */
  object: Json | undefined;
  /** What changed from the previous (older) version; every field for the first one. */
  changes: FieldChange[];
}

const isObject = (v: Json | undefined): v is { [key: string]: Json } =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Arrays of objects that all carry an `id` (a pipeline's stages) are compared by id. */
const keyedById = (v: Json[]): v is { [key: string]: Json }[] =>
  v.length > 0 && v.every((x) => isObject(x) && typeof x.id === 'string');

function flatten(value: Json | undefined, path: string, out: Map<string, Json>): void {
  if (isObject(value)) {
    const keys = Object.keys(value);
    if (keys.length === 0 && path !== '') out.set(path, value);
    for (const k of keys) flatten(value[k], path === '' ? k : `${path}.${k}`, out);
  } else if (Array.isArray(value) && keyedById(value)) {
    for (const item of value) flatten(item, `${path}[id=${String(item.id)}]`, out);
  } else if (value !== undefined) {
    out.set(path, value);
  }
}

const same = (a: Json, b: Json): boolean => JSON.stringify(a) === JSON.stringify(b);

/** Field-level differences from `before` to `after`, in the order of the fields of `after`. */
export function diffObjects(before: Json | undefined, after: Json | undefined): FieldChange[] {
  const a = new Map<string, Json>();
  const b = new Map<string, Json>();
  flatten(before, '', a);
  flatten(after, '', b);
  const changes: FieldChange[] = [];
  for (const [path, value] of b) {
    if (!a.has(path)) changes.push({ path, kind: 'added', after: value });
    else if (!same(a.get(path)!, value))
      changes.push({ path, kind: 'changed', before: a.get(path)!, after: value });
  }
  for (const [path, value] of a) if (!b.has(path)) changes.push({ path, kind: 'removed', before: value });
  return changes;
}

function parse(raw: string): Json | undefined {
  try {
    return JSON.parse(raw) as Json;
  } catch {
    return undefined;
  }
}

/**
 * The timeline of an audit trail, newest first as the API sends it, each version with its diff
 * against the one before it in time.
 */
export function auditTimeline(entries: readonly AuditEntry[]): AuditVersion[] {
  // The API lists newest first; entries written in one millisecond keep that order.
  const oldestFirst = [...entries].reverse();
  let previous: Json | undefined;
  const versions = oldestFirst.map((entry) => {
    const object = parse(entry.rawObject);
    const changes = diffObjects(previous, object);
    previous = object;
    return { entry, object, changes };
  });
  return versions.reverse();
}

/** A value as the timeline shows it. */
export const showValue = (v: Json | undefined): string =>
  v === undefined ? '—' : typeof v === 'string' ? v : JSON.stringify(v);
