import { invalid } from './errors.js';
import type { StageRules } from './object-types.js';

/** Stage metadata as stored and returned: a map of strings. */
export type Metadata = Readonly<Record<string, string>>;

/** Metadata as clients send it: strings, numbers or booleans. */
export type MetadataInput = Readonly<Record<string, unknown>>;

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** `0.5` → "0.5", `1` → "1.0": the canonical form HubSpot returns. */
export function canonicalNumber(n: number): string {
  if (Number.isInteger(n)) return n.toFixed(1);
  const text = String(n);
  // Plain decimals only: 1e-7 is written 0.0000001.
  return text.includes('e') ? n.toFixed(20).replace(/0+$/, '') : text;
}

function scalar(key: string, value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw invalid(`Stage metadata value for ${key} must be a string or a number`);
}

function parseProbability(raw: string | undefined): string {
  if (raw === undefined || raw.trim() === '')
    throw invalid('must specify probability when writing a dealstage');
  const text = raw.trim();
  const n = DECIMAL.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(n) || n < 0 || n > 1) {
    throw invalid('dealstage probability is not valid, must be between 0.0 and 1.0 (inclusive)');
  }
  return canonicalNumber(n);
}

function openOrClosed(key: string, raw: string | undefined): 'OPEN' | 'CLOSED' {
  if (raw === undefined) return 'OPEN';
  if (raw === 'OPEN' || raw === 'CLOSED') return raw;
  throw invalid(`Stage metadata ${key} must be OPEN or CLOSED, got: ${raw}`);
}

/** A sent `isClosed`: true or false in any letter case, kept as "true" / "false". */
function sentIsClosed(raw: string | undefined): 'true' | 'false' | undefined {
  if (raw === undefined) return undefined;
  const text = raw.trim().toLowerCase();
  if (text === 'true' || text === 'false') return text;
  throw invalid(`Stage metadata isClosed must be true or false, got: ${raw}`);
}

/**
 * Validates and normalises stage metadata for a type's rules; unknown keys are dropped.
 * - Deals: `probability` is required; a sent `isClosed` is stored as sent (HubSpot keeps it even
 *   when it disagrees with the probability), and only when absent is it derived: closed at 0.0
 *   and 1.0.
 * - Tickets: `ticketState`, plus `isClosed` only when it was sent, as the seed examples show.
 * - Other types: `state`, with `isClosed` derived from it.
 */
export function normalizeMetadata(rules: StageRules, input: MetadataInput): Metadata {
  const isClosed = sentIsClosed(scalar('isClosed', input.isClosed));
  switch (rules) {
    case 'deal': {
      const probability = parseProbability(scalar('probability', input.probability));
      const derived = probability === '0.0' || probability === '1.0';
      return { isClosed: isClosed ?? String(derived), probability };
    }
    case 'ticket': {
      const ticketState = openOrClosed('ticketState', scalar('ticketState', input.ticketState));
      return isClosed === undefined ? { ticketState } : { ticketState, isClosed };
    }
    case 'state': {
      const state = openOrClosed('state', scalar('state', input.state));
      return { isClosed: String(state === 'CLOSED'), state };
    }
  }
}

/**
 * PATCH semantics: keys sent replace stored ones, the rest are kept, then all is normalised again.
 * A deal's `isClosed` follows a newly sent probability unless it is sent itself.
 */
export function mergeMetadata(rules: StageRules, stored: Metadata, patch: MetadataInput): Metadata {
  const merged: Record<string, unknown> = { ...stored, ...patch };
  if (rules === 'deal' && patch.probability !== undefined && patch.isClosed === undefined) {
    delete merged.isClosed;
  }
  return normalizeMetadata(rules, merged);
}

/**
 * Whether a stage counts as closed for the pipeline-level rules (tickets need one closed stage):
 * a ticket stage by its `ticketState`, any other by `isClosed`.
 */
export const isClosedStage = (metadata: Metadata): boolean =>
  metadata.ticketState === undefined ? metadata.isClosed === 'true' : metadata.ticketState === 'CLOSED';
