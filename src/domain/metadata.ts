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

/**
 * Validates and normalises stage metadata for a type's rules. Derived keys (`isClosed`)
 * are computed here and never taken from input; unknown keys are dropped.
 */
export function normalizeMetadata(rules: StageRules, input: MetadataInput): Metadata {
  switch (rules) {
    case 'deal': {
      const probability = parseProbability(scalar('probability', input.probability));
      const closed = probability === '0.0' || probability === '1.0';
      return { isClosed: String(closed), probability };
    }
    case 'ticket': {
      const ticketState = openOrClosed('ticketState', scalar('ticketState', input.ticketState));
      return { isClosed: String(ticketState === 'CLOSED'), ticketState };
    }
    case 'state': {
      const state = openOrClosed('state', scalar('state', input.state));
      return { isClosed: String(state === 'CLOSED'), state };
    }
  }
}

/** PATCH semantics: keys sent replace stored ones, the rest are kept, then all is normalised again. */
export function mergeMetadata(rules: StageRules, stored: Metadata, patch: MetadataInput): Metadata {
  return normalizeMetadata(rules, { ...stored, ...patch });
}

/** Whether a stage counts as closed for the pipeline-level rules (tickets need one closed stage). */
export const isClosedStage = (metadata: Metadata): boolean => metadata.isClosed === 'true';
