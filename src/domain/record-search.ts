/** HubSpot's CRM search semantics, evaluated over records: pure, the same for every backend. */
import { invalid } from './errors.js';
import type { CrmRecord } from './records.js';

export const SEARCH_OPERATORS = [
  'EQ',
  'NEQ',
  'LT',
  'LTE',
  'GT',
  'GTE',
  'BETWEEN',
  'IN',
  'NOT_IN',
  'HAS_PROPERTY',
  'NOT_HAS_PROPERTY',
  'CONTAINS_TOKEN',
  'NOT_CONTAINS_TOKEN',
] as const;
export type SearchOperator = (typeof SEARCH_OPERATORS)[number];

export interface SearchFilter {
  readonly propertyName: string;
  readonly operator: SearchOperator;
  readonly value?: string;
  readonly highValue?: string;
  readonly values?: readonly string[];
}

export interface SearchSort {
  readonly propertyName: string;
  readonly direction: 'ASCENDING' | 'DESCENDING';
}

/** A full-text `query`: its text, and the properties it is matched against. */
export interface TextQuery {
  readonly text: string;
  readonly properties: readonly string[];
}

export interface SearchQuery {
  /** Records must also match this, when given (see matchesText). */
  readonly text?: TextQuery;
  /** OR of groups, AND within a group; no groups matches everything. */
  readonly filterGroups: readonly { readonly filters: readonly SearchFilter[] }[];
  readonly sorts: readonly SearchSort[];
  readonly limit: number;
  /** Offset into the sorted matches, as HubSpot's search paging uses. */
  readonly after: number;
}

export interface SearchPage {
  readonly total: number;
  readonly results: readonly CrmRecord[];
  readonly nextAfter: string | undefined;
}

const NUMBER = /^-?\d+(\.\d+)?$/;
const INTEGER = /^-?\d+$/;
/** A date or date-time as HubSpot writes them: `2026-01-01`, `2026-01-01T10:00:00.000Z`. */
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** Epoch ms of a date value: ISO text, or an integer of epoch ms as clients filter with. */
function asTime(value: string): number {
  if (INTEGER.test(value)) return Number(value);
  return ISO_DATE.test(value) ? Date.parse(value) : NaN;
}

/**
 * Numbers compare as numbers; dates as instants, whichever side is ISO text and whichever is
 * epoch milliseconds (HubSpot's search takes both for date properties); everything else as
 * case-insensitive text.
 */
function compareValues(a: string, b: string): number {
  if (NUMBER.test(a) && NUMBER.test(b)) return Number(a) - Number(b);
  if (ISO_DATE.test(a) || ISO_DATE.test(b)) {
    const x = asTime(a);
    const y = asTime(b);
    if (Number.isFinite(x) && Number.isFinite(y)) return x - y;
  }
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x < y ? -1 : x > y ? 1 : 0;
}

function need(filter: SearchFilter, key: 'value' | 'highValue'): string {
  const v = filter[key];
  if (v === undefined)
    throw invalid(`Filter on ${filter.propertyName} with ${filter.operator} needs a ${key}`);
  return v;
}

function matchesFilter(record: CrmRecord, f: SearchFilter): boolean {
  const actual = record.properties[f.propertyName];
  switch (f.operator) {
    case 'HAS_PROPERTY':
      return actual !== undefined;
    case 'NOT_HAS_PROPERTY':
      return actual === undefined;
    case 'IN':
    case 'NOT_IN': {
      if (f.values === undefined)
        throw invalid(`Filter on ${f.propertyName} with ${f.operator} needs values`);
      const found = actual !== undefined && f.values.some((v) => compareValues(actual, v) === 0);
      return f.operator === 'IN' ? found : !found;
    }
    case 'NEQ':
      return actual === undefined || compareValues(actual, need(f, 'value')) !== 0;
    case 'NOT_CONTAINS_TOKEN':
      return actual === undefined || !actual.toLowerCase().includes(need(f, 'value').toLowerCase());
  }
  if (actual === undefined) return false;
  switch (f.operator) {
    case 'EQ':
      return compareValues(actual, need(f, 'value')) === 0;
    case 'LT':
      return compareValues(actual, need(f, 'value')) < 0;
    case 'LTE':
      return compareValues(actual, need(f, 'value')) <= 0;
    case 'GT':
      return compareValues(actual, need(f, 'value')) > 0;
    case 'GTE':
      return compareValues(actual, need(f, 'value')) >= 0;
    case 'BETWEEN':
      return compareValues(actual, need(f, 'value')) >= 0 && compareValues(actual, need(f, 'highValue')) <= 0;
    case 'CONTAINS_TOKEN':
      return actual.toLowerCase().includes(need(f, 'value').toLowerCase());
  }
}

/** Words of a text, lower-cased: runs of letters and digits. */
const words = (text: string): string[] => text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];

/**
 * A full-text query matches when each of its words begins a word of one of the searched
 * properties, ignoring case: "acme renew" finds a deal named "Renewal for ACME Corp".
 */
export function matchesText(record: CrmRecord, text: TextQuery): boolean {
  const wanted = words(text.text);
  if (wanted.length === 0) return true;
  const have = text.properties.flatMap((name) => words(record.properties[name] ?? ''));
  return wanted.every((w) => have.some((h) => h.startsWith(w)));
}

export const matchesQuery = (record: CrmRecord, query: Pick<SearchQuery, 'filterGroups' | 'text'>): boolean =>
  (query.text === undefined || matchesText(record, query.text)) &&
  (query.filterGroups.length === 0 ||
    query.filterGroups.some((g) => g.filters.every((f) => matchesFilter(record, f))));

function sorter(sorts: readonly SearchSort[]) {
  const keys = [...sorts, { propertyName: 'hs_object_id', direction: 'ASCENDING' as const }];
  return (a: CrmRecord, b: CrmRecord): number => {
    for (const s of keys) {
      const x = a.properties[s.propertyName];
      const y = b.properties[s.propertyName];
      // Records without the property sort last, whatever the direction.
      const order =
        x === undefined || y === undefined
          ? Number(x === undefined) - Number(y === undefined)
          : compareValues(x, y) * (s.direction === 'DESCENDING' ? -1 : 1);
      if (order !== 0) return order;
    }
    return 0;
  };
}

/** Every filter must carry what its operator compares with, whatever the data holds. */
function checkFilters(query: Pick<SearchQuery, 'filterGroups'>): void {
  for (const f of query.filterGroups.flatMap((g) => g.filters)) {
    switch (f.operator) {
      case 'HAS_PROPERTY':
      case 'NOT_HAS_PROPERTY':
        break;
      case 'IN':
      case 'NOT_IN':
        if (f.values === undefined)
          throw invalid(`Filter on ${f.propertyName} with ${f.operator} needs values`);
        break;
      case 'BETWEEN':
        need(f, 'value');
        need(f, 'highValue');
        break;
      default:
        need(f, 'value');
    }
  }
}

export function searchRecords(records: readonly CrmRecord[], query: SearchQuery): SearchPage {
  checkFilters(query);
  const matched = records.filter((r) => matchesQuery(r, query)).sort(sorter(query.sorts));
  const results = matched.slice(query.after, query.after + query.limit);
  const end = query.after + results.length;
  // With limit 0 a page holds nothing, so there is no next page to point to.
  const more = query.limit > 0 && end < matched.length;
  return { total: matched.length, results, nextAfter: more ? String(end) : undefined };
}
